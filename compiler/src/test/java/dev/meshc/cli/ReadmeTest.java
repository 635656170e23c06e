package dev.meshc.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshc.TestSupport;
import dev.meshc.diag.Code;
import org.junit.jupiter.api.Test;

/** The README is part of the product: its first lines run, and it lists every diagnostic code. */
class ReadmeTest {
    static final String README = TestSupport.read(TestSupport.root().resolve("README.md"));

    @Test
    void listsEveryDiagnosticCodeWithItsSummary() {
        for (Code c : Code.values()) {
            assertTrue(README.contains("| `" + c.name() + "` | " + c.summary() + " |"), "README lacks " + c);
        }
    }

    @Test
    void firstLinesGiveTheTwoCommands() {
        String head = README.lines().limit(6).reduce("", (a, b) -> a + b + "\n");
        assertTrue(head.contains("./meshc compile examples/quickstart/inventory.yml -o out"), head);
        assertTrue(head.contains("mvn -B verify"), head);
        assertTrue(TestSupport.read(TestSupport.root().resolve(".ci/run")).contains("mvn -B verify"), ".ci/run runs the README's test command");
    }
}

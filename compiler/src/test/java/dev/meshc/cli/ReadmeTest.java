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

    /** ExitCode is the source: --help and the man page are generated from it; the README's sentence is held to it. */
    @Test
    void everyExitCodeIsInTheReadmeTheHelpAndTheManPage() {
        String help = TestSupport.meshc("--help").out().replaceAll("\\s+", " "); // picocli wraps the footer
        String man = ManPage.render();
        ExitCode.MEANINGS.forEach((code, meaning) -> {
            assertTrue(README.replace("\n", " ").contains("**" + code + "** " + ExitCode.brief(meaning)), "README lacks exit code " + code);
            assertTrue(help.contains(" " + code + " " + ExitCode.brief(meaning)), "--help lacks exit code " + code + ":\n" + help);
            assertTrue(man.contains(".TP\n.B " + code + "\n" + ManPage.esc(meaning) + "\n"), "the man page lacks exit code " + code);
        });
    }
}

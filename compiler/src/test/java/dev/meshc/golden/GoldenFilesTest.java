package dev.meshc.golden;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.meshc.TestSupport;
import dev.meshc.emit.Drift;
import dev.meshc.emit.FileChange;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * {@code golden/<example>/} mirrors exactly what {@code compile} writes for
 * {@code examples/<example>/inventory.yml}: the same set of files, byte for byte. A difference fails
 * with the unified diff {@code meshc check} would print ({@code a/} = golden, {@code b/} = produced),
 * and the produced file is left under {@code compiler/target/golden-received/}. To re-approve on
 * purpose, run with {@code APPROVAL_TESTS_USE_REPORTER=org.approvaltests.reporters.AutoApproveReporter}
 * (the variable ApprovalTests reads, kept so the README's command still works).
 */
class GoldenFilesTest {

    @TestFactory
    Stream<DynamicTest> everyExampleMatchesItsGoldenTree() {
        List<DynamicTest> tests = new ArrayList<>();
        for (String example : TestSupport.examples()) {
            Map<String, byte[]> produced = TestSupport.compileExample(example);
            Path golden = TestSupport.root().resolve("golden").resolve(example);
            tests.add(DynamicTest.dynamicTest(example + ": no stale golden files", () ->
                    assertEquals(new TreeSet<>(List.of()), stale(golden, produced), "golden files no longer produced")));
            produced.forEach((path, bytes) -> tests.add(DynamicTest.dynamicTest(example + "/" + path,
                    () -> verify(golden, path, bytes, autoApprove()))));
        }
        return tests.stream();
    }

    static boolean autoApprove() {
        String reporter = System.getenv("APPROVAL_TESTS_USE_REPORTER");
        return reporter != null && reporter.contains("AutoApproveReporter");
    }

    /** Byte-exact (CRLF or a missing final newline is a difference); on a difference, the diff is the message. */
    static void verify(Path golden, String path, byte[] produced, boolean approve) throws IOException {
        Path approved = golden.resolve(path);
        byte[] old = Files.isRegularFile(approved) ? Files.readAllBytes(approved) : null;
        if (old != null && Arrays.equals(old, produced)) return;
        if (approve) {
            Files.createDirectories(approved.getParent());
            Files.write(approved, produced);
            return;
        }
        Path received = TestSupport.root().resolve("compiler/target/golden-received").resolve(golden.getFileName()).resolve(path);
        Files.createDirectories(received.getParent());
        Files.write(received, produced);
        FileChange change = new FileChange(path, old == null ? FileChange.Kind.ADDED : FileChange.Kind.CHANGED, old, produced);
        fail(approved + " differs from what compile writes (" + received + "):\n" + Drift.unifiedDiff(List.of(change)));
    }

    private static TreeSet<String> stale(Path golden, Map<String, byte[]> produced) throws IOException {
        TreeSet<String> out = new TreeSet<>();
        if (!Files.isDirectory(golden)) return out;
        try (Stream<Path> s = Files.walk(golden)) {
            s.filter(Files::isRegularFile).map(p -> golden.relativize(p).toString().replace('\\', '/'))
                    .filter(p -> !produced.containsKey(p)).forEach(out::add);
        }
        return out;
    }

    /** The failure is a readable diff, for a file without an extension too (ApprovalTests' reporter threw on those). */
    @Test
    void aDifferenceFailsWithAUnifiedDiff(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Path golden = Files.createDirectories(dir.resolve("example"));
        Files.createDirectories(golden.resolve("hosts/vm-a/containers/c"));
        Files.writeString(golden.resolve("hosts/vm-a/containers/c/hosts"), "169.254.0.1 db.internal\n");
        byte[] produced = "169.254.0.2 db.internal\n".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        AssertionError e = org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class,
                () -> verify(golden, "hosts/vm-a/containers/c/hosts", produced, false));
        String diff = "--- a/hosts/vm-a/containers/c/hosts\n+++ b/hosts/vm-a/containers/c/hosts\n@@ -1,1 +1,1 @@\n"
                + "-169.254.0.1 db.internal\n+169.254.0.2 db.internal\n";
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().endsWith(diff), e.getMessage());
        verify(golden, "hosts/vm-a/containers/c/hosts", produced, true); // approving writes the golden file
        verify(golden, "hosts/vm-a/containers/c/hosts", produced, false);
    }
}

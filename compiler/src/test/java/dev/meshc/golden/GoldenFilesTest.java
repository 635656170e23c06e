package dev.meshc.golden;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.meshc.TestSupport;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.approvaltests.Approvals;
import org.approvaltests.core.ApprovalWriter;
import org.approvaltests.core.Options;
import org.approvaltests.core.VerifyResult;
import org.approvaltests.namer.ApprovalNamer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * {@code golden/<example>/} mirrors exactly what {@code compile} writes for
 * {@code examples/<example>/inventory.yml}: the same set of files, byte for byte. Approved with
 * ApprovalTests; to re-approve on purpose run with
 * {@code APPROVAL_TESTS_USE_REPORTER=org.approvaltests.reporters.AutoApproveReporter}.
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
                    () -> Approvals.verify(new BytesWriter(bytes), new GoldenNamer(golden, path),
                            new Options().withComparator(GoldenFilesTest::sameBytes)))));
        }
        return tests.stream();
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

    /** Byte-exact: the default comparator forgives CRLF and a missing final newline; output must not. */
    private static VerifyResult sameBytes(File received, File approved) {
        try {
            return approved.exists() && Arrays.equals(Files.readAllBytes(received.toPath()), Files.readAllBytes(approved.toPath()))
                    ? VerifyResult.SUCCESS : VerifyResult.FAILURE;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes the artifact's bytes as they are. */
    private record BytesWriter(byte[] bytes) implements ApprovalWriter {
        @Override
        public File writeReceivedFile(File received) {
            try {
                Files.createDirectories(received.toPath().getParent());
                Files.write(received.toPath(), bytes);
                return received;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public String getFileExtensionWithDot() {
            return "";
        }
    }

    /** Approved file = {@code golden/<example>/<path>}; received files go under target/, never into golden/. */
    private static final class GoldenNamer implements ApprovalNamer {
        private final Path golden;
        private final String path;
        private String extra = "";

        GoldenNamer(Path golden, String path) {
            this.golden = golden;
            this.path = path;
        }

        @Override
        public File getApprovedFile(String ext) {
            return golden.resolve(path).toFile();
        }

        @Override
        public File getReceivedFile(String ext) {
            return TestSupport.root().resolve("compiler/target/golden-received").resolve(golden.getFileName()).resolve(path).toFile();
        }

        @Override
        public String getApprovalName() {
            return path;
        }

        @Override
        public String getSourceFilePath() {
            return golden.toString();
        }

        @Override
        public ApprovalNamer addAdditionalInformation(String info) {
            extra = info;
            return this;
        }

        @Override
        public String getAdditionalInformation() {
            return extra;
        }
    }
}

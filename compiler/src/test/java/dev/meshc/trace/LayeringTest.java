package dev.meshc.trace;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshc.TestSupport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** trace evaluates the emitted files: it shares no code with the renderers, and cli is above it. */
class LayeringTest {
    @Test
    void traceImportsNeitherRenderNorCli() throws Exception {
        Path dir = TestSupport.root().resolve("compiler/src/main/java/dev/meshc/trace");
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.toString().endsWith(".java")).sorted().toList();
        }
        assertTrue(files.size() >= 8, files.toString());
        for (Path p : files) {
            String src = Files.readString(p);
            assertFalse(src.contains("dev.meshc.render"), p + " uses the renderers");
            assertFalse(src.contains("dev.meshc.cli"), p + " uses cli");
            assertFalse(src.contains("freemarker"), p + " uses the templates");
        }
    }
}

package dev.meshc.render;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.meshc.TestSupport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class RenderersTest {

    /** The list a compile prepares ahead of rendering is every template except the graph's. */
    @Test
    void theCompileTemplateListIsComplete() throws IOException {
        Path dir = TestSupport.root().resolve("templates");
        List<String> onDisk;
        try (Stream<Path> s = Files.walk(dir)) {
            onDisk = s.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString().replace('\\', '/'))
                    .filter(p -> !p.startsWith("graph/")).sorted().toList();
        }
        assertEquals(onDisk, Renderers.TEMPLATES.stream().sorted().toList());
    }
}

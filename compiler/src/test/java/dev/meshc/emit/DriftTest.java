package dev.meshc.emit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.meshc.render.Artifact;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DriftTest {

    /** plan keeps the bytes of containers' network.json only: against an empty OUT, the rest is paths and kinds. */
    @Test
    void bytesAreKeptOnlyWhereAsked(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("hosts/a"));
        Files.writeString(dir.resolve("hosts/a/old"), "gone\n");
        Files.writeString(dir.resolve("hosts/a/same"), "same\n");
        Files.writeString(dir.resolve("hosts/a/changed"), "before\n");
        var c = new Drift.Comparison(dir, p -> p.endsWith("changed"));
        for (Artifact a : List.of(OutputTreeTest.text("hosts/a/new", "n\n"), OutputTreeTest.text("hosts/a/same", "same\n"),
                OutputTreeTest.text("hosts/a/changed", "after\n"))) {
            c.accept(a);
        }
        List<FileChange> changes = c.finish();
        assertEquals(List.of("hosts/a/changed", "hosts/a/new", "hosts/a/old"), changes.stream().map(FileChange::path).toList());
        assertEquals(List.of(FileChange.Kind.CHANGED, FileChange.Kind.ADDED, FileChange.Kind.REMOVED),
                changes.stream().map(FileChange::kind).toList());
        assertArrayEquals("before\n".getBytes(StandardCharsets.UTF_8), changes.get(0).before());
        assertArrayEquals("after\n".getBytes(StandardCharsets.UTF_8), changes.get(0).after());
        assertNull(changes.get(1).after());
        assertNull(changes.get(2).before());
        // The diff's comparison keeps everything.
        var all = new Drift.Comparison(dir);
        all.accept(OutputTreeTest.text("hosts/a/new", "n\n"));
        assertArrayEquals("n\n".getBytes(StandardCharsets.UTF_8), all.finish().stream().filter(f -> f.path().equals("hosts/a/new"))
                .findFirst().orElseThrow().after());
    }
}

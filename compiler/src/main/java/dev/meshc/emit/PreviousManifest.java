package dev.meshc.emit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/**
 * The manifest a previous compile left in OUT: the only list of files meshc will ever delete.
 * A missing or unreadable manifest means "meshc owns nothing here yet".
 */
public final class PreviousManifest {
    private PreviousManifest() {
    }

    /** path → sha256 of every file listed; empty if there is no usable manifest. */
    public static Map<String, String> read(Path out) {
        Map<String, String> files = new TreeMap<>();
        Path m = out.resolve("manifest.json");
        if (!Files.isRegularFile(m)) return files;
        try {
            JsonNode root = new ObjectMapper().readTree(Files.readAllBytes(m));
            for (JsonNode f : root.path("files")) {
                String p = f.path("path").asString("");
                if (OutputTree.isSafeRelative(p)) files.put(p, f.path("sha256").asString(""));
            }
        } catch (IOException | JacksonException e) {
            return new TreeMap<>();
        }
        return files;
    }
}

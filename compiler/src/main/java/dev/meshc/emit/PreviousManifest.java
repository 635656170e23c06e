package dev.meshc.emit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/**
 * The manifest a previous compile left in OUT: the only list of files meshc will ever delete.
 * A missing or unreadable manifest means "meshc owns nothing here yet".
 */
public final class PreviousManifest {
    private PreviousManifest() {
    }

    /**
     * Whether OUT holds a manifest meshc wrote: a JSON object with {@code "generator": "meshc"}. The
     * manifest meshc writes has sorted keys, so that line is among its last few hundred bytes: read
     * first (a fleet's manifest is tens of megabytes); a manifest reformatted by hand is parsed whole.
     */
    public static boolean isMeshc(Path out) {
        Path m = out.resolve("manifest.json");
        if (!Files.isRegularFile(m, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return false;
        try {
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(m)) {
                long size = ch.size();
                java.nio.ByteBuffer tail = java.nio.ByteBuffer.allocate((int) Math.min(size, 1024));
                ch.position(size - tail.capacity());
                while (tail.hasRemaining() && ch.read(tail) >= 0) { }
                if (new String(tail.array(), java.nio.charset.StandardCharsets.UTF_8).contains("\n  \"generator\": \"meshc\",\n")) return true;
            }
            return new ObjectMapper().readTree(Files.readAllBytes(m)).path("generator").asString("").equals("meshc");
        } catch (IOException | JacksonException e) {
            return false;
        }
    }

    /**
     * path → sha256 of every file listed; empty if there is no usable manifest. Read as a token stream:
     * a fleet's manifest lists a million files, and a JSON tree of it cost several hundred megabytes
     * beside the map (a no-op recompile of 150,000 containers ran out of a 1 GiB heap).
     */
    public static Map<String, String> read(Path out) {
        Map<String, String> files = new TreeMap<>();
        Path m = out.resolve("manifest.json");
        if (!Files.isRegularFile(m)) return files;
        try (JsonParser p = new ObjectMapper().createParser(m.toFile())) {
            if (p.nextToken() != JsonToken.START_OBJECT) return new TreeMap<>();
            while (p.nextToken() == JsonToken.PROPERTY_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                if (!field.equals("files") || value != JsonToken.START_ARRAY) {
                    p.skipChildren();
                    continue;
                }
                for (JsonToken t = p.nextToken(); t != null && t != JsonToken.END_ARRAY; t = p.nextToken()) {
                    if (t != JsonToken.START_OBJECT) {
                        p.skipChildren(); // not an entry meshc writes: ignored, as an unsafe path is
                        continue;
                    }
                    String path = "", sha = "";
                    while (p.nextToken() == JsonToken.PROPERTY_NAME) {
                        String name = p.currentName();
                        JsonToken v = p.nextToken();
                        if (v == JsonToken.VALUE_STRING && name.equals("path")) path = p.getString();
                        else if (v == JsonToken.VALUE_STRING && name.equals("sha256")) sha = p.getString();
                        else p.skipChildren();
                    }
                    if (OutputTree.isSafeRelative(path)) files.put(path, sha);
                }
            }
        } catch (JacksonException e) {
            return new TreeMap<>();
        }
        return files;
    }
}

package dev.meshc.emit;

import dev.meshc.render.Artifact;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.ObjectMapper;

/**
 * {@code OUT/manifest.json}: every other file meshc wrote with its sha256 and size, meshc's version,
 * and the hashes of the inventory (its canonical form) and of the lock. It is meshc's only record of
 * what it may delete, so its format is code, not an overridable template: written here, read back
 * here, and a manifest that is not meshc's is never taken for one.
 */
public final class Manifest {
    public static final String PATH = "manifest.json";
    /** The line {@link #isMeshc} looks for near the end; keys are written sorted, so it is among the last. */
    private static final String GENERATOR_LINE = "\n  \"generator\": \"meshc\",\n";

    /** A manifest row. */
    public record Entry(String path, String sha256, long size) {
    }

    private Manifest() {
    }

    /** @param files every other file, sorted by path */
    public static Artifact write(List<Entry> files, String inventorySha256, String lockSha256, String version) {
        return write(files, List.of(), Previous.NONE, inventorySha256, lockSha256, version);
    }

    /**
     * @param files   the rows to write, sorted by path
     * @param carried hosts whose rows are copied from {@code from} as they are, sorted by name; merged with
     *                {@code files} in path order ({@code hosts/<vm>/} is a run of the sorted paths)
     */
    static Artifact write(List<Entry> files, List<String> carried, Previous from, String inventorySha256, String lockSha256, String version) {
        StringBuilder sb = new StringBuilder(64 + (files.size() + 50 * carried.size()) * 128);
        sb.append("{\n  \"files\": [\n");
        List<String> hosts = new java.util.ArrayList<>(carried.size());
        for (String h : carried) hosts.add("hosts/" + h + "/");
        hosts.sort(null); // by path: "hosts/a-b/" before "hosts/a/"
        int h = 0;
        for (Entry e : files) {
            for (; h < hosts.size() && hosts.get(h).compareTo(e.path()) < 0; h++) from.appendRows(hostName(hosts.get(h)), sb);
            sb.append("    {\"path\": \"");
            string(sb, e.path());
            sb.append("\", \"sha256\": \"").append(e.sha256()).append("\", \"size\": ").append(e.size()).append("},\n");
        }
        for (; h < hosts.size(); h++) from.appendRows(hostName(hosts.get(h)), sb);
        if (sb.charAt(sb.length() - 2) == ',') sb.deleteCharAt(sb.length() - 2); // the last row has no comma
        sb.append("  ],").append(GENERATOR_LINE);
        sb.append("  \"inventory_sha256\": \"").append(inventorySha256).append("\",\n");
        sb.append("  \"lock_sha256\": \"").append(lockSha256).append("\",\n");
        sb.append("  \"meshc_version\": \"");
        string(sb, version);
        sb.append("\"\n}\n");
        return new Artifact(PATH, sb.toString().getBytes(StandardCharsets.UTF_8));
    }

    private static String hostName(String prefix) {
        return prefix.substring(6, prefix.length() - 1);
    }

    /** A JSON string's content: quotes, backslashes and control characters escaped, {@code </} as {@code <\/}. */
    private static void string(StringBuilder sb, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '/' -> sb.append(i > 0 && s.charAt(i - 1) == '<' ? "\\/" : "/");
                default -> {
                    if (c < 0x20 || c == '\u2028' || c == '\u2029') sb.append(String.format(java.util.Locale.ROOT, "\\u%04X", (int) c));
                    else sb.append(c);
                }
            }
        }
    }

    /**
     * Whether OUT holds a manifest meshc wrote: a JSON object with {@code "generator": "meshc"}. The
     * line is among the last few hundred bytes of what {@link #write} writes, so that is read first (a
     * fleet's manifest is tens of megabytes); a manifest reformatted by hand is parsed whole.
     */
    public static boolean isMeshc(Path out) {
        Path m = out.resolve(PATH);
        if (!Files.isRegularFile(m, LinkOption.NOFOLLOW_LINKS)) return false;
        try {
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(m)) {
                long size = ch.size();
                java.nio.ByteBuffer tail = java.nio.ByteBuffer.allocate((int) Math.min(size, 1024));
                ch.position(size - tail.capacity());
                while (tail.hasRemaining() && ch.read(tail) >= 0) { }
                if (new String(tail.array(), StandardCharsets.UTF_8).contains(GENERATOR_LINE)) return true;
            }
            return new ObjectMapper().readTree(Files.readAllBytes(m)).path("generator").asString("").equals("meshc");
        } catch (IOException | JacksonException e) {
            return false;
        }
    }

    /** path → sha256 of every file the manifest in OUT lists; empty if there is no usable manifest. */
    public static Map<String, String> files(Path out) {
        Map<String, String> files = new TreeMap<>();
        if (!read(out, e -> files.put(e.path(), e.sha256()))) return new TreeMap<>();
        return files;
    }

    /**
     * Streams the entries of the manifest in OUT to {@code entries}, in the manifest's order, skipping
     * any whose path is not a safe relative one; false (after perhaps some entries) if there is no
     * usable manifest. A token stream, not a tree: a fleet's manifest lists a million files, and a JSON
     * tree of it cost several hundred megabytes (a no-op recompile of 150,000 containers ran out of a
     * 1 GiB heap).
     */
    public static boolean read(Path out, Consumer<Entry> entries) {
        Path m = out.resolve(PATH);
        if (!Files.isRegularFile(m)) return false;
        try (JsonParser p = new ObjectMapper().createParser(m.toFile())) {
            return parse(p, entries);
        } catch (JacksonException e) {
            return false;
        }
    }

    /** The rows of a manifest's bytes, by a JSON parser (any layout); null if it is not a usable manifest. */
    static List<Entry> parse(byte[] bytes) {
        List<Entry> entries = new java.util.ArrayList<>();
        try (JsonParser p = new ObjectMapper().createParser(bytes)) {
            return parse(p, entries::add) ? entries : null;
        } catch (JacksonException e) {
            return null;
        }
    }

    private static boolean parse(JsonParser p, Consumer<Entry> entries) {
        if (p.nextToken() != JsonToken.START_OBJECT) return false;
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
                long size = -1;
                while (p.nextToken() == JsonToken.PROPERTY_NAME) {
                    String name = p.currentName();
                    JsonToken v = p.nextToken();
                    if (v == JsonToken.VALUE_STRING && name.equals("path")) path = p.getString();
                    else if (v == JsonToken.VALUE_STRING && name.equals("sha256")) sha = p.getString();
                    else if (v == JsonToken.VALUE_NUMBER_INT && name.equals("size")) size = p.getLongValue();
                    else p.skipChildren();
                }
                if (OutputTree.isSafeRelative(path)) entries.accept(new Entry(path, sha, size));
            }
        }
        return true;
    }
}

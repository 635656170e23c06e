package dev.meshc.emit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the compile that wrote OUT left: its manifest's rows, and the {@link HostState} beside it when that state
 * names this very manifest. A host whose input digest is unchanged keeps its files and its manifest rows without
 * being rendered, and its rows are never even parsed: they stay the bytes of the manifest they were read from
 * (every host's rows are one run of lines, the manifest being sorted by path), and are copied into the next one.
 * A fleet's manifest lists 260,000 files at 1,000 VMs; a one-container change renders a few dozen hosts.
 * <p>
 * A manifest that is not laid out as {@link Manifest#write} lays it out (reformatted by hand) is read with a JSON
 * parser instead, and no host is carried.
 */
public final class Previous {
    public static final Previous NONE = new Previous(null, null, Map.of(), Map.of(), List.of());

    private final HostState state;
    /** The manifest's bytes, when its host rows may be copied from it; else null. */
    private final byte[] manifest;
    /** Each host's rows as lines of {@link #manifest}: [from, to, number of rows], or their entries when read by the JSON parser. */
    private final Map<String, int[]> ranges;
    private final Map<String, List<Manifest.Entry>> parsed;
    /** The rows outside {@code hosts/} (the fleet-wide files). */
    private final List<Manifest.Entry> others;
    private final Map<String, Map<String, String>> shas = new ConcurrentHashMap<>();

    private Previous(HostState state, byte[] manifest, Map<String, int[]> ranges, Map<String, List<Manifest.Entry>> parsed,
                     List<Manifest.Entry> others) {
        this.state = state;
        this.manifest = manifest;
        this.ranges = ranges;
        this.parsed = parsed;
        this.others = others;
    }

    /** The state beside the manifest, or null: nothing may be skipped. */
    public HostState state() {
        return state;
    }

    /** Each host's input digest in the compile that wrote OUT (empty: render every host). */
    public Map<String, String> digests() {
        return state == null ? Map.of() : state.digests();
    }

    /** Whether the manifest listed nothing at all (or there was none). */
    public boolean isEmpty() {
        return others.isEmpty() && ranges.isEmpty() && parsed.isEmpty();
    }

    /** The hosts the manifest lists files of. */
    public Set<String> hosts() {
        return manifest != null ? ranges.keySet() : parsed.keySet();
    }

    /** Whether this host's files and rows can be kept as they are: its digest is {@code digest}, its rows are at hand. */
    public boolean carries(String host, String digest) {
        return state != null && manifest != null && digest != null && digest.equals(state.digests().get(host)) && ranges.containsKey(host);
    }

    /** The rows of the fleet-wide files. */
    public List<Manifest.Entry> others() {
        return others;
    }

    /** A host's rows, parsed (only hosts that are rendered or removed are asked for). */
    public List<Manifest.Entry> entriesOf(String host) {
        if (manifest == null) return parsed.getOrDefault(host, List.of());
        int[] r = ranges.get(host);
        if (r == null) return List.of();
        List<Manifest.Entry> out = new ArrayList<>();
        for (int at = r[0]; at < r[1]; ) {
            int end = lineEnd(manifest, at);
            Manifest.Entry e = row(manifest, at, end);
            if (e != null) out.add(e); // not a row meshc writes: not listed, so never trusted nor removed
            at = end + 1;
        }
        return out;
    }

    /** The SHA-256 the manifest lists for a path, or null. */
    public String sha(String path) {
        String host = hostOf(path);
        Map<String, String> m = shas.computeIfAbsent(host == null ? "" : "hosts/" + host, k -> {
            Map<String, String> byPath = new HashMap<>();
            for (Manifest.Entry e : host == null ? others : entriesOf(host)) byPath.put(e.path(), e.sha256());
            return byPath;
        });
        return m.get(path);
    }

    /** The number of rows of a host that can be carried. */
    int rowCount(String host) {
        return ranges.get(host)[2];
    }

    /** Appends a carried host's rows as the manifest had them, each line ending in ",\n". */
    void appendRows(String host, StringBuilder sb) {
        int[] r = ranges.get(host);
        sb.append(new String(manifest, r[0], r[1] - r[0], StandardCharsets.UTF_8));
        if (r[1] >= 2 && manifest[r[1] - 2] != ',') sb.insert(sb.length() - 1, ','); // the manifest's last row had none
    }

    /** Reads OUT's manifest and the state beside it, without taking OUT's lock (plan --against). */
    public static Previous read(Path out) {
        Path m = out.resolve(Manifest.PATH);
        if (!Files.isRegularFile(m, LinkOption.NOFOLLOW_LINKS)) return NONE;
        try {
            return of(out, Files.readAllBytes(m));
        } catch (IOException e) {
            return NONE;
        }
    }

    /** From a manifest's bytes (null: none) and the state beside it in OUT. */
    static Previous of(Path out, byte[] bytes) {
        if (bytes == null) return NONE;
        HostState state = HostState.read(out, HostState.id(bytes));
        Previous p = scan(state, bytes);
        if (p != null) return p;
        List<Manifest.Entry> all = Manifest.parse(bytes); // laid out otherwise: the JSON parser, and nothing carried
        if (all == null) return NONE;
        Map<String, List<Manifest.Entry>> byHost = new LinkedHashMap<>();
        List<Manifest.Entry> others = new ArrayList<>();
        for (Manifest.Entry e : all) {
            String host = hostOf(e.path());
            if (host == null) others.add(e);
            else byHost.computeIfAbsent(host, k -> new ArrayList<>()).add(e);
        }
        return new Previous(null, null, Map.of(), byHost, others);
    }

    private static final byte[] HEAD = "{\n  \"files\": [\n".getBytes(StandardCharsets.UTF_8);
    private static final byte[] ROW = "    {\"path\": \"".getBytes(StandardCharsets.UTF_8);
    private static final byte[] HOSTS = "hosts/".getBytes(StandardCharsets.UTF_8);

    /** The rows of a manifest laid out as {@link Manifest#write} lays it out, by host; null if it is not. */
    private static Previous scan(HostState state, byte[] b) {
        if (!startsWith(b, 0, HEAD)) return null;
        Map<String, int[]> ranges = new HashMap<>();
        List<Manifest.Entry> others = new ArrayList<>();
        String current = null;
        int at = HEAD.length;
        while (at < b.length && startsWith(b, at, ROW)) {
            int end = lineEnd(b, at);
            if (end < 0) return null;
            String host = null;
            int p = at + ROW.length;
            if (startsWith(b, p, HOSTS)) {
                int slash = p + HOSTS.length;
                while (slash < end && b[slash] != '/' && b[slash] != '"' && b[slash] != '\\') slash++;
                if (slash >= end || b[slash] != '/') return null;
                host = new String(b, p + HOSTS.length, slash - p - HOSTS.length, StandardCharsets.UTF_8);
            }
            if (host == null) {
                Manifest.Entry e = row(b, at, end);
                if (e == null) return null;
                others.add(e);
            } else if (host.equals(current)) {
                int[] r = ranges.get(host);
                r[1] = end + 1;
                r[2]++;
            } else {
                if (ranges.containsKey(host)) return null; // not sorted: not meshc's layout
                ranges.put(host, new int[] {at, end + 1, 1});
                current = host;
            }
            at = end + 1;
        }
        if (!startsWith(b, at, "  ],".getBytes(StandardCharsets.UTF_8))) return null;
        return new Previous(state, b, Collections.unmodifiableMap(ranges), Map.of(), List.copyOf(others));
    }

    /** One row line, {@code     {"path": "P", "sha256": "S", "size": N}} with or without its comma; null if not that. */
    private static Manifest.Entry row(byte[] b, int from, int end) {
        String line = new String(b, from, end - from, StandardCharsets.UTF_8);
        int p = ROW.length, q = line.indexOf("\", \"sha256\": \"", p);
        int s = line.indexOf("\", \"size\": ", q + 1);
        if (q < 0 || s < 0 || line.substring(p, q).indexOf('\\') >= 0) return null;
        int close = line.lastIndexOf('}');
        try {
            String path = line.substring(p, q);
            return OutputTree.isSafeRelative(path) ? new Manifest.Entry(path, line.substring(q + 14, s), Long.parseLong(line.substring(s + 11, close))) : null;
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static int lineEnd(byte[] b, int from) {
        for (int i = from; i < b.length; i++) if (b[i] == '\n') return i;
        return -1;
    }

    private static boolean startsWith(byte[] b, int at, byte[] prefix) {
        if (at + prefix.length > b.length) return false;
        for (int i = 0; i < prefix.length; i++) if (b[at + i] != prefix[i]) return false;
        return true;
    }

    /** {@code vm} of {@code hosts/<vm>/...}, else null. */
    static String hostOf(String path) {
        if (!path.startsWith("hosts/")) return null;
        int slash = path.indexOf('/', 6);
        return slash < 0 ? null : path.substring(6, slash);
    }
}

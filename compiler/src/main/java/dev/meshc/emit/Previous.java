package dev.meshc.emit;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the full compile that wrote OUT left for the next one: each host's input digest and manifest
 * rows. A host whose digest is unchanged keeps its files and rows without being rendered. Empty when
 * OUT has no usable state ({@link HostState}): then every host is rendered, as in a first compile.
 */
public record Previous(Map<String, String> digests, Map<String, List<Manifest.Entry>> entriesByHost) {
    public static final Previous NONE = new Previous(Map.of(), Map.of());

    /** @param entries the rows of the manifest whose SHA-256 is {@code manifestId} */
    static Previous of(Path out, String manifestId, List<Manifest.Entry> entries) {
        Map<String, String> digests = HostState.read(out, manifestId);
        if (digests.isEmpty()) return NONE;
        Map<String, List<Manifest.Entry>> byHost = new HashMap<>();
        for (Manifest.Entry e : entries) {
            String host = hostOf(e.path());
            if (host != null) byHost.computeIfAbsent(host, k -> new ArrayList<>()).add(e);
        }
        return new Previous(digests, byHost);
    }

    /** Reads OUT without taking its lock (plan --against): the manifest, then the state beside it. */
    public static Previous read(Path out) {
        Manifest.Listing l = Manifest.listing(out);
        return l == null ? NONE : of(out, l.id(), l.entries());
    }

    /** {@code vm} of {@code hosts/<vm>/...}, else null. */
    static String hostOf(String path) {
        if (!path.startsWith("hosts/")) return null;
        int slash = path.indexOf('/', 6);
        return slash < 0 ? null : path.substring(6, slash);
    }
}

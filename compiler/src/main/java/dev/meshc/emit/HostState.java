package dev.meshc.emit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code OUT/.meshc-hosts}: the input digest of every host ({@link HostInputs}) of the full compile
 * that wrote OUT's manifest, and that manifest's identity (its size and CRC-32C: a check against a
 * manifest some other write replaced, not against forgery; hashing a fleet's 26 MB manifest with
 * SHA-256 twice per compile cost half a second). It is bookkeeping, like the lock file: not
 * output, not in the manifest, renamed into place by the same journal as the manifest, just before
 * it. It counts only beside the very manifest it names; any other (an older meshc's tree, a
 * {@code --host} compile, a manifest written by hand) means every host is rendered.
 */
public record HostState(String manifestId, Map<String, String> digests) {
    static final String FILE = ".meshc-hosts";
    private static final String HEADER = "meshc host inputs 1";

    public HostState {
        digests = Collections.unmodifiableMap(new TreeMap<>(digests));
    }

    public byte[] encode() {
        StringBuilder sb = new StringBuilder(HEADER).append("\nmanifest ").append(manifestId).append('\n');
        digests.forEach((vm, d) -> sb.append(vm).append(' ').append(d).append('\n'));
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** The state beside a manifest: the digests of the compile that wrote it. */
    public static HostState of(Map<String, String> digests, byte[] manifest) {
        return new HostState(id(manifest), digests);
    }

    /** A manifest's identity: its size and CRC-32C. */
    static String id(byte[] manifest) {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(manifest);
        return manifest.length + "-" + Long.toHexString(crc.getValue());
    }

    /** The digests recorded for the manifest with this SHA-256, or an empty map (render every host). */
    static Map<String, String> read(Path out, String manifestId) {
        Path f = out.resolve(FILE);
        if (manifestId == null || !Files.isRegularFile(f)) return Map.of();
        try {
            List<String> lines = Files.readAllLines(f, StandardCharsets.UTF_8);
            if (lines.size() < 2 || !lines.get(0).equals(HEADER) || !lines.get(1).equals("manifest " + manifestId)) return Map.of();
            Map<String, String> digests = new HashMap<>();
            for (String line : lines.subList(2, lines.size())) {
                int sp = line.indexOf(' ');
                if (sp <= 0) return Map.of();
                digests.put(line.substring(0, sp), line.substring(sp + 1));
            }
            return digests;
        } catch (IOException | RuntimeException e) {
            return Map.of();
        }
    }
}

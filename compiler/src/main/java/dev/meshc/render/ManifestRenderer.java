package dev.meshc.render;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code manifest.json}: every other file with its sha256 and size, meshc's version, and the hashes
 * of the inventory (its canonical form, so reordering the YAML does not change it) and the lock.
 */
public final class ManifestRenderer {
    public static final String PATH = "manifest.json";

    /** A manifest row. */
    public record Entry(String path, String sha256, long size) {
    }

    private ManifestRenderer() {
    }

    /** @param files every other file, sorted by path */
    public static Artifact render(List<Entry> files, String inventorySha256, String lockSha256, String version, Templates t) {
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("files", files);
        model.put("inventorySha256", inventorySha256);
        model.put("lockSha256", lockSha256);
        model.put("version", version);
        return new Artifact(PATH, t.bytes("manifest.json.ftl", model));
    }

    public static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

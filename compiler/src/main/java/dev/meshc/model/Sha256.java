package dev.meshc.model;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * SHA-256, the one digest meshc uses: VIPs (docs/design.md, "VIPs"), iptables chain names, the manifest's file
 * hashes. One digest object per thread: looking the algorithm up per call was a tenth of planning
 * 5,000 services.
 */
public final class Sha256 {
    private static final ThreadLocal<MessageDigest> DIGEST = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    });

    private Sha256() {
    }

    public static byte[] of(byte[] bytes) {
        return DIGEST.get().digest(bytes); // digest() resets it for the next use
    }

    /** Lowercase hex, as the manifest lists it. */
    public static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(of(bytes));
    }
}

package dev.meshc.load;

/** Bounds on what the loader accepts, so hostile input fails with a diagnostic, not a crash. */
public record InputLimits(long maxBytes, int maxDepth, int maxAliases, int maxNodes) {

    /** 32 MiB holds an inventory of well over 100,000 containers (an XL fleet is about 8 MiB). */
    public static final InputLimits DEFAULT = new InputLimits(32L << 20, 64, 50, 4_000_000);
}

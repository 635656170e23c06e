package dev.meshc.diag;

import java.util.Locale;

/**
 * Phase timings on stderr when {@code MESHC_TIMING} is set: where a compile spends its time,
 * for the benchmarks and for users with large fleets. Silent otherwise.
 */
public final class Timings {
    private static final boolean ON = System.getenv("MESHC_TIMING") != null;
    private static long last = System.nanoTime();

    private Timings() {
    }

    /** A part of the current phase measured on its own (not a mark: the phase goes on). */
    public static synchronized void part(String what, long nanos) {
        if (ON) System.err.printf(Locale.ROOT, "meshc timing:   %-12s %8.1f ms%n", what, nanos / 1e6);
    }

    public static synchronized void mark(String phase) {
        long now = System.nanoTime();
        if (ON) System.err.printf(Locale.ROOT, "meshc timing: %-12s %8.1f ms%n", phase, (now - last) / 1e6);
        last = now;
    }
}

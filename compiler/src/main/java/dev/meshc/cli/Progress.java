package dev.meshc.cli;

import java.io.PrintWriter;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * "rendering hosts 120/1000" on stderr, rewritten in place at most ten times a second — only when
 * meshc runs on a terminal and not with --quiet or a machine-readable --format. Silent otherwise,
 * so CI logs and pipes get no progress noise.
 */
final class Progress {
    private final PrintWriter err;
    private final String what;
    private final int total;
    private final AtomicInteger done = new AtomicInteger();
    private volatile long lastPrint;

    private Progress(PrintWriter err, String what, int total) {
        this.err = err;
        this.what = what;
        this.total = total;
    }

    static Progress start(CommonOptions common, String what, int total) {
        boolean on = System.console() != null && !common.quiet && common.format == Reporter.Format.text && total >= 50;
        return new Progress(on ? Main.err() : null, what, total);
    }

    void step() {
        int n = done.incrementAndGet();
        if (err == null) return;
        long now = System.nanoTime();
        if (now - lastPrint < 100_000_000L && n < total) return;
        lastPrint = now;
        synchronized (this) {
            err.print("\rmeshc: " + what + " " + n + "/" + total);
            err.flush();
        }
    }

    void finish() {
        if (err == null) return;
        synchronized (this) {
            err.print("\r\u001b[K");
            err.flush();
        }
    }
}

package dev.meshc.trace;

/** A file outside meshc's own grammar (or missing): names the file under the output tree and the line. */
public final class TraceError extends Exception {
    public TraceError(String file, int line, String message) {
        super(file + (line > 0 ? ":" + line : "") + ": " + message);
    }
}

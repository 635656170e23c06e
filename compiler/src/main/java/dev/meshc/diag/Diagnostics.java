package dev.meshc.diag;

import java.util.ArrayList;
import java.util.List;

/** Collects diagnostics of one run; stages add to it and the pipeline stops after a stage with errors. */
public final class Diagnostics {
    private final List<Diagnostic> items = new ArrayList<>();

    public void add(Diagnostic d) {
        items.add(d);
    }

    /** Everything {@code other} collected (another stage run on another thread). */
    public void addAll(Diagnostics other) {
        for (Diagnostic d : other.sorted()) add(d);
    }

    /** Adds a diagnostic with its code's severity. */
    public void report(Code code, SourceSpan at, String message) {
        add(Diagnostic.of(code, at, message));
    }

    public void error(Code code, SourceSpan at, String message) {
        add(Diagnostic.error(code, at, message));
    }

    public void warning(Code code, SourceSpan at, String message) {
        add(Diagnostic.warning(code, at, message));
    }

    public boolean hasErrors() {
        for (Diagnostic d : items) if (d.isError()) return true;
        return false;
    }

    public int errorCount() {
        int n = 0;
        for (Diagnostic d : items) if (d.isError()) n++;
        return n;
    }

    /** Sorted by position, then code: the order users read them in, and deterministic. */
    public List<Diagnostic> sorted() {
        List<Diagnostic> copy = new ArrayList<>(items);
        copy.sort(Diagnostic.ORDER);
        return List.copyOf(copy);
    }
}

package dev.meshc.diag;

/** A position in a source file, 1-based line and column, taken from the YAML parser's marks. */
public record SourceSpan(String file, int line, int column) implements Comparable<SourceSpan> {

    public static SourceSpan file(String file) {
        return new SourceSpan(file, 0, 0);
    }

    public boolean hasPosition() {
        return line > 0;
    }

    @Override
    public int compareTo(SourceSpan o) {
        int c = file.compareTo(o.file);
        if (c != 0) return c;
        c = Integer.compare(line, o.line);
        return c != 0 ? c : Integer.compare(column, o.column);
    }

    @Override
    public String toString() {
        return hasPosition() ? file + ":" + line + ":" + column : file;
    }
}

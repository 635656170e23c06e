package dev.meshc.model;

import dev.meshc.diag.SourceSpan;

/**
 * Where a model object and each of its fields were written. {@link #key()} is the object's own
 * key (its name); {@link #of(String)} a field's value, falling back to the key when the field was
 * not written (a default applies).
 *
 * <p>Positions are looked up when asked for, not when the model is read: only diagnostics ask, and
 * reading 100,000 containers' positions up front was a fifth of the model's reading time.
 */
public record Spans(Source source, String pointer, String selfField) {

    /** The positions of a parsed document, by JSON pointer. */
    public interface Source {
        SourceSpan keyAt(String pointer);

        /** The position of the value at exactly {@code pointer}, or null when nothing was written there. */
        SourceSpan writtenAt(String pointer);
    }

    /** An object at {@code pointer}; its fields are the entries below it. */
    public static Spans of(Source source, String pointer) {
        return new Spans(source, pointer, null);
    }

    /** The whole file, for what has no position of its own (a count over the inventory). */
    public static Spans file(String file) {
        SourceSpan whole = SourceSpan.file(file);
        return of(new Source() {
            @Override
            public SourceSpan keyAt(String pointer) {
                return whole;
            }

            @Override
            public SourceSpan writtenAt(String pointer) {
                return null;
            }
        }, "");
    }

    public SourceSpan key() {
        return source.keyAt(pointer);
    }

    public SourceSpan of(String field) {
        SourceSpan s = source.writtenAt(field.equals(selfField) ? pointer : pointer + "/" + field);
        return s != null ? s : key();
    }
}

package dev.meshc.model;

import dev.meshc.diag.SourceSpan;
import java.util.Map;

/**
 * Where a model object and each of its fields were written. {@link #key()} is the object's own
 * key (its name); {@link #of(String)} a field's value, falling back to the key when the field was
 * not written (a default applies).
 */
public record Spans(SourceSpan key, Map<String, SourceSpan> fields) {

    public Spans {
        fields = Map.copyOf(fields);
    }

    public static Spans at(SourceSpan key) {
        return new Spans(key, Map.of());
    }

    public SourceSpan of(String field) {
        return fields.getOrDefault(field, key);
    }
}

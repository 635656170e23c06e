package dev.meshc.load;

import dev.meshc.diag.SourceSpan;
import tools.jackson.databind.JsonNode;

/**
 * A parsed YAML document as a JSON tree plus where each part came from. Positions are found by
 * JSON pointer ({@code /vms/vm-a/underlay}) for both the value and, for mapping entries, the key,
 * so diagnostics can point at either without ever storing positions inside the user's data.
 */
public record SourceTree(String file, JsonNode root, Positions positions) {

    /** Where the value at {@code pointer} starts; falls back to the nearest enclosing value. */
    public SourceSpan valueAt(String pointer) {
        for (String p = pointer; ; p = parent(p)) {
            SourceSpan s = positions.value(p);
            if (s != null) return s;
            if (p.isEmpty()) return SourceSpan.file(file);
        }
    }

    /** Where the value at exactly {@code pointer} was written, or null when it was not (a default applies). */
    public SourceSpan writtenAt(String pointer) {
        return positions.value(pointer);
    }

    /** Where the key of the mapping entry at {@code pointer} starts; falls back to its value. */
    public SourceSpan keyAt(String pointer) {
        SourceSpan s = positions.key(pointer);
        return s != null ? s : valueAt(pointer);
    }

    public static String child(String pointer, String key) {
        return pointer + "/" + key.replace("~", "~0").replace("/", "~1");
    }

    static String parent(String pointer) {
        int i = pointer.lastIndexOf('/');
        return i <= 0 ? "" : pointer.substring(0, i);
    }
}

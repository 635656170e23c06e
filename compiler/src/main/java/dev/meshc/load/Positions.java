package dev.meshc.load;

import dev.meshc.diag.SourceSpan;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * Where each node of a parsed document was written, kept as compact records in document order and
 * turned into pointer-keyed positions only when something asks (a diagnostic). The reader used to
 * build a JSON pointer and two map entries per node while parsing: about a million of each for the
 * largest inventories, a large share of reading time and memory, for positions that a valid
 * inventory never looks up.
 *
 * <p>The tree is walked in the order the nodes were placed (mapping entries keep insertion order),
 * so the n-th node of the walk is the n-th record. An alias is one record: the copy of its anchor's
 * subtree has no positions of its own, and lookups inside it fall back to the alias.
 */
public final class Positions {
    private static final int FIELDS = 5; // value line, value column, key line, key column, alias flag

    private final String file;
    private final JsonNode root;
    private final int[] records;
    private final int count;
    private Map<String, SourceSpan> values;
    private Map<String, SourceSpan> keys;
    private int lookups;

    private Positions(String file, JsonNode root, int[] records, int count) {
        this.file = file;
        this.root = root;
        this.records = records;
        this.count = count;
    }

    /** The value's position at exactly {@code pointer}, or null when no node was written there. */
    public SourceSpan value(String pointer) {
        return lookup(pointer, false);
    }

    /** The key's position of the mapping entry at exactly {@code pointer}, or null. */
    public SourceSpan key(String pointer) {
        return lookup(pointer, true);
    }

    /**
     * The first few lookups walk to the one node (skipping whole subtrees by counting their records),
     * so a valid inventory's warning or two costs no map of every node; after that, the maps are built.
     */
    private synchronized SourceSpan lookup(String pointer, boolean key) {
        if (values == null && ++lookups > 16) build();
        if (values != null) return (key ? keys : values).get(pointer);
        return walkTo(pointer, key);
    }

    /** The lookup without the maps (package-private for tests, which compare it with them). */
    SourceSpan walkTo(String pointer, boolean key) {
        int r = find(pointer);
        if (r < 0) return null;
        int at = r * FIELDS;
        if (key) return records[at + 2] > 0 ? span(records[at + 2], records[at + 3]) : null;
        return span(records[at], records[at + 1]);
    }

    /** The record of the node at {@code pointer}, or -1 when there is none (or it is inside an alias's copy). */
    private int find(String pointer) {
        if (root == null || count == 0) return -1;
        if (!pointer.isEmpty() && pointer.charAt(0) != '/') return -1;
        JsonNode node = root;
        int r = 0;
        int from = 1;
        while (from <= pointer.length() && !pointer.isEmpty()) {
            int end = pointer.indexOf('/', from);
            if (end < 0) end = pointer.length();
            String segment = pointer.substring(from, end).replace("~1", "/").replace("~0", "~");
            from = end + 1;
            if (r >= count || records[r * FIELDS + 4] != 0) return -1;
            r++;
            JsonNode next = null;
            if (node.isObject()) {
                for (var e : node.properties()) {
                    if (e.getKey().equals(segment)) {
                        next = e.getValue();
                        break;
                    }
                    r = skip(e.getValue(), r);
                }
            } else if (node.isArray() && segment.matches("0|[1-9][0-9]{0,8}")) {
                int index = Integer.parseInt(segment);
                if (index < node.size()) {
                    for (int i = 0; i < index; i++) r = skip(node.get(i), r);
                    next = node.get(index);
                }
            }
            if (next == null) return -1;
            node = next;
        }
        return r < count ? r : -1;
    }

    /** The record after {@code node}'s subtree, which starts at record {@code r}. */
    private int skip(JsonNode node, int r) {
        if (r >= count) return r;
        if (records[r * FIELDS + 4] != 0) return r + 1;
        int next = r + 1;
        if (node.isObject()) {
            for (var e : node.properties()) next = skip(e.getValue(), next);
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) next = skip(node.get(i), next);
        }
        return next;
    }

    private void build() {
        Map<String, SourceSpan> v = new HashMap<>();
        Map<String, SourceSpan> k = new HashMap<>();
        if (root != null && count > 0) walk(root, "", 0, v, k);
        keys = k;
        values = v;
    }

    /** Assigns record {@code r} to {@code node} and the following ones to its descendants; returns the next record. */
    private int walk(JsonNode node, String pointer, int r, Map<String, SourceSpan> v, Map<String, SourceSpan> k) {
        if (r >= count) return r; // a partial tree (a duplicate key found mid-parse): nodes placed so far only
        int at = r * FIELDS;
        v.put(pointer, span(records[at], records[at + 1]));
        if (records[at + 2] > 0) k.put(pointer, span(records[at + 2], records[at + 3]));
        int next = r + 1;
        if (records[at + 4] != 0) return next;
        if (node.isObject()) {
            for (var e : node.properties()) next = walk(e.getValue(), SourceTree.child(pointer, e.getKey()), next, v, k);
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) next = walk(node.get(i), pointer + "/" + i, next, v, k);
        }
        return next;
    }

    private SourceSpan span(int line, int column) {
        return line > 0 ? new SourceSpan(file, line, column) : SourceSpan.file(file);
    }

    /** Collects records while a document is read. */
    static final class Recorder {
        private int[] records = new int[FIELDS * 1024];
        private int count;

        /** Lines and columns are 1-based; 0 means unknown (no key: a root, sequence item or alias target). */
        void add(int valueLine, int valueColumn, int keyLine, int keyColumn, boolean alias) {
            if ((count + 1) * FIELDS > records.length) records = Arrays.copyOf(records, records.length * 2);
            int at = count * FIELDS;
            records[at] = valueLine;
            records[at + 1] = valueColumn;
            records[at + 2] = keyLine;
            records[at + 3] = keyColumn;
            records[at + 4] = alias ? 1 : 0;
            count++;
        }

        /** The positions of {@code root} as read so far; later records do not change them. */
        Positions of(String file, JsonNode root) {
            return new Positions(file, root, records, count);
        }
    }
}

package dev.meshc.load;

import dev.meshc.diag.Code;
import dev.meshc.diag.Diagnostics;
import dev.meshc.diag.SourceSpan;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Parse;
import org.snakeyaml.engine.v2.common.Anchor;
import org.snakeyaml.engine.v2.events.AliasEvent;
import org.snakeyaml.engine.v2.events.CollectionStartEvent;
import org.snakeyaml.engine.v2.events.Event;
import org.snakeyaml.engine.v2.events.NodeEvent;
import org.snakeyaml.engine.v2.events.ScalarEvent;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.Tag;
import org.snakeyaml.engine.v2.resolver.ScalarResolver;
import org.snakeyaml.engine.v2.schema.CoreSchema;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Reads one YAML 1.2 document (core schema) into a JSON tree with positions.
 *
 * <p>It builds the tree from snakeyaml-engine's event stream rather than its {@code Compose}
 * API because composing recurses once per nesting level and accepts duplicate keys; walking
 * events keeps depth, aliases, tags, duplicate keys and node count under explicit limits, each
 * with its own diagnostic, in one pass.
 */
public final class YamlReader {
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
    private static final Set<String> CORE_TAGS = Set.of(Tag.STR.getValue(), Tag.INT.getValue(),
            Tag.FLOAT.getValue(), Tag.BOOL.getValue(), Tag.NULL.getValue(), Tag.MAP.getValue(),
            Tag.SEQ.getValue());
    private static final Pattern DECIMAL = Pattern.compile("[-+]?[0-9]+");
    private static final Pattern FLOAT = Pattern.compile("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");

    /** From this many characters on, the parser runs on a second thread beside the tree builder ({@link EventPipe}). */
    static final int PIPELINE_FROM_CHARS = 64 * 1024;

    private final InputLimits limits;
    private final int pipelineFrom;
    private final ScalarResolver resolver = new CoreSchema().getScalarResolver();

    public YamlReader(InputLimits limits) {
        this(limits, PIPELINE_FROM_CHARS);
    }

    /** @param pipelineFrom the input length from which parsing runs on its own thread (tests compare both ways) */
    YamlReader(InputLimits limits, int pipelineFrom) {
        this.limits = limits;
        this.pipelineFrom = pipelineFrom;
    }

    /** Returns the tree, or empty after adding at least one error to {@code diags}. */
    public Optional<SourceTree> read(String file, byte[] bytes, Diagnostics diags) {
        if (!checkSize(file, bytes.length, limits, diags)) return Optional.empty();
        Optional<String> text = decode(file, bytes, diags);
        if (text.isEmpty()) return Optional.empty();
        try {
            return new Builder(file, diags).build(text.get());
        } catch (org.snakeyaml.engine.v2.exceptions.ReaderException e) {
            diags.error(Code.Y100, at(file, text.get(), e.getPosition()), String.format(java.util.Locale.ROOT,
                    "character U+%04X is not allowed in YAML", e.getCodePoint()));
        } catch (MarkedYamlEngineException e) {
            Mark m = e.getProblemMark().or(e::getContextMark).orElse(null);
            Mark context = e.getContextMark().orElse(null);
            SyntaxHints.Hint hint = m == null ? null : SyntaxHints.explain(file, text.get(), e.getProblem(), m.getLine() + 1,
                    m.getColumn() + 1, context == null ? 0 : context.getLine() + 1);
            if (hint != null) diags.error(Code.Y100, hint.at(), hint.message());
            else diags.error(Code.Y100, span(file, m), oneLine(e.getProblem() != null ? e.getProblem() : e.getMessage()));
        } catch (YamlEngineException e) {
            diags.error(Code.Y100, SourceSpan.file(file), oneLine(e.getMessage()));
        }
        return Optional.empty();
    }

    /** Y103 when {@code size} exceeds the limit; returns whether the size is acceptable. */
    /** @param size the file's size, or -1 for a stream known only to exceed the limit */
    public static boolean checkSize(String file, long size, InputLimits limits, Diagnostics diags) {
        if (size >= 0 && size <= limits.maxBytes()) return true;
        diags.error(Code.Y103, SourceSpan.file(file), String.format(java.util.Locale.ROOT,
                "the file has %s bytes; the limit is %d bytes (%d MiB)", size < 0 ? "more than " + limits.maxBytes() : Long.toString(size),
                limits.maxBytes(), limits.maxBytes() >> 20));
        return false;
    }

    /** Strict UTF-8; a UTF-8 byte-order mark is allowed and dropped, other encodings are refused. */
    static Optional<String> decode(String file, byte[] bytes, Diagnostics diags) {
        int start = 0;
        if (bytes.length >= 3 && (bytes[0] & 0xff) == 0xEF && (bytes[1] & 0xff) == 0xBB && (bytes[2] & 0xff) == 0xBF) {
            start = 3;
        } else if (bytes.length >= 2 && ((bytes[0] & 0xff) == 0xFE || (bytes[0] & 0xff) == 0xFF)) {
            diags.error(Code.Y107, new SourceSpan(file, 1, 1), "the file starts with a UTF-16/UTF-32 byte-order mark; save it as UTF-8");
            return Optional.empty();
        }
        try {
            CharBuffer cb = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, start, bytes.length - start));
            return Optional.of(cb.toString());
        } catch (CharacterCodingException e) {
            int bad = firstInvalidUtf8(bytes, start);
            int line = 1, col = 1;
            for (int i = start; i < bad; i++) {
                if (bytes[i] == '\n') { line++; col = 1; } else if ((bytes[i] & 0xC0) != 0x80) col++;
            }
            diags.error(Code.Y107, new SourceSpan(file, line, col),
                    String.format(java.util.Locale.ROOT, "invalid UTF-8 byte 0x%02X", bytes[bad] & 0xff));
            return Optional.empty();
        }
    }

    private static int firstInvalidUtf8(byte[] b, int from) {
        var dec = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT);
        // Binary search is not needed: decode growing prefixes line by line is enough for a diagnostic.
        int i = from;
        while (i < b.length) {
            int lead = b[i] & 0xff;
            int len = lead < 0x80 ? 1 : lead >= 0xC2 && lead < 0xE0 ? 2 : lead >= 0xE0 && lead < 0xF0 ? 3 : lead >= 0xF0 && lead < 0xF5 ? 4 : 0;
            if (len == 0 || i + len > b.length) return i;
            try {
                dec.reset().decode(ByteBuffer.wrap(b, i, len));
            } catch (CharacterCodingException e) {
                return i;
            }
            i += len;
        }
        return Math.min(from, b.length - 1);
    }

    /** Line and column of the code point at {@code index}. */
    static SourceSpan at(String file, String text, int index) {
        int line = 1, col = 1, i = 0;
        for (int off = 0; off < text.length() && i < index; i++) {
            int cp = text.codePointAt(off);
            off += Character.charCount(cp);
            if (cp == '\n') { line++; col = 1; } else col++;
        }
        return new SourceSpan(file, line, col);
    }

    static SourceSpan span(String file, Mark m) {
        return m == null ? SourceSpan.file(file) : new SourceSpan(file, m.getLine() + 1, m.getColumn() + 1);
    }

    private static String oneLine(String s) {
        return s == null ? "syntax error" : s.strip().replaceAll("\\s*\\n\\s*", "; ");
    }

    /** One document's worth of state while walking events. */
    private final class Builder {
        private final String file;
        private final Diagnostics diags;
        private final Positions.Recorder positions = new Positions.Recorder();
        private final Map<Anchor, JsonNode> anchors = new HashMap<>();
        private final Deque<Frame> stack = new ArrayDeque<>();
        private int aliases;
        private long nodes;
        private boolean failed;
        private JsonNode root;

        Builder(String file, Diagnostics diags) {
            this.file = file;
            this.diags = diags;
        }

        Optional<SourceTree> build(String text) {
            LoadSettings settings = LoadSettings.builder()
                    .setLabel(file)
                    .setSchema(new CoreSchema())
                    .setUseMarks(true)
                    .setCodePointLimit(Integer.MAX_VALUE)
                    .build();
            Iterable<Event> parsed = new Parse(settings).parseString(text);
            if (text.length() < pipelineFrom) return build(parsed.iterator());
            try (EventPipe pipe = new EventPipe(parsed)) {
                return build(pipe);
            }
        }

        private Optional<SourceTree> build(Iterator<Event> events) {
            int documents = 0;
            while (events.hasNext() && !failed) {
                Event e = events.next();
                switch (e.getEventId()) {
                    case DocumentStart -> {
                        if (++documents > 1) {
                            fail(Code.Y105, e, "a second YAML document starts here; an inventory is one document");
                        }
                    }
                    case Scalar -> onScalar((ScalarEvent) e);
                    case Alias -> onAlias((AliasEvent) e);
                    case MappingStart -> onStart((CollectionStartEvent) e, true);
                    case SequenceStart -> onStart((CollectionStartEvent) e, false);
                    case MappingEnd, SequenceEnd -> onEnd();
                    default -> { }
                }
            }
            if (failed) return Optional.empty();
            if (root == null || root.isNull()) {
                diags.error(Code.Y108, new SourceSpan(file, 1, 1), (root == null ? "the file is empty (or only comments)"
                        : "the document is empty or null") + "; an inventory is a mapping that starts with 'version: 1'");
                return Optional.empty();
            }
            return Optional.of(new SourceTree(file, root, positions.of(file, root)));
        }

        private void fail(Code code, Event at, String message) {
            diags.error(code, span(file, at.getStartMark().orElse(null)), message);
            failed = true;
        }

        private void onStart(CollectionStartEvent e, boolean mapping) {
            if (!checkTag(e, e.getTag())) return;
            if (stack.size() >= limits.maxDepth()) {
                fail(Code.Y104, e, "collections nested more than " + limits.maxDepth() + " levels deep");
                return;
            }
            if (!countNodes(e, 1)) return;
            if (isKeyPosition()) {
                fail(Code.Y109, e, "a mapping key must be a plain name, not a collection");
                return;
            }
            JsonNode node = mapping ? JSON.objectNode() : JSON.arrayNode();
            Frame parent = stack.peek();
            String key = parent != null && parent.node.isObject() ? parent.pendingKey : null;
            int index = parent != null && parent.node.isArray() ? parent.node.size() : -1;
            boolean detached = parent != null && (parent.detached || parent.discardNext);
            place(node, e, false);
            Frame frame = new Frame(node, key, index, e.getAnchor().orElse(null));
            frame.detached = detached;
            stack.push(frame);
        }

        private void onEnd() {
            Frame f = stack.pop();
            if (f.anchor != null) anchors.put(f.anchor, f.node);
        }

        private void onScalar(ScalarEvent e) {
            if (!checkTag(e, e.getTag())) return;
            if (!countNodes(e, 1)) return;
            if (isKeyPosition()) {
                Frame f = stack.peek();
                String key = e.getValue();
                Mark m = e.getStartMark().orElse(null);
                if (f.node.has(key) && !f.detached) {
                    // Reported, and the second value is read but left out: the first stands, and checking goes on.
                    SourceSpan first = positions.of(file, root).key(SourceTree.child(pointer(), key));
                    diags.error(Code.Y101, span(file, m), "duplicate key '" + key + "'"
                            + (first != null ? " (first at " + first.line() + ":" + first.column() + "); the second is ignored" : ""));
                    f.discardNext = true;
                }
                f.pendingKey = key;
                f.pendingKeyLine = m == null ? 0 : m.getLine() + 1;
                f.pendingKeyColumn = m == null ? 0 : m.getColumn() + 1;
                return;
            }
            JsonNode value = scalar(e);
            place(value, e, false);
            e.getAnchor().ifPresent(a -> anchors.put(a, value));
        }

        private void onAlias(AliasEvent e) {
            JsonNode target = anchors.get(e.getAlias());
            if (target == null) {
                fail(Code.Y100, e, "unknown alias *" + e.getAlias().getValue());
                return;
            }
            if (target.isContainer() && ++aliases > limits.maxAliases()) {
                fail(Code.Y102, e, "more than " + limits.maxAliases() + " aliases to collections; alias expansion is bounded");
                return;
            }
            if (!countNodes(e, countTree(target))) return;
            if (isKeyPosition()) {
                fail(Code.Y109, e, "a mapping key must be a plain name, not an alias");
                return;
            }
            place(target.deepCopy(), e, true);
        }

        private long countTree(JsonNode n) {
            long c = 1;
            for (JsonNode child : n.values()) c += countTree(child);
            return c;
        }

        private boolean countNodes(Event e, long n) {
            nodes += n;
            if (nodes > limits.maxNodes()) {
                fail(Code.Y102, e, "the document expands to more than " + limits.maxNodes() + " nodes");
                return false;
            }
            return true;
        }

        private boolean checkTag(Event e, Optional<String> tag) {
            if (tag.isPresent() && !CORE_TAGS.contains(tag.get()) && !tag.get().equals("!")) {
                fail(Code.Y106, e, "tag '" + tag.get() + "' is not allowed; only YAML 1.2 core tags are");
                return false;
            }
            return true;
        }

        private boolean isKeyPosition() {
            Frame f = stack.peek();
            return f != null && f.node.isObject() && f.pendingKey == null;
        }

        /** Attaches a value to its parent (or as root) and records its position (an alias's copy is one record). */
        private void place(JsonNode value, Event e, boolean alias) {
            Mark m = e.getStartMark().orElse(null);
            int line = m == null ? 0 : m.getLine() + 1;
            int column = m == null ? 0 : m.getColumn() + 1;
            Frame f = stack.peek();
            if (f != null && (f.detached || f.discardNext)) { // the value of a duplicate key, or inside one: not in the tree
                if (f.node instanceof ObjectNode obj && !f.discardNext) obj.set(f.pendingKey, value);
                else if (f.node instanceof ArrayNode arr) arr.add(value);
                f.pendingKey = null;
                f.discardNext = false;
                return;
            }
            if (f == null) {
                root = value;
                positions.add(line, column, 0, 0, alias);
            } else if (f.node instanceof ObjectNode obj) {
                obj.set(f.pendingKey, value);
                positions.add(line, column, f.pendingKeyLine, f.pendingKeyColumn, alias);
                f.pendingKey = null;
            } else {
                ((ArrayNode) f.node).add(value);
                positions.add(line, column, 0, 0, alias);
            }
        }

        /** The JSON pointer of the innermost open collection, from the keys and indices of the open frames. */
        private String pointer() {
            String p = "";
            for (Iterator<Frame> it = stack.descendingIterator(); it.hasNext(); ) {
                Frame f = it.next();
                if (f.key != null) p = SourceTree.child(p, f.key);
                else if (f.index >= 0) p = p + "/" + f.index;
            }
            return p;
        }

        private JsonNode scalar(ScalarEvent e) {
            String v = e.getValue();
            String tag = e.getTag().filter(t -> !t.equals("!")).orElse(null);
            if (tag == null) {
                tag = e.isPlain() ? resolver.resolve(v, e.getImplicit().canOmitTagInPlainScalar()).getValue()
                        : Tag.STR.getValue();
            }
            if (tag.equals(Tag.INT.getValue())) {
                BigInteger i = parseInt(v);
                if (i != null) return i.bitLength() < 32 ? JSON.numberNode(i.intValue())
                        : i.bitLength() < 64 ? JSON.numberNode(i.longValue()) : JSON.numberNode(i);
            } else if (tag.equals(Tag.FLOAT.getValue())) {
                Double d = parseFloat(v);
                if (d != null) return JSON.numberNode(d);
            } else if (tag.equals(Tag.BOOL.getValue())) {
                String l = v.toLowerCase(java.util.Locale.ROOT);
                if (l.equals("true") || l.equals("false")) return JSON.booleanNode(l.equals("true"));
            } else if (tag.equals(Tag.NULL.getValue())) {
                return JSON.nullNode();
            }
            return JSON.stringNode(v);
        }
    }

    static BigInteger parseInt(String v) {
        if (DECIMAL.matcher(v).matches()) return new BigInteger(v.startsWith("+") ? v.substring(1) : v);
        if (v.matches("0o[0-7]+")) return new BigInteger(v.substring(2), 8);
        if (v.matches("0x[0-9a-fA-F]+")) return new BigInteger(v.substring(2), 16);
        return null;
    }

    static Double parseFloat(String v) {
        if (FLOAT.matcher(v).matches()) return Double.valueOf(v);
        String l = v.toLowerCase(java.util.Locale.ROOT);
        if (l.equals(".inf") || l.equals("+.inf")) return Double.POSITIVE_INFINITY;
        if (l.equals("-.inf")) return Double.NEGATIVE_INFINITY;
        if (l.equals(".nan")) return Double.NaN;
        return null;
    }

    private static final class Frame {
        final JsonNode node;
        final String key;   // this collection's key in its parent mapping, or null
        final int index;    // its index in its parent sequence, or -1
        final Anchor anchor;
        String pendingKey;
        boolean discardNext; // the pending key is a duplicate: its value is read and dropped
        boolean detached;    // this collection is (inside) a dropped value: nothing in it is recorded
        int pendingKeyLine;
        int pendingKeyColumn;

        Frame(JsonNode node, String key, int index, Anchor anchor) {
            this.node = node;
            this.key = key;
            this.index = index;
            this.anchor = anchor;
        }
    }
}

package dev.meshc.load;

import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import com.networknt.schema.path.NodePath;
import dev.meshc.diag.Code;
import dev.meshc.diag.Diagnostics;
import dev.meshc.diag.SourceSpan;
import dev.meshc.diag.Suggest;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import tools.jackson.databind.JsonNode;

/** The structural layer of validation: {@code schemas/inventory.schema.json}, errors mapped to YAML positions. */
public final class InventorySchema {
    public static final String RESOURCE = "/meshc/schemas/inventory.schema.json";

    private static volatile Schema schema;

    private InventorySchema() {
    }

    /** The schema text as shipped (what {@code meshc schema} prints). */
    public static String text() {
        try (InputStream in = InventorySchema.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IllegalStateException("schema resource missing from the build: " + RESOURCE);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Starts building the schema's validators on another thread: about a quarter of a second on a
     * cold JVM, spent while the YAML is parsed instead of after it.
     */
    public static void prepareAsync() {
        if (schema == null) java.util.concurrent.CompletableFuture.runAsync(InventorySchema::schema);
    }

    private static Schema schema() {
        Schema s = schema;
        if (s == null) {
            synchronized (InventorySchema.class) {
                if (schema == null) {
                    schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
                            .getSchema(text(), com.networknt.schema.InputFormat.JSON);
                }
                s = schema;
            }
        }
        return s;
    }

    /** Adds one diagnostic per schema error; returns true when the tree conforms. */
    public static boolean check(SourceTree tree, Diagnostics diags) {
        return failures(tree, diags).isEmpty();
    }

    /**
     * Adds one diagnostic per schema error and returns the JSON pointer of each failing value (for an
     * unknown key, the key's entry), so that the entries that failed can be left out and the rest checked
     * further ({@link SchemaRecovery}). Empty when the tree conforms.
     */
    public static List<String> failures(SourceTree tree, Diagnostics diags) {
        List<Error> errors = schema().validate(tree.root());
        List<String> failing = new java.util.ArrayList<>();
        for (Error e : errors) {
            String pointer = pointer(e.getInstanceLocation());
            String keyword = e.getKeyword() == null ? "" : e.getKeyword();
            Code code = codeFor(keyword);
            SourceSpan at;
            String message;
            String where = pointer.isEmpty() ? "the top level" : "'" + dotted(pointer) + "'";
            switch (keyword) {
                case "additionalProperties", "unevaluatedProperties" -> {
                    String key = e.getProperty();
                    at = tree.keyAt(SourceTree.child(pointer, key));
                    message = "unknown key '" + key + "' in " + where + new Suggest(knownKeys(e)).among(key);
                    failing.add(SourceTree.child(pointer, key));
                }
                case "required" -> {
                    at = tree.keyAt(pointer);
                    message = where + " is missing the required key '" + e.getProperty() + "'";
                    failing.add(pointer);
                }
                case "pattern" -> {
                    at = tree.valueAt(pointer);
                    message = where + " " + describePattern(String.valueOf(e.getSchemaNode()));
                    failing.add(pointer);
                }
                default -> {
                    at = tree.valueAt(pointer);
                    // networknt calls a non-finite number (.inf, .nan) "unknown"
                    message = where + ": " + stripPath(e.getMessage()).replace("unknown found", "a non-finite number found");
                    JsonNode value = tree.root().at(pointer);
                    if (keyword.equals("type") && value.isString()) message += SyntaxHints.noSpaceInValue(value.asString());
                    failing.add(pointer);
                }
            }
            diags.error(code, at, message);
        }
        floats(tree, tree.root(), "", failing, diags);
        return failing;
    }

    /**
     * Every number in the format is an integer, and JSON Schema counts 5432.0 as one: a value the YAML
     * wrote as a float ({@code 5432.0}, {@code 1e3}) is refused here, unless the schema already failed there.
     */
    private static void floats(SourceTree tree, JsonNode node, String pointer, List<String> failing, Diagnostics diags) {
        if (node.isFloatingPointNumber() && !failing.contains(pointer)) {
            double d = node.doubleValue();
            if (Double.isFinite(d) && d == Math.rint(d)) {
                String where = pointer.isEmpty() ? "the top level" : "'" + dotted(pointer) + "'";
                diags.error(Code.S202, tree.valueAt(pointer), where + ": a floating-point number found, integer expected"
                        + (Math.abs(d) < 1e15 ? "; write " + (long) d : ""));
                failing.add(pointer);
            }
        } else if (node.isObject()) {
            for (var e : node.properties()) floats(tree, e.getValue(), SourceTree.child(pointer, e.getKey()), failing, diags);
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) floats(tree, node.get(i), pointer + "/" + i, failing, diags);
        }
    }

    private static volatile JsonNode schemaJson;

    /** The keys the schema object that refused an unknown key allows (its "properties"), for a "did you mean". */
    private static java.util.Collection<String> knownKeys(Error e) {
        if (schemaJson == null) schemaJson = new tools.jackson.databind.ObjectMapper().readTree(text());
        String at = pointer(e.getSchemaLocation().getFragment());
        int slash = at.lastIndexOf('/');
        if (slash < 0) return List.of();
        JsonNode props = schemaJson.at(at.substring(0, slash)).path("properties");
        List<String> keys = new java.util.ArrayList<>();
        for (String k : props.propertyNames()) keys.add(k);
        return keys;
    }

    /** What a pattern of the schema means, in words; the regex itself helps nobody. */
    static String describePattern(String pattern) {
        if (pattern.contains("/(3[0-2]")) return "must be an IPv4 network in CIDR form, like 192.168.0.0/16";
        if (pattern.contains("25[0-5]")) return "must be an IPv4 address, like 192.168.16.32";
        if (pattern.contains("[^:]+:[^:]+")) return "must name a target as '<service>:<endpoint>'";
        if (pattern.contains("{1,15}")) return "must be a Linux interface name (1-15 of A-Z a-z 0-9 _ . -)";
        if (pattern.contains("{0,31}")) return "must be a URL scheme (a lowercase letter, then a-z 0-9 + . -)";
        return "does not match the pattern " + pattern;
    }

    static Code codeFor(String keyword) {
        return switch (keyword) {
            case "additionalProperties", "unevaluatedProperties" -> Code.S200;
            case "required" -> Code.S201;
            case "type" -> Code.S202;
            case "pattern", "format", "minLength", "maxLength" -> Code.S203;
            case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum" -> Code.S204;
            case "enum", "const" -> Code.S205;
            default -> Code.S203;
        };
    }

    static String pointer(NodePath path) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < path.getNameCount(); i++) {
            Object el = path.getElement(i);
            sb.append('/').append(String.valueOf(el).replace("~", "~0").replace("/", "~1"));
        }
        return sb.toString();
    }

    private static String dotted(String pointer) {
        return pointer.substring(1).replace("/", ".").replace("~1", "/").replace("~0", "~");
    }

    /** networknt prefixes messages with the instance path, which the diagnostic already shows. */
    private static String stripPath(String message) {
        int i = message.indexOf(": ");
        return i > 0 && message.startsWith("/") || i > 0 && message.startsWith("$") ? message.substring(i + 2) : message;
    }
}

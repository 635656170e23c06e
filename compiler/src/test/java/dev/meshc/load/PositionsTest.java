package dev.meshc.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshc.TestSupport;
import dev.meshc.diag.Diagnostics;
import dev.meshc.diag.SourceSpan;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.api.lowlevel.Parse;
import org.snakeyaml.engine.v2.events.AliasEvent;
import org.snakeyaml.engine.v2.events.Event;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

/**
 * Positions are recorded compactly in document order and matched to pointers later; the reference
 * is snakeyaml-engine's own composed node graph, whose every node carries its start mark.
 */
class PositionsTest {

    static Stream<Path> documents() throws IOException {
        Path root = TestSupport.root();
        List<Path> files = new ArrayList<>();
        for (String e : TestSupport.examples()) files.add(TestSupport.example(e));
        try (Stream<Path> s = Files.list(root.resolve("compiler/src/test/resources/cases"))) {
            s.filter(p -> p.toString().endsWith(".yml")).sorted().forEach(files::add);
        }
        return files.stream();
    }

    @ParameterizedTest
    @MethodSource("documents")
    void everyValueAndKeyIsWhereTheParserSawIt(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        Diagnostics diags = new Diagnostics();
        Optional<SourceTree> tree = new YamlReader(InputLimits.DEFAULT).read("f.yml", text.getBytes(StandardCharsets.UTF_8), diags);
        if (tree.isEmpty() || diags.hasErrors() || hasAliases(text)) return; // rejected documents have no tree; aliases: see below
        Node composed = new Compose(settings()).composeString(text).orElseThrow();
        List<String> checked = new ArrayList<>();
        compare(tree.get(), composed, "", null, checked);
        assertFalse(checked.isEmpty());
    }

    private static void compare(SourceTree tree, Node node, String pointer, Node key, List<String> checked) {
        assertEquals(span(node), tree.writtenAt(pointer), "value at '" + pointer + "'");
        assertEquals(span(node), tree.positions().walkTo(pointer, false), "value at '" + pointer + "', walking");
        if (key != null) {
            assertEquals(span(key), tree.keyAt(pointer), "key at '" + pointer + "'");
            assertEquals(span(key), tree.positions().walkTo(pointer, true), "key at '" + pointer + "', walking");
        }
        checked.add(pointer);
        if (node instanceof MappingNode m) {
            for (NodeTuple t : m.getValue()) {
                String k = ((ScalarNode) t.getKeyNode()).getValue();
                compare(tree, t.getValueNode(), SourceTree.child(pointer, k), t.getKeyNode(), checked);
            }
        } else if (node instanceof SequenceNode s) {
            for (int i = 0; i < s.getValue().size(); i++) compare(tree, s.getValue().get(i), pointer + "/" + i, null, checked);
        }
    }

    @Test
    void anAliasIsWhereItWasWrittenAndItsCopyFallsBackToIt() {
        String yaml = "a: &x\n  b: 1\n  c: [2, 3]\nd: *x\ne:\n  - *x\n  - f: 4\n";
        SourceTree t = tree(yaml);
        assertEquals(new SourceSpan("f.yml", 2, 6), t.writtenAt("/a/b"));
        assertEquals(new SourceSpan("f.yml", 3, 6), t.writtenAt("/a/c"));
        assertEquals(new SourceSpan("f.yml", 3, 10), t.writtenAt("/a/c/1"));
        assertEquals(new SourceSpan("f.yml", 4, 4), t.writtenAt("/d"));
        assertEquals(new SourceSpan("f.yml", 4, 1), t.keyAt("/d"));
        assertEquals(null, t.writtenAt("/d/c/1"));
        assertEquals(new SourceSpan("f.yml", 4, 4), t.valueAt("/d/c/1"));
        assertEquals(new SourceSpan("f.yml", 6, 5), t.writtenAt("/e/0"));
        // The records after an alias continue with the next node: the alias's copy took one, not five.
        assertEquals(new SourceSpan("f.yml", 7, 8), t.writtenAt("/e/1/f"));
        assertEquals(new SourceSpan("f.yml", 7, 5), t.keyAt("/e/1/f"));
        SourceTree fresh = tree(yaml);
        assertEquals(null, fresh.positions().walkTo("/d/c/1", false));
        assertEquals(null, fresh.positions().walkTo("/e/2", false));
        assertEquals(null, fresh.positions().walkTo("/a/zz", false));
        assertEquals(null, fresh.positions().walkTo("/a/c/01", false));
        assertEquals(new SourceSpan("f.yml", 7, 8), fresh.positions().walkTo("/e/1/f", false));
    }

    @Test
    void keysNeedingEscapesAreFoundByTheirPointer() {
        String yaml = "\"a/b\": {\"c~d\": 1}\n";
        SourceTree t = tree(yaml);
        assertEquals(new SourceSpan("f.yml", 1, 16), t.writtenAt("/a~1b/c~0d"));
        assertEquals(new SourceSpan("f.yml", 1, 9), t.keyAt("/a~1b/c~0d"));
    }

    @Test
    void aDuplicateKeyNamesWhereTheFirstOneIs() {
        String yaml = "vms:\n  x: [1]\n  list:\n    - {a: 1}\n    - {b: 2, b: 3}\n";
        Diagnostics d = new Diagnostics();
        SourceTree t = new YamlReader(InputLimits.DEFAULT).read("f.yml", yaml.getBytes(StandardCharsets.UTF_8), d).orElseThrow();
        assertEquals("f.yml:5:14: error[Y101]: duplicate key 'b' (first at 5:8); the second is ignored", d.sorted().get(0).toString());
        assertEquals(2, t.root().at("/vms/list/1/b").asInt(), "the first value stands");
        assertEquals(new SourceSpan("f.yml", 5, 11), t.valueAt("/vms/list/1/b"), "positions stay those of the kept value");
    }

    private static SourceTree tree(String yaml) {
        return new YamlReader(InputLimits.DEFAULT).read("f.yml", yaml.getBytes(StandardCharsets.UTF_8), new Diagnostics()).orElseThrow();
    }

    private static boolean hasAliases(String text) {
        for (Event e : new Parse(settings()).parseString(text)) if (e instanceof AliasEvent) return true;
        return false;
    }

    private static LoadSettings settings() {
        return LoadSettings.builder().setUseMarks(true).setCodePointLimit(Integer.MAX_VALUE).build();
    }

    private static SourceSpan span(Node n) {
        var m = n.getStartMark().orElseThrow();
        return new SourceSpan("f.yml", m.getLine() + 1, m.getColumn() + 1);
    }
}

package dev.meshc.golden;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshc.TestSupport;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TimeZone;
import java.util.TreeSet;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Dump;
import org.snakeyaml.engine.v2.api.DumpSettings;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.common.FlowStyle;
import org.snakeyaml.engine.v2.schema.CoreSchema;

/** DESIGN §6: the same inventory and lock give byte-identical output, whatever the order, locale or zone. */
class DeterminismTest {

    static List<String> examples() {
        return TestSupport.examples();
    }

    static void assertSameTree(Map<String, byte[]> a, Map<String, byte[]> b) {
        assertEquals(new TreeSet<>(a.keySet()), new TreeSet<>(b.keySet()));
        a.forEach((p, bytes) -> assertArrayEquals(bytes, b.get(p), p));
    }

    @ParameterizedTest
    @MethodSource("examples")
    void twoRunsAreByteIdentical(String example) {
        assertSameTree(TestSupport.compileExample(example), TestSupport.compileExample(example));
    }

    @ParameterizedTest
    @MethodSource("examples")
    void shufflingEveryMapChangesNothing(String example) {
        String yaml = TestSupport.read(TestSupport.example(example));
        String lock = TestSupport.read(TestSupport.example(example).resolveSibling("meshc.lock"));
        Map<String, byte[]> reference = TestSupport.compile("inventory.yml", yaml, lock);
        Object tree = new Load(LoadSettings.builder().setSchema(new CoreSchema()).build()).loadFromString(yaml);
        Dump dump = new Dump(DumpSettings.builder().setDefaultFlowStyle(FlowStyle.BLOCK).build());
        for (long seed = 1; seed <= 5; seed++) {
            Object shuffled = shuffle(tree, new Random(seed));
            assertEveryMapReordered(tree, shuffled, "/");
            assertSameTree(reference, TestSupport.compile("inventory.yml", dump.dumpToString(shuffled), lock));
        }
    }

    /** Every map of two or more keys has its keys in another order (else the test above would prove nothing). */
    static void assertEveryMapReordered(Object original, Object shuffled, String at) {
        if (original instanceof Map<?, ?> m) {
            Map<?, ?> s = (Map<?, ?>) shuffled;
            assertEquals(m.keySet(), s.keySet(), at);
            if (m.size() >= 2) {
                assertTrue(!new ArrayList<>(m.keySet()).equals(new ArrayList<>(s.keySet())), "not reordered: " + at + " " + m.keySet());
            }
            m.forEach((k, v) -> assertEveryMapReordered(v, s.get(k), at + k + "/"));
        } else if (original instanceof List<?> l) {
            for (int i = 0; i < l.size(); i++) assertEveryMapReordered(l.get(i), ((List<?>) shuffled).get(i), at + i + "/");
        }
    }

    /** Every map's entries in a new random order, never the one they had (a shuffle may draw the identity). */
    @SuppressWarnings("unchecked")
    static Object shuffle(Object node, Random rnd) {
        if (node instanceof Map<?, ?> m) {
            List<Map.Entry<Object, Object>> entries = new ArrayList<>(((Map<Object, Object>) m).entrySet());
            List<Map.Entry<Object, Object>> before = List.copyOf(entries);
            Collections.shuffle(entries, rnd);
            if (entries.size() >= 2 && entries.equals(before)) Collections.rotate(entries, 1);
            Map<Object, Object> out = new LinkedHashMap<>();
            for (var e : entries) out.put(e.getKey(), shuffle(e.getValue(), rnd));
            return out;
        }
        if (node instanceof List<?> l) {
            List<Object> out = new ArrayList<>();
            for (Object o : l) out.add(shuffle(o, rnd));
            return out;
        }
        return node;
    }

    @Test
    void turkishLocaleAndAFarTimeZoneChangeNothing() {
        Map<String, byte[]> reference = TestSupport.compileExample("fleet");
        Locale locale = Locale.getDefault();
        TimeZone zone = TimeZone.getDefault();
        try {
            Locale.setDefault(new Locale("tr", "TR"));
            TimeZone.setDefault(TimeZone.getTimeZone("Pacific/Kiritimati"));
            assertSameTree(reference, TestSupport.compileExample("fleet"));
            Locale.setDefault(Locale.forLanguageTag("ar-EG-u-nu-arab"));
            assertSameTree(reference, TestSupport.compileExample("fleet"));
        } finally {
            Locale.setDefault(locale);
            TimeZone.setDefault(zone);
        }
    }

    /**
     * Moving db-3 from vm3 to vm1 may change only: db-3's own files and veth network, the
     * container batch files of both VMs, the rulesets that balance or allow db traffic, and the
     * manifest. No tunnel, route or neighbor file, no other container's files, and no VIP.
     */
    @Test
    void movingOneContainerChangesOnlyWhatMust() {
        String yaml = TestSupport.read(TestSupport.example("fleet"));
        String lock = TestSupport.read(TestSupport.example("fleet").resolveSibling("meshc.lock"));
        Map<String, byte[]> before = TestSupport.compile("inventory.yml", yaml, lock);
        String moved = yaml.replace("db-3: {service: db, vm: vm3}", "db-3: {service: db, vm: vm1}");
        assertTrue(!moved.equals(yaml));
        Map<String, byte[]> after = TestSupport.compile("inventory.yml", moved, lock);

        Set<String> changed = new TreeSet<>();
        for (String p : new TreeSet<>(before.keySet())) if (!after.containsKey(p) || !java.util.Arrays.equals(before.get(p), after.get(p))) changed.add(p);
        for (String p : after.keySet()) if (!before.containsKey(p)) changed.add(p);

        for (String p : changed) {
            boolean allowed = p.equals("manifest.json")
                    || p.contains("/containers/db-3/")
                    || p.matches("hosts/vm[13]/systemd-network/70-meshc-mc\\d+\\.network")
                    || p.matches("hosts/vm[13]/ip/containers\\.batch")
                    || p.endsWith("/nftables/meshc.nft") || p.endsWith("/iptables/rules.v4") || p.endsWith("/conntrack/flows");
            assertTrue(allowed, "changed but should not have: " + p + " (all changed: " + changed + ")");
        }
        assertTrue(changed.contains("hosts/vm1/containers/db-3/network.json"));
        assertTrue(changed.contains("hosts/vm3/containers/db-3/network.json"));
        for (String p : before.keySet()) {
            if (p.endsWith("relationships.json") && after.containsKey(p)) {
                assertArrayEquals(before.get(p), after.get(p), "VIPs must not change: " + p);
            }
        }
    }
}

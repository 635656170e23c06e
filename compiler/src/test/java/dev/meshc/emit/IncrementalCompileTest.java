package dev.meshc.emit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshc.TestSupport;
import dev.meshc.bench.FleetGenerator;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.snakeyaml.engine.v2.api.Dump;
import org.snakeyaml.engine.v2.api.DumpSettings;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.common.FlowStyle;
import org.snakeyaml.engine.v2.schema.CoreSchema;

/**
 * The incremental path is correct by test: a random sequence of edits of every kind a platform makes
 * all day (a container added, removed or moved, a replica added, a relationship added, a VM added or
 * removed, the MTU or the encapsulation changed), each compiled by {@code meshc compile} into the same
 * OUT, which after every step must hold byte for byte what a fresh full compile of that inventory
 * writes, and whose compile must have written exactly the files whose bytes changed.
 * <p>
 * Starts from the benchmark fleet S (10 VMs, 200 containers); {@code -Dmeshc.incremental.fleet=M}
 * runs the same on M (200 VMs, 10,000 containers; about half an hour on 2 cores).
 */
class IncrementalCompileTest {
    static final int STEPS = Integer.getInteger("meshc.incremental.steps", 200);
    static final FleetGenerator.Size FLEET = FleetGenerator.Size.valueOf(System.getProperty("meshc.incremental.fleet", "S"));
    private static final Pattern COUNTS = Pattern.compile(": (\\d+) written, (\\d+) unchanged, (\\d+) removed");

    enum Edit { ADD_CONTAINER, REMOVE_CONTAINER, MOVE_CONTAINER, ADD_REPLICA, ADD_RELATIONSHIP, ADD_VM, REMOVE_VM, MTU, ENCAPSULATION, NOTHING }

    @Test
    void everyStepOfARandomEditSequenceEndsAsAFreshFullCompile(@TempDir Path dir) throws Exception {
        StringWriter w = new StringWriter();
        FleetGenerator.write(FLEET, w);
        @SuppressWarnings("unchecked")
        Map<String, Object> inv = (Map<String, Object>) new Load(LoadSettings.builder().setSchema(new CoreSchema()).build()).loadFromString(w.toString());
        Path yaml = dir.resolve("inventory.yml"), lock = dir.resolve("meshc.lock"), out = dir.resolve("out");
        Random rnd = new Random(20261124);
        Map<String, byte[]> before = Map.of();
        Map<Edit, Integer> done = new TreeMap<>();
        int serial = 0;
        for (int step = 0; step <= STEPS; step++) {
            Edit e = step == 0 ? Edit.NOTHING : Edit.values()[rnd.nextInt(Edit.values().length)];
            String what = step == 0 ? "first compile" : edit(inv, e, rnd, ++serial);
            done.merge(e, 1, Integer::sum);
            String text = new Dump(DumpSettings.builder().setDefaultFlowStyle(FlowStyle.BLOCK).build()).dumpToString(inv);
            Files.writeString(yaml, text);
            String lockText = Files.exists(lock) ? Files.readString(lock) : null;
            Map<String, byte[]> fresh = TestSupport.compile(yaml.toString(), text, lockText);

            var r = TestSupport.meshc("compile", yaml.toString(), "-o", out.toString(), "--lock", lock.toString());
            assertEquals(0, r.code(), "step " + step + " (" + what + "): " + r.err());
            Map<String, byte[]> onDisk = tree(out);
            String where = "step " + step + " (" + what + ")";
            assertEquals(new TreeSet<>(fresh.keySet()), new TreeSet<>(onDisk.keySet()), where + ": the set of files");
            for (var f : fresh.entrySet()) assertTrue(Arrays.equals(f.getValue(), onDisk.get(f.getKey())), where + ": " + f.getKey());

            int changed = 0;
            for (var f : fresh.entrySet()) if (!Arrays.equals(f.getValue(), before.get(f.getKey()))) changed++;
            int removed = 0;
            for (String p : before.keySet()) if (!fresh.containsKey(p)) removed++;
            Matcher m = COUNTS.matcher(r.err());
            assertTrue(m.find(), r.err());
            assertEquals(changed, Integer.parseInt(m.group(1)), where + ": written = the files whose bytes changed");
            assertEquals(removed, Integer.parseInt(m.group(3)), where + ": removed");
            before = fresh;
        }
        for (Edit e : Edit.values()) assertTrue(done.getOrDefault(e, 0) > 0, "never tried " + e + ": " + done);
    }

    /**
     * A compile of the very bytes OUT was compiled from reads no YAML (OUT/.meshc-hosts keeps their fingerprint) but
     * prints what a compile that reads them prints: the same warnings, nothing written; plan --against agrees. A lock
     * edited by hand, or a changed inventory, is compiled as usual.
     */
    @Test
    void unchangedInputsChangeNothingAndPrintTheSameWarnings(@TempDir Path dir) throws Exception {
        Path yaml = dir.resolve("inventory.yml"), lock = dir.resolve("meshc.lock"), out = dir.resolve("out");
        Files.writeString(yaml, Files.readString(TestSupport.root().resolve("compiler/src/test/resources/cases/R410.yml")));
        var first = TestSupport.meshc("compile", yaml.toString(), "-o", out.toString());
        assertEquals(0, first.code(), first.err());
        var full = TestSupport.meshc("compile", yaml.toString(), "-o", out.toString(), "--full");
        var again = TestSupport.meshc("compile", yaml.toString(), "-o", out.toString());
        assertTrue(full.err().contains("warning[R410]") && full.err().contains(": 0 written, "), full.err());
        assertEquals(full.err(), again.err(), "the warnings and counts of a compile that reads the inventory");
        assertEquals(full.code(), again.code());
        var json = TestSupport.meshc("compile", yaml.toString(), "-o", out.toString(), "--format", "json");
        var jsonFull = TestSupport.meshc("compile", yaml.toString(), "-o", out.toString(), "--format", "json", "--full");
        assertEquals(jsonFull.out() + jsonFull.err(), json.out() + json.err());
        // The same bytes under other paths: the output does not depend on them, the warnings name them.
        Path copy = dir.resolve("copy.yml"), copyLock = dir.resolve("copy.lock");
        Files.copy(yaml, copy);
        Files.copy(lock, copyLock);
        var elsewhere = TestSupport.meshc("compile", copy.toString(), "-o", out.toString(), "--lock", copyLock.toString());
        var elsewhereFull = TestSupport.meshc("compile", copy.toString(), "-o", out.toString(), "--lock", copyLock.toString(), "--full");
        assertTrue(elsewhere.err().contains(copy + ":") && !elsewhere.err().contains(yaml + ":"), elsewhere.err());
        assertEquals(elsewhereFull.err(), elsewhere.err());
        var plan = TestSupport.meshc("plan", yaml.toString(), "--against", out.toString(), "--detailed-exitcode");
        assertEquals(0, plan.code(), plan.err());
        assertTrue(plan.out().contains("No changes") && plan.err().contains("warning[R410]"), plan.out() + plan.err());

        // The lock edited by hand (another index for db-1): not the bytes OUT was compiled from, so read and compiled.
        Files.writeString(lock, Files.readString(lock).replace("db-1 vm-a 2", "db-1 vm-a 7"));
        var edited = TestSupport.meshc("compile", yaml.toString(), "-o", out.toString());
        assertEquals(0, edited.code(), edited.err());
        assertTrue(!edited.err().contains(": 0 written, "), edited.err());
        Map<String, byte[]> fresh = TestSupport.compile(yaml.toString(), Files.readString(yaml), Files.readString(lock));
        Map<String, byte[]> onDisk = tree(out);
        assertEquals(fresh.keySet(), onDisk.keySet());
        for (var f : fresh.entrySet()) assertTrue(Arrays.equals(f.getValue(), onDisk.get(f.getKey())), f.getKey());
    }

    /** Every regular file under OUT except meshc's bookkeeping. */
    static Map<String, byte[]> tree(Path out) throws IOException {
        Map<String, byte[]> files = new TreeMap<>();
        try (Stream<Path> s = Files.walk(out)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                String rel = out.relativize(p).toString();
                if (!OutputTree.isBookkeeping(rel)) files.put(rel, Files.readAllBytes(p));
            }
        }
        return files;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Map<String, Object> m, String key) {
        return (Map<String, Object>) m.computeIfAbsent(key, k -> new LinkedHashMap<>());
    }

    static <T> T pick(List<T> l, Random rnd) {
        return l.get(rnd.nextInt(l.size()));
    }

    /** Applies one edit that keeps the inventory valid; returns what it did, for failure messages. */
    @SuppressWarnings("unchecked")
    static String edit(Map<String, Object> inv, Edit e, Random rnd, int serial) {
        Map<String, Object> vms = map(inv, "vms"), services = map(inv, "services"), containers = map(inv, "containers"), net = map(inv, "network");
        List<String> vmNames = new ArrayList<>(vms.keySet()), serviceNames = new ArrayList<>(services.keySet());
        List<String> containerNames = new ArrayList<>(containers.keySet());
        switch (e) {
            case ADD_CONTAINER -> {
                String name = "new-" + serial, svc = pick(serviceNames, rnd), vm = pick(vmNames, rnd);
                containers.put(name, new LinkedHashMap<>(Map.of("service", svc, "vm", vm)));
                return "add " + name + " (" + svc + ") on " + vm;
            }
            case ADD_REPLICA -> {
                String of = pick(containerNames, rnd);
                Map<String, Object> c = (Map<String, Object>) containers.get(of);
                String name = c.get("service") + "-r" + serial, vm = pick(vmNames, rnd);
                containers.put(name, new LinkedHashMap<>(Map.of("service", c.get("service"), "vm", vm)));
                return "replica " + name + " of " + of + " on " + vm;
            }
            case REMOVE_CONTAINER -> {
                if (containerNames.size() < 20) return edit(inv, Edit.ADD_CONTAINER, rnd, serial);
                String name = pick(containerNames, rnd);
                containers.remove(name);
                return "remove " + name;
            }
            case MOVE_CONTAINER -> {
                String name = pick(containerNames, rnd), vm = pick(vmNames, rnd);
                ((Map<String, Object>) containers.get(name)).put("vm", vm);
                return "move " + name + " to " + vm;
            }
            case ADD_RELATIONSHIP -> {
                String from = pick(serviceNames, rnd), to = pick(serviceNames, rnd);
                if (from.equals(to)) return "nothing (a relationship to itself is R409)";
                Map<String, Object> rels = map((Map<String, Object>) services.get(from), "relationships");
                if (rels.size() >= 4) return "nothing (enough relationships)";
                rels.put("rel-" + serial, to + ":api");
                return "relationship rel-" + serial + " " + from + " -> " + to;
            }
            case ADD_VM -> {
                String name = "vm-new-" + serial;
                // 10.0.100.1 on: beyond the generator's addresses for S and M (10.0.0.1 to 10.0.0.200)
                vms.put(name, new LinkedHashMap<>(Map.of("underlay", "10.0." + (100 + serial / 250) + "." + (1 + serial % 250))));
                return "add " + name;
            }
            case REMOVE_VM -> {
                if (vmNames.size() < 3) return edit(inv, Edit.ADD_VM, rnd, serial);
                String vm = pick(vmNames, rnd);
                vms.remove(vm);
                vmNames.remove(vm);
                int moved = 0;
                for (Object c : containers.values()) {
                    Map<String, Object> cm = (Map<String, Object>) c;
                    if (vm.equals(cm.get("vm"))) {
                        cm.put("vm", pick(vmNames, rnd));
                        moved++;
                    }
                }
                return "remove " + vm + " (its " + moved + " containers moved)";
            }
            case MTU -> {
                int mtu = pick(List.of(1400, 1450, 1500, 9000), rnd);
                net.put("mtu", mtu);
                return "mtu " + mtu;
            }
            case ENCAPSULATION -> {
                boolean gre = "gre".equals(net.get("encapsulation"));
                net.put("encapsulation", gre ? "vxlan" : "gre");
                return "encapsulation " + (gre ? "vxlan" : "gre");
            }
            default -> {
                return "nothing";
            }
        }
    }
}

package dev.meshc.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshc.TestSupport;
import dev.meshc.plan.Binding;
import dev.meshc.plan.ContainerPlan;
import dev.meshc.plan.Frontend;
import dev.meshc.plan.Plan;
import dev.meshc.trace.Network;
import dev.meshc.trace.Tracer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * verify's matrix is what real packets do. For the examples and 50 random inventories (the fuzz generator,
 * 2-4 VMs, VXLAN: this kernel has no GRE), each compiled (compile verifies what it wrote), verified, and
 * brought up in namespaces ({@link Fleet}, bin/meshc-apply with ip -batch routing): every flow from every
 * container to every other container, every VIP and an outside address, on every endpoint's port and
 * protocol and one port nothing serves, is probed with real packets (every container serves every such port,
 * TCP and UDP, so a flow the firewall lets through is answered) and traced from the files, for nft and for
 * iptables. A flow trace delivers must be answered, only by backends it reaches; a flow it refuses must not
 * be. The probes of one container run at once in its netcheck.py agent, and all agents at once.
 */
@Tag("kernel")
class VerifyAgreesWithPacketsTest {
    static final int RANDOM = Integer.getInteger("meshc.verify.random", 50);
    static final boolean TIMES = Boolean.getBoolean("meshc.verify.times");
    static final Path SCRIPT = TestSupport.root().resolve("compiler/src/test/resources/e2e/netcheck.py");

    record Case(String name, String yaml, String lock) {
    }

    /** Inventories as VXLAN (GRE inventories get {@code encapsulation: vxlan}: this kernel has no ip_gre). */
    static String vxlan(String yaml) {
        if (yaml.contains("encapsulation: gre")) return yaml.replace("encapsulation: gre", "encapsulation: vxlan");
        if (yaml.contains("encapsulation: vxlan")) return yaml;
        return yaml.replaceFirst("(?m)^network:\\n", "network:\n  encapsulation: vxlan\n");
    }

    static List<Case> cases() {
        List<Case> out = new ArrayList<>();
        for (String e : TestSupport.examples()) {
            Path inv = TestSupport.example(e);
            Path lock = inv.resolveSibling("meshc.lock");
            String yaml = vxlan(TestSupport.read(inv));
            // A different encapsulation moves nothing the lock fixes, but the lock of a GRE example is kept only if it still applies.
            out.add(new Case(e, yaml, Files.exists(lock) ? TestSupport.read(lock) : null));
        }
        for (long seed = 1; out.size() < TestSupport.examples().size() + RANDOM; seed++) {
            String yaml = vxlan(dev.meshc.fuzz.InventoryGenerator.generate(seed, 4, 8));
            Frontend.Result r = TestSupport.frontend("random-" + seed, yaml, null);
            if (!r.ok()) continue;
            Plan p = r.plan().orElseThrow();
            if (p.vms().size() < 2 || p.containers().size() < 2) continue;
            out.add(new Case("random-" + seed, yaml, null));
        }
        return out;
    }

    @Test
    void verdictsOfTheFilesEqualPacketsForExamplesAndRandomInventories(@TempDir Path dir) throws Exception {
        Kernel.require();
        Kernel.requireLinkKind("vxlan");
        List<String> mismatches = new ArrayList<>();
        int[] totals = new int[2]; // delivered, refused
        int inventories = 0;
        for (Case c : cases()) {
            run(c, dir.resolve(c.name()), mismatches, totals);
            inventories++;
            if (mismatches.size() > 20) break;
        }
        System.err.println("VerifyAgreesWithPacketsTest: " + inventories + " inventories, " + totals[0] + " flows delivered and " + totals[1]
                + " refused, each for nft and iptables");
        assertEquals(List.of(), mismatches);
        assertEquals(TestSupport.examples().size() + RANDOM, inventories);
        assertTrue(totals[0] > 200 && totals[1] > 1000, "both kinds of flows: " + totals[0] + " delivered, " + totals[1] + " refused");
    }

    /** One probed flow: from a container to an address, port and protocol. */
    record Probe(String from, String address, int port, String proto) {
    }

    private void run(Case c, Path work, List<String> mismatches, int[] totals) throws Exception {
        long t0 = System.nanoTime();
        Files.createDirectories(work.resolve("logs"));
        Path inv = work.resolve("inventory.yml");
        Files.writeString(inv, c.yaml());
        if (c.lock() != null) Files.writeString(work.resolve("meshc.lock"), c.lock());
        Path out = work.resolve("out");
        TestSupport.Run compiled = TestSupport.meshc("compile", inv.toString(), "-o", out.toString(), "-q");
        assertEquals(0, compiled.code(), c.name() + ": compile (which verifies what it wrote): " + compiled.err());
        Frontend.Result r = TestSupport.frontend(inv.toString(), c.yaml(), Files.exists(work.resolve("meshc.lock")) ? Files.readString(work.resolve("meshc.lock")) : null);
        Plan plan = r.plan().orElseThrow();
        Network net = Network.read(out); // compile verified every host it wrote (fewer than SelfCheck's 16): exit 0 says equal to intent
        // Every port and protocol of an endpoint, and one port nothing serves.
        Set<String> ports = new TreeSet<>();
        for (var s : plan.inventory().services().values()) for (var e : s.endpoints().values()) ports.add(e.protocol().id() + " " + e.port());
        ports.add("tcp 9");
        Set<Integer> listen = new TreeSet<>();
        for (String p : ports) listen.add(Integer.parseInt(p.substring(4)));
        Set<Integer> vips = new TreeSet<>();
        for (var bs : plan.bindings().values()) for (Binding b : bs.values()) vips.add(b.vip());
        Map<String, List<Probe>> probes = new TreeMap<>();
        for (ContainerPlan from : plan.containers().values()) {
            List<Probe> ps = probes.computeIfAbsent(from.name(), k -> new ArrayList<>());
            List<Integer> to = new ArrayList<>();
            for (ContainerPlan d : plan.containers().values()) if (d != from) to.add(d.address());
            to.addAll(vips);
            for (int a : to) for (String p : ports) ps.add(new Probe(from.name(), ip(a), Integer.parseInt(p.substring(4)), p.substring(0, 3)));
            ps.add(new Probe(from.name(), "192.0.2.1", 9, "tcp"));
        }
        if (TIMES) System.err.printf("%s: compiled and verified %.1f s%n", c.name(), (System.nanoTime() - t0) / 1e9);
        try (Fleet fleet = new Fleet(out, SCRIPT, work.resolve("logs"))) {
            Matcher u = Pattern.compile("(?m)^\\s+underlay:\\s+[0-9.]+/(\\d+)").matcher(c.yaml());
            assertTrue(u.find(), c.name());
            fleet.underlayPrefix = Integer.parseInt(u.group(1));
            fleet.routing = "ip";
            fleet.startVms();
            for (var k : fleet.containers.values()) fleet.attach(k);
            if (TIMES) System.err.printf("%s: namespaces %.1f s%n", c.name(), (System.nanoTime() - t0) / 1e9);
            for (String fw : List.of("nft", "iptables")) {
                fleet.firewall = fw;
                long a0 = System.nanoTime();
                fleet.vms.keySet().parallelStream().forEach(fleet::apply); // each VM's meshc-apply in its namespace, at once
                if (TIMES) System.err.printf("%s %s: apply %.1f s%n", c.name(), fw, (System.nanoTime() - a0) / 1e9);
                if (fw.equals("nft")) {
                    fleet.awaitRouting();
                    for (var k : fleet.containers.values()) fleet.ask(k.name(), "listen", k.name(), String.join(",", listen.stream().map(String::valueOf).toList()));
                }
                Tracer tracer = new Tracer(net, fw.equals("nft") ? Tracer.Firewall.NFT : Tracer.Firewall.IPTABLES);
                long p0 = System.nanoTime();
                Map<String, JsonNode> answers = probeAll(fleet, probes);
                if (TIMES) System.err.printf("%s %s: probes %.1f s%n", c.name(), fw, (System.nanoTime() - p0) / 1e9);
                for (var e : probes.entrySet()) {
                    JsonNode replies = answers.get(e.getKey()).get("replies");
                    for (int i = 0; i < e.getValue().size(); i++) {
                        Probe p = e.getValue().get(i);
                        Set<String> real = new TreeSet<>();
                        replies.get(i).properties().forEach(x -> real.add(x.getKey()));
                        String src = ip(plan.containers().get(p.from()).address());
                        Tracer.Trace t = tracer.trace(src, p.address(), p.proto(), p.port());
                        Set<String> reached = new TreeSet<>();
                        for (Tracer.Branch b : t.branches()) if (b.verdict().equals(Tracer.DELIVERED) && b.container() != null) reached.add(b.container());
                        if (t.delivered()) totals[0]++;
                        else totals[1]++;
                        boolean agree = reached.isEmpty() == real.isEmpty() && reached.containsAll(real) && (t.delivered() || reached.isEmpty());
                        if (!agree) mismatches.add(c.name() + " " + fw + " " + p + ": trace " + t.verdict() + " " + reached + ", packets answered by " + real);
                    }
                }
            }
        }
    }

    /** Every container's probes at once: all requests written, then every answer read. */
    static Map<String, JsonNode> probeAll(Fleet fleet, Map<String, List<Probe>> probes) throws Exception {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        for (var e : probes.entrySet()) {
            List<List<Object>> flows = new ArrayList<>();
            for (Probe p : e.getValue()) flows.add(List.of(p.address(), p.port(), p.proto()));
            Fleet.Agent a = fleet.agents.get(e.getKey());
            a.in().write(Fleet.JSON.writeValueAsString(List.of("probe", Fleet.JSON.writeValueAsString(flows), "3", "1.0")) + "\n");
            a.in().flush();
        }
        for (var e : probes.entrySet()) {
            String line = fleet.agents.get(e.getKey()).out().readLine();
            JsonNode j = Fleet.JSON.readTree(line);
            assertTrue(j.has("replies"), e.getKey() + ": " + line);
            out.put(e.getKey(), j);
        }
        return out;
    }

    static String ip(int a) {
        return ((a >>> 24) & 255) + "." + ((a >>> 16) & 255) + "." + ((a >>> 8) & 255) + "." + (a & 255);
    }
}

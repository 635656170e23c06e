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

    /**
     * For a sample of the fleet example's flows, on the source VM: the kernel's own trace of the flow's packets
     * ({@code nft monitor trace}, the flow tagged by a {@code meta nftrace set 1} rule in a table of its own)
     * passes every rule meshc's trace names there (same chain, same rule), and {@code ip route get} picks the
     * device and gateway of trace's route hop.
     */
    @Test
    void nftMonitorTraceAndIpRouteGetAgreeWithTrace(@TempDir Path work) throws Exception {
        Kernel.require();
        Kernel.requireLinkKind("vxlan");
        Files.createDirectories(work.resolve("logs"));
        Path inv = TestSupport.example("fleet");
        Path out = work.resolve("out");
        assertEquals(0, TestSupport.meshc("compile", inv.toString(), "-o", out.toString(), "--lock", inv.resolveSibling("meshc.lock").toString(), "-q").code());
        Network net = Network.read(out);
        Tracer tracer = new Tracer(net, Tracer.Firewall.NFT);
        List<Probe> sample = List.of(new Probe("app-1", "169.254.148.129", 5432, "tcp"), new Probe("app-1", "241.2.0.4", 8080, "tcp"),
                new Probe("app-2", "247.221.80.3", 6379, "tcp"), new Probe("worker-1", "169.254.148.129", 5432, "tcp"),
                new Probe("app-1", "169.254.233.177", 8125, "udp"), new Probe("db-2", "252.128.112.3", 5432, "tcp"));
        List<String> differences = new ArrayList<>();
        int rulesCompared = 0;
        try (Fleet fleet = new Fleet(out, SCRIPT, work.resolve("logs"))) {
            fleet.routing = "ip";
            fleet.startVms();
            for (var k : fleet.containers.values()) fleet.attach(k);
            fleet.vms.keySet().parallelStream().forEach(fleet::apply);
            fleet.awaitRouting();
            for (var k : fleet.containers.values()) fleet.ask(k.name(), "listen", k.name(), "5432,6379,8125,8080");
            for (Probe p : sample) {
                Fleet.ContainerInfo src = fleet.containers.get(p.from());
                Kernel.Netns vm = fleet.vmNs.get(src.vm());
                Tracer.Trace t = tracer.trace(src.address(), p.address(), p.proto(), p.port());
                // The rules trace names on the source VM, with the chain each is in.
                Path nftFile = out.resolve("hosts").resolve(src.vm()).resolve("nftables/meshc.nft");
                List<String> lines = Files.readAllLines(nftFile);
                Set<String> named = new TreeSet<>();
                String routeHop = null;
                String first = t.branches().get(0).backend();
                for (Tracer.Hop h : t.hops()) {
                    if (!h.host().equals(src.vm())) continue;
                    String what = h.what();
                    if (what.startsWith("[")) { // a DNAT branch's hop: the first branch's only
                        if (!what.startsWith("[" + first + "] ")) continue;
                        what = what.substring(what.indexOf("] ") + 2);
                    }
                    if (what.startsWith("route: ") && routeHop == null) routeHop = what;
                    if (!h.file().endsWith("nftables/meshc.nft") || h.line() <= 0) continue;
                    String rule;
                    if (what.startsWith("anti-spoofing:") || what.startsWith("DNAT")) rule = lines.get(h.line() - 1);
                    else if (what.startsWith("forward: ")) rule = what.substring(what.indexOf(' ', 9) + 1); // "forward: ACCEPT <rule>": the line may be a set element's
                    else continue;
                    named.add(chainOfRule(lines, h.line(), norm(rule)) + ": " + norm(rule));
                }
                vm.exec("nft delete table ip meshc_trace 2>/dev/null; nft add table ip meshc_trace && nft add chain ip meshc_trace pre "
                        + "'{ type filter hook prerouting priority -400; }' && nft add rule ip meshc_trace pre ip saddr " + src.address() + " ip daddr "
                        + p.address() + " meta l4proto " + p.proto() + " th dport " + p.port() + " meta nftrace set 1").orFail("nftrace rule");
                Path log = work.resolve("logs/monitor-" + p.from() + "-" + p.port() + ".log");
                Process mon = new ProcessBuilder("ip", "netns", "exec", vm.name, "nft", "monitor", "trace").redirectErrorStream(true)
                        .redirectOutput(log.toFile()).start();
                Thread.sleep(1000); // nft monitor prints nothing when it is ready: given time to subscribe
                fleet.ask(p.from(), "probe", Fleet.JSON.writeValueAsString(List.of(List.of(p.address(), p.port(), p.proto()))), "1", "1.0");
                Thread.sleep(500);
                mon.destroy();
                mon.waitFor();
                vm.exec("nft delete table ip meshc_trace").orFail("remove the nftrace table");
                Set<String> passed = new TreeSet<>();
                Matcher m = Pattern.compile("ip meshc (\\S+) rule (.*?) \\(verdict ([^)]*)\\)").matcher(Files.readString(log));
                while (m.find()) passed.add(m.group(1) + ": " + norm(m.group(2)));
                for (String r : named) {
                    rulesCompared++;
                    if (!passed.contains(r)) differences.add(p + ": trace names " + r + " but nft monitor trace shows " + passed);
                }
                // ip route get, for the address the packet is routed to (a VIP's first backend after DNAT).
                String to = t.branches().get(0).backend();
                String got = vm.exec("ip route get " + to + " from " + src.address() + " iif mc" + src.index()).out();
                Matcher rg = Pattern.compile("(?:via (\\S+) )?dev (\\S+)").matcher(got);
                Matcher th = Pattern.compile("route: \\S+(?: via (\\S+))? dev (\\S+)").matcher(routeHop == null ? "" : routeHop);
                if (!rg.find() || !th.find() || !String.valueOf(rg.group(1)).equals(String.valueOf(th.group(1))) || !rg.group(2).equals(th.group(2))) {
                    differences.add(p + ": ip route get " + to + " says '" + got.strip() + "', trace '" + routeHop + "'");
                }
            }
        }
        assertEquals(List.of(), differences);
        assertTrue(rulesCompared >= 12, "rules compared: " + rulesCompared);
    }

    /** The chain of a rule: the one holding {@code line} if it holds that rule, else the first holding it (a set element's line). */
    static String chainOfRule(List<String> lines, int line, String rule) {
        if (norm(lines.get(line - 1)).equals(rule)) return chainOf(lines, line);
        for (int i = 0; i < lines.size(); i++) if (norm(lines.get(i)).equals(rule)) return chainOf(lines, i + 1);
        return "?";
    }

    /** The chain a line of meshc.nft is in. */
    static String chainOf(List<String> lines, int line) {
        for (int i = line - 1; i >= 0; i--) {
            Matcher m = Pattern.compile("^\\s*chain (\\S+) \\{").matcher(lines.get(i));
            if (m.find()) return m.group(1);
        }
        return "?";
    }

    static String norm(String rule) {
        return rule.strip().replaceAll("\\s+", " ");
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

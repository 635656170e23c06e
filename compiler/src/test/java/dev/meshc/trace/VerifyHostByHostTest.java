package dev.meshc.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshc.TestSupport;
import dev.meshc.bench.FleetGenerator;
import dev.meshc.plan.ContainerPlan;
import dev.meshc.plan.Frontend;
import dev.meshc.plan.Plan;
import dev.meshc.plan.VmPlan;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * verify reads a fleet host by host (issue 19): with a lazy network that keeps a few hosts parsed, each host is
 * parsed a bounded number of times however the representatives' flows criss-cross the fleet, and the report is
 * the one a network read whole gives. (Before: a host was parsed once per step and again whenever a trace entered
 * it after the cache had dropped it; at 1,000 VMs that, and the expected elements of every host held at once,
 * ran out of the heap.)
 */
class VerifyHostByHostTest {
    /** FleetGenerator's shape with more VMs than verify tries every subnet from (64), as at L. */
    static final int VMS = 66, CONTAINERS = 330, KEEP = 4;

    static String fleet() throws Exception {
        StringWriter w = new StringWriter();
        FleetGenerator.write("test", VMS, CONTAINERS, w);
        return w.toString();
    }

    static Network lazy(Plan plan, Map<String, byte[]> files, int keep) {
        Map<Integer, String> containers = new HashMap<>(), underlays = new HashMap<>();
        for (ContainerPlan c : plan.containers().values()) containers.put(c.address(), c.vm());
        for (VmPlan v : plan.vms().values()) underlays.put(v.vm().underlay(), v.name());
        java.util.NavigableMap<String, byte[]> all = new TreeMap<>(files);
        return Network.lazy(plan.vms().keySet(), vm -> all.subMap("hosts/" + vm + "/", true, "hosts/" + vm + "/" + Character.MAX_VALUE, false),
                containers, underlays, keep);
    }

    static List<String> text(Verifier.Report r) {
        List<String> out = new ArrayList<>();
        for (Verifier.Row row : r.rows()) out.add((row.ok() ? "ok " : "FAIL ") + row.what() + ": " + row.count() + " " + row.unit());
        for (Verifier.Finding f : r.findings()) out.add(f.kind() + ": " + f.summary() + (f.witness() == null ? "" : " [" + f.witness().verdict() + ", " + f.witness().hops().size() + " hops]"));
        out.add(r.traced() + " traced");
        return out;
    }

    @Test
    void eachHostIsParsedAtMostTwicePerVerify() throws Exception {
        String yaml = fleet();
        Frontend.Result fr = TestSupport.frontend("fleet-66", yaml, null);
        assertTrue(fr.ok());
        Plan plan = fr.plan().orElseThrow();
        Map<String, byte[]> files = TestSupport.compile("fleet-66", yaml, null);
        Network net = lazy(plan, files, KEEP);
        Verifier.Report rep = new Verifier(plan, net).verify();
        assertTrue(rep.ok(), rep.findings().stream().limit(3).toList().toString());
        // Pass 1 reads every host, pass 2 every host again (the flows entering it, the probes from it), in reverse so
        // that the last KEEP of pass 1 are still parsed; pass 3 only the peers that probes entered (none here).
        assertTrue(net.parses() <= 2 * VMS - KEEP, net.parses() + " parses of " + VMS + " hosts");
        assertEquals(text(new Verifier(plan, Network.of(files)).verify()), text(rep));
    }

    @Test
    void aDifferenceIsFoundAlikeReadLazilyOrWhole() throws Exception {
        String yaml = fleet();
        Plan plan = TestSupport.frontend("fleet-66", yaml, null).plan().orElseThrow();
        Map<String, byte[]> files = new TreeMap<>(TestSupport.compile("fleet-66", yaml, null));
        // A flow element removed on one host: its flow is refused there, and the data lacks the element.
        String path = "hosts/vm-00001/nftables/meshc.nft";
        String nft = new String(files.get(path), StandardCharsets.UTF_8);
        int at = nft.indexOf(" . tcp . ", nft.indexOf("set flows"));
        int start = nft.lastIndexOf('\n', at) + 1, end = nft.indexOf('\n', at) + 1;
        String line = nft.substring(start, end);
        assertTrue(line.trim().endsWith(","), line);
        files.put(path, (nft.substring(0, start) + nft.substring(end)).getBytes(StandardCharsets.UTF_8));
        Network net = lazy(plan, files, KEEP);
        Verifier.Report lazy = new Verifier(plan, net).verify();
        assertFalse(lazy.ok());
        assertEquals(text(new Verifier(plan, Network.of(files)).verify()), text(lazy));
        assertTrue(net.parses() <= 2 * VMS + 2 * KEEP + 4 * lazy.findings().size(), net.parses() + " parses");
    }

    @Test
    void aRecordedTraceResolvedAtItsPeersIsTheWholeTrace() throws Exception {
        // Every container to every container and VIP, on the ports of the inventory, of a tree with a broken element:
        // the verdicts of traces recorded (peers' parts queued, then resolved) equal those of whole traces.
        Plan plan = VerifyTest.plan("fleet");
        Map<String, byte[]> files = VerifyTest.edit(TestSupport.compileExample("fleet"), "hosts/vm1/nftables/meshc.nft",
                "      241.2.0.2 . 241.2.0.3 . 241.2.0.3 . tcp . 5432,\n",
                "      241.2.0.2 . 241.2.0.3 . 241.2.0.3 . tcp . 5432,\n      241.2.0.2 . 241.2.0.4 . 241.2.0.4 . tcp . 8080,\n");
        Network net = Network.of(files);
        List<Integer> dsts = new ArrayList<>();
        for (ContainerPlan c : plan.containers().values()) dsts.add(c.address());
        for (var bs : plan.bindings().values()) for (var b : bs.values()) dsts.add(b.vip());
        for (VmPlan v : plan.vms().values()) {
            dsts.add(v.gateway());
            dsts.add(v.vm().underlay());
        }
        List<Integer> ports = List.of(5432, 6379, 8125, 8080, 1); // the example's endpoints, the edited element's, one unused
        int compared = 0, deferred = 0;
        for (Tracer.Firewall fw : Tracer.Firewall.values()) {
            Tracer rec = new Tracer(net, fw), whole = new Tracer(net, fw);
            List<Object[]> cases = new ArrayList<>();
            for (ContainerPlan c : plan.containers().values()) for (int d : dsts) for (int port : ports) for (String proto : List.of("tcp", "udp")) {
                Tracer.Pending p = rec.record(c.address(), d, proto, port);
                if (p.deferred()) deferred++;
                cases.add(new Object[]{p, whole.trace(c.address(), d, proto, port, List.of())});
            }
            for (Tracer.Deferred d : rec.queued()) rec.resolve(d);
            for (Object[] x : cases) {
                Tracer.Trace r = ((Tracer.Pending) x[0]).result(), w = (Tracer.Trace) x[1];
                assertEquals(w.verdict(), r.verdict());
                assertEquals(w.branches().stream().map(Tracer.Branch::verdict).toList(), r.branches().stream().map(Tracer.Branch::verdict).toList());
                assertEquals(w.passes(), r.passes());
                compared++;
            }
        }
        assertTrue(deferred >= 30, deferred + " of " + compared + " traces entered a peer"); // the rest end where they start
    }

    @Test
    void theNextHostIsReadAheadOnASecondThreadAndFailsOnlyWhenAskedFor() throws Exception {
        String yaml = fleet();
        Plan plan = TestSupport.frontend("fleet-66", yaml, null).plan().orElseThrow();
        java.util.NavigableMap<String, byte[]> files = new TreeMap<>(TestSupport.compile("fleet-66", yaml, null));
        String broken = "hosts/vm-00002/nftables/meshc.nft";
        files.put(broken, (new String(files.get(broken), StandardCharsets.UTF_8) + "bogus statement\n").getBytes(StandardCharsets.UTF_8));
        TraceError whole = assertThrows(TraceError.class, () -> Network.of(files));
        Map<String, String> readOn = new java.util.concurrent.ConcurrentHashMap<>();
        Map<Integer, String> containers = new HashMap<>(), underlays = new HashMap<>();
        for (ContainerPlan c : plan.containers().values()) containers.put(c.address(), c.vm());
        for (VmPlan v : plan.vms().values()) underlays.put(v.vm().underlay(), v.name());
        Network net = Network.lazy(plan.vms().keySet(), vm -> {
            readOn.put(vm, Thread.currentThread().getName());
            return files.subMap("hosts/" + vm + "/", true, "hosts/" + vm + "/" + Character.MAX_VALUE, false);
        }, containers, underlays, KEEP);
        net.readAheadIn(List.of("vm-00000", "vm-00001", "vm-00002", "vm-00003"));
        String main = Thread.currentThread().getName();
        Host h0 = net.host("vm-00000");
        assertEquals(main, readOn.get("vm-00000"));
        Host h1 = net.host("vm-00001");
        assertEquals("meshc-read-ahead", readOn.get("vm-00001")); // read while vm-00000 was worked on
        assertEquals(Network.of(new TreeMap<>(files.subMap("hosts/vm-00001/", true, "hosts/vm-00001/~", false))).host("vm-00001").ipt.entries,
                h1.ipt.entries);
        // The broken host was read ahead too, but its error is thrown when it is asked for, as without reading ahead.
        TraceError e = assertThrows(TraceError.class, () -> net.host("vm-00002"));
        assertEquals(whole.getMessage(), e.getMessage());
        assertEquals("vm-00003", net.host("vm-00003").name);
        assertEquals(3, net.parses()); // the failed host is not counted, nor kept
        assertEquals("vm-00000", h0.name);
    }
}

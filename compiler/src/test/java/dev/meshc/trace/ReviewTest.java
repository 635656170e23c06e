package dev.meshc.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshc.TestSupport;
import dev.meshc.model.Egress;
import dev.meshc.model.Service;
import dev.meshc.plan.Binding;
import dev.meshc.plan.ContainerPlan;
import dev.meshc.plan.Frontend;
import dev.meshc.plan.Plan;
import dev.meshc.plan.VmPlan;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * review reports exactly the difference of the two trees' reachability matrices, each computed here on
 * its own (candidates from the inventories' plans, verdicts from the Tracer over each tree), and the
 * disruption each host's apply causes, for changes made to the example inventories.
 */
class ReviewTest {
    record Side(Plan plan, Map<String, byte[]> files) {
    }

    static Side side(String example, String yaml) {
        String lock = TestSupport.read(TestSupport.example(example).resolveSibling("meshc.lock"));
        Frontend.Result r = TestSupport.frontend("examples/" + example + "/inventory.yml", yaml, lock);
        assertTrue(r.ok(), r.diagnostics().toString());
        return new Side(r.plan().orElseThrow(), TestSupport.compile("examples/" + example + "/inventory.yml", yaml, lock));
    }

    static String inventory(String example) {
        return TestSupport.read(TestSupport.example(example));
    }

    static String edit(String yaml, String from, String to) {
        assertTrue(yaml.contains(from), "the inventory lacks " + from);
        return yaml.replace(from, to);
    }

    /** Destination name -> address: containers by name, VIPs as "vip A", VMs' gateway and underlay, egress prefixes. */
    static Map<String, Integer> destinations(Plan p) {
        Map<String, Integer> d = new TreeMap<>();
        for (ContainerPlan c : p.containers().values()) d.put(c.name(), c.address());
        for (var bs : p.bindings().values()) for (Binding b : bs.values()) d.put("vip " + Ip.str(b.vip()), b.vip());
        for (VmPlan v : p.vms().values()) {
            d.put(v.name() + " underlay", v.vm().underlay());
            if (!p.host(v.name()).containers().isEmpty()) d.put(v.name() + " gateway", v.gateway());
        }
        for (Service s : p.inventory().services().values()) for (Egress e : s.egress().values()) if (!e.toVm()) d.put(Ip.str(e.to().network()), e.to().network());
        return d;
    }

    static Set<String> ports(Plan p) {
        Set<String> out = new TreeSet<>();
        for (Service s : p.inventory().services().values()) {
            for (var e : s.endpoints().values()) out.add(e.protocol().id() + " " + e.port());
            for (Egress e : s.egress().values()) out.add(e.protocol().id() + " " + e.port());
        }
        return out;
    }

    /** "src dst proto port" of every candidate the Tracer delivers on this side. */
    static Set<String> matrix(Side s, Set<String> names, Set<String> ports) throws TraceError {
        Tracer t = new Tracer(Network.of(s.files()), Tracer.Firewall.NFT);
        Map<String, Integer> d = destinations(s.plan());
        Set<String> out = new TreeSet<>();
        for (ContainerPlan c : s.plan().containers().values()) {
            for (String dst : names) {
                Integer a = d.containsKey(dst) ? d.get(dst) : dst.startsWith("vip ") ? Integer.valueOf(Ip.parse(dst.substring(4))) : null;
                if (a == null || dst.equals(c.name())) continue;
                for (String pp : ports) {
                    String[] x = pp.split(" ");
                    if (t.trace(c.address(), a, x[0], Integer.parseInt(x[1]), List.of()).delivered()) out.add(c.name() + " " + dst + " " + pp);
                }
            }
        }
        return out;
    }

    record Case(Review.Report report, Set<String> gained, Set<String> lost) {
        Review.HostChange host(String vm) {
            return report.hosts().stream().filter(h -> h.host().equals(vm)).findFirst().orElse(null);
        }
    }

    static Case review(String example, String headYaml) throws TraceError {
        Side base = side(example, inventory(example)), head = side(example, headYaml);
        Review.Report r = new Review(base.files(), head.files(), Tracer.Firewall.NFT).review();
        Set<String> names = new TreeSet<>(destinations(base.plan()).keySet());
        names.addAll(destinations(head.plan()).keySet());
        Set<String> ports = ports(base.plan());
        ports.addAll(ports(head.plan()));
        Set<String> b = matrix(base, names, ports), h = matrix(head, names, ports);
        Set<String> gained = new TreeSet<>(h), lost = new TreeSet<>(b);
        gained.removeAll(b);
        lost.removeAll(h);
        assertEquals(gained, keys(r.gained()), "gained: the difference of the matrices");
        assertEquals(lost, keys(r.lost()), "lost: the difference of the matrices");
        for (Review.FlowChange c : r.gained()) {
            assertTrue(c.head() != null && c.head().delivered(), "a gained flow's HEAD witness is delivered: " + c);
            assertTrue(c.base() == null || !c.base().delivered(), "a gained flow's BASE witness is not: " + c);
        }
        for (Review.FlowChange c : r.lost()) {
            assertTrue(c.base() != null && c.base().delivered(), "a lost flow's BASE witness is delivered: " + c);
            assertTrue(c.head() == null || !c.head().delivered(), "a lost flow's HEAD witness is not: " + c);
        }
        return new Case(r, gained, lost);
    }

    static Set<String> keys(List<Review.FlowChange> cs) {
        Set<String> out = new TreeSet<>();
        for (Review.FlowChange c : cs) out.add(c.flow().src() + " " + c.flow().dst() + " " + c.flow().proto() + " " + c.flow().port());
        return out;
    }

    static boolean says(Review.HostChange h, Review.Disruption d, String what) {
        return h.reasons().stream().anyMatch(r -> r.startsWith(d.label + ": ") && r.contains(what));
    }

    @Test
    void anUnchangedInventoryHasNoBehaviourChange() throws Exception {
        for (String e : TestSupport.examples()) {
            Case c = review(e, inventory(e));
            assertFalse(c.report().changed(), e + ": " + c.report());
            assertFalse(c.report().unexpected(), e);
            assertEquals(List.of(), c.report().hosts(), e);
            assertTrue(c.report().probed() > 0, e + ": probed " + c.report().probed());
        }
    }

    @Test
    void aNewRelationshipGainsItsFlowsByVipAndByAddressHitlessly() throws Exception {
        Case c = review("quickstart", edit(inventory("quickstart"), "  redis:\n    endpoints:", "  redis:\n    relationships:\n      store: db:mysql\n    endpoints:"));
        assertEquals(3, c.gained().size(), c.gained().toString()); // redis-1 -> VIP, db-1, db-2
        assertEquals(Set.of(), c.lost());
        assertTrue(c.report().gained().stream().allMatch(f -> f.flow().group().equals("redis -> db:mysql (tcp/3306, store)")), c.report().gained().toString());
        assertTrue(c.report().changed());
        assertFalse(c.report().unexpected());
        for (Review.HostChange h : c.report().hosts()) assertEquals(Review.Disruption.HITLESS, h.disruption(), h.toString());
        assertTrue(c.host("vm-b").files().contains("containers/redis-1/relationships.json"), c.host("vm-b").files().toString());
    }

    @Test
    void aMovedContainerIsReaddressedKeepsItsFlowsAndCutsTheOldOnes() throws Exception {
        Case c = review("quickstart", edit(inventory("quickstart"), "db-1:  {service: db, vm: vm-b, index: 47}", "db-1:  {service: db, vm: vm-a, index: 47}"));
        assertEquals(Set.of(), c.gained(), "flows are named: db-1 is reached where it now is");
        assertEquals(Set.of(), c.lost());
        assertEquals(1, c.report().readdressed().size(), c.report().readdressed().toString());
        Review.Readdressed m = c.report().readdressed().get(0);
        assertEquals(List.of("db-1", "vm-b", "vm-a"), List.of(m.base().name(), m.base().vm(), m.head().vm()));
        assertTrue(says(c.host("vm-a"), Review.Disruption.BALANCING_RESET, "to_db_mysql"), c.host("vm-a").toString());
        assertTrue(says(c.host("vm-a"), Review.Disruption.FLOWS_CUT, "conntrack/flows"), c.host("vm-a").toString());
        assertTrue(says(c.host("vm-b"), Review.Disruption.FLOWS_CUT, "withdrawn"), c.host("vm-b").toString());
        assertTrue(c.report().changed());
        assertFalse(c.report().unexpected());
    }

    @Test
    void aRemovedReplicaLosesItsFlowsAndResetsBalancing() throws Exception {
        Case c = review("fleet", edit(inventory("fleet"), "  db-3: {service: db, vm: vm3}\n", ""));
        assertFalse(c.lost().isEmpty());
        assertTrue(c.lost().stream().allMatch(f -> f.contains("db-3")), c.lost().toString());
        assertEquals(Set.of(), c.gained());
        assertEquals(List.of("db-3"), c.report().removed().stream().map(Review.Container::name).toList());
        for (String vm : List.of("vm1", "vm2", "vm3")) {
            assertTrue(says(c.host(vm), Review.Disruption.BALANCING_RESET, "to_db_pg"), vm + ": " + c.host(vm));
            assertEquals(Review.Disruption.FLOWS_CUT, c.host(vm).disruption(), vm + ": the conntrack cleanup cuts flows to db-3");
        }
    }

    @Test
    void anMtuChangeIsSetOnTheLiveDevices() throws Exception {
        Case c = review("quickstart", edit(inventory("quickstart"), "mtu: 1500", "mtu: 1400"));
        assertEquals(Set.of(), c.gained());
        assertEquals(Set.of(), c.lost());
        for (String vm : List.of("vm-a", "vm-b")) {
            Review.HostChange h = c.host(vm);
            assertEquals(Review.Disruption.HITLESS, h.disruption(), h.toString());
            assertTrue(says(h, Review.Disruption.HITLESS, "tunnel MTU 1476 -> 1376"), h.toString());
        }
        assertTrue(c.report().changed(), "an MTU change is a change of behaviour");
    }

    @Test
    void anotherEncapsulationRecreatesTheTunnel() throws Exception {
        Case c = review("quickstart", edit(inventory("quickstart"), "encapsulation: gre", "encapsulation: vxlan"));
        assertEquals(Set.of(), c.gained());
        assertEquals(Set.of(), c.lost());
        for (String vm : List.of("vm-a", "vm-b")) assertEquals(Review.Disruption.DEVICE_RECREATED, c.host(vm).disruption(), c.host(vm).toString());
    }

    @Test
    void aRenamedRelationshipMovesItsVipUnexpectedly() throws Exception {
        String head = edit(inventory("quickstart"), "      database: db:mysql", "      db: db:mysql");
        Case c = review("quickstart", head);
        assertTrue(c.report().unexpected());
        assertEquals(1, c.report().vips().size(), c.report().vips().toString());
        Review.VipChange v = c.report().vips().get(0);
        assertEquals("app -> db:mysql", v.binding());
        assertTrue(v.base().get(0).endsWith("(database)") && v.head().get(0).endsWith("(db)"), v.toString());
        assertEquals(1, c.gained().size(), "the new VIP: " + c.gained());
        assertEquals(1, c.lost().size(), "the old VIP: " + c.lost());
    }

    @Test
    void removingARelationshipLosesItsFlowsAndCutsThem() throws Exception {
        Case c = review("fleet", edit(inventory("fleet"), "    relationships:\n      database: db:pg\n    egress:", "    egress:"));
        assertFalse(c.lost().isEmpty());
        assertTrue(c.lost().stream().allMatch(f -> f.startsWith("worker-1 ")), c.lost().toString());
        assertTrue(c.report().lost().stream().allMatch(f -> f.flow().group().equals("worker -> db:pg (tcp/5432, database)")), c.report().lost().toString());
        assertEquals(Review.Disruption.FLOWS_CUT, c.host("vm3").disruption(), c.host("vm3").toString());
    }

    @Test
    void aTreeThatIsNotMeshcsIsRefusedByName() throws Exception {
        var dir = Files.createTempDirectory("meshc-review");
        try {
            TraceError e = org.junit.jupiter.api.Assertions.assertThrows(TraceError.class, () -> Review.read(dir));
            assertTrue(e.getMessage().contains("no manifest.json"), e.getMessage());
            Files.writeString(dir.resolve("manifest.json"), "{}");
            e = org.junit.jupiter.api.Assertions.assertThrows(TraceError.class, () -> Review.read(dir));
            assertTrue(e.getMessage().contains("no hosts/"), e.getMessage());
        } finally {
            Files.walk(dir).sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}

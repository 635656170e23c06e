package dev.meshc.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshc.TestSupport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Isolation under churn, reloads and attack (docs/security-model.md), with real packets, for nft and
 * iptables: stale UDP flows and index reuse, a revoked relationship's established TCP, forged
 * sources from the underlay and through the tunnel, a router advertisement from a container, egress
 * (another VM's host port, an outside address, the VM's own port; refused, and allowed where declared),
 * replica to replica, time to refusal of an empty VIP, the first connection after reloads, a
 * Docker-style bridge beside meshc. Each refusal has a control: the same packets with meshc's rules
 * removed get through. Every change is applied the production way, by the VMs' bin/meshc-apply.
 *
 * <p>Encapsulation-agnostic like {@link EndToEndTest}: {@code MESHC_E2E_ENCAP=gre} runs every scenario over
 * GRE (in a guest kernel on a machine without ip_gre: {@link GuestGreTest}); the default is VXLAN.
 */
@Tag("kernel")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AttackAndChurnTest {
    static final List<String> FIREWALLS = List.of("nft", "iptables");
    static final String OUTSIDE = "192.168.99.50";
    Path work;
    Path inventory;
    String base;
    Fleet fleet;
    Kernel.Netns outside;
    final List<Process> extra = new ArrayList<>();
    int sport = 30000;

    @BeforeAll
    void build() throws Exception {
        Kernel.require();
        Kernel.requireLinkKind(EndToEndTest.ENCAP);
        work = Files.createTempDirectory("meshc-attack");
        inventory = work.resolve("inventory.yml");
        String yaml = Files.readString(TestSupport.root().resolve("compiler/src/test/resources/e2e/attack.yml"));
        assertTrue(yaml.contains("\n  encapsulation: vxlan\n"), "attack.yml's encapsulation line moved");
        base = yaml.replace("\n  encapsulation: vxlan\n", "\n  encapsulation: " + EndToEndTest.ENCAP + "\n");
        Files.writeString(inventory, base);
        compile();
        fleet = new Fleet(work.resolve("out"), TestSupport.root().resolve("compiler/src/test/resources/e2e/netcheck.py"),
                Files.createDirectories(work.resolve("logs")));
        fleet.startVms();
        fleet.applyAll();
        for (String vm : fleet.vms.keySet()) fleet.startNetworkd(vm);
        attachAll();
        // an underlay host outside the inventory: a package mirror (8080) and a metadata service (169.254.169.254:80)
        outside = new Kernel.Netns("ou");
        Kernel.sh("ip -n " + fleet.underlay.name + " link add u-out type veth peer name eth0 netns " + outside.name).orFail("outside link");
        fleet.underlay.exec("ip link set u-out master br0 up").orFail("outside port");
        outside.exec("ip addr add " + OUTSIDE + "/16 dev eth0 && ip link set eth0 up && ip addr add 169.254.169.254/32 dev lo").orFail("outside addr");
        serveIn(outside, "outside", 8080);
        serveIn(outside, "metadata", 80);
        serveIn(fleet.vmNs.get("vm2"), "vm2-host", 2222);
        serveIn(fleet.vmNs.get("vm1"), "vm1-host", 53);
    }

    @AfterAll
    void tearDown() {
        extra.forEach(Process::destroyForcibly);
        if (outside != null) outside.close();
        if (fleet != null) fleet.close();
    }

    @BeforeEach
    void baseline() throws Exception {
        converge(base);
    }

    void compile() throws IOException {
        var r = TestSupport.meshc("compile", inventory.toString(), "-o", work.resolve("out").toString(), "-q");
        assertEquals(0, r.code(), r.err());
    }

    /** Writes the inventory, compiles, applies on every VM, then moves containers as the runtime would. */
    void converge(String yaml) throws Exception {
        Files.writeString(inventory, yaml);
        compile();
        fleet.readOutput();
        fleet.applyAll();
        for (String vm : fleet.vms.keySet()) fleet.restartNetworkdIfChanged(vm); // networkd rereads its directory on restart (no bus for networkctl here)
        attachAll();
    }

    void attachAll() throws Exception {
        fleet.place(AttackAndChurnTest::servicePorts);
    }

    static List<Integer> servicePorts(String service) {
        return switch (service) {
            case "db" -> List.of(5432);
            case "stats" -> List.of(8125);
            case "other" -> List.of(8080, 8125); // 8125 too: to see whether a stale statsd flow reaches it
            case "lonely" -> List.of(9000);
            default -> List.of(7);
        };
    }

    void use(String firewall) {
        fleet.firewall = firewall;
        fleet.applyAll();
    }

    void serveIn(Kernel.Netns ns, String name, int port) throws IOException {
        Process p = new ProcessBuilder("ip", "netns", "exec", ns.name, Kernel.python(), fleet.script.toString(), "serve", name, String.valueOf(port))
                .redirectErrorStream(true).start();
        String first = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(), java.nio.charset.StandardCharsets.UTF_8)).readLine();
        assertEquals("ready", first, "server " + name + " did not start");
        extra.add(p);
    }

    Fleet.Tally send(String from, String host, int port, boolean udp) {
        Fleet.Tally t = fleet.connect(from, host, port, 1, sport, udp);
        sport += 1;
        return t;
    }

    /**
     * One TCP connection from a container: the reply ("" when refused or timed out), how it failed
     * ("" when it did not; "timeout"; ECONNREFUSED for a TCP reset, EHOSTUNREACH for an ICMP host
     * unreachable) and the seconds it took.
     */
    record Try(String reply, String how, double seconds) {
    }

    /** The client's connect timeout, and its first SYN retransmission: an answer before it answered the first SYN. */
    static final double CLIENT_TIMEOUT = 1.0;

    Try tryTcp(String from, String host, int port) {
        var j = fleet.ask(from, "connect", host, port, 1, sport++); // the container's agent: no process started per try
        String reply = j.get("replies").properties().stream().map(Map.Entry::getKey).findFirst().orElse("");
        String how = j.get("errors").properties().stream().map(Map.Entry::getKey).findFirst().orElse("");
        return new Try(reply, how, j.get("seconds").asDouble());
    }

    String vip(String consumer, String relationship) throws IOException {
        var c = fleet.containers.get(consumer);
        var j = Fleet.JSON.readTree(Files.readAllBytes(fleet.host(c.vm()).resolve("containers").resolve(consumer).resolve("relationships.json")));
        return j.get(relationship).get(0).get("ip").asString();
    }

    String address(String c) {
        return fleet.containers.get(c).address();
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    Process background(Kernel.Netns ns, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns.name, Kernel.python(), fleet.script.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        extra.add(p);
        return p;
    }

    /**
     * A one-way statsd-like flow keeps its conntrack entry while the replica it was bound to is removed
     * and an unrelated service's container takes the same address (pinned to the freed index: the lock
     * alone would not reuse it). Control first: with the new container in place but meshc's rules not
     * yet applied, the stale binding delivers the flow to the newcomer. Then meshc-apply on both VMs:
     * the newcomer gets nothing more, and the flow reaches the remaining replica.
     */
    @Test
    void aStaleUdpFlowReachesNeitherTheAddressSuccessorNorABlackHole() throws Exception {
        for (String fw : FIREWALLS) {
            converge(base);
            use(fw);
            String tag = "stale-" + fw;
            // streams longer than every step below takes, even in an emulated guest; stopped at the end
            Process stream = background(fleet.containerNs.get("app-1"), "stream", vip("app-1", "metrics"), "8125", String.valueOf(sport++), "300", tag);
            long started = System.nanoTime(); // python's start takes seconds in an emulated guest: wait for its first datagram
            while (fleet.received("stats-1", 8125, tag) + fleet.received("stats-2", 8125, tag) == 0 && System.nanoTime() - started < 30_000_000_000L) sleep(200);
            sleep(500);
            String bound = fleet.received("stats-1", 8125, tag) > 0 ? "stats-1" : "stats-2";
            String remaining = bound.equals("stats-1") ? "stats-2" : "stats-1";
            assertTrue(fleet.received(bound, 8125, tag) > 0, fw + ": the flow reaches " + bound);
            var old = fleet.containers.get(bound);
            String next = base.replace("  " + bound + ": {service: stats, vm: " + old.vm() + "}\n",
                    "  intruder: {service: other, vm: " + old.vm() + ", index: " + old.index() + "}\n");
            assertTrue(!next.equals(base));
            // control: the newcomer is up with the old address, meshc's new files not applied yet
            Files.writeString(inventory, next);
            compile();
            fleet.readOutput();
            assertEquals(old.address(), address("intruder"), "same address");
            fleet.removeFilter(old.vm());
            attachAll();
            sleep(1000);
            int leaked = fleet.received("intruder", 8125, tag);
            assertTrue(leaked > 0, fw + ": control: a stale binding delivers the flow to the unrelated container");
            // the fix: apply the new files everywhere (firewall, then the conntrack sweep)
            fleet.applyAll();
            sleep(300);
            fleet.clearUdpLog("intruder", 8125);
            int before = fleet.received(remaining, 8125, tag);
            sleep(1500);
            assertEquals(0, fleet.received("intruder", 8125, tag), fw + ": nothing more reaches the unrelated container");
            assertTrue(fleet.received(remaining, 8125, tag) > before, fw + ": the flow reaches " + remaining + ", not a black hole");
            stream.destroyForcibly();
        }
    }

    /** A relationship removed from the inventory: the TCP connection that was open through its VIP stops at the apply. */
    @Test
    void revokingARelationshipCutsItsEstablishedConnections() throws Exception {
        String revoked = base.replace("      database: db:pg\n", "");
        for (String fw : FIREWALLS) {
            for (boolean control : new boolean[] {true, false}) {
                converge(base);
                use(fw);
                // held far longer than the steps below take even in an emulated guest; read for 3 s after the cut, then stopped
                Process hold = background(fleet.containerNs.get("app-1"), "hold", vip("app-1", "database"), "5432", String.valueOf(sport++), "300");
                var out = new java.io.BufferedReader(new java.io.InputStreamReader(hold.getInputStream(), java.nio.charset.StandardCharsets.UTF_8));
                assertTrue(out.readLine().contains("connected"), fw);
                sleep(800);
                if (control) { // the new inventory, with meshc's rules removed instead of applied
                    Files.writeString(inventory, revoked);
                    compile();
                    fleet.vms.keySet().forEach(fleet::removeFilter);
                } else {
                    converge(revoked);
                }
                long cut = System.nanoTime();
                List<String> after = new ArrayList<>();
                for (String line; System.nanoTime() - cut < 3_000_000_000L && (line = out.readLine()) != null; ) {
                    if (System.nanoTime() - cut > 500_000_000L) after.add(line); // a line at least every 0.6 s: ok, or fail
                }
                hold.destroyForcibly();
                long ok = after.stream().filter(l -> l.endsWith(" ok")).count();
                if (control) assertTrue(ok > 5, fw + ": control: without meshc's rules the connection goes on: " + after);
                else assertEquals(0, ok, fw + ": the revoked connection still exchanged data: " + after);
            }
        }
    }

    /** An underlay host that is no VM sends plain IPv4 with a consumer's overlay source to a backend. */
    @Test
    void plainPacketsWithOverlaySourcesFromTheUnderlayAreDropped() throws Exception {
        for (String fw : FIREWALLS) {
            use(fw);
            var target = fleet.containers.get("stats-2");
            String forged = address("app-1"); // app-1 may send to stats
            outside.exec("ip addr add " + forged + "/32 dev eth0; ip route replace " + target.address() + "/32 via "
                    + fleet.vms.get(target.vm()).underlay()).orFail("forger");
            try {
                fleet.clearUdpLog("stats-2", 8125);
                outside.exec(Kernel.python() + " " + fleet.script + " send-udp " + forged + " " + target.address() + " 8125 20").orFail("forge");
                sleep(300);
                assertEquals(0, fleet.udpLogLines("stats-2", 8125), fw + ": forged plain packets arrived");
                fleet.removeRules(target.vm());
                outside.exec(Kernel.python() + " " + fleet.script + " send-udp " + forged + " " + target.address() + " 8125 20").orFail("forge");
                sleep(300);
                assertTrue(fleet.udpLogLines("stats-2", 8125) > 0, fw + ": control: without meshc's rules they arrive");
            } finally {
                outside.exec("ip addr del " + forged + "/32 dev eth0; ip route del " + target.address() + "/32");
                fleet.apply(target.vm());
            }
        }
    }

    /** vm2 (an inventory VM) tunnels a packet claiming app-1 (a container of vm1) as source to stats-1 on vm1. */
    @Test
    void tunnelPacketsClaimingTheReceiversOwnContainersAreDropped() throws Exception {
        for (String fw : FIREWALLS) {
            use(fw);
            var vm2 = fleet.vmNs.get("vm2");
            String forged = address("app-1");
            vm2.exec("ip addr add " + forged + "/32 dev lo").orFail("forged source on vm2");
            try {
                fleet.clearUdpLog("stats-1", 8125);
                vm2.exec(Kernel.python() + " " + fleet.script + " send-udp " + forged + " " + address("stats-1") + " 8125 20").orFail("send");
                sleep(300);
                assertEquals(0, fleet.udpLogLines("stats-1", 8125), fw + ": the forged tunnel packets arrived");
                fleet.removeRules("vm1");
                vm2.exec(Kernel.python() + " " + fleet.script + " send-udp " + forged + " " + address("stats-1") + " 8125 20").orFail("send");
                sleep(300);
                assertTrue(fleet.udpLogLines("stats-1", 8125) > 0, fw + ": control: without meshc's rules on vm1 they arrive");
            } finally {
                vm2.exec("ip addr del " + forged + "/32 dev lo");
                fleet.apply("vm1");
            }
        }
    }

    /** An IPv6 router advertisement from a container installs nothing on the VM. */
    @Test
    void aRouterAdvertisementFromAContainerChangesNothingOnTheVm() throws Exception {
        for (String fw : FIREWALLS) {
            use(fw);
            var c = fleet.containers.get("lonely-1");
            var ns = fleet.containerNs.get("lonely-1");
            var vm = fleet.vmNs.get(c.vm());
            String dev = "mc" + c.index();
            ns.exec("ip -6 addr add fe80::bad/64 dev eth0 nodad 2>/dev/null; true");
            ns.exec(Kernel.python() + " " + fleet.script + " ra eth0 2001:db8:66::").orFail("RA");
            sleep(700);
            String v6 = vm.exec("ip -6 route show; ip -6 addr show dev " + dev).out();
            assertTrue(!v6.contains("default") && !v6.contains("2001:db8:66"), fw + ": the VM took the RA: " + v6);
            // control: the same RA on a VM without meshc's rules whose veth accepts RAs (the kernel's defaults)
            fleet.removeRules(c.vm());
            vm.exec("sysctl -q -w net.ipv6.conf." + dev + ".disable_ipv6=0 net.ipv6.conf." + dev + ".accept_ra=1 net.ipv6.conf.all.forwarding=0").orFail("sysctl");
            try {
                ns.exec(Kernel.python() + " " + fleet.script + " ra eth0 2001:db8:66::").orFail("RA");
                sleep(700);
                String open = vm.exec("ip -6 route show").out();
                assertTrue(open.contains("default") || open.contains("2001:db8:66"), fw + ": control: the RA installs routes: " + open);
            } finally {
                vm.exec("ip -6 route flush dev " + dev + "; ip -6 addr flush dev " + dev + " scope global; sysctl -q -w net.ipv6.conf." + dev + ".accept_ra=0");
                fleet.apply(c.vm());
            }
        }
    }

    /**
     * Egress: lonely-1 declares none and reaches neither another VM's host port, nor an outside address,
     * nor its own VM's port (controls: it does without meshc's rules); worker-1 declares the mirror's
     * prefix (masqueraded) and the VM's UDP 53, and reaches both.
     */
    @Test
    void egressIsRefusedUnlessDeclared() throws Exception {
        String vm2 = fleet.vms.get("vm2").underlay();
        String gw = fleet.containers.get("lonely-1").gateway();
        for (String fw : FIREWALLS) {
            use(fw);
            assertEquals("outside", tryTcp("worker-1", OUTSIDE, 8080).reply(), fw + ": declared egress to the mirror");
            assertEquals(Map.of("vm1-host", 1), send("worker-1", gw, 53, true).replies(), fw + ": declared port 53/udp of the VM");
            assertEquals("", tryTcp("worker-1", vm2, 2222).reply(), fw + ": undeclared: another VM's host port");
            assertEquals("", tryTcp("lonely-1", vm2, 2222).reply(), fw + ": lonely-1 -> vm2's host port");
            assertEquals("", tryTcp("lonely-1", OUTSIDE, 8080).reply(), fw + ": lonely-1 -> outside");
            assertEquals(Map.of(), send("lonely-1", gw, 53, true).replies(), fw + ": lonely-1 -> its VM's port 53");
            fleet.removeRules("vm1");
            fleet.removeRules("vm2");
            outside.exec("ip route replace 240.0.0.0/4 via " + fleet.vms.get("vm1").underlay()).orFail("route back");
            try {
                assertEquals("vm2-host", tryTcp("lonely-1", vm2, 2222).reply(), fw + ": control: vm2's host port");
                assertEquals("outside", tryTcp("lonely-1", OUTSIDE, 8080).reply(), fw + ": control: outside");
                assertEquals(Map.of("vm1-host", 1), send("lonely-1", gw, 53, true).replies(), fw + ": control: the VM's port");
            } finally {
                outside.exec("ip route del 240.0.0.0/4");
                fleet.applyAll();
            }
        }
    }

    /** Replicas of one service reach each other by overlay address on its endpoints, same VM and across VMs. */
    @Test
    void replicasReachEachOther() {
        for (String fw : FIREWALLS) {
            use(fw);
            for (String[] p : new String[][] {{"db-1", "db-2"}, {"db-2", "db-3"}, {"db-3", "db-1"}}) {
                assertEquals(p[1], tryTcp(p[0], address(p[1]), 5432).reply(), fw + ": " + p[0] + " -> " + p[1]);
            }
            assertEquals("", tryTcp("lonely-1", address("db-2"), 5432).reply(), fw + ": no relationship, no replica: refused");
        }
    }

    /** A relationship to a service without containers: its VIP refuses at once (TCP reset), where a drop would hang. */
    @Test
    void anEmptyVipRefusesAtOnce() throws Exception {
        var vm1 = fleet.vmNs.get("vm1");
        vm1.exec("ip route replace default via " + OUTSIDE).orFail("default route"); // the outside host drops what it is sent
        try {
            for (String fw : FIREWALLS) {
                use(fw);
                Try t = tryTcp("app-1", vip("app-1", "ghost"), 80);
                assertEquals("", t.reply());
                // a reset, to the first SYN (the client would retransmit it after 1 s)
                assertEquals("ECONNREFUSED", t.how(), fw + ": refused with a TCP reset");
                assertTrue(t.seconds() < 0.9 * CLIENT_TIMEOUT, fw + ": refused after " + t.seconds() + " s");
                fleet.removeRules("vm1");
                Try control = tryTcp("app-1", vip("app-1", "ghost"), 80);
                assertEquals("timeout", control.how(), fw + ": control: without meshc's rules the connection hangs (" + control.seconds() + " s)");
                fleet.apply("vm1");
            }
        } finally {
            vm1.exec("ip route del default");
        }
    }

    /**
     * An address of a VM's subnet that no container holds is answered as unreachable at once (the
     * subnet's unreachable route), never sent out of the VM's default route unencapsulated: db-2's
     * container is gone but the files that still list it are not applied yet, so app-1's connection
     * to its address passes both VMs' flow sets. Control: without that route the SYN leaves vm2
     * through its default route and the connection hangs.
     */
    @Test
    void anUnheldAddressOfTheSubnetIsUnreachableAtOnce() throws Exception {
        var vm2 = fleet.vmNs.get("vm2");
        String gone = address("db-2");
        vm2.exec("ip route replace default via " + OUTSIDE).orFail("default route"); // the outside host drops what it is sent
        String subnet = vm2.exec("ip -o route show type unreachable").out().strip().split("\\s+")[1];
        fleet.detach("db-2");
        fleet.placed.remove("db-2");
        try {
            Try t = tryTcp("app-1", gone, 5432);
            assertEquals("", t.reply());
            assertEquals("EHOSTUNREACH", t.how(), "an ICMP host unreachable");
            assertTrue(t.seconds() < 0.9 * CLIENT_TIMEOUT, "unreachable after " + t.seconds() + " s");
            vm2.exec("ip route del unreachable " + subnet).orFail("control: without the route");
            Try control = tryTcp("app-1", gone, 5432);
            assertEquals("timeout", control.how(), "control: without the unreachable route the connection hangs (" + control.seconds() + " s)");
        } finally {
            vm2.exec("ip route del default");
            for (String vm : fleet.vms.keySet()) {
                fleet.stopNetworkd(vm);
                fleet.startNetworkd(vm);
            }
            attachAll();
        }
    }

    /**
     * 24 reloads, one new connection after each: the first connection is not always the same backend. A reload is
     * what an operator's periodic run does, meshc-apply again over the applied state: it replaces meshc's nft tables
     * and flushes and refills its iptables chains, so a balancer with state in its rules (a counter) would start
     * again each time and send every first connection to one backend. (Removing the rules before each reload, as this
     * test did, adds nothing to that and costs a second and a half per reload in the emulated guest.)
     */
    @Test
    void firstConnectionsAfterReloadsSpreadOverEveryBackend() throws IOException {
        String vip = vip("app-1", "database");
        for (String fw : FIREWALLS) {
            use(fw);
            TreeSet<String> seen = new TreeSet<>();
            Map<String, Integer> counts = new TreeMap<>();
            for (int i = 0; i < 24; i++) {
                fleet.apply("vm1");
                String b = tryTcp("app-1", vip, 5432).reply();
                seen.add(b);
                counts.merge(b, 1, Integer::sum);
            }
            // at random, all three are seen but with probability 3 * (2/3)^24 < 2e-4; with a counter, one only
            assertEquals(new TreeSet<>(List.of("db-1", "db-2", "db-3")), seen, fw + ": " + counts);
        }
    }

    /** A Docker-style bridge on vm1: its container still reaches a metadata address, which meshc's drops once broke. */
    @Test
    void aDockerBridgeBesideMeshcKeepsItsTraffic() throws Exception {
        var vm1 = fleet.vmNs.get("vm1");
        try (Kernel.Netns dk = new Kernel.Netns("dk")) {
            Kernel.sh("ip -n " + vm1.name + " link add docker0 type veth peer name eth0 netns " + dk.name).orFail("docker0");
            vm1.exec("ip addr add 172.17.0.1/16 dev docker0 && ip link set docker0 up && ip route replace 169.254.169.254/32 via " + OUTSIDE
                    + " && iptables -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE").orFail("docker host side");
            dk.exec("ip addr add 172.17.0.2/16 dev eth0 && ip link set eth0 up && ip route add default via 172.17.0.1").orFail("docker container");
            for (String fw : FIREWALLS) {
                use(fw);
                Kernel.Result r = dk.exec(Kernel.python() + " " + fleet.script + " connect 169.254.169.254 80 1 " + (sport++));
                assertTrue(r.out().contains("\"metadata\": 1"), fw + ": the Docker container reaches the metadata address: " + r.out());
            }
        } finally {
            vm1.exec("iptables -t nat -D POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE; ip route del 169.254.169.254/32; ip link del docker0");
        }
    }
}

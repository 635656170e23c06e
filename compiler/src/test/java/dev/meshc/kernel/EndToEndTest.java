package dev.meshc.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshc.TestSupport;
import dev.meshc.model.Ipv4;
import dev.meshc.model.Protocol;
import dev.meshc.plan.Binding;
import dev.meshc.plan.Frontend;
import dev.meshc.plan.Plan;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The fleet example (3 VMs, 10 containers, replicated db and cache, a UDP endpoint) built in
 * namespaces with the real systemd-networkd and nft, then with iptables-restore and ip -batch in
 * their place, and checked with real TCP/UDP traffic: routing, VIPs, balancing, isolation,
 * anti-spoofing, the tunnel filter, and a container moving between VMs. Every refusal has a
 * control: the same traffic with the responsible rules removed gets through.
 */
@Tag("kernel")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EndToEndTest {
    static final int BALANCE_CONNECTIONS = 300;
    Path work;
    Path inventory;
    Fleet fleet;
    Plan plan;
    int sport = 20000;
    long started;

    @BeforeAll
    void build() throws Exception {
        Kernel.require();
        started = System.nanoTime();
        work = Files.createTempDirectory("meshc-e2e");
        inventory = work.resolve("inventory.yml");
        Files.writeString(inventory, TestSupport.read(TestSupport.example("fleet")));
        Files.copy(TestSupport.example("fleet").resolveSibling("meshc.lock"), work.resolve("meshc.lock"));
        Path script = TestSupport.root().resolve("compiler/src/test/resources/e2e/netcheck.py");
        compile();
        Path logs = Files.createDirectories(work.resolve("logs"));
        fleet = new Fleet(work.resolve("out"), script, logs);
        fleet.startVms();
        fleet.applyAll(); // the production path: meshc-apply, then networkd configures what it made
        for (String vm : fleet.vms.keySet()) fleet.startNetworkd(vm);
        for (var c : fleet.containers.values()) fleet.attach(c);
        fleet.awaitRouting();
        for (var c : fleet.containers.values()) fleet.serve(c.name(), ports(c.service()));
    }

    @AfterAll
    void tearDown() throws IOException {
        if (fleet != null) fleet.close();
        System.err.printf(java.util.Locale.ROOT, "EndToEndTest: %.1f s%n", (System.nanoTime() - started) / 1e9);
    }

    void compile() throws IOException {
        var r = TestSupport.meshc("compile", inventory.toString(), "-o", work.resolve("out").toString(), "-q");
        assertEquals(0, r.code(), r.err());
        Frontend.Result fr = Frontend.run("inventory.yml", Files.readAllBytes(inventory), "lock", Files.readString(work.resolve("meshc.lock")));
        plan = fr.plan().orElseThrow();
    }

    List<Integer> ports(String service) {
        List<Integer> p = new ArrayList<>();
        plan.inventory().services().get(service).endpoints().values().forEach(e -> p.add(e.port()));
        return p;
    }

    boolean udp(Binding b) {
        return b.protocol() == Protocol.UDP;
    }

    List<String> backends(String service) {
        return plan.containersOfService(service).stream().map(c -> c.name()).sorted().toList();
    }

    String address(String container) {
        return fleet.containers.get(container).address();
    }

    Fleet.Tally send(String from, String host, int port, int n, boolean udp) {
        Fleet.Tally t = fleet.connect(from, host, port, n, sport, udp);
        sport += n;
        return t;
    }

    /** Every declared relationship works, by overlay address and by VIP, same VM and across VMs. */
    void assertRelationshipsWork(String mode) {
        int pairs = 0;
        boolean sameVm = false, crossVm = false;
        for (var c : fleet.containers.values()) {
            for (Binding b : plan.bindingsOf(c.service()).values()) {
                for (String backend : backends(b.service())) {
                    Fleet.Tally t = send(c.name(), address(backend), b.port(), 2, udp(b));
                    assertEquals(Map.of(backend, 2), t.replies(), mode + ": " + c.name() + " -> " + backend + " by overlay address");
                    if (fleet.containers.get(backend).vm().equals(c.vm())) sameVm = true; else crossVm = true;
                    pairs++;
                }
                Fleet.Tally v = send(c.name(), Ipv4.format(b.vip()), b.port(), 3, udp(b));
                assertEquals(0, v.failed(), mode + ": " + c.name() + " via VIP of " + b.relationship());
                assertTrue(backends(b.service()).containsAll(v.replies().keySet()), v.toString());
            }
        }
        assertTrue(pairs >= 10 && sameVm && crossVm, "pairs=" + pairs);
    }

    /**
     * 300 new connections through the database VIP, each backend chosen at random: each of N backends
     * gets 1/N within 4.5 standard deviations of the binomial (a false alarm about once in 10^5 runs),
     * none is lost.
     */
    void assertBalanced(String from, String relationship, String mode) {
        Binding b = plan.bindingsOf(fleet.containers.get(from).service()).get(relationship);
        List<String> expected = backends(b.service());
        Fleet.Tally t = send(from, Ipv4.format(b.vip()), b.port(), BALANCE_CONNECTIONS, udp(b));
        assertEquals(0, t.failed(), mode + ": lost connections " + t);
        assertEquals(expected, new ArrayList<>(t.replies().keySet()), mode + ": " + t);
        double p = 1.0 / expected.size();
        double share = BALANCE_CONNECTIONS * p;
        double bound = 4.5 * Math.sqrt(BALANCE_CONNECTIONS * p * (1 - p));
        for (var e : t.replies().entrySet()) {
            assertTrue(Math.abs(e.getValue() - share) <= bound, mode + ": " + e.getKey() + " got " + e.getValue() + " of " + t + " (expected "
                    + share + " +- " + bound + ")");
        }
        System.err.println("EndToEndTest " + mode + ": " + relationship + " from " + from + " -> " + t.replies() + ", failed " + t.failed());
    }

    /** Undeclared pairs (same VM and across VMs) are refused; with {@code open} run, the same pairs connect. */
    void assertIsolation(String mode, Runnable open, Runnable close) {
        // other-1 and app-1 share vm1; app-1 has no relationship to service other.
        // cache-1 (vm2) has no relationships at all; db-1 is on vm1.
        String[][] undeclared = {{"app-1", "other-1", "8080"}, {"cache-1", "db-1", "5432"}, {"worker-1", "cache-2", "6379"}};
        for (String[] u : undeclared) {
            Fleet.Tally t = send(u[0], address(u[1]), Integer.parseInt(u[2]), 2, false);
            assertEquals(Map.of(), t.replies(), mode + ": undeclared " + u[0] + " -> " + u[1] + " must be refused");
        }
        open.run();
        try {
            for (String[] u : undeclared) {
                Fleet.Tally t = send(u[0], address(u[1]), Integer.parseInt(u[2]), 2, false);
                assertEquals(Map.of(u[1], 2), t.replies(), mode + ": control without rules " + u[0] + " -> " + u[1]);
            }
        } finally {
            close.run();
        }
    }

    void reloadNft() {
        for (String vm : fleet.vms.keySet()) fleet.loadNft(vm);
    }

    void flushNft() {
        for (String vm : fleet.vms.keySet()) fleet.removeRules(vm);
    }

    @Test
    @Order(1)
    void relationshipsWorkByAddressAndVip() {
        assertRelationshipsWork("networkd+nft");
    }

    @Test
    @Order(2)
    void vipConnectionsBalanceEvenlyAndNoneIsLost() {
        assertBalanced("app-1", "database", "networkd+nft");
        assertBalanced("app-2", "cache", "networkd+nft");
    }

    @Test
    @Order(3)
    void undeclaredConnectionsAreRefused() {
        assertIsolation("networkd+nft", this::flushNft, this::reloadNft);
    }

    /**
     * other-1 forging the address of app-1 (same VM; app-1 may send to stats) is dropped at the VM;
     * control: without the anti-spoofing chain the forged datagrams pass the allowlist and arrive.
     */
    @Test
    @Order(4)
    void spoofedSourcesAreDropped() throws IOException {
        var app1 = fleet.containerNs.get("other-1");
        String spoof = address("app-1");
        app1.exec("ip addr add " + spoof + "/32 dev eth0").orFail("spoof address");
        try {
            fleet.clearUdpLog("stats-1", 8125);
            app1.exec("python3 " + fleet.script + " send-udp " + spoof + " " + address("stats-1") + " 8125 10").orFail("send");
            sleep(500);
            assertEquals(0, fleet.udpLogLines("stats-1", 8125), "spoofed datagrams must not arrive");
            fleet.vmNs.get("vm1").exec("nft flush chain ip meshc guard").orFail("flush guard");
            app1.exec("python3 " + fleet.script + " send-udp " + spoof + " " + address("stats-1") + " 8125 10").orFail("send");
            sleep(500);
            assertTrue(fleet.udpLogLines("stats-1", 8125) > 0, "control: without anti-spoofing the datagrams arrive");
        } finally {
            app1.exec("ip addr del " + spoof + "/32 dev eth0");
            reloadNft();
        }
    }

    /** A VXLAN packet from an underlay address that is no inventory VM is dropped; control: without the tunnel filter it arrives. */
    @Test
    @Order(5)
    void tunnelPacketsFromStrangersAreDropped() throws IOException {
        var target = fleet.containers.get("stats-1");
        var vm = plan.vms().get(target.vm());
        try (Kernel.Netns rogue = new Kernel.Netns("rg")) {
            Kernel.sh("ip -n " + fleet.underlay.name + " link add u-rogue type veth peer name eth0 netns " + rogue.name).orFail("rogue link");
            fleet.underlay.exec("ip link set u-rogue master br0 up").orFail("rogue port");
            String spoof = address("app-2");
            rogue.exec(String.join(" && ",
                    "ip addr add 192.168.99.99/16 dev eth0", "ip link set eth0 up",
                    "ip link add vx type vxlan id " + plan.inventory().network().vni() + " local 192.168.99.99 dstport "
                            + plan.inventory().network().vxlanPort() + " nolearning",
                    "ip link set vx up", "ip addr add " + spoof + "/32 dev vx",
                    "ip neigh add " + Ipv4.format(vm.gateway()) + " lladdr " + vm.mac() + " dev vx nud permanent",
                    "bridge fdb append " + vm.mac() + " dev vx dst " + Ipv4.format(vm.vm().underlay()),
                    "ip route add " + target.address() + "/32 via " + Ipv4.format(vm.gateway()) + " dev vx onlink")).orFail("rogue vxlan");
            fleet.clearUdpLog("stats-1", 8125);
            rogue.exec("python3 " + fleet.script + " send-udp " + spoof + " " + target.address() + " 8125 10").orFail("rogue send");
            sleep(500);
            assertEquals(0, fleet.udpLogLines("stats-1", 8125), "tunnel packets from 192.168.99.99 must be dropped");
            fleet.vmNs.get(target.vm()).exec("nft flush chain ip meshc tunnel_in").orFail("flush tunnel_in");
            rogue.exec("python3 " + fleet.script + " send-udp " + spoof + " " + target.address() + " 8125 10").orFail("rogue send");
            sleep(500);
            assertTrue(fleet.udpLogLines("stats-1", 8125) > 0, "control: without the tunnel filter the packets arrive");
        } finally {
            reloadNft();
        }
    }

    /** db-3 moves from vm3 to vm1: recompile, reapply, restart it there; consumers' VIPs are unchanged and reach it. */
    @Test
    @Order(6)
    void aMovedContainerIsReachedThroughUnchangedVips() throws Exception {
        Map<String, String> vipsBefore = vipsOfConsumers();
        String before = address("db-3");
        Files.writeString(inventory, Files.readString(inventory).replace("db-3: {service: db, vm: vm3}", "db-3: {service: db, vm: vm1}"));
        compile();
        fleet.detach("db-3");
        fleet.readOutput();
        fleet.applyAll();
        var moved = fleet.containers.get("db-3");
        assertEquals("vm1", moved.vm());
        assertTrue(!moved.address().equals(before));
        for (String vm : fleet.vms.keySet()) { // networkd rereads its directory on restart
            fleet.stopNetworkd(vm);
            fleet.startNetworkd(vm);
        }
        fleet.attach(moved);
        fleet.awaitRouting();
        fleet.serve("db-3", ports("db"));
        assertEquals(vipsBefore, vipsOfConsumers(), "VIPs never change when containers move");
        assertBalanced("app-1", "database", "after move");
        assertBalanced("worker-1", "database", "after move");
        assertEquals(Map.of("db-3", 2), send("app-2", moved.address(), 5432, 2, false).replies());
    }

    Map<String, String> vipsOfConsumers() throws IOException {
        Map<String, String> m = new TreeMap<>();
        for (var c : fleet.containers.values()) {
            Path p = fleet.host(c.vm()).resolve("containers").resolve(c.name()).resolve("relationships.json");
            m.put(c.name(), Files.readString(p));
        }
        return m;
    }

    /** The same VIP, balancing and isolation checks with rules.v4 applied (meshc-apply --firewall iptables) instead of nft. */
    @Test
    @Order(7)
    void iptablesRulesBehaveTheSame() {
        fleet.firewall = "iptables";
        Runnable load = () -> fleet.applyAll();
        Runnable flush = () -> fleet.vms.keySet().forEach(fleet::removeRules);
        load.run();
        try {
            assertTrue(fleet.vmNs.get("vm1").exec("nft list tables").out().lines().noneMatch(l -> l.contains("meshc")), "nft's meshc tables are gone");
            assertRelationshipsWork("networkd+iptables");
            assertBalanced("app-1", "database", "networkd+iptables");
            assertBalanced("app-2", "cache", "networkd+iptables");
            assertIsolation("networkd+iptables", flush, load);
        } finally {
            fleet.firewall = "nft";
            fleet.applyAll();
        }
    }

    /** Routing from ip/*.batch applied by meshc-apply --routing ip instead of systemd-networkd. */
    @Test
    @Order(8)
    void ipBatchRoutingBehavesTheSame() throws Exception {
        for (String vm : fleet.vms.keySet()) {
            fleet.stopNetworkd(vm);
            var ns = fleet.vmNs.get(vm);
            ns.exec("ip link del meshc-vx; for d in $(ls /sys/class/net | grep '^mc'); do ip addr flush dev $d; done").orFail("reset " + vm);
        }
        fleet.routing = "ip";
        fleet.applyAll();
        fleet.awaitRouting();
        assertRelationshipsWork("ip-batch+nft");
        assertBalanced("app-1", "database", "ip-batch+nft");
        assertIsolation("ip-batch+nft", this::flushNft, this::reloadNft);
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

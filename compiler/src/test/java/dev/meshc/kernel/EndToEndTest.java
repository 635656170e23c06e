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
 *
 * <p>Encapsulation-agnostic: {@code -Dmeshc.e2e.encap=gre} (or {@code MESHC_E2E_ENCAP=gre}) compiles the
 * example with {@code encapsulation: gre} (its lock unchanged) and runs every scenario over GRE; the
 * default is VXLAN, which every kernel here has. A kernel without GRE runs the GRE scenarios in a
 * guest kernel: {@link GuestGreTest}.
 */
@Tag("kernel")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EndToEndTest {
    static final int BALANCE_CONNECTIONS = 300;
    /** gre or vxlan: the encapsulation the fleet example is compiled with. */
    static final String ENCAP = encapsulation();
    static final boolean GRE = ENCAP.equals("gre");
    /** The tunnel device both paths create. */
    static final String TUNNEL = GRE ? "meshc-gre" : "meshc-vx";
    static final int BULK_BYTES = 2 << 20;
    Path work;
    Path inventory;
    Fleet fleet;
    Plan plan;
    int sport = 20000;
    long started;
    /** What the underlay carried during the bulk transfers (netcheck.py pcap-stats), by routing path. */
    final Map<String, tools.jackson.databind.JsonNode> captures = new TreeMap<>();

    static String encapsulation() {
        String e = System.getProperty("meshc.e2e.encap", System.getenv().getOrDefault("MESHC_E2E_ENCAP", "vxlan"));
        if (!e.equals("gre") && !e.equals("vxlan")) throw new IllegalArgumentException("meshc.e2e.encap must be gre or vxlan, not " + e);
        return e;
    }

    @BeforeAll
    void build() throws Exception {
        Kernel.require();
        Kernel.requireLinkKind(ENCAP);
        started = System.nanoTime();
        work = Files.createTempDirectory("meshc-e2e");
        inventory = work.resolve("inventory.yml");
        String example = TestSupport.read(TestSupport.example("fleet"));
        assertTrue(example.contains("\n  encapsulation: vxlan\n"), "the fleet example's encapsulation line moved");
        // the same inventory and its committed lock: only the encapsulation differs
        Files.writeString(inventory, example.replace("\n  encapsulation: vxlan\n", "\n  encapsulation: " + ENCAP + "\n"));
        Files.copy(TestSupport.example("fleet").resolveSibling("meshc.lock"), work.resolve("meshc.lock"));
        Path script = TestSupport.root().resolve("compiler/src/test/resources/e2e/netcheck.py");
        compile();
        phase("compiled");
        Path logs = Files.createDirectories(work.resolve("logs"));
        fleet = new Fleet(work.resolve("out"), script, logs);
        fleet.startVms();
        fleet.applyAll(); // the production path: bin/meshc-apply, then networkd configures what it made
        for (String vm : fleet.vms.keySet()) fleet.startNetworkd(vm);
        for (var c : fleet.containers.values()) fleet.attach(c);
        phase("namespaces, meshc-apply and networkd");
        fleet.awaitRouting();
        phase("routing configured");
        Map<String, List<Integer>> servers = new TreeMap<>();
        for (var c : fleet.containers.values()) servers.put(c.name(), ports(c.service()));
        fleet.serve(servers);
        System.err.printf(java.util.Locale.ROOT, "EndToEndTest (%s): fleet up in %.1f s%n", ENCAP, (System.nanoTime() - started) / 1e9);
    }

    void phase(String what) {
        System.err.printf(java.util.Locale.ROOT, "EndToEndTest (%s): %s at %.1f s%n", ENCAP, what, (System.nanoTime() - started) / 1e9);
    }

    @AfterAll
    void tearDown() throws IOException {
        if (fleet != null) fleet.close();
        System.err.printf(java.util.Locale.ROOT, "EndToEndTest (%s): %.1f s%n", ENCAP, (System.nanoTime() - started) / 1e9);
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

    /** 300 new connections through the database VIP: each of N backends gets 1/N ± 15%, none lost. */
    void assertBalanced(String from, String relationship, String mode) {
        Binding b = plan.bindingsOf(fleet.containers.get(from).service()).get(relationship);
        List<String> expected = backends(b.service());
        Fleet.Tally t = send(from, Ipv4.format(b.vip()), b.port(), BALANCE_CONNECTIONS, udp(b));
        assertEquals(0, t.failed(), mode + ": lost connections " + t);
        assertEquals(expected, new ArrayList<>(t.replies().keySet()), mode + ": " + t);
        // each backend is chosen at random: its count is binomial; 4.5 standard deviations is a false alarm about once in 10^5 runs
        double p = 1.0 / expected.size();
        double share = BALANCE_CONNECTIONS * p;
        double bound = 4.5 * Math.sqrt(BALANCE_CONNECTIONS * p * (1 - p));
        for (var e : t.replies().entrySet()) {
            assertTrue(Math.abs(e.getValue() - share) <= bound, mode + ": " + e.getKey() + " got " + e.getValue() + " of " + t
                    + " (expected " + share + " +- " + bound + ")");
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

    /** Removes meshc's rules from every VM, both firewalls (the control of each refusal). */
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
        assertAntiSpoofing("networkd+nft", () -> fleet.vmNs.get("vm1").exec("nft flush chain ip meshc guard").orFail("flush guard"), this::reloadNft);
    }

    void assertAntiSpoofing(String mode, Runnable openRpf, Runnable restore) throws IOException {
        var app1 = fleet.containerNs.get("other-1");
        String spoof = address("app-1");
        app1.exec("ip addr add " + spoof + "/32 dev eth0").orFail("spoof address");
        try {
            fleet.clearUdpLog("stats-1", 8125);
            fleet.ask("other-1", "send-udp", spoof, address("stats-1"), 8125, 10);
            sleep(500);
            assertEquals(0, fleet.udpLogLines("stats-1", 8125), mode + ": spoofed datagrams must not arrive");
            openRpf.run();
            fleet.ask("other-1", "send-udp", spoof, address("stats-1"), 8125, 10);
            sleep(500);
            assertTrue(fleet.udpLogLines("stats-1", 8125) > 0, mode + ": control: without anti-spoofing the datagrams arrive");
        } finally {
            app1.exec("ip addr del " + spoof + "/32 dev eth0");
            restore.run();
        }
    }

    /** A tunnel packet from an underlay address that is no inventory VM is dropped; control: without the tunnel filter it arrives. */
    @Test
    @Order(5)
    void tunnelPacketsFromStrangersAreDropped() throws IOException {
        assertTunnelFilter("networkd+nft", vm -> fleet.vmNs.get(vm).exec("nft flush chain ip meshc tunnel_in").orFail("flush tunnel_in"), this::reloadNft);
    }

    /**
     * A rogue host on the underlay (192.168.99.99, in no inventory) tunnels datagrams to stats-1 from
     * app-2's address (a consumer the allowlist admits): GRE to the VM's underlay address, or VXLAN
     * with the VM's MAC. Dropped by meshc's tunnel filter; control: with {@code openFilter} run on
     * the target VM the same datagrams arrive, so the refusal is the filter's.
     */
    void assertTunnelFilter(String mode, java.util.function.Consumer<String> openFilter, Runnable restore) throws IOException {
        var target = fleet.containers.get("stats-1");
        var vm = plan.vms().get(target.vm());
        String vmUnderlay = Ipv4.format(vm.vm().underlay());
        try (Kernel.Netns rogue = new Kernel.Netns("rg")) {
            Kernel.sh("ip -n " + fleet.underlay.name + " link add u-rogue type veth peer name eth0 netns " + rogue.name).orFail("rogue link");
            fleet.underlay.exec("ip link set u-rogue master br0 up").orFail("rogue port");
            String spoof = address("app-2");
            String tunnel = GRE
                    ? String.join(" && ", "ip link add tn type gre local 192.168.99.99 remote " + vmUnderlay + " ttl 64",
                            "ip link set tn up", "ip addr add " + spoof + "/32 dev tn",
                            "ip route add " + target.address() + "/32 dev tn")
                    : String.join(" && ", "ip link add tn type vxlan id " + plan.inventory().network().vni() + " local 192.168.99.99 dstport "
                            + plan.inventory().network().vxlanPort() + " nolearning",
                            "ip link set tn up", "ip addr add " + spoof + "/32 dev tn",
                            "ip neigh add " + Ipv4.format(vm.gateway()) + " lladdr " + vm.mac() + " dev tn nud permanent",
                            "bridge fdb append " + vm.mac() + " dev tn dst " + vmUnderlay,
                            "ip route add " + target.address() + "/32 via " + Ipv4.format(vm.gateway()) + " dev tn onlink");
            rogue.exec("ip addr add 192.168.99.99/16 dev eth0 && ip link set eth0 up && " + tunnel).orFail("rogue " + ENCAP);
            fleet.clearUdpLog("stats-1", 8125);
            rogue.exec(Kernel.python() + " " + fleet.script + " send-udp " + spoof + " " + target.address() + " 8125 10").orFail("rogue send");
            sleep(500);
            assertEquals(0, fleet.udpLogLines("stats-1", 8125), mode + ": " + ENCAP + " packets from 192.168.99.99 must be dropped");
            openFilter.accept(target.vm());
            rogue.exec(Kernel.python() + " " + fleet.script + " send-udp " + spoof + " " + target.address() + " 8125 10").orFail("rogue send");
            sleep(500);
            assertTrue(fleet.udpLogLines("stats-1", 8125) > 0, mode + ": control: without the tunnel filter the packets arrive");
        } finally {
            restore.run();
        }
    }

    /**
     * The NBMA tunnel's neighbour table: on every VM, one PERMANENT entry per peer VM mapping the
     * peer's gateway to its underlay address (GRE) or to its MAC (VXLAN), and no other entry.
     */
    void assertPermanentNeighbours(String mode) {
        for (String vm : fleet.vms.keySet()) {
            var got = Fleet.JSON.readTree(fleet.vmNs.get(vm).exec("ip -j neigh show dev " + TUNNEL).orFail("ip neigh").out());
            Map<String, String> entries = new TreeMap<>();
            for (var n : got) {
                String state = n.get("state") == null ? "?" : n.get("state").toString();
                entries.put(n.get("dst").asString(), n.path("lladdr").asString("") + " " + state);
            }
            Map<String, String> expected = new TreeMap<>();
            for (var peer : plan.vms().values()) {
                if (peer.name().equals(vm)) continue;
                expected.put(Ipv4.format(peer.gateway()), (GRE ? Ipv4.format(peer.vm().underlay()) : peer.mac()) + " [\"PERMANENT\"]");
            }
            assertEquals(expected, entries, mode + ": neighbours of " + TUNNEL + " on " + vm);
        }
    }

    /** The MTU of the VM's end of a container's veth (mc<k>). */
    void vethMtu(String container, int mtu) {
        var c = fleet.containers.get(container);
        fleet.vmNs.get(c.vm()).exec("ip link set mc" + c.index() + " mtu " + mtu).orFail("mc" + c.index() + " mtu " + mtu);
    }

    /**
     * MTU on one routing path, offloads off so the underlay shows wire-size packets:
     * <ul>
     * <li>the tunnel device's MTU is the containers' (1476 for GRE: 1500 - 24);</li>
     * <li>a bulk TCP transfer app-1 -> db-2 (across VMs, echoed back) at that MTU arrives intact, its
     * SYN announces MSS = MTU - 40, the underlay carries full 1500-byte outer packets, none larger
     * and none fragmented;</li>
     * <li>with a larger container MTU (1500 on both ends), path-MTU discovery: a 1500-byte DF
     * datagram is refused (the sender learns the tunnel MTU; nothing arrives) while one of the
     * tunnel MTU arrives, and a bulk transfer still arrives intact with the same underlay limits.</li>
     * </ul>
     */
    void assertMtu(String path) throws Exception {
        int mtu = fleet.containers.get("app-1").mtu();
        if (GRE) assertEquals(1476, mtu, "GRE: the containers' MTU is the tunnel's, 1500 - 24");
        for (var c : fleet.containers.values()) { // meshc sets the VM's end of every veth to the overlay MTU
            String veth = fleet.vmNs.get(c.vm()).exec("ip -o link show mc" + c.index()).orFail("veth").out();
            assertTrue(veth.contains(" mtu " + mtu + " "), path + ": mc" + c.index() + " on " + c.vm() + ": " + veth);
        }
        for (String vm : fleet.vms.keySet()) {
            String link = fleet.vmNs.get(vm).exec("ip -o link show " + TUNNEL).orFail("tunnel").out();
            assertTrue(link.contains(" mtu " + mtu + " "), path + ": " + TUNNEL + " on " + vm + ": " + link);
        }
        fleet.offloadsOff();
        String db2 = address("db-2");
        assertTrue(!fleet.containers.get("db-2").vm().equals(fleet.containers.get("app-1").vm()), "app-1 and db-2 on different VMs");
        fleet.stopServers("db-2");
        Path pcap = work.resolve("underlay-" + path + ".pcap");
        String filter = GRE ? "ip proto 47" : "udp port " + plan.inventory().network().vxlanPort();
        Process cap = fleet.capture(pcap, filter);
        Kernel.Netns app1 = fleet.containerNs.get("app-1"), db2ns = fleet.containerNs.get("db-2");
        try {
            fleet.echo("db-2", 5432);
            assertBulk(path + " at MTU " + mtu, db2);
            // a larger container MTU on both ends of both veths (meshc sets the VM's end to the overlay MTU;
            // a veth drops, without ICMP, what exceeds its peer's MTU): the tunnel is now the smaller link
            app1.exec("ip link set eth0 mtu 1500").orFail("mtu 1500");
            db2ns.exec("ip link set eth0 mtu 1500").orFail("mtu 1500");
            vethMtu("app-1", 1500);
            vethMtu("db-2", 1500);
            fleet.clearUdpLog("stats-1", 8125);
            String stats = address("stats-1");
            var big = fleet.ask("app-1", "df-udp", stats, 8125, 1500, 4, "big");
            var fit = fleet.ask("app-1", "df-udp", stats, 8125, mtu, 2, "fit");
            sleep(500);
            assertEquals(mtu, big.get("path_mtu").asInt(), path + ": the sender learned the tunnel MTU from ICMP: " + big);
            assertTrue(big.get("emsgsize").asInt() > 0, path + ": DF datagrams above the path MTU are refused at the sender once learned: " + big);
            assertEquals(0, fleet.udpLogLines("stats-1", 8125, "big"), path + ": no 1500-byte DF datagram crosses the tunnel");
            assertEquals(2, fleet.udpLogLines("stats-1", 8125, "fit"), path + ": control: DF datagrams of the tunnel MTU arrive " + fit);
            app1.exec("ip route flush cache").orFail("flush cache");
            assertBulk(path + " with container MTU 1500", db2);
            String cached = app1.exec("ip route get " + db2).orFail("route get").out();
            assertTrue(cached.contains("mtu " + mtu), path + ": app-1 learned path MTU " + mtu + " towards db-2: " + cached);
        } finally {
            Fleet.stopCapture(cap);
            app1.exec("ip link set eth0 mtu " + mtu + " && ip route flush cache");
            db2ns.exec("ip link set eth0 mtu " + mtu + " && ip route flush cache");
            vethMtu("app-1", mtu);
            vethMtu("db-2", mtu);
            fleet.stopServers("db-2");
            fleet.serve("db-2", ports("db"));
        }
        // one pass over the capture: outer sizes, fragments, TTLs, and the MSS of tunnelled SYNs
        // (inner IPv4 after the 4-byte GRE header, or VXLAN's UDP 8 + VXLAN 8 + Ethernet 14)
        var st = Fleet.JSON.readTree(Kernel.run(List.of(Kernel.python(), fleet.script.toString(), "pcap-stats", pcap.toString(), GRE ? "4" : "30"), 300)
                .orFail("pcap-stats").out());
        captures.put(path, st);
        System.err.println("EndToEndTest " + path + ": underlay " + ENCAP + " packets " + st);
        int full = st.get("full").asInt();
        assertTrue(full > 500, path + ": full-size outer packets (1500 bytes) on the underlay: " + st);
        assertEquals(0, st.get("larger").asInt(), path + ": outer packets above the underlay MTU: " + st);
        assertEquals(0, st.get("fragments").asInt(), path + ": fragmented outer packets: " + st);
        assertTrue(st.get("syn_mss").path(String.valueOf(mtu - 40)).asInt(0) > 0, path + ": tunnelled SYNs announce MSS " + (mtu - 40) + ": " + st);
    }

    void assertBulk(String what, String db2) {
        var r = fleet.ask("app-1", "bulk", db2, 5432, BULK_BYTES);
        System.err.println("EndToEndTest bulk " + what + ": " + r);
        assertTrue(r.get("intact").asBoolean(), what + ": " + BULK_BYTES + " bytes each way intact: " + r);
    }

    /**
     * The outer TTL of every tunnel packet a VM sent during the bulk transfers is 64 on this path,
     * the same on both paths and for both encapsulations (not inherited from the inner packet,
     * which a forwarding VM has already decremented to 63).
     */
    void assertOuterTtl(String path) {
        var st = captures.get(path);
        assertTrue(st != null, "the MTU test of the " + path + " path ran first");
        assertTrue(st.get("all").asInt() > 0, path + ": no " + ENCAP + " packets captured");
        assertEquals(st.get("all").asInt(), st.get("ttl").path("64").asInt(0), path + ": outer TTLs of the " + ENCAP + " packets: " + st.get("ttl"));
    }

    @Test
    @Order(6)
    void tunnelNeighboursArePermanentOnTheNetworkdPath() {
        assertPermanentNeighbours("networkd");
    }

    @Test
    @Order(7)
    void mtuBulkAndPathMtuOnTheNetworkdPath() throws Exception {
        assertMtu("networkd");
    }

    /**
     * For GRE this depends on gre.netdev setting TTL=64: without it networkd leaves the device at
     * ttl inherit and the outer TTL is the forwarded inner packet's, 63, while links.batch says ttl 64.
     */
    @Test
    @Order(8)
    void outerTtlIs64OnTheNetworkdPath() {
        assertOuterTtl("networkd");
    }

    /** db-3 moves from vm3 to vm1: recompile, reapply, restart it there; consumers' VIPs are unchanged and reach it. */
    @Test
    @Order(9)
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

    /** The same VIP, balancing and isolation checks with rules.v4 applied by iptables-restore instead of nft. */
    @Test
    @Order(10)
    void iptablesRulesBehaveTheSame() {
        Runnable load = loadIptables(), flush = flushIptables();
        load.run();
        try {
            assertRelationshipsWork("networkd+iptables");
            assertBalanced("app-1", "database", "networkd+iptables");
            assertBalanced("app-2", "cache", "networkd+iptables");
            assertIsolation("networkd+iptables", flush, load);
        } finally {
            fleet.firewall = "nft";
            reloadNft();
        }
    }

    /** rules.v4 and rules.v6 through meshc-apply --firewall iptables (which also removes meshc's nft tables). */
    Runnable loadIptables() {
        return () -> {
            fleet.firewall = "iptables";
            fleet.applyAll();
            assertTrue(fleet.vmNs.get("vm1").exec("nft list tables").out().lines().noneMatch(l -> l.contains("meshc")), "nft's meshc tables are gone");
        };
    }

    Runnable flushIptables() {
        return () -> fleet.vms.keySet().forEach(fleet::removeRules);
    }

    /** Routing from ip -batch (and bridge -batch for VXLAN's forwarding entries) instead of systemd-networkd. */
    @Test
    @Order(11)
    void ipBatchRoutingBehavesTheSame() throws Exception {
        for (String vm : fleet.vms.keySet()) {
            fleet.stopNetworkd(vm);
            var ns = fleet.vmNs.get(vm);
            ns.exec("ip link del " + TUNNEL + "; for d in $(ls /sys/class/net | grep '^mc'); do ip addr flush dev $d; done").orFail("reset " + vm);
            assertTrue(!ns.exec("ip -o route show").out().contains("onlink"), "networkd's routes are gone on " + vm);
        }
        fleet.routing = "ip"; // meshc-apply --routing ip: the batch files, pruned, instead of networkd
        fleet.applyAll();
        fleet.awaitRouting();
        assertPermanentNeighbours("ip-batch");
        assertRelationshipsWork("ip-batch+nft");
        assertBalanced("app-1", "database", "ip-batch+nft");
        assertIsolation("ip-batch+nft", this::flushNft, this::reloadNft);
    }

    @Test
    @Order(12)
    void tunnelFilterAndMtuOnTheIpBatchPath() throws Exception {
        assertTunnelFilter("ip-batch+nft", vm -> fleet.vmNs.get(vm).exec("nft flush chain ip meshc tunnel_in").orFail("flush tunnel_in"), this::reloadNft);
        assertMtu("ip-batch");
    }

    /** ip -batch routing with iptables: relationships, VIPs and balancing, isolation, anti-spoofing and the tunnel filter. */
    @Test
    @Order(13)
    void ipBatchWithIptables() throws Exception {
        Runnable load = loadIptables(), flush = flushIptables();
        load.run();
        try {
            assertRelationshipsWork("ip-batch+iptables");
            assertBalanced("app-2", "cache", "ip-batch+iptables");
            assertIsolation("ip-batch+iptables", flush, load);
            assertAntiSpoofing("ip-batch+iptables", () -> fleet.vmNs.get("vm1").exec("iptables -t raw -F MESHC-GUARD").orFail("flush MESHC-GUARD"), load);
            assertTunnelFilter("ip-batch+iptables", vm -> fleet.vmNs.get(vm).exec("iptables -F MESHC-TUNNEL-IN").orFail("flush MESHC-TUNNEL-IN"), load);
        } finally {
            fleet.firewall = "nft";
            reloadNft();
        }
    }

    @Test
    @Order(14)
    void outerTtlIs64OnTheIpBatchPath() {
        assertOuterTtl("ip-batch");
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

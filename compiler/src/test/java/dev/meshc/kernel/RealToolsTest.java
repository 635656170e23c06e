package dev.meshc.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshc.TestSupport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every file of every example is accepted by the program it is for (DESIGN §6). */
@Tag("kernel")
class RealToolsTest {
    @BeforeAll
    static void tools() {
        Kernel.require();
    }

    static Path write(Path dir, Map<String, byte[]> files) throws IOException {
        for (var e : files.entrySet()) {
            Path p = dir.resolve(e.getKey());
            Files.createDirectories(p.getParent());
            Files.write(p, e.getValue());
        }
        return dir;
    }

    static List<String> hosts(Map<String, byte[]> files) {
        TreeSet<String> h = new TreeSet<>();
        files.keySet().stream().filter(p -> p.startsWith("hosts/")).forEach(p -> h.add(p.split("/")[1]));
        return new ArrayList<>(h);
    }

    /** nft -c, iptables-restore --test and networkd's parser on one compiled tree; returns the number of files checked. */
    static int checkTree(Path out, List<String> hosts) {
        int checked = 0;
        try (Kernel.Netns ns = new Kernel.Netns("rt")) {
            for (String h : hosts) {
                Path host = out.resolve("hosts").resolve(h);
                ns.exec("nft -c -f " + host.resolve("nftables/meshc.nft")).orFail("nft -c -f for " + h);
                ns.exec("iptables-restore --test --noflush " + host.resolve("iptables/rules.v4")).orFail("iptables-restore --test for " + h);
                ns.exec("ip6tables-restore --test --noflush " + host.resolve("iptables/rules.v6")).orFail("ip6tables-restore --test for " + h);
                ns.exec("bash -n " + host.resolve("bin/meshc-apply")).orFail("bash -n meshc-apply for " + h);
                String log = Kernel.networkd(ns.name, host.resolve("systemd-network"), 20);
                assertTrue(log.contains("Enumeration completed"), () -> "networkd did not start:\n" + log);
                assertEquals(List.of(), Kernel.configWarnings(log), "systemd-networkd warnings for " + h);
                checked += 5;
            }
        }
        return checked;
    }

    @Test
    void everyExampleIsAcceptedByNftIptablesAndNetworkd(@TempDir Path dir) throws IOException {
        for (String example : TestSupport.examples()) {
            Map<String, byte[]> files = TestSupport.compileExample(example);
            checkTree(write(dir.resolve(example), files), hosts(files));
        }
    }

    /**
     * 200 random valid inventories (fuzz generator, both encapsulations): every nftables file, every
     * rules.v4 and every systemd-networkd directory is accepted by the real tool.
     */
    @Test
    void twoHundredRandomInventoriesAreAcceptedByTheRealTools(@TempDir Path dir) throws IOException {
        int inventories = 0, files = 0, vxlan = 0;
        for (long seed = 1; inventories < 200; seed++) {
            String yaml = dev.meshc.fuzz.InventoryGenerator.generate(seed);
            Map<String, byte[]> out = TestSupport.compile("random-" + seed + ".yml", yaml, null);
            if (out.keySet().stream().anyMatch(p -> p.endsWith("60-meshc-vx.netdev"))) vxlan++;
            files += checkTree(write(dir.resolve("r" + seed), out), hosts(out));
            inventories++;
        }
        System.err.println("RealToolsTest: " + inventories + " random inventories (" + vxlan + " VXLAN, " + (inventories - vxlan)
                + " GRE), " + files + " rulesets and networkd directories accepted");
        assertTrue(vxlan > 50 && inventories - vxlan > 50, "both encapsulations");
    }

    /**
     * Above 1,024 peers systemd-networkd refuses a .network file with more [Neighbor] sections
     * ("Failed to parse file: Cannot allocate memory", measured at 2,000 VMs), above 4,096 with more
     * [Route]s. meshc then leaves those tables to the ip/*.batch files: networkd must load the file
     * without a warning and install what it holds, and the batch files complete the tables.
     */
    @Test
    void largeFleetsStayWithinNetworkdLimits(@TempDir Path dir) throws IOException {
        for (int vms : new int[] {1100, 4200}) {
            StringBuilder yaml = new StringBuilder("version: 1\nnetwork: {underlay: 10.0.0.0/16, overlay: 240.0.0.0/4, encapsulation: vxlan}\nvms:\n");
            for (int i = 1; i <= vms; i++) yaml.append("  vm-").append(i).append(": {underlay: 10.0.").append(i >> 8).append('.').append(i & 255).append("}\n");
            var r = TestSupport.frontend("large.yml", yaml.toString(), null);
            assertTrue(r.ok(), r.diagnostics()::toString);
            assertTrue(r.diagnostics().stream().anyMatch(d -> d.code() == dev.meshc.diag.Code.N311), "a warning says where the tables went");
            Path host = dir.resolve("n" + vms);
            for (var a : dev.meshc.render.Renderers.renderHost(r.plan().get(), "vm-1", dev.meshc.render.Templates.bundled())) {
                Path p = host.resolve(a.path().substring("hosts/vm-1/".length()));
                Files.createDirectories(p.getParent());
                Files.write(p, a.bytes());
            }
            String network = Files.readString(host.resolve("systemd-network/60-meshc-vx.network"));
            assertFalse(network.contains("[Neighbor]") || network.contains("[BridgeFDB]") || network.contains("[Route]"));
            assertTrue(network.contains("Unmanaged=yes"), network);
            assertFalse(Files.exists(host.resolve("systemd-network/60-meshc-vx.netdev")), "networkd does not create the device");
            try (Kernel.Netns ns = new Kernel.Netns("lg")) {
                ns.exec("ip link add eth0 type veth peer name eth0p && ip addr add 10.0.0.1/16 dev eth0 && ip link set eth0 up && ip link set eth0p up")
                        .orFail("underlay");
                // meshc-apply owns the device and its tables; networkd, started before and after, leaves them alone
                String warnings = Kernel.networkd(ns.name, host.resolve("systemd-network"), 5);
                assertEquals(List.of(), Kernel.configWarnings(warnings), "networkd warnings at " + vms + " VMs");
                ns.exec("MESHC_STATE=" + dir.resolve("state" + vms) + " bash " + host.resolve("bin/meshc-apply") + " --routing ip")
                        .orFail("meshc-apply at " + vms + " VMs");
                Kernel.networkd(ns.name, host.resolve("systemd-network"), 5);
                assertEquals(vms - 1, ns.exec("ip route show").out().lines().filter(l -> l.contains("onlink")).count());
                assertEquals(vms - 1, ns.exec("ip neigh show dev meshc-vx nud permanent").out().lines().count(),
                        "networkd left the neighbours meshc-apply made");
            }
        }
    }

    static void awaitDevice(Kernel.Netns ns) {
        long deadline = System.currentTimeMillis() + 30_000;
        while (System.currentTimeMillis() < deadline) {
            if (ns.exec("ip addr show dev meshc-vx").out().contains("inet ")) return;
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        org.junit.jupiter.api.Assertions.fail("networkd did not configure meshc-vx within 30 s");
    }

    /** Controls: the checks above can fail. A bad key makes networkd warn; a bad rule makes nft and iptables refuse. */
    @Test
    void theChecksCatchBrokenFiles(@TempDir Path dir) throws IOException {
        Map<String, byte[]> files = TestSupport.compileExample("quickstart");
        Path out = write(dir, files);
        Path host = out.resolve("hosts/vm-a");
        Path network = host.resolve("systemd-network/60-meshc-gre.network");
        Files.writeString(network, Files.readString(network).replace("ConfigureWithoutCarrier=yes", "ConfigureWithoutCarier=yes"));
        Path nft = host.resolve("nftables/meshc.nft");
        Files.writeString(nft, Files.readString(nft).replace("dnat to", "dnat too"));
        Path ipt = host.resolve("iptables/rules.v4");
        Files.writeString(ipt, Files.readString(ipt).replace("--ctorigsrc ", "--ctorigsrcc "));
        try (Kernel.Netns ns = new Kernel.Netns("ct")) {
            assertFalse(Kernel.configWarnings(Kernel.networkd(ns.name, host.resolve("systemd-network"), 3)).isEmpty());
            assertTrue(ns.exec("nft -c -f " + nft).code() != 0);
            assertTrue(ns.exec("iptables-restore --test " + ipt).code() != 0);
        }
    }

    /**
     * The ip -batch files apply cleanly where the devices exist: VXLAN creates its own device from
     * links.batch; the containers' veths are made as the runtime would. (GRE devices cannot exist on
     * this kernel; GRE's routes are applied on a stand-in device of the same name, its neighbor
     * entries, whose link-layer addresses are IPv4 addresses, only through networkd's parser.)
     */
    @Test
    void ipBatchFilesApply(@TempDir Path dir) throws IOException {
        for (String example : TestSupport.examples()) {
            Map<String, byte[]> files = TestSupport.compileExample(example);
            Path out = write(dir.resolve(example), files);
            for (String h : hosts(files)) {
                Path host = out.resolve("hosts").resolve(h);
                String links = Files.readString(host.resolve("ip/links.batch"));
                boolean vxlan = links.contains("type vxlan");
                try (Kernel.Netns ns = new Kernel.Netns("ib")) {
                    if (vxlan) {
                        ns.exec("ip -batch " + host.resolve("ip/links.batch")).orFail("ip -batch links for " + h);
                        ns.exec("ip -batch " + host.resolve("ip/neighbors.batch")).orFail("ip -batch neighbors for " + h);
                        ns.exec("bridge -batch " + host.resolve("ip/fdb.batch")).orFail("bridge -batch fdb for " + h);
                    } else {
                        ns.exec("ip link add meshc-gre type veth peer name gre-peer && ip link set meshc-gre up").orFail("stand-in");
                    }
                    ns.exec("ip -batch " + host.resolve("ip/routes.batch")).orFail("ip -batch routes for " + h);
                    for (String line : Files.readAllLines(host.resolve("ip/containers.batch"))) {
                        if (line.startsWith("link set ")) {
                            String dev = line.split(" ")[2];
                            ns.exec("ip link add " + dev + " type veth peer name p" + dev).orFail("veth " + dev);
                        }
                    }
                    ns.exec("ip -batch " + host.resolve("ip/containers.batch")).orFail("ip -batch containers for " + h);
                    String routes = ns.exec("ip route show").out();
                    long peers = Files.readAllLines(host.resolve("ip/routes.batch")).stream().filter(l -> l.contains(" via ")).count();
                    assertEquals(peers, routes.lines().filter(l -> l.contains(" onlink")).count(), routes);
                }
            }
        }
    }
}

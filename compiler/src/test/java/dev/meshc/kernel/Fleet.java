package dev.meshc.kernel;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/**
 * A compiled inventory brought up in network namespaces: an underlay bridge, one namespace per VM
 * (systemd-networkd on its generated directory, its nftables file), one namespace per container
 * attached as the contract says. Everything it creates is removed by {@link #close()}.
 */
final class Fleet implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();

    record VmInfo(String name, String underlay, String iface) {
    }

    record ContainerInfo(String name, String service, String vm, int index, String address, String gateway, int mtu) {
    }

    final Path out;
    final Path script;
    final Kernel.Netns underlay;
    final Map<String, Kernel.Netns> vmNs = new TreeMap<>();
    final Map<String, Kernel.Netns> containerNs = new TreeMap<>();
    final Map<String, VmInfo> vms = new TreeMap<>();
    final Map<String, ContainerInfo> containers = new TreeMap<>();
    final Map<String, Process> networkd = new TreeMap<>();
    final List<Process> servers = new ArrayList<>();
    final Path logs;

    Fleet(Path out, Path script, Path logs) throws IOException {
        this.out = out;
        this.script = script;
        this.logs = logs;
        this.underlay = new Kernel.Netns("ul");
        underlay.exec("ip link add br0 type bridge && ip link set br0 up").orFail("underlay bridge");
        readOutput();
    }

    void readOutput() throws IOException {
        vms.clear();
        containers.clear();
        String ansible = Files.readString(out.resolve("ansible/inventory.yml"));
        String current = null;
        Map<String, String[]> hostVars = new LinkedHashMap<>();
        for (String line : ansible.split("\n")) {
            if (line.matches("    [a-z0-9-]+:")) current = line.strip().replace(":", "");
            else if (current != null && line.startsWith("      meshc_underlay: ")) hostVars.computeIfAbsent(current, k -> new String[2])[0] = line.substring(22);
            else if (current != null && line.startsWith("      meshc_interface: ")) hostVars.computeIfAbsent(current, k -> new String[2])[1] = line.substring(23);
        }
        hostVars.forEach((n, v) -> vms.put(n, new VmInfo(n, v[0], v[1])));
        for (String vm : vms.keySet()) {
            Path dir = out.resolve("hosts").resolve(vm).resolve("containers");
            if (!Files.isDirectory(dir)) continue;
            try (var s = Files.list(dir)) {
                for (Path c : s.sorted().toList()) {
                    JsonNode n = JSON.readTree(Files.readAllBytes(c.resolve("network.json")));
                    String name = c.getFileName().toString();
                    containers.put(name, new ContainerInfo(name, n.get("service").asString(), vm, n.get("index").asInt(),
                            n.get("address").asString(), n.get("gateway").asString(), n.get("mtu").asInt()));
                }
            }
        }
    }

    Path host(String vm) {
        return out.resolve("hosts").resolve(vm);
    }

    /** VM namespaces joined by the underlay bridge, forwarding on (from the generated sysctl file). */
    void startVms() {
        for (VmInfo vm : vms.values()) {
            Kernel.Netns ns = new Kernel.Netns("v" + vm.name());
            vmNs.put(vm.name(), ns);
            Kernel.sh("ip -n " + underlay.name + " link add u-" + vm.name() + " type veth peer name " + vm.iface() + " netns " + ns.name)
                    .orFail("underlay link for " + vm.name());
            underlay.exec("ip link set u-" + vm.name() + " master br0 up").orFail("bridge port");
            ns.exec("ip addr add " + vm.underlay() + "/16 dev " + vm.iface() + " && ip link set " + vm.iface() + " up").orFail("underlay address");
        }
    }

    /** The firewall and routing path {@link #apply} uses (meshc-apply's --firewall and --routing). */
    String firewall = "nft";
    String routing = "networkd";

    /**
     * Applies the VM's files as production does: its own bin/meshc-apply (sysctl, firewall, tunnel,
     * routes, forwarding, stale conntrack entries). networkd is restarted by the caller where needed
     * (it has no bus here for networkctl reload).
     */
    Kernel.Result apply(String vm) {
        return vmNs.get(vm).exec("MESHC_STATE=" + logs.resolve("state-" + vm) + " MESHC_NETWORKD_RELOAD=true bash "
                + host(vm).resolve("bin/meshc-apply") + " --firewall " + firewall + " --routing " + routing).orFail("meshc-apply on " + vm);
    }

    void applyAll() {
        for (String vm : vms.keySet()) apply(vm);
    }

    /** Removes every meshc rule from the VM (both firewalls): the control for each refusal. */
    void removeRules(String vm) {
        vmNs.get(vm).exec("nft delete table ip meshc; nft delete table ip6 meshc; "
                + "for x in iptables ip6tables; do for t in raw nat filter; do $x-save -t $t | sed -n '/^-A MESHC-/d; s/^-A \\([A-Z]*\\) \\(.*-j MESHC-[A-Z0-9-]*\\)$/\\1 \\2/p' | "
                + "while read -r c r; do eval $x -t $t -D $c $r; done; "
                + "for c in $($x-save -t $t | sed -n 's/^:\\(MESHC-[A-Z0-9-]*\\) .*/\\1/p'); do $x -t $t -F $c; done; "
                + "for c in $($x-save -t $t | sed -n 's/^:\\(MESHC-[A-Z0-9-]*\\) .*/\\1/p'); do $x -t $t -X $c; done; done; done; true");
        String left = vmNs.get(vm).exec("nft list ruleset; iptables-save; ip6tables-save").out();
        if (left.contains("meshc") || left.contains("MESHC")) fail("meshc rules left on " + vm + ":\n" + left);
    }

    void startNetworkd(String vm) throws IOException {
        Kernel.Netns ns = vmNs.get(vm);
        Path conf = host(vm).resolve("systemd-network");
        String sh = "mount -o remount,bind,ro /sys; mount --bind " + conf + " /etc/systemd/network; "
                + "mkdir -p /run/systemd/netif; mount -t tmpfs -o mode=0755 tmpfs /run/systemd/netif; "
                + "SYSTEMD_LOG_LEVEL=debug SYSTEMD_LOG_TARGET=console exec " + Kernel.NETWORKD;
        Path log = logs.resolve("networkd-" + vm + ".log");
        Process p = new ProcessBuilder("ip", "netns", "exec", ns.name, "unshare", "-m", "sh", "-c", sh)
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        networkd.put(vm, p);
    }

    void stopNetworkd(String vm) throws InterruptedException {
        Process p = networkd.remove(vm);
        if (p != null) {
            p.destroy();
            p.waitFor();
        }
    }

    void loadNft(String vm) {
        apply(vm);
    }

    void attach(ContainerInfo c) {
        Kernel.Netns ns = containerNs.computeIfAbsent(c.name(), n -> new Kernel.Netns("c" + n));
        Kernel.Netns vm = vmNs.get(c.vm());
        String dev = "mc" + c.index();
        Kernel.sh("ip -n " + vm.name + " link add " + dev + " type veth peer name eth0 netns " + ns.name).orFail("veth " + dev);
        vm.exec("ip link set " + dev + " up").orFail("up " + dev);
        ns.exec("ip addr add " + c.address() + "/32 dev eth0 && ip link set eth0 mtu " + c.mtu() + " up && "
                + "ip route add default via " + c.gateway() + " dev eth0 onlink").orFail("container side of " + c.name());
    }

    void detach(String container) {
        Kernel.Netns ns = containerNs.remove(container);
        if (ns != null) {
            ns.exec("ip link del eth0"); // both ends at once: the VM's mc<k> is free for the next container
            ns.close();
        }
    }

    /**
     * Empties meshc's filter chains on the VM, keeping its NAT (without any NAT chain the kernel stops
     * translating established flows too): a VM that forwards whatever conntrack says, the control for
     * refusals of flows that are already established.
     */
    void removeFilter(String vm) {
        if (firewall.equals("nft")) {
            vmNs.get(vm).exec("nft flush chain ip meshc forward && nft flush chain ip meshc input && nft flush chain ip meshc guard")
                    .orFail("flush meshc's filter chains on " + vm);
        } else {
            vmNs.get(vm).exec("iptables -F MESHC-FORWARD && iptables -F MESHC-INPUT && iptables -t raw -F MESHC-GUARD")
                    .orFail("flush meshc's filter chains on " + vm);
        }
    }

    /** Waits until every VM has its tunnel routes and every container's /32 route (networkd or ip -batch). */
    void awaitRouting() throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (true) {
            List<String> missing = new ArrayList<>();
            for (VmInfo vm : vms.values()) {
                String routes = vmNs.get(vm.name()).exec("ip route show").out();
                long onlink = routes.lines().filter(l -> l.contains("onlink")).count();
                if (onlink < vms.size() - 1) missing.add(vm.name() + " peers");
                for (ContainerInfo c : containers.values()) {
                    if (c.vm().equals(vm.name()) && !routes.contains(c.address() + " dev mc" + c.index())) missing.add(c.name());
                }
            }
            if (missing.isEmpty()) return;
            if (System.nanoTime() > deadline) fail("routing not configured after 30 s: " + missing);
            Thread.sleep(200);
        }
    }

    /** Starts the container's servers on each endpoint port of its service. */
    void serve(String container, List<Integer> ports) throws IOException {
        Kernel.Netns ns = containerNs.get(container);
        for (int port : ports) {
            Path log = logs.resolve("udp-" + container + "-" + port + ".log");
            Files.deleteIfExists(log);
            Process p = new ProcessBuilder("ip", "netns", "exec", ns.name, "python3", script.toString(), "serve", container,
                    String.valueOf(port), log.toString()).redirectErrorStream(true).start();
            BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String first = r.readLine();
            assertTrue("ready".equals(first), "server " + container + ":" + port + " did not start: " + first);
            servers.add(p);
        }
    }

    /** Datagrams whose payload starts with {@code tag} that {@code container} received on {@code port}. */
    int received(String container, int port, String tag) throws IOException {
        Path log = logs.resolve("udp-" + container + "-" + port + ".log");
        return Files.exists(log) ? (int) Files.readAllLines(log).stream().filter(l -> l.contains(" " + tag + "-")).count() : 0;
    }

    int udpLogLines(String container, int port) throws IOException {
        Path log = logs.resolve("udp-" + container + "-" + port + ".log");
        return Files.exists(log) ? (int) Files.readAllLines(log).stream().filter(l -> l.contains("spoof")).count() : 0;
    }

    void clearUdpLog(String container, int port) throws IOException {
        Files.deleteIfExists(logs.resolve("udp-" + container + "-" + port + ".log"));
    }

    /** Result of a batch of connections from one container. */
    record Tally(Map<String, Integer> replies, int failed) {
        int total() {
            return replies.values().stream().mapToInt(Integer::intValue).sum();
        }
    }

    Tally connect(String from, String host, int port, int n, int sport, boolean udp) {
        Kernel.Result r = containerNs.get(from).exec("python3 " + script + " " + (udp ? "udp" : "connect") + " " + host + " " + port + " " + n + " " + sport);
        r.orFail("traffic from " + from + " to " + host + ":" + port);
        JsonNode j = JSON.readTree(r.out().strip().lines().reduce((a, b) -> b).orElse("{}"));
        Map<String, Integer> replies = new TreeMap<>();
        j.get("replies").properties().forEach(e -> replies.put(e.getKey(), e.getValue().asInt()));
        return new Tally(replies, j.get("failed").asInt());
    }

    @Override
    public void close() {
        for (Process p : servers) p.destroyForcibly();
        for (Process p : networkd.values()) p.destroyForcibly();
        containerNs.values().forEach(Kernel.Netns::close);
        vmNs.values().forEach(Kernel.Netns::close);
        underlay.close();
    }
}

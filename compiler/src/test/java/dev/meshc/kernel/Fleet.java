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
    final Map<String, List<Process>> servers = new TreeMap<>();
    /** One netcheck.py agent per container namespace, started on first use. */
    final Map<String, Agent> agents = new TreeMap<>();

    /** A netcheck.py agent: one command a line in, one JSON line out. */
    record Agent(Process process, java.io.BufferedWriter in, BufferedReader out) {
    }
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

    /** The underlay's prefix length: each VM's address is added with it, so that the VMs are on one link. */
    int underlayPrefix = 16;

    /** VM namespaces joined by the underlay bridge, forwarding on (from the generated sysctl file). */
    void startVms() {
        for (VmInfo vm : vms.values()) {
            if (vmNs.containsKey(vm.name())) continue; // already up (a VM added by a later inventory is started alone)
            Kernel.Netns ns = new Kernel.Netns("v" + vm.name());
            vmNs.put(vm.name(), ns);
            Kernel.sh(String.join(" && ", "ip -n " + underlay.name + " link add u-" + vm.name() + " type veth peer name " + vm.iface() + " netns " + ns.name,
                    "ip -n " + underlay.name + " link set u-" + vm.name() + " master br0 up",
                    "ip -n " + ns.name + " addr add " + vm.underlay() + "/" + underlayPrefix + " dev " + vm.iface(), "ip -n " + ns.name + " link set " + vm.iface() + " up")).orFail("underlay link and address of " + vm.name());
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
        // not meshc-apply's own removal (the control must not depend on the code under test): each
        // family's ruleset saved, every MESHC line and jump dropped, restored whole
        // (one process each: declared then deleted, nft's tables go in one transaction whether or not they exist)
        String left = vmNs.get(vm).exec("printf 'table ip meshc\\ndelete table ip meshc\\ntable ip6 meshc\\ndelete table ip6 meshc\\n' | nft -f - && "
                + "for x in iptables ip6tables; do $x-save | grep -v -e '^:MESHC-' -e '^-A MESHC-' -e ' -j MESHC-' | $x-restore -w || exit 1; done && "
                + "echo '--- left' && nft list ruleset && iptables-save && ip6tables-save")
                .orFail("removing meshc's rules on " + vm).out();
        left = left.substring(left.indexOf("--- left"));
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
        networkdConf.put(vm, networkdDigest(vm));
    }

    /** What each running networkd was started on: a digest of its systemd-network directory. */
    final Map<String, String> networkdConf = new TreeMap<>();

    /**
     * Restarts the VM's networkd if its systemd-network files differ from those it was started on
     * (or it is not running), as a reload after an apply would; true if it did. An unchanged
     * directory needs nothing: networkd configures re-created links from what it already loaded.
     */
    boolean restartNetworkdIfChanged(String vm) throws IOException, InterruptedException {
        Process p = networkd.get(vm);
        if (p != null && p.isAlive() && networkdDigest(vm).equals(networkdConf.get(vm))) return false;
        stopNetworkd(vm);
        startNetworkd(vm);
        return true;
    }

    String networkdDigest(String vm) throws IOException {
        try {
            var md = java.security.MessageDigest.getInstance("SHA-256");
            Path dir = host(vm).resolve("systemd-network");
            if (Files.isDirectory(dir)) {
                try (var s = Files.list(dir)) {
                    for (Path f : s.sorted().toList()) {
                        md.update(f.getFileName().toString().getBytes(StandardCharsets.UTF_8));
                        md.update((byte) 0);
                        md.update(Files.readAllBytes(f));
                        md.update((byte) 0);
                    }
                }
            }
            return java.util.HexFormat.of().formatHex(md.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    void stopNetworkd(String vm) throws InterruptedException {
        Process p = networkd.remove(vm);
        if (p != null) {
            p.destroy();
            p.waitFor();
        }
        networkdConf.remove(vm);
    }

    void loadNft(String vm) {
        apply(vm);
    }

    void attach(ContainerInfo c) {
        Kernel.Netns ns = containerNs.computeIfAbsent(c.name(), n -> new Kernel.Netns("c" + n));
        Kernel.Netns vm = vmNs.get(c.vm());
        String dev = "mc" + c.index();
        Kernel.sh(String.join(" && ", "ip -n " + vm.name + " link add " + dev + " type veth peer name eth0 netns " + ns.name,
                "ip -n " + vm.name + " link set " + dev + " up", "ip -n " + ns.name + " addr add " + c.address() + "/32 dev eth0",
                "ip -n " + ns.name + " link set eth0 mtu " + c.mtu() + " up",
                "ip -n " + ns.name + " route add default via " + c.gateway() + " dev eth0 onlink")).orFail("veth " + dev + " for " + c.name());
    }

    void detach(String container) {
        Agent a = agents.remove(container);
        if (a != null) a.process().destroyForcibly();
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

    /** Containers attached by {@link #place}, with the address each was attached with. */
    final Map<String, String> placed = new TreeMap<>();

    /**
     * Moves containers as a runtime would after a new output: detaches those gone or re-addressed,
     * attaches (and serves, on {@code ports} of their service) those new or whose veth is missing,
     * then waits for routing.
     */
    void place(java.util.function.Function<String, List<Integer>> ports) throws IOException, InterruptedException {
        for (String c : new ArrayList<>(placed.keySet())) {
            var now = containers.get(c);
            if (now == null || !now.address().equals(placed.get(c))) {
                detach(c);
                placed.remove(c);
            }
        }
        Map<String, java.util.Set<String>> links = new TreeMap<>(); // one listing per VM, not one process per container
        for (var vm : vmNs.entrySet()) {
            links.put(vm.getKey(), new java.util.HashSet<>(Kernel.run(List.of("ip", "-n", vm.getValue().name, "-o", "link", "show"), 30).out().lines()
                    .map(l -> l.split(": ", 3)).filter(f -> f.length > 1).map(f -> f[1].replaceFirst("@.*", "")).toList()));
        }
        for (var c : containers.values()) {
            boolean veth = links.get(c.vm()).contains("mc" + c.index());
            if (placed.containsKey(c.name()) && veth) continue;
            detach(c.name());
            attach(c);
            placed.put(c.name(), c.address());
            serve(c.name(), ports.apply(c.service()));
        }
        awaitRouting();
    }

    /** Waits until every VM has its tunnel routes and every container's /32 route (networkd or ip -batch). */
    void awaitRouting() throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (true) {
            List<String> missing = new ArrayList<>();
            for (VmInfo vm : vms.values()) {
                String routes = Kernel.run(List.of("ip", "-n", vmNs.get(vm.name()).name, "route", "show"), 30).out();
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
        serve(Map.of(container, ports));
    }

    /** Starts the servers of several containers at once (all started, then all awaited: python3 starts slowly in a guest). */
    void serve(Map<String, List<Integer>> ports) throws IOException {
        Map<String, Process> started = new LinkedHashMap<>();
        for (var e : ports.entrySet()) {
            for (int port : e.getValue()) {
                Path log = logs.resolve("udp-" + e.getKey() + "-" + port + ".log");
                Files.deleteIfExists(log);
                Process p = new ProcessBuilder("ip", "netns", "exec", containerNs.get(e.getKey()).name, Kernel.python(), script.toString(), "serve",
                        e.getKey(), String.valueOf(port), log.toString()).redirectErrorStream(true).start();
                started.put(e.getKey() + ":" + port, p);
                servers.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(p);
            }
        }
        for (var e : started.entrySet()) {
            String first = new BufferedReader(new InputStreamReader(e.getValue().getInputStream(), StandardCharsets.UTF_8)).readLine();
            assertTrue("ready".equals(first), "server " + e.getKey() + " did not start: " + first);
        }
    }

    /** Datagrams whose payload starts with {@code tag} that {@code container} received on {@code port}. */
    int received(String container, int port, String tag) throws IOException {
        Path log = logs.resolve("udp-" + container + "-" + port + ".log");
        return Files.exists(log) ? (int) Files.readAllLines(log).stream().filter(l -> l.contains(" " + tag + "-")).count() : 0;
    }

    /** Stops the container's servers (to put another on its port). */
    void stopServers(String container) throws InterruptedException {
        for (Process p : servers.getOrDefault(container, List.of())) {
            p.destroyForcibly();
            p.waitFor();
        }
        servers.remove(container);
    }

    /** A TCP echo server on {@code port} in the container, stopped by {@link #stopServers}. */
    void echo(String container, int port) throws IOException {
        Process p = new ProcessBuilder("ip", "netns", "exec", containerNs.get(container).name, Kernel.python(), script.toString(), "echo",
                String.valueOf(port)).redirectErrorStream(true).start();
        String first = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
        assertTrue("ready".equals(first), "echo server " + container + ":" + port + " did not start: " + first);
        servers.computeIfAbsent(container, k -> new ArrayList<>()).add(p);
    }

    /** Every namespace this fleet made. */
    List<Kernel.Netns> namespaces() {
        List<Kernel.Netns> all = new ArrayList<>(List.of(underlay));
        all.addAll(vmNs.values());
        all.addAll(containerNs.values());
        return all;
    }

    /**
     * TSO, GSO and GRO off on every veth of the fleet, so that the underlay carries packets of the
     * size they have on a wire: with them on, 64 KiB segments cross the veths and hide MTU errors.
     */
    void offloadsOff() {
        for (Kernel.Netns ns : namespaces()) {
            ns.exec("for d in $(ip -o link show type veth | awk -F'[ :@]+' '{print $2}'); do "
                    + "ethtool -K $d tso off gso off gro off || exit 1; "
                    + "ethtool -k $d | grep -Eq '^(tcp-segmentation-offload|generic-segmentation-offload|generic-receive-offload): on' && exit 2; done; true")
                    .orFail("offloads off in " + ns.name);
        }
    }

    /** tcpdump on the underlay bridge writing {@code file}; stop it with {@link #stopCapture}. */
    Process capture(Path file, String filter) throws IOException, InterruptedException {
        Path log = Path.of(file + ".log");
        Process p = new ProcessBuilder("ip", "netns", "exec", underlay.name, "tcpdump", "-i", "br0", "-nn", "-U", "-s", "200", "-Z", "root",
                "-w", file.toString(), filter).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!Files.readString(log).contains("listening on")) {
            if (!p.isAlive() || System.nanoTime() > deadline) fail("tcpdump did not start: " + Files.readString(log));
            Thread.sleep(100);
        }
        return p;
    }

    static void stopCapture(Process p) throws InterruptedException {
        p.destroy(); // SIGTERM: tcpdump flushes and exits
        if (!p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) p.destroyForcibly().waitFor();
    }

    int udpLogLines(String container, int port) throws IOException {
        return udpLogLines(container, port, "spoof");
    }

    /** Datagrams the container's UDP server received whose payload contains {@code marker}. */
    int udpLogLines(String container, int port, String marker) throws IOException {
        Path log = logs.resolve("udp-" + container + "-" + port + ".log");
        return Files.exists(log) ? (int) Files.readAllLines(log).stream().filter(l -> l.contains(marker)).count() : 0;
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

    /** Runs a netcheck.py command (connect, udp, send-udp, bulk, df-udp) in the container's agent; its JSON answer. */
    JsonNode ask(String container, Object... command) {
        long t0 = System.nanoTime();
        try {
            Agent a = agents.get(container);
            if (a == null || !a.process().isAlive()) {
                Process p = new ProcessBuilder("ip", "netns", "exec", containerNs.get(container).name, Kernel.python(), script.toString(), "agent")
                        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
                a = new Agent(p, new java.io.BufferedWriter(new java.io.OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8)),
                        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)));
                String first = a.out().readLine();
                assertTrue("ready".equals(first), "agent in " + container + " did not start: " + first);
                agents.put(container, a);
            }
            List<String> argv = java.util.Arrays.stream(command).map(String::valueOf).toList();
            a.in().write(JSON.writeValueAsString(argv) + "\n");
            a.in().flush();
            String line = a.out().readLine();
            if (line == null) fail("agent in " + container + " died on " + argv);
            JsonNode j = JSON.readTree(line);
            if (j.has("error")) fail("agent in " + container + ": " + argv + ": " + j.get("error"));
            dev.meshc.TestSupport.timed("agent " + argv, t0);
            return j;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    Tally connect(String from, String host, int port, int n, int sport, boolean udp) {
        JsonNode j = ask(from, udp ? "udp" : "connect", host, port, n, sport);
        Map<String, Integer> replies = new TreeMap<>();
        j.get("replies").properties().forEach(e -> replies.put(e.getKey(), e.getValue().asInt()));
        return new Tally(replies, j.get("failed").asInt());
    }

    @Override
    public void close() {
        servers.values().forEach(l -> l.forEach(Process::destroyForcibly));
        agents.values().forEach(a -> a.process().destroyForcibly());
        for (Process p : networkd.values()) p.destroyForcibly();
        containerNs.values().forEach(Kernel.Netns::close);
        vmNs.values().forEach(Kernel.Netns::close);
        underlay.close();
    }
}

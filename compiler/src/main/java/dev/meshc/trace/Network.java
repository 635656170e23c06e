package dev.meshc.trace;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** Every host of an output tree, read from the files' bytes (paths relative to the tree: hosts/vm/...). */
public final class Network {
    private static final Pattern NFT_PATH = Pattern.compile("hosts/([^/]+)/nftables/meshc\\.nft");
    private static final Pattern ADDRESS = Pattern.compile("\"address\": \"([0-9.]+)\"");
    private static final Pattern HOST_INTERFACE = Pattern.compile("\"host_interface\": \"([A-Za-z0-9_.-]+)\"");
    final Map<String, Host> hosts = new TreeMap<>();
    final java.util.NavigableMap<String, byte[]> files;

    private Network(Map<String, byte[]> files) {
        this.files = files instanceof java.util.NavigableMap<String, byte[]> n ? n : new TreeMap<>(files);
    }

    /** Reads an output directory (only hosts/ is needed). */
    public static Network read(Path dir) throws IOException, TraceError {
        Map<String, byte[]> files = new TreeMap<>();
        Path hosts = dir.resolve("hosts");
        if (!Files.isDirectory(hosts)) throw new TraceError(dir.toString(), 0, "no hosts/ directory: not a meshc output tree");
        try (Stream<Path> s = Files.walk(hosts)) {
            for (Path p : (Iterable<Path>) s.filter(Files::isRegularFile).sorted()::iterator) {
                files.put(dir.relativize(p).toString().replace('\\', '/'), Files.readAllBytes(p));
            }
        }
        return of(files);
    }

    public static Network of(Map<String, byte[]> files) throws TraceError {
        Network n = new Network(files);
        for (String path : files.keySet()) {
            Matcher m = NFT_PATH.matcher(path);
            if (m.matches()) n.hosts.put(m.group(1), new Host(m.group(1)));
        }
        if (n.hosts.isEmpty()) throw new TraceError("hosts/", 0, "no host has nftables/meshc.nft");
        for (Host h : n.hosts.values()) {
            n.load(h);
            n.byUnderlay.put(h.underlay, h);
            for (Host.Container c : h.containers.values()) {
                n.byAddr.put(c.addr(), c);
                n.hostOf.put(c, h);
            }
        }
        return n;
    }

    private String text(String path, boolean required) throws TraceError {
        byte[] b = files.get(path);
        if (b == null) {
            if (required) throw new TraceError(path, 0, "missing");
            return "";
        }
        return new String(b, StandardCharsets.UTF_8);
    }

    private void load(Host h) throws TraceError {
        h.nft = NftParser.parse(h.dir + "nftables/meshc.nft", text(h.dir + "nftables/meshc.nft", true));
        h.ipt = IptParser.parse(h.dir + "iptables/rules.v4", text(h.dir + "iptables/rules.v4", true));
        h.batch("ip/links.batch", text(h.dir + "ip/links.batch", true));
        h.batch("ip/containers.batch", text(h.dir + "ip/containers.batch", true));
        h.batch("ip/routes.batch", text(h.dir + "ip/routes.batch", true));
        h.batch("ip/neighbors.batch", text(h.dir + "ip/neighbors.batch", true));
        h.batch("ip/fdb.batch", text(h.dir + "ip/fdb.batch", false));
        Pattern nd = Pattern.compile("hosts/" + Pattern.quote(h.name) + "/(systemd-network/[^/]+\\.network)");
        java.util.Set<String> own = files.subMap(h.dir, h.dir + Character.MAX_VALUE).keySet(); // this host's files only
        for (String path : own) {
            Matcher m = nd.matcher(path);
            if (m.matches()) h.networkd(m.group(1), text(path, true));
        }
        if (h.tunnel == null) throw new TraceError(h.dir + "ip/links.batch", 0, "no tunnel device");
        Pattern net = Pattern.compile("hosts/" + Pattern.quote(h.name) + "/containers/([^/]+)/network\\.json");
        for (String path : own) {
            Matcher m = net.matcher(path);
            if (!m.matches()) continue;
            String json = text(path, true);
            Matcher a = ADDRESS.matcher(json);
            Matcher v = HOST_INTERFACE.matcher(json);
            if (!a.find() || !v.find() || !Ip.isAddr(a.group(1))) throw new TraceError(path, 0, "no address or host_interface");
            h.containers.put(m.group(1), new Host.Container(m.group(1), Ip.parse(a.group(1)), v.group(1)));
        }
    }

    private final Map<Integer, Host.Container> byAddr = new java.util.HashMap<>();
    private final Map<Host.Container, Host> hostOf = new java.util.HashMap<>();
    private final Map<Integer, Host> byUnderlay = new java.util.HashMap<>();

    /** The host and container holding an overlay address, or null. */
    Host.Container container(int addr) {
        return byAddr.get(addr);
    }

    Host hostOf(Host.Container c) {
        return hostOf.get(c);
    }

    Host.Container container(String name) {
        for (Host h : hosts.values()) if (h.containers.containsKey(name)) return h.containers.get(name);
        return null;
    }


    Host byUnderlay(int u) {
        return byUnderlay.get(u);
    }

    /** The address {@code name} resolves to in the container's hosts file, with the line; null when absent. */
    int[] resolve(Host.Container c, String name) throws TraceError {
        Host h = hostOf(c);
        String path = h.dir + "containers/" + c.name() + "/hosts";
        String[] lines = text(path, false).split("\n", -1);
        for (int k = 0; k < lines.length; k++) {
            String[] f = lines[k].trim().split("\\s+");
            if (f.length >= 2 && Ip.isAddr(f[0])) for (int j = 1; j < f.length; j++) if (f[j].equals(name)) return new int[]{Ip.parse(f[0]), k + 1};
        }
        return null;
    }

    /** Where systemd-networkd's files and the ip -batch files disagree: fact -> where it is stated (the other side lacks it). */
    public Map<String, String> networkdDifferences() {
        Map<String, String> out = new TreeMap<>();
        for (Host h : hosts.values()) {
            for (var e : h.batchFacts.entrySet()) {
                boolean tunnelFact = e.getValue().contains("/ip/routes.batch") || e.getValue().contains("/ip/neighbors.batch") || e.getValue().contains("/ip/fdb.batch");
                if (tunnelFact && !h.networkdTunnel) continue; // networkd leaves the tunnel to bin/meshc-apply
                if (!h.networkdFacts.containsKey(e.getKey())) out.put(h.name + ": " + e.getKey(), e.getValue() + " (not in systemd-network/)");
            }
            for (var e : h.networkdFacts.entrySet()) {
                if (!h.batchFacts.containsKey(e.getKey())) out.put(h.name + ": " + e.getKey(), e.getValue() + " (not in ip/*.batch)");
            }
        }
        return out;
    }

    public java.util.Set<String> hostNames() {
        return hosts.keySet();
    }

    /** A flow end as the user named it: its name, its address, and the hops that resolved it (a hosts-file line). */
    public record Endpoint(String name, String address, java.util.List<Tracer.Hop> hops) {
    }

    /** SRC: a container name or the overlay address of a container. */
    public Endpoint source(String s) {
        Host.Container c = Ip.isAddr(s) ? container(Ip.parse(s)) : container(s);
        return c == null ? null : new Endpoint(c.name(), Ip.str(c.addr()), java.util.List.of());
    }

    /** DST host: a container name, any address, or a name in the source container's hosts file. */
    public Endpoint destination(Endpoint src, String h) throws TraceError {
        if (Ip.isAddr(h)) {
            Host.Container c = container(Ip.parse(h));
            return new Endpoint(c == null ? h : c.name(), h, java.util.List.of());
        }
        Host.Container c = container(h);
        if (c != null) return new Endpoint(c.name(), Ip.str(c.addr()), java.util.List.of());
        Host.Container s = container(src.name());
        int[] r = resolve(s, h);
        if (r == null) return null;
        Host sh = hostOf(s);
        return new Endpoint(h, Ip.str(r[0]), java.util.List.of(new Tracer.Hop(sh.name, sh.dir + "containers/" + s.name() + "/hosts", r[1],
                h + " is " + Ip.str(r[0]) + " in " + s.name() + "'s hosts file")));
    }
}

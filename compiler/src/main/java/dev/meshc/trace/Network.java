package dev.meshc.trace;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Every host of an output tree, read from the files' bytes (paths relative to the tree: hosts/vm/...).
 * Either every host is parsed up front ({@link #of}, {@link #read}), or ({@link #lazy}) each host is parsed
 * when a trace first reaches it and a bounded number stay parsed: at a thousand VMs the parsed rulesets of
 * every host would not fit in the heap.
 */
public final class Network {
    private static final Pattern NFT_PATH = Pattern.compile("hosts/([^/]+)/nftables/meshc\\.nft");
    private static final Pattern ADDRESS = Pattern.compile("\"address\": \"([0-9.]+)\"");
    private static final Pattern HOST_INTERFACE = Pattern.compile("\"host_interface\": \"([A-Za-z0-9_.-]+)\"");

    /** One host's files (paths relative to the tree), for a lazy network; null when the host has none. */
    public interface HostFiles {
        Map<String, byte[]> of(String vm) throws IOException;
    }

    private final java.util.SortedSet<String> names = new java.util.TreeSet<>();
    private final Map<String, Host> loaded;
    private final HostFiles source;
    /** Lazy: where a container address or an underlay address lives, as the inventory says; the host's own files then decide. */
    private final Map<Integer, String> containerHint;
    private final Map<Integer, String> underlayHint;

    private Network(Map<String, Host> loaded, HostFiles source, Map<Integer, String> containerHint, Map<Integer, String> underlayHint) {
        this.loaded = loaded;
        this.source = source;
        this.containerHint = containerHint;
        this.underlayHint = underlayHint;
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

    public static Network of(Map<String, byte[]> all) throws TraceError {
        java.util.NavigableMap<String, byte[]> files = all instanceof java.util.NavigableMap<String, byte[]> n ? n : new TreeMap<>(all);
        Network n = new Network(new TreeMap<>(), null, null, null);
        for (String path : files.keySet()) {
            Matcher m = NFT_PATH.matcher(path);
            if (m.matches()) n.names.add(m.group(1));
        }
        if (n.names.isEmpty()) throw new TraceError("hosts/", 0, "no host has nftables/meshc.nft");
        for (String vm : n.names) {
            Host h = parse(vm, files.subMap("hosts/" + vm + "/", true, "hosts/" + vm + "/" + Character.MAX_VALUE, false));
            n.loaded.put(vm, h);
            n.byUnderlay.put(h.underlay, h);
            for (Host.Container c : h.containers.values()) n.byAddr.put(c.addr(), c);
        }
        return n;
    }

    /**
     * A network whose hosts are parsed on first use from {@code source}, at most {@code keep} at a time.
     * {@code containers} and {@code underlays} say which host to open for an address (the inventory's plan).
     */
    public static Network lazy(java.util.Collection<String> vms, HostFiles source, Map<Integer, String> containers, Map<Integer, String> underlays, int keep) {
        int[] bound = {keep};
        Map<String, Host> cache = new java.util.LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Host> e) {
                return size() > bound[0];
            }
        };
        Network n = new Network(cache, source, Map.copyOf(containers), Map.copyOf(underlays));
        n.names.addAll(vms);
        n.keep = bound;
        return n;
    }

    /** A lazy network's bound on hosts kept parsed (null when read whole). */
    private int[] keep;

    /** Changes how many hosts a lazy network keeps parsed from now on (the ones beyond it go as others are parsed). */
    void keep(int hosts) {
        if (keep == null) throw new IllegalStateException("not a lazy network");
        keep[0] = hosts;
    }

    /** Null, or the only hosts a trace enters: a flow handed to another host through the tunnel ends there. */
    private java.util.Set<String> boundary;

    /** Traces stop at the tunnel towards hosts outside {@code vms} (null: none): what the files of these hosts decide. */
    void limitTo(java.util.Set<String> vms) {
        this.boundary = vms == null ? null : java.util.Set.copyOf(vms);
    }

    /** Whether a trace enters the host with this underlay address. */
    boolean evaluates(int underlay) {
        if (boundary == null) return true;
        String vm = underlayHint != null ? underlayHint.get(underlay) : null;
        if (vm == null) {
            Host h = byUnderlay.get(underlay);
            vm = h == null ? null : h.name;
        }
        return vm == null || boundary.contains(vm);
    }

    /** The host named {@code vm}, parsed (null when the tree has no such host). */
    Host host(String vm) throws TraceError {
        Host h = loaded.get(vm);
        if (h != null || source == null || !names.contains(vm)) {
            if (h != null) readAhead(vm);
            return h;
        }
        Loaded l;
        if (vm.equals(aheadVm)) {
            java.util.concurrent.FutureTask<Loaded> t = aheadTask;
            aheadVm = null;
            aheadTask = null;
            l = awaitAhead(t);
        } else {
            l = load(vm);
        }
        sourceNanos += l.sourceNanos;
        parseNanos += l.parseNanos;
        parses++;
        loaded.put(vm, l.host);
        readAhead(vm);
        return l.host;
    }

    /** A host read and parsed, with the time each took. */
    private record Loaded(Host host, long sourceNanos, long parseNanos) {
    }

    /** Reads and parses one host: no state of the network is touched (it may run on the read-ahead thread). */
    private Loaded load(String vm) throws TraceError {
        Map<String, byte[]> files;
        long t0 = System.nanoTime();
        try {
            files = source.of(vm);
        } catch (IOException e) {
            throw new TraceError("hosts/" + vm + "/", 0, "cannot read: " + e.getMessage());
        }
        long t1 = System.nanoTime();
        if (files == null || files.isEmpty()) throw new TraceError("hosts/" + vm + "/", 0, "missing");
        Host h = parse(vm, files instanceof java.util.NavigableMap<String, byte[]> nm ? nm : new TreeMap<>(files));
        return new Loaded(h, t1 - t0, System.nanoTime() - t1);
    }

    /** The hosts a lazy network reads ahead, in the order they will be asked for, and each one's place in it. */
    private Map<String, Integer> aheadOrder;
    private List<String> ahead;
    /** The host being read ahead (null: none) and its task. */
    private String aheadVm;
    private java.util.concurrent.FutureTask<Loaded> aheadTask;

    /**
     * A lazy network reads and parses the next host of {@code order} (one that is not parsed yet) on a second thread
     * while the caller works on the current one: a host's files take about as long to parse (2 MB at fleet L) as
     * verify takes to check them. One host ahead at most, so memory grows by one parsed host. What is read is the
     * same as when the host is first asked for, and so is what fails: an error reading ahead is thrown when (and only
     * if) that host is asked for. {@code null} or an empty list: no reading ahead.
     */
    void readAheadIn(java.util.Collection<String> order) {
        if (source == null) return;
        if (aheadTask != null) aheadTask.cancel(true); // a host of the previous order that was not asked for: not kept
        aheadVm = null;
        aheadTask = null;
        ahead = order == null ? List.of() : List.copyOf(order);
        aheadOrder = new java.util.HashMap<>();
        for (int i = 0; i < ahead.size(); i++) aheadOrder.putIfAbsent(ahead.get(i), i);
    }

    /** The order hosts are read ahead in (null: none). */
    List<String> readingAhead() {
        return ahead;
    }

    /** After {@code vm} was asked for: starts reading the next host of the order after it, if none is being read. */
    private void readAhead(String vm) {
        if (ahead == null || aheadTask != null) return;
        Integer at = aheadOrder.get(vm);
        if (at == null) return;
        for (int i = at + 1; i < ahead.size(); i++) {
            String next = ahead.get(i);
            if (loaded.containsKey(next) || !names.contains(next)) continue;
            java.util.concurrent.FutureTask<Loaded> t = new java.util.concurrent.FutureTask<>(() -> load(next));
            Thread th = new Thread(t, "meshc-read-ahead");
            th.setDaemon(true);
            th.start();
            aheadVm = next;
            aheadTask = t;
            return;
        }
    }

    /** The read-ahead's result, or what it threw, as the same call on this thread would have thrown it. */
    private static Loaded awaitAhead(java.util.concurrent.FutureTask<Loaded> t) throws TraceError {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return t.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof TraceError te) throw te;
            if (c instanceof RuntimeException re) throw re;
            if (c instanceof Error er) throw er;
            throw new IllegalStateException(c);
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    private int parses;
    private long sourceNanos, parseNanos;

    /** Time spent so far getting hosts' files (reading or rendering them) and parsing them, in nanoseconds. */
    public long[] loadNanos() {
        return new long[]{sourceNanos, parseNanos};
    }

    /** Hosts a lazy network has parsed so far, a host parsed again after it was dropped counting again (0 when read whole). */
    public int parses() {
        return parses;
    }

    private static String text(Map<String, byte[]> files, String path, boolean required) throws TraceError {
        byte[] b = files.get(path);
        if (b == null) {
            if (required) throw new TraceError(path, 0, "missing");
            return "";
        }
        return new String(b, StandardCharsets.UTF_8);
    }

    /** One host parsed from its own files (paths relative to the tree); also outside any network (review's pass over the hosts). */
    static Host parse(String vm, java.util.NavigableMap<String, byte[]> own) throws TraceError {
        Host h = new Host(vm);
        h.nft = NftParser.parse(h.dir + "nftables/meshc.nft", text(own, h.dir + "nftables/meshc.nft", true));
        h.ipt = IptParser.parse(h.dir + "iptables/rules.v4", text(own, h.dir + "iptables/rules.v4", true));
        h.batch("ip/links.batch", text(own, h.dir + "ip/links.batch", true));
        h.batch("ip/containers.batch", text(own, h.dir + "ip/containers.batch", true));
        h.batch("ip/routes.batch", text(own, h.dir + "ip/routes.batch", true));
        h.batch("ip/neighbors.batch", text(own, h.dir + "ip/neighbors.batch", true));
        h.batch("ip/fdb.batch", text(own, h.dir + "ip/fdb.batch", false));
        Pattern nd = Pattern.compile("hosts/" + Pattern.quote(h.name) + "/(systemd-network/[^/]+\\.network)");
        for (String path : own.keySet()) {
            Matcher m = nd.matcher(path);
            if (m.matches()) h.networkd(m.group(1), text(own, path, true));
        }
        if (h.tunnel == null) throw new TraceError(h.dir + "ip/links.batch", 0, "no tunnel device");
        Pattern net = Pattern.compile("hosts/" + Pattern.quote(h.name) + "/containers/([^/]+)/network\\.json");
        for (String path : own.keySet()) {
            Matcher m = net.matcher(path);
            if (!m.matches()) continue;
            String json = text(own, path, true);
            Matcher a = ADDRESS.matcher(json);
            Matcher v = HOST_INTERFACE.matcher(json);
            if (!a.find() || !v.find() || !Ip.isAddr(a.group(1))) throw new TraceError(path, 0, "no address or host_interface");
            h.containers.put(m.group(1), new Host.Container(m.group(1), Ip.parse(a.group(1)), v.group(1), vm));
        }
        h.files = own;
        return h;
    }

    private final Map<Integer, Host.Container> byAddr = new java.util.HashMap<>();
    private final Map<Integer, Host> byUnderlay = new java.util.HashMap<>();

    /** The host and container holding an overlay address, or null. */
    Host.Container container(int addr) throws TraceError {
        if (source == null) return byAddr.get(addr);
        String vm = containerHint.get(addr);
        if (vm != null && boundary != null && !boundary.contains(vm)) return null; // beyond the hosts checked: not read
        Host h = vm == null ? null : host(vm);
        if (h == null) return null;
        Host.Container found = null; // the last of a host's containers with the address, as a network read whole keeps it
        for (Host.Container c : h.containers.values()) if (c.addr() == addr) found = c;
        return found;
    }

    Host hostOf(Host.Container c) throws TraceError {
        return host(c.vm());
    }

    Host.Container container(String name) throws TraceError {
        for (String vm : names) {
            Host h = host(vm);
            if (h.containers.containsKey(name)) return h.containers.get(name);
        }
        return null;
    }

    Host byUnderlay(int u) throws TraceError {
        if (source == null) return byUnderlay.get(u);
        String vm = underlayHint.get(u);
        Host h = vm == null ? null : host(vm);
        return h != null && h.underlay == u ? h : null;
    }

    /** The address {@code name} resolves to in the container's hosts file, with the line; null when absent. */
    int[] resolve(Host.Container c, String name) throws TraceError {
        Host h = hostOf(c);
        String path = h.dir + "containers/" + c.name() + "/hosts";
        String[] lines = text(h.files, path, false).split("\n", -1);
        for (int k = 0; k < lines.length; k++) {
            String[] f = lines[k].trim().split("\\s+");
            if (f.length >= 2 && Ip.isAddr(f[0])) for (int j = 1; j < f.length; j++) if (f[j].equals(name)) return new int[]{Ip.parse(f[0]), k + 1};
        }
        return null;
    }

    /** Where systemd-networkd's files and the ip -batch files disagree: fact -> where it is stated (the other side lacks it). */
    public Map<String, String> networkdDifferences() throws TraceError {
        return networkdDifferences(names);
    }

    /** The same, for these hosts only. */
    public Map<String, String> networkdDifferences(java.util.Collection<String> vms) throws TraceError {
        Map<String, String> out = new TreeMap<>();
        for (String vm : vms) {
            Host h = host(vm);
            if (h == null) continue;
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

    /** Every host of a network read whole ({@link #of}, {@link #read}), by name. */
    Map<String, Host> allHosts() {
        if (source != null) throw new IllegalStateException("a lazy network parses hosts on demand");
        return java.util.Collections.unmodifiableMap(loaded);
    }

    public java.util.SortedSet<String> hostNames() {
        return java.util.Collections.unmodifiableSortedSet(names);
    }

    /** A flow end as the user named it: its name, its address, and the hops that resolved it (a hosts-file line). */
    public record Endpoint(String name, String address, java.util.List<Tracer.Hop> hops) {
    }

    /** SRC: a container name or the overlay address of a container. */
    public Endpoint source(String s) throws TraceError {
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

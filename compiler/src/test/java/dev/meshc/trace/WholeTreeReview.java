package dev.meshc.trace;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The previous {@link Review}, which read both trees whole (kept in the tests as the oracle of the host-by-host one:
 * {@code ReviewEquivalenceTest} runs odd trees through both; its report's records print alike). Not meshc's code.
 */
final class WholeTreeReview {
    /** How disruptive applying a host's new files is, mildest first (bin/meshc-apply's steps decide). */
    public enum Disruption {
        HITLESS("hitless"), BALANCING_RESET("balancing reset"), FLOWS_CUT("established flows cut"), DEVICE_RECREATED("device recreated");

        public final String label;

        Disruption(String label) {
            this.label = label;
        }
    }

    /** A flow by name; {@code group} is the relationship (or replicas, VM ports, egress) it belongs to. */
    public record Flow(String group, String src, String dst, String proto, int port) {
        public String describe() {
            return src + " -> " + dst + ":" + port + "/" + proto;
        }
    }

    /** A flow gained or lost, with its trace on each side (null where its source does not exist, or its destination does not). */
    public record FlowChange(Flow flow, String baseAddr, String headAddr, Tracer.Trace base, Tracer.Trace head) {
    }

    public record Container(String name, String service, String vm, String address) {
    }

    public record Readdressed(Container base, Container head) {
    }

    /** A binding (consumer service -> service:endpoint) whose VIPs differ: each side as "address (relationship)". */
    public record VipChange(String binding, List<String> base, List<String> head) {
    }

    /**
     * One host's rewritten files (relative to hosts/VM/, "+" added, "-" removed), the worst disruption and why;
     * {@code settings}: a kernel setting changes (an MTU, sysctl), which no flow shows but packets feel.
     */
    public record HostChange(String host, List<String> files, Disruption disruption, List<String> reasons, boolean settings) {
    }

    public record Report(String firewall, List<FlowChange> gained, List<FlowChange> lost, List<Container> added, List<Container> removed,
            List<Readdressed> readdressed, List<VipChange> vips, List<HostChange> hosts, int probed) {
        /** A VIP moved: what an application's connection string or pinned address breaks on. */
        public boolean unexpected() {
            return !vips.isEmpty();
        }

        /** Anything beyond a hitless rewrite: flows, containers, VIPs, or a host whose apply disturbs traffic. */
        public boolean changed() {
            return !gained.isEmpty() || !lost.isEmpty() || !added.isEmpty() || !removed.isEmpty() || !readdressed.isEmpty() || !vips.isEmpty()
                    || hosts.stream().anyMatch(h -> h.disruption() != Disruption.HITLESS || h.settings());
        }
    }

    /**
     * Reads an output tree meshc compile wrote: every file but the hidden ones, by path relative to the tree.
     * A file review does not evaluate (the other firewall's rules, the apps' environment files, scripts) is held
     * as its SHA-256 only: it is compared with the other tree's, never read. At fleet M that is half the bytes.
     * Review the result with the same {@code fw}: under the other, that firewall's rules are a digest.
     */
    public static Map<String, byte[]> read(Path dir, Tracer.Firewall fw) throws IOException, TraceError {
        if (!Files.isRegularFile(dir.resolve("manifest.json"))) throw new TraceError(dir.toString(), 0, "no manifest.json: not an output tree of meshc compile");
        if (!Files.isDirectory(dir.resolve("hosts"))) throw new TraceError(dir.toString(), 0, "no hosts/ directory: not an output tree of meshc compile");
        Map<String, byte[]> files = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.filter(Files::isRegularFile).sorted()::iterator) {
                String rel = dir.relativize(p).toString().replace('\\', '/');
                if (rel.startsWith(".") || rel.contains("/.")) continue; // .meshc-hosts, .meshc-lock, temp files
                byte[] b = Files.readAllBytes(p);
                files.put(rel, evaluated(rel, fw) ? b : digest(b));
            }
        }
        return files;
    }

    private static final Pattern EVALUATED = Pattern.compile("hosts/[^/]+/(nftables/meshc\\.nft|ip/[^/]+\\.batch|systemd-network/[^/]+\\.network"
            + "|containers/[^/]+/(network|relationships)\\.json|conntrack/flows)");

    private static boolean evaluated(String path, Tracer.Firewall fw) {
        return EVALUATED.matcher(path).matches() || fw == Tracer.Firewall.IPTABLES && path.matches("hosts/[^/]+/iptables/rules\\.v4");
    }

    private static byte[] digest(byte[] b) {
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(b);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every Java runtime has SHA-256
        }
    }

    /** What an nft evaluation reads in place of rules.v4 (Network reads both firewalls; only one is traced). */
    private static final byte[] NO_IPTABLES = String.join("\n", "*filter", ":MESHC-GUARD - [0:0]", ":MESHC-DNAT - [0:0]", ":MESHC-SNAT - [0:0]",
            ":MESHC-INPUT - [0:0]", ":MESHC-FORWARD - [0:0]", "COMMIT", "").getBytes(StandardCharsets.UTF_8);

    private final Side base;
    private final Side head;
    private final Tracer.Firewall fw;

    WholeTreeReview(Map<String, byte[]> base, Map<String, byte[]> head, Tracer.Firewall fw) throws TraceError {
        this.base = new Side(base, fw);
        this.head = new Side(head, fw);
        this.fw = fw;
    }

    public Report review() throws TraceError {
        List<FlowChange> gained = new ArrayList<>(), lost = new ArrayList<>();
        int probed = 0;
        for (Probe p : probes()) {
            probed++;
            boolean b = base.delivered(p), h = head.delivered(p);
            if (b == h) continue;
            Side where = h ? head : base;
            Flow f = new Flow(where.group(p), p.src(), p.dst(), p.proto(), p.port());
            FlowChange c = new FlowChange(f, base.address(p.dst()), head.address(p.dst()), base.trace(p), head.trace(p));
            (h ? gained : lost).add(c);
        }
        List<Container> added = new ArrayList<>(), removed = new ArrayList<>();
        List<Readdressed> moved = new ArrayList<>();
        for (Container c : head.containers.values()) if (!base.containers.containsKey(c.name())) added.add(c);
        for (Container c : base.containers.values()) {
            Container now = head.containers.get(c.name());
            if (now == null) removed.add(c);
            else if (!now.address().equals(c.address())) moved.add(new Readdressed(c, now));
        }
        List<VipChange> vips = new ArrayList<>();
        for (var e : base.vips.entrySet()) {
            Set<String> now = head.vips.get(e.getKey());
            if (now != null && !now.equals(e.getValue())) vips.add(new VipChange(e.getKey(), List.copyOf(e.getValue()), List.copyOf(now)));
        }
        List<HostChange> hosts = new ArrayList<>();
        Set<String> names = new TreeSet<>(base.hostNames());
        names.addAll(head.hostNames());
        for (String h : names) {
            HostChange c = hostChange(h);
            if (c != null) hosts.add(c);
        }
        return new Report(fw == Tracer.Firewall.NFT ? "nft" : "iptables", gained, lost, added, removed, moved, vips, hosts, probed);
    }

    private record Probe(String src, String dst, String proto, int port) {
    }

    /** The flows either side's allowlists name, by name: what could pass on either side. */
    private List<Probe> probes() {
        Set<Probe> all = new java.util.TreeSet<>(java.util.Comparator.comparing(Probe::src).thenComparing(Probe::dst).thenComparing(Probe::proto).thenComparingInt(Probe::port));
        all.addAll(base.candidates);
        all.addAll(head.candidates);
        return List.copyOf(all);
    }

    // ---- per host: what applying HEAD rewrites, and how disruptive it is

    private static final Pattern ALIAS = Pattern.compile("(?m)^link set (\\S+) alias (meshc:[0-9a-f]+)$");
    private static final Pattern LINK = Pattern.compile("(?m)^link add (\\S+) type (.*)$");
    private static final Pattern MTU = Pattern.compile("(?m)^link set (\\S+)(?: address \\S+)?(?: alias \\S+)? mtu (\\d+)");

    private HostChange hostChange(String vm) {
        String dir = "hosts/" + vm + "/";
        Set<String> paths = new TreeSet<>();
        for (Side s : List.of(base, head)) for (String p : s.files.keySet()) if (p.startsWith(dir)) paths.add(p.substring(dir.length()));
        List<String> files = new ArrayList<>();
        for (String p : paths) {
            byte[] b = base.files.get(dir + p), h = head.files.get(dir + p);
            if (b == null) files.add("+" + p);
            else if (h == null) files.add("-" + p);
            else if (!java.util.Arrays.equals(b, h)) files.add(p);
        }
        if (files.isEmpty()) return null;
        Host hb = base.net.allHosts().get(vm), hh = head.net.allHosts().get(vm);
        List<String> reasons = new ArrayList<>();
        Disruption[] worst = {Disruption.HITLESS};
        boolean[] settings = {false};
        java.util.function.BiConsumer<Disruption, String> why = (d, r) -> {
            reasons.add(d.label + ": " + r);
            if (d.compareTo(worst[0]) > 0) worst[0] = d;
        };
        if (hb == null) {
            why.accept(Disruption.HITLESS, "a new VM: its first apply");
            return new HostChange(vm, files, worst[0], reasons, false);
        }
        if (hh == null) {
            why.accept(Disruption.FLOWS_CUT, "the VM leaves the overlay: its tunnel, routes and rules are no longer kept");
            return new HostChange(vm, files, worst[0], reasons, false);
        }
        // The tunnel: bin/meshc-apply recreates it when its alias (the parameters a live device cannot change) differs.
        String lb = base.text(dir + "ip/links.batch"), lh = head.text(dir + "ip/links.batch");
        String ab = find(ALIAS, lb, 2), ah = find(ALIAS, lh, 2);
        if (!ab.equals(ah)) {
            String kb = find(LINK, lb, 2), kh = find(LINK, lh, 2);
            why.accept(Disruption.DEVICE_RECREATED, "tunnel " + hh.tunnel + " recreated (alias " + ab + " -> " + ah
                    + (kb.equals(kh) ? "" : "; " + (hb.tunnel.equals(hh.tunnel) ? "" : hb.tunnel + " -> " + hh.tunnel + ", ") + kb + " -> " + kh)
                    + "): tunnelled flows pause while it is");
        }
        String mb = find(MTU, lb, 2), mh = find(MTU, lh, 2);
        if (!mb.equals(mh)) {
            why.accept(Disruption.HITLESS, "tunnel MTU " + mb + " -> " + mh + ", set on the live device");
            settings[0] = true;
        }
        Set<String> vb = new TreeSet<>(), vh = new TreeSet<>();
        collect(MTU, base.text(dir + "ip/containers.batch"), 2, vb);
        collect(MTU, head.text(dir + "ip/containers.batch"), 2, vh);
        if (!vb.isEmpty() && !vh.isEmpty() && !vb.equals(vh)) {
            why.accept(Disruption.HITLESS, "container veth MTU " + String.join(",", vb) + " -> " + String.join(",", vh) + ", set on the live devices");
            settings[0] = true;
        }
        if (files.contains("sysctl/90-meshc.conf")) {
            why.accept(Disruption.HITLESS, "kernel settings (sysctl/90-meshc.conf) changed");
            settings[0] = true;
        }
        // Balancing: a VIP chain whose backend set changes spreads new flows anew.
        Map<String, List<String>> db = dnat(hb.nft), dh = dnat(hh.nft);
        for (var e : db.entrySet()) {
            List<String> now = dh.get(e.getKey());
            if (now != null && !now.equals(e.getValue())) {
                why.accept(Disruption.BALANCING_RESET, e.getKey() + " backends " + e.getValue() + " -> " + now + ": new flows are spread over a different set");
            }
        }
        // Established flows the conntrack cleanup deletes: the flows file lines HEAD no longer lists.
        Set<String> fb = lines(base.text(dir + "conntrack/flows")), fh = lines(head.text(dir + "conntrack/flows"));
        Set<String> cut = new TreeSet<>(fb);
        cut.removeAll(fh);
        Set<String> allowed = new TreeSet<>(fh);
        allowed.removeAll(fb);
        if (!cut.isEmpty()) why.accept(Disruption.FLOWS_CUT, cut.size() + " flow" + (cut.size() == 1 ? "" : "s") + " no longer listed in conntrack/flows: their conntrack entries are deleted ("
                + String.join("; ", cut.stream().limit(3).toList()) + (cut.size() > 3 ? "; ..." : "") + ")");
        if (!allowed.isEmpty()) why.accept(Disruption.HITLESS, allowed.size() + " flow" + (allowed.size() == 1 ? "" : "s") + " added to the allowlist (set elements)");
        // Routes, neighbours and FDB entries: added ones are hitless; withdrawn ones end what used them.
        Set<String> rb = new TreeSet<>(hb.batchFacts.keySet()), rh = new TreeSet<>(hh.batchFacts.keySet());
        Set<String> gone = new TreeSet<>(rb);
        gone.removeAll(rh);
        Set<String> fresh = new TreeSet<>(rh);
        fresh.removeAll(rb);
        if (!gone.isEmpty()) why.accept(Disruption.FLOWS_CUT, gone.size() + " route/address/neighbour/FDB entr" + (gone.size() == 1 ? "y" : "ies") + " withdrawn ("
                + String.join("; ", gone.stream().limit(3).toList()) + (gone.size() > 3 ? "; ..." : "") + ")");
        if (!fresh.isEmpty()) why.accept(Disruption.HITLESS, fresh.size() + " route/address/neighbour/FDB entr" + (fresh.size() == 1 ? "y" : "ies") + " added");
        // Containers of this VM re-addressed: their runtime re-attaches them.
        for (Container c : base.containers.values()) {
            Container now = head.containers.get(c.name());
            if (c.vm().equals(vm) && now != null && now.vm().equals(vm) && !now.address().equals(c.address())) {
                why.accept(Disruption.FLOWS_CUT, c.name() + " re-addressed " + c.address() + " -> " + now.address() + ": its established flows end");
            }
        }
        if (reasons.isEmpty()) why.accept(Disruption.HITLESS, "rewritten without a change the kernel sees (nft -f and iptables-restore replace meshc's rules in one transaction)");
        return new HostChange(vm, files, worst[0], reasons, settings[0]);
    }

    private static String find(Pattern p, String text, int group) {
        Matcher m = p.matcher(text);
        return m.find() ? m.group(group) : "none";
    }

    private static void collect(Pattern p, String text, int group, Set<String> out) {
        Matcher m = p.matcher(text);
        while (m.find()) out.add(m.group(group));
    }

    private static Set<String> lines(String text) {
        Set<String> out = new TreeSet<>();
        for (String l : text.split("\n")) if (!l.isBlank() && !l.startsWith("#")) out.add(l.trim());
        return out;
    }

    /** nft chains that DNAT, with their backends (sorted): one per relationship target. */
    private static Map<String, List<String>> dnat(Ruleset rs) {
        Map<String, List<String>> out = new TreeMap<>();
        for (var e : rs.chains.entrySet()) {
            for (Rule r : e.getValue()) {
                if (r.verdict().kind() != Rule.Kind.DNAT) continue;
                List<String> t = new ArrayList<>();
                for (Rule.Branch b : r.verdict().targets()) t.add(Ip.str(b.addr()));
                java.util.Collections.sort(t);
                out.put(e.getKey(), t);
            }
        }
        return out;
    }

    /** One tree: its files, the network they describe, and what review names flows by. */
    private static final class Side {
        final Map<String, byte[]> files;
        final Network net;
        final Tracer tracer;
        final Map<String, Container> containers = new TreeMap<>();
        /** destination key -> its address here: container names, "vip A", "VM gateway", "VM underlay", outside addresses. */
        final Map<String, Integer> addrs = new TreeMap<>();
        /** The flows this side's allowlists name, by name. */
        final Set<Probe> candidates = new java.util.HashSet<>();
        /** container -> its relationships (name, VIP, port, service, endpoint). */
        final Map<String, List<String[]>> rels = new TreeMap<>();
        /** "consumer service -> service:endpoint" -> its VIPs, as "address (relationship)". */
        final Map<String, Set<String>> vips = new TreeMap<>();

        private static final Pattern NETWORK = Pattern.compile("hosts/([^/]+)/containers/([^/]+)/network\\.json");
        private static final Pattern RELS = Pattern.compile("hosts/([^/]+)/containers/([^/]+)/relationships\\.json");
        private static final Pattern REL = Pattern.compile("\"([^\"]+)\": \\[|\\{([^{}]*)\\}");

        Side(Map<String, byte[]> files, Tracer.Firewall fw) throws TraceError {
            this.files = files;
            Map<String, byte[]> read = files;
            if (fw == Tracer.Firewall.NFT) { // the iptables render is not traced: parsing it would double the cost
                read = new TreeMap<>(files);
                for (String p : files.keySet()) if (p.matches("hosts/[^/]+/iptables/rules\\.v4")) read.put(p, NO_IPTABLES);
            }
            this.net = Network.of(read);
            this.tracer = new Tracer(net, fw);
            for (String p : files.keySet()) {
                Matcher m = NETWORK.matcher(p);
                if (!m.matches()) continue;
                String json = text(p);
                String svc = field(json, "service"), addr = field(json, "address");
                if (svc == null || addr == null || !Ip.isAddr(addr)) throw new TraceError(p, 0, "no service or address");
                containers.put(m.group(2), new Container(m.group(2), svc, m.group(1), addr));
                addrs.put(m.group(2), Ip.parse(addr));
            }
            for (String p : files.keySet()) {
                Matcher m = RELS.matcher(p);
                if (!m.matches() || !containers.containsKey(m.group(2))) continue;
                List<String[]> list = new ArrayList<>();
                Matcher r = REL.matcher(text(p));
                String name = null;
                while (r.find()) {
                    if (r.group(1) != null) {
                        name = r.group(1);
                        continue;
                    }
                    if (r.group(2).isBlank()) continue; // {}: no relationships
                    String ip = field(r.group(2), "ip"), port = field(r.group(2), "port"), svc = field(r.group(2), "service"), ep = field(r.group(2), "rel");
                    if (name == null || ip == null || !Ip.isAddr(ip) || port == null || svc == null || ep == null) throw new TraceError(p, 0, "a relationship without ip, port, service or rel");
                    list.add(new String[]{name, ip, port, svc, ep});
                    vips.computeIfAbsent(containers.get(m.group(2)).service() + " -> " + svc + ":" + ep, k -> new TreeSet<>()).add(ip + " (" + name + ")");
                    addrs.put("vip " + ip, Ip.parse(ip));
                }
                rels.put(m.group(2), list);
            }
            Map<Integer, String> byAddr = new java.util.HashMap<>();
            addrs.forEach((k, a) -> byAddr.put(a, k));
            for (Host h : net.allHosts().values()) {
                addrs.put(h.name + " underlay", h.underlay);
                byAddr.put(h.underlay, h.name + " underlay");
                for (Host.Local l : h.locals) {
                    addrs.put(h.name + " gateway", l.addr());
                    byAddr.put(l.addr(), h.name + " gateway");
                }
            }
            Map<Integer, String> byContainer = new java.util.HashMap<>();
            for (Container c : containers.values()) byContainer.put(Ip.parse(c.address()), c.name());
            for (Host h : net.allHosts().values()) {
                for (String e : h.nft.entries.values()) {
                    String[] f = e.split(" ");
                    String src = f.length > 2 && Ip.isAddr(f[2]) ? byContainer.get(Ip.parse(f[2])) : null;
                    if (src == null) continue;
                    switch (f[0]) {
                        case "flows" -> candidate(byAddr, src, f[4], f[8], f[10]); // consumer . opened . backend . proto . port
                        case "egress", "masq" -> candidate(byAddr, src, f[4].replaceAll("/\\d+$", ""), f[6], f[8]);
                        case "host_ports" -> {
                            for (String vm : List.of(h.name + " underlay", h.name + " gateway")) {
                                if (addrs.containsKey(vm)) candidates.add(new Probe(src, vm, f[4], Integer.parseInt(f[6])));
                            }
                        }
                        default -> {
                        }
                    }
                }
            }
        }

        private void candidate(Map<Integer, String> byAddr, String src, String addr, String proto, String port) {
            if (!Ip.isAddr(addr)) return;
            String key = byAddr.get(Ip.parse(addr));
            if (key == null) {
                key = addr; // outside the overlay (egress)
                addrs.put(key, Ip.parse(addr));
            }
            if (!key.equals(src)) candidates.add(new Probe(src, key, proto, Integer.parseInt(port)));
        }

        Set<String> hostNames() {
            return net.allHosts().keySet();
        }

        String text(String path) {
            byte[] b = files.get(path);
            return b == null ? "" : new String(b, StandardCharsets.UTF_8);
        }

        private static String field(String json, String key) {
            Matcher m = Pattern.compile("\"" + key + "\": (?:\"([^\"]*)\"|(\\d+))").matcher(json);
            return m.find() ? (m.group(1) != null ? m.group(1) : m.group(2)) : null;
        }

        /** Where a destination is on this side: a container or VM by name (null when it is not here); a VIP or outside address as is. */
        String address(String dst) {
            Integer a = addrs.get(dst);
            if (a == null && dst.startsWith("vip ")) return dst.substring(4);
            if (a == null && Ip.isAddr(dst)) return dst;
            return a == null ? null : Ip.str(a);
        }

        Tracer.Trace trace(Probe p) throws TraceError {
            Container c = containers.get(p.src());
            String d = address(p.dst());
            if (c == null || d == null) return null;
            return tracer.trace(Ip.parse(c.address()), Ip.parse(d), p.proto(), p.port(), List.of());
        }

        boolean delivered(Probe p) throws TraceError {
            Tracer.Trace t = trace(p);
            return t != null && t.delivered();
        }

        /** The relationship (or replicas, VM ports, egress) a flow that this side delivers belongs to. */
        String group(Probe p) {
            Container c = containers.get(p.src());
            String pp = p.proto() + "/" + p.port();
            String d = address(p.dst());
            Container to = containers.get(p.dst());
            for (String[] r : rels.getOrDefault(p.src(), List.of())) {
                boolean byVip = p.dst().startsWith("vip ") && r[1].equals(d);
                boolean byAddr = to != null && r[3].equals(to.service()) && r[2].equals(String.valueOf(p.port()));
                if (byVip || byAddr) return c.service() + " -> " + r[3] + ":" + r[4] + " (" + pp + ", " + r[0] + ")";
            }
            if (to != null && to.service().equals(c.service())) return c.service() + " replicas (" + pp + ")";
            if (to != null) return c.service() + " -> " + to.service() + " (" + pp + ", no relationship)";
            if (p.dst().endsWith(" gateway") || p.dst().endsWith(" underlay")) return c.service() + " VM ports (" + pp + ")";
            if (p.dst().startsWith("vip ")) return c.service() + " -> " + p.dst() + " (" + pp + ")";
            return c.service() + " egress (" + p.dst() + " " + pp + ")";
        }
    }
}

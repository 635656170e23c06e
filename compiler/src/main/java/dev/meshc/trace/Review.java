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
 * The change in behaviour between two output trees, from their files alone: the flows one delivers and
 * the other does not (each traced on both sides), containers added, removed and re-addressed, VIPs that
 * moved, and per host what applying HEAD over BASE rewrites and how disruptive that is.
 *
 * <p>Flows are named, not addressed: a source container, a destination (container, VIP, a VM's gateway or
 * underlay address, an address outside the overlay) and a port, so that a container re-addressed keeps its
 * flows. The flows probed are those the allowlists of either tree name (flows, egress and VM-port elements,
 * read back to names): meshc's rules let no new flow through that no element names, so a flow that passes
 * on either side is among them, and the cost grows with the allowlists, not with the square of the fleet.
 * ReviewTest holds this to the full matrix (every container to every destination and port).
 *
 * <p>Host by host, as {@code meshc verify} goes: neither tree is held whole nor parsed whole (two trees of
 * fleet M, 200 VMs, are 940 MB of files; parsed at once they needed a 6 GB heap). One pass over the hosts
 * reads each host's files on both sides once, for the names (containers, relationships, VIPs, the allowlists'
 * flows) and the host's change; then each side traces every probe from its source's host with the peers' parts
 * queued, and evaluates the queued parts peer by peer: each host is parsed a few times, a handful at once.
 */
public final class Review {
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
     * An output tree as review reads it, one host at a time: the hosts it has and each host's files, by path
     * relative to the tree ({@code hosts/VM/...}).
     */
    public interface Tree {
        /** Every host directory under {@code hosts/}, whether or not it has a ruleset. */
        java.util.SortedSet<String> hosts() throws IOException;

        /** The files under {@code hosts/VM/} (empty when there are none). */
        java.util.NavigableMap<String, byte[]> host(String vm) throws IOException;

        /** What changes when the tree is rewritten (a compile into it), now ("" for a tree in memory). */
        default String stamp() throws IOException {
            return "";
        }

        /** The same, taken before the tree's hosts were listed. */
        default String firstStamp() {
            return "";
        }

        /** Only those of them a trace under {@code fw} evaluates (what a host is parsed from). */
        default java.util.NavigableMap<String, byte[]> evaluated(String vm, Tracer.Firewall fw) throws IOException {
            java.util.NavigableMap<String, byte[]> out = new TreeMap<>();
            for (var e : host(vm).entrySet()) if (Review.evaluated(e.getKey(), fw)) out.put(e.getKey(), e.getValue());
            return out;
        }
    }

    /** A tree held in memory (tests, small trees): every file's bytes. */
    public static Tree of(Map<String, byte[]> files) {
        java.util.NavigableMap<String, byte[]> all = new TreeMap<>(files);
        java.util.SortedSet<String> hosts = new TreeSet<>();
        for (String p : all.keySet()) {
            if (!p.startsWith("hosts/")) continue;
            int slash = p.indexOf('/', 6);
            if (slash > 6) hosts.add(p.substring(6, slash));
        }
        return new Tree() {
            @Override
            public java.util.SortedSet<String> hosts() {
                return java.util.Collections.unmodifiableSortedSet(hosts);
            }

            @Override
            public java.util.NavigableMap<String, byte[]> host(String vm) {
                return all.subMap("hosts/" + vm + "/", true, "hosts/" + vm + "/" + Character.MAX_VALUE, false);
            }
        };
    }

    /**
     * An output tree meshc compile wrote, read host by host when review needs a host: every file but the hidden ones
     * (temporary files), or only the files a trace evaluates when a host is parsed.
     */
    public static Tree read(Path dir) throws IOException, TraceError {
        if (!Files.isRegularFile(dir.resolve("manifest.json"))) throw new TraceError(dir.toString(), 0, "no manifest.json: not an output tree of meshc compile");
        Path hostsDir = dir.resolve("hosts");
        if (!Files.isDirectory(hostsDir)) throw new TraceError(dir.toString(), 0, "no hosts/ directory: not an output tree of meshc compile");
        String first = stamp(dir);
        java.util.SortedSet<String> hosts = new TreeSet<>();
        try (Stream<Path> s = Files.list(hostsDir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String name = p.getFileName().toString();
                if (!name.startsWith(".") && Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) hosts.add(name);
            }
        }
        return new Tree() {
            @Override
            public java.util.SortedSet<String> hosts() {
                return java.util.Collections.unmodifiableSortedSet(hosts);
            }

            @Override
            public java.util.NavigableMap<String, byte[]> host(String vm) throws IOException {
                return files(vm, null);
            }

            @Override
            public String stamp() throws IOException {
                return Review.stamp(dir);
            }

            @Override
            public String firstStamp() {
                return first;
            }

            @Override
            public java.util.NavigableMap<String, byte[]> evaluated(String vm, Tracer.Firewall fw) throws IOException {
                return files(vm, fw);
            }

            /** The host's files; with {@code fw}, only those it evaluates (the others are not read). */
            private java.util.NavigableMap<String, byte[]> files(String vm, Tracer.Firewall fw) throws IOException {
                java.util.NavigableMap<String, byte[]> files = new TreeMap<>();
                Path d = hostsDir.resolve(vm);
                if (!Files.isDirectory(d)) return files;
                try (Stream<Path> s = Files.walk(d)) {
                    for (Path p : (Iterable<Path>) s.filter(Files::isRegularFile).sorted()::iterator) {
                        String rel = dir.relativize(p).toString().replace('\\', '/');
                        if (rel.contains("/.")) continue; // temp files
                        if (fw == null || Review.evaluated(rel, fw)) files.put(rel, Files.readAllBytes(p));
                    }
                }
                return files;
            }
        };
    }

    /**
     * A directory tree's manifest (compile replaces it by a rename: a new time, mostly a new size), or "busy" while a
     * compile's journal is there (from its commit until its last rename and removal).
     */
    private static String stamp(Path dir) throws IOException {
        if (Files.exists(dir.resolve(".meshc-journal"))) return "busy"; // emit.OutputTree.JOURNAL (trace does not import emit)
        var a = Files.readAttributes(dir.resolve("manifest.json"), java.nio.file.attribute.BasicFileAttributes.class);
        return a.lastModifiedTime() + " " + a.size();
    }

    private static final Pattern EVALUATED = Pattern.compile("hosts/[^/]+/(nftables/meshc\\.nft|ip/[^/]+\\.batch|systemd-network/[^/]+\\.network"
            + "|containers/[^/]+/(network|relationships)\\.json|conntrack/flows)");
    private static final Pattern RULES_V4 = Pattern.compile("hosts/[^/]+/iptables/rules\\.v4");

    private static boolean evaluated(String path, Tracer.Firewall fw) {
        return EVALUATED.matcher(path).matches() || fw == Tracer.Firewall.IPTABLES && RULES_V4.matcher(path).matches();
    }

    /** What an nft evaluation reads in place of rules.v4 (a host is parsed for both firewalls; only one is traced). */
    private static final byte[] NO_IPTABLES = String.join("\n", "*filter", ":MESHC-GUARD - [0:0]", ":MESHC-DNAT - [0:0]", ":MESHC-SNAT - [0:0]",
            ":MESHC-INPUT - [0:0]", ":MESHC-FORWARD - [0:0]", "COMMIT", "").getBytes(StandardCharsets.UTF_8);

    /** Hosts each side keeps parsed at once while tracing: a trace reads its source's host, then the peers it enters one by one. */
    private static final int KEEP = 4;
    /**
     * The same for the changed flows' witness traces, once the tracing's queues are gone: a trace to a VIP enters every
     * backend's host, and the next one from the same source mostly the same hosts.
     */
    private static final int WITNESS_KEEP = 16;
    /** Peer parts queued at most before they are evaluated (a few hundred bytes each). */
    private static final int QUEUED = 400_000;

    private final Side base;
    private final Side head;
    private final Tracer.Firewall fw;
    /** Per host (union of both sides), what applying HEAD rewrites there, before the re-addressed containers are known. */
    private final List<Partial> partials = new ArrayList<>();
    /** The trees' stamps before they were read: review reads each host more than once, over a minute at fleet M. */
    private String[] stamps;

    /** Two trees held in memory (their files' bytes, by path). */
    public Review(Map<String, byte[]> base, Map<String, byte[]> head, Tracer.Firewall fw) throws TraceError {
        this(of(base), of(head), fw);
    }

    public Review(Tree base, Tree head, Tracer.Firewall fw) throws TraceError {
        this(base, head, fw, QUEUED);
    }

    /** {@code queued}: peer parts that wait at most before they are evaluated (tests: the report does not depend on it). */
    Review(Tree base, Tree head, Tracer.Firewall fw, int queued) throws TraceError {
        this.fw = fw;
        this.base = new Side(base, fw, queued);
        this.head = new Side(head, fw, queued);
        Set<String> names = new TreeSet<>();
        try {
            this.stamps = new String[]{base.firstStamp(), head.firstStamp()};
            unchanged(base, stamps[0], "BASE");
            unchanged(head, stamps[1], "HEAD");
            names.addAll(base.hosts());
            names.addAll(head.hosts());
            // The one pass over both trees: each host's files read once per side, parsed once, for the names and the host's change.
            for (String vm : names) {
                java.util.NavigableMap<String, byte[]> fb = base.host(vm), fh = head.host(vm);
                Host hb = this.base.index(vm, fb, null);
                // BASE's first host that does not parse is the error a tree read whole meets first: nothing else matters then.
                if (this.base.parseError != null) throw rethrow(this.base.parseError);
                // A host whose files are the same on both sides (most, in a review of one change) is parsed once.
                Host hh = this.head.index(vm, fh, hb != null && same(fb, fh) ? hb : null);
                Partial p = hostChange(vm, fb, fh, hb, hh);
                if (p != null) partials.add(p);
            }
        } catch (IOException e) {
            throw new TraceError("hosts/", 0, "cannot read: " + e.getMessage());
        }
        // The errors a side's pass recorded, in the order a tree read whole meets them: BASE's, then HEAD's.
        this.base.names();
        this.head.names();
        dev.meshc.diag.Timings.mark("review: hosts read (" + names.size() + ")");
    }

    public Report review() throws TraceError {
        try {
            Report r = compare();
            unchanged(base.tree, stamps[0], "BASE");
            unchanged(head.tree, stamps[1], "HEAD");
            return r;
        } catch (TraceError | RuntimeException e) {
            // A host that vanished or changed under review shows as an error of its own: say why first.
            unchanged(base.tree, stamps[0], "BASE");
            unchanged(head.tree, stamps[1], "HEAD");
            throw e;
        }
    }

    /** Refuses a tree whose stamp is not the one it had when its hosts were listed, or that a compile is writing. */
    private static void unchanged(Tree t, String first, String which) throws TraceError {
        String now;
        try {
            now = t.stamp();
        } catch (IOException e) {
            throw new TraceError(which + " manifest.json", 0, "cannot read: " + e.getMessage());
        }
        if (first.equals("busy") || !now.equals(first)) {
            throw new TraceError(which, 0, "was being rewritten while review read it (a compile into it?): review it again once the compile is done");
        }
    }

    private Report compare() throws TraceError {
        List<Probe> probes = probes();
        // The two sides share nothing while tracing: BASE on another thread, HEAD on this one.
        java.util.concurrent.CompletableFuture<java.util.BitSet> onBase = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return base.record(probes);
            } catch (TraceError e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        }, runnable -> {
            Thread t = new Thread(runnable, "meshc-review-base");
            t.setDaemon(true);
            t.start();
        });
        java.util.BitSet vh = head.record(probes);
        java.util.BitSet vb;
        try {
            vb = onBase.join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof TraceError t) throw t;
            if (e.getCause() instanceof RuntimeException r) throw r;
            if (e.getCause() instanceof Error err) throw err;
            throw e;
        }
        dev.meshc.diag.Timings.mark("review: both sides traced (" + probes.size() + " probes; BASE " + base.rounds + " rounds, " + base.net.parses()
                + " parses; HEAD " + head.rounds + " rounds, " + head.net.parses() + " parses)");
        List<Probe> changed = new ArrayList<>();
        java.util.BitSet gainedOnes = new java.util.BitSet();
        for (int i = 0; i < probes.size(); i++) {
            if (vb.get(i) == vh.get(i)) continue;
            if (vh.get(i)) gainedOnes.set(changed.size());
            changed.add(probes.get(i));
        }
        int probed = probes.size();
        // Each changed flow traced in full on both sides, source host by source host (a few hosts stay parsed).
        Map<Probe, Tracer.Trace> wb = base.traces(changed), wh = head.traces(changed);
        List<FlowChange> gained = new ArrayList<>(), lost = new ArrayList<>();
        for (int k = 0; k < changed.size(); k++) {
            Probe p = changed.get(k);
            boolean h = gainedOnes.get(k);
            Side where = h ? head : base;
            Flow f = new Flow(where.group(p), p.src(), p.dst(), p.proto(), p.port());
            (h ? gained : lost).add(new FlowChange(f, base.address(p.dst()), head.address(p.dst()), wb.get(p), wh.get(p)));
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
        for (Partial p : partials) hosts.add(finish(p));
        dev.meshc.diag.Timings.mark("review: witnesses and hosts (" + (gained.size() + lost.size()) + " flows changed)");
        return new Report(fw == Tracer.Firewall.NFT ? "nft" : "iptables", gained, lost, added, removed, moved, vips, hosts, probed);
    }

    /**
     * After {@link #review}: hosts parsed while tracing every probe on each side (BASE, HEAD), the rounds of peer parts
     * of each, and hosts parsed in all (with the changed flows' witness traces).
     */
    int[] loads() {
        return new int[]{base.tracingParses, head.tracingParses, base.rounds, head.rounds, base.net.parses(), head.net.parses()};
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

    /** A host's change as far as its own files tell; {@code done}: nothing is added (a VM new or gone). */
    private record Partial(String host, List<String> files, Disruption worst, List<String> reasons, boolean settings, boolean done) {
    }

    /** The host's change with its re-addressed containers (known once every host is read). */
    private HostChange finish(Partial p) {
        if (p.done()) return new HostChange(p.host(), p.files(), p.worst(), p.reasons(), p.settings());
        List<String> reasons = new ArrayList<>(p.reasons());
        Disruption worst = p.worst();
        // Containers of this VM re-addressed: their runtime re-attaches them.
        for (Container c : base.containers.values()) {
            Container now = head.containers.get(c.name());
            if (c.vm().equals(p.host()) && now != null && now.vm().equals(p.host()) && !now.address().equals(c.address())) {
                reasons.add(Disruption.FLOWS_CUT.label + ": " + c.name() + " re-addressed " + c.address() + " -> " + now.address() + ": its established flows end");
                if (Disruption.FLOWS_CUT.compareTo(worst) > 0) worst = Disruption.FLOWS_CUT;
            }
        }
        if (reasons.isEmpty()) reasons.add(Disruption.HITLESS.label + ": rewritten without a change the kernel sees (nft -f and iptables-restore replace meshc's rules in one transaction)");
        return new HostChange(p.host(), p.files(), worst, reasons, p.settings());
    }

    /** A recorded error, thrown as it was raised. */
    private static TraceError rethrow(Exception e) {
        if (e instanceof RuntimeException r) throw r;
        return (TraceError) e;
    }

    /** Whether two hosts' files are the same paths with the same bytes. */
    private static boolean same(Map<String, byte[]> a, Map<String, byte[]> b) {
        if (!a.keySet().equals(b.keySet())) return false;
        for (var e : a.entrySet()) if (!java.util.Arrays.equals(e.getValue(), b.get(e.getKey()))) return false;
        return true;
    }

    private static String text(Map<String, byte[]> files, String path) {
        byte[] b = files.get(path);
        return b == null ? "" : new String(b, StandardCharsets.UTF_8);
    }

    /** {@code hb}, {@code hh}: the host parsed on each side (null where that side has no ruleset for it). */
    private Partial hostChange(String vm, Map<String, byte[]> fb, Map<String, byte[]> fh, Host hb, Host hh) {
        String dir = "hosts/" + vm + "/";
        if (hb == null && hh == null) return null; // a directory without a ruleset on either side: not a host
        Set<String> paths = new TreeSet<>();
        for (String p : fb.keySet()) paths.add(p.substring(dir.length()));
        for (String p : fh.keySet()) paths.add(p.substring(dir.length()));
        List<String> files = new ArrayList<>();
        for (String p : paths) {
            byte[] b = fb.get(dir + p), h = fh.get(dir + p);
            if (b == null) files.add("+" + p);
            else if (h == null) files.add("-" + p);
            else if (!java.util.Arrays.equals(b, h)) files.add(p);
        }
        if (files.isEmpty()) return null;
        List<String> reasons = new ArrayList<>();
        Disruption[] worst = {Disruption.HITLESS};
        boolean[] settings = {false};
        java.util.function.BiConsumer<Disruption, String> why = (d, r) -> {
            reasons.add(d.label + ": " + r);
            if (d.compareTo(worst[0]) > 0) worst[0] = d;
        };
        if (hb == null) {
            why.accept(Disruption.HITLESS, "a new VM: its first apply");
            return new Partial(vm, files, worst[0], reasons, false, true);
        }
        if (hh == null) {
            why.accept(Disruption.FLOWS_CUT, "the VM leaves the overlay: its tunnel, routes and rules are no longer kept");
            return new Partial(vm, files, worst[0], reasons, false, true);
        }
        // The tunnel: bin/meshc-apply recreates it when its alias (the parameters a live device cannot change) differs.
        String lb = text(fb, dir + "ip/links.batch"), lh = text(fh, dir + "ip/links.batch");
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
        collect(MTU, text(fb, dir + "ip/containers.batch"), 2, vb);
        collect(MTU, text(fh, dir + "ip/containers.batch"), 2, vh);
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
        Set<String> cb = lines(text(fb, dir + "conntrack/flows")), ch = lines(text(fh, dir + "conntrack/flows"));
        Set<String> cut = new TreeSet<>(cb);
        cut.removeAll(ch);
        Set<String> allowed = new TreeSet<>(ch);
        allowed.removeAll(cb);
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
        return new Partial(vm, files, worst[0], reasons, settings[0], false);
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

    private static final int FLOWS = 0, EGRESS = 1, HOST_PORTS = 2;
    /** The protocols elements name, numbered in the order first seen (shared by every tree of a run). */
    private static final List<String> PROTOS = new java.util.concurrent.CopyOnWriteArrayList<>();

    private static int protoIndex(String p) {
        synchronized (PROTOS) {
            int i = PROTOS.indexOf(p);
            if (i >= 0) return i;
            PROTOS.add(p);
            return PROTOS.size() - 1;
        }
    }

    /**
     * A host's elements as numbers, five ints each: kind, source address, destination address, protocol, port.
     * A flow or egress element whose destination is not an address names no flow review can probe: not kept.
     */
    private static final class Elements {
        private int[] v = new int[5 * 64];
        /** An element's destination as spelt, where that is not how the address prints (leading zeros): by index. */
        private final Map<Integer, String> spelt = new java.util.HashMap<>();
        int size;

        void add(int kind, String src, String addr, String proto, String port, String file) throws TraceError {
            boolean isAddr = addr != null && Ip.isAddr(addr);
            if (kind != HOST_PORTS && !isAddr) return;
            int n;
            try {
                n = Integer.parseInt(port);
            } catch (NumberFormatException e) {
                throw new TraceError(file, 0, "an element whose port is not a number: " + port);
            }
            if (5 * size + 5 > v.length) v = java.util.Arrays.copyOf(v, v.length * 2);
            int o = 5 * size;
            v[o] = kind;
            v[o + 1] = Ip.parse(src);
            v[o + 2] = isAddr ? Ip.parse(addr) : 0;
            if (isAddr && !Ip.str(v[o + 2]).equals(addr)) spelt.put(size, addr);
            v[o + 3] = protoIndex(proto);
            v[o + 4] = n;
            size++;
        }

        int kind(int i) {
            return v[5 * i];
        }

        int src(int i) {
            return v[5 * i + 1];
        }

        int dst(int i) {
            return v[5 * i + 2];
        }

        /** The destination as the element spells it. */
        String raw(int i) {
            String s = spelt.get(i);
            return s != null ? s : Ip.str(v[5 * i + 2]);
        }

        String proto(int i) {
            return PROTOS.get(v[5 * i + 3]);
        }

        int port(int i) {
            return v[5 * i + 4];
        }
    }

    /**
     * One tree: what review names flows by (containers, relationships, VIPs, VM and outside addresses), the
     * flows its allowlists name, and its network, parsed host by host when a trace needs a host.
     */
    private static final class Side {
        final Tree tree;
        final Tracer.Firewall fw;
        /** Hosts with a ruleset (nftables/meshc.nft). */
        final java.util.SortedSet<String> names = new TreeSet<>();
        final Map<String, Container> containers = new TreeMap<>();
        /** destination key -> its address here: container names, "vip A", "VM gateway", "VM underlay", outside addresses. */
        final Map<String, Integer> addrs = new TreeMap<>();
        /** The flows this side's allowlists name, by name. */
        final Set<Probe> candidates = new java.util.HashSet<>();
        /** container -> its relationships (name, VIP, port, service, endpoint). */
        final Map<String, List<String[]>> rels = new TreeMap<>();
        /** "consumer service -> service:endpoint" -> its VIPs, as "address (relationship)". */
        final Map<String, Set<String>> vips = new TreeMap<>();
        /**
         * The first host (by name) whose files do not parse (a TraceError, or what a parser throws on an input its
         * patterns let through, as a tree read whole would throw it): this side's pass stops there.
         */
        Exception parseError;
        /** The first container file (by path) without a service or address. */
        private TraceError containerError;
        private String containerErrorPath;
        /** An overlay address -> the host whose files hold it (the last by name, as a network read whole has it). */
        private final Map<Integer, String> where = new java.util.HashMap<>();
        /** What the pass over the hosts gathers, by path (applied in path order, as a tree read whole would be). */
        private final Map<String, Container> found = new TreeMap<>();
        private final Map<String, String> relsText = new TreeMap<>();
        /** Per host (in name order): its underlay, its gateways, and the allowlists' elements that name a source address. */
        private final Map<String, int[]> hostAddrs = new TreeMap<>();
        private final Map<String, Elements> elements = new TreeMap<>();
        private Network net;
        private Tracer tracer;
        private final int queued;
        /** Hosts parsed while tracing every probe (before the witnesses). */
        int tracingParses;
        /** Rounds of queued peer parts evaluated (for MESHC_TIMING). */
        int rounds;
        /** underlay address -> the VM that has it. */
        private final Map<Integer, String> underlayVm = new java.util.HashMap<>();

        private static final Pattern NETWORK = Pattern.compile("hosts/([^/]+)/containers/([^/]+)/network\\.json");
        private static final Pattern RELS = Pattern.compile("hosts/([^/]+)/containers/([^/]+)/relationships\\.json");
        private static final Pattern REL = Pattern.compile("\"([^\"]+)\": \\[|\\{([^{}]*)\\}");

        Side(Tree tree, Tracer.Firewall fw, int queued) {
            this.tree = tree;
            this.fw = fw;
            this.queued = queued;
        }

        /**
         * The host's files as the evaluator reads them: under nft, the iptables render is not traced (parsing it would
         * double the cost), so an empty one stands for it. {@code all}: every file of the host is here (the pass over the
         * hosts, where a missing rules.v4 is an error as it is for any tree); else only those evaluated are.
         */
        private java.util.NavigableMap<String, byte[]> forParsing(String vm, java.util.NavigableMap<String, byte[]> files, boolean all) {
            if (fw != Tracer.Firewall.NFT) return files;
            String v4 = "hosts/" + vm + "/iptables/rules.v4";
            if (all && !files.containsKey(v4)) return files;
            java.util.NavigableMap<String, byte[]> read = new TreeMap<>(files);
            read.put(v4, NO_IPTABLES);
            return read;
        }

        private static boolean hasRuleset(String vm, Map<String, byte[]> files) {
            return files.containsKey("hosts/" + vm + "/nftables/meshc.nft");
        }

        /**
         * The pass over the hosts: gathers this host's names and elements; returns it parsed (null when it has no
         * ruleset), or {@code parsed} when given (the same files, parsed for the other side).
         */
        Host index(String vm, java.util.NavigableMap<String, byte[]> files, Host parsed) {
            if (parseError != null) return null;
            Host h = null;
            if (hasRuleset(vm, files)) {
                try {
                    h = parsed != null ? parsed : Network.parse(vm, forParsing(vm, files, true));
                    // The allowlists' elements that name a flow from a source address, kept as numbers (at fleet M both trees
                    // hold a million elements: kept as split text they alone filled a gigabyte).
                    Elements els = new Elements();
                    String file = "hosts/" + vm + "/nftables/meshc.nft";
                    for (String e : h.nft.entries.values()) {
                        String[] f = e.split(" ");
                        if (f.length <= 2 || !Ip.isAddr(f[2])) continue;
                        switch (f[0]) {
                            case "flows" -> els.add(FLOWS, f[2], f[4], f[8], f[10], file); // consumer . opened . backend . proto . port
                            case "egress", "masq" -> els.add(EGRESS, f[2], f[4].replaceAll("/\\d+$", ""), f[6], f[8], file);
                            case "host_ports" -> els.add(HOST_PORTS, f[2], null, f[4], f[6], file);
                            default -> {
                            }
                        }
                    }
                    elements.put(vm, els);
                } catch (TraceError | RuntimeException e) {
                    parseError = e;
                    return null;
                }
                names.add(vm);
                int[] a = new int[1 + h.locals.size()];
                a[0] = h.underlay;
                for (int i = 0; i < h.locals.size(); i++) a[i + 1] = h.locals.get(i).addr();
                hostAddrs.put(vm, a);
                for (Host.Container c : h.containers.values()) where.put(c.addr(), vm);
            }
            for (var e : files.entrySet()) {
                String p = e.getKey();
                Matcher m = NETWORK.matcher(p);
                if (m.matches()) {
                    String json = new String(e.getValue(), StandardCharsets.UTF_8);
                    String svc = field(json, "service"), addr = field(json, "address");
                    if (svc == null || addr == null || !Ip.isAddr(addr)) {
                        if (containerErrorPath == null || p.compareTo(containerErrorPath) < 0) {
                            containerErrorPath = p;
                            containerError = new TraceError(p, 0, "no service or address");
                        }
                        continue;
                    }
                    found.put(p, new Container(m.group(2), svc, m.group(1), addr));
                    continue;
                }
                if (RELS.matcher(p).matches()) relsText.put(p, new String(e.getValue(), StandardCharsets.UTF_8));
            }
            return h;
        }

        /** After the pass: names resolved as a tree read whole resolves them (containers first, then relationships, then the allowlists). */
        void names() throws TraceError {
            if (parseError != null) throw rethrow(parseError);
            if (names.isEmpty()) throw new TraceError("hosts/", 0, "no host has nftables/meshc.nft");
            if (containerError != null) throw containerError;
            for (Container c : found.values()) {
                containers.put(c.name(), c);
                addrs.put(c.name(), Ip.parse(c.address()));
            }
            found.clear();
            for (var t : relsText.entrySet()) {
                String p = t.getKey();
                Matcher m = RELS.matcher(p);
                if (!m.matches() || !containers.containsKey(m.group(2))) continue;
                List<String[]> list = new ArrayList<>();
                Matcher r = REL.matcher(t.getValue());
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
            relsText.clear();
            Map<Integer, String> byAddr = new java.util.HashMap<>();
            addrs.forEach((k, a) -> byAddr.put(a, k));
            for (var e : hostAddrs.entrySet()) {
                String vm = e.getKey();
                int[] a = e.getValue();
                addrs.put(vm + " underlay", a[0]);
                byAddr.put(a[0], vm + " underlay");
                underlayVm.put(a[0], vm);
                for (int i = 1; i < a.length; i++) {
                    addrs.put(vm + " gateway", a[i]);
                    byAddr.put(a[i], vm + " gateway");
                }
            }
            Map<Integer, String> byContainer = new java.util.HashMap<>();
            for (Container c : containers.values()) byContainer.put(Ip.parse(c.address()), c.name());
            for (var e : elements.entrySet()) {
                String vm = e.getKey();
                Elements els = e.getValue();
                for (int i = 0; i < els.size; i++) {
                    String src = byContainer.get(els.src(i));
                    if (src == null) continue;
                    if (els.kind(i) != HOST_PORTS) {
                        candidate(byAddr, src, els.dst(i), els.raw(i), els.proto(i), els.port(i));
                        continue;
                    }
                    for (String k : List.of(vm + " underlay", vm + " gateway")) {
                        if (addrs.containsKey(k)) candidates.add(new Probe(src, k, els.proto(i), els.port(i)));
                    }
                }
            }
            elements.clear();
            hostAddrs.clear();
            net = Network.lazy(names, vm -> {
                java.util.NavigableMap<String, byte[]> files = tree.evaluated(vm, fw);
                return files.isEmpty() ? null : forParsing(vm, files, false);
            }, where, underlayVm, KEEP);
            tracer = new Tracer(net, fw);
        }

        private void candidate(Map<Integer, String> byAddr, String src, int addr, String raw, String proto, int port) {
            String key = byAddr.get(addr);
            if (key == null) {
                key = raw; // outside the overlay (egress), as the element spells it
                addrs.put(key, addr);
            }
            if (!key.equals(src)) candidates.add(new Probe(src, key, proto, port));
        }

        /**
         * Which probes this side delivers (by index; a probe whose source or destination this side lacks is not), traced
         * from each source's host in turn with the peers' parts queued, then the queued parts peer by peer. The queue is
         * evaluated whenever it holds {@link #QUEUED} parts (by default), so memory stays bounded whatever the allowlists hold; each
         * round parses the peers it entered once.
         */
        java.util.BitSet record(List<Probe> probes) throws TraceError {
            Map<String, List<Integer>> bySource = new TreeMap<>();
            for (int i = 0; i < probes.size(); i++) {
                Probe p = probes.get(i);
                Container c = containers.get(p.src());
                if (c == null || address(p.dst()) == null) continue;
                bySource.computeIfAbsent(c.vm(), k -> new ArrayList<>()).add(i);
            }
            java.util.BitSet delivered = new java.util.BitSet(probes.size());
            Tracer rec = new Tracer(net, fw);
            net.readAheadIn(bySource.keySet());
            List<Integer> index = new ArrayList<>();
            List<Tracer.Pending> pending = new ArrayList<>();
            for (List<Integer> is : bySource.values()) {
                for (int i : is) {
                    Probe p = probes.get(i);
                    index.add(i);
                    pending.add(rec.record(Ip.parse(containers.get(p.src()).address()), Ip.parse(address(p.dst())), p.proto(), p.port()));
                }
                if (rec.queuedCount() >= queued) resolve(rec, index, pending, delivered);
            }
            resolve(rec, index, pending, delivered);
            tracingParses = net.parses();
            return delivered;
        }

        /** Evaluates the queued peer parts, peer by peer, and keeps only the verdicts. */
        private void resolve(Tracer rec, List<Integer> index, List<Tracer.Pending> pending, java.util.BitSet delivered) throws TraceError {
            rounds++;
            Map<String, List<Tracer.Deferred>> byPeer = new TreeMap<>();
            for (Tracer.Deferred d : rec.queued()) byPeer.computeIfAbsent(underlayVm.getOrDefault(d.peerUnderlay(), ""), k -> new ArrayList<>()).add(d);
            List<String> sources = net.readingAhead();
            net.readAheadIn(byPeer.keySet());
            for (List<Tracer.Deferred> ds : byPeer.values()) for (Tracer.Deferred d : ds) rec.resolve(d);
            net.readAheadIn(sources); // back to the sources' order (a round ends mid-way through it)
            for (int k = 0; k < index.size(); k++) if (pending.get(k).result().delivered()) delivered.set(index.get(k));
            index.clear();
            pending.clear();
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

        /** Whole traces of these probes (a probe whose source or destination this side lacks: none), by source host. */
        Map<Probe, Tracer.Trace> traces(List<Probe> probes) throws TraceError {
            net.keep(WITNESS_KEEP);
            List<Probe> order = new ArrayList<>(probes);
            order.sort(java.util.Comparator.comparing((Probe p) -> containers.containsKey(p.src()) ? containers.get(p.src()).vm() : "")
                    .thenComparing(p -> String.valueOf(address(p.dst()))));
            Map<Probe, Tracer.Trace> out = new java.util.HashMap<>();
            for (Probe p : order) {
                Tracer.Trace t = trace(p);
                if (t != null) out.put(p, t);
            }
            return out;
        }

        Tracer.Trace trace(Probe p) throws TraceError {
            Container c = containers.get(p.src());
            String d = address(p.dst());
            if (c == null || d == null) return null;
            return tracer.trace(Ip.parse(c.address()), Ip.parse(d), p.proto(), p.port(), List.of());
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

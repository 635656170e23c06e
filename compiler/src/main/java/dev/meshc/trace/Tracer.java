package dev.meshc.trace;

import java.util.ArrayList;
import java.util.List;

/**
 * Follows one new flow through the emitted files of every host on its path, the first packet of the
 * flow and its reply: source veth and anti-spoofing, VIP map and DNAT (every branch), route, neighbour
 * and FDB, encapsulation, the peer's tunnel filter, the flow allowlist, delivery.
 */
public final class Tracer {
    public enum Firewall { NFT, IPTABLES }

    public record Hop(String host, String file, int line, String what) {
    }

    /** verdict: "delivered" or a reason code; backends: where each DNAT branch went (one entry without DNAT). */
    public record Trace(String verdict, List<Hop> hops, List<Branch> branches) {
        public boolean delivered() {
            return verdict.equals(DELIVERED);
        }

        /** Some packet of the flow gets through (to a container, or out of the VM), even if its reply does not. */
        public boolean passes() {
            return branches.stream().anyMatch(b -> b.verdict().equals(DELIVERED) || b.verdict().equals(REPLY_DROPPED));
        }
    }

    /** One DNAT branch (or the flow itself): the address it reached, the container there (null outside the overlay), its verdict. */
    public record Branch(String backend, String container, String verdict) {
    }

    public static final String DELIVERED = "delivered";
    public static final String REPLY_DROPPED = "reply-dropped";
    /** Recording: a branch whose peer part is queued (never a final verdict). */
    private static final String DEFERRED = "\0deferred";

    private final Network net;
    private final Firewall fw;

    /** What the peer's part of a tunnelled flow needs of the sending host. */
    record Sender(int underlay, String encapsulation, int vxlanPort, long vni) {
    }

    /**
     * A flow's part on the peer it is tunnelled to, queued while recording ({@link #record}) and evaluated by
     * {@link #resolve} with the other flows entering that peer, so that each host is parsed once for all of them.
     * Holds a copy of the packet without the sender's route lookup: a queued flow keeps no parsed host.
     */
    static final class Deferred {
        final Firewall fw;
        final int peerUnderlay;
        final Sender from;
        final Pkt p;
        boolean resolved;
        String verdict; // null: the reply left the peer

        Deferred(Firewall fw, int peerUnderlay, Sender from, Pkt p) {
            this.fw = fw;
            this.peerUnderlay = peerUnderlay;
            this.from = from;
            this.p = p.copy();
            this.p.routeDev = a -> "";
        }

        static String key(int peerUnderlay, Sender s, Pkt p) {
            return peerUnderlay + " " + s + " " + p.src + " " + p.dst + " " + p.proto + " " + p.dport + " " + p.iif + " " + p.oif + " " + p.reply
                    + " " + p.ctOrigSrc + " " + p.ctOrigDst + " " + p.ctReplSrc;
        }

        int peerUnderlay() {
            return peerUnderlay;
        }

        Firewall firewall() {
            return fw;
        }
    }

    /** A recorded branch that entered a peer: its queued part there, and whether the reply passes the sender. */
    private record Use(Deferred peer, boolean senderReply) {
    }

    /**
     * A trace recorded with its peer parts queued: the verdict once every queued part is resolved. Only the
     * verdicts are kept (no hops): a finding traces its flow again in full.
     */
    static final class Pending {
        private final String verdict;
        private final String[] branchVerdicts;
        private final Use[] uses;

        private Pending(Trace t, List<Use> uses) {
            this.verdict = t.verdict();
            this.branchVerdicts = new String[t.branches().size()];
            for (int i = 0; i < branchVerdicts.length; i++) branchVerdicts[i] = t.branches().get(i).verdict();
            this.uses = uses.toArray(new Use[0]);
        }

        /** Whether some branch waits for a peer's part. */
        boolean deferred() {
            for (Use u : uses) if (u != null && !u.peer().resolved) return true;
            return false;
        }

        /** The peers' parts this trace waits for. */
        List<Deferred> waitsFor() {
            List<Deferred> out = new ArrayList<>();
            for (Use u : uses) if (u != null && !u.peer().resolved) out.add(u.peer());
            return out;
        }

        /** The verdicts, as {@link #trace} gives them (the branches' verdicts; no hops, no container names). */
        Trace result() {
            if (branchVerdicts.length == 0) return new Trace(verdict, List.of(), List.of());
            List<Branch> bs = new ArrayList<>();
            String v = DELIVERED;
            for (int i = 0; i < branchVerdicts.length; i++) {
                String b = branchVerdicts[i];
                Use u = uses[i];
                if (u != null) {
                    if (!u.peer().resolved) throw new IllegalStateException("a peer's part is not resolved");
                    b = u.peer().verdict != null ? u.peer().verdict : u.senderReply() ? DELIVERED : REPLY_DROPPED;
                }
                bs.add(new Branch(null, null, b));
                if (!b.equals(DELIVERED) && v.equals(DELIVERED)) v = b;
            }
            return new Trace(v, List.of(), bs);
        }
    }

    /** Non-null while recording: the queued peer parts, by packet (a flow's part on a peer is evaluated once). */
    private java.util.Map<String, Deferred> recording;
    /** Non-null inside {@link #record}: per branch of the trace, its queued peer part or null. */
    private List<Use> recorded;
    private Use deferredUse;

    /**
     * Traces like {@link #trace} but stops where the flow enters a peer through the tunnel: that part is queued
     * ({@link #queued}) and evaluated by {@link #resolve}. Reads only the source's host.
     */
    Pending record(int src, int dst, String proto, int port) throws TraceError {
        if (recording == null) recording = new java.util.LinkedHashMap<>();
        recorded = new ArrayList<>();
        try {
            Trace t = trace(src, dst, proto, port, List.of());
            return new Pending(t, recorded);
        } finally {
            recorded = null;
            deferredUse = null;
        }
    }

    /** How many peer parts {@link #record} has queued since {@link #queued} last took them. */
    int queuedCount() {
        return recording == null ? 0 : recording.size();
    }

    /** The peer parts queued by {@link #record} and not yet resolved; forgets them (the Pendings hold them). */
    List<Deferred> queued() {
        List<Deferred> out = recording == null ? List.of() : List.copyOf(recording.values());
        recording = null;
        return out;
    }

    /** Evaluates a queued peer part (reads the peer's host only). */
    void resolve(Deferred d) throws TraceError {
        if (d.fw != fw) throw new IllegalArgumentException("queued by the other firewall's tracer");
        d.verdict = peerPart(d.from, d.peerUnderlay, d.p, new ArrayList<>());
        d.resolved = true;
    }

    public Tracer(Network net, Firewall fw) {
        this.net = net;
        this.fw = fw;
    }

    private Ruleset rs(Host h) {
        return fw == Firewall.NFT ? h.nft : h.ipt;
    }

    private String chain(String hook) {
        if (fw == Firewall.NFT) return hook;
        return switch (hook) {
            case "guard" -> "MESHC-GUARD";
            case "prerouting" -> "MESHC-DNAT";
            case "postrouting" -> "MESHC-SNAT";
            case "input" -> "MESHC-INPUT";
            default -> "MESHC-FORWARD";
        };
    }

    private static String ruleText(Ruleset.Outcome o) {
        if (o.rule() == null) return "end of chain, policy accept";
        if (o.kind() == Rule.Kind.ACCEPT && o.rule().verdict().kind() != Rule.Kind.ACCEPT) {
            return "policy accept after: " + o.rule().text() + (o.elementLine() > 0 ? " (set element at line " + o.elementLine() + ")" : "");
        }
        return o.rule().text();
    }

    /** Traces a new flow from the container holding {@code src} to {@code dst}:{@code port}/{@code proto}. */
    public Trace trace(String srcAddr, String dstAddr, String proto, int port) throws TraceError {
        return trace(Ip.parse(srcAddr), Ip.parse(dstAddr), proto, port, List.of());
    }

    public Trace trace(String srcAddr, String dstAddr, String proto, int port, List<Hop> prefix) throws TraceError {
        return trace(Ip.parse(srcAddr), Ip.parse(dstAddr), proto, port, prefix);
    }

    Trace trace(int src, int dst, String proto, int port, List<Hop> prefix) throws TraceError {
        List<Hop> hops = new ArrayList<>(prefix);
        Host.Container c = net.container(src);
        if (c == null) return new Trace("no-such-source", hops, List.of());
        Host h = net.hostOf(c);
        Pkt p = new Pkt();
        p.src = src;
        p.dst = dst;
        p.proto = proto;
        p.dport = port;
        p.iif = c.veth();
        p.ctOrigSrc = src;
        p.ctOrigDst = dst;
        p.ctReplSrc = dst;
        p.routeDev = h::routeDev;
        Host.Route back = h.route(src);
        hops.add(new Hop(h.name, back == null ? h.dir + "ip/containers.batch" : back.file(), back == null ? 0 : back.line(),
                "source " + c.name() + " (" + Ip.str(src) + ") sends on veth " + c.veth()));
        Ruleset r = rs(h);
        Ruleset.Outcome g = r.run(chain("guard"), p);
        hops.add(new Hop(h.name, r.file, g.line(), "anti-spoofing: " + (g.kind() == Rule.Kind.DROP ? "DROP " : "passes, ") + ruleText(g)));
        if (g.kind() == Rule.Kind.DROP) return new Trace("spoofed-source", hops, List.of());
        Ruleset.Outcome nat = r.run(chain("prerouting"), p);
        List<Rule.Branch> targets;
        if (nat.kind() == Rule.Kind.DNAT) {
            int mapLine = nat.vmapBranch() != null ? nat.vmapBranch().line() : nat.via().isEmpty() ? 0 : nat.via().get(nat.via().size() - 1).line();
            hops.add(new Hop(h.name, r.file, mapLine, "VIP " + Ip.str(dst) + " for " + Ip.str(src) + " -> " + (nat.vmapBranch() != null ? "goto " + nat.vmapBranch().chain() : ruleText(new Ruleset.Outcome(null, nat.via().get(nat.via().size() - 1), 0, null, List.of())))));
            targets = nat.rule().verdict().targets();
            StringBuilder sb = new StringBuilder("DNAT, one branch per new flow:");
            for (Rule.Branch b : targets) sb.append(' ').append(Ip.str(b.addr())).append(String.format(" (%.3f, line %d)", b.share(), b.line()));
            hops.add(new Hop(h.name, r.file, nat.rule().line(), sb.toString()));
        } else {
            targets = List.of(new Rule.Branch(dst, null, 0, 1));
        }
        List<Branch> branches = new ArrayList<>();
        String verdict = DELIVERED;
        for (Rule.Branch t : targets) {
            Pkt q = p.copy();
            q.dst = t.addr();
            q.ctReplSrc = t.addr();
            List<Hop> bh = new ArrayList<>();
            String v = forward(h, q, bh);
            String tag = targets.size() > 1 ? "[" + Ip.str(t.addr()) + "] " : "";
            for (Hop x : bh) hops.add(new Hop(x.host(), x.file(), x.line(), tag + x.what()));
            Host.Container to = recorded == null ? net.container(t.addr()) : null; // recording: the name would read the backend's host
            branches.add(new Branch(Ip.str(t.addr()), to == null ? null : to.name(), v));
            if (recorded != null) recorded.add(deferredUse);
            deferredUse = null;
            if (!v.equals(DELIVERED) && verdict.equals(DELIVERED)) verdict = v;
        }
        return new Trace(verdict, hops, branches);
    }

    /** From routing on the source host to delivery (then the reply, back along the same path). */
    private String forward(Host h, Pkt p, List<Hop> hops) throws TraceError {
        Ruleset r = rs(h);
        Host.Local local = h.local(p.dst);
        if (local != null || p.dst == h.underlay) {
            hops.add(new Hop(h.name, local == null ? h.dir + "ip/links.batch" : local.file(), local == null ? h.linkLine : local.line(),
                    "route: " + Ip.str(p.dst) + " is an address of " + h.name + " itself"));
            Ruleset.Outcome in = r.run(chain("input"), p);
            hops.add(new Hop(h.name, r.file, in.line(), "input: " + in.kind() + " " + ruleText(in)));
            return in.kind() == Rule.Kind.ACCEPT ? DELIVERED : in.kind() == Rule.Kind.REJECT ? "refused" : "dropped-by-input";
        }
        Host.Route rt = h.route(p.dst);
        if (rt != null && rt.unreachable()) {
            hops.add(new Hop(h.name, rt.file(), rt.line(), "route: " + Ip.str(p.dst) + " unreachable (" + rt.prefix() + ")"));
            return "unreachable";
        }
        p.oif = rt == null ? "default" : rt.dev();
        hops.add(rt == null ? new Hop(h.name, h.dir + "ip/routes.batch", 0, "route: " + Ip.str(p.dst) + " is outside meshc's routes: the VM's default route")
                : new Hop(h.name, rt.file(), rt.line(), "route: " + rt.prefix() + (rt.gateway() != 0 ? " via " + Ip.str(rt.gateway()) : "") + " dev " + rt.dev()));
        Ruleset.Outcome f = r.run(chain("forward"), p);
        hops.add(new Hop(h.name, r.file, f.line(), "forward: " + f.kind() + " " + ruleText(f)));
        if (f.kind() == Rule.Kind.DROP) return "dropped";
        if (f.kind() == Rule.Kind.REJECT) return "refused";
        if (rt == null) {
            Ruleset.Outcome post = r.run(chain("postrouting"), p);
            hops.add(new Hop(h.name, r.file, post.line(), post.kind() == Rule.Kind.MASQUERADE ? "leaves by the default route, masqueraded to "
                    + Ip.str(h.underlay) : "leaves by the default route with its overlay source"));
            return reply(h, null, p, null, hops) ? DELIVERED : "reply-dropped";
        }
        if (rt.dev().equals(h.tunnel)) return tunnel(h, rt, p, hops);
        Host.Container to = h.byVeth(rt.dev());
        if (to == null || to.addr() != p.dst) {
            hops.add(new Hop(h.name, rt.file(), rt.line(), "no container of " + h.name + " holds " + Ip.str(p.dst) + " on " + rt.dev()));
            return "no-container";
        }
        hops.add(new Hop(h.name, h.dir + "containers/" + to.name() + "/network.json", 1, "delivered to " + to.name() + " on " + to.veth()));
        return reply(h, null, p, null, hops) ? DELIVERED : "reply-dropped";
    }

    private String tunnel(Host h, Host.Route rt, Pkt p, List<Hop> hops) throws TraceError {
        Host.Neighbor n = h.neighbor(rt.gateway(), h.tunnel);
        if (n == null) {
            hops.add(new Hop(h.name, h.dir + "ip/neighbors.batch", 0, "no neighbour for gateway " + Ip.str(rt.gateway())));
            return "no-neighbour";
        }
        hops.add(new Hop(h.name, n.file(), n.line(), "neighbour " + Ip.str(n.addr()) + " lladdr " + n.lladdr()));
        int peerUnderlay;
        if (h.encapsulation.equals("vxlan")) {
            Host.Fdb f = h.fdb(n.lladdr());
            if (f == null) {
                hops.add(new Hop(h.name, h.dir + "ip/fdb.batch", 0, "no FDB entry for " + n.lladdr()));
                return "no-fdb";
            }
            hops.add(new Hop(h.name, f.file(), f.line(), "FDB " + f.mac() + " -> " + Ip.str(f.dst()) + " vni " + f.vni()));
            peerUnderlay = f.dst();
        } else {
            peerUnderlay = Ip.parse(n.lladdr());
        }
        hops.add(new Hop(h.name, h.dir + "ip/links.batch", h.linkLine, "encapsulated (" + h.encapsulation + ") " + Ip.str(h.underlay) + " -> " + Ip.str(peerUnderlay)));
        if (!net.evaluates(peerUnderlay)) { // verify of some hosts only: the peer's part is its own files' decision
            hops.add(new Hop(h.name, h.dir + "ip/links.batch", h.linkLine, "beyond the hosts checked: " + Ip.str(peerUnderlay) + "'s files are not evaluated"));
            return reply(h, null, p, null, hops) ? DELIVERED : "reply-dropped";
        }
        Sender from = new Sender(h.underlay, h.encapsulation, h.vxlanPort, h.vni);
        if (recorded != null) { // recording: the peer's part is evaluated later, with the other flows entering that peer (resolve)
            Deferred d = recording.computeIfAbsent(Deferred.key(peerUnderlay, from, p), k -> new Deferred(fw, peerUnderlay, from, p));
            deferredUse = new Use(d, replyOn(h, p, h.tunnel, net.container(p.src).veth(), new ArrayList<>()));
            return DEFERRED;
        }
        String v = peerPart(from, peerUnderlay, p, hops);
        if (v != null) return v;
        return replyOn(h, p, h.tunnel, net.container(p.src).veth(), hops) ? DELIVERED : "reply-dropped";
    }

    /**
     * The part of a flow's path on the peer it is tunnelled to: tunnel filter, anti-spoofing, route, forward,
     * delivery and the reply's forward there. Null when the reply leaves the peer (the sender's reply check
     * follows); else the verdict. Reads the peer's files only: what it needs of the sender is {@code from}.
     */
    private String peerPart(Sender from, int peerUnderlay, Pkt p, List<Hop> hops) throws TraceError {
        Host peer = net.byUnderlay(peerUnderlay);
        if (peer == null) return "no-peer";
        Pkt outer = new Pkt();
        outer.src = from.underlay();
        outer.dst = peerUnderlay;
        outer.iif = "";
        outer.routeDev = peer::routeDev;
        outer.th = outerHeader(from.encapsulation(), from.vxlanPort(), from.vni(), p);
        if (from.encapsulation().equals("vxlan")) {
            outer.proto = "udp";
            outer.dport = from.vxlanPort();
        } else {
            outer.proto = "gre";
        }
        // The outer packet arrives on the peer's underlay interface: the name its tunnel_in requires.
        outer.iif = underlayInterface(peer);
        Ruleset pr = rs(peer);
        Ruleset.Outcome in = pr.run(chain("input"), outer);
        hops.add(new Hop(peer.name, pr.file, in.line(), in.kind() == Rule.Kind.ACCEPT && in.elementLine() > 0
                ? "tunnel filter: passes, " + Ip.str(outer.src) + " . " + Ip.str(p.src) + " is in tunnel_sources"
                : "tunnel filter: " + in.kind() + " " + ruleText(in)));
        if (in.kind() != Rule.Kind.ACCEPT) return "tunnel-refused";
        Pkt q = p.copy();
        q.ctOrigDst = q.dst; // a new conntrack entry on the peer: the DNAT happened on the sender
        q.ctReplSrc = q.dst;
        q.iif = peer.tunnel;
        q.oif = "";
        q.routeDev = peer::routeDev;
        Ruleset.Outcome g = pr.run(chain("guard"), q);
        hops.add(new Hop(peer.name, pr.file, g.line(), "anti-spoofing: " + (g.kind() == Rule.Kind.DROP ? "DROP " : "passes, ") + ruleText(g)));
        if (g.kind() == Rule.Kind.DROP) return "spoofed-source";
        Host.Route prt = peer.route(q.dst);
        if (peer.local(q.dst) != null || prt == null || prt.unreachable() || prt.dev().equals(peer.tunnel)) {
            hops.add(new Hop(peer.name, prt == null ? peer.dir + "ip/routes.batch" : prt.file(), prt == null ? 0 : prt.line(),
                    "route on " + peer.name + ": " + Ip.str(q.dst) + (prt != null && prt.unreachable() ? " unreachable" : " not a container of " + peer.name)));
            return "unreachable";
        }
        q.oif = prt.dev();
        hops.add(new Hop(peer.name, prt.file(), prt.line(), "route: " + prt.prefix() + " dev " + prt.dev()));
        Ruleset.Outcome f = pr.run(chain("forward"), q);
        hops.add(new Hop(peer.name, pr.file, f.line(), "forward: " + f.kind() + " " + ruleText(f)));
        if (f.kind() != Rule.Kind.ACCEPT) return f.kind() == Rule.Kind.REJECT ? "refused" : "dropped";
        Host.Container to = peer.byVeth(prt.dev());
        if (to == null || to.addr() != q.dst) return "no-container";
        hops.add(new Hop(peer.name, peer.dir + "containers/" + to.name() + "/network.json", 1, "delivered to " + to.name() + " on " + to.veth()));
        return replyOn(peer, q, q.oif, peer.tunnel, hops) ? null : "reply-dropped";
    }

    /**
     * Whether {@code receiver}'s input accepts a tunnel packet that {@code sender} encapsulates (its underlay,
     * its VNI and port) carrying an inner packet from {@code innerSrc}: the tunnel filter on its own.
     */
    public boolean tunnelAccepts(String receiver, String sender, String innerSrc) throws TraceError {
        return tunnelAccepts(receiver, net.host(sender).underlay, innerSrc);
    }

    /**
     * The same, for a sender known by its underlay address: the tunnel's settings (encapsulation, VNI, port) are
     * network-wide, so the receiver's own stand for the sender's, and the sender's files need not be read.
     */
    boolean tunnelAccepts(String receiver, int senderUnderlay, String innerSrc) throws TraceError {
        Host peer = net.host(receiver);
        Pkt inner = new Pkt();
        inner.src = Ip.parse(innerSrc);
        inner.dst = peer.underlay;
        inner.proto = "tcp";
        Pkt outer = new Pkt();
        outer.src = senderUnderlay;
        outer.dst = peer.underlay;
        outer.routeDev = peer::routeDev;
        outer.th = outerHeader(peer.encapsulation, peer.vxlanPort, peer.vni, inner);
        outer.proto = peer.encapsulation.equals("vxlan") ? "udp" : "gre";
        outer.dport = peer.vxlanPort;
        outer.iif = underlayInterface(peer);
        return rs(peer).run(chain("input"), outer).kind() == Rule.Kind.ACCEPT;
    }

    /** The interface the peer's tunnel filter expects the underlay on (its "iifname != X drop" / "! -i X"). */
    private final java.util.Map<String, String> underlayIf = new java.util.concurrent.ConcurrentHashMap<>();

    private String underlayInterface(Host peer) {
        // By name, not by Host: a lazy network parses a host again after dropping it, and a map of Hosts would keep every one.
        return underlayIf.computeIfAbsent(peer.name, x -> findUnderlayInterface(peer));
    }

    private String findUnderlayInterface(Host peer) {
        for (Rule r : rs(peer).chains.getOrDefault(fw == Firewall.NFT ? "tunnel_in" : "MESHC-TUNNEL-IN", List.of())) {
            java.util.regex.Matcher m = Re.of("(?:iifname != \"|! -i )([A-Za-z0-9_.-]+)").matcher(r.text());
            if (m.find()) return m.group(1);
        }
        return "eth0";
    }

    /** The outer packet's transport header and what follows, as the kernel would build it. */
    private static byte[] outerHeader(String encapsulation, int vxlanPort, long vni, Pkt p) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(80);
        if (encapsulation.equals("vxlan")) {
            b.putShort((short) 50000).putShort((short) vxlanPort).putShort((short) 72).putShort((short) 0); // UDP
            b.put((byte) 0x08).put(new byte[3]).putInt((int) (vni << 8)); // VXLAN: I flag, VNI
            b.put(new byte[12]).putShort((short) 0x0800); // inner Ethernet
        } else {
            b.putShort((short) 0).putShort((short) 0x0800); // GRE without key, IPv4
        }
        b.put((byte) 0x45).put((byte) 0).putShort((short) 40).putInt(0).put((byte) 64).put((byte) ("tcp".equals(p.proto) ? 6 : 17)).putShort((short) 0);
        b.putInt(p.src).putInt(p.dst);
        return b.array();
    }

    /** The reply of the flow, from the backend back to the consumer: checked on every forwarding host (each with its own conntrack view). */
    private boolean reply(Host src, Host peer, Pkt atSrc, Pkt atPeer, List<Hop> hops) throws TraceError {
        if (peer != null && !replyOn(peer, atPeer, atPeer.oif, peer.tunnel, hops)) return false;
        String iif = peer != null ? src.tunnel : atSrc.oif.equals("default") ? "eth0" : atSrc.oif;
        return replyOn(src, atSrc, iif, net.container(atSrc.src).veth(), hops);
    }

    private boolean replyOn(Host h, Pkt fwd, String iif, String oif, List<Hop> hops) throws TraceError {
        Pkt rp = fwd.copy();
        rp.reply = true;
        rp.src = fwd.dst;
        rp.dst = fwd.src;
        rp.iif = iif;
        rp.oif = oif;
        // dport keeps the flow's service port: the evaluator reads it as the reply's source port.
        Ruleset r = rs(h);
        Ruleset.Outcome f = r.run(chain("forward"), rp);
        hops.add(new Hop(h.name, r.file, f.line(), "reply forward: " + f.kind() + " " + ruleText(f)));
        return f.kind() == Rule.Kind.ACCEPT;
    }
}

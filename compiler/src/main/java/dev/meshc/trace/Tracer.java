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

    private final Network net;
    private final Firewall fw;

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
            Host.Container to = net.container(t.addr());
            branches.add(new Branch(Ip.str(t.addr()), to == null ? null : to.name(), v));
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
        Host peer = net.byUnderlay(peerUnderlay);
        if (peer == null) return "no-peer";
        Pkt outer = new Pkt();
        outer.src = h.underlay;
        outer.dst = peerUnderlay;
        outer.iif = "";
        outer.routeDev = peer::routeDev;
        outer.th = outerHeader(h, p);
        if (h.encapsulation.equals("vxlan")) {
            outer.proto = "udp";
            outer.dport = h.vxlanPort;
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
        return reply(h, peer, p, q, hops) ? DELIVERED : "reply-dropped";
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
        outer.th = outerHeader(peer, inner);
        outer.proto = peer.encapsulation.equals("vxlan") ? "udp" : "gre";
        outer.dport = peer.vxlanPort;
        outer.iif = underlayInterface(peer);
        return rs(peer).run(chain("input"), outer).kind() == Rule.Kind.ACCEPT;
    }

    /** The interface the peer's tunnel filter expects the underlay on (its "iifname != X drop" / "! -i X"). */
    private final java.util.Map<Host, String> underlayIf = new java.util.concurrent.ConcurrentHashMap<>();

    private String underlayInterface(Host peer) {
        return underlayIf.computeIfAbsent(peer, this::findUnderlayInterface);
    }

    private String findUnderlayInterface(Host peer) {
        for (Rule r : rs(peer).chains.getOrDefault(fw == Firewall.NFT ? "tunnel_in" : "MESHC-TUNNEL-IN", List.of())) {
            java.util.regex.Matcher m = Re.of("(?:iifname != \"|! -i )([A-Za-z0-9_.-]+)").matcher(r.text());
            if (m.find()) return m.group(1);
        }
        return "eth0";
    }

    /** The outer packet's transport header and what follows, as the kernel would build it. */
    private static byte[] outerHeader(Host h, Pkt p) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(80);
        if (h.encapsulation.equals("vxlan")) {
            b.putShort((short) 50000).putShort((short) h.vxlanPort).putShort((short) 72).putShort((short) 0); // UDP
            b.put((byte) 0x08).put(new byte[3]).putInt((int) (h.vni << 8)); // VXLAN: I flag, VNI
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

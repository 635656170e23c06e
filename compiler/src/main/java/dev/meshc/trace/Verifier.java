package dev.meshc.trace;

import dev.meshc.model.Egress;
import dev.meshc.model.Service;
import dev.meshc.plan.Binding;
import dev.meshc.plan.ContainerPlan;
import dev.meshc.plan.Plan;
import dev.meshc.plan.VmPlan;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The reachability the files give, against the inventory's intent, for nft and iptables, computed per
 * equivalence class rather than per container pair.
 * <p>
 * A host's rulesets are a few fixed chains (the control) and per-flow data: set or map elements and
 * per-flow iptables rules (flows, VIP map, egress, masquerade, VM ports) and the DNAT chains. The
 * control treats every container of a host alike except through that data, so:
 * <ul>
 * <li>the data is compared element by element with what the inventory intends for that host (a flow
 * element is expected on the consumer's host with the address it opened, and on the backend's host with
 * the backend's address, as conntrack sees it there); every element and DNAT chain checked, for every
 * container, with no trace;</li>
 * <li>the control is evaluated by tracing, end to end, every intended flow of representatives: on each host
 * the first container of each kind of service (what its flows are to the chains: protocols, VIPs with no, one
 * or several backends, replicas, egress), and from them probes that the inventory does not allow (per related
 * and one unrelated service a container on the same VM and one elsewhere, VIPs, the VMs, egress prefixes and
 * an outside address, on the ports the inventory or the files name and one they do not);</li>
 * <li>a difference in the data is shown by tracing the concrete flow it names: the witness.</li>
 * </ul>
 * With {@code hosts} given, only what those hosts' files decide is checked (an incremental compile
 * passes the hosts it rendered): flows leaving or entering their containers, their data, their tunnel
 * filters.
 */
public final class Verifier {
    /** A difference from intent, with the flow that shows it and its trace. */
    public record Finding(String kind, String summary, Tracer.Trace witness) {
    }

    /** One line of the matrix: a service pair (or egress / VM ports) and how many flows were checked. */
    public record Row(String what, int count, String unit, boolean ok) {
    }

    public record Report(List<Row> rows, List<Finding> findings, int traced) {
        public boolean ok() {
            return findings.isEmpty();
        }
    }

    /** An intended flow: {@code backends} are the addresses it must reach (a VIP's, or the destination itself). */
    private record Flow(ContainerPlan src, int dst, String proto, int port, String pair, String expect, List<Integer> backends) {
        Flow(ContainerPlan src, int dst, String proto, int port, String pair) {
            this(src, dst, proto, port, pair, Tracer.DELIVERED, List.of(dst));
        }
    }

    /** Ports that are not allowed, probed per destination at most. */
    static final int PORTS_PER_DESTINATION = 4;

    private final Plan plan;
    private final Network net;
    private final Set<String> scope;
    private final Map<Integer, ContainerPlan> byAddr = new HashMap<>();
    private int traced;

    public Verifier(Plan plan, Network net) {
        this(plan, net, null);
    }

    /** Checks only what the files of {@code hosts} decide; null: every host. */
    public Verifier(Plan plan, Network net, Collection<String> hosts) {
        this.plan = plan;
        this.net = net;
        Set<String> s = new TreeSet<>(hosts == null ? net.hostNames() : hosts);
        s.retainAll(net.hostNames());
        this.scope = s;
        for (ContainerPlan c : plan.containers().values()) byAddr.put(c.address(), c);
    }

    private boolean inScope(String vm) {
        return scope.contains(vm);
    }

    public Report verify() throws TraceError {
        // Checking some hosts: traces end where a flow leaves them (the peer's part is checked when its files are).
        net.limitTo(scope.equals(net.hostNames()) ? null : scope);
        try {
            return check();
        } finally {
            net.limitTo(null);
        }
    }

    private Report check() throws TraceError {
        List<Row> rows = new ArrayList<>();
        List<Finding> findings = new ArrayList<>();
        Tracer nft = new Tracer(net, Tracer.Firewall.NFT), ipt = new Tracer(net, Tracer.Firewall.IPTABLES);
        List<Tracer> both = List.of(nft, ipt);
        // 0. The two renders of routes, neighbours and FDB (systemd-networkd, ip -batch) say the same.
        Map<String, String> nd = net.networkdDifferences(scope);
        for (var e : nd.entrySet()) findings.add(new Finding("networkd-differs", e.getValue() + ": " + e.getKey(), null));
        rows.add(new Row("systemd-network/ and ip/*.batch state the same routes, neighbours and FDB", scope.size(), "hosts", nd.isEmpty()));
        // 0b. The tunnel filter: each VM accepts from each peer exactly that peer's overlay subnet as inner source.
        // Up to 64 VMs every VM's subnet is tried from every peer; above, each peer's own and the next VM's.
        boolean okTunnel = true;
        int tunnelChecks = 0;
        List<VmPlan> vms = List.copyOf(plan.vms().values());
        for (Tracer t : both) {
            for (String receiver : scope) for (int si = 0; si < vms.size(); si++) {
                VmPlan sender = vms.get(si);
                if (receiver.equals(sender.name())) continue;
                List<VmPlan> inners = vms.size() <= 64 ? vms : List.of(sender, vms.get((si + 1) % vms.size()));
                for (VmPlan w : inners) {
                    String inner = Ip.str(w.gateway() + 1);
                    boolean expect = w.name().equals(sender.name());
                    tunnelChecks++;
                    if (t.tunnelAccepts(receiver, sender.vm().underlay(), inner) != expect) {
                        okTunnel = false;
                        findings.add(new Finding("tunnel-filter", fw(t, nft) + ": " + receiver + " " + (expect ? "refuses" : "accepts")
                                + " tunnel packets from " + sender.name() + " with inner source " + inner + " (" + w.name() + "'s subnet)", null));
                    }
                }
            }
        }
        rows.add(new Row("tunnel filters accept each peer's own subnet only", tunnelChecks, "checks", okTunnel));
        // 1. Intended flows: those of representatives traced end to end by both firewalls; every flow's data checked below.
        Set<ContainerPlan> reps = representatives();
        Map<String, List<Flow>> intended = intended();
        Set<String> intendedKeys = new HashSet<>();
        Map<String, Map<String, Flow>> expected = new HashMap<>(); // host -> data key -> the flow that needs it
        for (var e : intended.entrySet()) {
            boolean ok = true;
            for (Flow f : e.getValue()) {
                expect(f, expected);
                intendedKeys.add(key(f.src().address(), f.dst(), f.proto(), f.port()));
                if (!reps.contains(f.src())) continue;
                for (Tracer t : both) {
                    Tracer.Trace r = trace(t, f.src().address(), f.dst(), f.proto(), f.port());
                    if (!r.verdict().equals(f.expect())) {
                        ok = false;
                        findings.add(new Finding(f.expect().equals(Tracer.DELIVERED) ? "missing" : "unexpected", fw(t, nft) + ": " + describe(f) + " is " + r.verdict()
                                + " (intended: " + e.getKey() + (f.expect().equals(Tracer.DELIVERED) ? "" : ", " + f.expect()) + ")", r));
                    }
                }
            }
            rows.add(new Row(e.getKey(), e.getValue().size(), "flows", ok));
        }
        // 2. The data: each host's elements and per-flow rules equal what its flows need, for every container.
        int entries = 0;
        boolean okData = true;
        Set<String> witnessed = new HashSet<>();
        for (String vm : scope) {
            Host h = net.host(vm);
            Map<String, Flow> want = expected.getOrDefault(vm, Map.of());
            for (Tracer t : both) {
                Ruleset rs = t == nft ? h.nft : h.ipt;
                Data d = data(rs);
                entries += d.lines.size();
                // Elements no intended flow needs; DNAT chains no needed VIP entry leads to.
                Set<String> usedChains = new HashSet<>();
                for (var e : d.vipChain.entrySet()) if (want.containsKey(e.getKey())) usedChains.add(e.getValue());
                for (var e : rs.entries.entrySet()) {
                    String k = d.lines.get(e.getKey());
                    String chain = d.dnatLine.get(e.getKey());
                    boolean used = k != null ? want.containsKey(k) || k.startsWith("masq ") && want.containsKey("egress " + k.substring(5))
                            : chain != null ? usedChains.contains(chain) : rs.used.contains(e.getKey());
                    if (used) continue;
                    okData = false;
                    Tracer.Trace w = k != null ? witness(k, t) : null;
                    findings.add(new Finding("unused", rs.file + ":" + e.getKey() + ": no intended flow uses " + e.getValue()
                            + (w != null ? "; the flow it names is " + w.verdict() : ""), w));
                    if (w != null && w.passes() && k.startsWith("flow ")) unintended(findings, k, t, nft, ipt, w, witnessed);
                }
                // Elements an intended flow needs that are absent (or a VIP entry whose chain sends elsewhere).
                for (var e : want.entrySet()) {
                    String k = e.getKey();
                    Flow f = e.getValue();
                    String problem = null;
                    if (!d.keys.contains(k)) {
                        if (k.startsWith("vip ") && f.backends().isEmpty()) continue;
                        problem = "lacks " + k;
                    } else if (k.startsWith("vip ")) {
                        List<Integer> to = d.chainTargets.get(d.vipChain.get(k));
                        if (to == null || !new TreeSet<>(to).equals(new TreeSet<>(f.backends()))) {
                            problem = "sends " + k + " through " + d.vipChain.get(k) + " to " + addrs(to) + ", not to " + addrs(f.backends());
                        }
                    }
                    if (problem == null) continue;
                    okData = false;
                    if (!witnessed.add(fw(t, nft) + " " + key(f.src().address(), f.dst(), f.proto(), f.port()))) continue;
                    Tracer.Trace w = trace(t, f.src().address(), f.dst(), f.proto(), f.port());
                    findings.add(new Finding(w.verdict().equals(f.expect()) ? "element-missing" : "missing", fw(t, nft) + ": " + describe(f) + " is " + w.verdict() + " (intended: " + f.pair()
                            + "; " + rs.file + " " + problem + ")", w));
                }
            }
        }
        rows.add(new Row("every set element, per-flow rule and DNAT chain is what an intended flow needs, for every container", entries, "entries", okData));
        // 3. Nothing else: from the representatives, to every class of destination, on the ports named.
        Set<String> other = new TreeSet<>();
        Map<Integer, Set<String>> ports = ports(other);
        int probes = 0;
        boolean okExtra = true;
        for (ContainerPlan c : reps) {
            for (int d : destinations(c)) {
                if (d == c.address()) continue;
                int tried = 0;
                for (String pp : ports.getOrDefault(d, other)) {
                    String proto = pp.substring(0, 3);
                    int port = Integer.parseInt(pp.substring(4));
                    if (intendedKeys.contains(key(c.address(), d, proto, port))) continue;
                    if (witnessed.contains("unintended " + key(c.address(), d, proto, port))) continue; // reported with the element that lets it through
                    // A VIP many services bind has as many ports; the chains treat them alike (the elements are compared above).
                    if (tried++ == PORTS_PER_DESTINATION) break;
                    probes++;
                    Tracer.Trace a = trace(nft, c.address(), d, proto, port);
                    Tracer.Trace b = trace(ipt, c.address(), d, proto, port);
                    Flow f = new Flow(c, d, proto, port, "");
                    if (a.passes()) {
                        okExtra = false;
                        findings.add(new Finding("unintended", "nft: " + describe(f) + " passes but the inventory does not allow it", a));
                    }
                    if (b.passes()) {
                        okExtra = false;
                        findings.add(new Finding("unintended", "iptables: " + describe(f) + " passes but the inventory does not allow it", b));
                    }
                    if (!a.verdict().equals(b.verdict())) {
                        okExtra = false;
                        findings.add(new Finding("firewalls-differ", describe(f) + ": nft " + a.verdict() + ", iptables " + b.verdict(), a));
                    }
                }
            }
        }
        rows.add(new Row("nothing else (from " + reps.size() + " representative containers, the first of each kind of service on each VM, to each class of destination)", probes, "flows", okExtra));
        return new Report(rows, findings, traced);
    }

    private static String fw(Tracer t, Tracer nft) {
        return t == nft ? "nft" : "iptables";
    }

    private Tracer.Trace trace(Tracer t, int src, int dst, String proto, int port) throws TraceError {
        traced++;
        return t.trace(src, dst, proto, port, List.of());
    }

    /** An element letting a flow through that no intended flow needs: unintended, and whether the other firewall agrees. */
    private void unintended(List<Finding> findings, String k, Tracer t, Tracer nft, Tracer ipt, Tracer.Trace w, Set<String> witnessed) throws TraceError {
        String[] f = k.split(" ");
        ContainerPlan src = byAddr.get(Ip.parse(f[1]));
        if (src == null) return;
        Flow flow = new Flow(src, Ip.parse(f[2]), f[4], Integer.parseInt(f[5]), "");
        if (!witnessed.add("unintended " + key(src.address(), flow.dst(), flow.proto(), flow.port()))) return;
        findings.add(new Finding("unintended", fw(t, nft) + ": " + describe(flow) + " passes but the inventory does not allow it", w));
        Tracer.Trace o = trace(t == nft ? ipt : nft, src.address(), flow.dst(), flow.proto(), flow.port());
        if (!o.verdict().equals(w.verdict())) {
            Tracer.Trace a = t == nft ? w : o, b = t == nft ? o : w;
            findings.add(new Finding("firewalls-differ", describe(flow) + ": nft " + a.verdict() + ", iptables " + b.verdict(), a));
        }
    }

    /** The flow a data key names, traced: the witness that an element lets something through. */
    private Tracer.Trace witness(String k, Tracer t) throws TraceError {
        String[] f = k.split(" ");
        if (!Ip.isAddr(f[1]) || net.container(Ip.parse(f[1])) == null) return null;
        int src = Ip.parse(f[1]);
        return switch (f[0]) {
            case "flow" -> trace(t, src, Ip.parse(f[2]), f[4], Integer.parseInt(f[5]));
            case "egress", "masq" -> trace(t, src, Ip.Prefix.parse(f[2]).addr(), f[3], Integer.parseInt(f[4]));
            case "hostport" -> {
                ContainerPlan c = byAddr.get(src);
                yield c == null ? null : trace(t, src, plan.vms().get(c.vm()).gateway(), f[2], Integer.parseInt(f[3]));
            }
            default -> null;
        };
    }

    private static String addrs(List<Integer> as) {
        if (as == null) return "nothing";
        List<String> s = new ArrayList<>();
        for (int a : new TreeSet<>(as)) s.add(Ip.str(a));
        return s.toString();
    }

    private String describe(Flow f) {
        ContainerPlan d = byAddr.get(f.dst());
        return f.src().name() + " (" + Ip.str(f.src().address()) + ") -> " + (d != null ? d.name() + " (" + Ip.str(f.dst()) + ")" : Ip.str(f.dst()))
                + ":" + f.port() + "/" + f.proto();
    }

    private static String key(int s, int d, String proto, int port) {
        return s + " " + d + " " + proto + " " + port;
    }

    /**
     * The data an intended flow needs, per host: on the consumer's host the VIP entry and a flow element per
     * backend with the address it opened; on each backend's host (when another) the element with the backend's
     * address, the only destination conntrack sees there; egress and VM-port elements on the consumer's host.
     */
    private void expect(Flow f, Map<String, Map<String, Flow>> out) {
        String s = Ip.str(f.src().address()), d = Ip.str(f.dst());
        String home = f.src().vm();
        boolean vip = f.backends().size() != 1 || f.backends().get(0) != f.dst();
        if (f.pair().contains(" egress:")) {
            Egress e = egressOf(f);
            if (e == null || !inScope(home)) return;
            if (e.toVm()) put(out, home, "hostport " + s + " " + f.proto() + " " + f.port(), f);
            else put(out, home, "egress " + s + " " + e.to() + " " + f.proto() + " " + f.port(), f);
            return;
        }
        if (vip && !f.backends().isEmpty() && inScope(home)) put(out, home, "vip " + s + " " + d, f);
        for (int t : f.backends()) {
            String ts = Ip.str(t);
            ContainerPlan backend = byAddr.get(t);
            if (inScope(home)) put(out, home, "flow " + s + " " + d + " " + ts + " " + f.proto() + " " + f.port(), f);
            if (backend != null && !backend.vm().equals(home) && inScope(backend.vm())) {
                put(out, backend.vm(), "flow " + s + " " + ts + " " + ts + " " + f.proto() + " " + f.port(), f);
            }
        }
    }

    private Egress egressOf(Flow f) {
        Service s = plan.inventory().services().get(f.src().service());
        for (Egress e : s.egress().values()) {
            if (f.proto().equals(e.protocol().id()) && f.port() == e.port() && f.pair().startsWith(s.name() + " egress:" + e.name() + " ")) return e;
        }
        return null;
    }

    private static void put(Map<String, Map<String, Flow>> out, String vm, String k, Flow f) {
        out.computeIfAbsent(vm, x -> new HashMap<>()).putIfAbsent(k, f);
    }

    /** A ruleset's data, keyed alike for both firewalls: line -> key, the keys, VIP entry -> chain, chain -> backends, DNAT line -> chain. */
    private record Data(Map<Integer, String> lines, Set<String> keys, Map<String, String> vipChain, Map<String, List<Integer>> chainTargets,
                        Map<Integer, String> dnatLine) {
    }

    private static Data data(Ruleset rs) {
        Map<Integer, String> lines = new HashMap<>();
        Map<String, String> vipChain = new HashMap<>();
        for (var e : rs.entries.entrySet()) {
            String[] k = dataKey(e.getValue());
            if (k == null) continue;
            lines.put(e.getKey(), k[0]);
            if (k[1] != null) vipChain.put(k[0], k[1]);
        }
        Map<String, List<Integer>> chainTargets = new HashMap<>();
        Map<Integer, String> dnatLine = new HashMap<>();
        for (var c : rs.chains.entrySet()) {
            for (Rule r : c.getValue()) {
                if (r.verdict().kind() != Rule.Kind.DNAT) continue;
                List<Integer> to = chainTargets.computeIfAbsent(c.getKey(), x -> new ArrayList<>());
                for (Rule.Branch b : r.verdict().targets()) {
                    to.add(b.addr());
                    dnatLine.put(b.line(), c.getKey());
                }
            }
        }
        return new Data(lines, new HashSet<>(lines.values()), vipChain, chainTargets, dnatLine);
    }

    /**
     * The key of a data entry, the same for both firewalls ({@code flow SRC OPENED DST PROTO PORT}, {@code vip SRC VIP},
     * {@code egress SRC PREFIX PROTO PORT}, {@code masq ...}, {@code hostport SRC PROTO PORT}) and for a VIP entry its
     * chain; null for what is not keyed (DNAT branches).
     */
    static String[] dataKey(String entry) {
        String[] t = entry.split(" ");
        if (t.length > 2 && t[1].equals("element")) { // nft: "<set> element a . b . c ..."
            List<String> v = new ArrayList<>();
            for (int i = 2; i < t.length; i++) if (!t[i].equals(".")) v.add(t[i]);
            return switch (t[0]) {
                case "flows" -> v.size() == 5 ? new String[]{"flow " + String.join(" ", v), null} : null;
                case "vip" -> v.size() == 5 && v.get(2).equals(":") && v.get(3).equals("goto") ? new String[]{"vip " + v.get(0) + " " + v.get(1), v.get(4)} : null;
                case "egress", "masq" -> v.size() == 4 ? new String[]{t[0] + " " + v.get(0) + " " + prefix(v.get(1)) + " " + v.get(2) + " " + v.get(3), null} : null;
                case "host_ports" -> v.size() == 3 ? new String[]{"hostport " + String.join(" ", v), null} : null;
                default -> null;
            };
        }
        if (t.length < 2 || !t[0].equals("-A")) return null;
        Map<String, String> o = new LinkedHashMap<>();
        for (int i = 2; i + 1 < t.length; i++) if (t[i].startsWith("-")) o.put(t[i], t[i + 1]);
        String src = o.containsKey("-s") ? o.get("-s").replace("/32", "") : o.get("--ctorigsrc");
        return switch (t[1]) {
            case "MESHC-FLOWS" -> new String[]{"flow " + o.get("--ctorigsrc") + " " + o.get("--ctorigdst") + " " + o.get("--ctreplsrc") + " " + o.get("--ctproto")
                    + " " + o.get("--ctorigdstport"), null};
            case "MESHC-DNAT" -> new String[]{"vip " + src + " " + o.getOrDefault("-d", "").replace("/32", ""), o.get("-j")};
            case "MESHC-EGRESS" -> new String[]{"egress " + src + " " + prefix(o.get("-d")) + " " + o.get("-p") + " " + o.get("--dport"), null};
            case "MESHC-SNAT" -> new String[]{"masq " + src + " " + prefix(o.get("-d")) + " " + o.get("-p") + " " + o.get("--dport"), null};
            case "MESHC-TO-MESHC" -> new String[]{"egress " + src + " " + prefix(o.get("--ctorigdst")) + " " + o.get("--ctproto") + " " + o.get("--ctorigdstport"), null};
            case "MESHC-CONTAINER-IN" -> new String[]{"hostport " + src + " " + o.get("-p") + " " + o.get("--dport"), null};
            default -> null;
        };
    }

    private static String prefix(String p) {
        return p == null ? "null" : p.contains("/") ? p : p + "/32";
    }

    /** The inventory's intent, grouped per service pair (only flows whose files are in scope). */
    private Map<String, List<Flow>> intended() {
        Map<String, List<Flow>> out = new TreeMap<>();
        for (Service s : plan.inventory().services().values()) {
            List<ContainerPlan> consumers = plan.containersOfService(s.name());
            for (Binding b : plan.bindingsOf(s.name()).values()) {
                String pair = s.name() + " -> " + b.service() + ":" + b.endpoint() + " (" + b.protocol().id() + "/" + b.port() + ", " + b.relationship() + ")";
                List<ContainerPlan> backends = plan.containersOfService(b.service());
                if (backends.isEmpty()) pair += ", no backends: refused";
                List<Integer> addrs = new ArrayList<>();
                boolean anyInScope = false;
                for (ContainerPlan t : backends) {
                    addrs.add(t.address());
                    anyInScope |= inScope(t.vm());
                }
                List<Flow> fs = out.computeIfAbsent(pair, k -> new ArrayList<>());
                for (ContainerPlan c : consumers) {
                    if (!inScope(c.vm()) && !anyInScope) continue;
                    fs.add(new Flow(c, b.vip(), b.protocol().id(), b.port(), pair, backends.isEmpty() ? "refused" : Tracer.DELIVERED, List.copyOf(addrs)));
                    for (ContainerPlan t : backends) if (inScope(c.vm()) || inScope(t.vm())) fs.add(new Flow(c, t.address(), b.protocol().id(), b.port(), pair));
                }
            }
            for (var ep : s.endpoints().values()) {
                String pair = s.name() + " replicas:" + ep.name() + " (" + ep.protocol().id() + "/" + ep.port() + ")";
                for (ContainerPlan c : consumers) for (ContainerPlan d : consumers) {
                    if (c != d && (inScope(c.vm()) || inScope(d.vm()))) {
                        out.computeIfAbsent(pair, k -> new ArrayList<>()).add(new Flow(c, d.address(), ep.protocol().id(), ep.port(), pair));
                    }
                }
            }
            for (Egress e : s.egress().values()) {
                String pair = s.name() + " egress:" + e.name() + " (" + (e.toVm() ? "vm" : e.to().toString()) + " " + e.protocol().id() + "/" + e.port() + ")";
                List<Flow> fs = out.computeIfAbsent(pair, k -> new ArrayList<>());
                for (ContainerPlan c : consumers) {
                    if (!inScope(c.vm())) continue;
                    if (e.toVm()) {
                        VmPlan vm = plan.vms().get(c.vm());
                        fs.add(new Flow(c, vm.gateway(), e.protocol().id(), e.port(), pair)); // the VM itself: any of its addresses
                        fs.add(new Flow(c, vm.vm().underlay(), e.protocol().id(), e.port(), pair));
                    } else {
                        for (int a : new TreeSet<>(List.of(e.to().network(), e.to().last()))) fs.add(new Flow(c, a, e.protocol().id(), e.port(), pair));
                    }
                }
            }
        }
        out.values().removeIf(List::isEmpty);
        return out;
    }

    private Map<String, Set<String>> consumers;

    /** The services consuming {@code service} through a relationship. */
    private Set<String> consumersOf(String service) {
        if (consumers == null) {
            consumers = new HashMap<>();
            for (var e : plan.bindings().entrySet()) for (Binding b : e.getValue().values()) consumers.computeIfAbsent(b.service(), k -> new TreeSet<>()).add(e.getKey());
        }
        return consumers.getOrDefault(service, Set.of());
    }

    /**
     * The representatives, per host in scope: the first container of each kind of service there, a kind being what
     * its flows are to the chains (per relationship its protocol and whether its VIP has no, one or several
     * backends; per endpoint its protocol and whether it has replicas; per egress its kind and protocol). The chains
     * treat containers of a host alike except through data, which is compared for every container.
     */
    private Set<ContainerPlan> representatives() {
        Set<ContainerPlan> reps = new LinkedHashSet<>();
        Map<String, String> kinds = new HashMap<>();
        for (String vm : scope) {
            Set<String> seen = new HashSet<>();
            for (ContainerPlan c : plan.containersByVm().getOrDefault(vm, List.of())) {
                if (seen.add(kinds.computeIfAbsent(c.service(), this::kind))) reps.add(c);
            }
        }
        return reps;
    }

    private String kind(String service) {
        List<String> k = new ArrayList<>();
        for (Binding b : plan.bindingsOf(service).values()) {
            int n = plan.containersOfService(b.service()).size();
            k.add("rel " + b.protocol().id() + " " + Math.min(n, 2));
        }
        Service s = plan.inventory().services().get(service);
        boolean replicas = plan.containersOfService(service).size() > 1;
        for (var e : s.endpoints().values()) k.add("ep " + e.protocol().id() + " " + replicas);
        for (Egress e : s.egress().values()) k.add("egress " + e.toVm() + " " + e.protocol().id() + " " + e.masquerade());
        java.util.Collections.sort(k);
        return String.join(", ", k);
    }

    /**
     * The destinations probed from a representative, one per class (the data of every container is compared
     * above, so the chains need one destination of each kind, not every one): for each service its own is related
     * to (backends, replicas, consumers) a container on its VM and one elsewhere, the same for one unrelated
     * service, every VIP, its VM and one other, egress prefixes and an outside address. (An element naming any other
     * address is found by the data comparison, and traced there.)
     */
    private Set<Integer> destinations(ContainerPlan c) throws TraceError {
        Set<Integer> d = new LinkedHashSet<>();
        Set<String> related = new TreeSet<>();
        related.add(c.service());
        for (Binding b : plan.bindingsOf(c.service()).values()) related.add(b.service());
        for (String consumer : consumersOf(c.service())) related.add(consumer);
        for (ContainerPlan t : plan.containersByVm().getOrDefault(c.vm(), List.of())) {
            if (!related.contains(t.service())) {
                d.add(t.address()); // an unrelated container on the same VM
                break;
            }
        }
        for (ContainerPlan t : plan.containers().values()) {
            if (!related.contains(t.service())) {
                related.add(t.service()); // the first unrelated service stands for all of them
                break;
            }
        }
        for (String s : related) {
            boolean here = false, elsewhere = false;
            for (ContainerPlan t : plan.containersOfService(s)) {
                if (t == c) continue;
                boolean local = t.vm().equals(c.vm());
                if (local ? here : elsewhere) continue;
                d.add(t.address());
                if (local) here = true;
                else elsewhere = true;
                if (here && elsewhere) break;
            }
        }
        for (var bs : plan.bindings().values()) for (Binding b : bs.values()) d.add(b.vip());
        VmPlan own = plan.vms().get(c.vm());
        d.add(own.gateway());
        d.add(own.vm().underlay());
        for (VmPlan v : plan.vms().values()) {
            if (v != own) {
                d.add(v.gateway());
                d.add(v.vm().underlay());
                break;
            }
        }
        for (Service s : plan.inventory().services().values()) for (Egress e : s.egress().values()) if (!e.toVm()) d.add(e.to().network());
        d.add(Ip.parse("192.0.2.1")); // an address outside everything (TEST-NET-1)
        return d;
    }

    /**
     * The ports probed per destination: its own endpoints (a container's service, a VIP's binding), the
     * ports the files name beside that address, and for every destination the egress ports and one port
     * no endpoint of the destination uses ({@code other} holds what addresses without their own get).
     */
    private Map<Integer, Set<String>> ports(Set<String> other) throws TraceError {
        Set<String> all = new TreeSet<>();
        for (Service s : plan.inventory().services().values()) {
            for (var e : s.endpoints().values()) all.add(e.protocol().id() + " " + e.port());
            for (Egress e : s.egress().values()) other.add(e.protocol().id() + " " + e.port());
        }
        all.addAll(other);
        Map<Integer, Set<String>> out = new HashMap<>();
        for (ContainerPlan c : plan.containers().values()) {
            Set<String> p = out.computeIfAbsent(c.address(), k -> new TreeSet<>(other));
            for (var e : plan.inventory().services().get(c.service()).endpoints().values()) p.add(e.protocol().id() + " " + e.port());
        }
        for (var bs : plan.bindings().values()) for (Binding b : bs.values()) {
            out.computeIfAbsent(b.vip(), k -> new TreeSet<>(other)).add(b.protocol().id() + " " + b.port());
        }
        for (String vm : scope) for (String k : net.host(vm).nft.entries.values()) {
            java.util.regex.Matcher pm = Re.of("(tcp|udp) \\. (\\d+)").matcher(k);
            if (!pm.find()) continue;
            String port = pm.group(1) + " " + Integer.parseInt(pm.group(2));
            all.add(port);
            java.util.regex.Matcher m = Ip.ADDR.matcher(k);
            while (m.find()) if (Ip.isAddr(m.group())) out.computeIfAbsent(Ip.parse(m.group()), x -> new TreeSet<>(other)).add(port);
        }
        // One port each destination does not serve: the first of all named ports it lacks, else an unnamed one.
        for (Set<String> p : out.values()) {
            String extra = all.stream().filter(x -> !p.contains(x)).findFirst().orElse("tcp 1");
            p.add(extra);
        }
        String extra = all.stream().filter(x -> !other.contains(x)).findFirst().orElse("tcp 1");
        other.add(extra);
        return out;
    }
}

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
import java.util.IdentityHashMap;
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
 * <p>
 * The checks go host by host (issue 19: at 1,000 VMs neither every host's parsed files nor every host's expected
 * elements fit in the heap beside each other): a host's expected elements are computed when it is compared and
 * dropped after, and a trace that enters a peer through the tunnel is recorded up to there and finished when
 * that peer is read (see {@link #check}), so a lazy {@link Network} parses each host twice per verify, however
 * few it keeps.
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
        this.scopeSet = new HashSet<>(s);
        for (ContainerPlan c : plan.containers().values()) byAddr.put(c.address(), c);
    }

    private boolean inScope(String vm) {
        return scopeSet.contains(vm);
    }

    /** The scope as a hash set: asked for every flow of every pair. */
    private final Set<String> scopeSet;

    public Report verify() throws TraceError {
        // Checking some hosts: traces end where a flow leaves them (the peer's part is checked when its files are).
        net.limitTo(scope.equals(net.hostNames()) ? null : scope);
        try {
            return check();
        } finally {
            net.limitTo(null);
            net.readAheadIn(null);
        }
    }

    /** Indices of the two firewalls in the tracer pairs, nft first. */
    private static final int NFT = 0, IPT = 1;

    private static String fwName(int i) {
        return i == NFT ? "nft" : "iptables";
    }

    /** A probe of step 3 kept for the report: one whose verdicts wait for a peer, or that gives a finding. */
    private record Probe(ContainerPlan c, int d, String proto, int port, Tracer.Pending nft, Tracer.Pending ipt) {
    }

    /**
     * Host by host, so that a fleet's hosts need not be parsed at once nor again and again: a first pass reads each host
     * in scope once (its networkd facts, tunnel filter, data against the expected elements of that host alone, the
     * ports its files name, and the representatives' intended flows traced up to where they enter a peer); a second
     * pass reads each host once more (the flows' parts on it as a peer, then the representatives' probes, which
     * need every host's ports); a third reads the peers the probes entered (few: what the inventory does not allow
     * is mostly dropped where it starts). The findings are then listed in the order of the steps.
     */
    private Report check() throws TraceError {
        List<Row> rows = new ArrayList<>();
        List<Finding> findings = new ArrayList<>();
        // Whole traces (a finding's witness, the data's witnesses) and recorded ones (peers' parts queued).
        Tracer[] full = {new Tracer(net, Tracer.Firewall.NFT), new Tracer(net, Tracer.Firewall.IPTABLES)};
        Tracer[] rec = {new Tracer(net, Tracer.Firewall.NFT), new Tracer(net, Tracer.Firewall.IPTABLES)};
        List<VmPlan> vms = List.copyOf(plan.vms().values());
        Map<Integer, String> vmOfUnderlay = new HashMap<>();
        for (VmPlan v : vms) vmOfUnderlay.put(v.vm().underlay(), v.name());
        // What the plan alone decides: the representatives and their intended flows, the number of intended flows per pair.
        long t0 = System.nanoTime();
        Set<ContainerPlan> reps = representatives();
        List<Spec> specs = specs(scopedServices());
        Map<String, Integer> counts = new LinkedHashMap<>();
        Map<String, List<Flow>> repFlows = new HashMap<>();
        Map<ContainerPlan, List<Flow>> bySrc = new HashMap<>();
        Set<String> intendedKeys = new HashSet<>(); // the representatives' (the only sources step 3 probes from)
        for (Spec sp : specs) {
            int n = count(sp);
            if (n == 0) continue;
            counts.merge(sp.pair(), n, Integer::sum);
            List<Flow> fs = new ArrayList<>();
            flows(sp, null, reps, fs);
            repFlows.computeIfAbsent(sp.pair(), k -> new ArrayList<>()).addAll(fs);
            for (Flow f : fs) {
                bySrc.computeIfAbsent(f.src(), k -> new ArrayList<>()).add(f);
                intendedKeys.add(key(f.src().address(), f.dst(), f.proto(), f.port()));
            }
        }
        Map<String, List<ContainerPlan>> repsOn = new HashMap<>();
        for (ContainerPlan c : reps) repsOn.computeIfAbsent(c.vm(), k -> new ArrayList<>()).add(c);
        Map<Flow, Tracer.Pending[]> step1 = new IdentityHashMap<>();
        Map<String, String> nd = new TreeMap<>();
        List<List<Finding>> tunnelFindings = List.of(new ArrayList<>(), new ArrayList<>());
        int tunnelChecks = 0;
        List<Finding> dataFindings = new ArrayList<>();
        int entries = 0;
        boolean okData = true;
        Set<String> witnessed = new HashSet<>();
        Set<String> other = new TreeSet<>(), all = new TreeSet<>();
        portsOfPlan(other, all);
        Map<Integer, Set<String>> hostPorts = new HashMap<>();
        Map<String, String> portNames = new HashMap<>();
        long t1 = System.nanoTime();
        dev.meshc.diag.Timings.part("verify: the plan's flows and ports", t1 - t0);
        // Pass 1: each host in scope once (the next one read while this one is checked).
        net.readAheadIn(scope);
        long[] partNanos = new long[5];
        for (String vm : scope) {
            long p0 = System.nanoTime();
            Host h = net.host(vm);
            long p1 = System.nanoTime();
            partNanos[0] += p1 - p0;
            // 0. The two renders of routes, neighbours and FDB (systemd-networkd, ip -batch) say the same.
            nd.putAll(net.networkdDifferences(List.of(vm)));
            long p2 = System.nanoTime();
            partNanos[1] += p2 - p1;
            // 0b. The tunnel filter: each VM accepts from each peer exactly that peer's overlay subnet as inner source.
            // Up to 64 VMs every VM's subnet is tried from every peer; above, each peer's own and the next VM's.
            for (int i = 0; i < 2; i++) {
                for (int si = 0; si < vms.size(); si++) {
                    VmPlan sender = vms.get(si);
                    if (vm.equals(sender.name())) continue;
                    List<VmPlan> inners = vms.size() <= 64 ? vms : List.of(sender, vms.get((si + 1) % vms.size()));
                    for (VmPlan w : inners) {
                        String inner = Ip.str(w.gateway() + 1);
                        boolean expect = w.name().equals(sender.name());
                        tunnelChecks++;
                        if (full[i].tunnelAccepts(vm, sender.vm().underlay(), inner) != expect) {
                            tunnelFindings.get(i).add(new Finding("tunnel-filter", fwName(i) + ": " + vm + " " + (expect ? "refuses" : "accepts")
                                    + " tunnel packets from " + sender.name() + " with inner source " + inner + " (" + w.name() + "'s subnet)", null));
                        }
                    }
                }
            }
            long p3 = System.nanoTime();
            partNanos[2] += p3 - p2;
            // 1. The representatives' intended flows, traced by both firewalls up to the peers they enter.
            for (ContainerPlan c : repsOn.getOrDefault(vm, List.of())) {
                for (Flow f : bySrc.getOrDefault(c, List.of())) {
                    Tracer.Pending[] p = new Tracer.Pending[2];
                    for (int i = 0; i < 2; i++) p[i] = record(rec[i], f.src().address(), f.dst(), f.proto(), f.port());
                    step1.put(f, p);
                }
            }
            long p4 = System.nanoTime();
            partNanos[3] += p4 - p3;
            // 2. The data: the host's elements and per-flow rules equal what its flows need, for every container.
            Map<String, Flow> want = expectedOn(vm, specs);
            for (int i = 0; i < 2; i++) {
                Ruleset rs = i == NFT ? h.nft : h.ipt;
                Tracer t = full[i];
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
                    dataFindings.add(new Finding("unused", rs.file + ":" + e.getKey() + ": no intended flow uses " + e.getValue()
                            + (w != null ? "; the flow it names is " + w.verdict() : ""), w));
                    if (w != null && w.passes() && k.startsWith("flow ")) unintended(dataFindings, k, t, full[NFT], full[IPT], w, witnessed);
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
                    if (!witnessed.add(fwName(i) + " " + key(f.src().address(), f.dst(), f.proto(), f.port()))) continue;
                    Tracer.Trace w = trace(t, f.src().address(), f.dst(), f.proto(), f.port());
                    dataFindings.add(new Finding(w.verdict().equals(f.expect()) ? "element-missing" : "missing", fwName(i) + ": " + describe(f) + " is " + w.verdict()
                            + " (intended: " + f.pair() + "; " + rs.file + " " + problem + ")", w));
                }
            }
            // 3 (its ports): the ports the files name beside an address.
            portsOfHost(h, other, all, hostPorts, portNames);
            partNanos[4] += System.nanoTime() - p4;
        }
        String[] partNames = {"hosts loaded", "networkd vs ip", "tunnel filters", "representatives' flows", "data and ports"};
        for (int i = 0; i < partNames.length; i++) dev.meshc.diag.Timings.part("verify:   " + partNames[i], partNanos[i]);
        // The ports probed per destination, made when a probe first needs them (a few hundred destinations, not every
        // address of the fleet): with one port it does not serve, the first of all named ports it lacks, else an unnamed one.
        Set<String> unnamed = new TreeSet<>(other);
        unnamed.add(unserved(all, other));
        Map<Integer, Set<String>> ports = new HashMap<>();
        java.util.function.IntFunction<Set<String>> portsOf = d -> ports.computeIfAbsent(d, x -> {
            Set<String> p = planPorts(x, other);
            Set<String> named = hostPorts.get(x);
            if (p == null && named == null) return unnamed;
            if (p == null) p = new TreeSet<>(other);
            if (named != null) p.addAll(named);
            p.add(unserved(all, p));
            return p;
        });
        long t2 = System.nanoTime();
        dev.meshc.diag.Timings.part("verify: pass 1 (" + scope.size() + " hosts)", t2 - t1);
        // Pass 2, in reverse (the hosts pass 1 parsed last are still parsed): each host's part, as a peer, of the flows
        // recorded in pass 1; then, every host's ports known, the representatives' probes of what the inventory does not allow.
        Map<String, List<Tracer.Deferred>> waiting = byPeer(rec, vmOfUnderlay);
        Set<String> pass2 = new TreeSet<>(java.util.Comparator.reverseOrder());
        pass2.addAll(scope);
        pass2.addAll(waiting.keySet());
        Map<String, List<Probe>> probesOn = new HashMap<>();
        int probes = 0;
        net.readAheadIn(pass2);
        for (String vm : pass2) {
            resolve(rec, waiting.remove(vm));
            if (!scope.contains(vm)) continue;
            List<Probe> kept = new ArrayList<>();
            for (ContainerPlan c : repsOn.getOrDefault(vm, List.of())) {
                for (int d : destinations(c)) {
                    if (d == c.address()) continue;
                    int tried = 0;
                    for (String pp : portsOf.apply(d)) {
                        String proto = pp.substring(0, 3);
                        int port = Integer.parseInt(pp.substring(4));
                        if (intendedKeys.contains(key(c.address(), d, proto, port))) continue;
                        if (witnessed.contains("unintended " + key(c.address(), d, proto, port))) continue; // reported with the element that lets it through
                        // A VIP many services bind has as many ports; the chains treat them alike (the elements are compared above).
                        if (tried++ == PORTS_PER_DESTINATION) break;
                        probes++;
                        Tracer.Pending a = record(rec[NFT], c.address(), d, proto, port);
                        Tracer.Pending b = record(rec[IPT], c.address(), d, proto, port);
                        if (a.deferred() || b.deferred() || extra(a.result(), b.result())) kept.add(new Probe(c, d, proto, port, a, b));
                    }
                }
            }
            probesOn.put(vm, kept);
        }
        resolve(rec, waiting.remove("")); // peers no VM of the inventory has (their part: no-peer)
        // Pass 3: the peers the probes entered.
        Map<String, List<Tracer.Deferred>> waiting3 = byPeer(rec, vmOfUnderlay);
        for (var e : waiting3.entrySet()) resolve(rec, e.getValue());
        dev.meshc.diag.Timings.part("verify: passes 2 and 3", System.nanoTime() - t2);
        // The report, in the order of the steps.
        for (var e : nd.entrySet()) findings.add(new Finding("networkd-differs", e.getValue() + ": " + e.getKey(), null));
        rows.add(new Row("systemd-network/ and ip/*.batch state the same routes, neighbours and FDB", scope.size(), "hosts", nd.isEmpty()));
        boolean okTunnel = tunnelFindings.get(NFT).isEmpty() && tunnelFindings.get(IPT).isEmpty();
        for (List<Finding> l : tunnelFindings) findings.addAll(l);
        rows.add(new Row("tunnel filters accept each peer's own subnet only", tunnelChecks, "checks", okTunnel));
        for (var e : counts.entrySet()) {
            boolean ok = true;
            for (Flow f : repFlows.getOrDefault(e.getKey(), List.of())) {
                Tracer.Pending[] p = step1.get(f);
                for (int i = 0; i < 2; i++) {
                    Tracer.Trace r = p[i].result();
                    if (!r.verdict().equals(f.expect())) {
                        ok = false;
                        findings.add(new Finding(f.expect().equals(Tracer.DELIVERED) ? "missing" : "unexpected", fwName(i) + ": " + describe(f) + " is " + r.verdict()
                                + " (intended: " + e.getKey() + (f.expect().equals(Tracer.DELIVERED) ? "" : ", " + f.expect()) + ")",
                                witness(full[i], f.src().address(), f.dst(), f.proto(), f.port())));
                    }
                }
            }
            rows.add(new Row(e.getKey(), e.getValue(), "flows", ok));
        }
        findings.addAll(dataFindings);
        rows.add(new Row("every set element, per-flow rule and DNAT chain is what an intended flow needs, for every container", entries, "entries", okData));
        boolean okExtra = true;
        for (String vm : scope) {
            for (Probe p : probesOn.getOrDefault(vm, List.of())) {
                Tracer.Trace ra = p.nft().result(), rb = p.ipt().result();
                if (!extra(ra, rb)) continue;
                okExtra = false;
                Flow f = new Flow(p.c(), p.d(), p.proto(), p.port(), "");
                Tracer.Trace a = witness(full[NFT], p.c().address(), p.d(), p.proto(), p.port());
                if (ra.passes()) findings.add(new Finding("unintended", "nft: " + describe(f) + " passes but the inventory does not allow it", a));
                if (rb.passes()) {
                    findings.add(new Finding("unintended", "iptables: " + describe(f) + " passes but the inventory does not allow it",
                            witness(full[IPT], p.c().address(), p.d(), p.proto(), p.port())));
                }
                if (!ra.verdict().equals(rb.verdict())) findings.add(new Finding("firewalls-differ", describe(f) + ": nft " + ra.verdict() + ", iptables " + rb.verdict(), a));
            }
        }
        rows.add(new Row("nothing else (from " + reps.size() + " representative containers, the first of each kind of service on each VM, to each class of destination)", probes, "flows", okExtra));
        return new Report(rows, findings, traced);
    }

    /** Whether a probe of what the inventory does not allow gives a finding: it passes, or the firewalls differ. */
    private static boolean extra(Tracer.Trace a, Tracer.Trace b) {
        return a.passes() || b.passes() || !a.verdict().equals(b.verdict());
    }

    private Tracer.Pending record(Tracer t, int src, int dst, String proto, int port) throws TraceError {
        traced++;
        return t.record(src, dst, proto, port);
    }

    /** A finding's flow traced in full (its verdict was recorded and counted already). */
    private static Tracer.Trace witness(Tracer t, int src, int dst, String proto, int port) throws TraceError {
        return t.trace(src, dst, proto, port, List.of());
    }

    /** The peer parts the recording tracers queued, by the VM they enter ("" for an address no VM of the plan has). */
    private static Map<String, List<Tracer.Deferred>> byPeer(Tracer[] rec, Map<Integer, String> vmOfUnderlay) {
        Map<String, List<Tracer.Deferred>> out = new TreeMap<>();
        for (Tracer t : rec) {
            for (Tracer.Deferred d : t.queued()) out.computeIfAbsent(vmOfUnderlay.getOrDefault(d.peerUnderlay(), ""), k -> new ArrayList<>()).add(d);
        }
        return out;
    }

    private static void resolve(Tracer[] rec, List<Tracer.Deferred> ds) throws TraceError {
        if (ds == null) return;
        for (Tracer.Deferred d : ds) rec[d.firewall() == Tracer.Firewall.NFT ? NFT : IPT].resolve(d);
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
    private void expect(Flow f, String vm, Map<String, Flow> out) {
        // Only the elements on vm: a key is made only where it would be kept (most flows of a host's pairs need
        // nothing on it but the backend's element).
        String home = f.src().vm();
        boolean atHome = vm.equals(home) && inScope(home);
        if (f.pair().contains(" egress:")) {
            if (!atHome) return;
            Egress e = egressOf(f);
            if (e == null) return;
            String s = Ip.str(f.src().address());
            if (e.toVm()) out.putIfAbsent("hostport " + s + " " + f.proto() + " " + f.port(), f);
            else out.putIfAbsent("egress " + s + " " + e.to() + " " + f.proto() + " " + f.port(), f);
            return;
        }
        boolean vip = f.backends().size() != 1 || f.backends().get(0) != f.dst();
        String s = null, d = null;
        if (atHome) {
            s = Ip.str(f.src().address());
            d = Ip.str(f.dst());
            if (vip && !f.backends().isEmpty()) out.putIfAbsent("vip " + s + " " + d, f);
        }
        for (int t : f.backends()) {
            if (atHome) {
                out.putIfAbsent("flow " + s + " " + d + " " + Ip.str(t) + " " + f.proto() + " " + f.port(), f);
                continue; // a backend on another host: its element is that host's
            }
            ContainerPlan backend = byAddr.get(t);
            if (backend != null && backend.vm().equals(vm) && !vm.equals(home) && inScope(vm)) {
                String ts = Ip.str(t);
                out.putIfAbsent("flow " + Ip.str(f.src().address()) + " " + ts + " " + ts + " " + f.proto() + " " + f.port(), f);
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

    /** What one pair of the matrix is made of: a relationship of {@code s} (b), its endpoint's replicas (ep), or its egress (e). */
    private record Spec(String pair, Service s, Binding b, dev.meshc.model.Endpoint ep, Egress e) {
    }

    /**
     * The services with a container on a host in scope; null when every host is. Only their pairs can have flows
     * whose files are in scope: a relationship's when its consumer or its target is one of them, replicas' and
     * egress' when their own service is.
     */
    private Set<String> scopedServices() {
        if (scope.equals(net.hostNames())) return null;
        Set<String> out = new HashSet<>();
        for (String vm : scope) for (ContainerPlan c : plan.containersByVm().getOrDefault(vm, List.of())) out.add(c.service());
        return out;
    }

    /**
     * The pairs, in the order of the matrix (by name; a name two specs share keeps their order); with {@code services}
     * given, only the pairs of those services and of relationships to them (the others have no flow in scope).
     */
    private List<Spec> specs(Set<String> services) {
        List<Spec> out = new ArrayList<>();
        for (Service s : plan.inventory().services().values()) {
            boolean own = services == null || services.contains(s.name());
            for (Binding b : plan.bindingsOf(s.name()).values()) {
                if (!own && !services.contains(b.service())) continue;
                String pair = s.name() + " -> " + b.service() + ":" + b.endpoint() + " (" + b.protocol().id() + "/" + b.port() + ", " + b.relationship() + ")";
                if (plan.containersOfService(b.service()).isEmpty()) pair += ", no backends: refused";
                out.add(new Spec(pair, s, b, null, null));
            }
            if (!own) continue;
            for (var ep : s.endpoints().values()) out.add(new Spec(s.name() + " replicas:" + ep.name() + " (" + ep.protocol().id() + "/" + ep.port() + ")", s, null, ep, null));
            for (Egress e : s.egress().values()) {
                out.add(new Spec(s.name() + " egress:" + e.name() + " (" + (e.toVm() ? "vm" : e.to().toString()) + " " + e.protocol().id() + "/" + e.port() + ")", s, null, null, e));
            }
        }
        out.sort(java.util.Comparator.comparing(Spec::pair)); // stable
        return out;
    }

    /** How many intended flows a pair has (only flows whose files are in scope), without making them. */
    private int count(Spec sp) {
        List<ContainerPlan> consumers = plan.containersOfService(sp.s().name());
        int n = 0;
        if (sp.b() != null) {
            List<ContainerPlan> backends = plan.containersOfService(sp.b().service());
            boolean anyInScope = false;
            for (ContainerPlan t : backends) anyInScope |= inScope(t.vm());
            for (ContainerPlan c : consumers) {
                if (!inScope(c.vm()) && !anyInScope) continue;
                n++;
                for (ContainerPlan t : backends) if (inScope(c.vm()) || inScope(t.vm())) n++;
            }
        } else if (sp.ep() != null) {
            long out = 0;
            for (ContainerPlan c : consumers) if (!inScope(c.vm())) out++;
            long all = consumers.size();
            n = Math.toIntExact(all * (all - 1) - out * (out - 1));
        } else {
            for (ContainerPlan c : consumers) {
                if (!inScope(c.vm())) continue;
                n += sp.e().toVm() ? 2 : new TreeSet<>(List.of(sp.e().to().network(), sp.e().to().last())).size();
            }
        }
        return n;
    }

    /**
     * A pair's intended flows (only those whose files are in scope), in the matrix's order: those of the
     * representatives ({@code reps} given), or ({@code vm} given) those that need an element on that host:
     * every flow of its containers, and the flows of others to its containers.
     */
    private void flows(Spec sp, String vm, Set<ContainerPlan> reps, List<Flow> out) {
        List<ContainerPlan> consumers = plan.containersOfService(sp.s().name());
        if (sp.b() != null) {
            Binding b = sp.b();
            List<ContainerPlan> backends = plan.containersOfService(b.service());
            List<Integer> addrs = new ArrayList<>();
            boolean anyInScope = false, backendHere = false;
            for (ContainerPlan t : backends) {
                addrs.add(t.address());
                anyInScope |= inScope(t.vm());
                backendHere |= t.vm().equals(vm);
            }
            List<Integer> vipBackends = List.copyOf(addrs);
            for (ContainerPlan c : consumers) {
                boolean home = vm == null || c.vm().equals(vm);
                if (reps != null ? !reps.contains(c) : !home && !backendHere) continue;
                if (!inScope(c.vm()) && !anyInScope) continue;
                out.add(new Flow(c, b.vip(), b.protocol().id(), b.port(), sp.pair(), backends.isEmpty() ? "refused" : Tracer.DELIVERED, vipBackends));
                for (ContainerPlan t : backends) {
                    if ((inScope(c.vm()) || inScope(t.vm())) && (home || t.vm().equals(vm))) out.add(new Flow(c, t.address(), b.protocol().id(), b.port(), sp.pair()));
                }
            }
        } else if (sp.ep() != null) {
            List<ContainerPlan> here = new ArrayList<>();
            if (vm != null) for (ContainerPlan d : consumers) if (d.vm().equals(vm)) here.add(d);
            for (ContainerPlan c : consumers) {
                boolean home = vm == null || c.vm().equals(vm);
                if (reps != null && !reps.contains(c)) continue;
                for (ContainerPlan d : home ? consumers : here) {
                    if (c != d && (inScope(c.vm()) || inScope(d.vm()))) out.add(new Flow(c, d.address(), sp.ep().protocol().id(), sp.ep().port(), sp.pair()));
                }
            }
        } else {
            Egress e = sp.e();
            for (ContainerPlan c : consumers) {
                if (reps != null ? !reps.contains(c) : vm != null && !c.vm().equals(vm)) continue;
                if (!inScope(c.vm())) continue;
                if (e.toVm()) {
                    VmPlan v = plan.vms().get(c.vm());
                    out.add(new Flow(c, v.gateway(), e.protocol().id(), e.port(), sp.pair())); // the VM itself: any of its addresses
                    out.add(new Flow(c, v.vm().underlay(), e.protocol().id(), e.port(), sp.pair()));
                } else {
                    for (int a : new TreeSet<>(List.of(e.to().network(), e.to().last()))) out.add(new Flow(c, a, e.protocol().id(), e.port(), sp.pair()));
                }
            }
        }
    }

    private Map<String, List<Integer>> specsOn;

    /**
     * The data key -> the first intended flow (in the matrix's order) that needs it, for one host: the pairs of the
     * services with a container there and of the relationships to them, each flow's elements on that host only.
     */
    private Map<String, Flow> expectedOn(String vm, List<Spec> specs) {
        if (specsOn == null) {
            specsOn = new HashMap<>(); // service -> the specs whose flows may need an element on a host of its containers
            for (int i = 0; i < specs.size(); i++) {
                Spec sp = specs.get(i);
                specsOn.computeIfAbsent(sp.s().name(), k -> new ArrayList<>()).add(i);
                if (sp.b() != null) specsOn.computeIfAbsent(sp.b().service(), k -> new ArrayList<>()).add(i);
            }
        }
        Set<Integer> relevant = new TreeSet<>();
        for (ContainerPlan c : plan.containersByVm().getOrDefault(vm, List.of())) relevant.addAll(specsOn.getOrDefault(c.service(), List.of()));
        Map<String, Flow> out = new HashMap<>();
        List<Flow> fs = new ArrayList<>();
        for (int i : relevant) {
            fs.clear();
            flows(specs.get(i), vm, null, fs);
            for (Flow f : fs) expect(f, vm, out);
        }
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
        d.addAll(vips());
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

    /** The port a destination with {@code ports} is probed on that it does not serve: the first of {@code all} it lacks, else an unnamed one. */
    private static String unserved(Set<String> all, Set<String> ports) {
        for (String p : all) if (!ports.contains(p)) return p;
        return "tcp 1";
    }

    private List<Integer> vips;

    /** Every VIP, in the order of the plan's bindings (each once). */
    private List<Integer> vips() {
        if (vips == null) {
            Set<Integer> v = new LinkedHashSet<>();
            for (var bs : plan.bindings().values()) for (Binding b : bs.values()) v.add(b.vip());
            vips = List.copyOf(v);
        }
        return vips;
    }

    private Map<Integer, Set<String>> vipPorts;

    /**
     * The ports probed per destination come from the plan — its own endpoints (a container's service, a VIP's
     * bindings) — and from the files ({@link #portsOfHost}: the ports named beside that address); every destination
     * also gets the egress ports and (after every host) one port no endpoint of the destination uses. This fills
     * {@code other} (what every destination gets) and {@code all} (every port named).
     */
    private void portsOfPlan(Set<String> other, Set<String> all) {
        for (Service s : plan.inventory().services().values()) {
            for (var e : s.endpoints().values()) all.add(e.protocol().id() + " " + e.port());
            for (Egress e : s.egress().values()) other.add(e.protocol().id() + " " + e.port());
        }
        all.addAll(other);
    }

    /** The plan's ports of {@code address} with {@code other} (a new set), or null when it is neither a container nor a VIP. */
    private Set<String> planPorts(int address, Set<String> other) {
        if (vipPorts == null) {
            vipPorts = new HashMap<>();
            for (var bs : plan.bindings().values()) for (Binding b : bs.values()) {
                vipPorts.computeIfAbsent(b.vip(), k -> new TreeSet<>()).add(b.protocol().id() + " " + b.port());
            }
        }
        ContainerPlan c = byAddr.get(address);
        Set<String> v = vipPorts.get(address);
        if (c == null && v == null) return null;
        Set<String> p = new TreeSet<>(other);
        if (c != null) for (var e : plan.inventory().services().get(c.service()).endpoints().values()) p.add(e.protocol().id() + " " + e.port());
        if (v != null) p.addAll(v);
        return p;
    }

    /** The ports a host's nft elements name, each added to the addresses beside it ({@code names}: one String per port). */
    private static void portsOfHost(Host h, Set<String> other, Set<String> all, Map<Integer, Set<String>> out, Map<String, String> names) {
        java.util.regex.Matcher pm = Re.of("(tcp|udp) \\. (\\d+)").matcher("");
        java.util.regex.Matcher m = Ip.ADDR.matcher("");
        for (String k : h.nft.entries.values()) {
            pm.reset(k);
            if (!pm.find()) continue;
            String port = names.computeIfAbsent(pm.group(1) + " " + Integer.parseInt(pm.group(2)), x -> x);
            all.add(port);
            m.reset(k);
            while (m.find()) if (Ip.isAddr(m.group())) out.computeIfAbsent(Ip.parse(m.group()), x -> new TreeSet<>(other)).add(port);
        }
    }
}

package dev.meshc.trace;

import dev.meshc.model.Egress;
import dev.meshc.model.Service;
import dev.meshc.plan.Binding;
import dev.meshc.plan.ContainerPlan;
import dev.meshc.plan.Plan;
import dev.meshc.plan.VmPlan;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The reachability the files give, against the inventory's intent, for nft and iptables: every intended
 * flow (relationships through their VIP and by address, replicas, egress, VM ports) is delivered; from
 * one container per service and VM, nothing else is, on any port the inventory or the files name; every
 * set element and per-flow rule is used by an intended flow; both firewalls agree. Reported per service pair.
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

    private record Flow(ContainerPlan src, int dst, String proto, int port, String pair, String expect) {
        Flow(ContainerPlan src, int dst, String proto, int port, String pair) {
            this(src, dst, proto, port, pair, Tracer.DELIVERED);
        }
    }

    private final Plan plan;
    private final Network net;
    private final Map<String, ContainerPlan> byAddr = new LinkedHashMap<>();
    private int traced;

    public Verifier(Plan plan, Network net) {
        this.plan = plan;
        this.net = net;
        for (ContainerPlan c : plan.containers().values()) byAddr.put(Ip.str(c.address()), c);
    }

    public Report verify() throws TraceError {
        List<Row> rows = new ArrayList<>();
        List<Finding> findings = new ArrayList<>();
        Tracer nft = new Tracer(net, Tracer.Firewall.NFT), ipt = new Tracer(net, Tracer.Firewall.IPTABLES);
        // 0. The two renders of routes, neighbours and FDB (systemd-networkd, ip -batch) say the same.
        Map<String, String> nd = net.networkdDifferences();
        for (var e : nd.entrySet()) findings.add(new Finding("networkd-differs", e.getValue() + ": " + e.getKey(), null));
        rows.add(new Row("systemd-network/ and ip/*.batch state the same routes, neighbours and FDB", net.hosts.size(), "hosts", nd.isEmpty()));
        // 0b. The tunnel filter: each VM accepts from each peer exactly that peer's overlay subnet as inner source.
        boolean okTunnel = true;
        int tunnelChecks = 0;
        for (Tracer t : List.of(nft, ipt)) {
            for (String receiver : plan.vms().keySet()) for (String sender : plan.vms().keySet()) {
                if (receiver.equals(sender) || plan.vms().size() > 64) continue;
                for (VmPlan w : plan.vms().values()) {
                    String inner = Ip.str(w.gateway() + 1);
                    boolean expect = w.name().equals(sender);
                    tunnelChecks++;
                    if (t.tunnelAccepts(receiver, sender, inner) != expect) {
                        okTunnel = false;
                        findings.add(new Finding("tunnel-filter", (t == nft ? "nft" : "iptables") + ": " + receiver + " " + (expect ? "refuses" : "accepts")
                                + " tunnel packets from " + sender + " with inner source " + inner + " (" + w.name() + "'s subnet)", null));
                    }
                }
            }
        }
        rows.add(new Row("tunnel filters accept each peer's own subnet only", tunnelChecks, "checks", okTunnel));
        // 1. Every intended flow is delivered, by both firewalls.
        Map<String, List<Flow>> intended = intended();
        Set<String> intendedKeys = new java.util.HashSet<>();
        for (var e : intended.entrySet()) {
            boolean ok = true;
            for (Flow f : e.getValue()) {
                intendedKeys.add(key(f.src().address(), f.dst(), f.proto(), f.port()));
                for (Tracer t : List.of(nft, ipt)) {
                    Tracer.Trace r = t.trace(f.src().address(), f.dst(), f.proto(), f.port(), List.of());
                    traced++;
                    if (!r.verdict().equals(f.expect())) {
                        ok = false;
                        findings.add(new Finding(f.expect().equals(Tracer.DELIVERED) ? "missing" : "unexpected", (t == nft ? "nft" : "iptables") + ": " + describe(f) + " is " + r.verdict()
                                + " (intended: " + e.getKey() + (f.expect().equals(Tracer.DELIVERED) ? "" : ", " + f.expect()) + ")", r));
                    }
                }
            }
            rows.add(new Row(e.getKey(), e.getValue().size(), "flows", ok));
        }
        // 3. Every element and per-flow rule is used by an intended flow.
        boolean okUnused = true;
        int entries = 0;
        for (Host h : net.hosts.values()) {
            for (Ruleset rs : List.of(h.nft, h.ipt)) {
                for (var e : rs.entries.entrySet()) {
                    entries++;
                    if (rs.used.contains(e.getKey())) continue;
                    okUnused = false;
                    Tracer.Trace w = witness(e.getValue(), rs == h.nft ? nft : ipt);
                    findings.add(new Finding("unused", rs.file + ":" + e.getKey() + ": no intended flow uses " + e.getValue()
                            + (w != null ? "; the flow it names is " + w.verdict() : ""), w));
                }
            }
        }
        rows.add(new Row("every set element and per-flow rule used by an intended flow", entries, "entries", okUnused));
        // 2. Nothing else: from one container per service and VM, to every address and port the inventory or the files name.
        List<ContainerPlan> sources = representatives();
        Set<Integer> dsts = destinations();
        Set<String> other = new TreeSet<>();
        Map<Integer, Set<String>> ports = ports(other);
        int probes = 0;
        boolean okExtra = true;
        for (ContainerPlan c : sources) {
            for (int d : dsts) {
                if (d == c.address()) continue;
                for (String pp : ports.getOrDefault(d, other)) {
                    String proto = pp.substring(0, 3);
                    int port = Integer.parseInt(pp.substring(4));
                    if (intendedKeys.contains(key(c.address(), d, proto, port))) continue;
                    probes++;
                    Tracer.Trace a = nft.trace(c.address(), d, proto, port, List.of());
                    Tracer.Trace b = ipt.trace(c.address(), d, proto, port, List.of());
                    traced += 2;
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
        rows.add(new Row("nothing else (from " + sources.size() + " containers, one per service and VM)", probes, "flows", okExtra));
        return new Report(rows, findings, traced);
    }

    /** The flow a flows element or flow rule names, traced: the witness that it lets something through. */
    private Tracer.Trace witness(String entry, Tracer tracer) throws TraceError {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("flows element (\\S+) \\. (\\S+) \\. \\S+ \\. (tcp|udp) \\. (\\d+)").matcher(entry);
        if (!m.find()) m = java.util.regex.Pattern.compile("--ctproto (tcp|udp) --ctorigsrc (\\S+) --ctorigdst (\\S+) .*--ctorigdstport (\\d+)").matcher(entry);
        else return trace(tracer, m.group(1), m.group(2), m.group(3), m.group(4));
        if (m.find()) return trace(tracer, m.group(2), m.group(3), m.group(1), m.group(4));
        return null;
    }

    private Tracer.Trace trace(Tracer t, String src, String dst, String proto, String port) throws TraceError {
        if (!Ip.isAddr(src) || !Ip.isAddr(dst) || net.container(Ip.parse(src)) == null) return null;
        traced++;
        return t.trace(Ip.parse(src), Ip.parse(dst), proto, Integer.parseInt(port), List.of());
    }

    private String describe(Flow f) {
        ContainerPlan d = byAddr.get(Ip.str(f.dst()));
        return f.src().name() + " (" + Ip.str(f.src().address()) + ") -> " + (d != null ? d.name() + " (" + Ip.str(f.dst()) + ")" : Ip.str(f.dst()))
                + ":" + f.port() + "/" + f.proto();
    }

    private static String key(int s, int d, String proto, int port) {
        return s + " " + d + " " + proto + " " + port;
    }

    /** The inventory's intent, grouped per service pair. */
    private Map<String, List<Flow>> intended() {
        Map<String, List<Flow>> out = new java.util.TreeMap<>();
        for (Service s : plan.inventory().services().values()) {
            List<ContainerPlan> consumers = plan.containersOfService(s.name());
            for (Binding b : plan.bindingsOf(s.name()).values()) {
                String pair = s.name() + " -> " + b.service() + ":" + b.endpoint() + " (" + b.protocol().id() + "/" + b.port() + ", " + b.relationship() + ")";
                List<ContainerPlan> backends = plan.containersOfService(b.service());
                if (backends.isEmpty()) pair += ", no backends: refused";
                List<Flow> fs = out.computeIfAbsent(pair, k -> new ArrayList<>());
                for (ContainerPlan c : consumers) {
                    fs.add(new Flow(c, b.vip(), b.protocol().id(), b.port(), pair, backends.isEmpty() ? "refused" : Tracer.DELIVERED));
                    for (ContainerPlan t : plan.containersOfService(b.service())) fs.add(new Flow(c, t.address(), b.protocol().id(), b.port(), pair));
                }
            }
            for (var ep : s.endpoints().values()) {
                String pair = s.name() + " replicas:" + ep.name() + " (" + ep.protocol().id() + "/" + ep.port() + ")";
                for (ContainerPlan c : consumers) for (ContainerPlan d : consumers) {
                    if (c != d) out.computeIfAbsent(pair, k -> new ArrayList<>()).add(new Flow(c, d.address(), ep.protocol().id(), ep.port(), pair));
                }
            }
            for (Egress e : s.egress().values()) {
                String pair = s.name() + " egress:" + e.name() + " (" + (e.toVm() ? "vm" : e.to().toString()) + " " + e.protocol().id() + "/" + e.port() + ")";
                List<Flow> fs = out.computeIfAbsent(pair, k -> new ArrayList<>());
                for (ContainerPlan c : consumers) {
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

    private List<ContainerPlan> representatives() {
        Map<String, ContainerPlan> first = new java.util.TreeMap<>();
        for (ContainerPlan c : plan.containers().values()) first.putIfAbsent(c.service() + "@" + c.vm(), c);
        return List.copyOf(first.values());
    }

    private Set<Integer> destinations() {
        Set<Integer> d = new LinkedHashSet<>();
        for (ContainerPlan c : plan.containers().values()) d.add(c.address());
        for (var bs : plan.bindings().values()) for (Binding b : bs.values()) d.add(b.vip());
        for (VmPlan v : plan.vms().values()) {
            d.add(v.gateway());
            d.add(v.vm().underlay());
        }
        for (Service s : plan.inventory().services().values()) for (Egress e : s.egress().values()) if (!e.toVm()) d.add(e.to().network());
        d.add(Ip.parse("192.0.2.1")); // an address outside everything (TEST-NET-1)
        // Addresses the files name in elements (an edited tree may name others).
        for (Host h : net.hosts.values()) for (String k : h.nft.entries.values()) {
            java.util.regex.Matcher m = Ip.ADDR.matcher(k);
            while (m.find()) if (Ip.isAddr(m.group())) d.add(Ip.parse(m.group()));
        }
        return d;
    }

    /**
     * The ports probed per destination: its own endpoints (a container's service, a VIP's binding), the
     * ports the files name beside that address, and for every destination the egress ports and one port
     * no endpoint of the destination uses ({@code other} holds what addresses without their own get).
     */
    private Map<Integer, Set<String>> ports(Set<String> other) {
        Set<String> all = new TreeSet<>();
        for (Service s : plan.inventory().services().values()) {
            for (var e : s.endpoints().values()) all.add(e.protocol().id() + " " + e.port());
            for (Egress e : s.egress().values()) other.add(e.protocol().id() + " " + e.port());
        }
        all.addAll(other);
        Map<Integer, Set<String>> out = new java.util.HashMap<>();
        for (ContainerPlan c : plan.containers().values()) {
            Set<String> p = out.computeIfAbsent(c.address(), k -> new TreeSet<>(other));
            for (var e : plan.inventory().services().get(c.service()).endpoints().values()) p.add(e.protocol().id() + " " + e.port());
        }
        for (var bs : plan.bindings().values()) for (Binding b : bs.values()) {
            out.computeIfAbsent(b.vip(), k -> new TreeSet<>(other)).add(b.protocol().id() + " " + b.port());
        }
        for (Host h : net.hosts.values()) for (String k : h.nft.entries.values()) {
            java.util.regex.Matcher pm = java.util.regex.Pattern.compile("(tcp|udp) \\. (\\d+)").matcher(k);
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

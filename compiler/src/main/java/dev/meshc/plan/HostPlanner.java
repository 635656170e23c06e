package dev.meshc.plan;

import dev.meshc.model.Encapsulation;
import dev.meshc.model.Ipv4;
import dev.meshc.model.Network;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeMap;
import java.util.TreeSet;

/** Cuts the per-host view out of a {@link Plan}: only what this VM's rules and tables need. */
final class HostPlanner {
    private HostPlanner() {
    }

    /*
     * One small method per loop: a single method holding every loop was compiled by C2 six times over
     * (on-stack replacement per hot loop, about 1.5 s of a 2-core machine's CPU at 1,000 VMs).
     */
    static HostPlan plan(Plan plan, String vmName) {
        VmPlan self = plan.vms().get(vmName);
        if (self == null) throw new IllegalArgumentException("no VM " + vmName);
        Network net = plan.inventory().network();

        List<HostPlan.Peer> peers = peersOf(plan, vmName);
        List<ContainerPlan> local = new ArrayList<>(plan.containersByVm().getOrDefault(vmName, List.of()));
        local.sort(Comparator.comparingInt(ContainerPlan::index));

        // VIP translation for local consumers; the chains they use; the flows this VM forwards, both sides.
        TreeMap<Long, HostPlan.VipEntry> vipEntries = new TreeMap<>();
        TreeMap<String, Target> usedTargets = new TreeMap<>();
        TreeSet<long[]> flows = new TreeSet<>(HostPlanner::compareFlow);
        for (ContainerPlan c : local) consumerSide(plan, c, vipEntries, usedTargets, flows);
        for (ContainerPlan backend : local) backendSide(plan, backend, flows);
        for (ContainerPlan c : local) replicas(plan, c, flows);
        List<HostPlan.EgressEntry> egress = new ArrayList<>();
        List<HostPlan.HostPort> hostPorts = new ArrayList<>();
        for (ContainerPlan c : local) egress(plan, c, egress, hostPorts);

        boolean vxlan = net.encapsulation() == Encapsulation.VXLAN;
        String device = vxlan ? "meshc-vx" : "meshc-gre";
        return new HostPlan(self.name(), ip(self.vm().underlay()), self.vm().iface(), self.subnet().toString(),
                "0x" + java.util.HexFormat.of().toHexDigits(self.subnet().mask()),
                ip(self.gateway()), self.mac(), net.encapsulation().id(), device,
                net.vni(), net.vxlanPort(), net.overlayMtu(), net.mtu(),
                net.overlay().toString(), net.vip().toString(), reserved(net), tunnelAlias(net, self), neighbours(plan.layout().capacity()),
                peers, plan.vmAddresses(), locals(local), new ArrayList<>(vipEntries.values()), chains(plan, usedTargets), flowList(flows),
                egress, hostPorts, dev.meshc.model.NetworkdLimits.neighborsFit(peers.size()));
    }

    /**
     * The tunnel parameters that only a new device can change (kind, local address, VNI, port, TTL),
     * hashed into the device's alias: bin/meshc-apply recreates the device when the live alias differs.
     * The MTU is not among them: it changes on a live device.
     */
    static String tunnelAlias(Network net, VmPlan self) {
        String params = net.encapsulation().id() + " local " + ip(self.vm().underlay()) + " ttl " + TUNNEL_TTL
                + (net.encapsulation() == Encapsulation.VXLAN ? " vni " + net.vni() + " port " + net.vxlanPort() + " mac " + self.mac() : "");
        return "meshc:" + dev.meshc.model.Sha256.hex(params.getBytes(StandardCharsets.UTF_8)).substring(0, 16);
    }

    private static List<String> reserved(Network net) {
        List<String> r = new ArrayList<>();
        for (dev.meshc.model.Cidr c : net.vipReserved()) r.add(c.aligned().toString());
        return r;
    }

    /** The outer TTL of tunnel packets, the same on the networkd and the ip -batch path (Linux's default). */
    static final int TUNNEL_TTL = 64;

    /**
     * Dynamic neighbour entries for the VM's containers count against gc_thresh3 (1,024 by default)
     * while a VM holds up to 4,093 containers: room for twice the capacity, never below the defaults.
     */
    static HostPlan.Neighbours neighbours(int capacity) {
        return new HostPlan.Neighbours(Math.max(128, capacity / 2), Math.max(512, capacity), Math.max(1024, 2 * capacity));
    }

    private static List<HostPlan.Peer> peersOf(Plan plan, String vmName) {
        List<HostPlan.Peer> peers = new ArrayList<>(plan.peers().size());
        for (HostPlan.Peer p : plan.peers()) if (!p.name().equals(vmName)) peers.add(p);
        return peers;
    }

    private static List<HostPlan.Local> locals(List<ContainerPlan> local) {
        List<HostPlan.Local> locals = new ArrayList<>(local.size());
        for (ContainerPlan c : local) {
            locals.add(new HostPlan.Local(c.name(), c.service(), c.index(), ip(c.address()), c.hostInterface()));
        }
        return locals;
    }

    /** A local consumer: its VIP entries, the targets they use, and its allowlist entries to every backend. */
    private static void consumerSide(Plan plan, ContainerPlan c, TreeMap<Long, HostPlan.VipEntry> vipEntries, TreeMap<String, Target> usedTargets,
                                     TreeSet<long[]> flows) {
        for (Binding b : plan.bindingsOf(c.service()).values()) {
            Target t = plan.targets().get(b.targetKey());
            for (int backend : t.backends()) {
                flows.add(flow(c.address(), backend, backend, t));
                flows.add(flow(c.address(), b.vip(), backend, t));
            }
            if (t.backends().isEmpty()) continue; // R410: nothing to balance to; the VIP is refused
            usedTargets.put(t.key(), t);
            long key = (Ipv4.unsigned(c.address()) << 32) | Ipv4.unsigned(b.vip());
            vipEntries.put(key, new HostPlan.VipEntry(ip(c.address()), ip(b.vip()), nftChain(t), plan.iptChains().get(t.key()), b.relationship()));
        }
    }

    /** A local backend: allowlist entries from every consumer of each endpoint it serves. */
    private static void backendSide(Plan plan, ContainerPlan backend, TreeSet<long[]> flows) {
        for (Target t : plan.targetsByService().getOrDefault(backend.service(), List.of())) {
            for (String consumerService : plan.consumersOfTarget().getOrDefault(t.key(), List.of())) {
                for (ContainerPlan consumer : plan.containersOfService(consumerService)) {
                    flows.add(flow(consumer.address(), backend.address(), backend.address(), t));
                }
            }
        }
    }

    /** Replicas of one service reach each other by overlay address on the service's own endpoints, both ways. */
    private static void replicas(Plan plan, ContainerPlan c, TreeSet<long[]> flows) {
        List<ContainerPlan> peers = plan.containersOfService(c.service());
        if (peers.size() < 2) return;
        var service = plan.inventory().services().get(c.service());
        if (service == null) return;
        for (dev.meshc.model.Endpoint e : service.endpoints().values()) {
            for (ContainerPlan r : peers) {
                if (r.address() == c.address()) continue;
                flows.add(flow(c.address(), r.address(), r.address(), e.protocol(), e.port()));
                flows.add(flow(r.address(), c.address(), c.address(), e.protocol(), e.port()));
            }
        }
    }

    /** A local container's egress: prefixes outside the overlay, and ports of this VM. */
    private static void egress(Plan plan, ContainerPlan c, List<HostPlan.EgressEntry> egress, List<HostPlan.HostPort> hostPorts) {
        var service = plan.inventory().services().get(c.service());
        if (service == null) return;
        for (dev.meshc.model.Egress e : service.egress().values()) {
            if (e.toVm()) hostPorts.add(new HostPlan.HostPort(ip(c.address()), e.protocol().id(), e.port()));
            else egress.add(new HostPlan.EgressEntry(ip(c.address()), e.to().aligned().toString(), e.protocol().id(), e.port(), e.masquerade()));
        }
    }

    /** iptables' random balancing: backend i of n is taken with probability 1/(n-i) among what the rules before it left. */
    static List<String> probabilities(int n) {
        return PROBABILITIES.computeIfAbsent(n, k -> {
            List<String> p = new ArrayList<>(Math.max(0, k - 1));
            for (int i = 0; i < k - 1; i++) p.add(String.format(java.util.Locale.ROOT, "%.11f", 1.0 / (k - i)));
            return List.copyOf(p);
        });
    }

    /** By number of backends: String.format's locale lookups were a tenth of planning a host (JFR). */
    private static final java.util.Map<Integer, List<String>> PROBABILITIES = new java.util.concurrent.ConcurrentHashMap<>();

    private static List<HostPlan.Chain> chains(Plan plan, TreeMap<String, Target> usedTargets) {
        List<HostPlan.Chain> chains = new ArrayList<>(usedTargets.size());
        for (Target t : usedTargets.values()) {
            List<String> backends = new ArrayList<>();
            for (int b : t.backends()) backends.add(ip(b));
            chains.add(new HostPlan.Chain(nftChain(t), plan.iptChains().get(t.key()), t.key(), t.protocol().id(), t.port(), backends,
                    probabilities(backends.size())));
        }
        return chains;
    }

    private static List<HostPlan.Flow> flowList(TreeSet<long[]> flows) {
        List<HostPlan.Flow> list = new ArrayList<>(flows.size());
        for (long[] f : flows) {
            list.add(new HostPlan.Flow(ip((int) f[0]), ip((int) f[1]), ip((int) f[2]), f[3] == 0 ? "tcp" : "udp", (int) f[4]));
        }
        return list;
    }

    private static long[] flow(int src, int dst, int backend, Target t) {
        return flow(src, dst, backend, t.protocol(), t.port());
    }

    private static long[] flow(int src, int dst, int backend, dev.meshc.model.Protocol protocol, int port) {
        return new long[] {Ipv4.unsigned(src), Ipv4.unsigned(dst), Ipv4.unsigned(backend), protocol.ordinal(), port};
    }

    private static int compareFlow(long[] a, long[] b) {
        for (int i = 0; i < 5; i++) {
            int c = Long.compare(a[i], b[i]);
            if (c != 0) return c;
        }
        return 0;
    }

    /** nftables chain per target endpoint; names are DNS labels, so '_' separates them unambiguously. */
    static String nftChain(Target t) {
        return "to_" + t.service() + "_" + t.endpoint();
    }

    /**
     * iptables chain names are limited to 28 characters, too short for two 63-character names: a
     * hash of the target keeps them short, stable across unrelated changes, and collision-free in
     * practice (40 bits); the rule's comment carries the readable name.
     */
    static String iptChain(Target t) {
        return "MESHC-T-" + dev.meshc.model.Sha256.hex(t.key().getBytes(StandardCharsets.UTF_8)).substring(0, 10).toUpperCase(java.util.Locale.ROOT);
    }

    private static String ip(int a) {
        return Ipv4.format(a);
    }
}

package dev.meshc.plan;

import dev.meshc.model.Encapsulation;
import dev.meshc.model.Ipv4;
import dev.meshc.model.Network;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
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

        // VIP translation for local consumers; the chains they use; the allowlist for both directions.
        TreeMap<Long, HostPlan.VipEntry> vipEntries = new TreeMap<>();
        TreeMap<String, Target> usedTargets = new TreeMap<>();
        TreeSet<long[]> allows = new TreeSet<>(HostPlanner::compareAllow);
        for (ContainerPlan c : local) consumerSide(plan, c, vipEntries, usedTargets, allows);
        for (ContainerPlan backend : local) backendSide(plan, backend, allows);

        boolean vxlan = net.encapsulation() == Encapsulation.VXLAN;
        return new HostPlan(self.name(), ip(self.vm().underlay()), self.vm().iface(), self.subnet().toString(),
                ip(self.gateway()), self.mac(), net.encapsulation().id(), vxlan ? "meshc-vx" : "meshc-gre",
                net.vni(), net.vxlanPort(), net.overlayMtu(), net.mtu(),
                net.overlay().toString(), net.vip().toString(),
                peers, plan.vmAddresses(), locals(local), new ArrayList<>(vipEntries.values()), chains(plan, usedTargets), allowList(allows),
                dev.meshc.model.NetworkdLimits.neighborsFit(peers.size()), dev.meshc.model.NetworkdLimits.routesFit(peers.size()));
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
                                     TreeSet<long[]> allows) {
        for (Binding b : plan.bindingsOf(c.service()).values()) {
            Target t = plan.targets().get(b.targetKey());
            for (int backend : t.backends()) allows.add(allow(c.address(), backend, t));
            if (t.backends().isEmpty()) continue; // R410: nothing to balance to; the VIP stays dropped
            usedTargets.put(t.key(), t);
            long key = (Ipv4.unsigned(c.address()) << 32) | Ipv4.unsigned(b.vip());
            vipEntries.put(key, new HostPlan.VipEntry(ip(c.address()), ip(b.vip()), nftChain(t), plan.iptChains().get(t.key()), b.relationship()));
        }
    }

    /** A local backend: allowlist entries from every consumer of each endpoint it serves. */
    private static void backendSide(Plan plan, ContainerPlan backend, TreeSet<long[]> allows) {
        for (Target t : plan.targetsByService().getOrDefault(backend.service(), List.of())) {
            for (String consumerService : plan.consumersOfTarget().getOrDefault(t.key(), List.of())) {
                for (ContainerPlan consumer : plan.containersOfService(consumerService)) {
                    allows.add(allow(consumer.address(), backend.address(), t));
                }
            }
        }
    }

    private static List<HostPlan.Chain> chains(Plan plan, TreeMap<String, Target> usedTargets) {
        List<HostPlan.Chain> chains = new ArrayList<>(usedTargets.size());
        for (Target t : usedTargets.values()) {
            List<String> backends = new ArrayList<>();
            for (int b : t.backends()) backends.add(ip(b));
            chains.add(new HostPlan.Chain(nftChain(t), plan.iptChains().get(t.key()), t.key(), t.protocol().id(), t.port(), backends));
        }
        return chains;
    }

    private static List<HostPlan.Allow> allowList(TreeSet<long[]> allows) {
        List<HostPlan.Allow> allowList = new ArrayList<>(allows.size());
        for (long[] a : allows) {
            allowList.add(new HostPlan.Allow(ip((int) a[0]), ip((int) a[1]), a[2] == 0 ? "tcp" : "udp", (int) a[3]));
        }
        return allowList;
    }

    private static long[] allow(int src, int dst, Target t) {
        return new long[] {Ipv4.unsigned(src), Ipv4.unsigned(dst), t.protocol().ordinal(), t.port()};
    }

    private static int compareAllow(long[] a, long[] b) {
        for (int i = 0; i < 4; i++) {
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
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(t.key().getBytes(StandardCharsets.UTF_8));
            return "MESHC-T-" + HexFormat.of().withUpperCase().formatHex(h, 0, 5);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String ip(int a) {
        return Ipv4.format(a);
    }
}

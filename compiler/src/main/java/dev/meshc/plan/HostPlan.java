package dev.meshc.plan;

import java.util.List;

/**
 * What one VM needs to know, already sorted and formatted, so that renderers and templates only
 * print. Addresses are strings here because every consumer of this record writes text.
 */
public record HostPlan(
        String name, String underlay, String iface, String subnet, String subnetMaskHex, String gateway, String mac,
        String encapsulation, String tunnelDevice, int vni, int vxlanPort, int mtu, int underlayMtu,
        String overlay, String vipRange, List<String> vipReserved, String tunnelAlias, Neighbours neighbours,
        List<Peer> peers, List<String> vmAddresses, List<Local> containers,
        List<VipEntry> vipEntries, List<Chain> chains, List<Flow> flows,
        List<EgressEntry> egress, List<HostPort> hostPorts,
        boolean networkdTunnel) {

    /**
     * Another VM: where its subnet is and how to reach it. {@code subnetRange} is its subnet as the
     * integer range nft compares the tunnel's inner source with; {@code subnetHex} its network for u32.
     */
    public record Peer(String name, String underlay, String subnet, String gateway, String mac, String subnetRange, String subnetHex) {
    }

    /** A container on this VM. */
    public record Local(String name, String service, int index, String address, String hostInterface) {
    }

    /** Consumer {@code source} sending to {@code vip} is translated by chain {@code chain}. */
    public record VipEntry(String source, String vip, String nftChain, String iptChain, String relationship) {
    }

    /**
     * The DNAT of one target endpoint, balancing at random across its backends. {@code probabilities}
     * are iptables' {@code statistic --probability} for every backend but the last (1/N, 1/(N-1), ...).
     */
    public record Chain(String nftChain, String iptChain, String target, String protocol, int port, List<String> backends,
                        List<String> probabilities) {
        public Chain {
            backends = List.copyOf(backends);
            probabilities = List.copyOf(probabilities);
        }
    }

    /**
     * One flow this VM forwards: {@code source} opening {@code protocol}/{@code port} to
     * {@code destination} (a backend's address or a VIP), delivered to {@code backend}. Checked on
     * every packet of the flow in both directions, so revoking it cuts established flows too.
     */
    public record Flow(String source, String destination, String backend, String protocol, int port) {
    }

    /** A local container may open {@code protocol}/{@code port} to the prefix {@code to} outside the overlay. */
    public record EgressEntry(String source, String to, String protocol, int port, boolean masquerade) {
    }

    /** A local container may open {@code protocol}/{@code port} to this VM itself. */
    public record HostPort(String source, String protocol, int port) {
    }

    /** Neighbour-table thresholds sized for the VM's container capacity (net.ipv4.neigh.default.gc_thresh1..3). */
    public record Neighbours(int gcThresh1, int gcThresh2, int gcThresh3) {
    }

    public HostPlan {
        peers = List.copyOf(peers);
        vmAddresses = List.copyOf(vmAddresses);
        vipReserved = List.copyOf(vipReserved);
        containers = List.copyOf(containers);
        vipEntries = List.copyOf(vipEntries);
        chains = List.copyOf(chains);
        flows = List.copyOf(flows);
        egress = List.copyOf(egress);
        hostPorts = List.copyOf(hostPorts);
    }
}

package dev.meshc.plan;

import java.util.List;

/**
 * What one VM needs to know, already sorted and formatted, so that renderers and templates only
 * print. Addresses are strings here because every consumer of this record writes text.
 */
public record HostPlan(
        String name, String underlay, String iface, String subnet, String gateway, String mac,
        String encapsulation, String tunnelDevice, int vni, int vxlanPort, int mtu, int underlayMtu,
        String overlay, String vipRange,
        List<Peer> peers, List<String> vmAddresses, List<Local> containers,
        List<VipEntry> vipEntries, List<Chain> chains, List<Allow> allows,
        boolean networkdNeighbors, boolean networkdRoutes) {

    /** Another VM: where its subnet is and how to reach it. */
    public record Peer(String name, String underlay, String subnet, String gateway, String mac) {
    }

    /** A container on this VM. */
    public record Local(String name, String service, int index, String address, String hostInterface) {
    }

    /** Consumer {@code source} sending to {@code vip} is translated by chain {@code chain}. */
    public record VipEntry(String source, String vip, String nftChain, String iptChain, String relationship) {
    }

    /** The DNAT of one target endpoint, balancing across its backends. */
    public record Chain(String nftChain, String iptChain, String target, String protocol, int port, List<String> backends) {
        public Chain {
            backends = List.copyOf(backends);
        }
    }

    /** One allowlist entry: {@code source} may open {@code protocol}/{@code port} connections to {@code destination}. */
    public record Allow(String source, String destination, String protocol, int port) {
    }

    public HostPlan {
        peers = List.copyOf(peers);
        vmAddresses = List.copyOf(vmAddresses);
        containers = List.copyOf(containers);
        vipEntries = List.copyOf(vipEntries);
        chains = List.copyOf(chains);
        allows = List.copyOf(allows);
    }
}

package dev.meshc.render;

import dev.meshc.plan.HostPlan;
import dev.meshc.plan.Plan;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/** The registry: every artifact kind is one row here, one class and its templates. */
public final class Renderers {
    static final List<HostRenderer> HOST = List.of(
            new NetworkdRenderer(),
            new IpBatchRenderer(),
            new NftablesRenderer(),
            new IptablesRenderer(),
            new SysctlRenderer(),
            new ContainerFilesRenderer());

    /** Every template a compile renders (graph templates are not part of a compile); a test keeps it complete. */
    public static final List<String> TEMPLATES = List.of(
            "ansible/inventory.yml.ftl", "containers/hosts.ftl", "containers/network.json.ftl",
            "containers/relationships.env.ftl", "containers/relationships.json.ftl", "ip/containers.batch.ftl",
            "ip/fdb.batch.ftl", "ip/links.batch.ftl", "ip/neighbors.batch.ftl", "ip/routes.batch.ftl",
            "iptables/rules.v4.ftl", "nftables/meshc.nft.ftl", "sysctl/90-meshc.conf.ftl",
            "systemd-network/container.network.ftl", "systemd-network/gre.netdev.ftl",
            "systemd-network/tunnel.network.ftl", "systemd-network/vxlan.netdev.ftl");

    private Renderers() {
    }

    /** The fleet-wide artifacts (everything outside {@code hosts/}, manifest excluded). */
    public static List<Artifact> renderFleet(Plan plan, Templates templates) {
        return List.of(AnsibleInventoryRenderer.render(plan, templates));
    }

    /** Every artifact of the given hosts plus the fleet-wide ones, sorted by path (manifest excluded). */
    public static List<Artifact> render(Plan plan, Collection<String> hosts, Templates templates) {
        List<Artifact> out = new ArrayList<>();
        for (String vm : hosts) out.addAll(renderHost(plan, vm, templates));
        out.addAll(renderFleet(plan, templates));
        out.sort(null);
        return out;
    }

    public static List<Artifact> renderHost(Plan plan, String vm, Templates templates) {
        HostPlan host = plan.host(vm);
        List<Artifact> out = new ArrayList<>();
        String prefix = "hosts/" + vm + "/";
        for (HostRenderer r : HOST) {
            for (Artifact a : r.render(plan, host, templates)) out.add(new Artifact(prefix + a.path(), a.bytes()));
        }
        return out;
    }
}

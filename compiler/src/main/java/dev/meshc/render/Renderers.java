package dev.meshc.render;

import dev.meshc.plan.HostPlan;
import dev.meshc.plan.Plan;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/** The registry: every artifact kind is one row here, one class and its templates. */
public final class Renderers {
    /**
     * Per-host artifacts, one row each. A new per-host file is one template and one row here; its
     * template is then parsed ahead, checked to exist, and its files listed in the manifest.
     */
    static final List<HostRenderer> HOST = List.of(
            new NetworkdRenderer(),
            new IpBatchRenderer(),
            new SingleFile("nftables/meshc.nft", "nftables/meshc.nft.ftl"),
            new SingleFile("iptables/rules.v4", "iptables/rules.v4.ftl"),
            new SingleFile("iptables/rules.v6", "iptables/rules.v6.ftl"),
            new SingleFile("sysctl/90-meshc.conf", "sysctl/90-meshc.conf.ftl"),
            new SingleFile("conntrack/flows", "conntrack/flows.ftl"),
            new SingleFile("bin/meshc-apply", "bin/meshc-apply.ftl"),
            new SingleFile("systemd-system/meshc.service", "systemd-system/meshc.service.ftl"),
            new ContainerFilesRenderer());

    /** Fleet-wide templates (outside {@code hosts/}); the manifest is written by emit/Manifest. */
    static final List<String> FLEET_TEMPLATES = List.of("ansible/inventory.yml.ftl");

    /** Every template a compile renders (graph templates are not part of a compile), derived from the rows. */
    public static final List<String> TEMPLATES = templates();

    private static List<String> templates() {
        java.util.TreeSet<String> all = new java.util.TreeSet<>(FLEET_TEMPLATES);
        for (HostRenderer r : HOST) all.addAll(r.templates());
        return List.copyOf(all);
    }

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

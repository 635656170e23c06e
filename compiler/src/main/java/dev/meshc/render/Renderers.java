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

    /** Fleet-wide artifacts (outside {@code hosts/}), one row each; the manifest is written by emit/Manifest. */
    static final List<FleetRenderer> FLEET = List.of(new AnsibleInventoryRenderer());

    /** The directory under OUT that holds every host's files, {@code hosts/<vm>/}. */
    public static final String HOSTS = "hosts";

    /**
     * The top-level directories of OUT that compile writes into, derived from the rows: {@code hosts} and the
     * directory of each fleet-wide file. emit owns exactly these (an empty directory there is its own leftover).
     */
    public static final java.util.Set<String> DIRECTORIES = directories();

    private static java.util.Set<String> directories() {
        java.util.TreeSet<String> dirs = new java.util.TreeSet<>(List.of(HOSTS));
        for (FleetRenderer r : FLEET) {
            int slash = r.path().indexOf('/');
            if (slash <= 0) throw new IllegalStateException("a fleet-wide file needs a directory of its own: " + r.path());
            dirs.add(r.path().substring(0, slash));
        }
        return java.util.Collections.unmodifiableSet(dirs);
    }

    /** Every template a compile renders (graph templates are not part of a compile), derived from the rows. */
    public static final List<String> TEMPLATES = templates();

    private static List<String> templates() {
        java.util.TreeSet<String> all = new java.util.TreeSet<>();
        for (FleetRenderer r : FLEET) all.addAll(r.templates());
        for (HostRenderer r : HOST) all.addAll(r.templates());
        return List.copyOf(all);
    }

    private Renderers() {
    }

    /** The fleet-wide artifacts (everything outside {@code hosts/}, manifest excluded). */
    public static List<Artifact> renderFleet(Plan plan, Templates templates) {
        List<Artifact> out = new ArrayList<>(FLEET.size());
        for (FleetRenderer r : FLEET) {
            Artifact a = r.render(plan, templates);
            if (!a.path().equals(r.path())) throw new IllegalStateException(r + " rendered " + a.path() + ", not its declared " + r.path());
            out.add(a);
        }
        return out;
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
        String prefix = HOSTS + "/" + vm + "/";
        for (HostRenderer r : HOST) {
            for (Artifact a : r.render(plan, host, templates)) out.add(new Artifact(prefix + a.path(), a.bytes()));
        }
        return out;
    }
}

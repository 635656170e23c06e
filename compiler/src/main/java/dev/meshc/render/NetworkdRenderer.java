package dev.meshc.render;

import dev.meshc.plan.HostPlan;
import dev.meshc.plan.Plan;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code systemd-network/}: the tunnel netdev and its network (routes and static neighbors to every
 * peer), plus one {@code .network} per container's host-side veth {@code mc<k>}. Above networkd's
 * per-link neighbor limit only the tunnel's {@code .network} remains, telling networkd to leave the
 * device to bin/meshc-apply.
 */
final class NetworkdRenderer implements HostRenderer {
    @Override
    public List<Artifact> render(Plan plan, HostPlan host, Templates t) {
        String dir = "systemd-network/";
        String base = "60-" + host.tunnelDevice();
        Map<String, Object> model = Map.of("host", host);
        List<Artifact> out = new ArrayList<>();
        if (host.networkdTunnel()) {
            out.add(new Artifact(dir + base + ".netdev", t.bytes("systemd-network/" + host.encapsulation() + ".netdev.ftl", model)));
        }
        out.add(new Artifact(dir + base + ".network", t.bytes("systemd-network/tunnel.network.ftl", model)));
        for (HostPlan.Local c : host.containers()) {
            out.add(new Artifact(dir + "70-meshc-" + c.hostInterface() + ".network",
                    t.bytes("systemd-network/container.network.ftl", Map.of("host", host, "c", c))));
        }
        return out;
    }

    @Override
    public List<String> templates() {
        return List.of("systemd-network/gre.netdev.ftl", "systemd-network/vxlan.netdev.ftl",
                "systemd-network/tunnel.network.ftl", "systemd-network/container.network.ftl");
    }
}

package dev.meshc.render;

import dev.meshc.plan.HostPlan;
import dev.meshc.plan.Plan;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code ip/}: the same tables as the networkd files, for {@code ip -batch} (links, neighbors,
 * routes, container side) and, for VXLAN, the forwarding database for {@code bridge -batch}.
 */
final class IpBatchRenderer implements HostRenderer {
    @Override
    public List<Artifact> render(Plan plan, HostPlan host, Templates t) {
        Map<String, Object> model = Map.of("host", host);
        List<Artifact> out = new ArrayList<>();
        for (String f : List.of("links", "neighbors", "routes", "containers")) {
            out.add(new Artifact("ip/" + f + ".batch", t.bytes("ip/" + f + ".batch.ftl", model)));
        }
        if (host.encapsulation().equals("vxlan")) {
            out.add(new Artifact("ip/fdb.batch", t.bytes("ip/fdb.batch.ftl", model)));
        }
        return out;
    }

    @Override
    public List<String> templates() {
        return List.of("ip/links.batch.ftl", "ip/neighbors.batch.ftl", "ip/routes.batch.ftl", "ip/containers.batch.ftl", "ip/fdb.batch.ftl");
    }
}

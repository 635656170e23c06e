package dev.meshc.render;

import dev.meshc.model.Ipv4;
import dev.meshc.plan.Binding;
import dev.meshc.plan.HostPlan;
import dev.meshc.plan.Plan;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code containers/<name>/}: network.json, relationships.json, relationships.env and hosts. */
final class ContainerFilesRenderer implements HostRenderer {

    /** One relationship as a container sees it (a row of relationships.json). */
    public record Rel(String name, String service, String rel, String scheme, String host, String ip, int port, String url) {
    }

    @Override
    public List<Artifact> render(Plan plan, HostPlan host, Templates t) {
        List<Artifact> out = new ArrayList<>(4 * host.containers().size());
        for (HostPlan.Local c : host.containers()) render(plan, host, c, t, out); // a method per container: C2 compiles it once, not per loop
        return out;
    }

    @Override
    public List<String> templates() {
        return List.of("containers/network.json.ftl", "containers/relationships.json.ftl", "containers/relationships.env.ftl", "containers/hosts.ftl");
    }

    private static void render(Plan plan, HostPlan host, HostPlan.Local c, Templates t, List<Artifact> out) {
        List<Rel> rels = new ArrayList<>();
        for (Binding b : plan.bindingsOf(c.service()).values()) {
            String h = b.relationship() + ".internal";
            rels.add(new Rel(b.relationship(), b.service(), b.endpoint(), b.scheme(), h, Ipv4.format(b.vip()), b.port(),
                    b.scheme() + "://" + h + ":" + b.port()));
        }
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("host", host);
        model.put("c", c);
        model.put("rels", rels);
        String dir = "containers/" + c.name() + "/";
        byte[] relJson = t.bytes("containers/relationships.json.ftl", model);
        model.put("relationshipsBase64", Base64.getEncoder().encodeToString(relJson));
        out.add(new Artifact(dir + "network.json", t.bytes("containers/network.json.ftl", model)));
        out.add(new Artifact(dir + "relationships.json", relJson));
        out.add(new Artifact(dir + "relationships.env", t.bytes("containers/relationships.env.ftl", model)));
        out.add(new Artifact(dir + "hosts", t.bytes("containers/hosts.ftl", model)));
    }
}

package dev.meshc.render;

import dev.meshc.model.Ipv4;
import dev.meshc.plan.Binding;
import dev.meshc.plan.HostPlan;
import dev.meshc.plan.Plan;
import java.nio.charset.StandardCharsets;
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
        List<Artifact> out = new ArrayList<>();
        for (HostPlan.Local c : host.containers()) {
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
            String relJson = t.render("containers/relationships.json.ftl", model);
            model.put("relationshipsBase64", Base64.getEncoder().encodeToString(relJson.getBytes(StandardCharsets.UTF_8)));
            out.add(Artifact.text(dir + "network.json", t.render("containers/network.json.ftl", model)));
            out.add(Artifact.text(dir + "relationships.json", relJson));
            out.add(Artifact.text(dir + "relationships.env", t.render("containers/relationships.env.ftl", model)));
            out.add(Artifact.text(dir + "hosts", t.render("containers/hosts.ftl", model)));
        }
        return out;
    }
}

package dev.meshc.render;

import dev.meshc.model.Ipv4;
import dev.meshc.plan.Binding;
import dev.meshc.plan.ContainerPlan;
import dev.meshc.plan.Plan;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A picture of the inventory grouped by service: one node per service (its endpoints and its
 * containers with the VM each runs on), one edge per relationship from the consuming service to the
 * target service, labelled with the relationship, its VIP, port and protocol. So three web containers
 * using two api replicas draw one edge, not six, and no VM title can overprint a label. Graphviz DOT
 * or Mermaid, from templates like every other artifact.
 */
public final class GraphRenderer {
    public enum Format { dot, mermaid }

    /** Template rows. Names are DNS labels, so they are safe in both syntaxes; ids avoid Mermaid keywords. */
    public record Node(String id, String name, String endpoints, List<String> containers) {
    }

    public record Edge(String from, String to, String fromId, String toId, String label) {
    }

    private GraphRenderer() {
    }

    public static String render(Plan plan, Format format, Templates t) {
        List<Node> services = new ArrayList<>();
        for (var s : plan.inventory().services().values()) {
            List<String> containers = new ArrayList<>();
            for (ContainerPlan c : plan.containersOfService(s.name())) {
                containers.add(c.name() + " @ " + c.vm() + " " + Ipv4.format(c.address()));
            }
            containers.sort(null);
            List<String> eps = new ArrayList<>();
            s.endpoints().values().forEach(e -> eps.add(e.name() + " " + e.port() + "/" + e.protocol().id()));
            services.add(new Node(id("s", s.name()), s.name(), String.join(", ", eps), containers));
        }
        List<Edge> edges = new ArrayList<>();
        for (var s : plan.inventory().services().values()) {
            for (Binding b : plan.bindingsOf(s.name()).values()) {
                edges.add(new Edge(s.name(), b.service(), id("s", s.name()), id("s", b.service()),
                        b.relationship() + " " + Ipv4.format(b.vip()) + ":" + b.port() + "/" + b.protocol().id()));
            }
        }
        edges.sort((a, b) -> (a.from() + " " + a.to() + " " + a.label()).compareTo(b.from() + " " + b.to() + " " + b.label()));
        String title = plan.vms().size() + " VMs, " + plan.inventory().services().size() + " services, " + plan.containers().size() + " containers";
        return t.render(format == Format.dot ? "graph/inventory.dot.ftl" : "graph/inventory.mmd.ftl",
                Map.of("services", services, "edges", edges, "file", plan.inventory().file().replaceAll("[^A-Za-z0-9_./-]", "_"), "title", title));
    }

    private static String id(String prefix, String name) {
        return prefix + "_" + name.replace('-', '_');
    }
}

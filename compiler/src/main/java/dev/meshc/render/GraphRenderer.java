package dev.meshc.render;

import dev.meshc.model.Ipv4;
import dev.meshc.plan.Binding;
import dev.meshc.plan.ContainerPlan;
import dev.meshc.plan.Plan;
import dev.meshc.plan.VmPlan;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A picture of the inventory: VMs as clusters of their containers, one edge per relationship from
 * each consumer container to each backend, labelled with the relationship, its VIP and port.
 * Graphviz DOT or Mermaid, from templates like every other artifact.
 */
public final class GraphRenderer {
    public enum Format { dot, mermaid }

    /** Template rows. Names are DNS labels, so they are safe in both syntaxes; ids avoid Mermaid keywords. */
    public record Node(String id, String name, String service, String address) {
    }

    public record Cluster(String id, String name, String underlay, String subnet, List<Node> containers) {
    }

    public record Edge(String from, String to, String fromId, String toId, String label) {
    }

    private GraphRenderer() {
    }

    public static String render(Plan plan, Format format, Templates t) {
        List<Cluster> vms = new ArrayList<>();
        for (VmPlan v : plan.vms().values()) {
            List<Node> nodes = new ArrayList<>();
            for (ContainerPlan c : plan.containersByVm().getOrDefault(v.name(), List.of())) {
                nodes.add(new Node(id("c", c.name()), c.name(), c.service(), Ipv4.format(c.address())));
            }
            nodes.sort((a, b) -> a.name().compareTo(b.name()));
            vms.add(new Cluster(id("vm", v.name()), v.name(), Ipv4.format(v.vm().underlay()), v.subnet().toString(), nodes));
        }
        List<Edge> edges = new ArrayList<>();
        for (ContainerPlan consumer : plan.containers().values()) {
            for (Binding b : plan.bindingsOf(consumer.service()).values()) {
                for (ContainerPlan backend : plan.containersOfService(b.service())) {
                    edges.add(new Edge(consumer.name(), backend.name(), id("c", consumer.name()), id("c", backend.name()),
                            b.relationship() + " " + Ipv4.format(b.vip()) + ":" + b.port() + "/" + b.protocol().id()));
                }
            }
        }
        edges.sort((a, b) -> (a.from() + " " + a.to() + " " + a.label()).compareTo(b.from() + " " + b.to() + " " + b.label()));
        String title = plan.vms().size() + " VMs, " + plan.containers().size() + " containers";
        return t.render(format == Format.dot ? "graph/inventory.dot.ftl" : "graph/inventory.mmd.ftl",
                Map.of("vms", vms, "edges", edges, "file", plan.inventory().file().replaceAll("[^A-Za-z0-9_./-]", "_"), "title", title));
    }

    private static String id(String prefix, String name) {
        return prefix + "_" + name.replace('-', '_');
    }
}

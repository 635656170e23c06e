package dev.meshc.model;

import dev.meshc.diag.SourceSpan;
import dev.meshc.load.SourceTree;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * Builds the model from a tree that passed the schema, applying defaults. It assumes the
 * structure is right (the schema said so) and leaves every semantic rule to {@code validate}.
 */
public final class InventoryReader {
    private final SourceTree tree;

    private InventoryReader(SourceTree tree) {
        this.tree = tree;
    }

    public static Inventory read(SourceTree tree) {
        return new InventoryReader(tree).inventory();
    }

    private Inventory inventory() {
        JsonNode root = tree.root();
        Network network = network(root.path("network"), "/network");
        Map<String, Vm> vms = new HashMap<>();
        forEach(root, "/vms", (name, node, ptr) -> vms.put(name, new Vm(name,
                Ipv4.parse(node.path("underlay").asString()),
                node.has("interface") ? node.get("interface").asString() : Vm.DEFAULT_INTERFACE,
                spans(ptr, "underlay", "interface"))));
        Map<String, Service> services = new HashMap<>();
        forEach(root, "/services", (name, node, ptr) -> {
            Map<String, Endpoint> endpoints = new HashMap<>();
            forEach(node, ptr + "/endpoints", (ep, e, eptr) -> endpoints.put(ep, new Endpoint(ep,
                    e.path("port").asInt(),
                    "udp".equals(e.path("protocol").asString("tcp")) ? Protocol.UDP : Protocol.TCP,
                    e.has("scheme") ? e.get("scheme").asString() : ep,
                    spans(eptr, "port", "protocol", "scheme"))));
            Map<String, Relationship> rels = new HashMap<>();
            forEach(node, ptr + "/relationships", (rel, r, rptr) -> {
                String target = r.asString();
                int colon = target.indexOf(':');
                rels.put(rel, new Relationship(rel, target.substring(0, colon), target.substring(colon + 1),
                        new Spans(tree.keyAt(rptr), Map.of("target", tree.valueAt(rptr)))));
            });
            services.put(name, new Service(name, Sorted.copy(endpoints), Sorted.copy(rels), spans(ptr, "endpoints", "relationships")));
        });
        Map<String, Container> containers = new HashMap<>();
        forEach(root, "/containers", (name, node, ptr) -> containers.put(name, new Container(name,
                node.path("service").asString(), node.path("vm").asString(),
                node.has("index") ? node.get("index").asInt() : null,
                spans(ptr, "service", "vm", "index"))));
        return new Inventory(tree.file(), network, Sorted.copy(vms), Sorted.copy(services), Sorted.copy(containers));
    }

    private Network network(JsonNode n, String ptr) {
        Cidr vip = n.has("vip") ? Cidr.parse(n.get("vip").asString()) : Network.DEFAULT_VIP;
        List<Cidr> reserved = new ArrayList<>();
        Map<String, SourceSpan> fields = new HashMap<>();
        if (n.has("vip_reserved")) {
            JsonNode r = n.get("vip_reserved");
            for (int i = 0; i < r.size(); i++) {
                reserved.add(Cidr.parse(r.get(i).asString()));
                fields.put("vip_reserved/" + i, tree.valueAt(ptr + "/vip_reserved/" + i));
            }
        } else {
            reserved.addAll(Network.defaultReserved(vip));
        }
        JsonNode vx = n.path("vxlan");
        for (String f : List.of("underlay", "overlay", "vip", "vip_reserved", "encapsulation", "vxlan", "mtu")) {
            String p = ptr + "/" + f;
            if (tree.valueSpans().containsKey(p)) fields.put(f, tree.valueAt(p));
        }
        return new Network(
                Cidr.parse(n.path("underlay").asString()),
                Cidr.parse(n.path("overlay").asString()),
                vip, reserved,
                "vxlan".equals(n.path("encapsulation").asString("gre")) ? Encapsulation.VXLAN : Encapsulation.GRE,
                vx.path("vni").asInt(Network.DEFAULT_VNI),
                vx.path("port").asInt(Network.DEFAULT_VXLAN_PORT),
                n.has("vxlan"),
                n.path("mtu").asInt(Network.DEFAULT_MTU),
                new Spans(tree.keyAt(ptr), fields));
    }

    private Spans spans(String ptr, String... fieldNames) {
        Map<String, SourceSpan> fields = new HashMap<>();
        for (String f : fieldNames) {
            String p = ptr + "/" + f;
            if (tree.valueSpans().containsKey(p)) fields.put(f, tree.valueAt(p));
        }
        return new Spans(tree.keyAt(ptr), fields);
    }

    private interface Entry {
        void accept(String name, JsonNode node, String pointer);
    }

    private void forEach(JsonNode parent, String ptr, Entry entry) {
        String field = ptr.substring(ptr.lastIndexOf('/') + 1);
        JsonNode map = parent.get(field);
        if (map == null || !map.isObject()) return;
        for (var e : map.properties()) {
            entry.accept(e.getKey(), e.getValue(), SourceTree.child(ptr, e.getKey()));
        }
    }
}

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
    private final Spans.Source source;

    private InventoryReader(SourceTree tree) {
        this.tree = tree;
        this.source = new Spans.Source() {
            @Override
            public SourceSpan keyAt(String pointer) {
                return tree.keyAt(pointer);
            }

            @Override
            public SourceSpan writtenAt(String pointer) {
                return tree.writtenAt(pointer);
            }
        };
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
                spans(ptr))));
        Map<String, Service> services = new HashMap<>();
        forEach(root, "/services", (name, node, ptr) -> {
            Map<String, Endpoint> endpoints = new HashMap<>();
            forEach(node, ptr + "/endpoints", (ep, e, eptr) -> endpoints.put(ep, new Endpoint(ep,
                    e.path("port").asInt(),
                    "udp".equals(e.path("protocol").asString("tcp")) ? Protocol.UDP : Protocol.TCP,
                    e.has("scheme") ? e.get("scheme").asString() : ep,
                    spans(eptr))));
            Map<String, Relationship> rels = new HashMap<>();
            forEach(node, ptr + "/relationships", (rel, r, rptr) -> {
                String target = r.asString();
                int colon = target.indexOf(':');
                rels.put(rel, new Relationship(rel, target.substring(0, colon), target.substring(colon + 1),
                        new Spans(source, rptr, "target")));
            });
            Map<String, Egress> egress = new HashMap<>();
            forEach(node, ptr + "/egress", (eg, e, eptr) -> {
                String to = e.path("to").asString();
                egress.put(eg, new Egress(eg, "vm".equals(to) ? null : Cidr.parse(to),
                        "udp".equals(e.path("protocol").asString("tcp")) ? Protocol.UDP : Protocol.TCP,
                        e.path("port").asInt(), e.path("masquerade").asBoolean(true), spans(eptr)));
            });
            services.put(name, new Service(name, Sorted.copy(endpoints), Sorted.copy(rels), Sorted.copy(egress), spans(ptr)));
        });
        Map<String, Container> containers = new HashMap<>();
        forEach(root, "/containers", (name, node, ptr) -> containers.put(name, new Container(name,
                node.path("service").asString(), node.path("vm").asString(),
                node.has("index") ? node.get("index").asInt() : null,
                spans(ptr))));
        return new Inventory(tree.file(), network, Sorted.copy(vms), Sorted.copy(services), Sorted.copy(containers));
    }

    private Network network(JsonNode n, String ptr) {
        Cidr vip = n.has("vip") ? Cidr.parse(n.get("vip").asString()) : Network.DEFAULT_VIP;
        List<Cidr> reserved = new ArrayList<>();
        if (n.has("vip_reserved")) {
            JsonNode r = n.get("vip_reserved");
            for (int i = 0; i < r.size(); i++) reserved.add(Cidr.parse(r.get(i).asString()));
        } else {
            reserved.addAll(Network.defaultReserved(vip));
        }
        JsonNode vx = n.path("vxlan");
        return new Network(
                Cidr.parse(n.path("underlay").asString()),
                Cidr.parse(n.path("overlay").asString()),
                vip, reserved,
                "vxlan".equals(n.path("encapsulation").asString("gre")) ? Encapsulation.VXLAN : Encapsulation.GRE,
                vx.path("vni").asInt(Network.DEFAULT_VNI),
                vx.path("port").asInt(Network.DEFAULT_VXLAN_PORT),
                n.has("vxlan"),
                n.path("mtu").asInt(Network.DEFAULT_MTU),
                Spans.of(source, ptr));
    }

    private Spans spans(String ptr) {
        return Spans.of(source, ptr);
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

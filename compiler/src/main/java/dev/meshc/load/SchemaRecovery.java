package dev.meshc.load;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * After schema errors, the inventory without the entries that failed, so that the later checks still
 * run on everything else and one run reports every problem (as a compiler goes on after a syntax error).
 * An entry is a VM, a service, an endpoint, a relationship, a container, or an optional network field
 * (left out, its default applies). Without a usable network address plan, or with a top-level collection
 * of the wrong shape, nothing later can be checked: {@link #prune} then gives nothing.
 */
public final class SchemaRecovery {

    /**
     * The tree with the failing entries removed, and their pointers ({@code /vms/vm-a},
     * {@code /services/db/endpoints/pg}, ...), which later checks treat as existing but unchecked.
     */
    public record Pruned(SourceTree tree, Set<String> removed) {
    }

    private SchemaRecovery() {
    }

    /** @param failing the pointers {@link InventorySchema#failures} returned */
    public static Optional<Pruned> prune(SourceTree tree, List<String> failing) {
        Set<String> removed = new TreeSet<>();
        for (String p : failing) {
            List<String> entries = entries(p);
            if (entries == null) return Optional.empty();
            removed.addAll(entries);
        }
        JsonNode root = tree.root().deepCopy();
        for (String p : removed) {
            int slash = p.lastIndexOf('/');
            JsonNode parent = root.at(p.substring(0, slash));
            if (parent instanceof ObjectNode o) o.remove(p.substring(slash + 1).replace("~1", "/").replace("~0", "~"));
        }
        return Optional.of(new Pruned(new SourceTree(tree.file(), root, tree.positions()), Set.copyOf(removed)));
    }

    /** The entries to leave out for a failure at {@code pointer}: none, some, or null when nothing later can run. */
    static List<String> entries(String pointer) {
        List<String> seg = segments(pointer);
        if (seg.isEmpty()) return null;
        String top = seg.get(0);
        switch (top) {
            case "version":
                return List.of(); // nothing later depends on it
            case "network": {
                if (seg.size() == 1 || seg.get(1).equals("underlay") || seg.get(1).equals("overlay")) return null;
                String field = "/network/" + escape(seg.get(1));
                return seg.get(1).equals("encapsulation") ? List.of(field, "/network/vxlan") : List.of(field);
            }
            case "vms", "containers":
                return seg.size() == 1 ? null : List.of("/" + top + "/" + escape(seg.get(1)));
            case "services": {
                if (seg.size() == 1) return null;
                String service = "/services/" + escape(seg.get(1));
                if (seg.size() == 2) return List.of(service);
                String kind = seg.get(2);
                if (!kind.equals("endpoints") && !kind.equals("relationships")) return List.of(service + "/" + escape(kind));
                return seg.size() == 3 ? List.of(service) : List.of(service + "/" + kind + "/" + escape(seg.get(3)));
            }
            default:
                return List.of("/" + escape(top)); // an unknown top-level key
        }
    }

    private static List<String> segments(String pointer) {
        List<String> out = new ArrayList<>();
        if (pointer.isEmpty()) return out;
        for (String s : pointer.substring(1).split("/", -1)) out.add(s.replace("~1", "/").replace("~0", "~"));
        return out;
    }

    private static String escape(String s) {
        return s.replace("~", "~0").replace("/", "~1");
    }
}

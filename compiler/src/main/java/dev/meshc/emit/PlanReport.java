package dev.meshc.emit;

import dev.meshc.plan.Plan;
import dev.meshc.plan.Target;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * What {@code compile} would do to an existing OUT, as a reviewer wants it: per host the files
 * added, changed and removed; the containers whose address changes; the relationship targets
 * whose backends change. VIPs themselves never change when containers move.
 */
public record PlanReport(Map<String, HostChanges> hosts, List<ContainerMove> containers, List<TargetChange> targets) {

    public record HostChanges(List<String> added, List<String> changed, List<String> removed) {
    }

    public record ContainerMove(String container, String before, String after) {
    }

    public record TargetChange(String target, List<String> before, List<String> after) {
    }

    private static final Pattern NETWORK_JSON = Pattern.compile("hosts/[^/]+/containers/([^/]+)/network\\.json");
    private static final Pattern ADDRESS = Pattern.compile("\"address\": \"([0-9.]+)\"");
    private static final Pattern SERVICE = Pattern.compile("\"service\": \"([a-z0-9-]+)\"");
    private static final Pattern VM = Pattern.compile("\"vm\": \"([a-z0-9-]+)\"");

    /** The files whose bytes a plan reads (containers' addresses); of the others only path and kind count. */
    public static boolean needsBytes(String path) {
        return NETWORK_JSON.matcher(path).matches();
    }

    public static PlanReport of(Plan plan, List<FileChange> changes) {
        Map<String, HostChanges> hosts = new TreeMap<>();
        Map<String, String[]> before = new TreeMap<>(), after = new TreeMap<>();
        for (FileChange c : changes) {
            String host = c.path().startsWith("hosts/") ? c.path().split("/")[1] : "(fleet)";
            HostChanges h = hosts.computeIfAbsent(host, k -> new HostChanges(new ArrayList<>(), new ArrayList<>(), new ArrayList<>()));
            (c.kind() == FileChange.Kind.ADDED ? h.added() : c.kind() == FileChange.Kind.CHANGED ? h.changed() : h.removed()).add(c.path());
            Matcher m = NETWORK_JSON.matcher(c.path());
            if (m.matches()) {
                if (c.before() != null) before.put(m.group(1), fields(c.before()));
                if (c.after() != null) after.put(m.group(1), fields(c.after()));
            }
        }
        List<ContainerMove> moves = new ArrayList<>();
        Set<String> names = new TreeSet<>(before.keySet());
        names.addAll(after.keySet());
        Set<String> touchedServices = new TreeSet<>();
        for (String n : names) {
            String[] b = before.get(n), a = after.get(n);
            String bs = b == null ? "(none)" : b[0] + " on " + b[2], as = a == null ? "(none)" : a[0] + " on " + a[2];
            if (!bs.equals(as)) {
                moves.add(new ContainerMove(n, bs, as));
                if (b != null) touchedServices.add(b[1]);
                if (a != null) touchedServices.add(a[1]);
            }
        }
        // Old backends of a target = new backends with the moved containers' old addresses swapped back.
        // The containers of each service, in name order (a first deploy moves every container: no scan per target).
        Map<String, List<String>> namesByService = new java.util.HashMap<>();
        for (String n : names) {
            String[] b = before.get(n), a = after.get(n);
            if (b != null) namesByService.computeIfAbsent(b[1], k -> new ArrayList<>()).add(n);
            if (a != null && (b == null || !a[1].equals(b[1]))) namesByService.computeIfAbsent(a[1], k -> new ArrayList<>()).add(n);
        }
        List<TargetChange> targets = new ArrayList<>();
        for (Target t : plan.targets().values()) {
            if (!touchedServices.contains(t.service())) continue;
            Set<String> now = new TreeSet<>(), then = new TreeSet<>();
            for (int b : t.backends()) now.add(dev.meshc.model.Ipv4.format(b));
            then.addAll(now);
            for (String n : namesByService.getOrDefault(t.service(), List.of())) {
                String[] b = before.get(n), a = after.get(n);
                if (a != null && a[1].equals(t.service())) then.remove(a[0]);
                if (b != null && b[1].equals(t.service())) then.add(b[0]);
            }
            if (!now.equals(then)) targets.add(new TargetChange(t.key(), new ArrayList<>(then), new ArrayList<>(now)));
        }
        return new PlanReport(hosts, moves, targets);
    }

    private static String[] fields(byte[] json) {
        String s = new String(json, StandardCharsets.UTF_8);
        return new String[] {find(ADDRESS, s), find(SERVICE, s), find(VM, s)};
    }

    private static String find(Pattern p, String s) {
        Matcher m = p.matcher(s);
        return m.find() ? m.group(1) : "?";
    }

    public boolean isEmpty() {
        return hosts.isEmpty();
    }

    public String text() {
        if (isEmpty()) return "No changes: the output directory is up to date.\n";
        StringBuilder sb = new StringBuilder();
        hosts.forEach((host, h) -> {
            sb.append(host).append(": ").append(h.added().size()).append(" added, ").append(h.changed().size())
                    .append(" changed, ").append(h.removed().size()).append(" removed\n");
            h.added().forEach(p -> sb.append("  + ").append(p).append('\n'));
            h.changed().forEach(p -> sb.append("  ~ ").append(p).append('\n'));
            h.removed().forEach(p -> sb.append("  - ").append(p).append('\n'));
        });
        if (!containers.isEmpty()) {
            sb.append("containers:\n");
            containers.forEach(c -> sb.append("  ").append(c.container()).append(": ").append(c.before()).append(" -> ").append(c.after()).append('\n'));
        }
        if (!targets.isEmpty()) {
            sb.append("relationship targets (VIPs unchanged):\n");
            targets.forEach(t -> sb.append("  ").append(t.target()).append(": [").append(String.join(", ", t.before()))
                    .append("] -> [").append(String.join(", ", t.after())).append("]\n"));
        }
        return sb.toString();
    }

    public String json() {
        ObjectMapper om = new ObjectMapper();
        ObjectNode root = om.createObjectNode();
        ObjectNode hs = root.putObject("hosts");
        hosts.forEach((host, h) -> {
            ObjectNode o = hs.putObject(host);
            ArrayNode ad = o.putArray("added");
            h.added().forEach(ad::add);
            ArrayNode ch = o.putArray("changed");
            h.changed().forEach(ch::add);
            ArrayNode rm = o.putArray("removed");
            h.removed().forEach(rm::add);
        });
        ArrayNode cs = root.putArray("containers");
        containers.forEach(c -> cs.addObject().put("container", c.container()).put("before", c.before()).put("after", c.after()));
        ArrayNode ts = root.putArray("targets");
        targets.forEach(t -> {
            ObjectNode o = ts.addObject().put("target", t.target());
            ArrayNode b = o.putArray("before");
            t.before().forEach(b::add);
            ArrayNode a = o.putArray("after");
            t.after().forEach(a::add);
        });
        return om.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
    }
}

package dev.meshc.trace;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** One VM as its ip -batch files describe it: addresses, routes, neighbours, FDB, tunnel device; its containers. */
final class Host {
    final String name;
    final String dir; // hosts/<vm>/
    record Route(Ip.Prefix prefix, boolean unreachable, String dev, int gateway, String file, int line) {
    }
    record Local(int addr, String dev, String file, int line) {
    }
    record Neighbor(int addr, String lladdr, String dev, String file, int line) {
    }
    record Fdb(String mac, int dst, long vni, String file, int line) {
    }
    record Container(String name, int addr, String veth, String vm) {
    }
    final List<Route> routes = new ArrayList<>();
    final List<Local> locals = new ArrayList<>();
    final List<Neighbor> neighbors = new ArrayList<>();
    final List<Fdb> fdb = new ArrayList<>();
    final Map<String, Container> containers = new TreeMap<>();
    /** The host's files (for the containers' hosts files). */
    Map<String, byte[]> files = Map.of();
    String tunnel; // meshc-vx | meshc-gre
    String encapsulation;
    int underlay;
    long vni;
    int vxlanPort;
    int linkLine;
    Ruleset nft;
    Ruleset ipt;
    /** Routes, addresses, neighbours and FDB entries as normalised facts, each with the file:line that states it. */
    final Map<String, String> batchFacts = new TreeMap<>();
    final Map<String, String> networkdFacts = new TreeMap<>();
    /** False when networkd leaves the tunnel device to bin/meshc-apply ([Link] Unmanaged=yes). */
    boolean networkdTunnel = true;

    Host(String name) {
        this.name = name;
        this.dir = "hosts/" + name + "/";
    }

    private static final String A = "(\\d{1,3}(?:\\.\\d{1,3}){3})";
    private static final String P = "(\\d{1,3}(?:\\.\\d{1,3}){3}/\\d{1,2})";
    private static final String DEV = "([A-Za-z0-9_.-]+)";
    private static final String MAC = "((?:[0-9a-f]{2}:){5}[0-9a-f]{2})";

    void batch(String rel, String text) throws TraceError {
        String file = dir + rel;
        String[] lines = text.split("\n", -1);
        for (int k = 0; k < lines.length; k++) {
            String l = lines[k].trim();
            int ln = k + 1;
            if (l.isEmpty() || l.startsWith("#")) continue;
            Matcher m = null;
            if (l.startsWith("route replace ") && l.contains(" via ")) { // the bulk of the file: one per peer
                if ((m = Re.of("route replace " + P + " via " + A + " dev " + DEV + " onlink proto 252").matcher(l)).matches()) {
                    routes.add(new Route(Ip.Prefix.parse(m.group(1)), false, m.group(3), Ip.parse(m.group(2)), file, ln));
                    batchFacts.put("route " + m.group(1) + " via " + m.group(2) + " dev " + m.group(3), file + ":" + ln);
                    continue;
                }
                throw new TraceError(file, ln, "'" + l + "' is not meshc's ip -batch grammar");
            }
            if ((m = Re.of("address replace " + A + "/32 dev " + DEV).matcher(l)).matches()) {
                locals.add(new Local(Ip.parse(m.group(1)), m.group(2), file, ln));
                batchFacts.put("address " + m.group(1) + " dev " + m.group(2), file + ":" + ln);
            } else if ((m = Re.of("route replace " + P + " dev " + DEV + " scope link").matcher(l)).matches()) {
                routes.add(new Route(Ip.Prefix.parse(m.group(1)), false, m.group(2), 0, file, ln));
                batchFacts.put("route " + m.group(1) + " dev " + m.group(2), file + ":" + ln);
            } else if ((m = Re.of("route replace unreachable " + P + " proto 252").matcher(l)).matches()) {
                routes.add(new Route(Ip.Prefix.parse(m.group(1)), true, "", 0, file, ln));
                batchFacts.put("unreachable " + m.group(1), file + ":" + ln);
            } else if ((m = Re.of("route replace " + P + " via " + A + " dev " + DEV + " onlink proto 252").matcher(l)).matches()) {
                routes.add(new Route(Ip.Prefix.parse(m.group(1)), false, m.group(3), Ip.parse(m.group(2)), file, ln));
                batchFacts.put("route " + m.group(1) + " via " + m.group(2) + " dev " + m.group(3), file + ":" + ln);
            } else if ((m = Re.of("neighbor replace " + A + " lladdr (" + MAC.substring(1, MAC.length() - 1) + "|\\d{1,3}(?:\\.\\d{1,3}){3}) dev " + DEV + " nud permanent").matcher(l)).matches()) {
                neighbors.add(new Neighbor(Ip.parse(m.group(1)), m.group(2), m.group(3), file, ln));
                batchFacts.put("neighbor " + m.group(1) + " lladdr " + m.group(2) + " dev " + m.group(3), file + ":" + ln);
            } else if ((m = Re.of("fdb replace " + MAC + " dev " + DEV + " dst " + A + " vni (\\d+) self permanent").matcher(l)).matches()) {
                fdb.add(new Fdb(m.group(1), Ip.parse(m.group(3)), Long.parseLong(m.group(4)), file, ln));
                batchFacts.put("fdb " + m.group(1) + " dst " + m.group(3) + " vni " + m.group(4), file + ":" + ln);
            } else if ((m = Re.of("link add " + DEV + " type vxlan id (\\d+) local " + A + " dstport (\\d+) ttl \\d+ nolearning").matcher(l)).matches()) {
                tunnel = m.group(1);
                encapsulation = "vxlan";
                vni = Long.parseLong(m.group(2));
                underlay = Ip.parse(m.group(3));
                vxlanPort = Integer.parseInt(m.group(4));
                linkLine = ln;
            } else if ((m = Re.of("link add " + DEV + " type gre local " + A + " ttl \\d+").matcher(l)).matches()) {
                tunnel = m.group(1);
                encapsulation = "gre";
                underlay = Ip.parse(m.group(2));
                linkLine = ln;
            } else if (Re.matches(l, "link set " + DEV + "( address " + MAC + ")?( alias meshc:[0-9a-f]+)?( mtu \\d+)?( addrgenmode none)?( up)?")) {
                continue;
            } else {
                throw new TraceError(file, ln, "'" + l + "' is not meshc's ip -batch grammar");
            }
        }
    }

    private static final java.util.Set<String> NETWORKD_KEYS = java.util.Set.of("Name", "MTUBytes", "Address", "ConfigureWithoutCarrier",
            "LinkLocalAddressing", "IPv6AcceptRA", "Type", "Destination", "Gateway", "GatewayOnLink", "Scope", "LinkLayerAddress",
            "MACAddress", "VNI", "Unmanaged");

    /** {@code KEY=VALUE} with a known key and a value without spaces (the regex {@code ([A-Za-z0-9]+)=(\\S+)}, by hand). */
    private static boolean keyValue(String l, Map<String, String> into) {
        int eq = l.indexOf('=');
        if (eq <= 0 || eq == l.length() - 1) return false;
        String key = l.substring(0, eq), value = l.substring(eq + 1);
        if (!NETWORKD_KEYS.contains(key)) return false;
        for (int i = 0; i < value.length(); i++) if (Character.isWhitespace(value.charAt(i))) return false;
        into.put(key, value);
        return true;
    }

    /** A systemd-networkd .network file as meshc writes it: its routes, neighbours and FDB entries become facts. */
    void networkd(String rel, String text) throws TraceError {
        String file = dir + rel;
        String[] lines = text.split("\n", -1);
        String section = null, name = null;
        Map<String, String> cur = new java.util.LinkedHashMap<>();
        int start = 0;
        List<Object[]> sections = new ArrayList<>();
        for (int k = 0; k <= lines.length; k++) {
            String l = k < lines.length ? lines[k].trim() : "[End]";
            if (l.isEmpty() || l.startsWith("#")) continue;
            Matcher m;
            if ((m = Re.of("\\[(Match|Link|Network|Route|Neighbor|BridgeFDB|End)\\]").matcher(l)).matches()) {
                if (section != null) sections.add(new Object[]{section, cur, start});
                section = m.group(1);
                cur = new java.util.LinkedHashMap<>();
                start = k + 1;
            } else if (section != null && keyValue(l, cur)) {
                continue;
            } else {
                throw new TraceError(file, k + 1, "'" + l + "' is not meshc's systemd-networkd grammar");
            }
        }
        for (Object[] sec : sections) {
            @SuppressWarnings("unchecked") Map<String, String> kv = (Map<String, String>) sec[1];
            String where = file + ":" + sec[2];
            switch ((String) sec[0]) {
                case "Match" -> name = kv.get("Name");
                case "Link" -> {
                    if ("yes".equals(kv.get("Unmanaged"))) networkdTunnel = false;
                }
                case "Network" -> {
                    if (kv.containsKey("Address")) networkdFacts.put("address " + kv.get("Address").replace("/32", "") + " dev " + name, where);
                }
                case "Route" -> {
                    if ("unreachable".equals(kv.get("Type"))) networkdFacts.put("unreachable " + kv.get("Destination"), where);
                    else if (kv.containsKey("Gateway")) networkdFacts.put("route " + kv.get("Destination") + " via " + kv.get("Gateway") + " dev " + name, where);
                    else networkdFacts.put("route " + kv.get("Destination") + " dev " + name, where);
                }
                case "Neighbor" -> networkdFacts.put("neighbor " + kv.get("Address") + " lladdr " + kv.get("LinkLayerAddress") + " dev " + name, where);
                case "BridgeFDB" -> networkdFacts.put("fdb " + kv.get("MACAddress") + " dst " + kv.get("Destination") + " vni " + kv.get("VNI"), where);
                default -> throw new TraceError(file, (int) sec[2], "unknown section");
            }
        }
    }

    /** The route a packet to {@code a} takes: a local address (null dev route marked by the Local), or the longest prefix. */
    Local local(int a) {
        for (Local l : locals) if (l.addr() == a) return l;
        return null;
    }

    /**
     * The longest-prefix route to {@code a} (of equally long ones, the first listed), as the linear scan over
     * {@link #routes} gives it, from an index built on first use: a trace looks routes up on every host it
     * passes, and a host lists a route per peer (a thousand at fleet L).
     */
    Route route(int a) {
        Map<Integer, Route>[] byLen = routeIndex();
        for (int len = 32; len >= 0; len--) {
            Map<Integer, Route> m = byLen[len];
            if (m == null) continue;
            Route r = m.get(a & Ip.mask(len));
            if (r != null) return r;
        }
        return null;
    }

    /** Routes by prefix length, then network; null for a length no route has. Built once the host is parsed. */
    private Map<Integer, Route>[] routeIndex;
    private Map<String, Neighbor> neighborIndex;
    private Map<String, Fdb> fdbIndex;

    @SuppressWarnings("unchecked")
    private Map<Integer, Route>[] routeIndex() {
        Map<Integer, Route>[] idx = routeIndex;
        if (idx == null) {
            idx = new Map[33];
            for (Route r : routes) {
                int len = r.prefix().len();
                if (idx[len] == null) idx[len] = new java.util.HashMap<>();
                idx[len].putIfAbsent(r.prefix().addr(), r);
            }
            routeIndex = idx;
        }
        return idx;
    }

    /** The device a packet to {@code a} leaves by, as fib sees it: "" for unreachable, "default" off meshc's routes. */
    String routeDev(int a) {
        if (local(a) != null || a == underlay) return "lo";
        Route r = route(a);
        if (r == null) return "default";
        return r.unreachable() ? "" : r.dev();
    }

    /** The first neighbour listed for {@code a} on {@code dev}. */
    Neighbor neighbor(int a, String dev) {
        Map<String, Neighbor> idx = neighborIndex;
        if (idx == null) {
            idx = new java.util.HashMap<>();
            for (Neighbor n : neighbors) idx.putIfAbsent(n.addr() + " " + n.dev(), n);
            neighborIndex = idx;
        }
        return idx.get(a + " " + dev);
    }

    /** The first FDB entry listed for {@code mac}. */
    Fdb fdb(String mac) {
        Map<String, Fdb> idx = fdbIndex;
        if (idx == null) {
            idx = new java.util.HashMap<>();
            for (Fdb f : fdb) idx.putIfAbsent(f.mac(), f);
            fdbIndex = idx;
        }
        return idx.get(mac);
    }

    Container byVeth(String veth) {
        for (Container c : containers.values()) if (c.veth().equals(veth)) return c;
        return null;
    }
}

package dev.meshc.trace;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads meshc.nft as meshc writes it, and nothing else: the known sets and the vip map with their
 * elements, dnat chains, and the fixed chains' rules, each recognised by its exact shape. Chains are
 * hooked by name (guard, prerouting, input, forward, postrouting); anything else is an error naming the line.
 */
final class NftParser {
    private static final String A = "(\\d{1,3}(?:\\.\\d{1,3}){3})";
    private static final String P = "(\\d{1,3}(?:\\.\\d{1,3}){3}(?:/\\d{1,2})?)";
    private static final String IF = "\"([A-Za-z0-9_.*-]+)\"";
    private static final String NAME = "([A-Za-z][A-Za-z0-9_-]*)";

    private final String file;
    private final String[] lines;
    private int i;
    private final Ruleset rs;
    /** flows: "consumer opened backend proto port" -> line. */
    final Map<String, Integer> flows = new HashMap<>();
    final Map<Long, Rule.Branch> vip = new HashMap<>();
    record Interval(int src, int lo, int hi, String proto, int port, int line) {
    }
    final List<Interval> tunnelSources = new ArrayList<>();
    final List<Interval> egress = new ArrayList<>();
    final List<Interval> masq = new ArrayList<>();
    final Map<String, Integer> hostPorts = new HashMap<>();

    private NftParser(String file, String text) {
        this.file = file;
        this.lines = text.split("\n", -1);
        this.rs = new Ruleset(file);
    }

    static Ruleset parse(String file, String text) throws TraceError {
        NftParser p = new NftParser(file, text);
        p.top();
        return p.rs;
    }

    private TraceError err(String msg) {
        return new TraceError(file, i + 1, msg + ": '" + (i < lines.length ? lines[i].trim() : "") + "' is not meshc's nft grammar");
    }

    private String line() {
        return lines[i].trim();
    }

    private boolean skippable(String l) {
        return l.isEmpty() || l.startsWith("#");
    }

    private void top() throws TraceError {
        boolean sawIp = false;
        for (i = 0; i < lines.length; i++) {
            String l = line();
            if (skippable(l) || Re.matches(l, "table ip6? meshc \\{\\}") || Re.matches(l, "delete table ip6? meshc")) continue;
            if (l.equals("table ip meshc {")) {
                sawIp = true;
                table(true);
            } else if (l.equals("table ip6 meshc {")) {
                table(false);
            } else {
                throw err("unexpected line");
            }
        }
        if (!sawIp) throw new TraceError(file, 0, "no 'table ip meshc'");
        for (String c : List.of("guard", "prerouting", "postrouting", "input", "forward")) {
            if (!rs.chains.containsKey(c)) throw new TraceError(file, 0, "no chain " + c + " in table ip meshc");
        }
    }

    private void table(boolean ip) throws TraceError {
        for (i++; i < lines.length; i++) {
            String l = line();
            if (skippable(l)) continue;
            if (l.equals("}")) return;
            Matcher m;
            if (ip && (m = Re.of("(set|map) " + NAME + " \\{").matcher(l)).matches()) set(m.group(2));
            else if ((m = Re.of("chain " + NAME + " \\{").matcher(l)).matches()) chain(ip ? m.group(1) : "ip6 " + m.group(1), ip);
            else throw err("unexpected line in table");
        }
        throw new TraceError(file, lines.length, "unterminated table");
    }

    private static final Map<String, String> SET_TYPES = Map.of(
            "tunnel_sources", "typeof ip saddr \\. @th,(336|128),32",
            "vip", "type ipv4_addr \\. ipv4_addr : verdict",
            "flows", "type ipv4_addr \\. ipv4_addr \\. ipv4_addr \\. inet_proto \\. inet_service",
            "egress", "type ipv4_addr \\. ipv4_addr \\. inet_proto \\. inet_service",
            "masq", "type ipv4_addr \\. ipv4_addr \\. inet_proto \\. inet_service",
            "host_ports", "type ipv4_addr \\. inet_proto \\. inet_service");

    private void set(String name) throws TraceError {
        String type = SET_TYPES.get(name);
        if (type == null) throw err("unknown set " + name);
        boolean typed = false, inElements = false;
        for (i++; i < lines.length; i++) {
            String l = line();
            if (skippable(l)) continue;
            if (l.equals("}")) {
                if (inElements) {
                    inElements = false;
                    continue;
                }
                if (!typed) throw err("set " + name + " without its type");
                return;
            }
            if (inElements) {
                element(name, elementText(l));
                continue;
            }
            if (Re.matches(l, type)) typed = true;
            else if (l.equals("flags interval") && !name.equals("vip") && !name.equals("flows") && !name.equals("host_ports")) continue;
            else if (l.equals("elements = {")) inElements = true;
            else throw err("unexpected line in set " + name);
        }
        throw new TraceError(file, lines.length, "unterminated set " + name);
    }

    /** An element line without its comment and trailing comma (String.replaceFirst compiled two patterns per element). */
    private static String elementText(String l) {
        int hash = l.indexOf('#');
        String e = (hash >= 0 ? l.substring(0, hash) : l).strip();
        return (e.endsWith(",") ? e.substring(0, e.length() - 1) : e).strip();
    }

    private void element(String set, String e) throws TraceError {
        int ln = i + 1;
        Matcher m;
        switch (set) {
            case "flows": { // the bulk of the file: split by hand
                String[] f = Re.split(e, " . ");
                if (f.length != 5 || !Ip.isAddr(f[0]) || !Ip.isAddr(f[1]) || !Ip.isAddr(f[2]) || !(f[3].equals("tcp") || f[3].equals("udp"))
                        || !Re.matches(f[4], "\\d{1,5}")) throw err("bad flows element");
                if (flows.putIfAbsent(f[0] + " " + f[1] + " " + f[2] + " " + f[3] + " " + Integer.parseInt(f[4]), ln) != null) throw err("duplicate element");
                rs.entries.put(ln, "flows element " + e);
                return;
            }
            case "vip":
                m = Re.of(A + " \\. " + A + " : goto " + NAME).matcher(e);
                if (!m.matches()) throw err("bad vip element");
                vip.put(key(Ip.parse(m.group(1)), Ip.parse(m.group(2))), new Rule.Branch(0, m.group(3), ln, 1));
                rs.entries.put(ln, "vip element " + e);
                return;
            case "tunnel_sources":
                m = Re.of(A + " \\. 0x([0-9a-f]{8})-0x([0-9a-f]{8})").matcher(e);
                if (!m.matches()) throw err("bad tunnel_sources element");
                tunnelSources.add(new Interval(Ip.parse(m.group(1)), (int) Long.parseLong(m.group(2), 16), (int) Long.parseLong(m.group(3), 16), null, 0, ln));
                return;
            case "egress":
            case "masq":
                m = Re.of(A + " \\. " + P + " \\. (tcp|udp) \\. (\\d{1,5})").matcher(e);
                if (!m.matches()) throw err("bad " + set + " element");
                Ip.Prefix pf = Ip.Prefix.parse(m.group(2));
                (set.equals("egress") ? egress : masq).add(new Interval(Ip.parse(m.group(1)), pf.addr(), pf.addr() | ~Ip.mask(pf.len()), m.group(3), Integer.parseInt(m.group(4)), ln));
                rs.entries.put(ln, set + " element " + e);
                return;
            case "host_ports":
                m = Re.of(A + " \\. (tcp|udp) \\. (\\d{1,5})").matcher(e);
                if (!m.matches()) throw err("bad host_ports element");
                hostPorts.put(m.group(1) + " " + m.group(2) + " " + Integer.parseInt(m.group(3)), ln);
                rs.entries.put(ln, "host_ports element " + e);
                return;
            default:
                throw err("unknown set");
        }
    }

    static long key(int a, int b) {
        return ((long) a << 32) | (b & 0xffffffffL);
    }

    private void chain(String name, boolean ip) throws TraceError {
        rs.chainLines.put(name, i + 1);
        rs.chains.putIfAbsent(name, new ArrayList<>());
        for (i++; i < lines.length; i++) {
            String l = line();
            if (skippable(l)) continue;
            if (l.equals("}")) return;
            if (Re.matches(l, "type (filter|nat) hook (prerouting|input|forward|output|postrouting) priority -?\\d+; policy accept;")) continue;
            rs.add(name, rule(l, ip));
        }
        throw new TraceError(file, lines.length, "unterminated chain " + name);
    }

    private Rule r(String text, List<Rule.Match> ms, Rule.Verdict v) {
        return new Rule(file, i + 1, text, ms, v);
    }

    private static Rule.Match iif(String pat, boolean eq) {
        return p -> Pkt.ifMatch(pat, p.iif) == eq ? 0 : -1;
    }

    private static Rule.Match oif(String pat) {
        return p -> Pkt.ifMatch(pat, p.oif) ? 0 : -1;
    }

    private static Rule.Kind kind(String v) {
        return switch (v) {
            case "accept" -> Rule.Kind.ACCEPT;
            case "drop" -> Rule.Kind.DROP;
            case "return" -> Rule.Kind.RETURN;
            default -> throw new IllegalStateException(v);
        };
    }

    private Rule rule(String l, boolean ip) throws TraceError {
        Matcher m;
        if (!ip) {
            if ((m = Re.of("(iifname|oifname) " + IF + " drop").matcher(l)).matches()) {
                String pat = m.group(2);
                return r(l, List.of(m.group(1).equals("iifname") ? iif(pat, true) : oif(pat)), Rule.Verdict.of(Rule.Kind.DROP));
            }
            throw err("unknown rule in table ip6 meshc");
        }
        if (l.equals("drop")) return r(l, List.of(), Rule.Verdict.of(Rule.Kind.DROP));
        if (l.equals("jump flows")) return r(l, List.of(), Rule.Verdict.to(Rule.Kind.JUMP, "flows"));
        // Conntrack: the evaluated packets are never invalid nor related (ICMP errors are not traced).
        if (l.equals("ct state invalid drop") || l.equals("ct state related accept") || l.equals("ct state related ip protocol icmp accept")) {
            return r(l, List.of(p -> -1), Rule.Verdict.of(l.endsWith("drop") ? Rule.Kind.DROP : Rule.Kind.ACCEPT));
        }
        if (l.equals("ct direction reply accept")) return r(l, List.of(p -> p.reply ? 0 : -1), Rule.Verdict.of(Rule.Kind.ACCEPT));
        if ((m = Re.of("iifname " + IF + " fib saddr \\. iif oif missing drop").matcher(l)).matches()) {
            String pat = m.group(1);
            return r(l, List.of(iif(pat, true), p -> p.routeDev.apply(p.src).equals(p.iif) ? -1 : 0), Rule.Verdict.of(Rule.Kind.DROP));
        }
        if ((m = Re.of("(iifname|oifname) " + IF + " (return|drop|accept)").matcher(l)).matches()) {
            String pat = m.group(2);
            return r(l, List.of(m.group(1).equals("iifname") ? iif(pat, true) : oif(pat)), Rule.Verdict.of(kind(m.group(3))));
        }
        if ((m = Re.of("(iifname|oifname) " + IF + " (goto|jump) " + NAME).matcher(l)).matches()) {
            String pat = m.group(2);
            return r(l, List.of(m.group(1).equals("iifname") ? iif(pat, true) : oif(pat)),
                    Rule.Verdict.to(m.group(3).equals("goto") ? Rule.Kind.GOTO : Rule.Kind.JUMP, m.group(4)));
        }
        if ((m = Re.of("iifname != " + IF + " drop").matcher(l)).matches()) return r(l, List.of(iif(m.group(1), false)), Rule.Verdict.of(Rule.Kind.DROP));
        if ((m = Re.of("ip (saddr|daddr) " + P + " drop").matcher(l)).matches()) {
            Ip.Prefix pf = Ip.Prefix.parse(m.group(2));
            boolean s = m.group(1).equals("saddr");
            return r(l, List.of(p -> pf.contains(s ? p.src : p.dst) ? 0 : -1), Rule.Verdict.of(Rule.Kind.DROP));
        }
        if ((m = Re.of("iifname " + IF + " ip daddr " + P + " ip saddr \\. ip daddr vmap @vip").matcher(l)).matches()) {
            String pat = m.group(1);
            Ip.Prefix pf = Ip.Prefix.parse(m.group(2));
            return r(l, List.of(iif(pat, true), p -> pf.contains(p.dst) ? 0 : -1),
                    new Rule.Verdict(Rule.Kind.VMAP, null, List.of(), p -> vip.get(key(p.src, p.dst))));
        }
        if (l.equals("ip saddr . ip daddr . meta l4proto . th dport @masq masquerade")) {
            return r(l, List.of(p -> intervals(masq, p.src, p.dst, p.proto, p.dport)), Rule.Verdict.of(Rule.Kind.MASQUERADE));
        }
        if ((m = Re.of("@th,96,24 != (\\d+) return").matcher(l)).matches()) {
            long vni = Long.parseLong(m.group(1));
            return r(l, List.of(p -> p.thBits(96, 24) != vni ? 0 : -1), Rule.Verdict.of(Rule.Kind.RETURN));
        }
        if (l.equals("@th,2,1 1 return")) return r(l, List.of(p -> p.thBits(2, 1) == 1 ? 0 : -1), Rule.Verdict.of(Rule.Kind.RETURN));
        if (l.equals("@th,0,32 != 0x800 drop")) return r(l, List.of(p -> p.thBits(0, 32) != 0x800 ? 0 : -1), Rule.Verdict.of(Rule.Kind.DROP));
        if ((m = Re.of("ip saddr \\. @th,(336|128),32 != @tunnel_sources drop").matcher(l)).matches()) {
            int off = Integer.parseInt(m.group(1));
            return r(l, List.of(p -> {
                int inner = (int) p.thBits(off, 32);
                for (Interval t : tunnelSources) {
                    if (t.src() == p.src && Integer.compareUnsigned(inner, t.lo()) >= 0 && Integer.compareUnsigned(inner, t.hi()) <= 0) {
                        p.lastElement = t.line();
                        return -1;
                    }
                }
                return 0;
            }), Rule.Verdict.of(Rule.Kind.DROP));
        }
        if (l.equals("ip saddr . meta l4proto . th dport @host_ports accept")) {
            return r(l, List.of(p -> hostPorts.getOrDefault(Ip.str(p.src) + " " + p.proto + " " + p.dport, -1)), Rule.Verdict.of(Rule.Kind.ACCEPT));
        }
        if ((m = Re.of("ip daddr " + A + " udp dport (\\d+) jump " + NAME).matcher(l)).matches()) {
            int a = Ip.parse(m.group(1));
            int port = Integer.parseInt(m.group(2));
            return r(l, List.of(p -> p.dst == a && "udp".equals(p.proto) && p.dport == port ? 0 : -1), Rule.Verdict.to(Rule.Kind.JUMP, m.group(3)));
        }
        if ((m = Re.of("ip daddr " + A + " ip protocol gre jump " + NAME).matcher(l)).matches()) {
            int a = Ip.parse(m.group(1));
            return r(l, List.of(p -> p.dst == a && "gre".equals(p.proto) ? 0 : -1), Rule.Verdict.to(Rule.Kind.JUMP, m.group(2)));
        }
        if (l.equals("ct direction original ip saddr . ct original ip daddr . ip daddr . meta l4proto . th dport @flows accept")) {
            return r(l, List.of(p -> p.reply ? -1 : flows.getOrDefault(Ip.str(p.src) + " " + Ip.str(p.ctOrigDst) + " " + Ip.str(p.dst) + " " + p.proto + " " + p.dport, -1)),
                    Rule.Verdict.of(Rule.Kind.ACCEPT));
        }
        if (l.equals("ct direction reply ip daddr . ct original ip daddr . ip saddr . meta l4proto . th sport @flows accept")) {
            // A reply: its source port is the flow's destination port (dport holds it for replies here).
            return r(l, List.of(p -> !p.reply ? -1 : flows.getOrDefault(Ip.str(p.dst) + " " + Ip.str(p.ctOrigDst) + " " + Ip.str(p.src) + " " + p.proto + " " + p.dport, -1)),
                    Rule.Verdict.of(Rule.Kind.ACCEPT));
        }
        if ((m = Re.of("ip daddr " + P + " ip daddr != \\{ ([0-9./, ]+) \\}( meta l4proto tcp)? reject( with tcp reset)?").matcher(l)).matches()) {
            if ((m.group(3) != null) != (m.group(4) != null)) throw err("reject shape");
            Ip.Prefix pf = Ip.Prefix.parse(m.group(1));
            List<Ip.Prefix> except = new ArrayList<>();
            for (String s : m.group(2).split(",\\s*")) {
                if (!Ip.isPrefix(s.trim())) throw err("bad prefix " + s);
                except.add(Ip.Prefix.parse(s.trim()));
            }
            boolean tcp = m.group(3) != null;
            return r(l, List.of(p -> pf.contains(p.dst) && except.stream().noneMatch(x -> x.contains(p.dst)) && (!tcp || "tcp".equals(p.proto)) ? 0 : -1),
                    Rule.Verdict.of(Rule.Kind.REJECT));
        }
        if (l.equals("ct direction original ip saddr . ip daddr . meta l4proto . th dport @egress accept")) {
            return r(l, List.of(p -> p.reply ? -1 : intervals(egress, p.src, p.dst, p.proto, p.dport)), Rule.Verdict.of(Rule.Kind.ACCEPT));
        }
        if (l.equals("ct direction reply ip daddr . ct original ip daddr . meta l4proto . th sport @egress accept")) {
            return r(l, List.of(p -> !p.reply ? -1 : intervals(egress, p.dst, p.ctOrigDst, p.proto, p.dport)), Rule.Verdict.of(Rule.Kind.ACCEPT));
        }
        if ((m = Re.of("dnat to " + A).matcher(l)).matches()) {
            rs.entries.put(i + 1, l);
            return r(l, List.of(), new Rule.Verdict(Rule.Kind.DNAT, null, List.of(new Rule.Branch(Ip.parse(m.group(1)), null, i + 1, 1.0)), null));
        }
        if ((m = Re.of("dnat to numgen random mod (\\d+) map \\{ (.*) \\}").matcher(l)).matches()) {
            int n = Integer.parseInt(m.group(1));
            String[] parts = m.group(2).split(", ");
            if (parts.length != n || n < 2) throw err("numgen map must list 0.." + (n - 1));
            List<Rule.Branch> bs = new ArrayList<>();
            for (int k = 0; k < n; k++) {
                Matcher e = Re.of("(\\d+) : " + A).matcher(parts[k]);
                if (!e.matches() || Integer.parseInt(e.group(1)) != k) throw err("numgen map must list 0.." + (n - 1) + " in order");
                bs.add(new Rule.Branch(Ip.parse(e.group(2)), null, i + 1, 1.0 / n));
            }
            rs.entries.put(i + 1, l);
            return r(l, List.of(), new Rule.Verdict(Rule.Kind.DNAT, null, List.copyOf(bs), null));
        }
        throw err("unknown rule");
    }

    private static int intervals(List<Interval> set, int src, int dst, String proto, int port) {
        for (Interval e : set) {
            if (e.src() == src && Integer.compareUnsigned(dst, e.lo()) >= 0 && Integer.compareUnsigned(dst, e.hi()) <= 0
                    && e.proto().equals(proto) && e.port() == port) return e.line();
        }
        return -1;
    }
}

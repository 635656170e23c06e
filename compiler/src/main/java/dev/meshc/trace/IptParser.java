package dev.meshc.trace;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads iptables/rules.v4 as meshc writes it: MESHC-* chains in the raw, nat and filter tables, with the
 * options meshc uses (interfaces, addresses, protocol and port, rpfilter, conntrack, u32 as meshc
 * emits it, statistic on DNAT branches, comments). Anything else is an error naming the line.
 */
final class IptParser {
    private final String file;
    private final Ruleset rs;
    private int ln;

    private IptParser(String file) {
        this.file = file;
        this.rs = new Ruleset(file);
    }

    static Ruleset parse(String file, String text) throws TraceError {
        IptParser p = new IptParser(file);
        p.run(text.split("\n", -1));
        return p.rs;
    }

    private TraceError err(String msg, String line) {
        return new TraceError(file, ln, msg + ": '" + line.trim() + "' is not meshc's iptables grammar");
    }

    private void run(String[] lines) throws TraceError {
        String table = null;
        List<String[]> dnatBranches = new ArrayList<>();
        for (int k = 0; k < lines.length; k++) {
            ln = k + 1;
            String l = lines[k].trim();
            if (l.isEmpty() || l.startsWith("#")) continue;
            Matcher m;
            if ((m = Re.of("\\*(raw|nat|filter)").matcher(l)).matches()) {
                table = m.group(1);
            } else if (l.equals("COMMIT")) {
                table = null;
            } else if ((m = Re.of(":(MESHC-[A-Z0-9-]+) - \\[0:0\\]").matcher(l)).matches()) {
                if (table == null) throw err("chain outside a table", l);
                rs.chainLines.put(m.group(1), ln);
                rs.chains.putIfAbsent(m.group(1), new ArrayList<>());
            } else if (l.startsWith("-A ")) {
                if (table == null) throw err("rule outside a table", l);
                rule(l);
            } else {
                throw err("unexpected line", l);
            }
        }
        for (String c : List.of("MESHC-GUARD", "MESHC-DNAT", "MESHC-SNAT", "MESHC-INPUT", "MESHC-FORWARD")) {
            if (!rs.chains.containsKey(c)) throw new TraceError(file, 0, "no chain " + c);
        }
        // DNAT chains: consecutive branches of statistic rules become one rule listing every backend and its share.
        for (var e : rs.chains.entrySet()) {
            List<Rule> rules = e.getValue();
            if (!e.getKey().startsWith("MESHC-T-")) continue;
            List<Rule.Branch> bs = new ArrayList<>();
            double left = 1;
            boolean complete = false;
            for (Rule r : rules) {
                if (r.verdict().kind() != Rule.Kind.DNAT || complete) throw new TraceError(file, r.line(), "a DNAT chain holds only DNAT branches, the last without statistic");
                Rule.Branch b = r.verdict().targets().get(0);
                double p = b.share(); // the rule's probability; 1 when unconditional
                bs.add(new Rule.Branch(b.addr(), null, b.line(), left * p));
                left *= 1 - p;
                if (p == 1) complete = true;
            }
            if (!complete) throw new TraceError(file, rs.chainLines.get(e.getKey()), "DNAT chain without an unconditional last branch");
            Rule first = rules.get(0);
            rules.clear();
            rules.add(new Rule(file, first.line(), first.text(), List.of(), new Rule.Verdict(Rule.Kind.DNAT, null, List.copyOf(bs), null)));
        }
    }

    /** Words, or double-quoted strings without their quotes (what {@code "([^"]*)"|(\\S+)} finds, without a regex). */
    private static List<String> tokens(String l) {
        List<String> out = new ArrayList<>();
        int i = 0, n = l.length();
        while (i < n) {
            char c = l.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '"' && l.indexOf('"', i + 1) > 0) {
                int end = l.indexOf('"', i + 1);
                out.add(l.substring(i + 1, end));
                i = end + 1;
            } else {
                int j = i;
                while (j < n && !Character.isWhitespace(l.charAt(j))) j++;
                out.add(l.substring(i, j));
                i = j;
            }
        }
        return out;
    }

    private static final Pattern U32 = Re.of("0>>22&0x3C@(\\d+)(?:>>(\\d+))?(?:&(0x[0-9a-fA-F]+))?=(0x[0-9a-fA-F]+|\\d+)");

    private void rule(String l) throws TraceError {
        List<String> t = tokens(l);
        String chain = t.get(1);
        if (!rs.chains.containsKey(chain)) throw err("rule for an undeclared chain", l);
        List<Rule.Match> ms = new ArrayList<>();
        Rule.Verdict v = null;
        double probability = 1;
        boolean neg = false;
        for (int k = 2; k < t.size(); k++) {
            String o = t.get(k);
            if (o.equals("!")) {
                neg = true;
                continue;
            }
            boolean n = neg;
            neg = false;
            String a = k + 1 < t.size() ? t.get(k + 1) : null;
            switch (o) {
                case "-i", "-o" -> {
                    k++;
                    boolean in = o.equals("-i");
                    ms.add(p -> Pkt.ifMatch(a, in ? p.iif : p.oif) != n ? 0 : -1);
                }
                case "-s", "-d" -> {
                    k++;
                    if (a == null || !Ip.isPrefix(a)) throw err("bad address", l);
                    Ip.Prefix pf = Ip.Prefix.parse(a);
                    boolean s = o.equals("-s");
                    ms.add(p -> pf.contains(s ? p.src : p.dst) != n ? 0 : -1);
                }
                case "-p" -> {
                    k++;
                    if (!List.of("tcp", "udp", "icmp", "gre").contains(a) || n) throw err("bad protocol", l);
                    ms.add(p -> a.equals(p.proto) ? 0 : -1);
                }
                case "--dport" -> {
                    k++;
                    int port = port(a, l);
                    ms.add(p -> p.dport == port ? 0 : -1);
                }
                case "-m" -> {
                    k++;
                    if (!List.of("rpfilter", "comment", "conntrack", "u32", "statistic").contains(a)) throw err("unknown match " + a, l);
                }
                case "--invert" -> ms.add(p -> p.routeDev.apply(p.src).equals(p.iif) ? -1 : 0); // rpfilter --invert: the source does not route back out of iif
                case "--comment" -> k++;
                case "--ctstate" -> {
                    k++;
                    if (!a.equals("INVALID") && !a.equals("RELATED")) throw err("unknown ctstate", l);
                    ms.add(p -> -1); // evaluated packets are neither invalid nor related
                }
                case "--ctdir" -> {
                    k++;
                    boolean reply = a.equals("REPLY");
                    if (!reply && !a.equals("ORIGINAL")) throw err("bad ctdir", l);
                    ms.add(p -> p.reply == reply ? 0 : -1);
                }
                case "--ctproto" -> {
                    k++;
                    ms.add(p -> a.equals(p.proto) ? 0 : -1);
                }
                case "--ctorigsrc", "--ctorigdst", "--ctreplsrc" -> {
                    k++;
                    if (a == null || !Ip.isPrefix(a)) throw err("bad address", l);
                    Ip.Prefix pf = Ip.Prefix.parse(a);
                    ms.add(switch (o) {
                        case "--ctorigsrc" -> p -> pf.contains(p.ctOrigSrc) ? 0 : -1;
                        case "--ctorigdst" -> p -> pf.contains(p.ctOrigDst) ? 0 : -1;
                        default -> p -> pf.contains(p.ctReplSrc) ? 0 : -1;
                    });
                }
                case "--ctorigdstport" -> {
                    k++;
                    int port = port(a, l);
                    ms.add(p -> p.dport == port ? 0 : -1);
                }
                case "--u32" -> {
                    k++;
                    Matcher u = U32.matcher(a == null ? "" : a);
                    if (!u.matches()) throw err("u32 expression not meshc's", l);
                    int off = Integer.parseInt(u.group(1));
                    int shift = u.group(2) == null ? 0 : Integer.parseInt(u.group(2));
                    long mask = u.group(3) == null ? 0xffffffffL : Long.decode(u.group(3));
                    long val = Long.decode(u.group(4));
                    ms.add(p -> p.th != null && (((p.thBits(off * 8, 32) >>> shift) & mask) == val) != n ? 0 : -1);
                }
                case "--mode" -> {
                    k++;
                    if (!"random".equals(a)) throw err("statistic mode", l);
                }
                case "--probability" -> {
                    k++;
                    try {
                        probability = Double.parseDouble(a);
                    } catch (RuntimeException e) {
                        throw err("bad probability", l);
                    }
                }
                case "-j" -> {
                    k++;
                    v = switch (a) {
                        case "ACCEPT" -> Rule.Verdict.of(Rule.Kind.ACCEPT);
                        case "DROP" -> Rule.Verdict.of(Rule.Kind.DROP);
                        case "RETURN" -> Rule.Verdict.of(Rule.Kind.RETURN);
                        case "REJECT" -> Rule.Verdict.of(Rule.Kind.REJECT);
                        case "MASQUERADE" -> Rule.Verdict.of(Rule.Kind.MASQUERADE);
                        case "DNAT" -> null;
                        default -> {
                            if (!rs.chains.containsKey(a)) throw err("jump to an undeclared chain", l);
                            yield Rule.Verdict.to(Rule.Kind.JUMP, a);
                        }
                    };
                    if (a.equals("DNAT")) {
                        if (k + 2 >= t.size() || !t.get(k + 1).equals("--to-destination") || !Ip.isAddr(t.get(k + 2))) throw err("DNAT needs --to-destination ADDRESS", l);
                        v = new Rule.Verdict(Rule.Kind.DNAT, null, List.of(new Rule.Branch(Ip.parse(t.get(k + 2)), null, ln, probability)), null);
                        k += 2;
                    } else if (a.equals("REJECT") && k + 1 < t.size()) {
                        if (!t.get(k + 1).equals("--reject-with") || k + 2 >= t.size() || !t.get(k + 2).equals("tcp-reset")) throw err("reject option", l);
                        k += 2;
                    }
                }
                default -> throw err("unknown option " + o, l);
            }
        }
        if (v == null) throw err("rule without -j", l);
        if (probability != 1 && v.kind() != Rule.Kind.DNAT) throw err("statistic outside a DNAT branch", l);
        Rule rule = new Rule(file, ln, l, List.copyOf(ms), v);
        rs.add(chain, rule);
        if (chain.equals("MESHC-FLOWS")) {
            java.util.regex.Matcher f = FLOW.matcher(l);
            if (f.matches() && Ip.isAddr(f.group(2)) && Ip.isAddr(f.group(3)) && Ip.isAddr(f.group(4))) {
                rs.index(chain, IptParser::flowKey, f.group(1) + " " + Ip.parse(f.group(2)) + " " + Ip.parse(f.group(3)) + " " + Ip.parse(f.group(4))
                        + " " + Integer.parseInt(f.group(5)), rule);
            }
        }
        if (chain.equals("MESHC-FLOWS") || chain.equals("MESHC-EGRESS") || chain.equals("MESHC-CONTAINER-IN") && v.kind() == Rule.Kind.ACCEPT && l.contains(" -s ")
                || chain.equals("MESHC-SNAT") || chain.equals("MESHC-DNAT") && l.contains(" -s ")
                || chain.startsWith("MESHC-T-") || chain.equals("MESHC-TO-MESHC") && l.contains("--ctorigsrc")) {
            if (v.kind() != Rule.Kind.DROP) rs.entries.put(ln, l);
        }
    }


    /** A per-flow rule exactly as meshc writes it: indexed by its conntrack tuple. */
    private static final Pattern FLOW = Pattern.compile("-A MESHC-FLOWS -m conntrack --ctproto (tcp|udp) --ctorigsrc (\\S+) --ctorigdst (\\S+)"
            + " --ctreplsrc (\\S+) --ctorigdstport (\\d{1,5}) -j ACCEPT");

    private static Object flowKey(Pkt p) {
        return p.proto + " " + p.ctOrigSrc + " " + p.ctOrigDst + " " + p.ctReplSrc + " " + p.dport;
    }

    private int port(String a, String l) throws TraceError {
        if (a == null || !Re.matches(a, "\\d{1,5}") || Integer.parseInt(a) > 65535) throw err("bad port", l);
        return Integer.parseInt(a);
    }

}

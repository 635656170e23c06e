package dev.meshc.trace;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Chains of one firewall file and a small interpreter (jump, goto, return, base-chain policy accept). */
final class Ruleset {
    final String file;
    final Map<String, List<Rule>> chains = new LinkedHashMap<>();
    final Map<String, Integer> chainLines = new LinkedHashMap<>();
    /** Every rule and set element line an evaluation has used (verify reports the unused ones). */
    final java.util.Set<Integer> used = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Lines of set/map elements and rules that a flow may use: what verify expects to see used. */
    final java.util.TreeMap<Integer, String> entries = new java.util.TreeMap<>();

    /**
     * A chain of exact-match rules that all ACCEPT (iptables' MESHC-FLOWS: one rule per flow) is looked up by its
     * packet key instead of being run rule by rule; the first rule with a key wins, as in the chain.
     */
    record Index(java.util.function.Function<Pkt, Object> key, Map<Object, Rule> rules) {
    }

    final Map<String, Index> indexes = new java.util.HashMap<>();

    void index(String chain, java.util.function.Function<Pkt, Object> key, Object k, Rule r) {
        indexes.computeIfAbsent(chain, c -> new Index(key, new java.util.HashMap<>())).rules().putIfAbsent(k, r);
    }

    /** The rules of a chain a packet can match: all of them, or for an indexed chain the one its key names. */
    private List<Rule> candidates(String chain, List<Rule> rules, Pkt p) {
        Index ix = indexes.get(chain);
        if (ix == null || ix.rules().size() != rules.size()) return rules; // edited or unindexed: run it rule by rule
        Rule r = ix.rules().get(ix.key().apply(p));
        return r == null ? List.of() : List.of(r);
    }

    Ruleset(String file) {
        this.file = file;
    }

    /** The end of an evaluation: the deciding rule (null: fell off a base chain, accepted by policy). */
    record Outcome(Rule.Kind kind, Rule rule, int elementLine, Rule.Branch vmapBranch, List<Rule> via) {
        int line() {
            return elementLine > 0 ? elementLine : rule == null ? 0 : rule.line();
        }
    }

    private Rule lastMatched;

    /** Runs a base chain; falling off it is its policy (accept), reported with the last rule that matched. */
    synchronized Outcome run(String chain, Pkt p) throws TraceError {
        p.lastElement = 0;
        lastMatched = null;
        Outcome o = exec(chain, p, 0, null, new ArrayList<>());
        if (p.lastElement > 0) used.add(p.lastElement);
        if (o != null) return o;
        return new Outcome(Rule.Kind.ACCEPT, lastMatched, p.lastElement > 0 ? p.lastElement : lastMatched == null ? chainLines.getOrDefault(chain, 0) : 0, null, List.of());
    }

    private Outcome exec(String chain, Pkt p, int depth, Rule.Branch via, List<Rule> stack) throws TraceError {
        List<Rule> rules = chains.get(chain);
        if (rules == null) throw new TraceError(file, 0, "no chain " + chain);
        if (depth > 16) throw new TraceError(file, chainLines.getOrDefault(chain, 0), "chains nest deeper than meshc's");
        for (Rule r : candidates(chain, rules, p)) {
            int el = r.test(p);
            if (el < 0) continue;
            used.add(r.line());
            if (el > 0) used.add(el);
            lastMatched = r;
            switch (r.verdict().kind()) {
                case RETURN:
                    return null;
                case JUMP: {
                    stack.add(r);
                    Outcome o = exec(r.verdict().chain(), p, depth + 1, null, stack);
                    if (o != null) return o;
                    stack.remove(stack.size() - 1);
                    continue;
                }
                case GOTO:
                    stack.add(r);
                    return exec(r.verdict().chain(), p, depth + 1, null, stack);
                case VMAP: {
                    Rule.Branch b = r.verdict().vmap().apply(p);
                    if (b == null) continue; // no element: the rule does not match
                    used.add(b.line());
                    stack.add(r);
                    Outcome o = exec(b.chain(), p, depth + 1, b, stack);
                    return o == null ? null : new Outcome(o.kind(), o.rule(), o.elementLine(), b, o.via());
                }
                default:
                    for (Rule.Branch t : r.verdict().targets()) used.add(t.line());
                    return new Outcome(r.verdict().kind(), r, el, via, List.copyOf(stack));
            }
        }
        return null;
    }

    void add(String chain, Rule r) {
        chains.computeIfAbsent(chain, k -> new ArrayList<>()).add(r);
    }
}

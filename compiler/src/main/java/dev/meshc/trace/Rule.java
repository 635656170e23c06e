package dev.meshc.trace;

import java.util.List;

/**
 * One parsed rule of either firewall: a conjunction of matches and a verdict. A match returns -1 when it
 * does not match, 0 when it matches, or the line of the set element that made it match.
 */
record Rule(String file, int line, String text, List<Match> matches, Verdict verdict) {
    interface Match {
        int test(Pkt p);
    }

    enum Kind { ACCEPT, DROP, REJECT, RETURN, JUMP, GOTO, DNAT, MASQUERADE, VMAP }

    /** targets: DNAT backends (with the line and share of each branch); vmap: key -> (chain, element line). */
    record Verdict(Kind kind, String chain, List<Branch> targets, java.util.function.Function<Pkt, Branch> vmap) {
        static Verdict of(Kind k) {
            return new Verdict(k, null, List.of(), null);
        }

        static Verdict to(Kind k, String chain) {
            return new Verdict(k, chain, List.of(), null);
        }
    }

    /** A DNAT branch (backend address, its line, its share of new flows) or a vmap element (chain, line). */
    record Branch(int addr, String chain, int line, double share) {
    }

    /** Matches all, or -1; the element line if one matched. */
    int test(Pkt p) {
        int el = 0;
        for (Match m : matches) {
            int r = m.test(p);
            if (r < 0) return -1;
            el = Math.max(el, r);
        }
        return el;
    }
}

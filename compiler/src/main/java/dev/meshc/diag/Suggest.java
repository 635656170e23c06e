package dev.meshc.diag;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * "did you mean" for misspelt names and keys: the closest known name within edit distance 2, when it
 * is the only one that close. When several are equally close (node5 among node1..node4) naming one
 * would be a guess, so nothing is suggested; the caller may list the names instead. Callers pass only
 * names that are themselves valid, so a suggestion is never something that would fail again.
 *
 * <p>Comparing each wrong name with every known one cost 23 s for an inventory of 5,000 services whose
 * 50,000 containers all named a missing service. Two names within edit distance 2 become equal after
 * at most two deletions from each (a substitution is one deletion on both sides, an insertion one on
 * one side), so the known names are indexed by their deletion variants (built on the first miss) and a
 * wrong name is compared only with the names that share one of its variants; answers are memoised.
 */
public final class Suggest {
    static final int MAX_DISTANCE = 2;
    /** Longer names are not compared (hostile input must not cost quadratic time per name). */
    static final int MAX_LENGTH = 64;

    private final List<String> known;
    private Map<String, List<Integer>> byVariant;
    private final Map<String, java.util.Optional<String>> answers = new HashMap<>();

    public Suggest(Collection<String> known) {
        this.known = List.copyOf(known);
    }

    /** "; did you mean 'x'?" or the empty string. */
    public String among(String wrong) {
        return closest(wrong).map(best -> "; did you mean '" + best + "'?").orElse("");
    }

    /** The one closest known name; empty when none is close or several are equally close. */
    public java.util.Optional<String> closest(String wrong) {
        return answers.computeIfAbsent(wrong, this::find);
    }

    private java.util.Optional<String> find(String wrong) {
        if (wrong.length() > MAX_LENGTH) return java.util.Optional.empty();
        if (byVariant == null) {
            byVariant = new HashMap<>();
            for (int i = 0; i < known.size(); i++) {
                if (known.get(i).length() > MAX_LENGTH) continue;
                for (String v : variants(known.get(i))) byVariant.computeIfAbsent(v, k -> new ArrayList<>(1)).add(i);
            }
        }
        int best = -1, bestDistance = MAX_DISTANCE + 1;
        boolean tied = false;
        for (String v : variants(wrong)) {
            for (int i : byVariant.getOrDefault(v, List.of())) {
                if (i == best) continue;
                int d = distance(wrong, known.get(i), MAX_DISTANCE + 1);
                if (d < bestDistance) {
                    best = i;
                    bestDistance = d;
                    tied = false;
                } else if (d == bestDistance && d <= MAX_DISTANCE) {
                    tied = true;
                }
            }
        }
        return best < 0 || tied ? java.util.Optional.empty() : java.util.Optional.of(known.get(best));
    }

    /** The name and every string made from it by deleting one or two characters. */
    static Set<String> variants(String s) {
        Set<String> out = new HashSet<>();
        out.add(s);
        for (int i = 0; i < s.length(); i++) {
            String one = s.substring(0, i) + s.substring(i + 1);
            out.add(one);
            for (int j = i; j < one.length(); j++) out.add(one.substring(0, j) + one.substring(j + 1));
        }
        return out;
    }

    /** Levenshtein distance, or {@code cap} when it is at least that. */
    static int distance(String a, String b, int cap) {
        if (Math.abs(a.length() - b.length()) >= cap || a.length() > MAX_LENGTH || b.length() > MAX_LENGTH) return cap;
        int[] prev = new int[b.length() + 1], cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return Math.min(prev[b.length()], cap);
    }
}

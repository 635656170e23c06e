package dev.meshc.diag;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/** The indexed "did you mean" gives exactly what comparing with every known name gives. */
class SuggestTest {

    /** The oracle: every known name compared; the one name at the smallest distance ≤ 2, or nothing on a tie. */
    static String bruteForce(String wrong, List<String> known) {
        String best = null;
        int bestDistance = Suggest.MAX_DISTANCE + 1, atBest = 0;
        for (String k : known) {
            int d = Suggest.distance(wrong, k, Suggest.MAX_DISTANCE + 1);
            if (d < bestDistance) {
                best = k;
                bestDistance = d;
                atBest = 1;
            } else if (d == bestDistance && d <= Suggest.MAX_DISTANCE) {
                atBest++;
            }
        }
        return best == null || atBest > 1 ? "" : "; did you mean '" + best + "'?";
    }

    @Provide
    Arbitrary<String> name() { // a small alphabet, so that near misses are common
        return Arbitraries.strings().withChars("abc-1").ofMinLength(0).ofMaxLength(7);
    }

    @Provide
    Arbitrary<List<String>> knownNames() {
        return name().list().ofMaxSize(40).map(l -> new ArrayList<>(new TreeSet<>(l)));
    }

    @Property(tries = 3000)
    void agreesWithComparingEveryName(@ForAll("knownNames") List<String> known, @ForAll("name") String wrong1,
                                      @ForAll("name") String wrong2) {
        Suggest s = new Suggest(known);
        for (String wrong : List.of(wrong1, wrong2, wrong1)) assertEquals(bruteForce(wrong, known), s.among(wrong), wrong + " among " + known);
    }

    @Test
    void examples() {
        Suggest s = new Suggest(List.of("cache", "db", "web"));
        assertEquals("; did you mean 'db'?", s.among("dc"));
        assertEquals("; did you mean 'cache'?", s.among("cahce"));
        assertEquals("", s.among("frontend"));
        assertEquals("", s.among("x".repeat(1000)));
        Suggest tie = new Suggest(List.of("ab", "ba")); // "aa" is one substitution from both: a guess, so nothing
        assertEquals("", tie.among("aa"));
        Suggest nodes = new Suggest(List.of("node1", "node2", "node3", "node4"));
        assertEquals("", nodes.among("node5"), "node1..node4 are all one substitution away");
        assertEquals("; did you mean 'node2'?", nodes.among("nod2"));
    }
}

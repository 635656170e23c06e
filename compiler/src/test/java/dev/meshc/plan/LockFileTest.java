package dev.meshc.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.meshc.diag.Diagnostic;
import dev.meshc.diag.Diagnostics;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The lock parser is a hand-written line scan (split and regex per line were the slowest step of a
 * one-host compile at 100,000 containers); it must accept and reject exactly what the regex form did.
 */
class LockFileTest {
    private static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern INDEX = Pattern.compile("[1-9][0-9]{0,8}");

    /** The specification: the regex parser this replaced. */
    private static Lock reference(String text, List<Integer> badLines) {
        Map<String, Lock.Entry> entries = new TreeMap<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) continue;
            String[] f = line.split("\\s+");
            if (f.length != 3 || !NAME.matcher(f[0]).matches() || !NAME.matcher(f[1]).matches() || !INDEX.matcher(f[2]).matches()) {
                badLines.add(i + 1);
                continue;
            }
            if (entries.put(f[0], new Lock.Entry(f[1], Integer.parseInt(f[2]))) != null) badLines.add(i + 1);
        }
        return Lock.of(entries);
    }

    @Provide
    Arbitrary<String> lockText() {
        Arbitrary<String> name = Arbitraries.oneOf(
                Arbitraries.strings().withChars("abc019-").ofMinLength(0).ofMaxLength(5),
                Arbitraries.strings().withChars("ab").ofLength(63),
                Arbitraries.strings().withChars("ab").ofLength(64),
                Arbitraries.of("web-1", "vm-a", "A", "a_b", "é", "-a", "a-"));
        Arbitrary<String> index = Arbitraries.oneOf(
                Arbitraries.strings().withChars("0123456789").ofMinLength(0).ofMaxLength(11),
                Arbitraries.of("1", "07", "999999999", "1000000000", "+1", "-1", "1x"));
        Arbitrary<String> sep = Arbitraries.of(" ", "  ", "\t", " \t ", "\u000b", "\f", "\r", "\u00a0", "\u2028", "\u001c");
        Arbitrary<String> line = Arbitraries.oneOf(
                Arbitraries.strings().withChars("abc01 -\t#").ofMaxLength(12),
                name.list().ofMinSize(1).ofMaxSize(4).flatMap(ns -> sep.list().ofSize(ns.size()).map(ss -> {
                    StringBuilder b = new StringBuilder();
                    for (int i = 0; i < ns.size(); i++) b.append(ns.get(i)).append(ss.get(i));
                    return b.toString();
                })),
                Arbitraries.oneOf(name).flatMap(c -> name.flatMap(v -> index.flatMap(k -> sep.map(s -> c + s + v + s + k)))));
        return line.list().ofMaxSize(8).map(ls -> String.join("\n", ls));
    }

    @Property(tries = 3000)
    void acceptsAndRejectsExactlyWhatTheRegexParserDid(@ForAll("lockText") String text) {
        List<Integer> expectedBad = new java.util.ArrayList<>();
        Lock expected = reference(text, expectedBad);
        Diagnostics diags = new Diagnostics();
        Lock actual = LockFile.parse("meshc.lock", text, diags);
        assertEquals(expected, actual);
        assertEquals(expectedBad, diags.sorted().stream().map(d -> d.at().line()).toList());
    }

    @Example
    void roundTripsTheFormattedLock() {
        Lock lock = Lock.of(Map.of("web-1", new Lock.Entry("vm-a", 3), "db-1", new Lock.Entry("vm-b", 1)));
        Diagnostics diags = new Diagnostics();
        assertEquals(lock, LockFile.parse("meshc.lock", LockFile.format(lock), diags));
        assertEquals(List.<Diagnostic>of(), diags.sorted());
    }
}

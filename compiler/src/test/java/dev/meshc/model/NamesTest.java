package dev.meshc.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** The hand-written DNS-label check accepts exactly what the regex of docs/design.md accepts. */
class NamesTest {
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

    @Provide
    Arbitrary<String> names() {
        return Arbitraries.oneOf(
                Arbitraries.strings().withChars("az09-").ofMinLength(0).ofMaxLength(70),
                Arbitraries.strings().withChars("a-").ofMinLength(60).ofMaxLength(66),
                Arbitraries.strings().withChars("aZ_.-/ ;\n\u00e9\uff41\u0430").ofMinLength(0).ofMaxLength(8),
                Arbitraries.strings().ofMinLength(0).ofMaxLength(8));
    }

    @Property(tries = 5000)
    void agreesWithTheRegex(@ForAll("names") String s) {
        assertEquals(DNS_LABEL.matcher(s).matches(), Names.isDnsLabel(s), s);
    }
}

package dev.meshc.render;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.nio.charset.StandardCharsets;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/** The template writer's bytes equal {@code String.getBytes(UTF_8)} of everything written, however the text is cut into writes. */
class Utf8BufferTest {

    @Provide
    Arbitrary<String> text() {
        // ASCII, 2- and 3-byte characters, surrogate pairs, and lone surrogates of both halves.
        Arbitrary<Character> chars = Arbitraries.oneOf(
                Arbitraries.chars().range(' ', '~'),
                Arbitraries.chars().range('\u00a0', '\u07ff'),
                Arbitraries.chars().range('\u0800', '\ud7ff'),
                Arbitraries.chars().range('\ud800', '\udfff'),
                Arbitraries.chars().range('\ue000', '\uffff'));
        Arbitrary<String> pairs = Arbitraries.integers().between(0x10000, 0x10ffff).map(Character::toString);
        return Arbitraries.oneOf(chars.map(String::valueOf), pairs).list().ofMaxSize(60).map(l -> String.join("", l));
    }

    @Property(tries = 2000)
    void equalsGetBytesForAnyCutIntoWrites(@ForAll("text") String s, @ForAll @IntRange(min = 1, max = 7) int piece,
                                            @ForAll @IntRange(min = 0, max = 2) int how) {
        Utf8Buffer b = new Utf8Buffer(1);
        for (int i = 0; i < s.length(); i += piece) {
            int end = Math.min(s.length(), i + piece);
            switch (how) {
                case 0 -> b.write(s.substring(i, end));
                case 1 -> b.write(s.toCharArray(), i, end - i);
                default -> {
                    for (int k = i; k < end; k++) b.write(s.charAt(k));
                }
            }
        }
        assertArrayEquals(s.getBytes(StandardCharsets.UTF_8), b.toByteArray());
    }

    @Example
    void aPairSplitAcrossTwoWritesIsOneCharacter() {
        Utf8Buffer b = new Utf8Buffer(4);
        String emoji = "\ud83d\ude00";
        b.write("a" + emoji.charAt(0));
        b.write(emoji.charAt(1) + "b");
        assertArrayEquals(("a" + emoji + "b").getBytes(StandardCharsets.UTF_8), b.toByteArray());
    }
}

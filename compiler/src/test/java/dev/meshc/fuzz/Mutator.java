package dev.meshc.fuzz;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/** Mutations of a valid inventory's text: structural (lines), lexical (tokens) and raw bytes. */
public final class Mutator {
    static final String[] VALUES = {"''", "-1", "0", "99999999999999999999", "1.5", "~", "[]", "{}", "\"a;b\"", "../x",
            "*x", "&a 1", "!!binary AA==", ".nan", "true", "no", "255.255.255.255", "0.0.0.0/0", "1.2.3.4/33",
            "\"\\u0000\"", "10.0.0.0/8", "169.254.0.0/16", "240.0.0.0/4", "x:y", "db:", ":pg", "\"\\n\"", "!java x",
            "65536", "4294967296", "-0", "0o17", "0x1F", "1e400", "'", "\"", "{a: [1, {b: 2}]}", "null", "vm-a", "App"};
    static final String[] FRAGMENTS = {"\t", "{", "}", "[", "]", ":", "#", "'", "\"", "\n", " ", "- ", "&a ", "*a", "? ",
            "---\n", "%YAML 1.2\n", "\u00e9", "\ufeff", "\u0000", "\\", "|", ">"};

    private Mutator() {
    }

    public static byte[] mutate(String text, long seed) {
        Random r = new Random(seed);
        int rounds = 1 + r.nextInt(3);
        String t = text;
        for (int i = 0; i < rounds; i++) t = once(t, r);
        byte[] b = t.getBytes(StandardCharsets.UTF_8);
        if (r.nextInt(10) == 0 && b.length > 0) { // raw byte damage, possibly invalid UTF-8
            b = Arrays.copyOf(b, b.length);
            b[r.nextInt(b.length)] = (byte) r.nextInt(256);
        }
        return b;
    }

    static String once(String text, Random r) {
        List<String> lines = new ArrayList<>(Arrays.asList(text.split("\n", -1)));
        if (lines.isEmpty()) return text;
        int i = r.nextInt(lines.size());
        switch (r.nextInt(8)) {
            case 0 -> lines.remove(i);
            case 1 -> lines.add(i, lines.get(i));
            case 2 -> {
                int j = r.nextInt(lines.size());
                String tmp = lines.get(i);
                lines.set(i, lines.get(j));
                lines.set(j, tmp);
            }
            case 3 -> lines.set(i, replaceValue(lines.get(i), r));
            case 4 -> {
                String l = lines.get(i);
                int at = l.isEmpty() ? 0 : r.nextInt(l.length() + 1);
                lines.set(i, l.substring(0, at) + FRAGMENTS[r.nextInt(FRAGMENTS.length)] + l.substring(at));
            }
            case 5 -> {
                String joined = String.join("\n", lines);
                return joined.substring(0, r.nextInt(joined.length() + 1));
            }
            case 6 -> lines.set(i, (r.nextBoolean() ? " " : "") + lines.get(i).replaceFirst("^ {1,2}", r.nextBoolean() ? "" : "   "));
            default -> lines.set(i, lines.get(i).replaceFirst("[a-z][a-z0-9-]*", VALUES[r.nextInt(VALUES.length)]));
        }
        return String.join("\n", lines);
    }

    static String replaceValue(String line, Random r) {
        int colon = line.indexOf(": ");
        if (colon < 0) return line + " " + VALUES[r.nextInt(VALUES.length)];
        int end = line.indexOf(',', colon);
        if (end < 0) end = line.indexOf('}', colon);
        if (end < 0) end = line.length();
        return line.substring(0, colon + 2) + VALUES[r.nextInt(VALUES.length)] + line.substring(end);
    }
}

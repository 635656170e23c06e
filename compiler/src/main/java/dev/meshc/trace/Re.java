package dev.meshc.trace;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/** Compiled patterns, once each: the parsers match every line of a host against their fixed shapes (compiling per line cost 99% of a parse). */
final class Re {
    private static final Map<String, Pattern> CACHE = new ConcurrentHashMap<>();

    private Re() {
    }

    static Pattern of(String regex) {
        return CACHE.computeIfAbsent(regex, Pattern::compile);
    }

    /** {@code s.matches(regex)}, with the pattern compiled once. */
    static boolean matches(String s, String regex) {
        return of(regex).matcher(s).matches();
    }

    /** {@code s} split at every {@code sep} (a plain string, not a pattern). */
    static String[] split(String s, String sep) {
        java.util.List<String> out = new java.util.ArrayList<>();
        int from = 0, at;
        while ((at = s.indexOf(sep, from)) >= 0) {
            out.add(s.substring(from, at));
            from = at + sep.length();
        }
        out.add(s.substring(from));
        return out.toArray(new String[0]);
    }
}

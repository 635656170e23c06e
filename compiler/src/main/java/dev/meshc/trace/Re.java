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
}

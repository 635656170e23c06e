package dev.meshc.cli;

import java.util.LinkedHashMap;
import java.util.Map;

/** The exit codes of docs/design.md ("Command line"; DesignDocTest checks that table against these). */
public final class ExitCode {
    public static final int OK = 0;
    public static final int INVALID = 1;
    public static final int USAGE = 2;
    public static final int DRIFT = 3;
    public static final int IO = 4;
    /** trace: the flow is not delivered (the verdict names why); verify: the files' reachability differs from the inventory's intent. */
    public static final int NOT_DELIVERED = 5;
    /** review: the two trees behave differently (flows, containers, balancing, a disruptive apply). */
    public static final int CHANGED = 6;
    /** review: a change of a kind that breaks applications (a VIP moved). */
    public static final int UNEXPECTED_CHANGE = 7;
    /** A bug in meshc: never expected; the message asks for a report. Also compile and check when the files they produce fail verify. */
    public static final int INTERNAL = 70;

    /**
     * Every code and what it means, in ascending order: --help's footer and the man page are generated
     * from this, and a test holds the README to it. A parenthesis is detail the one-line footer leaves out.
     */
    public static final Map<Integer, String> MEANINGS = meanings();

    private ExitCode() {
    }

    private static Map<Integer, String> meanings() {
        Map<Integer, String> m = new LinkedHashMap<>();
        m.put(OK, "success");
        m.put(INVALID, "invalid inventory (diagnostics printed)");
        m.put(USAGE, "usage error");
        m.put(DRIFT, "drift (check found differences, or --locked would change the lock)");
        m.put(IO, "I/O failure");
        m.put(NOT_DELIVERED, "not delivered (trace), or the files reach other than the inventory allows (verify)");
        m.put(CHANGED, "behaviour changed (review: flows, containers, balancing, or an apply that disturbs traffic)");
        m.put(UNEXPECTED_CHANGE, "unexpected change (review: a VIP moved)");
        m.put(INTERNAL, "a bug in meshc (never expected; please report it), including files compile or check produced that fail verify (witness flow printed)");
        return java.util.Collections.unmodifiableMap(m);
    }

    /** A meaning without its parenthesised detail. */
    public static String brief(String meaning) {
        int i = meaning.indexOf(" (");
        return i < 0 ? meaning : meaning.substring(0, i);
    }

    /** The footer of {@code meshc --help}: {@code Exit codes: 0 success, 1 invalid inventory, ...}. */
    static String footer() {
        StringBuilder sb = new StringBuilder("Exit codes:");
        MEANINGS.forEach((code, meaning) -> sb.append(sb.length() > 11 ? ", " : " ").append(code).append(' ').append(brief(meaning)));
        return sb.append('.').toString();
    }
}

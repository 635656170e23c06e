package dev.meshc.plan;

import dev.meshc.diag.Code;
import dev.meshc.diag.Diagnostics;
import dev.meshc.diag.SourceSpan;
import dev.meshc.model.Names;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code meshc.lock}: one {@code <container> <vm> <index>} line per container, sorted, with a
 * header comment. Plain text so that a review shows exactly which container got which index.
 */
public final class LockFile {
    static final String HEADER = "# meshc.lock: container indices assigned by meshc. Commit this file.\n"
            + "# <container> <vm> <index>\n";
    /** Where a VM's next allocation starts when that is not one past its highest index: {@code @next <vm> <index>}. */
    static final String NEXT = "@next";

    private LockFile() {
    }

    public static Lock parse(String file, String text, Diagnostics diags) {
        // A hand-rolled line scan: a lock has a line per container (100,000 at the largest fleets), and
        // split/regex per line made this the slowest step of a one-host compile.
        Map<String, Lock.Entry> entries = new TreeMap<>();
        Map<String, Integer> next = new TreeMap<>();
        int lineNo = 0;
        for (int start = 0, n = text.length(); start <= n; ) {
            int end = text.indexOf('\n', start);
            if (end < 0) end = n;
            lineNo++;
            String line = text.substring(start, end).strip();
            start = end + 1;
            if (line.isEmpty() || line.startsWith("#")) continue;
            SourceSpan at = new SourceSpan(file, lineNo, 1);
            if (line.startsWith(NEXT)) {
                String[] nf = fields(line.substring(NEXT.length()) + " x");
                if (nf == null || !line.startsWith(NEXT + " ") || !Names.isDnsLabel(nf[0]) || !isIndex(nf[1])) {
                    diags.error(Code.L500, at, "expected '@next <vm> <index>', found '" + abbreviate(line) + "'");
                } else if (next.put(nf[0], Integer.parseInt(nf[1])) != null) {
                    diags.error(Code.L500, at, "VM '" + nf[0] + "' has two @next lines");
                }
                continue;
            }
            String[] f = fields(line);
            if (f == null || !Names.isDnsLabel(f[0]) || !Names.isDnsLabel(f[1]) || !isIndex(f[2])) {
                diags.error(Code.L500, at, "expected '<container> <vm> <index>', found '" + abbreviate(line) + "'");
                continue;
            }
            if (entries.put(f[0], new Lock.Entry(f[1], Integer.parseInt(f[2]))) != null) {
                diags.error(Code.L500, at, "container '" + f[0] + "' is listed twice");
            }
        }
        return Lock.of(entries, next);
    }

    /** Exactly three whitespace-separated fields, or null. */
    static String[] fields(String line) {
        String[] f = new String[3];
        int n = 0;
        int i = 0;
        int len = line.length();
        while (i < len) {
            while (i < len && isSpace(line.charAt(i))) i++;
            if (i == len) break;
            int s = i;
            while (i < len && !isSpace(line.charAt(i))) i++;
            if (n == 3) return null;
            f[n++] = line.substring(s, i);
        }
        return n == 3 ? f : null;
    }

    /** Regex {@code \\s}: space, tab, LF, VT, FF, CR (not the Unicode spaces {@code strip()} also removes). */
    private static boolean isSpace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\u000b' || c == '\f' || c == '\r';
    }

    /** {@code [1-9][0-9]{0,8}}. */
    static boolean isIndex(String s) {
        int n = s.length();
        if (n == 0 || n > 9 || s.charAt(0) == '0') return false;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') return false;
        }
        return true;
    }

    public static String format(Lock lock) {
        StringBuilder sb = new StringBuilder(HEADER);
        lock.entries().forEach((c, e) -> sb.append(c).append(' ').append(e.vm()).append(' ').append(e.index()).append('\n'));
        lock.next().forEach((vm, n) -> sb.append(NEXT).append(' ').append(vm).append(' ').append(n).append('\n'));
        return sb.toString();
    }

    private static String abbreviate(String s) {
        String clean = s.replaceAll("[^\\x20-\\x7e]", "?");
        return clean.length() > 60 ? clean.substring(0, 60) + "..." : clean;
    }
}

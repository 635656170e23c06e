package dev.meshc.plan;

import dev.meshc.diag.Code;
import dev.meshc.diag.Diagnostics;
import dev.meshc.diag.SourceSpan;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * {@code meshc.lock}: one {@code <container> <vm> <index>} line per container, sorted, with a
 * header comment. Plain text so that a review shows exactly which container got which index.
 */
public final class LockFile {
    private static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    static final String HEADER = "# meshc.lock: container indices assigned by meshc. Commit this file.\n"
            + "# <container> <vm> <index>\n";

    private LockFile() {
    }

    public static Lock parse(String file, String text, Diagnostics diags) {
        Map<String, Lock.Entry> entries = new TreeMap<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) continue;
            String[] f = line.split("\\s+");
            SourceSpan at = new SourceSpan(file, i + 1, 1);
            if (f.length != 3 || !NAME.matcher(f[0]).matches() || !NAME.matcher(f[1]).matches() || !f[2].matches("[1-9][0-9]{0,8}")) {
                diags.error(Code.L500, at, "expected '<container> <vm> <index>', found '" + abbreviate(line) + "'");
                continue;
            }
            if (entries.put(f[0], new Lock.Entry(f[1], Integer.parseInt(f[2]))) != null) {
                diags.error(Code.L500, at, "container '" + f[0] + "' is listed twice");
            }
        }
        return Lock.of(entries);
    }

    public static String format(Lock lock) {
        StringBuilder sb = new StringBuilder(HEADER);
        lock.entries().forEach((c, e) -> sb.append(c).append(' ').append(e.vm()).append(' ').append(e.index()).append('\n'));
        return sb.toString();
    }

    private static String abbreviate(String s) {
        String clean = s.replaceAll("[^\\x20-\\x7e]", "?");
        return clean.length() > 60 ? clean.substring(0, 60) + "..." : clean;
    }
}

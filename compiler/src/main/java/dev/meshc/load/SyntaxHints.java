package dev.meshc.load;

import dev.meshc.diag.SourceSpan;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The YAML parser's errors in the user's terms, at the line that holds the mistake. snakeyaml-engine
 * notices most mistakes later than they are made, and in its own vocabulary: a missing space after a
 * colon is "mapping values are not allowed here" on the next line; a list item among map entries is
 * "expected &lt;block end&gt;, but found '?'"; a tab is "found character '\t' that cannot start any token".
 * The common mistakes are recognised from the source text; anything else keeps the parser's words.
 */
final class SyntaxHints {
    /** {@code key:value} with no space: YAML reads it as one plain word. */
    private static final Pattern NO_SPACE = Pattern.compile("^(\\s*(?:- )?)([A-Za-z0-9_.-]+):([^\\s/][^#]*?)\\s*(?:#.*)?$");
    private static final Pattern LIST_ITEM = Pattern.compile("^(\\s*)- (?:name:\\s*)?([^\\s:#]+)?");

    /** A message and where it belongs. */
    record Hint(SourceSpan at, String message) {
    }

    private SyntaxHints() {
    }

    /**
     * @param line    1-based line of the parser's problem mark
     * @param column  1-based column of the problem mark
     * @param contextLine 1-based line of the context mark (where the collection being parsed began), or 0
     * @return a better message, or null to keep the parser's
     */
    static Hint explain(String file, String text, String problem, int line, int column, int contextLine) {
        String[] lines = text.split("\n", -1);
        if (problem == null) return null;
        if (problem.contains("cannot start any token") && line >= 1 && line <= lines.length && lines[line - 1].indexOf('\t') >= 0) {
            int tab = lines[line - 1].indexOf('\t');
            return new Hint(new SourceSpan(file, line, tab + 1), "a tab character; YAML indents with spaces only: replace the tab with spaces");
        }
        if (problem.contains("mapping values are not allowed")) {
            for (int l = line; l >= Math.max(1, line - 5); l--) {
                Hint h = noSpace(file, lines, l);
                if (h != null) return h;
            }
            return null;
        }
        if (problem.contains("expected <block end>, but found '?'") && contextLine >= 1 && contextLine <= lines.length) {
            // a map entry where a list was going on: the list began at the context mark
            Matcher m = LIST_ITEM.matcher(lines[contextLine - 1]);
            if (m.find()) return listItem(file, contextLine, m);
        }
        if (problem.contains("expected <block end>, but found '-'") && line >= 1 && line <= lines.length) {
            Matcher m = LIST_ITEM.matcher(lines[line - 1]);
            if (m.find()) return listItem(file, line, m);
        }
        return null;
    }

    private static Hint listItem(String file, int line, Matcher m) {
        String name = m.group(2) != null ? m.group(2) : "<name>";
        return new Hint(new SourceSpan(file, line, m.group(1).length() + 1), "a list item ('- ...') among map entries: VMs, services, endpoints,"
                + " relationships and containers are maps keyed by name; write '" + name + ": {...}' instead of '- ...'");
    }

    /** The hint for {@code key:value} (no space after the colon) on {@code line}, or null. */
    static Hint noSpace(String file, String[] lines, int line) {
        if (line < 1 || line > lines.length) return null;
        Matcher m = NO_SPACE.matcher(lines[line - 1]);
        if (!m.matches()) return null;
        String fixed = m.group(2) + ": " + m.group(3);
        return new Hint(new SourceSpan(file, line, m.group(1).length() + m.group(2).length() + 1), "missing space after ':'; YAML reads '"
                + m.group(2) + ":" + m.group(3) + "' as one word; write '" + fixed + "'");
    }

    /** For a string value found where a map was expected: "; ..." when it looks like {@code key:value}, else "". */
    static String noSpaceInValue(String value) {
        Matcher m = Pattern.compile("([A-Za-z0-9_.-]+):(\\S.*)").matcher(value);
        return m.matches() && !value.contains("://") ? "; missing space after ':'? write '" + m.group(1) + ": " + m.group(2) + "'" : "";
    }
}

package dev.meshc.cli;

import dev.meshc.diag.Diagnostic;
import dev.meshc.diag.SourceSpan;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.node.ArrayNode;

/** The one place diagnostics are printed: text (with the source line and a caret), JSON, or GitHub annotations. */
final class Reporter {
    enum Format { text, json, github }

    private final Format format;
    private final boolean color;
    private final Map<String, String> sources;

    Reporter(Format format, boolean color, Map<String, String> sources) {
        this.format = format;
        this.color = color;
        this.sources = sources;
    }

    void print(List<Diagnostic> diags, PrintWriter err, PrintWriter out) {
        print(diags, null, err, out);
    }

    /** @param skipped which later checks did not run because of these errors, or null when all ran */
    void print(List<Diagnostic> diags, String skipped, PrintWriter err, PrintWriter out) {
        switch (format) {
            case json -> out.print(json(diags));
            case github -> {
                diags.forEach(d -> out.println(github(d)));
                if (skipped != null) out.println("::notice title=meshc::" + escapeData(skipped + "; fix these errors and run again for the rest"));
            }
            case text -> {
                diags.forEach(d -> err.print(text(d)));
                long errors = diags.stream().filter(Diagnostic::isError).count();
                if (errors > 0) err.println(errors + " error" + (errors == 1 ? "" : "s") + (skipped == null ? "." : "; " + skipped
                        + ", so there may be more: fix these and run again."));
            }
        }
        out.flush();
        err.flush();
    }

    String text(Diagnostic d) {
        StringBuilder sb = new StringBuilder();
        String label = d.severity().label() + "[" + d.code().name() + "]";
        if (color) label = (d.isError() ? "\u001b[1;31m" : "\u001b[1;33m") + label + "\u001b[0m";
        sb.append(printable(d.at().toString())).append(": ").append(label).append(": ").append(printable(d.message())).append('\n');
        String line = sourceLine(d.at());
        if (line != null) {
            sb.append("    ").append(line).append('\n');
            sb.append("    ").append(" ".repeat(Math.max(0, Math.min(d.at().column() - 1, line.length())))).append("^\n");
        }
        return sb.toString();
    }

    /** Where each line of each source starts: built once per file (50,000 diagnostics used to rescan the file each). */
    private final Map<String, int[]> lineStarts = new java.util.HashMap<>();

    private String sourceLine(SourceSpan at) {
        String src = sources.get(at.file());
        if (src == null || !at.hasPosition()) return null;
        int[] starts = lineStarts.computeIfAbsent(at.file(), f -> lineStarts(src));
        if (at.line() < 1 || at.line() > starts.length) return null;
        int start = starts[at.line() - 1];
        int end = src.indexOf('\n', start);
        if (end < 0) end = src.length();
        if (end > start && src.charAt(end - 1) == '\r') end--; // CRLF
        String line = src.substring(start, Math.min(end, start + 200)) + (end - start > 200 ? "..." : "");
        return printable(line.replace("\ufeff", "").replace('\t', '\u2192')); // a tab shown as one visible column, not a space
    }

    static int[] lineStarts(String src) {
        int n = 1;
        for (int i = 0; i < src.length(); i++) if (src.charAt(i) == '\n') n++;
        int[] starts = new int[n];
        for (int i = 0, l = 1; i < src.length(); i++) if (src.charAt(i) == '\n') starts[l++] = i + 1;
        return starts;
    }

    /**
     * Never echo what could drive a terminal or disguise the text: C0 and C1 control characters and
     * the bidirectional controls ("trojan source") become '?', a tab a space. Messages quote names
     * already; this also covers source lines, file names and any message that did not.
     */
    static String printable(String s) {
        StringBuilder sb = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            char r = c == '\t' ? ' ' : c < 0x20 || c >= 0x7f && c <= 0x9f || c >= 0x202a && c <= 0x202e || c >= 0x2066 && c <= 0x2069
                    || c == 0x200e || c == 0x200f || c == 0x061c ? '?' : c;
            if (r != c && sb == null) sb = new StringBuilder(s.length()).append(s, 0, i);
            if (sb != null) sb.append(r);
        }
        return sb == null ? s : sb.toString();
    }

    static String json(List<Diagnostic> diags) {
        ObjectMapper om = new ObjectMapper();
        ArrayNode arr = om.createArrayNode();
        for (Diagnostic d : diags) {
            arr.addObject().put("severity", d.severity().label()).put("code", d.code().name())
                    .put("file", d.at().file()).put("line", d.at().line()).put("column", d.at().column())
                    .put("message", d.message());
        }
        return om.writerWithDefaultPrettyPrinter().writeValueAsString(arr) + "\n";
    }

    static String github(Diagnostic d) {
        String kind = d.isError() ? "error" : "warning";
        StringBuilder sb = new StringBuilder("::").append(kind).append(" file=").append(escapeProperty(d.at().file()));
        if (d.at().hasPosition()) sb.append(",line=").append(d.at().line()).append(",col=").append(d.at().column());
        sb.append(",title=").append(escapeProperty("meshc " + d.code().name()));
        return sb.append("::").append(escapeData(d.code().name() + ": " + d.message())).toString();
    }

    /** GitHub's workflow-command escaping, so a message cannot start another command. */
    private static String escapeData(String s) {
        return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A");
    }

    private static String escapeProperty(String s) {
        return escapeData(s).replace(":", "%3A").replace(",", "%2C");
    }

    static String plural(long n, String word) {
        return String.format(Locale.ROOT, "%d %s%s", n, word, n == 1 ? "" : "s");
    }
}

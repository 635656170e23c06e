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
        switch (format) {
            case json -> out.print(json(diags));
            case github -> diags.forEach(d -> out.println(github(d)));
            case text -> {
                diags.forEach(d -> err.print(text(d)));
                long errors = diags.stream().filter(Diagnostic::isError).count();
                if (errors > 0) err.println(errors + " error" + (errors == 1 ? "" : "s") + ".");
            }
        }
        out.flush();
        err.flush();
    }

    String text(Diagnostic d) {
        StringBuilder sb = new StringBuilder();
        String label = d.severity().label() + "[" + d.code().name() + "]";
        if (color) label = (d.isError() ? "\u001b[1;31m" : "\u001b[1;33m") + label + "\u001b[0m";
        sb.append(d.at()).append(": ").append(label).append(": ").append(d.message()).append('\n');
        String line = sourceLine(d.at());
        if (line != null) {
            sb.append("    ").append(line).append('\n');
            sb.append("    ").append(" ".repeat(Math.max(0, Math.min(d.at().column() - 1, line.length())))).append("^\n");
        }
        return sb.toString();
    }

    private String sourceLine(SourceSpan at) {
        String src = sources.get(at.file());
        if (src == null || !at.hasPosition()) return null;
        int start = 0;
        for (int l = 1; l < at.line(); l++) {
            start = src.indexOf('\n', start);
            if (start < 0) return null;
            start++;
        }
        int end = src.indexOf('\n', start);
        String line = src.substring(start, end < 0 ? src.length() : end);
        if (line.length() > 200) line = line.substring(0, 200) + "...";
        // Never echo control characters (a hostile file could drive the terminal).
        return line.replace("\ufeff", "").replace('\t', ' ').replaceAll("[\\p{Cntrl}&&[^\t]]", "?");
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

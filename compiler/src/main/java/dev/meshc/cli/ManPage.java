package dev.meshc.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * Writes meshc(1) in roff from the same picocli model as --help, so the two never disagree. Run
 * by the build (exec-maven-plugin, package phase) into compiler/target/man/meshc.1. Hand-written
 * instead of picocli-codegen's ManPageGenerator + asciidoctor: that route needs JRuby in the
 * build to reach roff, and embeds the build date unless told otherwise.
 */
public final class ManPage {
    private ManPage() {
    }

    /**
     * {@code ManPage MAN [COMPLETION]}: writes the man page and, if a second path is given, the bash
     * completion (picocli's {@code AutoComplete} main does not create its output directory, so on a
     * clean build it failed and the release had no completion), creating parent directories.
     */
    public static void main(String[] args) throws IOException {
        write(Path.of(args.length > 0 ? args[0] : "meshc.1"), render());
        if (args.length > 1) write(Path.of(args[1]), picocli.AutoComplete.bash("meshc", Main.commandLine()));
    }

    private static void write(Path out, String text) throws IOException {
        if (out.getParent() != null) Files.createDirectories(out.getParent());
        Files.writeString(out, text, StandardCharsets.UTF_8);
    }

    static String render() {
        CommandLine cl = Main.commandLine();
        CommandSpec top = cl.getCommandSpec();
        StringBuilder sb = new StringBuilder();
        sb.append(".TH MESHC 1 \"\" \"meshc ").append(esc(Version.get())).append("\" \"User Commands\"\n");
        sb.append(".SH NAME\nmeshc \\- compile a container-overlay inventory into per-host network artifacts\n");
        sb.append(".SH SYNOPSIS\n.B meshc\n.I command\n[\\fIoptions\\fR]\n");
        sb.append(".SH DESCRIPTION\n");
        for (String d : top.usageMessage().description()) sb.append(esc(d)).append('\n');
        sb.append(".SH COMMANDS\n");
        for (var e : cl.getSubcommands().entrySet()) {
            if (e.getKey().equals("help") || e.getKey().equals("generate-completion")) continue;
            CommandSpec spec = e.getValue().getCommandSpec();
            if (spec.usageMessage().hidden()) continue;
            sb.append(".SS meshc ").append(esc(e.getKey()));
            for (PositionalParamSpec p : spec.positionalParameters()) {
                sb.append(' ').append(p.arity().min == 0 ? "[" : "").append(esc(p.paramLabel())).append(p.arity().min == 0 ? "]" : "");
            }
            sb.append('\n');
            for (String d : spec.usageMessage().description()) sb.append(esc(d)).append('\n');
            for (OptionSpec o : spec.options()) {
                if (o.hidden() || List.of("--help", "--version").contains(o.longestName())) continue;
                sb.append(".TP\n.B ").append(esc(String.join(", ", o.names())));
                if (o.arity().max > 0) sb.append(" \\fI").append(esc(o.paramLabel())).append("\\fR");
                sb.append('\n');
                String desc = String.join(" ", o.description()).replace("${DEFAULT-VALUE}", String.valueOf(o.defaultValue()));
                sb.append(esc(desc)).append('\n');
            }
        }
        sb.append(".SH EXIT STATUS\n");
        ExitCode.MEANINGS.forEach((code, meaning) -> sb.append(".TP\n.B ").append(code).append('\n').append(esc(meaning)).append('\n'));
        sb.append(".SH ENVIRONMENT\n.TP\n.B NO_COLOR\nNever colour diagnostics (they are only coloured on a terminal anyway).\n");
        sb.append(".TP\n.B MESHC_TIMING\nPrint the time each compile phase takes.\n");
        sb.append(".SH FILES\n.TP\n.B meshc.lock\nContainer indices beside the inventory; commit it.\n");
        sb.append(".TP\n.B OUT/manifest.json\nEvery file compile wrote, with sha256 and size; compile deletes only files listed here.\n");
        sb.append(".SH EXAMPLES\n.nf\nmeshc validate inventory.yml\nmeshc compile inventory.yml \\-o out \\-\\-locked\n")
                .append("meshc check inventory.yml \\-\\-golden golden/\nmeshc explain 247.221.80.48 inventory.yml\n.fi\n");
        return sb.toString();
    }

    /** roff: escape backslashes and hyphens; a line must not start with '.' or '\''. */
    static String esc(String s) {
        String e = s.replace("\\", "\\e").replace("-", "\\-");
        return e.startsWith(".") || e.startsWith("'") ? "\\&" + e : e;
    }
}

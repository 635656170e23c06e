package dev.meshc.cli;

import dev.meshc.diag.Diagnostic;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "meshc", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Compile a YAML inventory of VMs, services, containers and relationships into per-host",
                "network artifacts for a stateless container overlay (systemd-networkd, nftables, iptables, ip -batch)."},
        subcommands = {ValidateCommand.class, CompileCommand.class, CheckCommand.class, PlanCommand.class,
                ExplainCommand.class, VipCommand.class, SchemaCommand.class, GraphCommand.class, FleetCommand.class, TrainCommand.class, TraceCommand.class, VerifyCommand.class, ReviewCommand.class, CommandLine.HelpCommand.class,
                picocli.AutoComplete.GenerateCompletion.class})
public final class Main {
    private static PrintWriter out = new PrintWriter(new java.io.OutputStreamWriter(System.out, StandardCharsets.UTF_8), true);
    private static PrintWriter err = new PrintWriter(new java.io.OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs meshc in-process (tests use this); returns the exit code. */
    public static int run(String... args) {
        return run(out, err, args);
    }

    public static synchronized int run(PrintWriter stdout, PrintWriter stderr, String... args) {
        PrintWriter savedOut = out, savedErr = err;
        out = stdout;
        err = stderr;
        try {
            CommandLine cl = commandLine();
            cl.setOut(stdout);
            cl.setErr(stderr);
            boolean debug = List.of(args).contains("--debug");
            cl.setParameterExceptionHandler((ex, a) -> {
                stderr.println("meshc: " + ex.getMessage());
                CommandLine c = ex.getCommandLine();
                stderr.println("Try '" + c.getCommandSpec().qualifiedName() + " --help' for more information.");
                stderr.flush();
                return ExitCode.USAGE;
            });
            cl.setExecutionExceptionHandler((ex, c, parsed) -> {
                if (ex instanceof CommandLine.ParameterException pe) {
                    stderr.println("meshc: " + pe.getMessage());
                    stderr.flush();
                    return ExitCode.USAGE;
                }
                if (ex instanceof UsageError u) {
                    stderr.println("meshc: " + u.getMessage());
                    stderr.flush();
                    return ExitCode.USAGE;
                }
                if (ex instanceof dev.meshc.emit.OutputTree.NotOwned no) { // the command line named the wrong directory
                    stderr.println("meshc: refusing to write: " + no.getMessage());
                    stderr.flush();
                    return ExitCode.USAGE;
                }
                if (ex instanceof IOException || ex instanceof UncheckedIOException) {
                    stderr.println("meshc: I/O error: " + describe(ex));
                    if (debug) ex.printStackTrace(stderr);
                    stderr.flush();
                    return ExitCode.IO;
                }
                if (ex instanceof dev.meshc.render.Templates.TemplateFailure) {
                    stderr.println("meshc: " + ex.getMessage());
                    if (debug) ex.printStackTrace(stderr);
                    stderr.flush();
                    return ExitCode.IO;
                }
                stderr.println("meshc: internal error (" + ex.getClass().getSimpleName() + "); please report it with the inventory."
                        + (debug ? "" : " Run with --debug for details."));
                if (debug) ex.printStackTrace(stderr);
                stderr.flush();
                return ExitCode.INTERNAL;
            });
            try {
                return cl.execute(args);
            } catch (StackOverflowError | OutOfMemoryError e) {
                stderr.println("meshc: the input exhausted " + (e instanceof OutOfMemoryError ? "memory" : "the stack") + "; see the README's limits");
                stderr.flush();
                return ExitCode.INTERNAL;
            }
        } finally {
            stdout.flush();
            stderr.flush();
            out = savedOut;
            err = savedErr;
        }
    }

    /** The command line with its generated parts (the exit codes), for running and for the man page and completion. */
    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.getCommandSpec().usageMessage().footer("", ExitCode.footer());
        return cl;
    }

    private static String describe(Throwable ex) {
        if (ex instanceof java.nio.file.NoSuchFileException n) return n.getFile() + ": no such file or directory";
        if (ex instanceof java.nio.file.AccessDeniedException a) return a.getFile() + ": permission denied";
        if (ex instanceof java.nio.file.NotDirectoryException n) return n.getFile() + ": not a directory";
        if (ex instanceof java.nio.file.FileAlreadyExistsException f) return f.getFile() + ": exists already, and is in the way";
        if (ex instanceof java.nio.file.DirectoryNotEmptyException f) return f.getFile() + ": directory not empty";
        if (ex instanceof java.nio.file.FileSystemException f) {
            return f.getFile() + ": " + (f.getReason() != null ? f.getReason() : f.getClass().getSimpleName());
        }
        return ex.getMessage();
    }

    static dev.meshc.render.Templates templates(java.nio.file.Path dir) throws IOException {
        if (dir != null) UsageError.unlessDirectory("--templates", dir, "does not exist");
        return dir == null ? dev.meshc.render.Templates.bundled() : dev.meshc.render.Templates.fromDirectory(dir);
    }

    /** Compiles in memory and compares with {@code dir}, every file as it is rendered ({@code check}: trusts nothing on disk). */
    static java.util.List<dev.meshc.emit.FileChange> drift(dev.meshc.plan.Frontend.Result r, java.nio.file.Path dir,
                                                         java.nio.file.Path templatesDir) throws IOException {
        return drift(r, dir, templatesDir, p -> true, dev.meshc.emit.Previous.NONE);
    }

    /**
     * As above for {@code plan --against OUT}, keeping the bytes of changed files only where {@code keepBytes}
     * says (plan needs few), and, as compile does, not rendering hosts whose inputs are those OUT was compiled from.
     */
    static java.util.List<dev.meshc.emit.FileChange> drift(dev.meshc.plan.Frontend.Result r, java.nio.file.Path dir,
                                                         java.util.function.Predicate<String> keepBytes,
                                                         dev.meshc.emit.Previous previous) throws IOException {
        return drift(r, dir, null, keepBytes, previous);
    }

    private static java.util.List<dev.meshc.emit.FileChange> drift(dev.meshc.plan.Frontend.Result r, java.nio.file.Path dir,
                                                                 java.nio.file.Path templatesDir,
                                                                 java.util.function.Predicate<String> keepBytes,
                                                                 dev.meshc.emit.Previous previous) throws IOException {
        var comparison = new dev.meshc.emit.Drift.Comparison(dir, keepBytes);
        String context = previous == dev.meshc.emit.Previous.NONE ? null : dev.meshc.emit.Compilation.bundledContext(Version.get());
        var output = dev.meshc.emit.Compilation.stream(r, r.plan().get().vms().keySet(), templates(templatesDir), Version.get(), comparison,
                () -> { }, previous, context);
        comparison.accept(output.manifest());
        return comparison.finish();
    }

    static PrintWriter out() {
        return out;
    }

    static PrintWriter err() {
        return err;
    }

    /** Prints diagnostics in the chosen format; colours only on a terminal and never with NO_COLOR. */
    static void report(CommonOptions common, Inputs in, List<Diagnostic> diags) {
        report(common, in, diags, null);
    }

    /** @param skipped which later checks did not run (the front end's {@code skipped}), or null */
    static void report(CommonOptions common, Inputs in, List<Diagnostic> diags, String skipped) {
        if (diags.isEmpty()) return;
        boolean color = System.console() != null && System.getenv("NO_COLOR") == null && common.format == Reporter.Format.text;
        List<Diagnostic> shown = common.quiet ? diags.stream().filter(Diagnostic::isError).toList() : diags;
        new Reporter(common.format, color, in.sources).print(shown, skipped, err, out);
    }
}

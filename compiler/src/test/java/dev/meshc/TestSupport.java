package dev.meshc;

import dev.meshc.emit.Compilation;
import dev.meshc.plan.Frontend;
import dev.meshc.render.Artifact;
import dev.meshc.render.Templates;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** Shared helpers: the repository root, examples, in-memory compiles and in-process CLI runs. */
public final class TestSupport {
    private TestSupport() {
    }

    public static Path root() {
        return Path.of(System.getProperty("meshc.root", "..")).toAbsolutePath().normalize();
    }

    public static List<String> examples() {
        try (Stream<Path> s = Files.list(root().resolve("examples"))) {
            return s.filter(p -> Files.isRegularFile(p.resolve("inventory.yml")))
                    .map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Path example(String name) {
        return root().resolve("examples").resolve(name).resolve("inventory.yml");
    }

    public static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Frontend.Result frontend(String label, String yaml, String lock) {
        return Frontend.run(label, yaml.getBytes(StandardCharsets.UTF_8), label + ".lock", lock);
    }

    /** Compiles an example with its committed lock, entirely in memory. */
    public static Map<String, byte[]> compileExample(String name) {
        Path inv = example(name);
        Path lock = inv.resolveSibling("meshc.lock");
        return compile("examples/" + name + "/inventory.yml", read(inv), Files.exists(lock) ? read(lock) : null);
    }

    public static Map<String, byte[]> compile(String label, String yaml, String lock) {
        Frontend.Result r = frontend(label, yaml, lock);
        if (!r.ok()) throw new AssertionError("invalid inventory: " + r.diagnostics());
        List<Artifact> artifacts = Compilation.render(r, r.plan().get().vms().keySet(), Templates.bundled(), dev.meshc.cli.Version.get());
        Map<String, byte[]> out = new LinkedHashMap<>();
        for (Artifact a : artifacts) out.put(a.path(), a.bytes());
        return out;
    }

    /** The result of running the CLI in-process. */
    public record Run(int code, String out, String err) {
    }

    public static Run meshc(String... args) {
        long t0 = System.nanoTime();
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = dev.meshc.cli.Main.run(new PrintWriter(out), new PrintWriter(err), args);
        timed("meshc " + args[0], t0);
        return new Run(code, out.toString(), err.toString());
    }

    private static final String TIMING = System.getenv("MESHC_TEST_TIMING");
    private static final long T0 = System.nanoTime();
    private static boolean timingWarned;

    /**
     * With {@code MESHC_TEST_TIMING=FILE} set, appends "start TAB milliseconds TAB what" (start: milliseconds since this class loaded) for a step of the
     * kernel harness that started at {@code startNanos} (where a slow kernel, e.g. an emulated
     * guest's, spends its time); otherwise does nothing.
     */
    public static void timed(String what, long startNanos) {
        if (TIMING == null) return;
        String line = String.format(java.util.Locale.ROOT, "%d\t%d\t%s%n", (startNanos - T0) / 1_000_000, (System.nanoTime() - startNanos) / 1_000_000, what.replace('\n', ' '));
        synchronized (TestSupport.class) {
            try {
                java.nio.file.Files.writeString(java.nio.file.Path.of(TIMING), line, java.nio.file.StandardOpenOption.CREATE,
                        java.nio.file.StandardOpenOption.APPEND);
            } catch (java.io.IOException e) { // a log for people, never a reason for a test to fail
                if (!timingWarned) System.err.println("MESHC_TEST_TIMING: cannot write " + TIMING + ": " + e);
                timingWarned = true;
            }
        }
    }
}

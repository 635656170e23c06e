package dev.meshc.kernel;

import static org.junit.jupiter.api.Assertions.fail;

import dev.meshc.TestSupport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A guest kernel for scenarios this machine's kernel cannot run (no ip_gre, sit, ipip, ...):
 * {@code compiler/src/test/guest/guest.sh} boots Debian's own linux-image-amd64 (fetched with
 * apt-get download, extracted, never installed; cached by package version) under QEMU, KVM when it
 * boots and TCG otherwise, and runs a command chrooted into this machine's root file system (shared
 * read-only over 9p), with a results directory shared read-write. Nothing here knows about GRE: a
 * scenario names the modules it needs.
 */
public final class Guest {
    /** Exit code of guest.sh when the guest could not be prepared or did not reach the command. */
    public static final int NOT_STARTED = 100;
    /** Exit code of guest.sh when the command did not finish (time limit, guest crash). */
    public static final int NOT_FINISHED = 101;

    private Guest() {
    }

    /** What a guest run left: the command's exit code, its output and the harness's, the console. */
    public record Run(int code, String log, String harness, String console, Path results, double seconds) {
        /** The end of everything a reader needs when a run fails. */
        public String report() {
            return "guest exit " + code + " after " + Math.round(seconds) + " s; results in " + results + "\n--- harness\n" + harness
                    + "\n--- command output (last 200 lines)\n" + tail(log, 200) + "\n--- console (last 30 lines)\n" + tail(console, 30);
        }
    }

    static String tail(String s, int lines) {
        List<String> l = s.lines().toList();
        return String.join("\n", l.subList(Math.max(0, l.size() - lines), l.size()));
    }

    public static Path script() {
        return TestSupport.root().resolve("compiler/src/test/guest/guest.sh");
    }

    /** Root and the tools guest.sh needs; outside CI a machine without them skips, under CI=true it fails. */
    public static void require() {
        List<String> missing = missing();
        if (missing.isEmpty()) return;
        String why = "the guest kernel needs " + String.join(", ", missing) + " (apt-get install qemu-system-x86 busybox-static cpio kmod)";
        if ("true".equals(System.getenv("CI"))) fail(why + " (CI=true: the guest suite must run; .ci/run installs them)");
        Assumptions.abort(why);
    }

    /** What the guest lacks here (root, tools); empty when it can start. */
    public static List<String> missing() {
        List<String> missing = new ArrayList<>();
        if (!"root".equals(System.getProperty("user.name"))) missing.add("root");
        for (String tool : List.of("qemu-system-x86_64", "busybox", "cpio", "dpkg-deb", "apt-get", "depmod", "modprobe", "flock")) {
            if (Kernel.run(List.of("sh", "-c", "command -v " + tool + " || test -x /sbin/" + tool), 10).code() != 0) missing.add(tool);
        }
        return missing;
    }

    /**
     * Runs {@code command} in the guest with {@code env} added to a plain environment, in
     * {@code cwd}, after loading {@code modules}; {@code results} (emptied first) is shared
     * read-write at the same path.
     */
    public static Run run(List<String> command, Map<String, String> env, List<String> modules, Path cwd, Path results, int timeoutSeconds) {
        return run(command, env, modules, cwd, results, timeoutSeconds, 0, 2);
    }

    /** {@link #run} with qemu at scheduling niceness {@code nice} (guest.sh --nice) and {@code cpus} virtual CPUs (--smp). */
    public static Run run(List<String> command, Map<String, String> env, List<String> modules, Path cwd, Path results, int timeoutSeconds, int nice,
            int cpus) {
        long t0 = System.nanoTime();
        try {
            if (Files.exists(results)) {
                try (Stream<Path> s = Files.walk(results)) {
                    for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
                }
            }
            Files.createDirectories(results);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> cmd = new ArrayList<>(List.of("bash", script().toString(), "--results", results.toString(), "--cwd", cwd.toString(),
                "--timeout", String.valueOf(timeoutSeconds), "--modules", String.join(",", modules), "--nice", String.valueOf(nice), "--smp", String.valueOf(cpus)));
        env.forEach((k, v) -> cmd.addAll(List.of("--env", k + "=" + v)));
        cmd.add("--");
        cmd.addAll(command);
        // the kernel package is downloaded and unpacked on the first run: allow for it
        Kernel.Result r = Kernel.run(cmd, timeoutSeconds + 1200);
        return new Run(r.code(), read(results.resolve("guest.log")), r.out(), read(results.resolve("console.log")), results,
                (System.nanoTime() - t0) / 1e9);
    }

    /**
     * Runs JUnit test classes in one JVM inside the guest ({@link GuestMain}: exit 0 only if tests
     * ran and none failed, was aborted or skipped), with this JVM's test class path.
     */
    public static Run junit(List<String> classes, Map<String, String> env, List<String> modules, Path results, int timeoutSeconds, int nice, int cpus) {
        // VFORK: a child process is one exec, not two (the default posix_spawn runs jspawnhelper first)
        List<String> cmd = new ArrayList<>(List.of(javaBinary(), "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx768m",
                "-Djdk.lang.Process.launchMechanism=VFORK",
                "-Dmeshc.root=" + TestSupport.root(), "-cp", testClasspath(), GuestMain.class.getName()));
        cmd.addAll(classes);
        return run(cmd, env, modules, TestSupport.root(), results, timeoutSeconds, nice, cpus);
    }

    /** The test class path: surefire's (its forked JVM runs from a manifest-only jar), else this JVM's. */
    public static String testClasspath() {
        return System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    }

    public static String javaBinary() {
        return ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p) : "";
        } catch (IOException e) {
            return e.toString();
        }
    }
}

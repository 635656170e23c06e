package dev.meshc.kernel;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs the real tools (ip, nft, iptables-restore, systemd-networkd) in network namespaces this
 * test made. Outside CI a machine without root or the tools skips; under {@code CI=true} it fails.
 */
public final class Kernel {
    public static final String NETWORKD = "/lib/systemd/systemd-networkd";

    private Kernel() {
    }

    private static volatile String python;

    /**
     * The python3 interpreter itself, resolved once: a version manager's shim (pyenv's runs about
     * thirty processes per start) costs a second per start in an emulated guest kernel.
     */
    public static String python() {
        String p = python;
        if (p == null) {
            Result r = run(List.of("python3", "-c", "import sys; print(sys.executable)"), 60);
            p = r.code() == 0 && !r.out().isBlank() && Files.isExecutable(Path.of(r.out().strip())) ? r.out().strip() : "python3";
            python = p;
        }
        return p;
    }

    public static void require() {
        List<String> missing = missing();
        if (missing.isEmpty()) return;
        String why = "kernel suite needs " + String.join(", ", missing);
        if ("true".equals(System.getenv("CI"))) fail(why + " (CI=true: the kernel suite must run; .ci/run installs them)");
        Assumptions.abort(why);
    }

    /** What the kernel suite lacks here (root, tools); empty when it can run. */
    public static List<String> missing() {
        List<String> missing = new ArrayList<>();
        if (!"root".equals(System.getProperty("user.name"))) missing.add("root");
        for (String tool : List.of("ip", "nft", "iptables-restore", "ip6tables-restore", "bridge", "conntrack", "ethtool", "tcpdump", "python3")) {
            if (run(List.of("sh", "-c", "command -v " + tool), 10).code != 0) missing.add(tool);
        }
        if (!Files.isExecutable(Path.of(NETWORKD))) missing.add(NETWORKD);
        return missing;
    }

    /**
     * The running kernel can create links of {@code kind} (gre, vxlan, sit, ...), tried in a scratch
     * namespace. Skips without, fails under CI=true: a kernel lacking it runs such a scenario in a
     * guest kernel ({@link Guest}).
     */
    public static void requireLinkKind(String kind) {
        if (hasLinkKind(kind)) return;
        String why = "this kernel cannot create " + kind + " links (" + System.getProperty("os.version") + "); "
                + "run the scenario in a guest kernel (GuestGreTest)";
        if ("true".equals(System.getenv("CI"))) fail(why);
        Assumptions.abort(why);
    }

    public static boolean hasLinkKind(String kind) {
        try (Netns ns = new Netns("lk")) {
            String args = switch (kind) {
                case "vxlan" -> "id 1 dstport 4789";
                case "gre", "sit", "ipip" -> "local 192.0.2.1";
                default -> "";
            };
            return ns.exec("ip link add probe0 type " + kind + " " + args).code() == 0;
        }
    }

    /** Output of a finished command. */
    public record Result(int code, String out) {
        public Result orFail(String what) {
            if (code != 0) fail(what + " failed (exit " + code + "):\n" + out);
            return this;
        }
    }

    public static Result run(List<String> cmd, int timeoutSeconds) {
        long t0 = System.nanoTime();
        try {
            return runUntimed(cmd, timeoutSeconds);
        } finally {
            dev.meshc.TestSupport.timed(String.join(" ", cmd), t0);
        }
    }

    private static Result runUntimed(List<String> cmd, int timeoutSeconds) {
        try {
            // Output goes to a file, not a pipe: a command printing more than a pipe holds (4,000
            // routes) would block until the timeout if nobody read it while it ran.
            java.io.File out = java.io.File.createTempFile("meshc-kernel", ".out");
            try {
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out).start();
                p.getOutputStream().close();
                if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor();
                    return new Result(124, Files.readString(out.toPath(), StandardCharsets.UTF_8) + "\n(timed out after " + timeoutSeconds + "s)");
                }
                return new Result(p.exitValue(), Files.readString(out.toPath(), StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out.toPath());
            }
        } catch (IOException e) {
            return new Result(127, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(130, "interrupted");
        }
    }

    public static Result sh(String script) {
        return run(List.of("sh", "-c", script), 120);
    }

    /** A scratch namespace, deleted on close. Names carry the PID so parallel runs do not meet. */
    public static final class Netns implements AutoCloseable {
        public final String name;

        public Netns(String tag) {
            this.name = "mc" + ProcessHandle.current().pid() + tag;
            // one process, not three: each costs a second in an emulated guest kernel
            run(List.of("sh", "-c", "ip netns del " + name + " 2>/dev/null; ip netns add " + name + " && ip -n " + name + " link set lo up"), 30)
                    .orFail("ip netns add " + name);
        }

        public Result exec(String script) {
            return run(List.of("ip", "netns", "exec", name, "sh", "-c", script), 120);
        }

        @Override
        public void close() {
            run(List.of("ip", "netns", "pids", name), 5).out.lines().forEach(pid -> run(List.of("kill", "-9", pid.strip()), 5));
            run(List.of("ip", "netns", "del", name), 10);
        }
    }

    /**
     * Runs systemd-networkd in {@code ns} on {@code confDir} (NOTES.md: read-only /sys so it does
     * not wait for udev) until it has loaded its configuration and enumerated links, or for at most
     * {@code seconds}; returns its log. Configuration warnings are all printed before enumeration ends.
     */
    public static String networkd(String ns, Path confDir, int seconds) {
        String script = "mount -o remount,bind,ro /sys; mount --bind " + confDir.toAbsolutePath() + " /etc/systemd/network; "
                + "mkdir -p /run/systemd/netif; mount -t tmpfs -o mode=0755 tmpfs /run/systemd/netif; "
                + "SYSTEMD_LOG_LEVEL=debug SYSTEMD_LOG_TARGET=console exec " + NETWORKD;
        StringBuilder log = new StringBuilder();
        try {
            Process p = new ProcessBuilder("ip", "netns", "exec", ns, "unshare", "-m", "sh", "-c", script).redirectErrorStream(true).start();
            p.getOutputStream().close();
            Thread reader = new Thread(() -> {
                try (var r = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) {
                        synchronized (log) {
                            log.append(line).append('\n');
                            if (line.contains("Enumeration completed")) log.notifyAll();
                        }
                    }
                } catch (IOException ignored) {
                    // the process was stopped
                }
            });
            reader.start();
            long deadline = System.currentTimeMillis() + seconds * 1000L;
            synchronized (log) {
                while (log.indexOf("Enumeration completed") < 0 && System.currentTimeMillis() < deadline && p.isAlive()) {
                    log.wait(Math.max(1, deadline - System.currentTimeMillis()));
                }
            }
            p.destroy();
            p.waitFor(10, TimeUnit.SECONDS);
            p.destroyForcibly();
            reader.join(2000);
        } catch (IOException e) {
            return e.toString();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (log) {
            return log.toString();
        }
    }

    /** Starts systemd-networkd in the background on {@code confDir}, logging to {@code log}; the caller stops it. */
    public static Process startNetworkd(String ns, Path confDir, Path log) throws IOException {
        String script = "mount -o remount,bind,ro /sys; mount --bind " + confDir.toAbsolutePath() + " /etc/systemd/network; "
                + "mkdir -p /run/systemd/netif; mount -t tmpfs -o mode=0755 tmpfs /run/systemd/netif; "
                + "SYSTEMD_LOG_TARGET=console exec " + NETWORKD; // warnings and errors are logged at the default level
        return new ProcessBuilder("ip", "netns", "exec", ns, "unshare", "-m", "sh", "-c", script)
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /** Lines where networkd complained about a configuration file: unknown keys, bad values, ignored sections. */
    public static List<String> configWarnings(String log) {
        return log.lines().filter(l -> l.matches("^/etc/systemd/network/[^:]+:\\d+: .*") || l.contains("Unknown key")
                || l.contains("Failed to parse") || l.contains("Unknown section")).toList();
    }
}

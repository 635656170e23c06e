package dev.meshc.cli;

import dev.meshc.diag.Code;
import dev.meshc.diag.Diagnostic;
import dev.meshc.diag.SourceSpan;
import dev.meshc.diag.Timings;
import dev.meshc.emit.Compilation;
import dev.meshc.emit.OutputTree;
import dev.meshc.plan.Frontend;
import dev.meshc.plan.LockFile;
import dev.meshc.plan.Plan;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "compile", mixinStandardHelpOptions = true,
        description = {"Compile an inventory into per-host artifacts under OUT.",
                "Writes nothing if the inventory is invalid; rewrites only changed files; removes only files its previous manifest listed.",
                "Updates the lock file unless --locked (then a needed change exits 3)."})
final class CompileCommand implements Callable<Integer> {
    @Mixin
    InventoryInput input;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT", description = "Output directory.")
    Path out;

    @Option(names = "--host", paramLabel = "VM", description = "Compile only this VM's artifacts (repeatable).")
    List<String> hosts = new ArrayList<>();

    @Option(names = "--locked", description = "Fail with exit 3 instead of changing the lock file (CI mode).")
    boolean locked;

    @Option(names = "--templates", paramLabel = "DIR", description = "Use templates from DIR instead of the bundled ones.")
    Path templates;

    @Option(names = "--full", description = "Render every host and compare every file, instead of skipping hosts whose inputs are unchanged"
            + " since the last compile into OUT (restores files edited or deleted by hand there).")
    boolean full;

    @Option(names = "--prune-other-hosts", description = "With --host: allow removing the files of other hosts that an earlier compile wrote into OUT.")
    boolean pruneOtherHosts;

    @Option(names = "--no-verify", description = "Do not verify the hosts written (meshc verify's checks; a difference exits 70 as a bug in meshc):"
            + " the way past such a bug until it is fixed. Custom --templates are never verified.")
    boolean noVerify;

    @Mixin
    CommonOptions common;

    @Override
    public Integer call() throws Exception {
        OutputTree.checkOwnership(out); // before the front end: a wrong -o or --lock fails at once, not after the compile
        Inputs in = input.inputs();
        in.checkLockPath(!locked);
        dev.meshc.render.Templates tpl = Main.templates(templates);
        Frontend.Result tooLarge = in.read();
        // Incremental unless custom templates (their digests are not tracked) or --host (OUT then holds only those hosts).
        String context = templates == null && hosts.isEmpty() ? Compilation.bundledContext(Version.get()) : null;
        OutputTree.Transaction early = null; // OUT's lock, taken before the front end when OUT may already hold this compile
        try {
            if (context != null && !full && tooLarge == null && in.lockText != null && dev.meshc.emit.Manifest.isMeshc(out)) {
                early = new OutputTree(out).begin();
                Timings.mark("lock+recover");
                boolean same = sameInputs(early.previous(), in, context);
                Timings.mark("previous+fingerprint");
                if (same) return unchanged(early.previous(), in);
            }
            tpl.prepareAsync(dev.meshc.render.Renderers.TEMPLATES); // parsed while the front end runs
            return compile(tooLarge != null ? tooLarge : in.run(), in, tpl, context, early);
        } finally {
            if (early != null) early.close();
        }
    }

    /** Whether OUT was written by a compile of these very bytes (inventory, lock, meshc), which changes nothing then. */
    private static boolean sameInputs(dev.meshc.emit.Previous previous, Inputs in, String context) {
        dev.meshc.emit.HostState s = previous.state();
        return s != null && s.inputs().equals(in.fingerprint(context, in.lockText));
    }

    /** The compile of unchanged inputs: nothing parsed, nothing written; the warnings that compile printed, printed again. */
    private Integer unchanged(dev.meshc.emit.Previous previous, Inputs in) {
        Main.report(common, in, previous.state().diagnosticsFor(in.label(), in.lockLabel()));
        if (!common.quiet && common.format == Reporter.Format.text) {
            Main.err().println("meshc: " + out + ": 0 written, " + (previous.state().files() + 1) + " unchanged, 0 removed");
        }
        return ExitCode.OK;
    }

    private Integer compile(Frontend.Result r, Inputs in, dev.meshc.render.Templates tpl, String context, OutputTree.Transaction early)
            throws java.io.IOException {
        if (!r.ok()) {
            Main.report(common, in, r.diagnostics(), r.skipped());
            return ExitCode.INVALID;
        }
        Plan plan = r.plan().get();
        boolean lockChanged = r.lockChanged(); // compares 100,000 entries at the largest fleets: once
        if (locked && lockChanged) {
            List<Diagnostic> all = new ArrayList<>(r.diagnostics());
            int line = in.lockText == null ? 0 : firstDifferentLine(in.lockText, LockFile.format(plan.lock()));
            all.add(Diagnostic.error(Code.L501, new SourceSpan(in.lockLabel(), line, line > 0 ? 1 : 0), lockChangeSummary(r)));
            Main.report(common, in, all);
            return ExitCode.DRIFT;
        }
        Main.report(common, in, r.diagnostics());
        TreeSet<String> selected = new TreeSet<>(hosts.isEmpty() ? plan.vms().keySet() : hosts);
        for (String h : selected) {
            if (!plan.vms().containsKey(h)) {
                Main.err().println("meshc compile: --host " + h + ": no such VM in " + input.inventory
                        + " (VMs: " + String.join(", ", plan.vms().keySet()) + ")");
                return ExitCode.USAGE;
            }
        }
        if (!hosts.isEmpty() && !pruneOtherHosts) {
            List<String> others = otherHosts(out, selected);
            if (!others.isEmpty()) {
                Main.err().println("meshc compile: " + out + " holds the files of other hosts (" + String.join(", ", others.subList(0, Math.min(5, others.size())))
                        + (others.size() > 5 ? ", ..." : "") + ") that an earlier compile wrote; compile --host " + String.join(" --host ", selected)
                        + " would remove them. Give each host's compile its own OUT, or pass --prune-other-hosts");
                return ExitCode.USAGE;
            }
        }
        Main.report(common, in, missingLock(in, out, plan));
        long containers = 0;
        for (String h : selected) containers += plan.containersByVm().getOrDefault(h, List.of()).size();
        long capacity = capacity(Runtime.getRuntime().maxMemory());
        if (containers > capacity) { // refused at once, instead of minutes of garbage collection and an out-of-memory exit
            Main.err().println(String.format(java.util.Locale.ROOT, "meshc compile: %,d containers to compile, but this JVM's heap"
                    + " (%,d MiB) holds about %,d (%,d per GiB of -Xmx); run it with MESHC_JAVA_OPTS=-Xmx%dg", containers,
                    Runtime.getRuntime().maxMemory() >> 20, capacity, CONTAINERS_PER_GIB, (containers + CONTAINERS_PER_GIB - 1) / CONTAINERS_PER_GIB));
            return ExitCode.USAGE;
        }
        OutputTree.Result w;
        Compilation.Output o;
        java.util.Map<String, java.util.Map<String, byte[]>> committed;
        java.io.IOException readBack = null;
        try (OutputTree.Transaction tx = early != null ? early : new OutputTree(out).begin()) {
            Timings.mark("lock+recover");
            dev.meshc.emit.Previous previous = context != null && !full ? tx.previous() : dev.meshc.emit.Previous.NONE;
            Progress progress = Progress.start(common, "rendering hosts", selected.size());
            // The self-check reads the files of the hosts it checks back from OUT: only those this compile rendered
            // (a file of the operator's beside them is not meshc's to answer for).
            boolean check = !noVerify && templates == null;
            java.util.Map<String, java.util.Set<String>> rendered = new java.util.concurrent.ConcurrentHashMap<>();
            Compilation.Sink sink = !check ? tx : new Compilation.Sink() {
                @Override
                public void accept(dev.meshc.render.Artifact a) throws java.io.IOException {
                    note(a);
                    tx.accept(a);
                }

                @Override
                public void accept(dev.meshc.render.Artifact a, String sha256) throws java.io.IOException {
                    note(a);
                    tx.accept(a, sha256);
                }

                @Override
                public void carry(String host, int files) throws java.io.IOException {
                    tx.carry(host, files);
                }

                private void note(dev.meshc.render.Artifact a) {
                    String p = a.path();
                    if (!p.startsWith("hosts/")) return;
                    int slash = p.indexOf('/', 6);
                    if (slash > 6) rendered.computeIfAbsent(p.substring(6, slash), k -> java.util.concurrent.ConcurrentHashMap.newKeySet()).add(p);
                }
            };
            o = Compilation.stream(r, selected, tpl, Version.get(), sink, progress::step, previous, context);
            progress.finish();
            Timings.mark("render+stage");
            // The state vouches for these input bytes: the lock as this compile leaves it, and the warnings it printed.
            String lockAfter = lockChanged ? LockFile.format(plan.lock()) : in.lockText;
            byte[] state = o.hostState() == null ? null : o.hostState().withInputs(in.fingerprint(context, lockAfter), r.diagnostics(), in.label(), in.lockLabel()).encode();
            w = tx.commit(o.manifest(), state);
            Timings.mark("commit");
            // The checked hosts' files as committed, read while OUT is still this compile's (once unlocked, another
            // compile may be rewriting it): what the self-check evaluates is what is on disk, not rendered again.
            try {
                committed = check ? SelfCheck.committed(plan, out, w.written(), rendered) : null;
            } catch (java.io.IOException e) { // OUT is committed: the lock below is still written, then this is reported
                committed = null;
                readBack = e;
            }
        }
        if (lockChanged) writeLock(in.lock, LockFile.format(plan.lock()));
        // The write plan is known here: the hosts in o.rendered() were rendered and their files written or found
        // unchanged (w); every other host's files are exactly as the previous compile left them.
        if (readBack != null) {
            Main.err().println("meshc: " + out + " is written" + (lockChanged ? " and " + in.lock + " updated" : "")
                    + ", but its files could not be read back to check them: " + readBack.getMessage());
            return ExitCode.IO;
        }
        int verified = committed == null ? ExitCode.OK : SelfCheck.verifyCommitted(r, committed, w.written(), null, Main.err());
        if (verified != ExitCode.OK) return verified;
        if (!common.quiet && common.format == Reporter.Format.text) {
            Main.err().println("meshc: " + out + ": " + w.written().size() + " written, " + w.unchangedCount()
                    + " unchanged, " + w.removed().size() + " removed" + (lockChanged ? "; lock updated: " + in.lock : ""));
        }
        return ExitCode.OK;
    }

    /**
     * Containers a compile can hold per GiB of {@code -Xmx}, measured (full compile and no-op recompile into
     * its output, 2,000 VMs, on Java 17 with the launcher's ParallelGC): 125,000 pass with -Xmx1g and
     * 150,000 run out of it on the recompile (which also holds the previous manifest); 250,000 pass with
     * -Xmx2g. The JVM reports a little less than -Xmx as its maximum heap (954 MiB of 1 GiB with
     * ParallelGC), so capacity is reckoned per 900 MiB of that.
     */
    static final long CONTAINERS_PER_GIB = 125_000;

    static long capacity(long maxHeapBytes) {
        return maxHeapBytes == Long.MAX_VALUE ? Long.MAX_VALUE : maxHeapBytes * CONTAINERS_PER_GIB / (900L << 20);
    }

    static String lockChangeSummary(Frontend.Result r) {
        var before = r.previousLock().entries();
        var after = r.plan().get().lock().entries();
        List<String> parts = new ArrayList<>();
        after.forEach((c, e) -> {
            var b = before.get(c);
            if (b == null) parts.add("+" + c + " " + e.vm() + " " + e.index());
            else if (!b.equals(e)) parts.add("~" + c + " " + b.vm() + " " + b.index() + " -> " + e.vm() + " " + e.index());
        });
        before.keySet().stream().filter(c -> !after.containsKey(c)).forEach(c -> parts.add("-" + c));
        String shown = String.join(", ", parts.subList(0, Math.min(parts.size(), 10)));
        return "the lock file would change (" + parts.size() + " entr" + (parts.size() == 1 ? "y" : "ies") + ": " + shown
                + (parts.size() > 10 ? ", ..." : "") + "); run 'meshc compile' without --locked and commit meshc.lock";
    }

    /** The hosts whose files OUT's manifest lists, other than {@code selected}. */
    static List<String> otherHosts(Path out, java.util.Set<String> selected) {
        TreeSet<String> others = new TreeSet<>();
        for (String path : dev.meshc.emit.Manifest.files(out).keySet()) {
            if (!path.startsWith("hosts/")) continue;
            int slash = path.indexOf('/', 6);
            String host = slash < 0 ? path.substring(6) : path.substring(6, slash);
            if (!selected.contains(host)) others.add(host);
        }
        return new ArrayList<>(others);
    }

    /**
     * L503 when there is no lock file but OUT holds an earlier compile: indices are assigned afresh, so
     * containers may get other addresses than the ones deployed. Empty otherwise.
     */
    static List<Diagnostic> missingLock(Inputs in, Path out, Plan plan) {
        if (in.lockText != null || !dev.meshc.emit.Manifest.isMeshc(out)) return List.of();
        boolean assigned = plan.inventory().containers().values().stream().anyMatch(c -> c.index() == null);
        if (!assigned) return List.of();
        return List.of(Diagnostic.warning(Code.L503, SourceSpan.file(in.lockLabel()), "no lock file, but " + out
                + " holds an earlier compile: container indices are assigned afresh, so addresses may move; restore "
                + in.lockLabel() + " (e.g. from version control) or name it with --lock"));
    }

    /** The first line where the lock file on disk and the lock it would become differ (1-based), so annotations attach to it. */
    static int firstDifferentLine(String before, String after) {
        String[] a = before.split("\n", -1), b = after.split("\n", -1);
        int i = 0;
        while (i < a.length && i < b.length && a[i].strip().equals(b[i].strip())) i++;
        return Math.min(i + 1, Math.max(1, a.length - (before.endsWith("\n") ? 1 : 0)));
    }

    static void writeLock(Path lock, String text) throws java.io.IOException {
        Path abs = lock.toAbsolutePath();
        Path tmp = abs.resolveSibling("." + abs.getFileName() + ".meshc-new");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}

package dev.meshc.emit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.meshc.fuzz.InventoryGenerator;
import dev.meshc.plan.Frontend;
import dev.meshc.render.Artifact;
import dev.meshc.model.Sha256;
import dev.meshc.render.Templates;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -9} at random moments while {@code meshc compile} (a separate JVM) rewrites an
 * existing output directory from one inventory's tree to another's. After each kill — and the
 * recovery every later compile starts with — the directory holds exactly the old tree or the new
 * one, file for file. Two compiles into one directory at once end in one complete tree.
 */
class CrashSafetyTest {
    static final int TRIALS = 60;

    record Tree(Path inventory, Path lock, Map<String, String> files) {
    }

    static Tree prepare(Path dir, String name, long seed) throws IOException {
        return prepare(dir, name, InventoryGenerator.generate(seed, 24, 600), null);
    }

    static Tree prepare(Path dir, String name, String yaml, String lockText) throws IOException {
        Path inv = dir.resolve(name + ".yml");
        Files.writeString(inv, yaml);
        Frontend.Result r = Frontend.run(inv.toString(), yaml.getBytes(StandardCharsets.UTF_8), "lock", lockText);
        assertTrue(r.ok(), r.diagnostics()::toString);
        List<Artifact> artifacts = Compilation.render(r, r.plan().get().vms().keySet(), Templates.bundled(), dev.meshc.cli.Version.get());
        Map<String, String> files = new TreeMap<>();
        for (Artifact a : artifacts) {
            files.put(a.path(), Sha256.hex(a.bytes()));
            for (int i = a.path().indexOf('/'); i > 0; i = a.path().indexOf('/', i + 1)) files.put(a.path().substring(0, i + 1), "directory");
        }
        Path lock = dir.resolve(name + ".lock");
        Files.writeString(lock, dev.meshc.plan.LockFile.format(r.plan().get().lock()));
        return new Tree(inv, lock, files);
    }

    /** A compile in its own JVM, as users run it (it checks what it wrote after the commit). */
    static Process compile(Tree t, Path out) throws IOException {
        return compile(t, out, true);
    }

    /**
     * A compile in its own JVM; {@code verify} false: without its self-check, for the kill trials and the duration
     * their delays are drawn from. The check runs after the commit and the lock's release and only reads (in
     * memory, not OUT), so a kill during it tests nothing of the write path, and delays drawn over a multiple of a
     * duration that includes it would spend most of their kills there (it is most of a compile of this size).
     */
    static Process compile(Tree t, Path out, boolean verify) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new java.util.ArrayList<>(List.of(java, "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                "dev.meshc.cli.Main", "compile", t.inventory().toString(), "-o", out.toString(), "--lock", t.lock().toString(), "-q"));
        if (!verify) cmd.add("--no-verify");
        return new ProcessBuilder(cmd)
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    /** What differs between an expected tree and what is on disk (at most 5 paths each way), for failure messages. */
    static String difference(Map<String, String> expected, Map<String, String> actual) {
        List<String> missing = expected.entrySet().stream().filter(e -> !e.getValue().equals(actual.get(e.getKey()))).map(Map.Entry::getKey).limit(5).toList();
        List<String> extra = actual.keySet().stream().filter(k -> !expected.containsKey(k)).limit(5).toList();
        return "missing or different " + missing + ", extra " + extra;
    }

    static Map<String, String> snapshot(Path out) throws IOException {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> s = Files.walk(out)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String rel = out.relativize(p).toString();
                if (Files.isDirectory(p)) { // directories too: a kill must not leave a new host's empty ones behind
                    if (!rel.isEmpty()) files.put(rel + "/", "directory");
                    continue;
                }
                if (rel.equals(OutputTree.LOCK) || rel.equals(HostState.FILE)) continue; // bookkeeping beside the tree
                files.put(rel, Sha256.hex(Files.readAllBytes(p)));
            }
        }
        return files;
    }

    @Test
    void killDashNineNeverLeavesAMix(@TempDir Path dir) throws Exception {
        killTrials(dir, prepare(dir, "a", 101), prepare(dir, "b", 202), "two inventories");
    }

    /**
     * The same between an inventory and itself with one container moved: the incremental path, which
     * renders two or three hosts, carries the others' files and rows, and commits the host state with
     * the manifest. A state left inconsistent by a kill would show as a wrong tree in a later trial.
     */
    @Test
    void killDashNineDuringAnIncrementalCompileNeverLeavesAMix(@TempDir Path dir) throws Exception {
        Tree a = prepare(dir, "a", 101);
        String yaml = Files.readString(a.inventory());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^(  \\S+: \\{service: \\S+, vm: )(\\S+?)([,}])").matcher(yaml);
        assertTrue(m.find(), "a container line");
        java.util.regex.Matcher vm = java.util.regex.Pattern.compile("(?m)^  (\\S+): \\{underlay").matcher(yaml);
        String to = null;
        while (vm.find() && (to == null || to.equals(m.group(2)))) to = vm.group(1);
        String moved = yaml.substring(0, m.start()) + m.group(1) + to + m.group(3) + yaml.substring(m.end());
        Tree b = prepare(dir, "b", moved, Files.readString(a.lock()));
        killTrials(dir, a, b, "one container moved");
    }

    private static void killTrials(Path dir, Tree a, Tree b, String what) throws Exception {
        Path out = dir.resolve("out");
        Process first = compile(a, out);
        assertEquals(0, first.waitFor());
        assertEquals(a.files(), snapshot(out));

        long t0 = System.nanoTime();
        Process timed = compile(b, out, false);
        assertEquals(0, timed.waitFor());
        long fullMillis = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(b.files(), snapshot(out));

        Random rnd = new Random(20261124);
        Tree current = b;
        int old = 0, rolledForward = 0, completed = 0;
        for (int trial = 0; trial < TRIALS; trial++) {
            Tree target = current == a ? b : a;
            Process p = compile(target, out, false);
            // Uniform over 2.5x the measured duration: kills land in start-up, rendering, staging, the
            // journal replay, and after completion.
            int delay = rnd.nextInt((int) Math.max(50, fullMillis * 5 / 2));
            Thread.sleep(delay);
            p.destroyForcibly(); // SIGKILL
            p.waitFor(30, TimeUnit.SECONDS);
            boolean journal = Files.exists(out.resolve(OutputTree.JOURNAL));
            new OutputTree(out).recover(); // what the next compile does first
            Map<String, String> now = snapshot(out);
            if (now.equals(target.files())) {
                if (journal) rolledForward++; else completed++;
                current = target;
            } else if (now.equals(current.files())) {
                old++;
            } else {
                fail("trial " + trial + ": the output is neither the old nor the new tree; against the old: " + difference(current.files(), now)
                        + "; against the new: " + difference(target.files(), now));
            }
        }
        System.err.printf("CrashSafetyTest (%s): %d kill -9 trials over a tree of %d files and directories (compile %d ms): %d left the old tree, "
                + "%d were rolled forward from the journal, %d had completed; 0 mixed%n",
                what, TRIALS, b.files().size(), fullMillis, old, rolledForward, completed);
        assertEquals(TRIALS, old + rolledForward + completed);
    }

    /** The first compile into an empty OUT takes another path (one stage directory, a few renames): killed, OUT is empty or complete. */
    @Test
    void killDashNineDuringAFirstCompileLeavesNothingOrEverything(@TempDir Path dir) throws Exception {
        Tree a = prepare(dir, "a", 505);
        Path out = dir.resolve("out");
        assertEquals(0, compile(a, out).waitFor(), "the first compile, with its self-check");
        deleteTree(out);
        long t0 = System.nanoTime();
        assertEquals(0, compile(a, out, false).waitFor());
        long fullMillis = (System.nanoTime() - t0) / 1_000_000;
        Random rnd = new Random(20261128);
        int nothing = 0, rolledForward = 0, completed = 0;
        for (int trial = 0; trial < FIRST_TRIALS; trial++) {
            deleteTree(out);
            Process p = compile(a, out, false);
            Thread.sleep(rnd.nextInt((int) Math.max(50, fullMillis * 3 / 2)));
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
            if (!Files.exists(out)) { // killed before the JVM got as far as creating it
                nothing++;
                continue;
            }
            boolean journal = Files.exists(out.resolve(OutputTree.JOURNAL));
            new OutputTree(out).recover();
            Map<String, String> now = snapshot(out);
            if (now.isEmpty()) nothing++;
            else if (now.equals(a.files())) {
                if (journal) rolledForward++; else completed++;
            } else {
                fail("first-compile trial " + trial + ": " + now.size() + " of " + a.files().size() + " files: neither nothing nor the whole tree"
                        + " (" + String.join(", ", new java.util.ArrayList<>(now.keySet()).subList(0, Math.min(5, now.size()))) + ")");
            }
        }
        System.err.printf("CrashSafetyTest: %d kill -9 trials during a first compile: %d left nothing, %d rolled forward, %d had completed; 0 partial%n",
                FIRST_TRIALS, nothing, rolledForward, completed);
        assertEquals(FIRST_TRIALS, nothing + rolledForward + completed);
    }

    static final int FIRST_TRIALS = 30;

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) return;
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    @Test
    void twoCompilesAtOnceLeaveOneCompleteTree(@TempDir Path dir) throws Exception {
        Tree a = prepare(dir, "a", 303), b = prepare(dir, "b", 404);
        Path out = dir.resolve("out");
        for (int round = 0; round < 3; round++) {
            Process pa = compile(a, out), pb = compile(b, out);
            assertEquals(0, pa.waitFor(), "the second compile waits for the first's lock, then succeeds");
            assertEquals(0, pb.waitFor());
            Map<String, String> now = snapshot(out);
            assertTrue(now.equals(a.files()) || now.equals(b.files()), "one complete tree");
        }
    }
}

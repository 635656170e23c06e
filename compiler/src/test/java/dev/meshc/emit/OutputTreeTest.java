package dev.meshc.emit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshc.render.Artifact;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OutputTreeTest {

    static Artifact text(String path, String text) {
        return new Artifact(path, text.getBytes(StandardCharsets.UTF_8));
    }

    /** A complete output (the manifest among the artifacts) in one transaction, as a compile writes it. */
    static OutputTree.Result write(OutputTree t, List<Artifact> artifacts) throws java.io.IOException {
        try (OutputTree.Transaction tx = t.begin()) {
            Artifact manifest = null;
            for (Artifact a : artifacts) {
                if (a.path().equals(Manifest.PATH)) manifest = a;
                else tx.stage(a);
            }
            if (manifest == null) throw new java.io.IOException("no manifest among the artifacts");
            return tx.commit(manifest);
        }
    }

    static List<Artifact> tree(String... pathsAndContents) {
        List<Artifact> out = new ArrayList<>();
        StringBuilder manifest = new StringBuilder("{\"files\": [");
        for (int i = 0; i < pathsAndContents.length; i += 2) {
            out.add(text(pathsAndContents[i], pathsAndContents[i + 1]));
            manifest.append(i == 0 ? "" : ",").append("{\"path\": \"").append(pathsAndContents[i]).append("\"}");
        }
        out.add(text("manifest.json", manifest.append("],\n  \"generator\": \"meshc\",\n  \"meshc_version\": \"test\"\n}\n").toString()));
        return out;
    }

    @Test
    void unchangedFilesAreNotRewritten(@TempDir Path out) throws Exception {
        OutputTree t = new OutputTree(out);
        var first = write(t, tree("hosts/a/x", "1\n", "hosts/b/y", "2\n"));
        assertEquals(3, first.written().size());
        FileTime old = FileTime.fromMillis(1_000_000_000_000L);
        Files.setLastModifiedTime(out.resolve("hosts/a/x"), old);
        var second = write(t, tree("hosts/a/x", "1\n", "hosts/b/y", "3\n"));
        assertEquals(List.of("hosts/b/y"), second.written()); // this test manifest lists paths only, so it is unchanged
        assertEquals(old, Files.getLastModifiedTime(out.resolve("hosts/a/x")), "mtime kept");
        assertEquals("3\n", Files.readString(out.resolve("hosts/b/y")));
        var third = write(t, tree("hosts/a/x", "1\n", "hosts/b/y", "3\n"));
        assertEquals(List.of(), third.written());
    }

    @Test
    void removesOnlyWhatItsPreviousManifestListed(@TempDir Path out) throws Exception {
        OutputTree t = new OutputTree(out);
        write(t, tree("hosts/a/x", "1\n", "hosts/b/y", "2\n"));
        Files.writeString(out.resolve("hosts/b/user-notes.txt"), "mine");
        var r = write(t, tree("hosts/a/x", "1\n"));
        assertEquals(List.of("hosts/b/y"), r.removed());
        assertFalse(Files.exists(out.resolve("hosts/b/y")));
        assertTrue(Files.exists(out.resolve("hosts/b/user-notes.txt")), "files meshc did not write are kept");
        write(t, tree("hosts/a/z", "1\n"));
        assertFalse(Files.exists(out.resolve("hosts/a/x")));
    }

    @Test
    void aCommittedWriteInterruptedByACrashIsRolledForward(@TempDir Path out) throws Exception {
        OutputTree t = new OutputTree(out);
        write(t, tree("a", "old\n", "b", "old\n"));
        // Simulate a kill right after the commit point: temp files and journal exist, nothing renamed.
        Files.writeString(out.resolve(".a" + OutputTree.TEMP_SUFFIX), "new\n");
        Files.writeString(out.resolve(".manifest.json" + OutputTree.TEMP_SUFFIX), "{\"files\": [{\"path\": \"a\"}]}\n");
        Files.writeString(out.resolve(OutputTree.JOURNAL), "R a\nR manifest.json\nD b\n");
        t.recover();
        assertEquals("new\n", Files.readString(out.resolve("a")));
        assertFalse(Files.exists(out.resolve("b")));
        assertFalse(Files.exists(out.resolve(OutputTree.JOURNAL)));
    }

    @Test
    void anUncommittedWriteIsDiscarded(@TempDir Path out) throws Exception {
        OutputTree t = new OutputTree(out);
        write(t, tree("a", "old\n"));
        Files.writeString(out.resolve(OutputTree.DIRTY), ""); // a write into an existing tree marks it before its first temp file
        Files.writeString(out.resolve(".a" + OutputTree.TEMP_SUFFIX), "half");
        t.recover();
        assertFalse(Files.exists(out.resolve(OutputTree.DIRTY)));
        assertEquals("old\n", Files.readString(out.resolve("a")));
        assertFalse(Files.exists(out.resolve(".a" + OutputTree.TEMP_SUFFIX)));
        // A new host's files, killed before the commit: its directories go with its temp files; a user's empty one stays.
        Files.createDirectories(out.resolve("hosts/new/ip"));
        Files.createDirectories(out.resolve("mine"));
        Files.writeString(out.resolve(OutputTree.DIRTY), "");
        Files.writeString(out.resolve("hosts/new/ip/.routes.batch" + OutputTree.TEMP_SUFFIX), "half");
        t.recover();
        assertFalse(Files.exists(out.resolve("hosts")));
        assertTrue(Files.isDirectory(out.resolve("mine")));
    }

    @Test
    void aFileTheManifestVouchesForIsTrustedByItsStatAndAnEditedOneIsRestored(@TempDir Path out) throws Exception {
        byte[] one = "1\n".getBytes(StandardCharsets.UTF_8);
        String sha = dev.meshc.model.Sha256.hex(one);
        Artifact manifest = text("manifest.json", "{\"files\": [{\"path\": \"hosts/a/x\", \"sha256\": \"" + sha + "\"}],\n  \"generator\": \"meshc\",\n  \"x\": 0\n}\n");
        OutputTree t = new OutputTree(out);
        try (var tx = t.begin()) {
            tx.stage(new Artifact("hosts/a/x", one), sha);
            tx.commit(manifest);
        }
        FileTime written = Files.getLastModifiedTime(out.resolve("hosts/a/x"));
        Files.setLastModifiedTime(out.resolve("manifest.json"), FileTime.fromMillis(written.toMillis() + 1000));

        Files.writeString(out.resolve("hosts/a/x"), "2\n"); // edited by hand: same size, newer mtime
        Files.setLastModifiedTime(out.resolve("hosts/a/x"), FileTime.fromMillis(written.toMillis() + 5000));
        try (var tx = t.begin()) {
            tx.stage(new Artifact("hosts/a/x", one), sha);
            assertEquals(List.of("hosts/a/x"), tx.commit(manifest).written(), "compared byte for byte and restored");
        }
        assertEquals("1\n", Files.readString(out.resolve("hosts/a/x")));

        // The trade-off, as with make: an edit that also puts the old mtime back is not noticed by stat.
        Files.setLastModifiedTime(out.resolve("manifest.json"), FileTime.fromMillis(written.toMillis() + 10_000));
        Files.writeString(out.resolve("hosts/a/x"), "3\n");
        Files.setLastModifiedTime(out.resolve("hosts/a/x"), written);
        try (var tx = t.begin()) {
            tx.stage(new Artifact("hosts/a/x", one), sha);
            assertEquals(List.of(), tx.commit(manifest).written(), "size and mtime vouch for it: not read");
        }
        try (var tx = t.begin()) {
            tx.stage(new Artifact("hosts/a/x", one)); // without the hash: always compared
            assertEquals(List.of("hosts/a/x"), tx.commit(manifest).written());
        }
        assertEquals("1\n", Files.readString(out.resolve("hosts/a/x")));
    }

    @Test
    void aFirstWriteIsStagedAsAWholeAndLeavesNoBookkeepingBehind(@TempDir Path out) throws Exception {
        var r = write(new OutputTree(out), tree("hosts/a/x", "1\n", "hosts/b/y", "2\n", "ansible/inventory.yml", "3\n"));
        assertEquals(List.of("ansible/inventory.yml", "hosts/a/x", "hosts/b/y", "manifest.json"), r.written());
        assertEquals("2\n", Files.readString(out.resolve("hosts/b/y")));
        try (var s = Files.list(out)) {
            assertEquals(List.of(".meshc-lock", "ansible", "hosts", "manifest.json"), s.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void aFirstWriteKilledBeforeItsCommitLeavesAnEmptyDirectory(@TempDir Path out) throws Exception {
        Files.createDirectories(out.resolve(OutputTree.STAGE + "/hosts/a"));
        Files.writeString(out.resolve(OutputTree.STAGE + "/hosts/a/x"), "half");
        new OutputTree(out).recover();
        try (var s = Files.list(out)) {
            assertEquals(List.of(), s.toList());
        }
    }

    @Test
    void aFirstWriteKilledWhileWritingItsJournalLeavesAnEmptyDirectory(@TempDir Path out) throws Exception {
        // Killed after the journal's temp file was written (and fsynced) but before the rename that commits it.
        Files.createDirectories(out.resolve(OutputTree.STAGE + "/hosts/a"));
        Files.writeString(out.resolve(OutputTree.STAGE + "/hosts/a/x"), "1\n");
        Files.writeString(out.resolve(OutputTree.JOURNAL + OutputTree.TEMP_SUFFIX), "M hosts\nM manifest.json\n");
        new OutputTree(out).recover();
        try (var s = Files.list(out)) {
            assertEquals(List.of(), s.toList());
        }
    }

    @Test
    void aFirstWriteKilledAfterItsCommitIsRolledForward(@TempDir Path out) throws Exception {
        // Killed after renaming "ansible" into place: the journal lists it, replay skips what is gone from the stage.
        Files.createDirectories(out.resolve(OutputTree.STAGE + "/hosts/a"));
        Files.createDirectories(out.resolve("ansible"));
        Files.writeString(out.resolve("ansible/inventory.yml"), "3\n");
        Files.writeString(out.resolve(OutputTree.STAGE + "/hosts/a/x"), "1\n");
        Files.writeString(out.resolve(OutputTree.STAGE + "/manifest.json"), "{\"files\": [{\"path\": \"hosts/a/x\"}]}\n");
        Files.writeString(out.resolve(OutputTree.JOURNAL), "M ansible\nM hosts\nM manifest.json\n");
        new OutputTree(out).recover();
        assertEquals("1\n", Files.readString(out.resolve("hosts/a/x")));
        assertEquals("3\n", Files.readString(out.resolve("ansible/inventory.yml")));
        assertTrue(Files.exists(out.resolve("manifest.json")));
        assertFalse(Files.exists(out.resolve(OutputTree.STAGE)));
        assertFalse(Files.exists(out.resolve(OutputTree.JOURNAL)));
    }

    /** Repeated: the ownership check before the lock raced a commit in 2 of 300 runs (found by CI on 2026-12-01). */
    @org.junit.jupiter.api.RepeatedTest(200)
    void concurrentWritersAreSerialised(@TempDir Path out) throws Exception {
        List<Artifact> a = tree("f1", "A\n", "f2", "A\n"), b = tree("f1", "B\n", "f3", "B\n");
        CountDownLatch go = new CountDownLatch(1);
        List<Throwable> errors = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            List<Artifact> mine = i % 2 == 0 ? a : b;
            Thread th = new Thread(() -> {
                try {
                    go.await();
                    write(new OutputTree(out), mine);
                } catch (Throwable e) {
                    synchronized (errors) { errors.add(e); }
                }
            });
            threads.add(th);
            th.start();
        }
        go.countDown();
        for (Thread th : threads) th.join();
        assertEquals(List.of(), errors);
        String f1 = Files.readString(out.resolve("f1"));
        String manifest = Files.readString(out.resolve("manifest.json"));
        if (f1.equals("A\n")) {
            assertTrue(Files.exists(out.resolve("f2")) && !Files.exists(out.resolve("f3")) && manifest.contains("f2"));
        } else {
            assertTrue(Files.exists(out.resolve("f3")) && !Files.exists(out.resolve("f2")) && manifest.contains("f3"));
        }
    }

    /**
     * A first write into an OUT that holds only dot-files (a {@code .gitkeep}) stages beside its targets, so
     * {@code hosts/} appears before any manifest or journal: another compile's check, which runs before the lock,
     * took that for a foreign directory. The write marks OUT dirty before it stages anything; the check trusts the
     * mark, and a kill's leftovers are recovered under the lock by the next write, as for a tree meshc wrote.
     */
    @Test
    void aFirstWriteInProgressBesideDotFilesIsMeshcs(@TempDir Path dir) throws Exception {
        Path out = Files.createDirectories(dir.resolve("out"));
        Files.writeString(out.resolve(".gitkeep"), "");
        OutputTree t = new OutputTree(out);
        try (OutputTree.Transaction tx = t.begin()) {
            tx.stage(text("hosts/a/x", "1\n"));
            assertTrue(Files.isDirectory(out.resolve("hosts")), "staged beside its target, not in a stage directory");
            assertFalse(Files.exists(out.resolve("manifest.json")));
            OutputTree.checkOwnership(out); // another compile's check, meanwhile: not refused
        } // closed without a commit: discarded
        assertEquals(List.of("", ".gitkeep", OutputTree.LOCK), listing(out));
        // What a kill at that moment leaves: the mark, a temp file, the directories made for it.
        Files.createDirectories(out.resolve("hosts/a"));
        Files.writeString(out.resolve("hosts/a/.x" + OutputTree.TEMP_SUFFIX), "1\n");
        Files.writeString(out.resolve(OutputTree.DIRTY), "");
        OutputTree.checkOwnership(out);
        write(new OutputTree(out), tree("hosts/b/y", "2\n"));
        assertEquals(List.of("", ".gitkeep", OutputTree.LOCK, "hosts", "hosts/b", "hosts/b/y", "manifest.json"), listing(out));
        // Without the mark, the same leftovers are a directory meshc does not know as its own.
        Path other = Files.createDirectories(dir.resolve("other"));
        Files.createDirectories(other.resolve("hosts/a"));
        Files.writeString(other.resolve("hosts/a/.x" + OutputTree.TEMP_SUFFIX), "1\n");
        org.junit.jupiter.api.Assertions.assertThrows(OutputTree.NotOwned.class, () -> OutputTree.checkOwnership(other));
    }

    @Test
    void refusesPathsOutsideTheTree(@TempDir Path out) {
        for (String bad : List.of("../x", "/etc/x", "a/../../x", "a//b", "")) assertFalse(OutputTree.isSafeRelative(bad), bad);
        assertTrue(OutputTree.isSafeRelative("hosts/vm-a/nftables/meshc.nft"));
        org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                () -> write(new OutputTree(out), List.of(new Artifact("../escape", "x".getBytes(StandardCharsets.UTF_8)))));
    }

    private static List<String> listing(Path dir) throws Exception {
        try (var s = Files.walk(dir)) {
            return s.map(p -> dir.relativize(p).toString()).sorted().toList();
        }
    }

    @Test
    void refusesADirectoryItDoesNotOwnAndWritesNothingThere(@TempDir Path dir) throws Exception {
        // -o / or -o /etc: meshc's hosts/ would collide with /etc/hosts, its manifest.json with a web app's.
        Path etc = Files.createDirectories(dir.resolve("etc"));
        Files.writeString(etc.resolve("hosts"), "127.0.0.1 localhost\n");
        Path web = Files.createDirectories(dir.resolve("web"));
        Files.writeString(web.resolve("manifest.json"), "{\"name\": \"my app\", \"files\": []}\n");
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        Path link = Files.createSymbolicLink(dir.resolve("link-to-etc"), etc);
        List<String> before = listing(dir);
        for (Path out : List.of(etc, web, file, link)) {
            var e = org.junit.jupiter.api.Assertions.assertThrows(OutputTree.NotOwned.class,
                    () -> write(new OutputTree(out), tree("hosts/a/x", "1\n")), out.toString());
            assertTrue(e.getMessage().startsWith(out.toString()), e.getMessage());
        }
        assertEquals(before, listing(dir), "nothing written, not even the lock file");
        assertTrue(OutputTreeTest.message(etc).contains("is not empty (hosts) and holds no manifest meshc wrote"));
        assertTrue(OutputTreeTest.message(web).contains("holds a manifest.json that meshc did not write"));
        assertTrue(OutputTreeTest.message(file).contains("exists and is not a directory"));
    }

    private static String message(Path out) {
        try {
            OutputTree.checkOwnership(out);
            return "accepted";
        } catch (java.io.IOException e) {
            return e.getMessage();
        }
    }

    @Test
    void acceptsAMissingOrEmptyDirectoryDotFilesAndItsOwnTrees(@TempDir Path dir) throws Exception {
        assertEquals("accepted", message(dir.resolve("missing/deeper")));
        Path dots = Files.createDirectories(dir.resolve("repo-out"));
        Files.writeString(dots.resolve(".gitkeep"), "");
        Files.createDirectories(dots.resolve("lost+found")); // OUT is a file system of its own
        write(new OutputTree(dots), tree("hosts/a/x", "1\n"));
        Files.writeString(dots.resolve("hosts/a/notes.txt"), "mine");
        Files.writeString(dots.resolve("README"), "mine"); // beside a tree meshc owns: kept, not a reason to refuse
        write(new OutputTree(dots), tree("hosts/a/x", "2\n"));
        assertEquals("2\n", Files.readString(dots.resolve("hosts/a/x")));
        // A manifest reformatted by hand is still recognised (parsed whole).
        Path reformatted = Files.createDirectories(dir.resolve("reformatted"));
        Files.writeString(reformatted.resolve("manifest.json"), "{\"meshc_version\":\"0\",\"generator\":\"meshc\",\"files\":[]}");
        Files.writeString(reformatted.resolve("hosts"), "");
        assertEquals("accepted", message(reformatted));
        // A first write killed after its commit: no manifest yet, but the journal says the tree is meshc's.
        Path killed = Files.createDirectories(dir.resolve("killed"));
        Files.createDirectories(killed.resolve(OutputTree.STAGE));
        Files.createDirectories(killed.resolve("hosts/a"));
        Files.writeString(killed.resolve("hosts/a/x"), "1\n");
        Files.writeString(killed.resolve(OutputTree.STAGE + "/manifest.json"), new String(tree("hosts/a/x", "1\n").get(1).bytes(), StandardCharsets.UTF_8));
        Files.writeString(killed.resolve(OutputTree.JOURNAL), "M hosts\nM manifest.json\n");
        write(new OutputTree(killed), tree("hosts/a/x", "1\n"));
        assertTrue(Manifest.isMeshc(killed));
        assertFalse(Files.exists(killed.resolve(OutputTree.JOURNAL)));
    }

    /**
     * Recovery removes the empty directories an interrupted write left only in the subtrees meshc owns. Those are
     * the render registry's (Renderers.DIRECTORIES); every top-level directory a compile of any example writes into
     * must be among them, and a leftover there must go, so a registry row whose directory were not owned fails here.
     */
    @Test
    void everyDirectoryACompileWritesIntoIsOwnedAndItsLeftoversAreRecovered(@TempDir Path dir) throws Exception {
        java.util.Set<String> tops = new java.util.TreeSet<>();
        for (String example : dev.meshc.TestSupport.examples()) {
            for (String path : dev.meshc.TestSupport.compileExample(example).keySet()) {
                if (path.contains("/")) tops.add(path.substring(0, path.indexOf('/')));
            }
        }
        assertTrue(tops.contains("hosts") && tops.contains("ansible"), tops.toString());
        assertEquals(tops, OutputTree.OWN_SUBTREES, "the directories a compile writes into are exactly those emit owns");
        for (String top : tops) {
            Path out = dir.resolve(top + "-out");
            OutputTree t = new OutputTree(out);
            write(t, tree("x", "1\n"));
            Files.createDirectories(out.resolve(top + "/new/deep"));
            Files.writeString(out.resolve(OutputTree.DIRTY), ""); // killed before its first temp file there
            t.recover();
            assertFalse(Files.exists(out.resolve(top)), top + ": an empty directory left by an interrupted write is removed");
        }
    }

    @Test
    void aWriteThatFailsRemovesTheDirectoriesItCreated(@TempDir Path out) throws Exception {
        write(new OutputTree(out), tree("hosts/a/x", "1\n"));
        Files.writeString(out.resolve("hosts/b"), "a file of the user's where meshc needs a directory");
        List<String> before = listing(out);
        List<Artifact> next = new ArrayList<>(tree("hosts/a/x", "1\n", "hosts/new/deep/y", "2\n", "hosts/b/z", "3\n"));
        org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class, () -> write(new OutputTree(out), next));
        assertEquals(before, listing(out), "the old tree, without hosts/new");
    }

    @Test
    void aJournalLineItCannotReadStopsTheRecoveryAndDeletesNothing(@TempDir Path out) throws Exception {
        OutputTree t = new OutputTree(out);
        write(t, tree("a", "old\n", "b", "old\n"));
        // An operation letter meshc never writes: it once fell through to "delete".
        Files.writeString(out.resolve(OutputTree.JOURNAL), "R a\nX b\n");
        var e = org.junit.jupiter.api.Assertions.assertThrows(Journal.Unreadable.class, t::recover);
        assertTrue(e.getMessage().contains(":2: not a journal line meshc writes: 'X b'"), e.getMessage());
        assertEquals("old\n", Files.readString(out.resolve("b")));
        assertTrue(Files.exists(out.resolve(OutputTree.JOURNAL)), "left for a person to look at");
    }

    @Test
    void aJournalIsReadBackAsWritten() throws Exception {
        Journal j = new Journal(List.of(new Journal.Op(Journal.Kind.FROM_STAGE, "hosts"), new Journal.Op(Journal.Kind.RENAME, "hosts/a/x"),
                new Journal.Op(Journal.Kind.DELETE, "hosts/b/y"), new Journal.Op(Journal.Kind.RENAME, Manifest.PATH)));
        assertEquals("M hosts\nR hosts/a/x\nD hosts/b/y\nR manifest.json\n", j.encode());
        assertEquals(j, Journal.parse(j.encode(), "j"));
        assertEquals(new Journal(List.of()), Journal.parse("", "j"));
        for (String bad : List.of("R ../etc/passwd\n", "D\n", "Rhosts/a\n", "r hosts/a\n")) {
            org.junit.jupiter.api.Assertions.assertThrows(Journal.Unreadable.class, () -> Journal.parse(bad, "j"), bad);
        }
    }
}

package dev.meshc.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshc.TestSupport;
import dev.meshc.plan.Frontend;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** compile and check verify the hosts they write; a difference from intent is a bug in meshc: exit 70 with a witness. */
class SelfCheckTest {
    @Test
    void compileAndCheckVerifyWhatTheyProduce(@TempDir Path dir) {
        String inv = TestSupport.example("fleet").toString();
        TestSupport.Run c = TestSupport.meshc("compile", inv, "-o", dir.resolve("out").toString());
        assertEquals(0, c.code(), c.err());
        assertFalse(c.err().contains("internal error"), c.err());
        TestSupport.Run k = TestSupport.meshc("check", inv, "--golden", TestSupport.root().resolve("golden/fleet").toString());
        assertEquals(0, k.code(), k.err());
    }

    @Test
    void aWrittenHostThatReachesTooMuchIsABugWithAWitness(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out");
        Frontend.Result r = compiledFleet(out);
        // What a renderer bug could write: app-1 allowed to other-1, which no relationship allows.
        Path nft = out.resolve("hosts/vm1/nftables/meshc.nft");
        String text = Files.readString(nft);
        String element = "      241.2.0.2 . 241.2.0.3 . 241.2.0.3 . tcp . 5432,\n";
        assertTrue(text.contains(element));
        Files.writeString(nft, text.replace(element, element + "      241.2.0.2 . 241.2.0.4 . 241.2.0.4 . tcp . 8080,\n"));
        StringWriter err = new StringWriter();
        int code = SelfCheck.verify(r, out, List.of("hosts/vm1/nftables/meshc.nft"), null, new PrintWriter(err, true));
        assertEquals(ExitCode.INTERNAL, code, err.toString());
        assertTrue(err.toString().startsWith("meshc: internal error: the files meshc wrote reach other than the inventory allows"), err.toString());
        assertTrue(err.toString().contains("unintended: nft: app-1 (241.2.0.2) -> other-1 (241.2.0.4):8080/tcp passes but the inventory does not allow it"), err.toString());
        assertTrue(err.toString().contains("  witness:") && err.toString().contains("delivered to other-1"), err.toString());
        // An incremental compile that wrote only vm2 checks vm2's files (and vm1's only where vm2's flows cross them).
        StringWriter quiet = new StringWriter();
        assertEquals(ExitCode.OK, SelfCheck.verify(r, out, List.of("hosts/vm2/ip/routes.batch", "manifest.json"), null, new PrintWriter(quiet, true)), quiet.toString());
        // Nothing written: nothing to check.
        assertEquals(ExitCode.OK, SelfCheck.verify(r, out, List.of(), null, new PrintWriter(quiet, true)));
    }

    /**
     * compile checks its hosts' files as committed (read back under OUT's lock), not rendered again: bytes that
     * differ on disk from what was rendered are what is evaluated; a file beside them that meshc did not write is not.
     */
    @Test
    void compileChecksTheFilesAsCommittedAndOnlyItsOwn(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out");
        Frontend.Result r = compiledFleet(out);
        java.util.Map<String, java.util.Set<String>> rendered = new java.util.TreeMap<>();
        try (var s = Files.walk(out.resolve("hosts/vm1"))) {
            for (Path p : (Iterable<Path>) s.filter(Files::isRegularFile)::iterator) {
                rendered.computeIfAbsent("vm1", k -> new TreeSet<>()).add(out.relativize(p).toString());
            }
        }
        // An operator's own networkd file beside meshc's (it would state a route meshc's ip/ files lack): not read.
        Path extra = out.resolve("hosts/vm1/systemd-network/99-operator.network");
        Files.writeString(extra, "[Match]\nName=eth9\n\n[Route]\nDestination=203.0.113.0/24\n");
        List<String> written = List.of("hosts/vm1/nftables/meshc.nft");
        var committed = SelfCheck.committed(r.plan().orElseThrow(), out, written, rendered);
        assertEquals(List.of("vm1"), List.copyOf(committed.keySet()));
        assertFalse(committed.get("vm1").containsKey("hosts/vm1/systemd-network/99-operator.network"));
        StringWriter err = new StringWriter();
        assertEquals(ExitCode.OK, SelfCheck.verifyCommitted(r, committed, written, null, new PrintWriter(err, true)), err.toString());
        // The same element a renderer bug could write, now in the committed file: evaluated, and found.
        Path nft = out.resolve("hosts/vm1/nftables/meshc.nft");
        String element = "      241.2.0.2 . 241.2.0.3 . 241.2.0.3 . tcp . 5432,\n";
        Files.writeString(nft, Files.readString(nft).replace(element, element + "      241.2.0.2 . 241.2.0.4 . 241.2.0.4 . tcp . 8080,\n"));
        committed = SelfCheck.committed(r.plan().orElseThrow(), out, written, rendered);
        err = new StringWriter();
        assertEquals(ExitCode.INTERNAL, SelfCheck.verifyCommitted(r, committed, written, null, new PrintWriter(err, true)), err.toString());
        assertTrue(err.toString().contains("unintended: nft: app-1 (241.2.0.2) -> other-1 (241.2.0.4):8080/tcp passes"), err.toString());
    }

    /** The same through compile itself: an operator's networkd file beside vm1's, and vm1 written again. */
    @Test
    void aCompileBesideAnOperatorsFileChecksOnlyMeshcsFiles(@TempDir Path dir) throws Exception {
        String inv = TestSupport.example("fleet").toString();
        Path out = dir.resolve("out");
        assertEquals(0, TestSupport.meshc("compile", inv, "-o", out.toString(), "-q").code());
        Files.writeString(out.resolve("hosts/vm1/systemd-network/99-operator.network"),
                "[Match]\nName=meshc-vx\n\n[Route]\nDestination=203.0.113.0/24\nGateway=241.2.0.9\nGatewayOnLink=yes\n");
        Files.delete(out.resolve("hosts/vm1/ip/routes.batch")); // so that a --full compile writes vm1 and checks it
        TestSupport.Run c = TestSupport.meshc("compile", inv, "-o", out.toString(), "--full");
        assertEquals(0, c.code(), c.err());
        assertTrue(c.err().contains("1 written"), c.err());
        assertTrue(Files.exists(out.resolve("hosts/vm1/systemd-network/99-operator.network")), "compile keeps a file it did not write");
    }

    /** The fleet example compiled into {@code out}, and its front end's result. */
    private static Frontend.Result compiledFleet(Path out) throws Exception {
        Path inv = TestSupport.example("fleet");
        assertEquals(0, TestSupport.meshc("compile", inv.toString(), "-o", out.toString(), "-q").code());
        return TestSupport.frontend("fleet", TestSupport.read(inv), TestSupport.read(inv.resolveSibling("meshc.lock")));
    }

    @Test
    void aLargeRunChecksTheHostsWithTheMostFilesWritten() {
        java.util.Map<String, Integer> files = new java.util.TreeMap<>();
        for (int i = 0; i < 1000; i++) files.put(String.format("vm-%04d", i), 3);
        files.put("vm-0500", 9); // a moved container's VM
        files.put("vm-0700", 9);
        List<String> s = SelfCheck.mostWritten(files, SelfCheck.HOSTS);
        assertEquals(List.of("vm-0000", "vm-0001", "vm-0002", "vm-0003", "vm-0004", "vm-0005", "vm-0500", "vm-0700"), s);
        assertEquals(List.of("vm-0000", "vm-0001"), SelfCheck.mostWritten(java.util.Map.of("vm-0001", 1, "vm-0000", 1), 8));
    }
}

package dev.meshc.cli;

import static dev.meshc.TestSupport.meshc;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshc.TestSupport;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/** meshc review on trees compile wrote: the exit codes CI gates on, the three formats, and trees that are not meshc's. */
class ReviewCommandTest {
    /** Compiles the quickstart, edited by {@code from -> to}, into dir/name with the example's lock. */
    static Path tree(Path dir, String name, String from, String to) throws Exception {
        Path work = Files.createDirectories(dir.resolve(name + "-src"));
        String yaml = TestSupport.read(TestSupport.example("quickstart"));
        assertTrue(yaml.contains(from), from);
        Files.writeString(work.resolve("inventory.yml"), yaml.replace(from, to));
        Files.copy(TestSupport.example("quickstart").resolveSibling("meshc.lock"), work.resolve("meshc.lock"));
        var r = meshc("compile", work.resolve("inventory.yml").toString(), "-o", dir.resolve(name).toString(), "-q");
        assertEquals(0, r.code(), r.err());
        return dir.resolve(name);
    }

    @Test
    void sameBehaviourExitsZeroAChangeSixAMovedVipSeven(@TempDir Path dir) throws Exception {
        Path base = tree(dir, "base", "mtu: 1500", "mtu: 1500");
        Path same = tree(dir, "same", "# Two VMs", "# Still two VMs"); // a comment: no file changes at all
        var r = meshc("review", base.toString(), same.toString());
        assertEquals(ExitCode.OK, r.code(), r.out() + r.err());
        assertTrue(r.out().startsWith("review: no behaviour change ("), r.out());

        Path added = tree(dir, "added", "  redis:\n    endpoints:", "  redis:\n    relationships:\n      store: db:mysql\n    endpoints:");
        r = meshc("review", base.toString(), added.toString());
        assertEquals(ExitCode.CHANGED, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("flows gained (3):\n  redis -> db:mysql (tcp/3306, store)\n"), r.out());
        assertTrue(r.out().contains("witness on base:") && r.out().contains("witness on head:"), r.out());
        assertEquals(ExitCode.CHANGED, meshc("review", added.toString(), base.toString()).code(), "the reverse loses them");

        Path moved = tree(dir, "moved", "      database: db:mysql", "      db: db:mysql");
        r = meshc("review", base.toString(), moved.toString());
        assertEquals(ExitCode.UNEXPECTED_CHANGE, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("VIPs moved"), r.out());
        assertTrue(r.out().contains("review: unexpected change: 1 VIP moved"), r.out());
    }

    @Test
    void markdownAndJsonSayTheSameAsText(@TempDir Path dir) throws Exception {
        Path base = tree(dir, "base", "mtu: 1500", "mtu: 1500");
        Path head = tree(dir, "head", "db-1:  {service: db, vm: vm-b, index: 47}", "db-1:  {service: db, vm: vm-a, index: 47}");
        var md = meshc("review", base.toString(), head.toString(), "--format", "markdown");
        assertEquals(ExitCode.CHANGED, md.code(), md.err());
        assertTrue(md.out().startsWith("### meshc review: behaviour changed\n"), md.out());
        assertTrue(md.out().contains("| db-1 | re-addressed | 247.221.80.48 on vm-b |"), md.out());
        assertTrue(md.out().contains("| vm-a | **established flows cut** |"), md.out());
        var js = meshc("review", base.toString(), head.toString(), "--format", "json");
        assertEquals(ExitCode.CHANGED, js.code(), js.err());
        JsonNode j = new ObjectMapper().readTree(js.out());
        assertEquals("changed", j.get("result").asString());
        assertEquals("db-1", j.get("containers").get("readdressed").get(0).get("base").get("name").asString());
        assertEquals("flows-cut", j.get("hosts").get(0).get("disruption").asString());
        assertEquals(js.out(), meshc("review", base.toString(), head.toString(), "--format", "json").out(), "deterministic");
    }

    @Test
    void treesThatAreNotMeshcsAreRefusedWithOneLine(@TempDir Path dir) throws Exception {
        Path base = tree(dir, "base", "mtu: 1500", "mtu: 1500");
        var missing = meshc("review", dir.resolve("nope").toString(), base.toString());
        assertEquals(ExitCode.USAGE, missing.code());
        assertTrue(missing.err().contains("BASE " + dir.resolve("nope") + " does not exist"), missing.err());
        Path notes = Files.createDirectories(dir.resolve("notes"));
        Files.writeString(notes.resolve("README"), "not a tree\n");
        var r = meshc("review", notes.toString(), base.toString());
        assertEquals(ExitCode.IO, r.code());
        assertEquals("meshc: cannot review: " + notes + ": no manifest.json: not an output tree of meshc compile\n", r.err());
        Files.writeString(base.resolve("hosts/vm-a/ip/routes.batch"), "route add everything\n");
        r = meshc("review", base.toString(), base.toString());
        assertEquals(ExitCode.IO, r.code());
        assertTrue(r.err().startsWith("meshc: cannot review: hosts/vm-a/ip/routes.batch:1: ") && r.err().lines().count() == 1, r.err());
        assertFalse(r.err().contains("Exception"), r.err());
        assertEquals(ExitCode.USAGE, meshc("review", base.toString(), base.toString(), "--format", "yaml").code());
    }

    @Test
    void aLargeChangeFitsAPullRequestComment() {
        java.util.List<dev.meshc.trace.Review.FlowChange> many = new java.util.ArrayList<>();
        for (int i = 0; i < 150; i++) {
            many.add(new dev.meshc.trace.Review.FlowChange(new dev.meshc.trace.Review.Flow("a -> b:api (tcp/80, b)", "a-" + i, "b-1", "tcp", 80), "10.0.0.1", "10.0.0.1", null, null));
        }
        var r = new dev.meshc.trace.Review.Report("nft", many, java.util.List.of(), java.util.List.of(), java.util.List.of(), java.util.List.of(), java.util.List.of(), java.util.List.of(), 150);
        String md = ReviewCommand.markdown(r);
        assertTrue(md.contains("| … | 50 more (`--format json` lists them all) | | |"), md);
        assertTrue(md.length() < 65_536, "a comment holds 65,536 characters: " + md.length());
        assertEquals(150, ReviewCommand.json(r).split("\"group\"", -1).length - 1, "json lists every flow");
    }
}

package dev.meshc.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshc.TestSupport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * review reads two trees host by host (issue 19): neither tree is held whole or parsed whole (two trees of fleet M
 * needed a 6 GB heap read that way; now the launcher's 1 GB does). What has to stay true: the report is the same
 * however many peers' parts wait at once (they are evaluated in rounds to bound memory), the same read from
 * directories as from memory, and each host is parsed a bounded number of times per round.
 */
class ReviewHostByHostTest {
    static final int VMS = 24, CONTAINERS = 120;
    static Map<String, byte[]> base, head;

    /** FleetGenerator's shape at 24 VMs, and the same with one container moved to another VM and one relationship added. */
    @BeforeAll
    static void trees() throws Exception {
        java.io.StringWriter out = new java.io.StringWriter();
        dev.meshc.bench.FleetGenerator.write("test", VMS, CONTAINERS, out);
        String yaml = out.toString();
        base = TestSupport.compile("fleet-24", yaml, null);
        Matcher m = Pattern.compile("(?m)^  (c-\\d+): \\{service: (svc-\\d+), vm: (vm-\\d+)\\}$").matcher(yaml);
        assertTrue(m.find());
        String moved = yaml.substring(0, m.start()) + "  " + m.group(1) + ": {service: " + m.group(2) + ", vm: "
                + (m.group(3).equals("vm-00000") ? "vm-00001" : "vm-00000") + "}" + yaml.substring(m.end());
        String edited = moved.replaceFirst("(?m)^      up: svc-00001:api$", "      up: svc-00001:api\n      extra: svc-00003:api");
        assertFalse(edited.equals(moved), "the fleet has a consumer of svc-00001 to give a relationship");
        head = TestSupport.compile("fleet-24", edited, null);
    }

    @Test
    void theReportIsTheSameWhateverNumberOfPeerPartsWaitAtOnce() throws Exception {
        Review whole = new Review(Review.of(base), Review.of(head), Tracer.Firewall.NFT, Integer.MAX_VALUE);
        Review.Report expected = whole.review();
        assertFalse(expected.gained().isEmpty(), "the relationship added gains flows");
        assertFalse(expected.readdressed().isEmpty(), "the container moved is re-addressed");
        int[] w = whole.loads();
        assertEquals(1, w[2]);
        assertEquals(1, w[3]);
        // One round: each source's host once, then each peer a flow entered once (a host is both).
        assertTrue(w[0] <= 2 * VMS && w[1] <= 2 * VMS, java.util.Arrays.toString(w) + " parses of " + VMS + " hosts per side");
        // The changed flows' witnesses, traced in full on each side: at most every host a trace enters, per changed flow.
        int changed = expected.gained().size() + expected.lost().size();
        assertTrue(w[4] - w[0] <= 2 * changed + VMS && w[5] - w[1] <= 2 * changed + VMS, java.util.Arrays.toString(w) + ", " + changed + " flows changed");
        for (Tracer.Firewall fw : Tracer.Firewall.values()) {
            Review.Report one = new Review(Review.of(base), Review.of(head), fw, Integer.MAX_VALUE).review();
            Review small = new Review(Review.of(base), Review.of(head), fw, 200);
            assertEquals(one, small.review(), fw + ": rounds of 200 queued parts give the report of one round");
            int[] s = small.loads();
            assertTrue(s[2] > 3 && s[3] > 3, s[2] + " and " + s[3] + " rounds");
            // Each round parses the peers it entered once: never more than its sources' hosts and every peer again.
            assertTrue(s[0] <= VMS + s[2] * VMS && s[1] <= VMS + s[3] * VMS, s[0] + " and " + s[1] + " parses");
        }
    }

    @Test
    void treesReadFromTheirDirectoriesAreReviewedAsInMemory(@TempDir Path dir) throws Exception {
        Path b = write(dir.resolve("base"), base), h = write(dir.resolve("head"), head);
        for (Tracer.Firewall fw : Tracer.Firewall.values()) {
            Review.Report fromDisk = new Review(Review.read(b), Review.read(h), fw).review();
            assertEquals(new Review(base, head, fw).review(), fromDisk, fw.toString());
            assertFalse(fromDisk.hosts().isEmpty());
        }
    }

    /** Review reads each host more than once: a tree a compile rewrites meanwhile, or is writing, is refused. */
    @Test
    void aTreeRewrittenWhileReviewReadsItIsRefused(@TempDir Path dir) throws Exception {
        Path b = write(dir.resolve("base"), base), h = write(dir.resolve("head"), head);
        Review r = new Review(Review.read(b), Review.read(h), Tracer.Firewall.NFT);
        Files.writeString(h.resolve("manifest.json"), Files.readString(h.resolve("manifest.json")) + "\n"); // a compile's rename
        TraceError e = org.junit.jupiter.api.Assertions.assertThrows(TraceError.class, r::review);
        assertTrue(e.getMessage().startsWith("HEAD: was being rewritten while review read it"), e.getMessage());
        Files.writeString(b.resolve(".meshc-journal"), "a compile between its commit and its last rename\n");
        e = org.junit.jupiter.api.Assertions.assertThrows(TraceError.class, () -> new Review(Review.read(b), Review.read(h), Tracer.Firewall.NFT));
        assertTrue(e.getMessage().startsWith("BASE: was being rewritten"), e.getMessage());
    }

    private static Path write(Path root, Map<String, byte[]> files) throws Exception {
        for (var e : files.entrySet()) {
            Path p = root.resolve(e.getKey());
            Files.createDirectories(p.getParent());
            Files.write(p, e.getValue());
        }
        assertTrue(Files.isRegularFile(root.resolve("manifest.json")));
        return root;
    }
}

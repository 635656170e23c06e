package dev.meshc.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshc.TestSupport;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * review host by host says what review of the trees read whole said ({@link WholeTreeReview}, the previous code), on
 * trees as compile writes them and on odd ones an operator or a broken tool could leave: a stale container left in a
 * directory without a ruleset, a host's directory copied under another name, an address spelt with leading zeros,
 * a container file without an address, hosts that do not parse on either side, a missing iptables render. Same
 * report (the records print alike), or the same error, under both firewalls, in memory and read from directories.
 */
class ReviewEquivalenceTest {
    static final String NFT = "hosts/vm1/nftables/meshc.nft";

    static Map<String, byte[]> golden() throws Exception {
        Path root = TestSupport.root().resolve("golden/fleet");
        Map<String, byte[]> out = new TreeMap<>();
        try (var s = Files.walk(root)) {
            for (Path p : (Iterable<Path>) s.filter(Files::isRegularFile)::iterator) out.put(root.relativize(p).toString(), Files.readAllBytes(p));
        }
        return out;
    }

    static Map<String, byte[]> edit(Map<String, byte[]> tree, Consumer<Map<String, byte[]>> change) {
        Map<String, byte[]> t = new TreeMap<>(tree);
        change.accept(t);
        return t;
    }

    static void replace(Map<String, byte[]> t, String path, String from, String to) {
        String s = new String(t.get(path), StandardCharsets.UTF_8);
        assertTrue(s.contains(from), path + " lacks " + from);
        t.put(path, s.replace(from, to).getBytes(StandardCharsets.UTF_8));
    }

    /** What a review says: its report printed, or its error. */
    static String outcome(ReviewCall call) {
        try {
            return call.run().toString();
        } catch (TraceError e) {
            return "error: " + e.getMessage();
        } catch (Exception e) {
            return "exception: " + e;
        }
    }

    interface ReviewCall {
        Object run() throws Exception;
    }

    static List<Object[]> cases() throws Exception {
        Map<String, byte[]> g = golden();
        String element = "      241.2.0.2 . 241.2.0.3 . 241.2.0.3 . tcp . 5432,\n";
        List<Object[]> out = new ArrayList<>();
        out.add(new Object[]{"unchanged", g, g});
        out.add(new Object[]{"an element removed", g, edit(g, t -> replace(t, NFT, element, ""))});
        out.add(new Object[]{"an element added", g, edit(g, t -> replace(t, NFT, element, element + "      241.2.0.2 . 241.2.0.4 . 241.2.0.4 . tcp . 8080,\n"))});
        // A container's files left in a directory that has no ruleset (a VM half removed by hand).
        out.add(new Object[]{"a stale container without a ruleset", g, edit(g, t -> {
            for (String f : List.of("network.json", "relationships.json")) t.put("hosts/vm9/containers/app-1/" + f, t.get("hosts/vm1/containers/app-1/" + f));
        })});
        // vm1's directory copied as vm1-old (sorts before vm1 by path, after it by name), app-1's elements removed there.
        out.add(new Object[]{"a host directory copied under another name", g, edit(g, t -> {
            for (var e : new TreeMap<>(t).entrySet()) {
                if (e.getKey().startsWith("hosts/vm1/")) t.put("hosts/vm1-old/" + e.getKey().substring(10), e.getValue());
            }
            replace(t, "hosts/vm1-old/nftables/meshc.nft", element, "");
        })});
        // An egress element whose address has leading zeros, on one side; spelt plainly on the other.
        String egress = "    type ipv4_addr . ipv4_addr . inet_proto . inet_service\n    flags interval\n  }\n\n  # Declared egress that leaves";
        out.add(new Object[]{"an address spelt with leading zeros", edit(g, t -> replace(t, NFT, egress,
                "    type ipv4_addr . ipv4_addr . inet_proto . inet_service\n    flags interval\n    elements = {\n      241.2.0.2 . 010.9.9.9/32 . tcp . 443,\n    }\n  }\n\n  # Declared egress that leaves")),
                edit(g, t -> replace(t, NFT, egress,
                        "    type ipv4_addr . ipv4_addr . inet_proto . inet_service\n    flags interval\n    elements = {\n      241.2.0.2 . 10.9.9.9/32 . tcp . 443,\n    }\n  }\n\n  # Declared egress that leaves"))});
        out.add(new Object[]{"a container file without an address", g, edit(g, t -> replace(t, "hosts/vm2/containers/db-2/network.json", "\"address\"", "\"addr\""))});
        out.add(new Object[]{"hosts that do not parse on both sides", edit(g, t -> t.put("hosts/vm3/ip/routes.batch", "route add nonsense\n".getBytes(StandardCharsets.UTF_8))),
                edit(g, t -> t.put("hosts/vm1/ip/routes.batch", "route add nonsense\n".getBytes(StandardCharsets.UTF_8)))});
        out.add(new Object[]{"no iptables render", g, edit(g, t -> t.remove("hosts/vm2/iptables/rules.v4"))});
        // HEAD's first host fails in a parser on what its pattern let through (not a TraceError); BASE's later host does not parse.
        out.add(new Object[]{"a parser's own exception on HEAD, a parse error on BASE", edit(g, t -> t.put("hosts/vm3/ip/routes.batch", "route add nonsense\n".getBytes(StandardCharsets.UTF_8))),
                edit(g, t -> t.put("hosts/vm1/ip/routes.batch", "route replace 999.0.0.0/8 dev eth0 scope link\n".getBytes(StandardCharsets.UTF_8)))});
        return out;
    }

    @Test
    void hostByHostSaysWhatTheTreesReadWholeSaid(@TempDir Path dir) throws Exception {
        int n = 0, errors = 0;
        for (Object[] c : cases()) {
            @SuppressWarnings("unchecked") Map<String, byte[]> base = (Map<String, byte[]>) c[1], head = (Map<String, byte[]>) c[2];
            Path b = write(dir.resolve(n + "/base"), base), h = write(dir.resolve(n + "/head"), head);
            for (Tracer.Firewall fw : Tracer.Firewall.values()) {
                String old = outcome(() -> new WholeTreeReview(base, head, fw).review());
                assertEquals(old, outcome(() -> new Review(base, head, fw).review()), c[0] + ", " + fw + ", in memory");
                String oldDisk = outcome(() -> new WholeTreeReview(WholeTreeReview.read(b, fw), WholeTreeReview.read(h, fw), fw).review());
                assertEquals(oldDisk, outcome(() -> new Review(Review.read(b), Review.read(h), fw).review()), c[0] + ", " + fw + ", from directories");
                if (old.startsWith("error")) errors++;
                assertTrue(!old.startsWith("exception"), c[0] + ": " + old);
            }
            n++;
        }
        assertTrue(errors >= 4, errors + " cases end in an error"); // the container file and the two parse failures, each firewall
    }

    private static Path write(Path root, Map<String, byte[]> files) throws Exception {
        for (var e : files.entrySet()) {
            Path p = root.resolve(e.getKey());
            Files.createDirectories(p.getParent());
            Files.write(p, e.getValue());
        }
        return root;
    }
}

package dev.meshc.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshc.TestSupport;
import dev.meshc.trace.Review;
import dev.meshc.trace.Tracer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * review's gained and lost flows equal what packets see: the fleet example (BASE) is applied on VMs in
 * namespaces by bin/meshc-apply and a set of flows is tried with packets; then a change (worker gains a
 * relationship to the cache, app loses its metrics relationship) is compiled (HEAD), applied the same way,
 * and the same flows tried again. The flows whose outcome changed are exactly those review reports, for
 * nft and for iptables.
 */
@Tag("kernel")
class ReviewAgreesWithPacketsTest {
    static final List<String> SOURCES = List.of("app-1", "app-2", "worker-1", "db-1", "cache-1");
    static final Map<String, String> PORTS = Map.of("db", "tcp 5432", "cache", "tcp 6379", "stats", "udp 8125", "other", "tcp 8080");

    Fleet fleet;
    int sport = 41000;

    @Test
    void gainedAndLostFlowsAreWhatPacketsSeeBeforeAndAfter() throws Exception {
        Kernel.require();
        Path work = Files.createTempDirectory("meshc-review-kernel");
        Path inventory = work.resolve("inventory.yml");
        String base = TestSupport.read(TestSupport.example("fleet"));
        String head = base.replace("  worker:\n    relationships:\n      database: db:pg\n", "  worker:\n    relationships:\n      database: db:pg\n      cache: cache:redis\n")
                .replace("      metrics: stats:statsd\n", "");
        assertFalse(head.equals(base) || head.contains("metrics:"), "the change applies to the example");
        Files.writeString(inventory, base);
        Files.copy(TestSupport.example("fleet").resolveSibling("meshc.lock"), work.resolve("meshc.lock"));
        compile(inventory, work.resolve("out"));
        copy(work.resolve("out"), work.resolve("base"));
        Files.writeString(inventory, head);
        compile(inventory, work.resolve("head"));
        fleet = new Fleet(work.resolve("out"), TestSupport.root().resolve("compiler/src/test/resources/e2e/netcheck.py"), Files.createDirectories(work.resolve("logs")));
        try {
            fleet.startVms();
            for (String fw : List.of("nft", "iptables")) {
                Tracer.Firewall firewall = fw.equals("nft") ? Tracer.Firewall.NFT : Tracer.Firewall.IPTABLES;
                Review.Report review = new Review(Review.read(work.resolve("base")), Review.read(work.resolve("head")), firewall).review();
                fleet.firewall = fw;
                Set<String> before = null, after = null;
                Map<String, String[]> flows = null;
                for (String tree : List.of("base", "head")) {
                    copy(work.resolve(tree), work.resolve("out"));
                    fleet.readOutput();
                    fleet.applyAll();
                    for (String vm : fleet.vms.keySet()) {
                        fleet.stopNetworkd(vm);
                        fleet.startNetworkd(vm);
                    }
                    fleet.place(s -> PORTS.containsKey(s) ? List.of(Integer.parseInt(PORTS.get(s).substring(4))) : List.of());
                    if (flows == null) flows = flows(work);
                    if (tree.equals("base")) before = reached(flows);
                    else after = reached(flows);
                }
                assertTrue(before.size() >= 10 && before.size() < flows.size(), fw + ": BASE delivers some of the flows tried and refuses others: " + before);
                Set<String> gained = new TreeSet<>(after), lost = new TreeSet<>(before);
                gained.removeAll(before);
                lost.removeAll(after);
                Set<String> reviewGained = keys(review.gained()), reviewLost = keys(review.lost());
                assertTrue(flows.keySet().containsAll(reviewGained) && flows.keySet().containsAll(reviewLost),
                        fw + ": every flow review reports was tried: " + reviewGained + " " + reviewLost);
                assertEquals(reviewGained, gained, fw + ": gained, review against packets");
                assertEquals(reviewLost, lost, fw + ": lost, review against packets");
                assertEquals(3, gained.size(), fw + ": worker-1 reaches the cache VIP, cache-1 and cache-2: " + gained);
                assertEquals(4, lost.size(), fw + ": app-1 and app-2 lose the metrics VIP and stats-1: " + lost);
            }
        } finally {
            fleet.close();
        }
    }

    /** The flows tried: from each source to every other container on its service's port, and to every VIP either tree gives it. */
    Map<String, String[]> flows(Path work) throws IOException {
        Map<String, String[]> flows = new TreeMap<>(); // "src dst proto port" -> {src, address, proto, port}
        for (Path tree : List.of(work.resolve("base"), work.resolve("head"))) {
            for (String src : SOURCES) {
                for (var c : fleet.containers.values()) {
                    if (!c.name().equals(src) && PORTS.containsKey(c.service())) {
                        String[] pp = PORTS.get(c.service()).split(" ");
                        flows.put(src + " " + c.name() + " " + pp[0] + " " + pp[1], new String[]{src, c.address(), pp[0], pp[1]});
                    }
                }
                var rels = Fleet.JSON.readTree(Files.readAllBytes(tree.resolve("hosts").resolve(fleet.containers.get(src).vm()).resolve("containers/" + src + "/relationships.json")));
                for (var rel : rels.properties()) {
                    for (var b : rel.getValue()) {
                        String ip = b.get("ip").asString(), port = b.get("port").asString();
                        String proto = PORTS.get(b.get("service").asString()).substring(0, 3);
                        flows.put(src + " vip " + ip + " " + proto + " " + port, new String[]{src, ip, proto, port});
                    }
                }
            }
        }
        return flows;
    }

    /** The flows some packet of which gets an answer. */
    Set<String> reached(Map<String, String[]> flows) {
        Set<String> out = new TreeSet<>();
        for (var e : flows.entrySet()) {
            String[] f = e.getValue();
            Fleet.Tally t = fleet.connect(f[0], f[1], Integer.parseInt(f[3]), 1, sport, f[2].equals("udp"));
            sport += 2;
            if (t.total() > 0) out.add(e.getKey());
        }
        return out;
    }

    static Set<String> keys(List<Review.FlowChange> cs) {
        Set<String> out = new TreeSet<>();
        for (Review.FlowChange c : cs) {
            String dst = c.flow().dst();
            out.add(c.flow().src() + " " + dst + " " + c.flow().proto() + " " + c.flow().port());
        }
        return out;
    }

    static void compile(Path inventory, Path out) {
        var r = TestSupport.meshc("compile", inventory.toString(), "-o", out.toString(), "-q");
        assertEquals(0, r.code(), r.err());
    }

    /** Makes {@code to} a copy of {@code from} in place (directories stay: networkd has one bind-mounted). */
    static void copy(Path from, Path to) throws IOException {
        if (Files.exists(to)) {
            try (Stream<Path> s = Files.walk(to)) {
                for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    if (!Files.exists(from.resolve(to.relativize(p).toString()))) Files.delete(p);
                }
            }
        }
        List<Path> all;
        try (Stream<Path> s = Files.walk(from)) {
            all = new ArrayList<>(s.toList());
        }
        for (Path p : all) {
            Path q = to.resolve(from.relativize(p).toString());
            if (Files.isDirectory(p)) Files.createDirectories(q);
            else Files.copy(p, q, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
        }
    }
}

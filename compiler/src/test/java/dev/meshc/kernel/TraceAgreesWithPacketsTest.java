package dev.meshc.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshc.TestSupport;
import dev.meshc.trace.Network;
import dev.meshc.trace.Tracer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * trace's verdicts, computed from the files alone, equal what real packets do on the fleet example
 * brought up in namespaces (applied by bin/meshc-apply), for nft and iptables: a sample of container ->
 * container | VIP : port/proto flows, delivered and not. A delivered flow must get replies, and only from
 * backends trace says it reaches; a flow trace refuses must get none.
 */
@Tag("kernel")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TraceAgreesWithPacketsTest {
    Path work;
    Fleet fleet;
    Network net;
    int sport = 40000;

    /** from, destination as the app names it (container, or a name in from's hosts file), port, udp. */
    record Probe(String from, String to, int port, boolean udp) {
    }

    static final List<Probe> SAMPLE = List.of(
            new Probe("app-1", "database.internal", 5432, false),
            new Probe("app-1", "metrics.internal", 8125, true),
            new Probe("app-2", "cache.internal", 6379, false),
            new Probe("app-2", "cache-1", 6379, false),
            new Probe("worker-1", "database.internal", 5432, false),
            new Probe("db-1", "db-3", 5432, false),
            new Probe("app-1", "other-1", 8080, false),
            new Probe("worker-1", "cache-2", 6379, false),
            new Probe("other-1", "db-1", 5432, false),
            new Probe("cache-1", "stats-1", 8125, true),
            new Probe("app-1", "db-2", 6379, false),
            new Probe("db-2", "app-2", 5432, false));

    @BeforeAll
    void build() throws Exception {
        Kernel.require();
        work = Files.createTempDirectory("meshc-trace-kernel");
        Path inventory = work.resolve("inventory.yml");
        Files.writeString(inventory, TestSupport.read(TestSupport.example("fleet")));
        Files.copy(TestSupport.example("fleet").resolveSibling("meshc.lock"), work.resolve("meshc.lock"));
        var r = TestSupport.meshc("compile", inventory.toString(), "-o", work.resolve("out").toString(), "-q");
        assertEquals(0, r.code(), r.err());
        net = Network.read(work.resolve("out"));
        fleet = new Fleet(work.resolve("out"), TestSupport.root().resolve("compiler/src/test/resources/e2e/netcheck.py"),
                Files.createDirectories(work.resolve("logs")));
        fleet.startVms();
        fleet.applyAll();
        for (String vm : fleet.vms.keySet()) fleet.startNetworkd(vm);
        for (var c : fleet.containers.values()) fleet.attach(c);
        fleet.awaitRouting();
        for (var c : fleet.containers.values()) {
            List<Integer> ports = switch (c.service()) {
                case "db" -> List.of(5432);
                case "cache" -> List.of(6379);
                case "stats" -> List.of(8125);
                case "other" -> List.of(8080);
                default -> List.of(5432, 6379, 8080);
            };
            fleet.serve(c.name(), ports);
        }
    }

    @AfterAll
    void tearDown() {
        if (fleet != null) fleet.close();
    }

    @Test
    void sampleVerdictsEqualPackets() throws Exception {
        List<String> mismatches = new ArrayList<>();
        int delivered = 0, refused = 0;
        for (String fw : List.of("nft", "iptables")) {
            fleet.firewall = fw;
            fleet.applyAll();
            Tracer tracer = new Tracer(net, fw.equals("nft") ? Tracer.Firewall.NFT : Tracer.Firewall.IPTABLES);
            for (Probe p : SAMPLE) {
                Network.Endpoint s = net.source(p.from());
                Network.Endpoint d = net.destination(s, p.to());
                Tracer.Trace t = tracer.trace(s.address(), d.address(), p.udp() ? "udp" : "tcp", p.port(), List.of());
                Set<String> reachable = new TreeSet<>();
                for (Tracer.Branch b : t.branches()) if (b.verdict().equals(Tracer.DELIVERED) && b.container() != null) reachable.add(b.container());
                Fleet.Tally tally = fleet.connect(p.from(), d.address(), p.port(), 6, sport, p.udp());
                sport += 10;
                boolean real = tally.total() > 0;
                if (t.delivered()) delivered++;
                else refused++;
                if (real != t.delivered() || !reachable.containsAll(tally.replies().keySet())) {
                    mismatches.add(fw + " " + p + ": trace " + t.verdict() + " " + reachable + ", packets " + tally.replies() + " failed " + tally.failed());
                }
            }
        }
        assertTrue(delivered >= 8 && refused >= 8, "the sample has both kinds: " + delivered + " delivered, " + refused + " refused");
        assertEquals(List.of(), mismatches);
    }
}

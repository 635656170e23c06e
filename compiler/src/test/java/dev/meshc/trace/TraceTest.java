package dev.meshc.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshc.TestSupport;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** trace evaluates the emitted files: every hop names the line that decided it, and edits to the files change verdicts. */
class TraceTest {
    static final Map<String, byte[]> FLEET = TestSupport.compileExample("fleet");

    static Map<String, byte[]> edit(String path, String from, String to) {
        Map<String, byte[]> m = new TreeMap<>(FLEET);
        String s = new String(m.get(path), StandardCharsets.UTF_8);
        assertTrue(s.contains(from), path + " lacks " + from);
        m.put(path, s.replace(from, to).getBytes(StandardCharsets.UTF_8));
        return m;
    }

    static int lineOf(String path, String text) {
        String[] lines = new String(FLEET.get(path), StandardCharsets.UTF_8).split("\n");
        for (int i = 0; i < lines.length; i++) if (lines[i].contains(text)) return i + 1;
        throw new AssertionError(text);
    }

    @Test
    void vipReachesEveryBackendThroughBothFirewalls() throws Exception {
        Network net = Network.of(FLEET);
        for (Tracer.Firewall fw : Tracer.Firewall.values()) {
            Tracer.Trace t = new Tracer(net, fw).trace("241.2.0.2", "169.254.148.129", "tcp", 5432, List.of());
            assertEquals("delivered", t.verdict(), fw + "\n" + t.hops());
            assertEquals(List.of("db-1", "db-2", "db-3"), t.branches().stream().map(Tracer.Branch::container).toList());
            assertTrue(t.hops().stream().anyMatch(h -> h.host().equals("vm2") && h.what().matches(".*tunnel filter: (passes, 192.168.16.32 . 241.2.0.2 is in tunnel_sources|ACCEPT -A MESHC-TUNNEL-IN -s 192.168.16.32/32 .*)")), t.hops().toString());
            assertTrue(t.hops().stream().anyMatch(h -> h.what().contains("delivered to db-3")), t.hops().toString());
        }
    }

    @Test
    void undeclaredServiceIsDroppedByTheAllowlistLine() throws Exception {
        Tracer.Trace t = new Tracer(Network.of(FLEET), Tracer.Firewall.NFT).trace("241.2.0.2", "241.2.0.4", "tcp", 8080, List.of());
        assertEquals("dropped", t.verdict());
        Tracer.Hop last = t.hops().get(t.hops().size() - 1);
        assertEquals("hosts/vm1/nftables/meshc.nft", last.file());
        assertEquals(lineOf(last.file(), "ip daddr 240.0.0.0/4 drop"), last.line());
        Tracer.Trace i = new Tracer(Network.of(FLEET), Tracer.Firewall.IPTABLES).trace("241.2.0.2", "241.2.0.4", "tcp", 8080, List.of());
        assertEquals("dropped", i.verdict());
    }

    @Test
    void removedFlowsElementOnThePeerDropsThatBranchOnly() throws Exception {
        Map<String, byte[]> m = edit("hosts/vm2/nftables/meshc.nft", "      241.2.0.2 . 247.221.80.4 . 247.221.80.4 . tcp . 5432,\n", "");
        Tracer.Trace t = new Tracer(Network.of(m), Tracer.Firewall.NFT).trace("241.2.0.2", "169.254.148.129", "tcp", 5432, List.of());
        assertEquals("dropped", t.verdict());
        assertEquals(List.of("delivered", "dropped", "delivered"), t.branches().stream().map(Tracer.Branch::verdict).toList());
    }

    @Test
    void changedDnatTargetIsFollowed() throws Exception {
        Map<String, byte[]> m = edit("hosts/vm1/iptables/rules.v4", "-j DNAT --to-destination 252.128.112.3", "-j DNAT --to-destination 252.128.112.4");
        Tracer.Trace t = new Tracer(Network.of(m), Tracer.Firewall.IPTABLES).trace("241.2.0.2", "169.254.148.129", "tcp", 5432, List.of());
        assertEquals("dropped", t.verdict(), t.hops().toString()); // stats-1 holds .4: no flow allows it
        assertEquals("stats-1", t.branches().get(2).container());
    }

    @Test
    void egressLeavesMasqueradedAndVmPortsAreInput() throws Exception {
        Tracer tr = new Tracer(Network.of(FLEET), Tracer.Firewall.NFT);
        Tracer.Trace t = tr.trace("252.128.112.5", "192.168.99.7", "tcp", 8080, List.of());
        assertEquals("delivered", t.verdict(), t.hops().toString());
        assertTrue(t.hops().stream().anyMatch(h -> h.what().contains("masqueraded to 192.168.200.7")));
        assertEquals("dropped", tr.trace("252.128.112.5", "192.168.99.7", "tcp", 8081, List.of()).verdict());
        assertEquals("delivered", tr.trace("252.128.112.5", "252.128.112.1", "udp", 53, List.of()).verdict());
        assertEquals("dropped-by-input", tr.trace("252.128.112.5", "252.128.112.1", "udp", 54, List.of()).verdict());
    }

    @Test
    void gibberishInTheRulesetIsAnErrorNamingFileAndLine() {
        Map<String, byte[]> m = edit("hosts/vm3/nftables/meshc.nft", "    jump flows\n    drop\n", "    jump flows\n    ip saddr 10.0.0.1 accept\n    drop\n");
        TraceError e = assertThrows(TraceError.class, () -> Network.of(m));
        assertTrue(e.getMessage().startsWith("hosts/vm3/nftables/meshc.nft:"), e.getMessage());
        assertTrue(e.getMessage().contains("'ip saddr 10.0.0.1 accept' is not meshc's nft grammar"), e.getMessage());
        Map<String, byte[]> i = edit("hosts/vm1/iptables/rules.v4", "-A MESHC-EGRESS -j DROP", "-A MESHC-EGRESS -m mark --mark 1 -j DROP");
        TraceError e2 = assertThrows(TraceError.class, () -> Network.of(i));
        assertTrue(e2.getMessage().startsWith("hosts/vm1/iptables/rules.v4:" + lineOf("hosts/vm1/iptables/rules.v4", "-A MESHC-EGRESS -j DROP") + ":"), e2.getMessage());
    }

    @Test
    void cliPrintsJsonAndExitsFiveWhenNotDelivered() {
        String inv = TestSupport.example("fleet").toString();
        TestSupport.Run ok = TestSupport.meshc("trace", "app-1", "database.internal:5432", inv, "--format", "json");
        assertEquals(0, ok.code(), ok.err());
        assertTrue(ok.out().startsWith("{\"verdict\": \"delivered\", \"hops\": ["), ok.out());
        assertTrue(ok.out().contains("{\"host\": \"vm1\", \"file\": \"hosts/vm1/containers/app-1/hosts\", \"line\": 2,"), ok.out());
        TestSupport.Run no = TestSupport.meshc("trace", "app-1", "other-1:8080", inv, "--firewall", "iptables");
        assertEquals(5, no.code(), no.err());
        assertTrue(no.out().contains("verdict: dropped"), no.out());
        TestSupport.Run bad = TestSupport.meshc("trace", "nobody", "other-1:8080", inv);
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("SRC nobody is no container"), bad.err());
    }
}

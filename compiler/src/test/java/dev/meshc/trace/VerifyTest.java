package dev.meshc.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshc.TestSupport;
import dev.meshc.fuzz.InventoryGenerator;
import dev.meshc.plan.Frontend;
import dev.meshc.plan.Plan;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** verify passes on what meshc emits and fails, with a witness flow, on trees edited by hand. */
class VerifyTest {
    static Plan plan(String example) {
        Path inv = TestSupport.example(example);
        Path lock = inv.resolveSibling("meshc.lock");
        Frontend.Result r = TestSupport.frontend("examples/" + example + "/inventory.yml", TestSupport.read(inv), Files.exists(lock) ? TestSupport.read(lock) : null);
        return r.plan().orElseThrow();
    }

    static Verifier.Report verify(String example, Map<String, byte[]> files) throws TraceError {
        return new Verifier(plan(example), Network.of(files)).verify();
    }

    @Test
    void examplesAreEqualToIntent() throws Exception {
        for (String e : TestSupport.examples()) {
            Verifier.Report r = verify(e, TestSupport.compileExample(e));
            assertTrue(r.ok(), e + ": " + r.findings());
            assertTrue(r.rows().size() >= 3, e + ": " + r.rows());
        }
    }

    @Test
    void randomInventoriesAreEqualToIntent() throws Exception {
        int verified = 0;
        for (long seed = 1; seed <= 12; seed++) {
            String yaml = InventoryGenerator.generate(seed, 4, 10);
            Frontend.Result r = TestSupport.frontend("random-" + seed, yaml, null);
            if (!r.ok()) continue;
            Map<String, byte[]> files = TestSupport.compile("random-" + seed, yaml, null);
            Verifier.Report rep = new Verifier(r.plan().orElseThrow(), Network.of(files)).verify();
            verified++;
            assertTrue(rep.ok(), "seed " + seed + ": " + rep.findings().stream().limit(3).toList() + "\n" + yaml);
        }
    }

    static Map<String, byte[]> edit(Map<String, byte[]> files, String path, String from, String to) {
        Map<String, byte[]> m = new TreeMap<>(files);
        String s = new String(m.get(path), StandardCharsets.UTF_8);
        assertTrue(s.contains(from), path + " lacks " + from);
        m.put(path, s.replace(from, to).getBytes(StandardCharsets.UTF_8));
        return m;
    }

    @Test
    void addedFlowsElementIsAWitnessedUnintendedFlow() throws Exception {
        // app-1 may not reach other-1 (no relationship): one element in vm1's flow set lets it.
        Map<String, byte[]> m = edit(TestSupport.compileExample("fleet"), "hosts/vm1/nftables/meshc.nft",
                "      241.2.0.2 . 241.2.0.3 . 241.2.0.3 . tcp . 5432,\n",
                "      241.2.0.2 . 241.2.0.3 . 241.2.0.3 . tcp . 5432,\n      241.2.0.2 . 241.2.0.4 . 241.2.0.4 . tcp . 8080,\n");
        Verifier.Report r = verify("fleet", m);
        assertFalse(r.ok());
        Verifier.Finding f = r.findings().stream().filter(x -> x.kind().equals("unintended")).findFirst().orElseThrow(() -> new AssertionError(r.findings().toString()));
        assertEquals("nft: app-1 (241.2.0.2) -> other-1 (241.2.0.4):8080/tcp passes but the inventory does not allow it", f.summary());
        assertTrue(f.witness().delivered());
        assertTrue(r.findings().stream().anyMatch(x -> x.kind().equals("firewalls-differ")), r.findings().stream().limit(3).map(Verifier.Finding::summary).toList().toString());
        assertTrue(r.findings().stream().anyMatch(x -> x.kind().equals("unused") && x.summary().startsWith("hosts/vm1/nftables/meshc.nft:")), r.findings().stream().limit(3).map(Verifier.Finding::summary).toList().toString());
    }

    @Test
    void changedDnatTargetIsMissingAndUnintended() throws Exception {
        Map<String, byte[]> m = edit(TestSupport.compileExample("fleet"), "hosts/vm1/nftables/meshc.nft",
                "2 : 252.128.112.3 }", "2 : 252.128.112.4 }");
        Verifier.Report r = verify("fleet", m);
        assertFalse(r.ok());
        assertTrue(r.findings().stream().anyMatch(x -> x.kind().equals("missing") && x.summary().startsWith("nft: app-1 (241.2.0.2) -> 169.254.148.129:5432/tcp is dropped")),
                r.findings().toString());
    }

    @Test
    void acceptingEgressChainInIptablesOnlyIsCaught() throws Exception {
        Map<String, byte[]> m = edit(TestSupport.compileExample("fleet"), "hosts/vm2/iptables/rules.v4", "-A MESHC-EGRESS -j DROP", "-A MESHC-EGRESS -j ACCEPT");
        Verifier.Report r = verify("fleet", m);
        assertTrue(r.findings().stream().anyMatch(x -> x.kind().equals("unintended") && x.summary().startsWith("iptables: ")), r.findings().stream().limit(3).map(Verifier.Finding::summary).toList().toString());
        assertTrue(r.findings().stream().noneMatch(x -> x.kind().equals("unintended") && x.summary().startsWith("nft: ")), r.findings().stream().limit(3).map(Verifier.Finding::summary).toList().toString());
    }

    @Test
    void cliVerifiesAnEditedTreeAndExitsFive(@TempDir Path dir) throws Exception {
        String inv = TestSupport.example("fleet").toString();
        assertEquals(0, TestSupport.meshc("compile", inv, "-o", dir.toString(), "-q").code());
        TestSupport.Run ok = TestSupport.meshc("verify", inv, "--out", dir.toString());
        assertEquals(0, ok.code(), ok.out() + ok.err());
        assertTrue(ok.out().contains("verify: the files reach exactly what the inventory allows"), ok.out());
        Path nft = dir.resolve("hosts/vm3/nftables/meshc.nft");
        Files.writeString(nft, Files.readString(nft).replace("    jump flows\n    drop\n  }", "    jump flows\n    accept\n  }"));
        TestSupport.Run bad = TestSupport.meshc("verify", inv, "--out", dir.toString());
        assertEquals(4, bad.code(), bad.out());
        assertTrue(bad.err().contains("hosts/vm3/nftables/meshc.nft:") && bad.err().contains("'accept' is not meshc's nft grammar"), bad.err());
    }

    @Test
    void networkdAndIpBatchMustAgree() throws Exception {
        Map<String, byte[]> m = edit(TestSupport.compileExample("fleet"), "hosts/vm2/systemd-network/60-meshc-vx.network",
                "Destination=252.128.112.0/20\nGateway=252.128.112.1", "Destination=252.128.112.0/21\nGateway=252.128.112.1");
        Verifier.Report r = verify("fleet", m);
        assertEquals(List.of("networkd-differs", "networkd-differs"), r.findings().stream().map(Verifier.Finding::kind).toList());
        assertTrue(r.findings().get(0).summary().contains("hosts/vm2/"), r.findings().get(0).summary());
        Map<String, byte[]> bad = edit(TestSupport.compileExample("fleet"), "hosts/vm2/systemd-network/70-meshc-mc1.network", "Scope=link", "Metric=5");
        TraceError e = assertThrows(TraceError.class, () -> Network.of(bad));
        assertTrue(e.getMessage().startsWith("hosts/vm2/systemd-network/70-meshc-mc1.network:17: 'Metric=5'"), e.getMessage());
    }

    @Test
    void widenedTunnelSourcesLetAPeerClaimAnotherVmsContainers() throws Exception {
        Map<String, byte[]> m = edit(TestSupport.compileExample("fleet"), "hosts/vm2/nftables/meshc.nft",
                "192.168.200.7 . 0xfc807000-0xfc807fff", "192.168.200.7 . 0xf1020000-0xfc807fff");
        Verifier.Report r = verify("fleet", m);
        // 0xf1020000-0xfc807fff spans vm1's subnet and vm2's own.
        assertEquals(List.of("nft: vm2 accepts tunnel packets from vm3 with inner source 241.2.0.2 (vm1's subnet)",
                        "nft: vm2 accepts tunnel packets from vm3 with inner source 247.221.80.2 (vm2's subnet)"),
                r.findings().stream().map(Verifier.Finding::summary).toList());
    }
}

package dev.meshc.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshc.TestSupport;
import java.util.Map;
import org.junit.jupiter.api.Test;

class IndexAllocatorTest {
    static final String HEAD = "version: 1\nnetwork: {underlay: 192.168.0.0/16, overlay: 240.0.0.0/4}\n"
            + "vms:\n  a: {underlay: 192.168.0.10}\n  b: {underlay: 192.168.0.11}\nservices:\n  s: {}\ncontainers:\n";

    static Plan plan(String containers, Lock lock) {
        var r = TestSupport.frontend("t.yml", HEAD + containers, lock == null ? null : LockFile.format(lock));
        assertTrue(r.ok(), () -> r.diagnostics().toString());
        return r.plan().get();
    }

    static Map<String, Integer> addresses(Plan p) {
        Map<String, Integer> m = new java.util.TreeMap<>();
        p.containers().forEach((k, v) -> m.put(k, v.address()));
        return m;
    }

    @Test
    void newContainersTakeTheLowestFreeIndex() {
        Plan p = plan("  c1: {service: s, vm: a}\n  c2: {service: s, vm: a, index: 1}\n  c3: {service: s, vm: a}\n", null);
        assertEquals(2, p.containers().get("c1").index());
        assertEquals(1, p.containers().get("c2").index());
        assertEquals(3, p.containers().get("c3").index());
    }

    @Test
    void addingAndRemovingNeverChangesAnotherAddress() {
        Plan p1 = plan("  c1: {service: s, vm: a}\n  c2: {service: s, vm: a}\n  c3: {service: s, vm: a}\n", null);
        // remove c2, add c0 (sorts first): c1 and c3 keep their addresses; c0 does not get c2's index
        Plan p2 = plan("  c0: {service: s, vm: a}\n  c1: {service: s, vm: a}\n  c3: {service: s, vm: a}\n", p1.lock());
        assertEquals(addresses(p1).get("c1"), addresses(p2).get("c1"));
        assertEquals(addresses(p1).get("c3"), addresses(p2).get("c3"));
        assertEquals(4, p2.containers().get("c0").index());
        assertTrue(!p2.lock().entries().containsKey("c2"), "removed containers leave the lock");
    }

    @Test
    void aMovedContainerGetsANewIndexOnItsNewVm() {
        Plan p1 = plan("  c1: {service: s, vm: a}\n  c2: {service: s, vm: a}\n  d1: {service: s, vm: b}\n", null);
        Plan p2 = plan("  c1: {service: s, vm: b}\n  c2: {service: s, vm: a}\n  d1: {service: s, vm: b}\n", p1.lock());
        assertEquals(new Lock.Entry("b", 2), p2.lock().entries().get("c1"));
        assertEquals(addresses(p1).get("c2"), addresses(p2).get("c2"));
        assertEquals(addresses(p1).get("d1"), addresses(p2).get("d1"));
    }

    /** A freed index is quarantined: handed out again only after every other index of the VM has been. */
    @Test
    void aFreedIndexIsNotReusedUntilTheVmWrapsAround() {
        // remove the newest container (index 3): the next one gets 4, not 3, and the lock records why
        Plan p1 = plan("  c1: {service: s, vm: a}\n  c2: {service: s, vm: a}\n  c3: {service: s, vm: a}\n", null);
        Plan p2 = plan("  c1: {service: s, vm: a}\n  c2: {service: s, vm: a}\n", p1.lock());
        assertEquals(Map.of("a", 4), p2.lock().next(), "the cursor survives the removal of the highest index");
        assertTrue(LockFile.format(p2.lock()).contains("\n@next a 4\n"), LockFile.format(p2.lock()));
        Plan p3 = plan("  c1: {service: s, vm: a}\n  c2: {service: s, vm: a}\n  c9: {service: s, vm: a}\n", p2.lock());
        assertEquals(4, p3.containers().get("c9").index());
        // with a lock read back from text, the same
        var diags = new dev.meshc.diag.Diagnostics();
        Lock reread = LockFile.parse("l", LockFile.format(p2.lock()), diags);
        assertEquals(p2.lock(), reread);
        assertEquals(4, plan("  c1: {service: s, vm: a}\n  c2: {service: s, vm: a}\n  c9: {service: s, vm: a}\n", reread).containers().get("c9").index());
    }

    @Test
    void aFullCycleWrapsToTheIndexFreedLongestAgo() {
        // overlay /12 over a /16 underlay: 4 container bits, 13 containers per VM
        String head = HEAD.replace("240.0.0.0/4", "240.0.0.0/12");
        StringBuilder all = new StringBuilder();
        for (int i = 1; i <= 13; i++) all.append("  k").append(i < 10 ? "0" : "").append(i).append(": {service: s, vm: a}\n");
        var r1 = TestSupport.frontend("t.yml", head + all, null);
        assertTrue(r1.ok(), () -> r1.diagnostics().toString());
        // free 5 and then 9; a new container takes 5 (freed first once the cursor wraps), the next 9
        String without5 = all.toString().replace("  k05: {service: s, vm: a}\n", "");
        var r2 = TestSupport.frontend("t.yml", head + without5, LockFile.format(r1.plan().get().lock()));
        String without9 = without5.replace("  k09: {service: s, vm: a}\n", "");
        var r3 = TestSupport.frontend("t.yml", head + without9, LockFile.format(r2.plan().get().lock()));
        var r4 = TestSupport.frontend("t.yml", head + without9 + "  n1: {service: s, vm: a}\n", LockFile.format(r3.plan().get().lock()));
        assertTrue(r4.ok(), () -> r4.diagnostics().toString());
        assertEquals(5, r4.plan().get().containers().get("n1").index());
        var r5 = TestSupport.frontend("t.yml", head + without9 + "  n1: {service: s, vm: a}\n  n2: {service: s, vm: a}\n",
                LockFile.format(r4.plan().get().lock()));
        assertEquals(9, r5.plan().get().containers().get("n2").index());
    }

    @Test
    void lockRoundTrips() {
        Plan p = plan("  c1: {service: s, vm: a}\n  c2: {service: s, vm: b, index: 9}\n", null);
        var diags = new dev.meshc.diag.Diagnostics();
        assertEquals(p.lock(), LockFile.parse("l", LockFile.format(p.lock()), diags));
        assertTrue(!diags.hasErrors());
        assertEquals(LockFile.HEADER + "c1 a 1\nc2 b 9\n", LockFile.format(p.lock()));
    }

    @Test
    void renamingAVmInPlaceKeepsItsContainersAddresses() {
        // c1, c2, c3 hold indices 1, 2, 3 on a; c1 is then removed, so index 1 is free
        Plan p1 = plan("  c1: {service: s, vm: a}\n  c2: {service: s, vm: a}\n  c3: {service: s, vm: a}\n", null);
        Lock withoutC1 = Lock.of(new java.util.TreeMap<>(Map.of("c2", p1.lock().entries().get("c2"), "c3", p1.lock().entries().get("c3"))));
        // a renamed to a2 with the same underlay: the lock still says a; the lowest free index would be 1
        var r = TestSupport.frontend("t.yml", HEAD.replace("  a: {", "  a2: {") + "  c2: {service: s, vm: a2}\n  c3: {service: s, vm: a2}\n",
                LockFile.format(withoutC1));
        assertTrue(r.ok(), r.diagnostics()::toString);
        assertEquals(addresses(p1).get("c2"), addresses(r.plan().get()).get("c2"));
        assertEquals(addresses(p1).get("c3"), addresses(r.plan().get()).get("c3"));
        assertEquals("a2", r.plan().get().lock().entries().get("c3").vm(), "the lock follows the new name");
    }

    @Test
    void l502NamesTheContainerThatTookTheIndex() {
        Plan p1 = plan("  c1: {service: s, vm: a}\n  c2: {service: s, vm: a}\n", null);
        var r = TestSupport.frontend("t.yml", HEAD + "  c1: {service: s, vm: a}\n  c2: {service: s, vm: a, index: 1}\n", LockFile.format(p1.lock()));
        assertTrue(r.diagnostics().get(0).message().contains("now pinned by container 'c2'"), r.diagnostics()::toString);
    }
}

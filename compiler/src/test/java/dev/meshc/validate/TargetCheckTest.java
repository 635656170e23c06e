package dev.meshc.validate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshc.TestSupport;
import org.junit.jupiter.api.Test;

/** validate --target: an old systemd or nftables gets a T700 warning naming what fails and what to use. */
class TargetCheckTest {
    @Test
    void anOldTargetIsWarnedWithT700() throws Exception {
        String quickstart = TestSupport.example("quickstart").toString();
        var ok = TestSupport.meshc("validate", quickstart, "--target", "systemd=252,nftables=1.0.6,kernel=6.1");
        assertEquals(0, ok.code(), ok.err());
        assertFalse(ok.err().contains("T700"), ok.err());
        var old = TestSupport.meshc("validate", quickstart, "--target", "systemd=245,nftables=0.9.8");
        assertEquals(0, old.code(), old.err());
        assertTrue(old.err().contains("warning[T700]: systemd 245 ignores Independent="), old.err());
        assertTrue(old.err().contains("--routing ip") && old.err().contains("nftables 0.9.8 is older than 1.0.1"), old.err());
        var bad = TestSupport.meshc("validate", quickstart, "--target", "systemd=old");
        assertEquals(2, bad.code(), bad.err());
    }
}

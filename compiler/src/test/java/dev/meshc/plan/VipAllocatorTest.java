package dev.meshc.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.meshc.model.Cidr;
import dev.meshc.model.Ipv4;
import dev.meshc.model.Network;
import dev.meshc.model.VipRange;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class VipAllocatorTest {
    private static final VipRange DEFAULT = VipRange.of(new Network(Network.DEFAULT_VIP, Network.DEFAULT_VIP, Network.DEFAULT_VIP,
            Network.defaultReserved(Network.DEFAULT_VIP), null, 0, 0, false, 1500, null));

    @Test
    void contractExamples() {
        assertEquals("169.254.148.129", Ipv4.format(VipAllocator.vip(DEFAULT, "database", 0)));
        assertEquals("169.254.131.132", Ipv4.format(VipAllocator.vip(DEFAULT, "db", 0)));
        assertEquals("169.254.143.111", Ipv4.format(VipAllocator.vip(DEFAULT, "cache", 0)));
    }

    @Test
    void defaultReservationsLeave65536Minus768() {
        assertEquals(65536 - 768, DEFAULT.size());
        assertEquals("169.254.1.0", Ipv4.format(DEFAULT.get(0)));
        assertEquals("169.254.254.255", Ipv4.format(DEFAULT.get(DEFAULT.size() - 1)));
    }

    @Test
    void collidingNamesWithinOneServiceTakeTheNextAttempt() {
        // A 4-address range (first and last reserved by default) has 2 usable addresses, so
        // among many names two must collide on attempt 0; find such a pair.
        VipRange tiny = new VipRange(Cidr.parse("10.9.9.0/30"), Network.defaultReserved(Cidr.parse("10.9.9.0/30")));
        assertEquals(2, tiny.size());
        String a = "a0", b = null;
        for (int i = 1; b == null; i++) {
            if (VipAllocator.vip(tiny, "a" + i, 0) == VipAllocator.vip(tiny, a, 0)) b = "a" + i;
        }
        Map<String, Integer> vips = VipAllocator.forService(tiny, List.of(b, a));
        assertNotEquals(vips.get(a), vips.get(b));
        // The name that sorts first keeps attempt 0; the other moves on.
        String first = a.compareTo(b) < 0 ? a : b, second = first.equals(a) ? b : a;
        assertEquals(VipAllocator.vip(tiny, first, 0), vips.get(first));
        int attempt = 1;
        while (VipAllocator.vip(tiny, second, attempt) == vips.get(first)) attempt++;
        assertEquals(VipAllocator.vip(tiny, second, attempt), vips.get(second));
    }

    @Test
    void vipDependsOnTheNameOnly() {
        assertEquals(VipAllocator.forService(DEFAULT, List.of("database", "cache")).get("database"),
                VipAllocator.forService(DEFAULT, List.of("database", "metrics", "zzz")).get("database"));
    }
}

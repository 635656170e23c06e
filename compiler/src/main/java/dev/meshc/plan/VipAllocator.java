package dev.meshc.plan;

import dev.meshc.model.Sha256;
import dev.meshc.model.VipRange;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Relationship VIPs (docs/design.md, "Relationship VIPs"): {@code A[u64(SHA-256(s)[0..8]) mod |A|]}, where s is the name for
 * attempt 0 and {@code name#attempt} after. Depends on the name only, so any tool can recompute it.
 */
public final class VipAllocator {
    private VipAllocator() {
    }

    public static int vip(VipRange usable, String name, int attempt) {
        String s = attempt == 0 ? name : name + "#" + attempt;
        byte[] h = Sha256.of(s.getBytes(StandardCharsets.UTF_8));
        long u = 0;
        for (int i = 0; i < 8; i++) u = (u << 8) | (h[i] & 0xff);
        return usable.get(Long.remainderUnsigned(u, usable.size()));
    }

    /**
     * VIPs of one consuming service's relationships: names in ascending byte order, each taking its
     * first attempt whose address no earlier name took. The caller guarantees
     * {@code names.size() <= usable.size()} (rule R408), so the search ends.
     */
    public static Map<String, Integer> forService(VipRange usable, Collection<String> names) {
        Map<String, Integer> out = new LinkedHashMap<>();
        Set<Integer> taken = new HashSet<>();
        for (String name : new TreeSet<>(names)) {
            for (int attempt = 0; ; attempt++) {
                int a = vip(usable, name, attempt);
                if (taken.add(a)) {
                    out.put(name, a);
                    break;
                }
            }
        }
        return out;
    }
}

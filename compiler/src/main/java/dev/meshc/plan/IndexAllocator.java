package dev.meshc.plan;

import dev.meshc.model.Container;
import dev.meshc.model.Inventory;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Gives every container an index (DESIGN §3): pinned indices first, then what the lock recorded
 * for the same VM, then the lowest free index for new or moved containers. So adding or removing
 * a container never changes another's address; only a newly pinned index can displace a locked one.
 */
public final class IndexAllocator {
    /** The new lock, and the containers that lost their locked index to a pin (worth a warning). */
    public record Result(Lock lock, List<String> displaced) {
    }

    private IndexAllocator() {
    }

    public static Result allocate(Inventory inv, Lock old, int capacity) {
        Map<String, BitSet> used = new HashMap<>();
        Map<String, Lock.Entry> out = new TreeMap<>();
        for (Container c : inv.containers().values()) {
            if (c.index() != null) {
                used.computeIfAbsent(c.vm(), v -> new BitSet()).set(c.index());
                out.put(c.name(), new Lock.Entry(c.vm(), c.index()));
            }
        }
        List<String> displaced = new ArrayList<>();
        List<Container> fresh = new ArrayList<>();
        for (Container c : inv.containers().values()) {
            if (c.index() != null) continue;
            Lock.Entry e = old.entries().get(c.name());
            BitSet u = used.computeIfAbsent(c.vm(), v -> new BitSet());
            if (e != null && e.vm().equals(c.vm()) && e.index() <= capacity && !u.get(e.index())) {
                u.set(e.index());
                out.put(c.name(), e);
            } else {
                if (e != null && e.vm().equals(c.vm()) && e.index() <= capacity) displaced.add(c.name());
                fresh.add(c);
            }
        }
        for (Container c : fresh) {
            BitSet u = used.get(c.vm());
            int k = u.nextClearBit(1);
            if (k > capacity) throw new IllegalStateException("VM " + c.vm() + " is full; rule R407 should have caught this");
            u.set(k);
            out.put(c.name(), new Lock.Entry(c.vm(), k));
        }
        return new Result(Lock.of(out), List.copyOf(displaced));
    }
}

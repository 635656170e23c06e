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
 * Gives every container an index (docs/design.md, "The lock"): pinned indices first, then what the
 * lock recorded for the same VM, then, for a container whose locked VM is no longer in the inventory
 * (a VM renamed), its locked index if free, then, for new or moved containers, the first free index
 * at or after the VM's cursor (next-fit, wrapping at the VM's capacity). So adding or removing a
 * container never changes another's address, and a freed index is handed out again only after every
 * other index of the VM has been: a flow still pinned by conntrack to a removed container's address
 * does not meet a new, unrelated container there. Only a newly pinned index can displace a locked one.
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
        List<Container> fromVanished = new ArrayList<>();
        List<Container> fresh = new ArrayList<>();
        for (Container c : inv.containers().values()) {
            if (c.index() != null) continue;
            Lock.Entry e = old.entries().get(c.name());
            BitSet u = used.computeIfAbsent(c.vm(), v -> new BitSet());
            if (e != null && e.vm().equals(c.vm()) && e.index() <= capacity && !u.get(e.index())) {
                u.set(e.index());
                out.put(c.name(), e);
            } else {
                if (e != null && e.vm().equals(c.vm()) && e.index() <= capacity) {
                    displaced.add(c.name());
                    fresh.add(c);
                } else if (e != null && !inv.vms().containsKey(e.vm()) && e.index() <= capacity) {
                    fromVanished.add(c);
                } else {
                    fresh.add(c);
                }
            }
        }
        // A container whose locked VM is gone from the inventory keeps its index where it is now, if free:
        // a VM renamed in place (same underlay address) keeps its containers' addresses.
        for (Container c : fromVanished) {
            int k = old.entries().get(c.name()).index();
            BitSet u = used.get(c.vm());
            if (u.get(k)) {
                fresh.add(c);
                continue;
            }
            u.set(k);
            out.put(c.name(), new Lock.Entry(c.vm(), k));
        }
        Map<String, Integer> cursor = old.nextIndices(inv.vms().keySet());
        java.util.Set<String> moved = new java.util.HashSet<>();
        for (Container c : fresh) {
            BitSet u = used.get(c.vm());
            int from = cursor.getOrDefault(c.vm(), 1);
            int k = from > capacity ? capacity + 1 : u.nextClearBit(Math.max(1, from));
            if (k > capacity) k = u.nextClearBit(1); // wrap: the indices freed longest ago come first
            if (k > capacity) throw new IllegalStateException("VM " + c.vm() + " is full; rule R407 should have caught this");
            u.set(k);
            out.put(c.name(), new Lock.Entry(c.vm(), k));
            cursor.put(c.vm(), k + 1);
            moved.add(c.vm());
        }
        Map<String, Integer> highest = Lock.highestByVm(out.values());
        Map<String, Integer> next = new TreeMap<>();
        for (var e : cursor.entrySet()) {
            String vm = e.getKey();
            int n = e.getValue() > capacity ? 1 : e.getValue();
            int implicit = highest.getOrDefault(vm, 0) + 1;
            // Written only where the default (one past the highest index held) would be wrong: after an
            // allocation, where the old lock said so, or where the default would move back over freed indices.
            if (n != implicit && (moved.contains(vm) || old.next().containsKey(vm) || n > implicit)) next.put(vm, n);
        }
        return new Result(Lock.of(out, next), List.copyOf(displaced));
    }
}

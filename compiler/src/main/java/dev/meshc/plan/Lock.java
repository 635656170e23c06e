package dev.meshc.plan;

import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The lock file's content: container → (vm, index), and per VM the next index meshc tries (see
 * {@link IndexAllocator}: a freed index is not handed out again until the VM's other indices have
 * been). Sorted; plain text on disk (see {@link LockFile}).
 */
public record Lock(SortedMap<String, Entry> entries, SortedMap<String, Integer> next) {

    public record Entry(String vm, int index) {
    }

    public static final Lock EMPTY = new Lock(new TreeMap<>(), new TreeMap<>());

    public Lock {
        entries = Collections.unmodifiableSortedMap(new TreeMap<>(entries));
        next = Collections.unmodifiableSortedMap(new TreeMap<>(next));
    }

    public Lock(SortedMap<String, Entry> entries) {
        this(entries, new TreeMap<>());
    }

    public static Lock of(Map<String, Entry> entries) {
        return new Lock(new TreeMap<>(entries), new TreeMap<>());
    }

    public static Lock of(Map<String, Entry> entries, Map<String, Integer> next) {
        return new Lock(new TreeMap<>(entries), new TreeMap<>(next));
    }

    /** Where allocation on {@code vm} resumes: the recorded cursor, else one past the highest index held there. */
    public int nextIndex(String vm) {
        Integer n = next.get(vm);
        return n != null ? n : highest(vm) + 1;
    }

    int highest(String vm) {
        int max = 0;
        for (Entry e : entries.values()) if (e.vm().equals(vm) && e.index() > max) max = e.index();
        return max;
    }

    /**
     * The highest index held on each VM that holds one, in one pass: asking {@link #nextIndex} per VM walks every
     * entry per VM (50 million steps at 1,000 VMs and 50,000 containers, a third of a compile's front end).
     */
    static Map<String, Integer> highestByVm(java.util.Collection<Entry> entries) {
        Map<String, Integer> max = new java.util.HashMap<>();
        for (Entry e : entries) max.merge(e.vm(), e.index(), Math::max);
        return max;
    }

    /** {@link #nextIndex} of the given VMs, all at once. */
    Map<String, Integer> nextIndices(Iterable<String> vms) {
        Map<String, Integer> highest = highestByVm(entries.values()), out = new TreeMap<>();
        for (String vm : vms) {
            Integer n = next.get(vm);
            out.put(vm, n != null ? n : highest.getOrDefault(vm, 0) + 1);
        }
        return out;
    }
}

package dev.meshc.plan;

import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/** The lock file's content: container → (vm, index). Sorted; plain text on disk (see {@link LockFile}). */
public record Lock(SortedMap<String, Entry> entries) {

    public record Entry(String vm, int index) {
    }

    public static final Lock EMPTY = new Lock(new TreeMap<>());

    public Lock {
        entries = Collections.unmodifiableSortedMap(new TreeMap<>(entries));
    }

    public static Lock of(Map<String, Entry> entries) {
        return new Lock(new TreeMap<>(entries));
    }
}

package dev.meshc.model;

import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/** Sorted, unmodifiable copies: every collection in the model iterates in name order. */
public final class Sorted {
    private Sorted() {
    }

    public static <V> SortedMap<String, V> copy(Map<String, V> m) {
        return Collections.unmodifiableSortedMap(new TreeMap<>(m));
    }
}

package dev.meshc.model;

/** A container; {@code index} is null unless pinned in the inventory (then the lock file decides). */
public record Container(String name, String service, String vm, Integer index, Spans spans) {
}

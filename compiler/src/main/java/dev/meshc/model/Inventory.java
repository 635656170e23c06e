package dev.meshc.model;

import java.util.SortedMap;

/** The whole inventory, immutable, every map sorted by name. */
public record Inventory(String file, Network network, SortedMap<String, Vm> vms,
                        SortedMap<String, Service> services, SortedMap<String, Container> containers) {

    public Inventory {
        vms = Sorted.copy(vms);
        services = Sorted.copy(services);
        containers = Sorted.copy(containers);
    }
}

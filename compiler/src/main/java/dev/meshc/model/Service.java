package dev.meshc.model;

import java.util.SortedMap;

public record Service(String name, SortedMap<String, Endpoint> endpoints,
                      SortedMap<String, Relationship> relationships,
                      SortedMap<String, Egress> egress, Spans spans) {

    public Service {
        endpoints = Sorted.copy(endpoints);
        relationships = Sorted.copy(relationships);
        egress = Sorted.copy(egress);
    }
}

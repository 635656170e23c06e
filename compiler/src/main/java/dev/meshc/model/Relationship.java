package dev.meshc.model;

/** {@code <name>: <service>:<endpoint>} in a consuming service. */
public record Relationship(String name, String service, String endpoint, Spans spans) {
}

package dev.meshc.model;

/** A VM: its underlay address and the interface that carries it. */
public record Vm(String name, int underlay, String iface, Spans spans) {
    public static final String DEFAULT_INTERFACE = "eth0";
}

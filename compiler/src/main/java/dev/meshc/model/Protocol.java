package dev.meshc.model;

public enum Protocol {
    TCP, UDP;

    public String id() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}

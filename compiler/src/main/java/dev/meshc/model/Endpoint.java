package dev.meshc.model;

public record Endpoint(String name, int port, Protocol protocol, String scheme, Spans spans) {
}

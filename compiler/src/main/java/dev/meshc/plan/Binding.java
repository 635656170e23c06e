package dev.meshc.plan;

import dev.meshc.model.Protocol;

/** One relationship of a consuming service, resolved: its VIP and the endpoint behind it. */
public record Binding(String relationship, String service, String endpoint, String scheme,
                      int vip, int port, Protocol protocol) {

    public String targetKey() {
        return Target.key(service, endpoint);
    }
}

package dev.meshc.plan;

import dev.meshc.model.Protocol;
import java.util.List;

/** An endpoint that relationships point at, with the overlay addresses of its backends (ascending). */
public record Target(String service, String endpoint, Protocol protocol, int port, List<Integer> backends) {

    public Target {
        backends = List.copyOf(backends);
    }

    public static String key(String service, String endpoint) {
        return service + ":" + endpoint;
    }

    public String key() {
        return key(service, endpoint);
    }
}

package dev.meshc.model;

/**
 * What containers of a service may reach outside the overlay: {@code to} a prefix (masqueraded to
 * the VM's underlay address when {@code masquerade}), or, when {@code to} is null, a port of the
 * container's own VM (written {@code to: vm}).
 */
public record Egress(String name, Cidr to, Protocol protocol, int port, boolean masquerade, Spans spans) {

    public boolean toVm() {
        return to == null;
    }
}

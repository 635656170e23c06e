package dev.meshc.model;

import java.util.Optional;

/**
 * The contract's address arithmetic (docs/design.md, "Address arithmetic"): a VM's host part {@code H} (its underlay address
 * below the underlay prefix) is embedded after the overlay prefix, leaving {@code c} container
 * bits. VM subnet {@code S = O | H << c}; gateway {@code S+1}; container k at {@code S+1+k}.
 */
public record AddressLayout(Cidr underlay, Cidr overlay) {

    /** What an overlay address decodes to. {@code index} is 0 for the VM's gateway address. */
    public record Decoded(int vmUnderlay, int subnet, int index, Kind kind) {
        public enum Kind { SUBNET, GATEWAY, CONTAINER, LAST }
    }

    public int hostBits() {
        return 32 - underlay.prefix();
    }

    /** May be negative for an invalid split; {@link #isValid()} says whether the layout can be used. */
    public int containerBits() {
        return 32 - overlay.prefix() - hostBits();
    }

    public boolean isValid() {
        return containerBits() >= 2;
    }

    /** Highest usable container index: 2^c - 3 (the subnet, the gateway and the last address are not used). */
    public int capacity() {
        return (int) ((1L << containerBits()) - 3);
    }

    public int subnetPrefix() {
        return overlay.prefix() + hostBits();
    }

    public int hostPart(int vmUnderlay) {
        return (int) (Ipv4.unsigned(vmUnderlay) & ((1L << hostBits()) - 1));
    }

    public int subnet(int vmUnderlay) {
        return overlay.network() | (hostPart(vmUnderlay) << containerBits());
    }

    public Cidr subnetCidr(int vmUnderlay) {
        return new Cidr(subnet(vmUnderlay), subnetPrefix());
    }

    public int gateway(int vmUnderlay) {
        return subnet(vmUnderlay) + 1;
    }

    public int container(int vmUnderlay, int index) {
        if (index < 1 || index > capacity()) {
            throw new IllegalArgumentException("index " + index + " outside 1.." + capacity());
        }
        return subnet(vmUnderlay) + 1 + index;
    }

    public Optional<Decoded> decode(int address) {
        if (!overlay.contains(address)) return Optional.empty();
        int c = containerBits();
        long cmask = (1L << c) - 1;
        int host = (int) ((Ipv4.unsigned(address) >>> c) & ((1L << hostBits()) - 1));
        int offset = (int) (Ipv4.unsigned(address) & cmask);
        int vm = underlay.network() | host;
        int subnet = (int) (address & ~cmask);
        Decoded.Kind kind = offset == 0 ? Decoded.Kind.SUBNET : offset == 1 ? Decoded.Kind.GATEWAY
                : offset == cmask ? Decoded.Kind.LAST : Decoded.Kind.CONTAINER;
        return Optional.of(new Decoded(vm, subnet, Math.max(0, offset - 1), kind));
    }

    /** "overlay /8 + 16 host bits leaves 8 container bits" — the arithmetic, for messages. */
    public String explainSplit() {
        int c = containerBits();
        return "overlay /" + overlay.prefix() + " + " + hostBits() + " host bits (underlay /" + underlay.prefix()
                + ") leaves " + c + " container bit" + (c == 1 || c == -1 ? "" : "s");
    }
}

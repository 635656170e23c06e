package dev.meshc.plan;

/** A container placed: its VM, index and overlay address. */
public record ContainerPlan(String name, String service, String vm, int index, int address) {

    /** The host-side veth name the contract fixes: {@code mc<k>}. */
    public String hostInterface() {
        return "mc" + index;
    }
}

package dev.meshc.model;

/** How VMs tunnel overlay packets to each other; {@code overhead} is what the overlay MTU loses. */
public enum Encapsulation {
    GRE(24), VXLAN(50);

    private final int overhead;

    Encapsulation(int overhead) {
        this.overhead = overhead;
    }

    public int overhead() {
        return overhead;
    }

    public String id() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}

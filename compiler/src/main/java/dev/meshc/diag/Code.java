package dev.meshc.diag;

/**
 * Every diagnostic meshc can report. Codes are stable: scripts and CI annotations rely on them, so
 * a code is never reused for another meaning. The README's table is checked against this enum.
 */
public enum Code {
    // Reading the file (YAML 1.2 and input limits)
    Y100("the file is not valid YAML"),
    Y101("a mapping has the same key twice"),
    Y102("too many aliases (alias expansion is bounded)"),
    Y103("the file is larger than the input limit"),
    Y104("collections are nested deeper than the limit"),
    Y105("the file holds more than one YAML document"),
    Y106("a tag other than the YAML 1.2 core tags"),
    Y107("the file is not UTF-8 text"),
    Y108("the file holds no inventory"),
    Y109("a mapping key that is not a plain scalar"),

    // Structure, checked against schemas/inventory.schema.json
    S200("a key the format does not know"),
    S201("a required key is missing"),
    S202("a value of the wrong type"),
    S203("a value does not have the required form"),
    S204("a number outside its allowed range"),
    S205("a value that is not one of the allowed ones"),

    // Objects on their own
    N300("a name that is not a DNS label"),
    N301("a CIDR whose address has host bits set"),
    N302("the overlay is too small for the underlay: fewer than 2 container bits"),
    N303("networks overlap"),
    N304("the VIP range leaves no usable address"),
    N305("a reserved VIP range outside the VIP range"),
    N306("vxlan settings with gre encapsulation"),
    N307("a VM underlay address outside network.underlay"),
    N308("a VM underlay address that is the network or broadcast address"),
    N310("the overlay MTU would be too small"),
    N311("more peers than systemd-networkd's static tables hold: those tables are in ip/*.batch only (warning)"),

    // References and the inventory as a whole
    R400("a relationship names a service that does not exist"),
    R401("a relationship names an endpoint the service does not have"),
    R402("a container names a service that does not exist"),
    R403("a container names a VM that does not exist"),
    R404("two VMs have the same underlay address"),
    R405("a container index outside the VM's capacity"),
    R406("two containers pinned to the same index on one VM"),
    R407("a VM has more containers than addresses"),
    R408("a service has more relationships than the VIP range has addresses"),
    R409("a relationship to the consumer's own service"),
    R410("a relationship to a service with no containers (warning)"),
    R411("the inventory exceeds a documented size limit"),
    R412("an egress rule into the overlay or the VIP range, or with host bits set"),

    // The declared target (validate --target)
    T700("the declared target's versions lack what the artifacts need (warning)"),

    // The lock file
    L500("the lock file cannot be read"),
    L501("the lock would change but --locked was given"),
    L502("a newly pinned index displaced a container's locked index (warning)");

    private final String summary;

    Code(String summary) {
        this.summary = summary;
    }

    public String summary() {
        return summary;
    }
}

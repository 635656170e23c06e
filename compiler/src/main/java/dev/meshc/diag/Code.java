package dev.meshc.diag;

/**
 * Every diagnostic meshc can report. Codes are stable: scripts and CI annotations rely on them, so
 * a code is never reused for another meaning. Each code is always reported with its severity. The
 * README's table is checked against this enum.
 */
public enum Code {
    // Reading the file (YAML 1.2 and input limits)
    Y100(Severity.ERROR, "the file is not valid YAML"),
    Y101(Severity.ERROR, "a mapping has the same key twice"),
    Y102(Severity.ERROR, "too many aliases (alias expansion is bounded)"),
    Y103(Severity.ERROR, "the file is larger than the input limit"),
    Y104(Severity.ERROR, "collections are nested deeper than the limit"),
    Y105(Severity.ERROR, "the file holds more than one YAML document"),
    Y106(Severity.ERROR, "a tag other than the YAML 1.2 core tags"),
    Y107(Severity.ERROR, "the file is not UTF-8 text"),
    Y108(Severity.ERROR, "the file holds no inventory"),
    Y109(Severity.ERROR, "a mapping key that is not a plain scalar"),

    // Structure, checked against schemas/inventory.schema.json
    S200(Severity.ERROR, "a key the format does not know"),
    S201(Severity.ERROR, "a required key is missing"),
    S202(Severity.ERROR, "a value of the wrong type"),
    S203(Severity.ERROR, "a value does not have the required form"),
    S204(Severity.ERROR, "a number outside its allowed range"),
    S205(Severity.ERROR, "a value that is not one of the allowed ones"),

    // Objects on their own
    N300(Severity.ERROR, "a name that is not a DNS label"),
    N301(Severity.ERROR, "a CIDR whose address has host bits set"),
    N302(Severity.ERROR, "the overlay is too small for the underlay: fewer than 2 container bits"),
    N303(Severity.ERROR, "networks overlap"),
    N304(Severity.ERROR, "the VIP range leaves no usable address"),
    N305(Severity.ERROR, "a reserved VIP range outside the VIP range"),
    N306(Severity.ERROR, "vxlan settings with gre encapsulation"),
    N307(Severity.ERROR, "a VM underlay address outside network.underlay"),
    N308(Severity.ERROR, "a VM underlay address that is the network or broadcast address"),
    N310(Severity.ERROR, "the overlay MTU would be too small"),
    N311(Severity.WARNING, "more peers than systemd-networkd's static tables hold: those tables are in ip/*.batch only (warning)"),

    // References and the inventory as a whole
    R400(Severity.ERROR, "a relationship names a service that does not exist"),
    R401(Severity.ERROR, "a relationship names an endpoint the service does not have"),
    R402(Severity.ERROR, "a container names a service that does not exist"),
    R403(Severity.ERROR, "a container names a VM that does not exist"),
    R404(Severity.ERROR, "two VMs have the same underlay address"),
    R405(Severity.ERROR, "a container index outside the VM's capacity"),
    R406(Severity.ERROR, "two containers pinned to the same index on one VM"),
    R407(Severity.ERROR, "a VM has more containers than addresses"),
    R408(Severity.ERROR, "a service has more relationships than the VIP range has addresses"),
    R409(Severity.ERROR, "a relationship to the consumer's own service"),
    R410(Severity.WARNING, "a relationship to a service with no containers (warning)"),
    R411(Severity.ERROR, "the inventory exceeds a documented size limit"),
    R412(Severity.ERROR, "an egress rule into the overlay or the VIP range, or with host bits set"),

    // The declared target (validate --target)
    T700(Severity.WARNING, "the declared target's versions lack what the artifacts need (warning)"),

    // The lock file
    L500(Severity.ERROR, "the lock file cannot be read"),
    L501(Severity.ERROR, "the lock would change but --locked was given"),
    L502(Severity.WARNING, "a newly pinned index displaced a container's locked index (warning)"),
    L503(Severity.WARNING, "no lock file, but the output directory holds an earlier compile: indices are assigned afresh (warning)");

    private final Severity severity;
    private final String summary;

    Code(Severity severity, String summary) {
        this.severity = severity;
        this.summary = summary;
    }

    /** Whether this code stops the pipeline (an error) or only informs (a warning). */
    public Severity severity() {
        return severity;
    }

    public String summary() {
        return summary;
    }
}

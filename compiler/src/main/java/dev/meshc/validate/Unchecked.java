package dev.meshc.validate;

import java.util.Set;
import java.util.TreeSet;

/**
 * Entries left out of the semantic checks because they failed the schema (their pointers, as
 * {@code /vms/vm-a}, {@code /services/db/endpoints/pg}, {@code /containers/db-1}). They still exist
 * for the checks of everything else: a container placed on a VM whose underlay was mistyped gets no
 * "no such VM" on top of the schema error, and no name is suggested that is itself in error.
 *
 * @param containerServices the services that containers left out name (so R410 does not call them unused)
 */
public record Unchecked(Set<String> removed, Set<String> containerServices) {
    public static final Unchecked NONE = new Unchecked(Set.of(), Set.of());

    public Unchecked {
        removed = Set.copyOf(removed);
        containerServices = Set.copyOf(containerServices);
    }

    boolean vm(String name) {
        return removed.contains("/vms/" + escape(name));
    }

    boolean service(String name) {
        return removed.contains("/services/" + escape(name));
    }

    /** True also when any endpoint of the service was left out: the reference may name it, misspelt or not. */
    boolean endpoint(String service, String endpoint) {
        String prefix = "/services/" + escape(service) + "/endpoints/";
        return service(service) || removed.stream().anyMatch(p -> p.startsWith(prefix));
    }

    boolean runs(String service) {
        return containerServices.contains(service);
    }

    boolean isEmpty() {
        return removed.isEmpty();
    }

    /** Names of the removed entries under {@code collection} ("vms", "services", "containers"). */
    Set<String> names(String collection) {
        Set<String> out = new TreeSet<>();
        String prefix = "/" + collection + "/";
        for (String p : removed) {
            if (p.startsWith(prefix) && p.indexOf('/', prefix.length()) < 0) out.add(p.substring(prefix.length()).replace("~1", "/").replace("~0", "~"));
        }
        return out;
    }

    private static String escape(String s) {
        return s.replace("~", "~0").replace("/", "~1");
    }
}

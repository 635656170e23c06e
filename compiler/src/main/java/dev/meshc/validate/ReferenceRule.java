package dev.meshc.validate;

import dev.meshc.diag.Code;
import dev.meshc.diag.Diagnostics;
import dev.meshc.model.Container;
import dev.meshc.model.Inventory;
import dev.meshc.model.Relationship;
import dev.meshc.model.Service;
import dev.meshc.diag.Suggest;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** R400–R403, R409, R410: every reference resolves to something that can serve it. */
final class ReferenceRule implements Rule {
    /** Up to this many names are listed when a misspelt one is equally close to several. */
    static final int LISTED = 8;

    private final Unchecked unchecked;

    ReferenceRule(Unchecked unchecked) {
        this.unchecked = unchecked;
    }

    @Override
    public void check(Inventory inv, Diagnostics diags) {
        Set<String> running = new HashSet<>();
        Names services = new Names("services", union(inv.services().keySet(), unchecked.names("services"))),
                vms = new Names("VMs", union(inv.vms().keySet(), unchecked.names("vms")));
        for (Container c : inv.containers().values()) {
            running.add(c.service());
            if (!inv.services().containsKey(c.service()) && !unchecked.service(c.service())) {
                diags.error(Code.R402, c.spans().of("service"), "container '" + c.name() + "' runs service "
                        + NameRule.quote(c.service()) + ", which is not in 'services'" + services.hint(c.service()));
            }
            if (!inv.vms().containsKey(c.vm()) && !unchecked.vm(c.vm())) {
                diags.error(Code.R403, c.spans().of("vm"), "container '" + c.name() + "' is placed on VM "
                        + NameRule.quote(c.vm()) + ", which is not in 'vms'" + vms.hint(c.vm()));
            }
        }
        for (Service s : inv.services().values()) {
            for (Relationship r : s.relationships().values()) {
                Service target = inv.services().get(r.service());
                if (target == null) {
                    if (unchecked.service(r.service())) continue;
                    diags.error(Code.R400, r.spans().of("target"), "relationship '" + r.name() + "' of service '" + s.name() + "' names service "
                            + NameRule.quote(r.service()) + ", which is not in 'services'" + services.hint(r.service()));
                } else if (!target.endpoints().containsKey(r.endpoint())) {
                    if (unchecked.endpoint(r.service(), r.endpoint())) continue;
                    diags.error(Code.R401, r.spans().of("target"), "service '" + target.name() + "' has no endpoint " + NameRule.quote(r.endpoint())
                            + (target.endpoints().isEmpty() ? " (it has no endpoints)" : "; it has: " + String.join(", ", target.endpoints().keySet())));
                    // (an endpoint that failed the schema makes the check above skip: it may be the one meant)
                } else if (target.name().equals(s.name())) {
                    diags.error(Code.R409, r.spans().of("target"), "relationship '" + r.name() + "' points at its own service '" + s.name()
                            + "'; replicas of one service reach each other by overlay address on the service's own endpoints, not through a VIP");
                } else if (!running.contains(target.name()) && !unchecked.runs(target.name())) {
                    diags.warning(Code.R410, r.spans().of("target"), "relationship '" + r.name() + "' targets service '" + target.name()
                            + "', which has no containers; connections to its VIP are refused");
                }
            }
        }
    }

    private static Collection<String> union(Collection<String> a, Collection<String> b) {
        if (b.isEmpty()) return a;
        java.util.TreeSet<String> all = new java.util.TreeSet<>(a);
        all.addAll(b);
        return all;
    }

    /**
     * The names a misspelt reference is compared with. One closest name is suggested, but never an
     * invalid one (N300 reports it; a rename to it would fail again) and never a guess among several
     * equally close: then the valid names are listed, when there are few.
     */
    private static final class Names {
        private final String what;
        private final List<String> valid;
        private final Suggest suggest;

        Names(String what, Collection<String> names) {
            this.what = what;
            this.valid = names.stream().filter(dev.meshc.model.Names::isDnsLabel).toList();
            this.suggest = new Suggest(names);
        }

        String hint(String wrong) {
            var best = suggest.closest(wrong);
            if (best.isPresent() && dev.meshc.model.Names.isDnsLabel(best.get())) return "; did you mean '" + best.get() + "'?";
            if (valid.isEmpty() || valid.size() > LISTED) return "";
            return "; the " + what + " are: " + String.join(", ", valid);
        }
    }
}

package dev.meshc.validate;

import dev.meshc.diag.Code;
import dev.meshc.diag.Diagnostics;
import dev.meshc.model.Container;
import dev.meshc.model.Inventory;
import dev.meshc.model.Relationship;
import dev.meshc.model.Service;
import java.util.HashSet;
import java.util.Set;

/** R400–R403, R409, R410: every reference resolves to something that can serve it. */
final class ReferenceRule implements Rule {
    @Override
    public void check(Inventory inv, Diagnostics diags) {
        Set<String> running = new HashSet<>();
        Suggest services = new Suggest(inv.services().keySet()), vms = new Suggest(inv.vms().keySet());
        for (Container c : inv.containers().values()) {
            running.add(c.service());
            if (!inv.services().containsKey(c.service())) {
                diags.error(Code.R402, c.spans().of("service"), "container '" + c.name() + "' runs service "
                        + NameRule.quote(c.service()) + ", which is not in 'services'" + services.among(c.service()));
            }
            if (!inv.vms().containsKey(c.vm())) {
                diags.error(Code.R403, c.spans().of("vm"), "container '" + c.name() + "' is placed on VM "
                        + NameRule.quote(c.vm()) + ", which is not in 'vms'" + vms.among(c.vm()));
            }
        }
        for (Service s : inv.services().values()) {
            for (Relationship r : s.relationships().values()) {
                Service target = inv.services().get(r.service());
                if (target == null) {
                    diags.error(Code.R400, r.spans().of("target"), "relationship '" + r.name() + "' of service '" + s.name() + "' names service "
                            + NameRule.quote(r.service()) + ", which is not in 'services'" + services.among(r.service()));
                } else if (!target.endpoints().containsKey(r.endpoint())) {
                    diags.error(Code.R401, r.spans().of("target"), "service '" + target.name() + "' has no endpoint " + NameRule.quote(r.endpoint())
                            + (target.endpoints().isEmpty() ? " (it has no endpoints)" : "; it has: " + String.join(", ", target.endpoints().keySet())));
                } else if (target.name().equals(s.name())) {
                    diags.error(Code.R409, r.spans().of("target"), "relationship '" + r.name() + "' points at its own service '" + s.name()
                            + "'; replicas of one service reach each other by overlay address on the service's own endpoints, not through a VIP");
                } else if (!running.contains(target.name())) {
                    diags.warning(Code.R410, r.spans().of("target"), "relationship '" + r.name() + "' targets service '" + target.name()
                            + "', which has no containers; connections to its VIP are refused");
                }
            }
        }
    }
}

package dev.meshc.validate;

import dev.meshc.diag.Code;
import dev.meshc.diag.Diagnostics;
import dev.meshc.model.Inventory;
import dev.meshc.model.Service;
import dev.meshc.model.VipRange;

/** R408: each consuming service needs one distinct VIP per relationship. */
final class VipCapacityRule implements Rule {
    @Override
    public void check(Inventory inv, Diagnostics diags) {
        long usable = VipRange.of(inv.network()).size();
        if (usable == 0) return; // N304
        for (Service s : inv.services().values()) {
            if (s.relationships().size() > usable) {
                diags.error(Code.R408, s.spans().of("relationships"), "service '" + s.name() + "' has "
                        + s.relationships().size() + " relationships but the VIP range " + inv.network().vip().aligned()
                        + " has " + usable + " usable addresses");
            }
        }
    }
}

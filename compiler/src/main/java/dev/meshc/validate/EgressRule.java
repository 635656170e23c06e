package dev.meshc.validate;

import dev.meshc.diag.Code;
import dev.meshc.diag.Diagnostics;
import dev.meshc.model.Cidr;
import dev.meshc.model.Egress;
import dev.meshc.model.Inventory;
import dev.meshc.model.Network;
import dev.meshc.model.Service;

/**
 * R412: egress leaves the overlay. The overlay is reached through relationships (and replicas), the
 * VIP range through relationships; only its reserved parts (cloud metadata) may be egress targets.
 * A prefix that contains them (0.0.0.0/0) is fine: the ruleset never lets egress into either.
 */
final class EgressRule implements Rule {
    @Override
    public void check(Inventory inv, Diagnostics diags) {
        Network n = inv.network();
        for (Service s : inv.services().values()) {
            for (Egress e : s.egress().values()) {
                if (e.toVm()) continue;
                Cidr to = e.to();
                String where = "egress '" + e.name() + "' of service '" + s.name() + "'";
                if (!to.isAligned()) {
                    diags.error(Code.R412, e.spans().of("to"), where + ": " + to + " has host bits set; did you mean " + to.aligned() + "?");
                } else if (inside(to, n.overlay().aligned())) {
                    diags.error(Code.R412, e.spans().of("to"), where + ": " + to + " lies in the overlay " + n.overlay().aligned()
                            + "; containers reach the overlay through relationships");
                } else if (inside(to, n.vip().aligned()) && !insideReserved(to, n)) {
                    diags.error(Code.R412, e.spans().of("to"), where + ": " + to + " lies in the VIP range " + n.vip().aligned()
                            + " outside its reserved parts; only reserved addresses (such as cloud metadata) may be egress targets");
                }
            }
        }
    }

    private static boolean insideReserved(Cidr to, Network n) {
        for (Cidr r : n.vipReserved()) if (inside(to, r.aligned())) return true;
        return false;
    }

    /** {@code to} is {@code range} or a part of it (a broader prefix such as 0.0.0.0/0 is not: the ruleset excludes meshc's ranges from egress). */
    private static boolean inside(Cidr to, Cidr range) {
        return to.prefix() >= range.prefix() && range.contains(to.network());
    }
}

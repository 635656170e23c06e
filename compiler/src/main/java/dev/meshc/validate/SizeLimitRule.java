package dev.meshc.validate;

import dev.meshc.diag.Code;
import dev.meshc.diag.Diagnostics;
import dev.meshc.model.Inventory;
import dev.meshc.model.Service;

/**
 * R411: the documented size limits (README, "Limits"). They bound memory and output size, and
 * keep every per-host ruleset within what nft and iptables-restore load comfortably.
 */
final class SizeLimitRule implements Rule {
    static final int MAX_VMS = 10_000;
    static final int MAX_CONTAINERS = 500_000;
    static final int MAX_SERVICES = 100_000;
    static final int MAX_RELATIONSHIPS_PER_SERVICE = 1_000;
    static final int MAX_ENDPOINTS_PER_SERVICE = 1_000;

    @Override
    public void check(Inventory inv, Diagnostics diags) {
        dev.meshc.model.Spans top = dev.meshc.model.Spans.file(inv.file());
        limit("VMs", inv.vms().size(), MAX_VMS, top, diags);
        int peers = inv.vms().size() - 1;
        if (!dev.meshc.model.NetworkdLimits.neighborsFit(peers) && inv.vms().size() <= MAX_VMS) {
            diags.warning(Code.N311, inv.vms().values().iterator().next().spans().key(), inv.vms().size() + " VMs: systemd-networkd holds at most "
                    + dev.meshc.model.NetworkdLimits.STATIC_NEIGHBORS + " static neighbors per link, so networkd leaves the tunnel alone (Unmanaged=yes)"
                    + " and bin/meshc-apply creates it with its routes and neighbors from ip/*.batch");
        }
        limit("containers", inv.containers().size(), MAX_CONTAINERS, top, diags);
        limit("services", inv.services().size(), MAX_SERVICES, top, diags);
        for (Service s : inv.services().values()) {
            limit("relationships in service '" + s.name() + "'", s.relationships().size(), MAX_RELATIONSHIPS_PER_SERVICE, s.spans(), diags);
            limit("endpoints in service '" + s.name() + "'", s.endpoints().size(), MAX_ENDPOINTS_PER_SERVICE, s.spans(), diags);
        }
    }

    private static void limit(String what, int n, int max, dev.meshc.model.Spans at, Diagnostics diags) {
        if (n > max) diags.error(Code.R411, at.key(), "the inventory has " + n + " " + what + "; the limit is " + max);
    }
}

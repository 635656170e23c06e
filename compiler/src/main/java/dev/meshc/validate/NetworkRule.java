package dev.meshc.validate;

import dev.meshc.diag.Code;
import dev.meshc.diag.Diagnostics;
import dev.meshc.model.AddressLayout;
import dev.meshc.model.Cidr;
import dev.meshc.model.Encapsulation;
import dev.meshc.model.Inventory;
import dev.meshc.model.Network;
import dev.meshc.model.Spans;
import dev.meshc.model.VipRange;

/** N301–N306, N310: the address plan on its own. */
final class NetworkRule implements Rule {
    static final int MIN_OVERLAY_MTU = 576;

    @Override
    public void check(Inventory inv, Diagnostics diags) {
        Network n = inv.network();
        aligned("network.underlay", n.underlay(), n.spans(), "underlay", diags);
        aligned("network.overlay", n.overlay(), n.spans(), "overlay", diags);
        aligned("network.vip", n.vip(), n.spans(), "vip", diags);
        for (int i = 0; i < n.vipReserved().size(); i++) {
            Cidr r = n.vipReserved().get(i);
            String field = "vip_reserved/" + i;
            aligned("network.vip_reserved[" + i + "]", r, n.spans(), field, diags);
            if (!n.vip().aligned().overlaps(r) || r.prefix() < n.vip().prefix()) {
                diags.error(Code.N305, n.spans().of(field), "reserved range " + r.aligned() + " is not inside the VIP range " + n.vip().aligned());
            }
        }
        AddressLayout layout = new AddressLayout(n.underlay().aligned(), n.overlay().aligned());
        if (!layout.isValid()) {
            diags.error(Code.N302, n.spans().of("overlay"), layout.explainSplit()
                    + "; at least 2 are needed (make the overlay larger or the underlay smaller)");
        }
        overlap("overlay", n.overlay(), "underlay", n.underlay(), n.spans(), "overlay", diags);
        overlap("overlay", n.overlay(), "VIP range", n.vip(), n.spans(), "overlay", diags);
        overlap("underlay", n.underlay(), "VIP range", n.vip(), n.spans(), "vip", diags);
        if (VipRange.of(n).size() == 0) {
            diags.error(Code.N304, n.spans().of("vip"), "VIP range " + n.vip().aligned() + " has no usable address once reservations are removed");
        }
        if (n.encapsulation() == Encapsulation.GRE && n.vxlanGiven()) {
            diags.error(Code.N306, n.spans().of("vxlan"), "'vxlan' settings are only used with 'encapsulation: vxlan'");
        }
        if (n.overlayMtu() < MIN_OVERLAY_MTU) {
            diags.error(Code.N310, n.spans().of("mtu"), "mtu " + n.mtu() + " - " + n.encapsulation().overhead() + " ("
                    + n.encapsulation().id() + ") leaves an overlay MTU of " + n.overlayMtu() + "; at least " + MIN_OVERLAY_MTU + " is needed");
        }
    }

    private static void aligned(String what, Cidr c, Spans spans, String field, Diagnostics diags) {
        if (!c.isAligned()) {
            diags.error(Code.N301, spans.of(field), what + " " + c + " has host bits set; did you mean " + c.aligned() + "?");
        }
    }

    private static void overlap(String a, Cidr x, String b, Cidr y, Spans spans, String field, Diagnostics diags) {
        if (x.aligned().overlaps(y.aligned())) {
            diags.error(Code.N303, spans.of(field), "the " + a + " " + x.aligned() + " overlaps the " + b + " " + y.aligned());
        }
    }
}

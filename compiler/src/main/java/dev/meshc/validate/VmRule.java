package dev.meshc.validate;

import dev.meshc.diag.Code;
import dev.meshc.diag.Diagnostics;
import dev.meshc.model.Cidr;
import dev.meshc.model.Inventory;
import dev.meshc.model.Ipv4;
import dev.meshc.model.Vm;
import java.util.HashMap;
import java.util.Map;

/** N307, N308, R404: VM underlay addresses inside the underlay, usable, unique. */
final class VmRule implements Rule {
    @Override
    public void check(Inventory inv, Diagnostics diags) {
        Cidr underlay = inv.network().underlay().aligned();
        Map<Integer, Vm> seen = new HashMap<>();
        // In file order, so a duplicate is reported where it is written second.
        var inFileOrder = new java.util.ArrayList<>(inv.vms().values());
        inFileOrder.sort(java.util.Comparator.comparing(v -> v.spans().key()));
        for (Vm vm : inFileOrder) {
            var at = vm.spans().of("underlay");
            String addr = Ipv4.format(vm.underlay());
            if (!underlay.contains(vm.underlay())) {
                diags.error(Code.N307, at, "VM '" + vm.name() + "' has underlay address " + addr
                        + ", which is outside network.underlay " + underlay);
            } else if (underlay.prefix() < 31 && (vm.underlay() == underlay.network() || vm.underlay() == underlay.last())) {
                diags.error(Code.N308, at, "VM '" + vm.name() + "' has underlay address " + addr + ", the "
                        + (vm.underlay() == underlay.network() ? "network" : "broadcast") + " address of " + underlay);
            }
            Vm first = seen.putIfAbsent(vm.underlay(), vm);
            if (first != null) {
                var f = first.spans().of("underlay");
                diags.error(Code.R404, at, "VM '" + vm.name() + "' has the same underlay address " + addr
                        + " as VM '" + first.name() + "' (at " + f.line() + ":" + f.column() + ")");
            }
        }
    }
}

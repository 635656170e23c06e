package dev.meshc.validate;

import dev.meshc.diag.Code;
import dev.meshc.diag.Diagnostics;
import dev.meshc.model.Cidr;
import dev.meshc.model.Inventory;
import dev.meshc.model.Ipv4;
import dev.meshc.model.Vm;
import java.util.HashMap;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/** N307, N308, R404: VM underlay addresses inside the underlay, usable, unique. */
final class VmRule implements Rule {
    @Override
    public void check(Inventory inv, Diagnostics diags) {
        Cidr underlay = inv.network().underlay().aligned();
        Map<Integer, List<Vm>> byAddress = new HashMap<>();
        for (Vm vm : inv.vms().values()) {
            byAddress.computeIfAbsent(vm.underlay(), a -> new ArrayList<>(1)).add(vm);
            String addr = Ipv4.format(vm.underlay());
            if (!underlay.contains(vm.underlay())) {
                diags.error(Code.N307, vm.spans().of("underlay"), "VM '" + vm.name() + "' has underlay address " + addr
                        + ", which is outside network.underlay " + underlay);
            } else if (underlay.prefix() < 31 && (vm.underlay() == underlay.network() || vm.underlay() == underlay.last())) {
                diags.error(Code.N308, vm.spans().of("underlay"), "VM '" + vm.name() + "' has underlay address " + addr + ", the "
                        + (vm.underlay() == underlay.network() ? "network" : "broadcast") + " address of " + underlay);
            }
        }
        // Each duplicate is reported where it is written after the first (positions are looked up only here).
        for (List<Vm> same : byAddress.values()) {
            if (same.size() < 2) continue;
            same.sort(Comparator.comparing(v -> v.spans().key()));
            Vm first = same.get(0);
            var f = first.spans().of("underlay");
            for (Vm vm : same.subList(1, same.size())) {
                diags.error(Code.R404, vm.spans().of("underlay"), "VM '" + vm.name() + "' has the same underlay address "
                        + Ipv4.format(vm.underlay()) + " as VM '" + first.name() + "' (at " + f.line() + ":" + f.column() + ")");
            }
        }
    }
}

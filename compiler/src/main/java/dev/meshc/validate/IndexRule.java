package dev.meshc.validate;

import dev.meshc.diag.Code;
import dev.meshc.diag.Diagnostics;
import dev.meshc.model.AddressLayout;
import dev.meshc.model.Container;
import dev.meshc.model.Inventory;
import java.util.HashMap;
import java.util.Map;

/** R405–R407: pinned indices within capacity and unique per VM; no VM holds more containers than addresses. */
final class IndexRule implements Rule {
    @Override
    public void check(Inventory inv, Diagnostics diags) {
        AddressLayout layout = new AddressLayout(inv.network().underlay().aligned(), inv.network().overlay().aligned());
        if (!layout.isValid()) return; // N302 already explains why there is no capacity to check against
        int capacity = layout.capacity();
        Map<String, Map<Integer, Container>> pinned = new HashMap<>();
        Map<String, Integer> perVm = new HashMap<>();
        for (Container c : inv.containers().values()) {
            perVm.merge(c.vm(), 1, Integer::sum);
            if (c.index() == null) continue;
            if (c.index() > capacity) {
                diags.error(Code.R405, c.spans().of("index"), "container '" + c.name() + "' has index " + c.index()
                        + "; a VM holds indices 1.." + capacity + " (" + layout.explainSplit() + ")");
                continue;
            }
            Container first = pinned.computeIfAbsent(c.vm(), v -> new HashMap<>()).putIfAbsent(c.index(), c);
            if (first != null) {
                diags.error(Code.R406, c.spans().of("index"), "containers '" + first.name() + "' and '" + c.name() + "' are both pinned to index "
                        + c.index() + " on VM '" + c.vm() + "'");
            }
        }
        perVm.forEach((vm, count) -> {
            if (count > capacity && inv.vms().containsKey(vm)) {
                diags.error(Code.R407, inv.vms().get(vm).spans().key(), "VM '" + vm + "' has " + count
                        + " containers but room for " + capacity + " (" + layout.explainSplit() + ")");
            }
        });
    }
}

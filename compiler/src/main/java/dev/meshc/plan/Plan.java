package dev.meshc.plan;

import dev.meshc.model.AddressLayout;
import dev.meshc.model.Inventory;
import dev.meshc.model.VipRange;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;

/**
 * Everything decided about a valid inventory: addresses, VIPs, targets and the lock. Immutable;
 * per-host views come from {@link #host(String)} so that {@code compile --host} does only one
 * host's work.
 */
public record Plan(Inventory inventory, AddressLayout layout, VipRange vipRange,
                   SortedMap<String, VmPlan> vms,
                   SortedMap<String, ContainerPlan> containers,
                   SortedMap<String, SortedMap<String, Binding>> bindings,
                   SortedMap<String, Target> targets,
                   Map<String, List<ContainerPlan>> containersByVm,
                   Map<String, List<ContainerPlan>> containersByService,
                   Map<String, List<Target>> targetsByService,
                   Map<String, List<String>> consumersOfTarget,
                   Lock lock,
                   List<HostPlan.Peer> peers,
                   List<String> vmAddresses,
                   Map<String, String> iptChains) {

    public HostPlan host(String vm) {
        return HostPlanner.plan(this, vm);
    }

    public List<ContainerPlan> containersOfService(String service) {
        return containersByService.getOrDefault(service, List.of());
    }

    /** The relationships a container's service consumes (empty when none). */
    public SortedMap<String, Binding> bindingsOf(String service) {
        SortedMap<String, Binding> b = bindings.get(service);
        return b == null ? java.util.Collections.emptySortedMap() : b;
    }
}

package dev.meshc.plan;

import dev.meshc.model.AddressLayout;
import dev.meshc.model.Container;
import dev.meshc.model.Endpoint;
import dev.meshc.model.Inventory;
import dev.meshc.model.Relationship;
import dev.meshc.model.Service;
import dev.meshc.model.Sorted;
import dev.meshc.model.VipRange;
import dev.meshc.model.Vm;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/** Builds the {@link Plan} of an inventory that passed validation. */
public final class Planner {
    public static final Comparator<Integer> UNSIGNED = (a, b) -> Integer.compareUnsigned(a, b);

    private Planner() {
    }

    public static Plan plan(Inventory inv, Lock lock) {
        AddressLayout layout = new AddressLayout(inv.network().underlay(), inv.network().overlay());
        VipRange vipRange = VipRange.of(inv.network());

        Map<String, VmPlan> vms = new TreeMap<>();
        for (Vm vm : inv.vms().values()) {
            vms.put(vm.name(), new VmPlan(vm, layout.subnetCidr(vm.underlay()), layout.gateway(vm.underlay())));
        }

        Map<String, ContainerPlan> containers = new TreeMap<>();
        Map<String, List<ContainerPlan>> byVm = new HashMap<>();
        Map<String, List<ContainerPlan>> byService = new HashMap<>();
        Map<String, List<Integer>> backendsByService = new HashMap<>();
        for (Container c : inv.containers().values()) {
            int index = lock.entries().get(c.name()).index();
            int address = layout.container(inv.vms().get(c.vm()).underlay(), index);
            ContainerPlan cp = new ContainerPlan(c.name(), c.service(), c.vm(), index, address);
            containers.put(c.name(), cp);
            byVm.computeIfAbsent(c.vm(), v -> new ArrayList<>()).add(cp);
            byService.computeIfAbsent(c.service(), v -> new ArrayList<>()).add(cp);
            backendsByService.computeIfAbsent(c.service(), s -> new ArrayList<>()).add(address);
        }
        backendsByService.values().forEach(l -> l.sort(UNSIGNED));

        Map<String, SortedMap<String, Binding>> bindings = new TreeMap<>();
        Map<String, Target> targets = new TreeMap<>();
        Map<String, List<String>> consumers = new HashMap<>();
        for (Service s : inv.services().values()) {
            if (s.relationships().isEmpty()) continue;
            Map<String, Integer> vips = VipAllocator.forService(vipRange, s.relationships().keySet());
            SortedMap<String, Binding> mine = new TreeMap<>();
            for (Relationship r : s.relationships().values()) {
                Endpoint ep = inv.services().get(r.service()).endpoints().get(r.endpoint());
                Binding b = new Binding(r.name(), r.service(), r.endpoint(), ep.scheme(), vips.get(r.name()), ep.port(), ep.protocol());
                mine.put(r.name(), b);
                targets.computeIfAbsent(b.targetKey(), k -> new Target(r.service(), r.endpoint(), ep.protocol(), ep.port(),
                        backendsByService.getOrDefault(r.service(), List.of())));
                List<String> cs = consumers.computeIfAbsent(b.targetKey(), k -> new ArrayList<>());
                if (!cs.contains(s.name())) cs.add(s.name());
            }
            bindings.put(s.name(), Collections.unmodifiableSortedMap(mine));
        }
        consumers.values().forEach(Collections::sort);
        Map<String, List<Target>> targetsByService = new HashMap<>();
        targets.values().forEach(t -> targetsByService.computeIfAbsent(t.service(), s -> new ArrayList<>()).add(t));
        // Formatted once for the fleet instead of once per host: at a thousand VMs every host lists every other.
        List<HostPlan.Peer> peers = new ArrayList<>();
        List<Integer> underlays = new ArrayList<>();
        for (VmPlan v : vms.values()) {
            peers.add(v.asPeer());
            underlays.add(v.vm().underlay());
        }
        underlays.sort(UNSIGNED);
        List<String> vmAddresses = new ArrayList<>();
        for (int a : underlays) vmAddresses.add(dev.meshc.model.Ipv4.format(a));
        Map<String, String> iptChains = new HashMap<>();
        for (Target t : targets.values()) iptChains.put(t.key(), HostPlanner.iptChain(t));
        return new Plan(inv, layout, vipRange, Sorted.copy(vms), Sorted.copy(containers), Sorted.copy(bindings),
                Sorted.copy(targets), freeze(byVm), freeze(byService), freeze(targetsByService), freeze(consumers), lock,
                List.copyOf(peers), List.copyOf(vmAddresses), Map.copyOf(iptChains));
    }

    private static <T> Map<String, List<T>> freeze(Map<String, List<T>> m) {
        Map<String, List<T>> out = new HashMap<>();
        m.forEach((k, v) -> out.put(k, List.copyOf(v)));
        return Map.copyOf(out);
    }
}

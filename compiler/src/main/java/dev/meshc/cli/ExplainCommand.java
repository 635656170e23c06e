package dev.meshc.cli;

import dev.meshc.model.AddressLayout;
import dev.meshc.model.Cidr;
import dev.meshc.model.Ipv4;
import dev.meshc.model.Network;
import dev.meshc.model.VipRange;
import dev.meshc.plan.Binding;
import dev.meshc.plan.ContainerPlan;
import dev.meshc.plan.Frontend;
import dev.meshc.plan.Plan;
import dev.meshc.plan.VmPlan;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "explain", mixinStandardHelpOptions = true,
        description = {"Decode an overlay address (VM underlay address, index; with an inventory also the VM and container names)",
                "a VIP (with an inventory: the relationships that use it, their backends and consumers),",
                "or a VM's underlay address (its overlay subnet and gateway; with an inventory also the VM).",
                "With an inventory, ADDRESS may also be a container's or a VM's name."})
final class ExplainCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    private picocli.CommandLine.ParameterException usage(String message) {
        return new picocli.CommandLine.ParameterException(spec.commandLine(), message);
    }

    @Parameters(index = "0", paramLabel = "ADDRESS", description = "An overlay address, a VIP, an underlay address, or (with an inventory) a container or VM name.")
    String address;

    @Parameters(index = "1", arity = "0..1", paramLabel = "INVENTORY", description = "The inventory (optional).")
    Path inventory;

    @Option(names = "--underlay", paramLabel = "CIDR", converter = CidrConverter.class, description = "Without an inventory: underlay network (default: ${DEFAULT-VALUE}).")
    Cidr underlay = Cidr.parse("192.168.0.0/16");

    @Option(names = "--overlay", paramLabel = "CIDR", converter = CidrConverter.class, description = "Without an inventory: overlay network (default: ${DEFAULT-VALUE}).")
    Cidr overlay = Cidr.parse("240.0.0.0/4");

    @Option(names = "--vip-range", paramLabel = "CIDR", converter = CidrConverter.class, description = "Without an inventory: VIP range (default: ${DEFAULT-VALUE}).")
    Cidr vipRange = Network.DEFAULT_VIP;

    @Option(names = "--lock", paramLabel = "FILE", description = "Lock file (default: meshc.lock beside the inventory).")
    Path lock;

    @Mixin
    CommonOptions common;

    @Override
    public Integer call() throws Exception {
        Integer parsed;
        try {
            parsed = Ipv4.parse(address);
        } catch (IllegalArgumentException e) {
            if (inventory == null) throw usage("'" + address + "' is not an IPv4 address (a container or VM name needs the inventory)");
            parsed = null;
        }
        Plan plan = null;
        if (inventory != null) {
            Inputs in = new Inputs(inventory, lock);
            Frontend.Result r = in.run();
            Main.report(common, in, r.diagnostics(), r.skipped());
            if (!r.ok()) return ExitCode.INVALID;
            plan = r.plan().get();
            underlay = plan.layout().underlay();
            overlay = plan.layout().overlay();
            vipRange = plan.inventory().network().vip();
        }
        PrintWriter out = Main.out();
        if (parsed == null) {
            if (plan.containers().containsKey(address)) {
                explainContainer(plan, plan.containers().get(address), out);
                out.flush();
                return ExitCode.OK;
            }
            if (!plan.vms().containsKey(address)) {
                java.util.List<String> names = new java.util.ArrayList<>(plan.containers().keySet());
                names.addAll(plan.vms().keySet());
                String hint = new dev.meshc.diag.Suggest(names).among(address);
                throw usage("'" + address + "' is not an IPv4 address, nor a container or VM of " + inventory + hint);
            }
            parsed = plan.vms().get(address).vm().underlay(); // a VM's name: explained as its underlay address
        }
        final int addr = parsed;
        AddressLayout layout = new AddressLayout(underlay.aligned(), overlay.aligned());
        if (!layout.isValid()) {
            throw usage(layout.explainSplit() + "; at least 2 are needed");
        }
        var decoded = layout.decode(addr);
        if (decoded.isPresent()) {
            var d = decoded.get();
            out.println(address + ": overlay address in " + overlay.aligned());
            out.println("  VM underlay:  " + Ipv4.format(d.vmUnderlay()));
            out.println("  VM subnet:    " + new Cidr(d.subnet(), layout.subnetPrefix()));
            switch (d.kind()) {
                case SUBNET -> out.println("  kind:         the VM subnet's own address (not used)");
                case LAST -> out.println("  kind:         the VM subnet's last address (not used)");
                case GATEWAY -> out.println("  kind:         the VM's gateway address (index 0)");
                case CONTAINER -> out.println("  index:        " + d.index());
            }
            if (plan != null) {
                VmPlan vm = plan.vms().values().stream().filter(v -> v.vm().underlay() == d.vmUnderlay()).findFirst().orElse(null);
                out.println("  VM:           " + (vm == null ? "(no VM of the inventory has this underlay address)" : vm.name()));
                if (d.kind() == AddressLayout.Decoded.Kind.CONTAINER) {
                    ContainerPlan c = plan.containers().values().stream().filter(x -> x.address() == addr).findFirst().orElse(null);
                    out.println("  container:    " + (c == null ? "(none at this index)" : c.name() + " (service " + c.service() + ")"));
                }
            }
        } else if (vipRange.aligned().contains(addr)) {
            out.println(address + ": in the VIP range " + vipRange.aligned());
            if (plan == null) {
                out.println("  VIPs are hashes of relationship names; give the inventory to list the relationships that use this one.");
            } else {
                VipRange usable = plan.vipRange();
                if (!usable.isUsable(addr)) out.println("  reserved: never handed out");
                int found = 0;
                for (var e : plan.bindings().entrySet()) {
                    for (Binding b : e.getValue().values()) {
                        if (b.vip() == addr) {
                            out.println("  relationship: " + b.relationship() + " of service " + e.getKey() + " -> "
                                    + b.targetKey() + " (" + b.protocol().id() + "/" + b.port() + ")");
                            var target = plan.targets().get(b.targetKey());
                            out.println("    backends:   " + (target == null || target.backends().isEmpty() ? "(none: connections are dropped)"
                                    : backends(plan, target.backends())));
                            out.println("    consumers:  " + names(plan.containersOfService(e.getKey())));
                            found++;
                        }
                    }
                }
                if (found == 0) out.println("  no relationship of the inventory uses it");
            }
        } else if (underlay.aligned().contains(addr)) {
            // A VM's own address: where its containers' overlay subnet comes from.
            out.println(address + ": in the underlay " + underlay.aligned());
            out.println("  overlay subnet: " + layout.subnetCidr(addr));
            out.println("  gateway:        " + Ipv4.format(layout.gateway(addr)));
            if (plan != null) {
                VmPlan vm = plan.vms().values().stream().filter(v -> v.vm().underlay() == addr).findFirst().orElse(null);
                out.println("  VM:             " + (vm == null ? "(no VM of the inventory has this underlay address)"
                        : vm.name() + " (" + plan.containersByVm().getOrDefault(vm.name(), java.util.List.of()).size() + " containers)"));
            }
        } else {
            out.println(address + ": in none of the overlay " + overlay.aligned() + ", the VIP range " + vipRange.aligned()
                    + " and the underlay " + underlay.aligned());
        }
        out.flush();
        return ExitCode.OK;
    }

    private static void explainContainer(Plan plan, ContainerPlan c, PrintWriter out) {
        out.println(c.name() + ": container of service " + c.service() + " on VM " + c.vm());
        out.println("  address:      " + Ipv4.format(c.address()) + " (index " + c.index() + ", host interface " + c.hostInterface() + ")");
        out.println("  gateway:      " + Ipv4.format(plan.layout().gateway(plan.vms().get(c.vm()).vm().underlay())));
        for (Binding b : plan.bindingsOf(c.service()).values()) {
            var target = plan.targets().get(b.targetKey());
            out.println("  relationship: " + b.relationship() + " -> " + Ipv4.format(b.vip()) + " " + b.targetKey() + " ("
                    + b.protocol().id() + "/" + b.port() + "), backends: " + (target == null || target.backends().isEmpty() ? "(none)"
                    : backends(plan, target.backends())));
        }
        for (var t : plan.targetsByService().getOrDefault(c.service(), java.util.List.of())) {
            java.util.List<String> consumers = plan.consumersOfTarget().getOrDefault(t.key(), java.util.List.of());
            out.println("  serves:       " + t.key() + " (" + t.protocol().id() + "/" + t.port() + ") to " + (consumers.isEmpty() ? "no consumer" : "services " + String.join(", ", consumers)));
        }
    }

    private static String backends(Plan plan, java.util.List<Integer> addresses) {
        return String.join(", ", addresses.stream().map(a -> containerAt(plan, a)).toList());
    }

    /** "api-1 10.200.11.2 (node1)" for a backend address. */
    private static String containerAt(Plan plan, int address) {
        for (ContainerPlan c : plan.containers().values()) {
            if (c.address() == address) return c.name() + " " + Ipv4.format(address) + " (" + c.vm() + ")";
        }
        return Ipv4.format(address);
    }

    private static String names(java.util.List<ContainerPlan> containers) {
        return containers.isEmpty() ? "(none)" : String.join(", ", containers.stream().map(ContainerPlan::name).toList());
    }
}

package dev.meshc.plan;

import dev.meshc.model.Cidr;
import dev.meshc.model.Vm;
import java.util.Locale;

/** A VM with its overlay subnet and gateway. */
public record VmPlan(Vm vm, Cidr subnet, int gateway) {

    /** This VM as its peers see it, formatted once for the whole fleet. */
    public HostPlan.Peer asPeer() {
        return new HostPlan.Peer(name(), dev.meshc.model.Ipv4.format(vm.underlay()), subnet.toString(),
                dev.meshc.model.Ipv4.format(gateway), mac());
    }

    public String name() {
        return vm.name();
    }

    /** VXLAN device MAC: locally administered {@code 02:00:} plus the four bytes of the underlay address. */
    public String mac() {
        int a = vm.underlay();
        return String.format(Locale.ROOT, "02:00:%02x:%02x:%02x:%02x", (a >>> 24) & 0xff, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff);
    }
}

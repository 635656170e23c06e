package dev.meshc.plan;

import dev.meshc.model.Cidr;
import dev.meshc.model.Vm;
import java.util.HexFormat;

/** A VM with its overlay subnet and gateway. */
public record VmPlan(Vm vm, Cidr subnet, int gateway) {

    /** This VM as its peers see it, formatted once for the whole fleet. */
    public HostPlan.Peer asPeer() {
        String first = hex32(subnet.network());
        return new HostPlan.Peer(name(), dev.meshc.model.Ipv4.format(vm.underlay()), subnet.toString(),
                dev.meshc.model.Ipv4.format(gateway), mac(), first + "-" + hex32(subnet.last()), first);
    }

    private static String hex32(int a) {
        return "0x" + HexFormat.of().toHexDigits(a);
    }

    public String name() {
        return vm.name();
    }

    /** VXLAN device MAC: locally administered {@code 02:00:} plus the four bytes of the underlay address. */
    public String mac() {
        int a = vm.underlay();
        HexFormat hex = HexFormat.of(); // lowercase, two digits per byte
        return "02:00:" + hex.toHexDigits((byte) (a >>> 24)) + ":" + hex.toHexDigits((byte) (a >>> 16)) + ":"
                + hex.toHexDigits((byte) (a >>> 8)) + ":" + hex.toHexDigits((byte) a);
    }
}

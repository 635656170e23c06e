package dev.meshc.model;

import java.util.List;

/** {@code network:} of the inventory, defaults applied. {@code vipReserved} is never empty after defaults. */
public record Network(Cidr underlay, Cidr overlay, Cidr vip, List<Cidr> vipReserved,
                      Encapsulation encapsulation, int vni, int vxlanPort, boolean vxlanGiven,
                      int mtu, Spans spans) {

    public static final Cidr DEFAULT_VIP = Cidr.parse("169.254.0.0/16");
    public static final int DEFAULT_VNI = 4242;
    public static final int DEFAULT_VXLAN_PORT = 4789;
    public static final int DEFAULT_MTU = 1500;

    public Network {
        vipReserved = List.copyOf(vipReserved);
    }

    /** The contract's default reservations: link-local housekeeping and metadata ranges, or first and last address. */
    public static List<Cidr> defaultReserved(Cidr vip) {
        if (vip.aligned().equals(DEFAULT_VIP)) {
            return List.of(Cidr.parse("169.254.0.0/24"), Cidr.parse("169.254.169.0/24"), Cidr.parse("169.254.255.0/24"));
        }
        return vip.prefix() == 32 ? List.of(new Cidr(vip.network(), 32))
                : List.of(new Cidr(vip.network(), 32), new Cidr(vip.last(), 32));
    }

    public int overlayMtu() {
        return mtu - encapsulation.overhead();
    }
}

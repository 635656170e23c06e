package dev.meshc.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class AddressLayoutTest {

    @Test
    void contractWorkedExampleTenSlashEight() {
        AddressLayout l = new AddressLayout(Cidr.parse("192.168.0.0/16"), Cidr.parse("10.0.0.0/8"));
        int vm = Ipv4.parse("192.168.16.32");
        assertEquals("10.16.32.91", Ipv4.format(l.container(vm, 90)));
        assertEquals("10.16.32.1", Ipv4.format(l.gateway(vm)));
        assertEquals(253, l.capacity());
        assertEquals(8, l.containerBits());
    }

    @Test
    void contractWorkedExample240SlashFour() {
        AddressLayout l = new AddressLayout(Cidr.parse("192.168.0.0/16"), Cidr.parse("240.0.0.0/4"));
        int vm = Ipv4.parse("192.168.125.213");
        assertEquals("247.221.80.48", Ipv4.format(l.container(vm, 47)));
        assertEquals("247.221.80.1", Ipv4.format(l.gateway(vm)));
        assertEquals(4093, l.capacity());
        var d = l.decode(Ipv4.parse("247.221.80.48")).orElseThrow();
        assertEquals("192.168.125.213", Ipv4.format(d.vmUnderlay()));
        assertEquals(47, d.index());
        assertEquals(AddressLayout.Decoded.Kind.CONTAINER, d.kind());
    }

    @Test
    void splitArithmeticIsExplained() {
        AddressLayout l = new AddressLayout(Cidr.parse("192.168.0.0/16"), Cidr.parse("10.0.0.0/15"));
        assertFalse(l.isValid());
        assertEquals("overlay /15 + 16 host bits (underlay /16) leaves 1 container bit", l.explainSplit());
    }

    @Test
    void indicesOutsideCapacityAreRefused() {
        AddressLayout l = new AddressLayout(Cidr.parse("192.168.0.0/16"), Cidr.parse("10.0.0.0/8"));
        assertThrows(IllegalArgumentException.class, () -> l.container(Ipv4.parse("192.168.0.1"), 0));
        assertThrows(IllegalArgumentException.class, () -> l.container(Ipv4.parse("192.168.0.1"), 254));
    }

    @Test
    void gatewaySubnetAndLastDecodeAsNonContainers() {
        AddressLayout l = new AddressLayout(Cidr.parse("192.168.0.0/16"), Cidr.parse("10.0.0.0/8"));
        assertEquals(AddressLayout.Decoded.Kind.GATEWAY, l.decode(Ipv4.parse("10.16.32.1")).orElseThrow().kind());
        assertEquals(AddressLayout.Decoded.Kind.SUBNET, l.decode(Ipv4.parse("10.16.32.0")).orElseThrow().kind());
        assertEquals(AddressLayout.Decoded.Kind.LAST, l.decode(Ipv4.parse("10.16.32.255")).orElseThrow().kind());
        assertFalse(l.decode(Ipv4.parse("11.0.0.1")).isPresent());
    }

    /** A random valid split: any overlay and underlay prefix leaving 2..30 container bits. */
    record Case(AddressLayout layout, int vm, int index) {
    }

    @Provide
    Arbitrary<Case> cases() {
        return Combinators.combine(
                Arbitraries.integers().between(1, 28),      // overlay prefix p
                Arbitraries.integers().between(2, 30),      // container bits c
                Arbitraries.integers(), Arbitraries.integers(), Arbitraries.integers())
                .filter((p, c, o, u, k) -> p + c <= 32)
                .as((p, c, o, u, k) -> {
                    int h = 32 - p - c;
                    Cidr overlay = new Cidr(o & Ipv4.mask(p), p);
                    Cidr underlay = new Cidr(u & Ipv4.mask(32 - h), 32 - h);
                    AddressLayout l = new AddressLayout(underlay, overlay);
                    int vm = underlay.network() | (int) (Ipv4.unsigned(u * 31 + 7) & ((1L << h) - 1));
                    int index = 1 + (int) Long.remainderUnsigned(Ipv4.unsigned(k), l.capacity());
                    return new Case(l, vm, index);
                });
    }

    @Property(tries = 2000)
    void decodeInvertsEncode(@ForAll("cases") Case c) {
        int address = c.layout().container(c.vm(), c.index());
        var d = c.layout().decode(address).orElseThrow();
        assertEquals(c.vm(), d.vmUnderlay());
        assertEquals(c.index(), d.index());
        assertEquals(AddressLayout.Decoded.Kind.CONTAINER, d.kind());
        assertEquals(c.layout().subnet(c.vm()), d.subnet());
    }
}

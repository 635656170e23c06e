package dev.meshc.model;

/** An IPv4 prefix. {@code address} may have host bits set when read from user input (see {@link #isAligned()}). */
public record Cidr(int address, int prefix) implements Comparable<Cidr> {

    public Cidr {
        if (prefix < 0 || prefix > 32) throw new IllegalArgumentException("prefix out of range: " + prefix);
    }

    public static Cidr parse(String s) {
        int slash = s.indexOf('/');
        if (slash < 0) throw new IllegalArgumentException("not a CIDR: " + s);
        String p = s.substring(slash + 1);
        if (!p.matches("[0-9]{1,2}")) throw new IllegalArgumentException("not a CIDR: " + s);
        return new Cidr(Ipv4.parse(s.substring(0, slash)), Integer.parseInt(p));
    }

    public int mask() {
        return Ipv4.mask(prefix);
    }

    public int network() {
        return address & mask();
    }

    /** The last address of the prefix (broadcast, for a subnet). */
    public int last() {
        return network() | ~mask();
    }

    public long size() {
        return 1L << (32 - prefix);
    }

    public boolean isAligned() {
        return address == network();
    }

    public Cidr aligned() {
        return new Cidr(network(), prefix);
    }

    public boolean contains(int a) {
        return (a & mask()) == network();
    }

    public boolean overlaps(Cidr o) {
        int p = Math.min(prefix, o.prefix);
        int m = Ipv4.mask(p);
        return (address & m) == (o.address & m);
    }

    @Override
    public int compareTo(Cidr o) {
        int c = Long.compare(Ipv4.unsigned(network()), Ipv4.unsigned(o.network()));
        return c != 0 ? c : Integer.compare(prefix, o.prefix);
    }

    @Override
    public String toString() {
        return Ipv4.format(address) + "/" + prefix;
    }
}

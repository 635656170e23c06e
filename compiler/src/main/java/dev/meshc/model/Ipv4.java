package dev.meshc.model;

/**
 * IPv4 addresses as unsigned 32-bit values in an {@code int}. Hand-written rather than taken from
 * a library (e.g. seancfoley/ipaddress): meshc's arithmetic is shifts and masks on 32 bits, done
 * hundreds of thousands of times per compile, and the only parsing it needs is dotted quads that
 * the schema's pattern has already checked. Never {@code InetAddress.getByName}: it may resolve names.
 */
public final class Ipv4 {
    private Ipv4() {
    }

    /** Parses a dotted quad; throws {@link IllegalArgumentException} for anything else. */
    public static int parse(String s) {
        String[] parts = s.split("\\.", -1);
        if (parts.length != 4) throw new IllegalArgumentException("not an IPv4 address: " + s);
        int value = 0;
        for (String p : parts) {
            if (!p.matches("0|[1-9][0-9]{0,2}") || Integer.parseInt(p) > 255) {
                throw new IllegalArgumentException("not an IPv4 address: " + s);
            }
            value = (value << 8) | Integer.parseInt(p);
        }
        return value;
    }

    public static String format(int a) {
        return ((a >>> 24) & 0xff) + "." + ((a >>> 16) & 0xff) + "." + ((a >>> 8) & 0xff) + "." + (a & 0xff);
    }

    /** Netmask for a prefix length 0..32. */
    public static int mask(int prefix) {
        return prefix == 0 ? 0 : -1 << (32 - prefix);
    }

    public static long unsigned(int a) {
        return a & 0xffffffffL;
    }
}

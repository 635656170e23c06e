package dev.meshc.trace;

/** IPv4 addresses as ints, prefixes as (address, length): the evaluator's own, independent of the model. */
final class Ip {
    private Ip() {
    }

    static final java.util.regex.Pattern ADDR = java.util.regex.Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");

    static boolean isAddr(String s) {
        return scan(s) >= 0;
    }

    static int parse(String s) {
        long a = scan(s);
        if (a < 0) throw new IllegalArgumentException("not an IPv4 address: " + s);
        return (int) a;
    }

    /**
     * A dotted quad (four decimal octets of 1-3 digits, each at most 255) as an unsigned value, or -1: by hand,
     * since the parsers read hundreds of thousands of addresses per host at a thousand VMs.
     */
    private static long scan(String s) {
        long v = 0;
        int octets = 0, digits = 0, octet = 0;
        for (int i = 0, n = s.length(); i <= n; i++) {
            char c = i < n ? s.charAt(i) : '.';
            if (c >= '0' && c <= '9') {
                if (++digits > 3) return -1;
                octet = octet * 10 + (c - '0');
            } else if (c == '.') {
                if (digits == 0 || octet > 255 || ++octets > 4) return -1;
                v = (v << 8) | octet;
                digits = 0;
                octet = 0;
            } else {
                return -1;
            }
        }
        return octets == 4 ? v : -1;
    }

    static String str(int a) {
        return ((a >>> 24) & 255) + "." + ((a >>> 16) & 255) + "." + ((a >>> 8) & 255) + "." + (a & 255);
    }

    /** A prefix "a.b.c.d/n" or a single address (/32). */
    record Prefix(int addr, int len) {
        static Prefix parse(String s) {
            int slash = s.indexOf('/');
            if (slash < 0) return new Prefix(Ip.parse(s), 32);
            int len = Integer.parseInt(s.substring(slash + 1));
            if (len < 0 || len > 32) throw new IllegalArgumentException("bad prefix length: " + s);
            return new Prefix(Ip.parse(s.substring(0, slash)) & mask(len), len);
        }

        boolean contains(int a) {
            return (a & mask(len)) == addr;
        }

        @Override
        public String toString() {
            return str(addr) + "/" + len;
        }
    }

    static int mask(int len) {
        return len == 0 ? 0 : -1 << (32 - len);
    }

    static boolean isPrefix(String s) {
        int slash = s.indexOf('/');
        if (slash < 0) return isAddr(s);
        return isAddr(s.substring(0, slash)) && Re.matches(s.substring(slash + 1), "\\d{1,2}") && Integer.parseInt(s.substring(slash + 1)) <= 32;
    }
}

package dev.meshc.trace;

/** IPv4 addresses as ints, prefixes as (address, length): the evaluator's own, independent of the model. */
final class Ip {
    private Ip() {
    }

    static final java.util.regex.Pattern ADDR = java.util.regex.Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");

    static boolean isAddr(String s) {
        var m = ADDR.matcher(s);
        if (!m.matches()) return false;
        for (int i = 1; i <= 4; i++) if (Integer.parseInt(m.group(i)) > 255) return false;
        return true;
    }

    static int parse(String s) {
        if (!isAddr(s)) throw new IllegalArgumentException("not an IPv4 address: " + s);
        String[] p = s.split("\\.");
        return (Integer.parseInt(p[0]) << 24) | (Integer.parseInt(p[1]) << 16) | (Integer.parseInt(p[2]) << 8) | Integer.parseInt(p[3]);
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

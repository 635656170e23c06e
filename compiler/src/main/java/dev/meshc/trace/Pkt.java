package dev.meshc.trace;

/** The packet being evaluated on one host, with its conntrack view and, for tunnel packets, the outer header. */
final class Pkt {
    int src;
    int dst;
    String proto; // tcp | udp
    int dport;
    String iif = "";
    String oif = "";
    boolean reply; // ct direction
    int ctOrigSrc;
    int ctOrigDst;
    int ctReplSrc;
    /** The set element a lookup found last, even when the rule did not match (a negated lookup): for reporting. */
    int lastElement;
    /** The outer packet of the tunnel (input chains see it): its transport header and what follows, as bytes. */
    byte[] th;
    /** Route lookup on the evaluating host: the device a packet to this address leaves by ("" when none). */
    java.util.function.IntFunction<String> routeDev = a -> "";

    Pkt copy() {
        Pkt p = new Pkt();
        p.src = src;
        p.dst = dst;
        p.proto = proto;
        p.dport = dport;
        p.iif = iif;
        p.oif = oif;
        p.reply = reply;
        p.ctOrigSrc = ctOrigSrc;
        p.ctOrigDst = ctOrigDst;
        p.ctReplSrc = ctReplSrc;
        p.th = th;
        p.routeDev = routeDev;
        return p;
    }

    /** Bits [offset, offset+len) of the transport header, big-endian (nft's @th,offset,len). */
    long thBits(int offset, int len) {
        long v = 0;
        for (int i = 0; i < len; i++) {
            int bit = offset + i;
            int b = bit / 8 < th.length ? th[bit / 8] & 255 : 0;
            v = (v << 1) | ((b >> (7 - bit % 8)) & 1);
        }
        return v;
    }

    static boolean ifMatch(String pattern, String name) {
        if (pattern.endsWith("*") || pattern.endsWith("+")) return name.startsWith(pattern.substring(0, pattern.length() - 1));
        return pattern.equals(name);
    }
}

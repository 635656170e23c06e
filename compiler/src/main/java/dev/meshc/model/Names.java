package dev.meshc.model;

/** The one naming rule (docs/design.md, "The inventory"): a DNS label, {@code [a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?}. */
public final class Names {
    private Names() {
    }

    /**
     * Checked by hand rather than by regex: it runs for every name in the inventory and every line
     * of the lock (hundreds of thousands at the largest fleets), mostly before the JIT has compiled
     * the regex engine. Tests compare it with the regex.
     */
    public static boolean isDnsLabel(String s) {
        int n = s.length();
        if (n == 0 || n > 63 || s.charAt(0) == '-' || s.charAt(n - 1) == '-') return false;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-')) return false;
        }
        return true;
    }
}

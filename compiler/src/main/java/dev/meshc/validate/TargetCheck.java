package dev.meshc.validate;

import dev.meshc.diag.Code;
import dev.meshc.diag.Diagnostics;
import dev.meshc.diag.SourceSpan;
import dev.meshc.model.Inventory;
import java.util.Map;
import java.util.TreeMap;

/**
 * T700: what the emitted artifacts need from the hosts (docs/apply.md, "Minimum versions") against
 * the versions an operator declares with {@code validate --target systemd=245,nftables=1.0.6,kernel=5.10}.
 * Versions, not features: a distribution's backports can make a lower version work, so these are
 * warnings, each saying what fails and what to use instead.
 */
public final class TargetCheck {
    /** Components meshc's artifacts depend on, as accepted by --target. */
    public static final java.util.List<String> COMPONENTS = java.util.List.of("systemd", "nftables", "kernel", "iproute2");

    private TargetCheck() {
    }

    /** Parses {@code name=version,...}; returns null and says why on a bad entry. */
    public static Map<String, int[]> parse(String spec, StringBuilder why) {
        Map<String, int[]> target = new TreeMap<>();
        for (String part : spec.split(",")) {
            String[] kv = part.strip().split("=", 2);
            if (kv.length != 2 || !COMPONENTS.contains(kv[0]) || !kv[1].matches("[0-9]+(\\.[0-9]+){0,2}")) {
                why.append("--target takes name=version pairs separated by commas, names among ").append(COMPONENTS)
                        .append(" (e.g. systemd=245,nftables=1.0.6,kernel=5.10); found '").append(part.strip()).append("'");
                return null;
            }
            String[] f = kv[1].split("\\.");
            int[] v = new int[3];
            for (int i = 0; i < f.length; i++) v[i] = Integer.parseInt(f[i]);
            target.put(kv[0], v);
        }
        return target;
    }

    public static void check(Inventory inv, Map<String, int[]> target, Diagnostics diags) {
        SourceSpan at = new SourceSpan(inv.file(), 1, 1);
        boolean vxlan = inv.network().encapsulation() == dev.meshc.model.Encapsulation.VXLAN;
        int[] systemd = target.get("systemd");
        if (systemd != null && below(systemd, 247)) {
            diags.warning(Code.T700, at, "systemd " + text(systemd) + " ignores Independent= in the tunnel's .netdev (needs 247) and never creates the "
                    + (vxlan ? "VXLAN" : "GRE") + " device: apply with 'meshc-apply --routing ip' (the role's meshc_routing: ip)");
        }
        if (systemd != null && below(systemd, 243)) {
            diags.warning(Code.T700, at, "systemd " + text(systemd) + " cannot read " + (vxlan ? "[BridgeFDB] Destination=/VNI=" : "[Neighbor] with an IPv4 LinkLayerAddress= (NBMA GRE)")
                    + " (needs 243): use --routing ip");
        }
        int[] nft = target.get("nftables");
        if (nft != null && below(nft, 1, 0, 1)) {
            diags.warning(Code.T700, at, "nftables " + text(nft) + " is older than 1.0.1 (typeof sets with raw payloads, concatenated intervals; older nft "
                    + "re-parses the whole ruleset): use --firewall iptables");
        }
        int[] kernel = target.get("kernel");
        if (kernel != null && below(kernel, 5, 6)) {
            diags.warning(Code.T700, at, "kernel " + text(kernel) + " lacks nft sets with concatenated intervals (needs 5.6) used for egress: use --firewall iptables");
        }
        int[] ip = target.get("iproute2");
        if (ip != null && below(ip, 5, 10)) {
            diags.warning(Code.T700, at, "iproute2 " + text(ip) + " may not take 'addrgenmode' in ip -batch (tested with 5.10 and later)");
        }
    }

    private static boolean below(int[] v, int... min) {
        for (int i = 0; i < 3; i++) {
            int m = i < min.length ? min[i] : 0;
            if (v[i] != m) return v[i] < m;
        }
        return false;
    }

    private static String text(int[] v) {
        return v[0] + (v[1] != 0 || v[2] != 0 ? "." + v[1] : "") + (v[2] != 0 ? "." + v[2] : "");
    }
}

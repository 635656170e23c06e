package dev.meshc.fuzz;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * Random valid inventories from a seed: any split with 2..12 container bits, both encapsulations,
 * 1..maxVms VMs, services with TCP and UDP endpoints and relationships, pinned and lock-assigned
 * indices within capacity, keys in random order. The same seed always gives the same text.
 */
public final class InventoryGenerator {
    private InventoryGenerator() {
    }

    public static String generate(long seed) {
        return generate(seed, 6, 15);
    }

    public static String generate(long seed, int maxVms, int maxContainers) {
        Random r = new Random(seed);
        int u = 12 + r.nextInt(13);                 // underlay prefix 12..24
        int c = 2 + r.nextInt(Math.min(11, u - 4 - 1)); // container bits, overlay prefix p = u - c >= 4
        int p = u - c;
        int underlayBase = (10 << 24) | (r.nextInt(1 << 16) << 8);
        underlayBase &= -1 << (32 - u);
        int capacity = (1 << c) - 3;
        boolean vxlan = r.nextBoolean();

        StringBuilder sb = new StringBuilder();
        List<String> top = new ArrayList<>();
        top.add("version: 1\n");
        StringBuilder net = new StringBuilder("network:\n");
        List<String> netLines = new ArrayList<>(List.of(
                "  underlay: " + ip(underlayBase) + "/" + u + "\n",
                "  overlay: " + ip(0xF0000000 & (-1 << (32 - p))) + "/" + p + "\n"));
        if (r.nextBoolean()) netLines.add("  encapsulation: " + (vxlan ? "vxlan" : "gre") + "\n");
        else if (vxlan) netLines.add("  encapsulation: vxlan\n");
        if (vxlan && r.nextBoolean()) netLines.add("  vxlan: {vni: " + (1 + r.nextInt(16_000_000)) + ", port: " + (1024 + r.nextInt(60000)) + "}\n");
        if (r.nextBoolean()) netLines.add("  mtu: " + (1280 + r.nextInt(8000)) + "\n");
        if (r.nextInt(4) == 0) netLines.add("  vip: 100.64." + (r.nextInt(64) * 4) + ".0/22\n");
        Collections.shuffle(netLines, r);
        netLines.forEach(net::append);
        top.add(net.toString());

        int vmCount = 1 + r.nextInt(maxVms);
        Map<String, Integer> vms = new LinkedHashMap<>();
        Set<Integer> used = new LinkedHashSet<>();
        while (vms.size() < vmCount) {
            int host = 1 + r.nextInt((1 << (32 - u)) - 2);
            if (used.add(host)) vms.put(name(r, "vm"), underlayBase | host);
        }
        StringBuilder vmText = new StringBuilder("vms:\n");
        vms.forEach((n, a) -> vmText.append("  ").append(n).append(": {underlay: ").append(ip(a))
                .append(r.nextInt(3) == 0 ? ", interface: ens" + r.nextInt(9) : "").append("}\n"));
        top.add(vmText.toString());

        int serviceCount = 1 + r.nextInt(6);
        List<String> services = new ArrayList<>();
        while (services.size() < serviceCount) {
            String n = name(r, "svc");
            if (!services.contains(n)) services.add(n);
        }
        Map<String, List<String>> endpoints = new LinkedHashMap<>();
        StringBuilder svcText = new StringBuilder("services:\n");
        for (String s : services) {
            List<String> eps = new ArrayList<>();
            int epCount = r.nextInt(4);
            while (eps.size() < epCount) {
                String e = name(r, "ep");
                if (!eps.contains(e)) eps.add(e);
            }
            endpoints.put(s, eps);
        }
        for (String s : services) {
            svcText.append("  ").append(s).append(":\n");
            if (!endpoints.get(s).isEmpty()) {
                svcText.append("    endpoints:\n");
                for (String e : endpoints.get(s)) {
                    svcText.append("      ").append(e).append(": {port: ").append(1 + r.nextInt(65535));
                    if (r.nextBoolean()) svcText.append(", protocol: ").append(r.nextBoolean() ? "tcp" : "udp");
                    if (r.nextInt(3) == 0) svcText.append(", scheme: ").append(name(r, "s"));
                    svcText.append("}\n");
                }
            }
            List<String> targets = new ArrayList<>();
            endpoints.forEach((t, eps) -> {
                if (!t.equals(s)) eps.forEach(e -> targets.add(t + ":" + e));
            });
            int relCount = targets.isEmpty() ? 0 : r.nextInt(4);
            if (relCount > 0) {
                svcText.append("    relationships:\n");
                Set<String> relNames = new LinkedHashSet<>();
                while (relNames.size() < relCount) relNames.add(name(r, "rel"));
                for (String rel : relNames) svcText.append("      ").append(rel).append(": ").append(targets.get(r.nextInt(targets.size()))).append("\n");
            }
            if (endpoints.get(s).isEmpty() && relCount == 0) svcText.append("    {}\n".replace("    {}\n", "    endpoints: {}\n"));
        }
        top.add(svcText.toString());

        int containerCount = r.nextInt(maxContainers + 1);
        List<String> vmNames = new ArrayList<>(vms.keySet());
        Map<String, BitSet> pinned = new LinkedHashMap<>();
        Map<String, Integer> perVm = new LinkedHashMap<>();
        StringBuilder ct = new StringBuilder("containers:\n");
        Set<String> cnames = new LinkedHashSet<>();
        for (int i = 0; i < containerCount; i++) {
            String vm = vmNames.get(r.nextInt(vmNames.size()));
            if (perVm.getOrDefault(vm, 0) >= capacity) continue;
            String n = name(r, "c");
            if (!cnames.add(n)) continue;
            perVm.merge(vm, 1, Integer::sum);
            ct.append("  ").append(n).append(": {service: ").append(services.get(r.nextInt(services.size()))).append(", vm: ").append(vm);
            if (r.nextInt(3) == 0) {
                int k = 1 + r.nextInt(capacity);
                BitSet b = pinned.computeIfAbsent(vm, v -> new BitSet());
                if (!b.get(k)) {
                    b.set(k);
                    ct.append(", index: ").append(k);
                }
            }
            ct.append("}\n");
        }
        if (!cnames.isEmpty()) top.add(ct.toString());

        String first = top.remove(0);
        Collections.shuffle(top, r);
        top.add(r.nextInt(top.size() + 1), first);
        top.forEach(sb::append);
        return sb.toString();
    }

    static String name(Random r, String prefix) {
        return prefix + "-" + Integer.toString(r.nextInt(1 << 20), 36);
    }

    static String ip(int a) {
        return String.format(Locale.ROOT, "%d.%d.%d.%d", (a >>> 24) & 255, (a >>> 16) & 255, (a >>> 8) & 255, a & 255);
    }
}

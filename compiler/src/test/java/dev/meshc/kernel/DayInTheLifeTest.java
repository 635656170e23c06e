package dev.meshc.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshc.TestSupport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A day in the life of two VMs that already have a host firewall (INPUT DROP with an SSH accept, a
 * user chain, a Docker-style MASQUERADE and FORWARD DROP policy, a raw NOTRACK rule), per firewall:
 * apply; apply again; change the MTU; move a container; remove a relationship; reboot (links deleted,
 * rules flushed, the host firewall restored, the boot path run); restart nftables.service with
 * Debian's default config. Every step goes through bin/meshc-apply as production does. After each:
 * the normalised kernel state equals a fresh apply's on a wiped VM, the traffic matrix holds, and
 * the host's own rules are intact.
 */
@Tag("kernel")
class DayInTheLifeTest {
    static final String HOST_FIREWALL = String.join(" && ",
            "iptables -P INPUT DROP", "iptables -A INPUT -i lo -j ACCEPT", "iptables -A INPUT -p tcp --dport 22 -j ACCEPT",
            "iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT", "iptables -N HOSTFW", "iptables -A HOSTFW -j RETURN",
            "iptables -A INPUT -j HOSTFW", "iptables -P FORWARD DROP", "iptables -N DOCKER-USER", "iptables -A FORWARD -j DOCKER-USER",
            "iptables -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE",
            "iptables -t raw -A PREROUTING -p udp --dport 9999 -j CT --notrack");
    /** What docs/security-model.md tells nft users to add where another firewall drops by policy. */
    static final String NFT_ACCEPTS = String.join(" && ",
            "iptables -I DOCKER-USER -i mc+ -j ACCEPT", "iptables -I DOCKER-USER -o mc+ -j ACCEPT",
            "iptables -I DOCKER-USER -i meshc-+ -j ACCEPT", "iptables -I DOCKER-USER -o meshc-+ -j ACCEPT",
            "iptables -I INPUT -p udp --dport 4789 -j ACCEPT", "iptables -I INPUT -i mc+ -j ACCEPT");
    static final String DEBIAN_NFTABLES_CONF = "#!/usr/sbin/nft -f\n\nflush ruleset\n\ntable inet filter {\n\tchain input {\n"
            + "\t\ttype filter hook input priority filter;\n\t}\n\tchain forward {\n\t\ttype filter hook forward priority filter;\n\t}\n"
            + "\tchain output {\n\t\ttype filter hook output priority filter;\n\t}\n}\n";

    Path work;
    Path inventory;
    Fleet fleet;
    int sport = 40000;

    @Test
    void nft() throws Exception {
        day("nft");
    }

    @Test
    void iptables() throws Exception {
        day("iptables");
    }

    void day(String firewall) throws Exception {
        Kernel.require();
        work = Files.createTempDirectory("meshc-day");
        inventory = work.resolve("inventory.yml");
        String base = Files.readString(TestSupport.root().resolve("compiler/src/test/resources/e2e/attack.yml"));
        Files.writeString(inventory, base);
        compile();
        fleet = new Fleet(work.resolve("out"), TestSupport.root().resolve("compiler/src/test/resources/e2e/netcheck.py"),
                Files.createDirectories(work.resolve("logs")));
        fleet.firewall = firewall;
        try {
            fleet.startVms();
            for (String vm : fleet.vms.keySet()) hostFirewall(vm);
            Map<String, String> hostRules = new TreeMap<>();
            for (String vm : fleet.vms.keySet()) hostRules.put(vm, hostRules(vm));
            step("apply", base, hostRules);
            step("apply again", base, hostRules);
            step("MTU 1500 -> 1400", base.replace("mtu: 1500", "mtu: 1400"), hostRules);
            assertTrue(fleet.vmNs.get("vm1").exec("ip link show meshc-vx").out().contains("mtu 1350"), "tunnel MTU changed live");
            String moved = base.replace("mtu: 1500", "mtu: 1400").replace("db-3: {service: db, vm: vm2}", "db-3: {service: db, vm: vm1}");
            step("move db-3", moved, hostRules);
            // a peer joins: a third VM with a database replica; every VM gets its route, neighbour and flows
            String peer = moved.replace("  vm2: {underlay: 192.168.125.213}\n", "  vm2: {underlay: 192.168.125.213}\n  vm3: {underlay: 192.168.200.7}\n")
                    .replace("  db-3: {service: db, vm: vm1}\n", "  db-3: {service: db, vm: vm1}\n  db-4: {service: db, vm: vm3}\n");
            step("add a peer", peer, hostRules);
            assertTrue(fleet.vmNs.get("vm1").exec("ip route").out().contains("252.128.112.0/20 via 252.128.112.1"), "vm1 routes to the new peer");
            moved = peer;
            String revoked = moved.replace("      database: db:pg\n", "");
            step("remove a relationship", revoked, hostRules);
            // reboot: links and rules gone, the host's own firewall back first (its own boot), then meshc.service's command
            for (String vm : fleet.vms.keySet()) {
                wipe(vm);
                hostFirewall(vm);
                var r = fleet.vmNs.get(vm).exec("MESHC_STATE=" + work.resolve("state-" + vm) + " MESHC_FIREWALL=" + firewall
                        + " bash " + fleet.host(vm).resolve("bin/meshc-apply") + " --boot");
                r.orFail("boot path on " + vm);
            }
            restartNetworkd();
            check("reboot", hostRules);
            if (firewall.equals("nft")) {
                // systemctl restart nftables with Debian's default config plus the include the role adds
                for (String vm : fleet.vms.keySet()) {
                    Path conf = work.resolve("nftables-" + vm + ".conf");
                    Files.writeString(conf, DEBIAN_NFTABLES_CONF + "include \"" + fleet.host(vm).resolve("nftables/meshc.nft") + "\"\n");
                    fleet.vmNs.get(vm).exec("nft -f " + conf).orFail("nftables.service restart on " + vm);
                    String tables = fleet.vmNs.get(vm).exec("nft list tables").out();
                    assertTrue(tables.contains("table ip meshc") && tables.contains("table ip6 meshc"), "meshc's tables came back with the flush: " + tables);
                }
                // at once, with no apply: the allowed flows pass, the others are refused
                traffic("nft, nftables.service restart");
                // "flush ruleset" flushed the host's own iptables-nft rules too (its nftables.conf would hold them)
                for (String vm : fleet.vms.keySet()) hostFirewall(vm);
                check("nftables.service restart", hostRules);
            }
        } finally {
            fleet.close();
        }
    }

    void compile() throws IOException {
        var r = TestSupport.meshc("compile", inventory.toString(), "-o", work.resolve("out").toString(), "-q");
        assertEquals(0, r.code(), r.err());
    }

    void hostFirewall(String vm) {
        var ns = fleet.vmNs.get(vm);
        ns.exec(HOST_FIREWALL).orFail("host firewall on " + vm);
        if (fleet.firewall.equals("nft")) ns.exec(NFT_ACCEPTS).orFail("accepts for meshc on " + vm);
    }

    /** The host's own rules: everything in iptables-save that is not meshc's. */
    String hostRules(String vm) {
        return fleet.vmNs.get(vm).exec("iptables-save | grep -v -e '^#' -e MESHC | sed 's/\\[[0-9]*:[0-9]*\\]//'").out();
    }

    void step(String name, String yaml, Map<String, String> hostRules) throws Exception {
        Files.writeString(inventory, yaml);
        compile();
        fleet.readOutput();
        if (!fleet.vmNs.keySet().containsAll(fleet.vms.keySet())) { // a new VM boots with its host firewall
            fleet.startVms();
            for (String vm : fleet.vms.keySet()) {
                if (!hostRules.containsKey(vm)) {
                    hostFirewall(vm);
                    hostRules.put(vm, hostRules(vm));
                }
            }
        }
        fleet.applyAll();
        restartNetworkd();
        check(name, hostRules);
    }

    void restartNetworkd() throws Exception {
        for (String vm : fleet.vms.keySet()) {
            fleet.stopNetworkd(vm);
            fleet.startNetworkd(vm);
        }
        attachAll();
    }

    void attachAll() throws Exception {
        fleet.place(AttackAndChurnTest::servicePorts);
    }

    /** Deletes meshc's links and every rule, and turns forwarding off: what a reboot leaves. */
    void wipe(String vm) {
        fleet.vmNs.get(vm).exec("ip link del meshc-vx; nft flush ruleset; iptables -P INPUT ACCEPT; iptables -P FORWARD ACCEPT; "
                + "for t in raw nat filter; do iptables -t $t -F; iptables -t $t -X; ip6tables -t $t -F; ip6tables -t $t -X; done; "
                + "ip route flush proto 252; ip route flush proto static; sysctl -q -w net.ipv4.ip_forward=0; "
                + "for d in $(ls /sys/class/net | grep '^mc'); do ip addr flush dev $d; done; true");
    }

    /** The kernel state meshc is responsible for, normalised: what must equal a fresh apply's. */
    String state(String vm) {
        return fleet.vmNs.get(vm).exec(String.join("; ",
                "echo '# nft'; (nft list table ip meshc; nft list table ip6 meshc) 2>&1 | sed 's/^[[:space:]]*//' | sort",
                "echo '# iptables'; iptables-save | grep -v '^#' | sed 's/\\[[0-9]*:[0-9]*\\]//'",
                "echo '# ip6tables'; ip6tables-save | grep -v '^#' | sed 's/\\[[0-9]*:[0-9]*\\]//'",
                "echo '# links'; ip -d -o link show | sed 's/^[0-9]*: //; s/ link-netns[^ ]*//; s/ promiscuity.*//' | sort",
                "echo '# tunnel'; ip -d -o link show meshc-vx | sed 's/^[0-9]*: //'",
                "echo '# addresses'; ip -4 -o addr show | awk '{print $2, $4}' | sort",
                "echo '# routes'; ip -4 route show | sort",
                "echo '# neighbours'; ip neigh show nud permanent | sort",
                "echo '# fdb'; bridge fdb show dev meshc-vx | sort",
                "echo '# forwarding'; sysctl -n net.ipv4.ip_forward")).out();
    }

    void check(String step, Map<String, String> hostRules) throws Exception {
        String mode = fleet.firewall + ", " + step;
        for (String vm : fleet.vms.keySet()) assertEquals(hostRules.get(vm), hostRules(vm), mode + ": the host's own rules on " + vm);
        traffic(mode);
        Map<String, String> now = new TreeMap<>();
        for (String vm : fleet.vms.keySet()) now.put(vm, state(vm));
        // a fresh apply on wiped VMs: the same state
        for (String vm : fleet.vms.keySet()) {
            wipe(vm);
            hostFirewall(vm);
            fleet.apply(vm);
        }
        restartNetworkd();
        for (String vm : fleet.vms.keySet()) assertEquals(now.get(vm), state(vm), mode + ": " + vm + "'s state differs from a fresh apply's");
        traffic(mode + " (fresh)");
    }

    /** Allowed flows pass, others are refused. */
    void traffic(String mode) throws IOException {
        boolean database = Files.readString(inventory).contains("database: db:pg");
        var j = Fleet.JSON.readTree(Files.readAllBytes(fleet.host(fleet.containers.get("app-1").vm()).resolve("containers/app-1/relationships.json")));
        if (database) {
            String vip = j.get("database").get(0).get("ip").asString();
            Fleet.Tally t = fleet.connect("app-1", vip, 5432, 6, sport, false);
            sport += 6;
            assertEquals(0, t.failed(), mode + ": app-1 -> database VIP " + t);
        }
        for (String db : fleet.containers.keySet().stream().filter(c -> c.startsWith("db-")).toList()) {
            Fleet.Tally direct = fleet.connect("app-1", fleet.containers.get(db).address(), 5432, 1, sport++, false);
            assertEquals(database ? Map.of(db, 1) : Map.of(), direct.replies(), mode + ": app-1 -> " + db);
        }
        Fleet.Tally replica = fleet.connect("db-1", fleet.containers.get("db-2").address(), 5432, 1, sport++, false);
        assertEquals(Map.of("db-2", 1), replica.replies(), mode + ": replica db-1 -> db-2");
        if (fleet.containers.containsKey("db-4")) {
            Fleet.Tally peer = fleet.connect("db-4", fleet.containers.get("db-1").address(), 5432, 1, sport++, false);
            assertEquals(Map.of("db-1", 1), peer.replies(), mode + ": replica db-4 (new VM) -> db-1");
        }
        Fleet.Tally lonely = fleet.connect("lonely-1", fleet.containers.get("db-2").address(), 5432, 1, sport++, false);
        assertEquals(Map.of(), lonely.replies(), mode + ": lonely-1 -> db-2 refused");
        Fleet.Tally stats = fleet.connect("app-1", fleet.containers.get("stats-2").address(), 8125, 1, sport++, true);
        assertEquals(Map.of("stats-2", 1), stats.replies(), mode + ": app-1 -> stats-2 (udp)");
    }
}

"""The data plane in network namespaces (needs root): new connections per second through the VIP DNAT of a
generated ruleset at two sizes, and the time the tools take to load the largest XL host's files."""
import json, os, re, statistics, subprocess, time

from common import NETCHECK, NOTES, WORK, meshc, ns, rm, sh


def vip_inventory(n):
    lines = ["version: 1", "network:", "  underlay: 192.168.1.0/24", "  overlay: 10.0.0.0/8", "  encapsulation: vxlan",
             "vms:", "  vm-a: {underlay: 192.168.1.10}", "services:", "  app:", "    relationships:", "      db: db:pg",
             "  db:", "    endpoints:", "      pg: {port: 5432}", "containers:", "  db-1: {service: db, vm: vm-a, index: 1}"]
    for i in range(n):
        lines.append(f"  app-{i:05d}: {{service: app, vm: vm-a, index: {i + 2}}}")
    return "\n".join(lines) + "\n"


class VipBench:
    """One VM namespace with the compiled ruleset of an n-consumer inventory, a consumer and a backend namespace."""

    def __init__(self, tag, n, rules):
        self.n, self.rules = n, rules
        d = f"{WORK}/vip-{rules}-{n}"
        rm(d)
        os.makedirs(d)
        open(f"{d}/inv.yml", "w").write(vip_inventory(n))
        subprocess.run(meshc("compile", f"{d}/inv.yml", "-o", f"{d}/out", "-q"), check=True)
        net = json.load(open(f"{d}/out/hosts/vm-a/containers/db-1/network.json"))
        client = f"app-{n - 1:05d}"  # the consumer with the highest address: the last iptables rule
        cnet = json.load(open(f"{d}/out/hosts/vm-a/containers/{client}/network.json"))
        self.vip = json.load(open(f"{d}/out/hosts/vm-a/containers/{client}/relationships.json"))["db"][0]["ip"]
        self.vm, self.cns, self.bns = f"mb{tag}vm", f"mb{tag}c", f"mb{tag}b"
        self.srv = None
        for x in (self.vm, self.cns, self.bns):
            sh(f"ip netns del {x} 2>/dev/null; ip netns add {x}")
        ns(self.vm, "sysctl -q -w net.ipv4.ip_forward=1; ip link set lo up")
        for name, c in ((self.bns, net), (self.cns, cnet)):
            dev = c["host_interface"]
            sh(f"ip -n {self.vm} link add {dev} type veth peer name eth0 netns {name}")
            ns(self.vm, f"ip link set {dev} up; ip addr add {c['gateway']}/32 dev {dev}; ip route add {c['address']}/32 dev {dev} scope link")
            ns(name, f"ip link set lo up; ip addr add {c['address']}/32 dev eth0; ip link set eth0 up; ip route add default via {c['gateway']} dev eth0 onlink")
        if rules == "nft":
            ns(self.vm, f"nft -f {d}/out/hosts/vm-a/nftables/meshc.nft")
        else:
            ns(self.vm, f"iptables-restore {d}/out/hosts/vm-a/iptables/rules.v4")
        self.srv = subprocess.Popen(["ip", "netns", "exec", self.bns, "python3", NETCHECK, "serve", "db-1", "5432"],
                                    stdout=subprocess.PIPE, text=True)
        self.srv.stdout.readline()
        self.port = 10000

    def rate(self, count):
        """Connections per second, timed inside the client (interpreter start-up excluded); fresh source ports every time."""
        out = ns(self.cns, f"python3 {NETCHECK} connect {self.vip} 5432 {count} {self.port}")
        self.port += count
        res = json.loads(out.strip().splitlines()[-1])
        if res["failed"]:
            NOTES.append(f"{self.rules} {self.n}: {res['failed']} failed connections")
        return sum(res["replies"].values()) / res["seconds"]

    def close(self):
        if self.srv:
            self.srv.kill()
        for x in (self.vm, self.cns, self.bns):
            sh(f"ip netns pids {x} | xargs -r kill -9; ip netns del {x}", check=False)


VIP_ROUNDS, VIP_CONNECTIONS = 15, 3000


def connection_rates(rules, sizes=(10, 10000)):
    """Both sizes set up side by side and measured in rounds, one run of each size per round, in the order
    10, 10k then 10k, 10 (so neither always runs first); drift on the machine hits both runs of a round alike.
    Returns the median rate of each size and the per-round ratios (largest size over smallest) whose median
    is the reported ratio: a pair's ratio cancels what changed between rounds, a ratio of medians does not."""
    benches = []
    try:
        for n in sizes:
            benches.append(VipBench(f"{rules[0]}{n}", n, rules))
        rates = {n: [] for n in sizes}
        for b in benches:
            b.rate(300)  # warm-up: caches, conntrack tables
        for i in range(VIP_ROUNDS):
            for b in (benches if i % 2 == 0 else benches[::-1]):
                rates[b.n].append(b.rate(VIP_CONNECTIONS))
        lo, hi = min(sizes), max(sizes)
        ratios = [b / a for a, b in zip(rates[lo], rates[hi])]
        return {n: statistics.median(r) for n, r in rates.items()}, ratios
    finally:
        for b in benches:
            b.close()


def load_times(host):
    """Loading one host's files (its directory): nft, iptables-restore, ip/bridge -batch, systemd-networkd."""
    results, name = {}, "mbload"
    sh(f"ip netns del {name} 2>/dev/null; ip netns add {name}")
    local = re.search(r"Local=(\S+)", open(f"{host}/systemd-network/60-meshc-vx.netdev").read()).group(1)
    try:
        # The VM's underlay address must exist for the VXLAN device to come up.
        ns(name, f"ip link set lo up; ip link add eth0 type veth peer name eth0p; ip addr add {local}/16 dev eth0; ip link set eth0 up; ip link set eth0p up")
        def timed(cmd, reps=5, before=None):
            ts = []
            for _ in range(reps):
                if before:
                    ns(name, before, check=False)
                t0 = time.perf_counter()
                ns(name, cmd)
                ts.append(time.perf_counter() - t0)
            return statistics.median(ts)
        results["load_nft"] = timed(f"nft -f {host}/nftables/meshc.nft")
        results["load_iptables"] = timed(f"iptables-restore {host}/iptables/rules.v4")
        results["load_ipbatch"] = timed(
            f"ip -batch {host}/ip/links.batch && ip -batch {host}/ip/neighbors.batch && bridge -batch {host}/ip/fdb.batch && ip -batch {host}/ip/routes.batch",
            before="ip link del meshc-vx")
        results["peers"] = sum(1 for _ in open(f"{host}/ip/routes.batch"))
        ns(name, "ip link del meshc-vx", check=False)
        # systemd-networkd: from start until every peer route is installed
        ts = []
        for _ in range(3):
            ns(name, "ip link del meshc-vx", check=False)
            script = (f"mount -o remount,bind,ro /sys; mount --bind {host}/systemd-network /etc/systemd/network; "
                      "mkdir -p /run/systemd/netif; mount -t tmpfs -o mode=0755 tmpfs /run/systemd/netif; "
                      "exec /lib/systemd/systemd-networkd")
            t0 = time.perf_counter()
            p = subprocess.Popen(["ip", "netns", "exec", name, "unshare", "-m", "sh", "-c", script],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            done = None
            while time.perf_counter() - t0 < 120:
                n = sh(f"ip -n {name} route show | grep -c onlink || true").strip()
                if n.isdigit() and int(n) >= results["peers"]:
                    done = time.perf_counter() - t0
                    break
                time.sleep(0.05)
            p.kill()
            p.wait()
            ts.append(done if done is not None else float("inf"))
        results["load_networkd"] = statistics.median(ts)
    finally:
        sh(f"ip netns pids {name} | xargs -r kill -9; ip netns del {name}", check=False)
    return results



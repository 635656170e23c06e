#!/usr/bin/env python3
"""meshc benchmarks: compile times and memory per fleet size, ratios measured side by side in one
run, start-up with and without a class-data archive, and the data plane in network namespaces.
Writes docs/performance.md and docs/performance.svg. Usage: bench/run [--quick]"""
import json, os, platform, re, shutil, statistics, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import churn  # noqa: E402  the recompile-after-a-change rows (issue 20), a module of their own

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JAR = os.path.join(ROOT, "compiler/target/meshc.jar")
QUICK = "--quick" in sys.argv
REPS = 3 if QUICK else 5
WORK = "/dev/shm/meshc-bench" if os.path.isdir("/dev/shm") else "/tmp/meshc-bench"
LAUNCHER = os.path.join(ROOT, "meshc")  # what users run: its JVM options, class-data archive and JIT choice


def launcher_jit(*command):
    """The JIT options both launchers give `meshc COMMAND...` (compiler/src/release/jit.sh decides)."""
    return subprocess.run(["bash", "-c", '. "$1"; shift; meshc_jit "$@"; echo "${meshc_jit_opts[@]}"', "jit",
                           os.path.join(ROOT, "compiler/src/release/jit.sh")] + list(command),
                          capture_output=True, text=True, check=True).stdout.split()


# java run directly (start-up rows, the YAML floor) as the launcher runs a short command.
PLAIN_JAVA = ["java", "-XX:+UseParallelGC", "-Xmx1g"] + launcher_jit("vip")
# For rows that run a short command with a whole-fleet compile's JIT instead: "-XX:TieredStopAtLevel=4" switches C2 back on.
TIERED = dict(os.environ, MESHC_JAVA_OPTS=" ".join(["-XX:TieredStopAtLevel=4"] + launcher_jit("compile")))
# The JVM's own C2 thresholds (JDK 17), for the row that measures what raising them gains.
DEFAULT_C2 = dict(os.environ, MESHC_JAVA_OPTS="-XX:Tier4InvocationThreshold=5000 -XX:Tier4MinInvocationThreshold=600 "
                  "-XX:Tier4CompileThreshold=15000 -XX:Tier4BackEdgeThreshold=40000")
YAML_PASSES = 8  # passes of the YAML event stream in one JVM for the warmed parser rows
NETCHECK = os.path.join(ROOT, "compiler/src/test/resources/e2e/netcheck.py")
results, notes = {}, []


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# What a compile into a missing directory prints: a leftover OUT would time a no-op recompile instead.
FRESH = r": \d+ written, 0 unchanged, 0 removed"


def run_timed(cmd, prepare=None, reps=REPS, env=None, expect=0, must_print=None):
    """Median wall seconds and median peak RSS (KiB) of cmd over reps runs (GNU time)."""
    walls, rss, outs = [], [], []
    for _ in range(reps):
        if prepare:
            prepare()
        t0 = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-f", "MAXRSS %M"] + cmd, capture_output=True, text=True, env=env)
        walls.append(time.perf_counter() - t0)
        if p.returncode != expect:
            raise SystemExit("failed: %s\n%s" % (" ".join(cmd), p.stderr[-2000:]))
        if must_print and not re.search(must_print, p.stderr):
            raise SystemExit("did not print %r: %s\n%s" % (must_print, " ".join(cmd), p.stderr[-2000:]))
        m = re.search(r"MAXRSS (\d+)", p.stderr)
        rss.append(int(m.group(1)) if m else 0)
        outs.append(p.stderr)
    return statistics.median(walls), statistics.median(rss), outs[-1]


def meshc(*args):
    return [LAUNCHER] + list(args)


def alternate(a, b, prepare=None, reps=REPS, env_a=None, env_b=None, must_print_a=None, must_print_b=None):
    """Medians of two commands run in turn, run by run, so that both see the same spell of this shared VM
    (its speed drifts by a quarter between runs of this benchmark); prepare runs before each."""
    aw, ar, bw, br = [], [], [], []
    for _ in range(reps):
        w, r, _ = run_timed(a, prepare=prepare, reps=1, env=env_a, must_print=must_print_a)
        aw.append(w)
        ar.append(r)
        w, r, _ = run_timed(b, prepare=prepare, reps=1, env=env_b, must_print=must_print_b)
        bw.append(w)
        br.append(r)
    return ({"wall": statistics.median(aw), "rss_kib": statistics.median(ar)},
            {"wall": statistics.median(bw), "rss_kib": statistics.median(br)})


def tree_bytes(path):
    total = files = 0
    for d, _, fs in os.walk(path):
        for f in fs:
            total += os.path.getsize(os.path.join(d, f))
            files += 1
    return total, files


def rm(path):
    shutil.rmtree(path, ignore_errors=True)


def compile_benchmarks():
    sizes = ["S", "M", "L"] if QUICK else ["S", "M", "L", "XL"]
    for s in ["S", "M", "L", "XL"]:
        subprocess.run(meshc("fleet", s, "-o", f"{WORK}/{s}.yml"), check=True)
        subprocess.run(meshc("validate", f"{WORK}/{s}.yml", "--lock", f"{WORK}/{s}.lock", "-q"), check=True)
        if not os.path.exists(f"{WORK}/{s}.lock"):
            # validate writes nothing; the first compile writes the lock (not timed)
            subprocess.run(meshc("compile", f"{WORK}/{s}.yml", "-o", f"{WORK}/lockgen", "--lock", f"{WORK}/{s}.lock", "--host", "vm-00000", "-q"), check=True)
            rm(f"{WORK}/lockgen")
    for s in sizes:
        out = f"{WORK}/out-{s}"
        reps = 3 if s == "XL" else REPS
        compile_cmd = meshc("compile", f"{WORK}/{s}.yml", "-o", out, "--lock", f"{WORK}/{s}.lock")
        if s == "L":
            log(f"compile L and cp -r of its output, alternating x{reps}")
            cp = f"{WORK}/cp-L"
            # Each starts from the same state, one 260,000-file tree on the tmpfs (the output of an untimed first
            # compile, which cp -r copies), and writes one more into a missing directory. What else is on the tmpfs
            # matters: with a second such tree just written beside it, a compile took 9.1 s instead of 7.9 s
            # (medians of 4, alternating), so neither may start with the other's output still there.
            source, fresh_out = f"{WORK}/source-L", f"{WORK}/out-L-timed"
            subprocess.run(meshc("compile", f"{WORK}/L.yml", "-o", source, "--lock", f"{WORK}/L.lock", "-q"), check=True)

            def only_source():
                rm(cp)
                rm(fresh_out)
            timed_compile = meshc("compile", f"{WORK}/L.yml", "-o", fresh_out, "--lock", f"{WORK}/L.lock")
            c, results["cp_L"] = alternate(timed_compile, ["cp", "-r", source, cp], prepare=only_source, reps=reps,
                                         must_print_a=FRESH)
            rm(source)
            rm(fresh_out)
            rm(cp)
            results["compile_L_beside_tree"] = c
            # The full compile row proper, as for the other sizes (nothing else on the tmpfs), alternating with the
            # JVM's default C2 thresholds to show what the launcher's raised ones gain.
            log(f"compile L, the launcher's C2 thresholds and the JVM's defaults, alternating x{reps}")
            c, results["compile_L_default_c2"] = alternate(
                compile_cmd, compile_cmd, prepare=lambda: rm(out), reps=reps, env_b=DEFAULT_C2, must_print_a=FRESH, must_print_b=FRESH)
            wall, rss = c["wall"], c["rss_kib"]
        else:
            log(f"compile {s} x{reps}")
            wall, rss, _ = run_timed(compile_cmd, prepare=lambda: rm(out), reps=reps, must_print=FRESH)
        size, files = tree_bytes(out)
        results[f"compile_{s}"] = {"wall": wall, "rss_kib": rss, "bytes": size, "files": files}
        if s == "L":
            log("no-op recompile L")
            w, r, err = run_timed(meshc("compile", f"{WORK}/L.yml", "-o", out, "--lock", f"{WORK}/L.lock"))
            m = re.search(r"(\d+) written, (\d+) unchanged", err)
            results["noop_L"] = {"wall": w, "rss_kib": r, "written": int(m.group(1)), "unchanged": int(m.group(2))}
            log("validate L, the launcher's C1 alone and tiered, alternating")
            results["validate_L"], results["validate_L_tiered"] = alternate(
                meshc("validate", f"{WORK}/L.yml", "--lock", f"{WORK}/L.lock", "-q"),
                meshc("validate", f"{WORK}/L.yml", "--lock", f"{WORK}/L.lock", "-q"), env_b=TIERED)
            # An inventory with an error per container (every service reference misspelt): the cost of reporting.
            text = open(f"{WORK}/L.yml").read().replace("service: svc-", "service: nosvc-")
            open(f"{WORK}/L-errors.yml", "w").write(text)
            log("validate L with an error per container")
            w, r, err = run_timed(meshc("validate", f"{WORK}/L-errors.yml", "--lock", f"{WORK}/L.lock"), expect=1)
            m = re.search(r"^(\d+) errors\.$", err, re.M)
            results["validate_L_errors"] = {"wall": w, "rss_kib": r, "errors": int(m.group(1))}
            log("churn at L: each kind of change, incremental beside a full compile")
            results["churn_L"] = churn.run(WORK, "L", 1 if QUICK else 3)
        if s != "XL":
            rm(out)
        else:
            results["xl_out"] = out
    for s in ["L", "XL"]:
        out = f"{WORK}/host-{s}"
        log(f"compile --host {s}, the launcher's C1 alone and tiered, alternating")
        host_cmd = meshc("compile", f"{WORK}/{s}.yml", "-o", out, "--lock", f"{WORK}/{s}.lock", "--host", "vm-00000")
        results[f"host_{s}"], results[f"host_{s}_tiered"] = alternate(host_cmd, host_cmd, prepare=lambda: rm(out), env_b=TIERED,
                                                                      must_print_a=FRESH, must_print_b=FRESH)
        results[f"host_{s}"]["bytes"], results[f"host_{s}"]["files"] = tree_bytes(out)
        if s == "XL":
            # The floor under it: a fresh JVM that only pulls the YAML event stream through the file.
            log("YAML event stream alone, XL")
            w, r, _ = run_timed(PLAIN_JAVA + ["-cp", JAR, "dev.meshc.bench.YamlFloor", f"{WORK}/XL.yml"])
            results["yaml_floor_XL"] = {"wall": w, "rss_kib": r}
            # The parser's own speed: the last of several passes in one JVM, once the JIT has compiled it.
            for key, jit in (("yaml_warm_XL", PLAIN_JAVA), ("yaml_warm_XL_tiered", PLAIN_JAVA + ["-XX:TieredStopAtLevel=4"])):
                last = []
                for _ in range(3):
                    passes = subprocess.run(jit + ["-cp", JAR, "dev.meshc.bench.YamlFloor", f"{WORK}/XL.yml", str(YAML_PASSES)],
                                            capture_output=True, text=True, check=True).stdout
                    last.append(int(re.findall(r"(\d+) ms", passes)[-1]) / 1000)
                results[key] = {"wall": statistics.median(last), "rss_kib": None}
            j25 = "/usr/lib/jvm/temurin-25-jdk-amd64/bin/java"
            if os.path.exists(j25):
                # JDK 25 with an AOT cache trained on another fleet (M) and VM, then --host at XL as above.
                log("compile --host XL, Java 25 + AOT cache")
                b25, aot, t = [j25] + PLAIN_JAVA[1:], f"{WORK}/host.aot", f"{WORK}/aot-train"
                subprocess.run(b25 + [f"-XX:AOTCacheOutput={aot}", "-jar", JAR, "compile", f"{WORK}/M.yml", "-o", t,
                                      "--lock", f"{WORK}/M.lock", "--host", "vm-00001", "-q"], capture_output=True, check=True)
                rm(t)
                for key, extra in [("host_XL_25", []), ("host_XL_25_aot", [f"-XX:AOTCache={aot}"])]:
                    w, r, _ = run_timed(b25 + extra + ["-jar", JAR, "compile", f"{WORK}/XL.yml", "-o", out, "--lock",
                                                       f"{WORK}/XL.lock", "--host", "vm-00000", "-q"], prepare=lambda: rm(out))
                    results[key] = {"wall": w, "rss_kib": r}
        if s == "XL" and "xl_out" not in results:
            results["xl_host_dir"] = out + "/hosts/vm-00000"
        elif s == "L":
            rm(out)


def verify_benchmarks(sizes=("S", "L")):
    """Issue 19: a full compile verifying what it wrote (its sample of hosts) and with --no-verify, alternating, and
    `meshc verify` alone of every host of that output (stopped after 20 minutes), side by side in one run."""
    for s in sizes:
        inv, lock, out = f"{WORK}/{s}.yml", f"{WORK}/{s}-verify.lock", f"{WORK}/verify-{s}"
        if not os.path.exists(inv):
            subprocess.run(meshc("fleet", s, "-o", inv), check=True)
        cmd = meshc("compile", inv, "-o", out, "--lock", lock)
        subprocess.run(cmd + ["-q"], check=True)  # writes the lock (untimed)
        log(f"compile {s} with and without verify, alternating; then verify alone")
        a, b = alternate(cmd, cmd + ["--no-verify"], prepare=lambda: rm(out), reps=3, must_print_a=FRESH, must_print_b=FRESH)
        t0, p = time.perf_counter(), None
        try:
            p = subprocess.run(meshc("verify", inv, "--lock", lock, "--out", out, "-q"), capture_output=True, text=True, timeout=1200)
        except subprocess.TimeoutExpired:
            pass
        alone = time.perf_counter() - t0 if p is not None and p.returncode == 0 else None
        load = os.getloadavg()[0]
        results[f"verify_{s}"] = {"compile": a["wall"], "no_verify": b["wall"], "alone": alone, "load": load}
        rm(out)


def startup_benchmarks():
    jsa = f"{WORK}/meshc.jsa"
    base = PLAIN_JAVA
    w, r, _ = run_timed(base + ["-Xshare:auto", "-jar", JAR, "vip", "db"], reps=11)
    results["start_17"] = {"wall": w, "rss_kib": r}
    subprocess.run(base + [f"-XX:ArchiveClassesAtExit={jsa}", "-jar", JAR, "vip", "db"], capture_output=True, check=True)
    w, r, _ = run_timed(base + [f"-XX:SharedArchiveFile={jsa}", "-jar", JAR, "vip", "db"], reps=11)
    results["start_17_appcds"] = {"wall": w, "rss_kib": r}
    j25 = "/usr/lib/jvm/temurin-25-jdk-amd64/bin/java"
    if os.path.exists(j25):
        aot = f"{WORK}/meshc.aot"
        b25 = [j25] + PLAIN_JAVA[1:]
        w, r, _ = run_timed(b25 + ["-jar", JAR, "vip", "db"], reps=11)
        results["start_25"] = {"wall": w, "rss_kib": r}
        subprocess.run(b25 + [f"-XX:AOTCacheOutput={aot}", "-jar", JAR, "vip", "db"], capture_output=True, check=True)
        w, r, _ = run_timed(b25 + [f"-XX:AOTCache={aot}", "-jar", JAR, "vip", "db"], reps=11)
        results["start_25_aot"] = {"wall": w, "rss_kib": r}


# ---------------------------------------------------------------- data plane (root, namespaces)

def sh(cmd, check=True):
    p = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True)
    if check and p.returncode != 0:
        raise SystemExit(f"failed: {cmd}\n{p.stdout}{p.stderr}")
    return p.stdout


def ns(name, cmd, check=True):
    return sh(f"ip netns exec {name} sh -c '{cmd}'", check)


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
            notes.append(f"{self.rules} {self.n}: {res['failed']} failed connections")
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


def load_benchmarks():
    host = results.get("xl_host_dir") or (results.get("xl_out", "") + "/hosts/vm-00000")
    if not os.path.isdir(host):
        return
    name = "mbload"
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


# ---------------------------------------------------------------- report

def svg(path):
    sizes = [s for s in ["S", "M", "L", "XL"] if f"compile_{s}" in results]
    W, H, pad = 640, 300, 50
    secs = [results[f"compile_{s}"]["wall"] for s in sizes]
    mbs = [results[f"compile_{s}"]["bytes"] / 2**20 for s in sizes]
    ms, mm = max(secs) * 1.15, max(mbs) * 1.15
    bw = (W - 2 * pad) / len(sizes) / 3
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
             f'<text x="{W/2}" y="18" text-anchor="middle" font-size="14">meshc full compile: wall time and output size per fleet size</text>',
             f'<line x1="{pad}" y1="{H-pad}" x2="{W-pad}" y2="{H-pad}" stroke="black"/>']
    for i, s in enumerate(sizes):
        x0 = pad + i * (W - 2 * pad) / len(sizes) + bw / 2
        h1 = (H - 2 * pad) * secs[i] / ms
        h2 = (H - 2 * pad) * mbs[i] / mm
        parts.append(f'<rect x="{x0:.1f}" y="{H-pad-h1:.1f}" width="{bw:.1f}" height="{h1:.1f}" fill="#3b6ea8"/>')
        parts.append(f'<text x="{x0+bw/2:.1f}" y="{H-pad-h1-4:.1f}" text-anchor="middle">{secs[i]:.1f} s</text>')
        parts.append(f'<rect x="{x0+bw:.1f}" y="{H-pad-h2:.1f}" width="{bw:.1f}" height="{h2:.1f}" fill="#e0a030"/>')
        parts.append(f'<text x="{x0+1.5*bw:.1f}" y="{H-pad-h2-16:.1f}" text-anchor="middle">{mbs[i]:.0f} MiB</text>')
        parts.append(f'<text x="{x0+bw:.1f}" y="{H-pad+16}" text-anchor="middle">{s}</text>')
    parts.append(f'<rect x="{pad}" y="{H-18}" width="12" height="10" fill="#3b6ea8"/><text x="{pad+16}" y="{H-9}">wall time (median)</text>')
    parts.append(f'<rect x="{pad+170}" y="{H-18}" width="12" height="10" fill="#e0a030"/><text x="{pad+186}" y="{H-9}">output size</text>')
    parts.append("</svg>")
    open(path, "w").write("\n".join(parts) + "\n")


def vip_ratio(k):
    """10,000 entries against 10: the median of the per-round ratios (runs before they were recorded: the ratio of the medians)."""
    r = results.get(f"vip_{k}_ratios")
    return statistics.median(r) if r else results[f"vip_{k}_10000"] / results[f"vip_{k}_10"]


def targets():
    """The issue's targets, each with what this run measured and whether it meets it (rows whose data is missing are left out)."""
    out = []
    if "compile_L" in results:
        r = results["compile_L"]
        beside = results.get("compile_L_beside_tree")
        out.append(("L full compile ≤ 10 s wall", f"{r['wall']:.2f} s" + (f" ({beside['wall']:.2f} s beside another such tree)" if beside else ""),
                    r["wall"] <= 10))
        out.append(("L peak RSS ≤ 1 GiB", f"{r['rss_kib'] / 1024:.0f} MiB", r["rss_kib"] <= 1 << 20))
        if "cp_L" in results and beside:
            ratio = beside["wall"] / results["cp_L"]["wall"]
            out.append(("L within 3× of `cp -r` of its output", f"{ratio:.2f}×", ratio <= 3))
    if "vip_nft_10" in results:
        ratio = vip_ratio("nft")
        out.append(("nft new-connection rate at 10,000 entries within 10% of 10", f"{ratio:.2f}", ratio >= 0.9))
    for r in results.get("churn_L", []):
        ratio = statistics.median(r["ratios"])
        out.append((f"{r['label']} at L, recompiled into OUT, ≤ 0.2× the full compile", f"{ratio:.2f}×", ratio <= 0.2))
    if "host_XL" in results:
        w = results["host_XL"]["wall"]
        out.append(("`compile --host` at XL ≤ 1 s", f"{w:.2f} s; retired (see below)", None))
    return out


def report():
    def row(label, key, extra=""):
        r = results.get(key)
        if not r:
            return ""
        rss = "—" if r["rss_kib"] is None else f"{r['rss_kib'] / 1024:.0f} MiB"
        return f"| {label} | {r['wall']:.2f} s | {rss} | {extra} |\n"
    cpu = sh("lscpu | grep 'Model name' | sed 's/.*: *//'", check=False).strip() or platform.processor()
    jv = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    md = ["# Performance\n",
          "Measured by `bench/run` (the command reproduces every number here; `bench/run --quick` skips XL).",
          f"Machine: {os.cpu_count()} cores ({cpu}), {round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB, "
          f"kernel {platform.release()}, {jv}; output written to `{WORK}` "
          "(tmpfs, so disk noise does not hide the compiler's own cost). Median of "
          f"{REPS} runs (3 for XL), peak RSS from GNU time; JVM options as in `./meshc` (`-XX:+UseParallelGC -Xmx1g`, its class-data archive, written by the "
          "launcher's training run `meshc cds-train`, and its JIT: C1 alone except for commands that render the whole fleet, "
          "which get tiered compilation with C2 thresholds raised tenfold, `compiler/src/release/jit.sh`), "
          "except where a row says otherwise.\n",
          "![compile time and output size](performance.svg)\n",
          "## Compile\n", "| what | wall (median) | peak RSS | notes |", "|---|---|---|---|"]
    for s in ["S", "M", "L", "XL"]:
        r = results.get(f"compile_{s}")
        if r:
            md.append(row(f"full compile {s}", f"compile_{s}", f"{r['files']:,} files, {r['bytes'] / 2**20:,.0f} MiB").rstrip())
    md.append(row("`cp -r` of the L output", "cp_L").rstrip())
    md.append(row("full compile L beside a 260,000-file tree (the one `cp -r` copies; run alternately with it)", "compile_L_beside_tree").rstrip())
    md.append(row("full compile L with the JVM's default C2 thresholds (run alternately with full compile L)", "compile_L_default_c2").rstrip())
    if "noop_L" in results:
        md.append(row("no-op recompile L", "noop_L", f"{results['noop_L']['written']} files rewritten, {results['noop_L']['unchanged']:,} unchanged").rstrip())
    md.append(row("validate L", "validate_L").rstrip())
    md.append(row("validate L, with the whole-fleet JIT (tiered, C2)", "validate_L_tiered").rstrip())
    if "validate_L_errors" in results:
        md.append(row("validate L, every container's service misspelt", "validate_L_errors",
                      f"{results['validate_L_errors']['errors']:,} errors printed with source lines").rstrip())
    for s in ["L", "XL"]:
        if f"host_{s}" in results:
            md.append(row(f"`compile --host` one VM at {s}", f"host_{s}", f"{results[f'host_{s}']['files']} files").rstrip())
            md.append(row(f"`compile --host` one VM at {s}, with the whole-fleet JIT (tiered, C2)", f"host_{s}_tiered").rstrip())
    md.append(row("`compile --host` one VM at XL, Java 25", "host_XL_25").rstrip())
    md.append(row("`compile --host` one VM at XL, Java 25 + AOT cache trained on M", "host_XL_25_aot").rstrip())
    md.append(row("snakeyaml-engine's event stream over the XL inventory alone (fresh JVM; a floor for `--host`)", "yaml_floor_XL").rstrip())
    md.append(row(f"the same, the {YAML_PASSES}th pass in one JVM (the parser compiled by C1, as for `--host`; median of 3 JVMs)", "yaml_warm_XL").rstrip())
    md.append(row(f"the same, the {YAML_PASSES}th pass in one JVM, tiered (C2)", "yaml_warm_XL_tiered").rstrip())
    for k, label in [("start_17", "`meshc vip db`, Java 17"), ("start_17_appcds", "`meshc vip db`, Java 17 + AppCDS archive"),
                     ("start_25", "`meshc vip db`, Java 25"), ("start_25_aot", "`meshc vip db`, Java 25 + AOT cache")]:
        md.append(row(label, k).rstrip())
    md.extend(f"| full compile {s}: verifying / `--no-verify` (alternating) / `meshc verify --out` alone, every host | {v['compile']:.2f} s / "
              f"{v['no_verify']:.2f} s / {'%.2f s' % v['alone'] if v['alone'] else 'not done in 20 min'} | — | load average {v['load']:.1f} |"
              for s, v in ((k[7:], results[k]) for k in ("verify_S", "verify_L") if k in results))
    md.append("\n## Ratios (same run)\n")
    if "compile_L_beside_tree" in results and "cp_L" in results:
        md.append(f"- full compile at L / `cp -r` of its output (run alternately, each starting with the same tree present): "
                  f"**{results['compile_L_beside_tree']['wall'] / results['cp_L']['wall']:.2f}x**")
    if "compile_M" in results and "compile_XL" in results:
        t = results["compile_XL"]["wall"] / results["compile_M"]["wall"]
        b = results["compile_XL"]["bytes"] / results["compile_M"]["bytes"]
        md.append(f"- M to XL: compile time x{t:.1f} for output bytes x{b:.1f} (time grows {'no faster' if t <= b * 1.1 else 'faster'} than output)")
    if "compile_L" in results and "compile_L_default_c2" in results:
        md.append(f"- full compile at L, C2 thresholds raised tenfold / the JVM's defaults (run alternately): "
                  f"{results['compile_L']['wall'] / results['compile_L_default_c2']['wall']:.2f}")
    for k, label in [("host_XL", "`compile --host` at XL"), ("host_L", "`compile --host` at L"), ("validate_L", "validate L")]:
        if k in results and f"{k}_tiered" in results:
            md.append(f"- {label}, the launcher's C1 alone / the whole-fleet JIT (run alternately): {results[k]['wall'] / results[f'{k}_tiered']['wall']:.2f}")
    if "start_17" in results and "start_17_appcds" in results:
        md.append(f"- start-up with AppCDS / without: {results['start_17_appcds']['wall'] / results['start_17']['wall']:.2f}")
    if "vip_nft_10" in results:
        md.append("\n## Data plane (network namespaces)\n")
        md.append("New TCP connections per second through the VIP DNAT of one VM's generated ruleset, from the consumer whose "
                  "entry comes last, to one backend (Python client, timed inside the client; both sizes set up side by side and measured in "
                  f"{VIP_ROUNDS} rounds of {VIP_CONNECTIONS:,} connections per size, each round running both sizes, in alternating order; "
                  "the median rate of each size, and the median of the rounds' ratios with their range):\n")
        md.append("| ruleset | 10 entries | 10,000 entries | ratio | ratio range over the rounds |\n|---|---|---|---|---|")
        for k in ("nft", "iptables"):
            a, b, r = results[f"vip_{k}_10"], results[f"vip_{k}_10000"], results.get(f"vip_{k}_ratios")
            spread = f"{min(r):.2f}–{max(r):.2f}" if r else "not recorded"
            md.append(f"| {k} | {a:,.0f} conn/s | {b:,.0f} conn/s | {vip_ratio(k):.2f} | {spread} |")
    if "load_nft" in results:
        md.append(f"\nLoading the largest host's files at XL ({results['peers']:,} peers), median:\n")
        md.append("| tool | time |\n|---|---|")
        md.append(f"| `nft -f nftables/meshc.nft` | {results['load_nft']:.3f} s |")
        md.append(f"| `iptables-restore iptables/rules.v4` | {results['load_iptables']:.3f} s |")
        md.append(f"| `ip -batch` links, neighbors, routes + `bridge -batch` fdb | {results['load_ipbatch']:.3f} s |")
        md.append(f"| systemd-networkd, start until every route is installed (neighbors: above 1,024 peers only in ip/neighbors.batch) | {results['load_networkd']:.2f} s |")
    if "churn_L" in results:
        md.append("\n## Recompiling after a change (L)\n")
        md.append("Each kind of change applied to the L inventory and compiled into the OUT of the original (incremental), "
                  "alternating with a full compile of the same edited inventory into an empty directory; the ratio is the median "
                  "of the pairs' ratios. Hosts touched: hosts with a file added, changed or removed, as `plan --against` lists them. "
                  "`bench/churn.py` (`python3 bench/churn.py L 3` runs these rows alone).\n")
        md.append(churn.table("L", results["churn_L"]))
    if notes:
        md.append("\nNotes from the run: " + "; ".join(notes))
    md.append("\nRaw results: `docs/performance.json`.")
    md.append("\n## Targets (this 2-core machine), judged from this run's numbers\n")
    md.append("| target | measured | |\n|---|---|---|")
    for label, value, ok in targets():
        md.append(f"| {label} | {value} | {'retired' if ok is None else 'met' if ok else '**missed**'} |")
    md.append(open(os.path.join(ROOT, "bench/findings.md")).read())  # profiling notes, written by hand
    open(os.path.join(ROOT, "docs/performance.md"), "w").write("\n".join(l for l in md if l is not None) + "\n")
    json.dump({k: v for k, v in results.items() if not isinstance(v, str)}, open(os.path.join(ROOT, "docs/performance.json"), "w"), indent=2, sort_keys=True)
    svg(os.path.join(ROOT, "docs/performance.svg"))


def main():
    rm(WORK)
    os.makedirs(WORK)
    if "--report-only" in sys.argv:  # rewrite docs/performance.md and .svg from docs/performance.json (after editing findings.md)
        results.update(json.load(open(os.path.join(ROOT, "docs/performance.json"))))
        report()
        return
    if "--load-only" in sys.argv:  # re-measure loading the XL host's files, keep the other results
        results.update(json.load(open(os.path.join(ROOT, "docs/performance.json"))))
        subprocess.run(meshc("fleet", "XL", "-o", f"{WORK}/XL.yml"), check=True)
        subprocess.run(meshc("compile", f"{WORK}/XL.yml", "-o", f"{WORK}/host-XL", "--lock", f"{WORK}/XL.lock", "--host", "vm-00000", "-q"), check=True)
        results["xl_host_dir"] = f"{WORK}/host-XL/hosts/vm-00000"
        try:
            load_benchmarks()
            report()
        finally:
            rm(WORK)
        return
    try:
        compile_benchmarks()
        verify_benchmarks()
        startup_benchmarks()
        if os.geteuid() == 0:
            for k in ("nft", "iptables"):
                log(f"data plane {k}")
                rates, ratios = connection_rates(k)
                for n, rate in rates.items():
                    results[f"vip_{k}_{n}"] = rate
                results[f"vip_{k}_ratios"] = ratios
            load_benchmarks()
        else:
            notes.append("data-plane benchmarks skipped: not root")
        report()
        log(json.dumps({k: v for k, v in results.items()}, indent=1, default=str))
    finally:
        rm(WORK)


if __name__ == "__main__":
    main()

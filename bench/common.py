"""What every benchmark module shares: where things are, how meshc is run, and how a command is timed
(alone, or alternating with another so that both see the same spell of this shared machine)."""
import os, re, shutil, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JAR = os.path.join(ROOT, "compiler/target/meshc.jar")
QUICK = "--quick" in sys.argv
REPS = 3 if QUICK else 5
WORK = "/dev/shm/meshc-bench" if os.path.isdir("/dev/shm") else "/tmp/meshc-bench"
LAUNCHER = os.path.join(ROOT, "meshc")  # what users run: its JVM options, class-data archive and JIT choice
NETCHECK = os.path.join(ROOT, "compiler/src/test/resources/e2e/netcheck.py")
YAML_PASSES = 8  # passes of the YAML event stream in one JVM for the warmed parser rows
J25 = "/usr/lib/jvm/temurin-25-jdk-amd64/bin/java"
# What a compile into a missing directory prints: a leftover OUT would time a no-op recompile instead.
FRESH = r": \d+ written, 0 unchanged, 0 removed"
NOTES = []  # remarks from the run, printed under the tables


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


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def meshc(*args):
    return [LAUNCHER] + list(args)


def fleet(size):
    """WORK/SIZE.yml and WORK/SIZE.lock (the inventory `meshc fleet` writes, and the lock its first compile writes)."""
    return f"{WORK}/{size}.yml", f"{WORK}/{size}.lock"


def run_timed(cmd, prepare=None, reps=REPS, env=None, expect=0, must_print=None):
    """Median wall seconds and median peak RSS (KiB) of cmd over reps runs (GNU time), and the last run's stderr."""
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


def timed_row(cmd, **kw):
    """run_timed as a result row: {"wall", "rss_kib"}."""
    w, r, _ = run_timed(cmd, **kw)
    return {"wall": w, "rss_kib": r}


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


def sh(cmd, check=True):
    p = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True)
    if check and p.returncode != 0:
        raise SystemExit(f"failed: {cmd}\n{p.stdout}{p.stderr}")
    return p.stdout


def ns(name, cmd, check=True):
    return sh(f"ip netns exec {name} sh -c '{cmd}'", check)

"""Every benchmark row of docs/performance.md: one function each, registered in run order by @row.

A row function takes the results measured so far (read-only) and returns its own: one value, or a dict
when it measures several keys at once (two commands run alternately). Registering it names its keys,
their labels in the report's table and, where the table says more than time and memory, their notes.
A new row is one function here with its @row line; report.py prints it with no change of its own.
"""
import os, re, shutil, statistics, subprocess
from collections import namedtuple

import churn
import dataplane
from common import (NOTES, DEFAULT_C2, FRESH, J25, JAR, PLAIN_JAVA, QUICK, REPS, TIERED, WORK, YAML_PASSES, alternate, fleet,
                    log, meshc, rm, run_timed, timed_row, tree_bytes)

# key: where its value goes in the results (docs/performance.json); label: its row in the compile table, or None
# for a row printed in a section of its own (report.py); notes: a function of the value, the table's last column.
Key = namedtuple("Key", "key label notes", defaults=(None, None))
Row = namedtuple("Row", "name measure keys quick root")
ROWS = []


def row(*keys, quick=True, root=False):
    """Registers a benchmark row. keys: Key values, or (key, label) pairs; quick=False leaves it out of --quick,
    root=True runs it only as root (network namespaces)."""
    def register(measure):
        ks = [k if isinstance(k, Key) else Key(*k) for k in keys]
        ROWS.append(Row(measure.__name__, measure, ks, quick, root))
        return measure
    return register


def files_note(r):
    return f"{r['files']:,} files, {r['bytes'] / 2**20:,.0f} MiB"


def compile_cmd(size, out):
    inv, lock = fleet(size)
    return meshc("compile", inv, "-o", out, "--lock", lock)


def full_compile(size, wall_and_rss=None):
    """A full compile of SIZE into an empty WORK/out-SIZE, timed (unless given), with the size of what it wrote."""
    out = f"{WORK}/out-{size}"
    if wall_and_rss is None:
        wall, rss, _ = run_timed(compile_cmd(size, out), prepare=lambda: rm(out), reps=3 if size == "XL" else REPS, must_print=FRESH)
        wall_and_rss = {"wall": wall, "rss_kib": rss}
    size_bytes, files = tree_bytes(out)
    return dict(wall_and_rss, bytes=size_bytes, files=files)


# ---------------------------------------------------------------- fleets (not a row: what every row reads)

def prepare_fleets():
    for s in ["S", "M", "L", "XL"]:
        inv, lock = fleet(s)
        subprocess.run(meshc("fleet", s, "-o", inv), check=True)
        subprocess.run(meshc("validate", inv, "--lock", lock, "-q"), check=True)
        if not os.path.exists(lock):
            # validate writes nothing; the first compile writes the lock (not timed)
            subprocess.run(meshc("compile", inv, "-o", f"{WORK}/lockgen", "--lock", lock, "--host", "vm-00000", "-q"), check=True)
            rm(f"{WORK}/lockgen")


def prepare_xl_host():
    """Only the largest XL host's files, untimed (bench/run --load-only)."""
    inv, lock = fleet("XL")
    subprocess.run(meshc("fleet", "XL", "-o", inv), check=True)
    subprocess.run(meshc("compile", inv, "-o", f"{WORK}/host-XL", "--lock", lock, "--host", "vm-00000", "-q"), check=True)


# ---------------------------------------------------------------- compile

@row(Key("compile_S", "full compile S", files_note))
def compile_S(results):
    log(f"compile S x{REPS}")
    r = full_compile("S")
    rm(f"{WORK}/out-S")
    return r


@row(Key("compile_M", "full compile M", files_note))
def compile_M(results):
    log(f"compile M x{REPS}")
    r = full_compile("M")
    rm(f"{WORK}/out-M")
    return r


@row(("cp_L", "`cp -r` of the L output"),
     ("compile_L_beside_tree", "full compile L beside a 260,000-file tree (the one `cp -r` copies; run alternately with it)"))
def copy_L(results):
    """Each starts from the same state, one 260,000-file tree on the tmpfs (the output of an untimed first compile, which
    cp -r copies), and writes one more into a missing directory. What else is on the tmpfs matters: with a second such
    tree just written beside it, a compile took 9.1 s instead of 7.9 s (medians of 4, alternating), so neither may start
    with the other's output still there."""
    log(f"compile L and cp -r of its output, alternating x{REPS}")
    inv, lock = fleet("L")
    cp, source, fresh_out = f"{WORK}/cp-L", f"{WORK}/source-L", f"{WORK}/out-L-timed"
    subprocess.run(meshc("compile", inv, "-o", source, "--lock", lock, "-q"), check=True)

    def only_source():
        rm(cp)
        rm(fresh_out)
    c, copy = alternate(compile_cmd("L", fresh_out), ["cp", "-r", source, cp], prepare=only_source, must_print_a=FRESH)
    for d in (source, fresh_out, cp):
        rm(d)
    return {"cp_L": copy, "compile_L_beside_tree": c}


@row(Key("compile_L", "full compile L", files_note),
     ("compile_L_default_c2", "full compile L with the JVM's default C2 thresholds (run alternately with full compile L)"))
def compile_L(results):
    """The full compile row proper, as for the other sizes (nothing else on the tmpfs), alternating with the JVM's
    default C2 thresholds to show what the launcher's raised ones gain. Leaves WORK/out-L for the no-op row."""
    log(f"compile L, the launcher's C2 thresholds and the JVM's defaults, alternating x{REPS}")
    out = f"{WORK}/out-L"
    cmd = compile_cmd("L", out)
    c, default_c2 = alternate(cmd, cmd, prepare=lambda: rm(out), env_b=DEFAULT_C2, must_print_a=FRESH, must_print_b=FRESH)
    return {"compile_L": full_compile("L", c), "compile_L_default_c2": default_c2}


@row(Key("noop_L", "no-op recompile L", lambda r: f"{r['written']} files rewritten, {r['unchanged']:,} unchanged"))
def noop_L(results):
    log("no-op recompile L")
    out = f"{WORK}/out-L"
    w, r, err = run_timed(compile_cmd("L", out))
    rm(out)
    m = re.search(r"(\d+) written, (\d+) unchanged", err)
    return {"wall": w, "rss_kib": r, "written": int(m.group(1)), "unchanged": int(m.group(2))}


@row(("validate_L", "validate L"), ("validate_L_tiered", "validate L, with the whole-fleet JIT (tiered, C2)"))
def validate_L(results):
    log("validate L, the launcher's C1 alone and tiered, alternating")
    inv, lock = fleet("L")
    cmd = meshc("validate", inv, "--lock", lock, "-q")
    a, b = alternate(cmd, cmd, env_b=TIERED)
    return {"validate_L": a, "validate_L_tiered": b}


@row(Key("validate_L_errors", "validate L, every container's service misspelt", lambda r: f"{r['errors']:,} errors printed with source lines"))
def validate_L_errors(results):
    """An inventory with an error per container (every service reference misspelt): the cost of reporting."""
    log("validate L with an error per container")
    inv, lock = fleet("L")
    text = open(inv).read().replace("service: svc-", "service: nosvc-")
    open(f"{WORK}/L-errors.yml", "w").write(text)
    w, r, err = run_timed(meshc("validate", f"{WORK}/L-errors.yml", "--lock", lock), expect=1)
    return {"wall": w, "rss_kib": r, "errors": int(re.search(r"^(\d+) errors\.$", err, re.M).group(1))}


def verify_rows(size):
    """Issue 19: a full compile verifying what it wrote (its sample of hosts) and with --no-verify, alternating, then
    `meshc verify` alone of every host of that output (stopped after 20 minutes), side by side in one run."""
    inv, lock = fleet(size)
    out = f"{WORK}/verify-{size}"
    cmd = compile_cmd(size, out)
    log(f"compile {size} verifying and with --no-verify, alternating; then verify alone")
    a, b = alternate(cmd, cmd + ["--no-verify"], prepare=lambda: rm(out), reps=3, must_print_a=FRESH, must_print_b=FRESH)
    alone = None
    try:
        w, r, _ = run_timed(meshc("verify", inv, "--lock", lock, "--out", out, "-q"), reps=1)
        alone = {"wall": w, "rss_kib": r}
    except SystemExit as e:  # run_timed's failure (at L: out of the launcher's heap): the row says it was not done
        log(f"verify alone at {size}: {str(e)[:300]}")
        NOTES.append(f"`meshc verify --out` of the {size} output alone did not finish (see bench/findings.md)")
    rm(out)
    return {f"verify_{size}": a, f"verify_{size}_no_verify": b, f"verify_{size}_alone": alone}


@row(("verify_S", "full compile S, verifying the hosts it wrote"), ("verify_S_no_verify", "full compile S, `--no-verify` (alternating)"),
     ("verify_S_alone", "`meshc verify --out` of the S output alone, every host"))
def verify_S(results):
    return verify_rows("S")


@row(("verify_L", "full compile L, verifying the hosts it wrote"), ("verify_L_no_verify", "full compile L, `--no-verify` (alternating)"),
     ("verify_L_alone", "`meshc verify --out` of the L output alone, every host"), quick=False)
def verify_L(results):
    return verify_rows("L")


@row(Key("review_M", "`meshc review` of fleet M, one container moved (the launcher's 1 GB heap)",
         lambda r: f"{r['probed']:,} flows probed in each tree"), quick=False)
def review_M(results):
    """Issue 19: review reads both trees host by host, so fleet M (two trees of 470 MB) fits the launcher's heap."""
    log("review M, one container moved")
    inv, lock = fleet("M")
    base, head, moved, lock2 = f"{WORK}/review-M-base", f"{WORK}/review-M-head", f"{WORK}/M-moved.yml", f"{WORK}/M-moved.lock"
    rm(base)
    rm(head)
    open(moved, "w").write(churn.move_container(open(inv).read()))
    shutil.copyfile(lock, lock2)
    subprocess.run(meshc("compile", inv, "-o", base, "--lock", lock, "-q", "--no-verify"), check=True)
    subprocess.run(meshc("compile", moved, "-o", head, "--lock", lock2, "-q", "--no-verify"), check=True)
    # The summary line goes to stdout, which run_timed does not return: sent to stderr.
    w, r, err = run_timed(["sh", "-c", '"$0" "$@" 1>&2'] + meshc("review", base, head, "-q"), reps=1, expect=6)
    rm(base)
    rm(head)
    return {"wall": w, "rss_kib": r, "probed": int(re.search(r"([\d,]+) flows probed", err).group(1).replace(",", ""))}


@row(Key("churn_L"))  # its own section and targets (report.py, churn.table)
def churn_L(results):
    log("churn at L: each kind of change, incremental beside a full compile")
    return churn.run(WORK, "L", 1 if QUICK else 3)


@row(Key("churn_XL"), quick=False)  # its own section and targets, as churn_L; one pair per change (an XL compile takes a while)
def churn_XL(results):
    log("churn at XL: each kind of change, incremental beside a full compile")
    return churn.run(WORK, "XL", 1, one_tree=True)


@row(Key("compile_XL", "full compile XL", files_note), quick=False)
def compile_XL(results):
    """Its output stays for the load rows (the largest host's files)."""
    log("compile XL x3")
    return full_compile("XL")


def host_rows(size):
    log(f"compile --host {size}, the launcher's C1 alone and tiered, alternating")
    out = f"{WORK}/host-{size}"
    inv, lock = fleet(size)
    cmd = meshc("compile", inv, "-o", out, "--lock", lock, "--host", "vm-00000")
    a, b = alternate(cmd, cmd, prepare=lambda: rm(out), env_b=TIERED, must_print_a=FRESH, must_print_b=FRESH)
    a["bytes"], a["files"] = tree_bytes(out)
    if size == "L":
        rm(out)  # XL's stays: the load rows use it when there is no full XL output
    return {f"host_{size}": a, f"host_{size}_tiered": b}


@row(Key("host_L", "`compile --host` one VM at L", lambda r: f"{r['files']} files"),
     ("host_L_tiered", "`compile --host` one VM at L, with the whole-fleet JIT (tiered, C2)"))
def host_L(results):
    return host_rows("L")


@row(Key("host_XL", "`compile --host` one VM at XL", lambda r: f"{r['files']} files"),
     ("host_XL_tiered", "`compile --host` one VM at XL, with the whole-fleet JIT (tiered, C2)"))
def host_XL(results):
    return host_rows("XL")


def java25_host_XL(aot):
    out = f"{WORK}/host-XL"
    inv, lock = fleet("XL")
    return timed_row([J25] + PLAIN_JAVA[1:] + aot + ["-jar", JAR, "compile", inv, "-o", out, "--lock", lock, "--host", "vm-00000", "-q"],
                     prepare=lambda: rm(out))


@row(("host_XL_25", "`compile --host` one VM at XL, Java 25"))
def host_XL_25(results):
    if not os.path.exists(J25):
        return None
    log("compile --host XL, Java 25")
    return java25_host_XL([])


@row(("host_XL_25_aot", "`compile --host` one VM at XL, Java 25 + AOT cache trained on M"))
def host_XL_25_aot(results):
    """JDK 25 with an AOT cache trained on another fleet (M) and VM, then --host at XL as above."""
    if not os.path.exists(J25):
        return None
    log("compile --host XL, Java 25 + AOT cache")
    aot, t = f"{WORK}/host.aot", f"{WORK}/aot-train"
    inv, lock = fleet("M")
    subprocess.run([J25] + PLAIN_JAVA[1:] + [f"-XX:AOTCacheOutput={aot}", "-jar", JAR, "compile", inv, "-o", t, "--lock", lock,
                                             "--host", "vm-00001", "-q"], capture_output=True, check=True)
    rm(t)
    return java25_host_XL([f"-XX:AOTCache={aot}"])


@row(("yaml_floor_XL", "snakeyaml-engine's event stream over the XL inventory alone (fresh JVM; a floor for `--host`)"))
def yaml_floor_XL(results):
    """The floor under --host: a fresh JVM that only pulls the YAML event stream through the file."""
    log("YAML event stream alone, XL")
    return timed_row(PLAIN_JAVA + ["-cp", JAR, "dev.meshc.bench.YamlFloor", fleet("XL")[0]])


def yaml_warm(jit):
    """The parser's own speed: the last of several passes in one JVM, once the JIT has compiled it (median of 3 JVMs)."""
    last = []
    for _ in range(3):
        passes = subprocess.run(jit + ["-cp", JAR, "dev.meshc.bench.YamlFloor", fleet("XL")[0], str(YAML_PASSES)],
                                capture_output=True, text=True, check=True).stdout
        last.append(int(re.findall(r"(\d+) ms", passes)[-1]) / 1000)
    return {"wall": statistics.median(last), "rss_kib": None}


@row(("yaml_warm_XL", f"the same, the {YAML_PASSES}th pass in one JVM (the parser compiled by C1, as for `--host`; median of 3 JVMs)"))
def yaml_warm_XL(results):
    return yaml_warm(PLAIN_JAVA)


@row(("yaml_warm_XL_tiered", f"the same, the {YAML_PASSES}th pass in one JVM, tiered (C2)"))
def yaml_warm_XL_tiered(results):
    return yaml_warm(PLAIN_JAVA + ["-XX:TieredStopAtLevel=4"])


# ---------------------------------------------------------------- start-up

def vip_db(java, extra=()):
    return timed_row(java + list(extra) + ["-jar", JAR, "vip", "db"], reps=11)


@row(("start_17", "`meshc vip db`, Java 17"))
def start_17(results):
    return vip_db(PLAIN_JAVA, ["-Xshare:auto"])


@row(("start_17_appcds", "`meshc vip db`, Java 17 + AppCDS archive"))
def start_17_appcds(results):
    jsa = f"{WORK}/meshc.jsa"
    subprocess.run(PLAIN_JAVA + [f"-XX:ArchiveClassesAtExit={jsa}", "-jar", JAR, "vip", "db"], capture_output=True, check=True)
    return vip_db(PLAIN_JAVA, [f"-XX:SharedArchiveFile={jsa}"])


@row(("start_25", "`meshc vip db`, Java 25"))
def start_25(results):
    return vip_db([J25] + PLAIN_JAVA[1:]) if os.path.exists(J25) else None


@row(("start_25_aot", "`meshc vip db`, Java 25 + AOT cache"))
def start_25_aot(results):
    if not os.path.exists(J25):
        return None
    aot = f"{WORK}/meshc.aot"
    subprocess.run([J25] + PLAIN_JAVA[1:] + [f"-XX:AOTCacheOutput={aot}", "-jar", JAR, "vip", "db"], capture_output=True, check=True)
    return vip_db([J25] + PLAIN_JAVA[1:], [f"-XX:AOTCache={aot}"])


# ---------------------------------------------------------------- data plane (root, namespaces; report.py's own section)

def vip_rows(rules):
    log(f"data plane {rules}")
    rates, ratios = dataplane.connection_rates(rules)
    out = {f"vip_{rules}_{n}": rate for n, rate in rates.items()}
    out[f"vip_{rules}_ratios"] = ratios
    return out


@row(Key("vip_nft_10"), Key("vip_nft_10000"), Key("vip_nft_ratios"), root=True)
def vip_nft(results):
    return vip_rows("nft")


@row(Key("vip_iptables_10"), Key("vip_iptables_10000"), Key("vip_iptables_ratios"), root=True)
def vip_iptables(results):
    return vip_rows("iptables")


def xl_host_dir():
    """The largest host's files at XL: from the full XL compile, else from the --host XL row."""
    for d in (f"{WORK}/out-XL/hosts/vm-00000", f"{WORK}/host-XL/hosts/vm-00000"):
        if os.path.isdir(d):
            return d
    return None


@row(Key("load_nft"), Key("load_iptables"), Key("load_ipbatch"), Key("load_networkd"), Key("peers"), root=True)
def load_XL(results):
    host = xl_host_dir()
    return dataplane.load_times(host) if host else None

#!/usr/bin/env python3
"""Churn benchmarks (issue 20): a one-container change recompiled into an existing OUT, beside a full
compile into an empty directory in the same spell of this shared machine, and `plan --against` for it.
One function per row; run on its own (`python3 bench/churn.py L [REPS]`, needs `compiler/target/meshc.jar`)
or from bench.py, which puts the rows into docs/performance.md."""
import json, os, re, shutil, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAUNCHER = os.path.join(ROOT, "meshc")
CONTAINER = re.compile(r"^  (c-\d+): \{service: (svc-\d+), vm: (vm-\d+)\}$", re.M)


def meshc(*args):
    return [LAUNCHER] + list(args)


def timed(cmd):
    """Wall seconds, peak RSS (KiB) and stderr+stdout of one run (GNU time)."""
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "MAXRSS %M"] + cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit("failed: %s\n%s" % (" ".join(cmd), p.stderr[-2000:]))
    return wall, int(re.search(r"MAXRSS (\d+)", p.stderr).group(1)), p.stdout + p.stderr


# ------------------------------------------------------------ the edits, each a function of the inventory text

def no_change(text):
    return text


def move_container(text):
    m = CONTAINER.search(text)
    vm = "vm-00000" if m.group(3) != "vm-00000" else "vm-00001"
    return text[:m.start()] + f"  {m.group(1)}: {{service: {m.group(2)}, vm: {vm}}}" + text[m.end():]


def add_container(text):
    m = CONTAINER.search(text)
    return text[:m.start()] + f"  c-new: {{service: {m.group(2)}, vm: vm-00000}}\n" + text[m.start():]


def remove_container(text):
    m = CONTAINER.search(text)
    return text[:m.start()] + text[m.end() + 1:]


def add_replica(text):
    m = CONTAINER.search(text)  # a new container of an existing service: every consumer's chain balances over one more
    return text[:m.start()] + f"  c-replica: {{service: {m.group(2)}, vm: vm-00002}}\n" + text[m.start():]


def add_relationship(text):
    return text.replace("      up: svc-00001:api\n", "      up: svc-00001:api\n      extra: svc-00003:api\n", 1)


EDITS = [("no change", no_change), ("one container moved", move_container), ("one container added", add_container),
         ("one container removed", remove_container), ("a replica added", add_replica), ("a relationship added", add_relationship)]


# ------------------------------------------------------------ rows

def manifest_hosts(out):
    """host -> {path: sha256} of the manifest in OUT (the hosts/<vm>/ rows)."""
    rows = {}
    for f in json.load(open(f"{out}/manifest.json"))["files"]:
        if f["path"].startswith("hosts/"):
            rows.setdefault(f["path"].split("/")[1], {})[f["path"]] = f["sha256"]
    return rows


def hosts_changed(before, after):
    """The hosts with a file added, changed or removed between two manifests' rows."""
    return sorted(h for h in set(before) | set(after) if before.get(h) != after.get(h))


def row(work, size, label, edit, reps, one_tree=False):
    """One kind of change at SIZE: `plan --against`, then the incremental compile, each rep alternating with a full
    compile of the edited inventory into an empty directory; the OUT is put back (untimed) after each rep.
    one_tree: OUT is removed before the full compile and compiled again afterwards, so that the tmpfs never holds
    two trees (an XL tree takes about 5.7 GB of it)."""
    inv, lock, out, fresh = f"{work}/{size}.yml", f"{work}/{size}.lock", f"{work}/churn-out", f"{work}/churn-fresh"
    original, base_lock = open(inv).read(), open(lock).read()
    edited = f"{work}/{size}-edited.yml"
    open(edited, "w").write(edit(original))
    inc, full, plans, rss_inc, rss_full = [], [], [], [], []
    written = hosts = None
    before = manifest_hosts(out)
    load = [os.getloadavg()[0]]
    for _ in range(reps):
        open(lock, "w").write(base_lock)
        w, r, text = timed(meshc("plan", edited, "--against", out, "--lock", lock, "--json"))
        plans.append(w)
        report = json.JSONDecoder().raw_decode(text[text.index("{"):])[0]  # stdout's JSON; stderr's warnings follow it
        hosts = sorted(h for h in report["hosts"] if h != "(fleet)")
        w, r, text = timed(meshc("compile", edited, "-o", out, "--lock", lock))
        inc.append(w)
        rss_inc.append(r)
        written = int(re.search(r"(\d+) written", text).group(1))
        changed = hosts_changed(before, manifest_hosts(out))
        if changed != hosts:  # plan must name exactly the hosts whose files the compile changed
            raise SystemExit(f"{label}: plan names {len(hosts)} hosts {hosts[:5]}..., the compile changed {len(changed)}: {changed[:5]}...")
        shutil.rmtree(fresh, ignore_errors=True)
        if one_tree:
            shutil.rmtree(out, ignore_errors=True)
        open(lock, "w").write(base_lock)
        w, r, _ = timed(meshc("compile", edited, "-o", fresh, "--lock", lock, "-q"))
        full.append(w)
        rss_full.append(r)
        shutil.rmtree(fresh, ignore_errors=True)
        open(lock, "w").write(base_lock)
        subprocess.run(meshc("compile", inv, "-o", out, "--lock", lock, "-q"), check=True)  # back to the original
    load.append(os.getloadavg()[0])
    return {"label": label, "load": load, "incremental": statistics.median(inc), "full": statistics.median(full), "plan": statistics.median(plans),
            "ratios": [i / f for i, f in zip(inc, full)], "plan_ratios": [p / f for p, f in zip(plans, full)], "rss_incremental_kib": max(rss_inc), "rss_full_kib": max(rss_full),
            "written": written, "hosts": len(hosts), "host_names": hosts[:5], "plan_names_exactly_these": True}


def run(work, size, reps, only=None, one_tree=False):
    """Every row at SIZE (or those whose edit function `only` names); WORK must hold SIZE.yml and SIZE.lock."""
    subprocess.run(meshc("compile", f"{work}/{size}.yml", "-o", f"{work}/churn-out", "--lock", f"{work}/{size}.lock", "-q"), check=True)
    rows = []
    for label, edit in EDITS:
        if only and edit.__name__ not in only:
            continue
        print(f"churn {size}: {label}", file=sys.stderr, flush=True)
        rows.append(row(work, size, label, edit, reps, one_tree))
    shutil.rmtree(f"{work}/churn-out", ignore_errors=True)
    return rows


PREAMBLE = ("Each kind of change applied to the L inventory and compiled into the OUT of the original (incremental), "
            "alternating with a full compile of the same edited inventory into an empty directory; the ratio is the median "
            "of the pairs' ratios. Hosts touched: hosts with a file added, changed or removed, as `plan --against` lists them.")


def table(size, rows):
    """The markdown rows for docs/performance.md."""
    md = [f"| change at {size} | incremental compile | full compile (same spell) | ratio (median of pairs) | `plan --against` | plan / full "
          "| files written | hosts touched (= hosts `plan` names) |",
          "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        plan_ratio = statistics.median(r["plan_ratios"]) if "plan_ratios" in r else r["plan"] / r["full"]
        md.append(f"| {r['label']} | {r['incremental']:.2f} s | {r['full']:.2f} s | {statistics.median(r['ratios']):.2f} | {r['plan']:.2f} s "
                  f"| {plan_ratio:.2f} | {r['written']} | {r['hosts']} |")
    loads = [x for r in rows for x in r.get("load", [])]
    if loads:
        md.append(f"\nLoad average (1 minute) on this 2-core machine while these rows ran: {min(loads):.1f}–{max(loads):.1f}.")
    return "\n".join(md)


if __name__ == "__main__":
    # python3 bench/churn.py SIZE [REPS [EDITS]]: EDITS a comma-separated list of the edit functions above (default: all)
    size, reps = sys.argv[1] if len(sys.argv) > 1 else "M", int(sys.argv[2]) if len(sys.argv) > 2 else 3
    only = set(sys.argv[3].split(",")) if len(sys.argv) > 3 else None
    work = os.environ.get("CHURN_WORK", "/dev/shm/meshc-churn")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    subprocess.run(meshc("fleet", size, "-o", f"{work}/{size}.yml"), check=True)
    subprocess.run(meshc("compile", f"{work}/{size}.yml", "-o", f"{work}/lockgen", "--lock", f"{work}/{size}.lock", "--host", "vm-00000", "-q"), check=True)
    shutil.rmtree(f"{work}/lockgen")
    rows = run(work, size, reps, only, one_tree=bool(os.environ.get("CHURN_ONE_TREE")))
    print(table(size, rows))
    print(json.dumps(rows, indent=1))
    shutil.rmtree(work, ignore_errors=True)

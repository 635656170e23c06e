"""docs/performance.md, docs/performance.svg and docs/performance.json from a run's results: the compile table
from the registered rows (rows.ROWS, in their order, full compiles per size first), then the ratios measured
side by side, the data plane, the churn rows, the targets, and bench/findings.md (written by hand)."""
import json, os, platform, statistics, subprocess

import churn
from common import REPS, ROOT, WORK, sh
from dataplane import VIP_CONNECTIONS, VIP_ROUNDS
from rows import ROWS

SIZES = ["S", "M", "L", "XL"]


def svg(results, path):
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


def vip_ratio(results, k):
    """10,000 entries against 10: the median of the per-round ratios (runs before they were recorded: the ratio of the medians)."""
    r = results.get(f"vip_{k}_ratios")
    return statistics.median(r) if r else results[f"vip_{k}_10000"] / results[f"vip_{k}_10"]


def targets(results):
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
        ratio = vip_ratio(results, "nft")
        out.append(("nft new-connection rate at 10,000 entries within 10% of 10", f"{ratio:.2f}", ratio >= 0.9))
    for size in ("L", "XL"):
        for r in results.get(f"churn_{size}", []):
            ratio = statistics.median(r["ratios"])
            out.append((f"{r['label']} at {size}, recompiled into OUT, ≤ 0.2× the full compile", f"{ratio:.2f}×", ratio <= 0.2))
            if "plan_ratios" in r:
                ratio = statistics.median(r["plan_ratios"])
                out.append((f"`plan --against` for {r['label']} at {size} ≤ 0.2× the full compile", f"{ratio:.2f}×", ratio <= 0.2))
            if r.get("rss_incremental_kib") and r.get("rss_full_kib"):
                inc, full = r["rss_incremental_kib"], r["rss_full_kib"]
                out.append((f"{r['label']} at {size}: peak RSS no more than a full compile's",
                            f"{inc / 1024:.0f} MiB against {full / 1024:.0f} MiB", inc <= full))
    if "host_XL" in results:
        w = results["host_XL"]["wall"]
        out.append(("`compile --host` at XL ≤ 1 s", f"{w:.2f} s; retired (see below)", None))
    return out




def compile_table(results):
    """One line per registered key with a label and a result: the full compiles by size, then the rest in registration order."""
    keys = [k for r in ROWS for k in r.keys if k.label]
    by_size = [k for s in SIZES for k in keys if k.key == f"compile_{s}"]
    lines = ["| what | wall (median) | peak RSS | notes |", "|---|---|---|---|"]
    for k in by_size + [k for k in keys if k not in by_size]:
        r = results.get(k.key)
        if not r:
            continue
        rss = "—" if r["rss_kib"] is None else f"{r['rss_kib'] / 1024:.0f} MiB"
        lines.append(f"| {k.label} | {r['wall']:.2f} s | {rss} | {k.notes(r) if k.notes else ''} |")
    return lines


def ratios(results):
    """Ratios of rows measured side by side in one run."""
    md = []
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
    return md


def data_plane(results):
    md = []
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
            md.append(f"| {k} | {a:,.0f} conn/s | {b:,.0f} conn/s | {vip_ratio(results, k):.2f} | {spread} |")
    if "load_nft" in results:
        md.append(f"\nLoading the largest host's files at XL ({results['peers']:,} peers), median:\n")
        md.append("| tool | time |\n|---|---|")
        md.append(f"| `nft -f nftables/meshc.nft` | {results['load_nft']:.3f} s |")
        md.append(f"| `iptables-restore iptables/rules.v4` | {results['load_iptables']:.3f} s |")
        md.append(f"| `ip -batch` links, neighbors, routes + `bridge -batch` fdb | {results['load_ipbatch']:.3f} s |")
        md.append(f"| systemd-networkd, start until every route is installed (neighbors: above 1,024 peers only in ip/neighbors.batch) | {results['load_networkd']:.2f} s |")
    return md


def churn_section(results):
    md = []
    for size in ("L", "XL"):
        if f"churn_{size}" in results:
            md += [f"\n## Recompiling after a change ({size})\n",
                   churn.PREAMBLE.replace("the L inventory", f"the {size} inventory")
                   + (" `bench/churn.py` (`python3 bench/churn.py L 3` runs these rows alone).\n" if size == "L" else
                      " `bench/churn.py` in its one-tree mode, one pair per change (`CHURN_ONE_TREE=1 python3 bench/churn.py XL 1`).\n"),
                   churn.table(size, results[f"churn_{size}"])]
    return md


def header():
    cpu = sh("lscpu | grep 'Model name' | sed 's/.*: *//'", check=False).strip() or platform.processor()
    jv = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    return ["# Performance\n",
            "Measured by `bench/run` (the command reproduces every number here; `bench/run --quick` skips XL).",
            f"Machine: {os.cpu_count()} cores ({cpu}), {round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB, "
            f"kernel {platform.release()}, {jv}; output written to `{WORK}` "
            "(tmpfs, so disk noise does not hide the compiler's own cost). Median of "
            f"{REPS} runs (3 for XL), peak RSS from GNU time; JVM options as in `./meshc` (`-XX:+UseParallelGC -Xmx1g`, its class-data archive, written by the "
            "launcher's training run `meshc cds-train`, and its JIT: C1 alone except for commands that render the whole fleet, "
            "which get tiered compilation with C2 thresholds raised tenfold, `compiler/src/release/jit.sh`), "
            "except where a row says otherwise.\n",
            "![compile time and output size](performance.svg)\n"]


def write(results, notes):
    """docs/performance.md, .json and .svg."""
    md = header() + ["## Compile\n"] + compile_table(results)
    md += ["\n## Ratios (same run)\n"] + ratios(results)
    md += data_plane(results) + churn_section(results)
    if notes:
        md.append("\nNotes from the run: " + "; ".join(notes))
    md.append("\nRaw results: `docs/performance.json`.")
    md.append("\n## Targets (this 2-core machine), judged from this run's numbers\n")
    md.append("| target | measured | |\n|---|---|---|")
    for label, value, ok in targets(results):
        md.append(f"| {label} | {value} | {'retired' if ok is None else 'met' if ok else '**missed**'} |")
    md.append(open(os.path.join(ROOT, "bench/findings.md")).read())  # profiling notes, written by hand
    open(os.path.join(ROOT, "docs/performance.md"), "w").write("\n".join(l for l in md if l is not None) + "\n")
    json.dump({k: v for k, v in results.items() if not isinstance(v, str)}, open(os.path.join(ROOT, "docs/performance.json"), "w"), indent=2, sort_keys=True)
    svg(results, os.path.join(ROOT, "docs/performance.svg"))

#!/usr/bin/env python3
"""meshc benchmarks: compile times and memory per fleet size, ratios measured side by side in one run,
start-up with and without a class-data archive, the data plane in network namespaces, and recompiles after
a change. Every row is a function in rows.py; report.py writes docs/performance.md, .svg and .json.
Usage: bench/run [--quick | --report-only | --load-only]"""
import json, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report, rows  # noqa: E402
from common import NOTES, QUICK, ROOT, WORK, log, rm  # noqa: E402

RESULTS_JSON = os.path.join(ROOT, "docs/performance.json")


def measure(row, results):
    """Runs one row and files what it returns under its keys."""
    value = row.measure(results)
    if value is None:
        return
    if len(row.keys) == 1 and not (isinstance(value, dict) and row.keys[0].key in value):
        value = {row.keys[0].key: value}
    for k in row.keys:
        if k.key in value:
            results[k.key] = value[k.key]


def main():
    rm(WORK)
    os.makedirs(WORK)
    if "--report-only" in sys.argv:  # rewrite docs/performance.md and .svg from docs/performance.json (after editing findings.md)
        report.write(json.load(open(RESULTS_JSON)), NOTES)
        return
    results = {}
    try:
        if "--load-only" in sys.argv:  # re-measure loading the XL host's files, keep the other results
            results.update(json.load(open(RESULTS_JSON)))
            selected = [r for r in rows.ROWS if r.name == "load_XL"]
            rows.prepare_xl_host()
        else:
            selected = [r for r in rows.ROWS if r.quick or not QUICK]
            rows.prepare_fleets()
        for r in selected:
            if r.root and os.geteuid() != 0:
                continue
            measure(r, results)
        if os.geteuid() != 0 and "--load-only" not in sys.argv:
            NOTES.append("data-plane benchmarks skipped: not root")
        report.write(results, NOTES)
        log(json.dumps(results, indent=1, default=str))
    finally:
        rm(WORK)


if __name__ == "__main__":
    main()

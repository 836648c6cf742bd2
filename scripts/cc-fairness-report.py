#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Table, JSON and plot of the coupled congestion control fairness runs
(qemu/bench/cc_fairness.sh's CCBENCH lines in RESULTS/cc-runs.txt).

    cc-fairness-report.py RESULTS SECONDS [OMIT]

Writes RESULTS/fairness.json and fairness.png, and copies both next to
RESULTS (results/bench/). The ratio is the MPTCP connection's throughput
over the Reno TCP flow's, measured at the same time through one bottleneck;
the issue's target for lia, olia and balia is [0.8, 1.25]. Runs of
"reno" are the control: a second Reno TCP flow in the MPTCP connection's
place, three rounds (in the "subflows" column), whose spread around 1 is
what a single run can tell.

With several rounds (the CCBENCH lines' last field), each point is also
summarised: the median of its runs' ratios, with the lowest and highest."""
import json
import os
import shutil
import statistics
import sys

out, secs = sys.argv[1], float(sys.argv[2])
omit = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
runs = []
for line in open(os.path.join(out, "cc-runs.txt")):
    f = line.split()
    if len(f) not in (7, 8):
        continue
    _, vm, alg, n, seen, tcp, mptcp = f[:7]
    rnd = int(f[7]) if len(f) == 8 else 1
    try:
        t, m = float(tcp), float(mptcp)
    except ValueError:
        t = m = None
    runs.append({"vm": vm, "alg": alg if vm == "dut" else "linux-" + alg, "subflows": int(n),
                 "seen": int(seen), "tcp": t, "mptcp": m, "round": rnd,
                 "ratio": (m / t) if t and m is not None else None})

# Per point (algorithm, subflows; the control's rounds are one point):
# median, lowest and highest ratio over its runs.
points = {}
for r in runs:
    key = (r["alg"], 0 if r["alg"] == "reno" else r["subflows"])
    points.setdefault(key, []).append(r["ratio"])
summary = []
for (alg, n), ratios in points.items():
    ok = [x for x in ratios if x is not None]
    summary.append({"alg": alg, "subflows": n or None, "runs": len(ratios),
                    "median": statistics.median(ok) if ok else None,
                    "lowest": min(ok) if ok else None, "highest": max(ok) if ok else None})

doc = {"runs": runs, "summary": summary, "seconds": secs, "omitted_seconds": omit,
       "bottleneck": "20 Mbit/s, 10 ms each way, 100-packet buffer, shared by one Reno TCP flow "
                     "and one MPTCP connection (TCG guests; bench kernels, no checkers)",
       "target": "lia, olia, balia: MPTCP/TCP within [0.8, 1.25]",
       "control": "alg reno: two plain Reno TCP flows (subflows = round)"}
for d in (out, os.path.dirname(out)):
    with open(os.path.join(d, "fairness.json"), "w") as fh:
        json.dump(doc, fh, indent=1)

fmt = lambda v: "-" if v is None else "%.2f" % v
print()
print("Coupled congestion control: one Reno TCP flow and one MPTCP connection through")
print("one 20 Mbit/s bottleneck (10 ms each way, 100-packet buffer), %g s at once" % (omit + secs))
print("of which the first %g s are left out (slow start); Mbit/s at the receivers." % omit)
print("Target for lia, olia, balia: MPTCP/TCP in [0.8, 1.25]. Control (reno): two")
print("plain Reno TCP flows, 'subflows' = round: their spread is one run's noise.")
print()
print("%-13s %9s %6s %8s %8s %7s" % ("algorithm", "subflows", "seen", "TCP", "MPTCP", "ratio"))
for r in runs:
    print("%-13s %9d %6d %8s %8s %7s" % (r["alg"], r["subflows"], r["seen"], fmt(r["tcp"]),
                                        fmt(r["mptcp"]), fmt(r["ratio"])))
if any(s["runs"] > 1 for s in summary):
    print()
    print("Per point, over its runs (reno: all control runs): median ratio, lowest-highest")
    print("%-13s %9s %5s %7s %12s" % ("algorithm", "subflows", "runs", "median", "range"))
    for s in summary:
        rng = "-" if s["lowest"] is None else "%.2f-%.2f" % (s["lowest"], s["highest"])
        print("%-13s %9s %5d %7s %12s" % (s["alg"], s["subflows"] or "-", s["runs"],
                                          fmt(s["median"]), rng))

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    algs = []
    for r in runs:
        if r["alg"] not in algs:
            algs.append(r["alg"])
    fig, ax = plt.subplots(figsize=(7, 3.6))
    w = 0.8 / max(len(algs), 1)
    for i, a in enumerate(algs):
        # One bar per point: the median of its runs, the range as an error
        # bar (the control's runs stand at 1, 2, 3 by round as before).
        xs, ys, lo, hi = [], [], [], []
        for n in (1, 2, 3):
            ok = [r["ratio"] for r in runs if r["alg"] == a and r["ratio"] is not None
                  and (r["subflows"] == n)]
            if not ok:
                continue
            med = statistics.median(ok)
            xs.append(n - 0.4 + (i + 0.5) * w)
            ys.append(med)
            lo.append(med - min(ok))
            hi.append(max(ok) - med)
        ax.bar(xs, ys, w, label=a, yerr=[lo, hi], capsize=2)
    ax.axhspan(0.8, 1.25, color="green", alpha=0.12, label="target [0.8, 1.25]")
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.set_xticks([1, 2, 3], ["1 subflow\n(reno: round 1)", "2 subflows\n(round 2)",
                              "3 subflows\n(round 3)"], fontsize=8)
    ax.set_ylabel("MPTCP / Reno TCP throughput")
    ax.set_title("Shared 20 Mbit/s bottleneck: MPTCP against one TCP flow", fontsize=9)
    ax.legend(fontsize=7, ncol=3)
    fig.tight_layout()
    png = os.path.join(out, "fairness.png")
    fig.savefig(png, dpi=110)
    shutil.copy(png, os.path.join(os.path.dirname(out), "fairness.png"))
    print("plot: results/bench/fairness.png")
except ImportError:
    print("(python3-matplotlib missing: no plot)")

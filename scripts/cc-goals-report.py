#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Table, JSON and plot of the RFC 6356 goals runs (qemu/bench/cc_goals.sh's
GOAL1 and GOAL3 lines in RESULTS/goals-runs.txt).

    cc-goals-report.py RESULTS SECONDS

Goal 1: MPTCP over two paths against TCP on the best one (target >= 0.95).
Goal 3: with two TCP flows on path 1, the share of MPTCP's bytes that path
2 carried over the second half of the run (target >= 80%). Writes
RESULTS/goals.json and goals.png, and copies both to results/bench/."""
import json
import os
import shutil
import sys

out, secs = sys.argv[1], float(sys.argv[2])
goal1, series = [], {}
for line in open(os.path.join(out, "goals-runs.txt")):
    f = line.split()
    if f[0] == "GOAL1" and len(f) == 5:
        try:
            t, m = float(f[3]), float(f[4])
        except ValueError:
            t = m = None
        alg = f[2] if f[1] == "dut" else "linux-" + f[2]
        goal1.append({"alg": alg, "tcp_best": t, "mptcp": m, "ratio": m / t if t and m is not None else None})
    elif f[0] == "GOAL3" and len(f) == 6:
        alg = f[2] if f[1] == "dut" else "linux-" + f[2]
        series.setdefault(alg, []).append((float(f[3]), int(f[4]), int(f[5])))

goal3 = []
for alg, pts in series.items():
    pts.sort()
    # A sample taken after the transfer ended counts the sockets that
    # remain (iperf3's control connection): the series stops before it.
    for i in range(1, len(pts)):
        if pts[i][1] < pts[i - 1][1] and pts[i][2] < pts[i - 1][2]:
            pts = pts[:i]
            break
    # The second half of the run by the samples' time stamps (a sample
    # takes about a second in a TCG guest: they are not one per second).
    half = [p for p in pts if p[0] >= secs / 2]
    share = None
    if len(half) >= 2:
        d1 = half[-1][1] - half[0][1]
        d2 = half[-1][2] - half[0][2]
        # (Counts that went down: a subflow gone and another counted in
        # its place; no share from those.)
        share = d2 / (d1 + d2) if d1 >= 0 and d2 >= 0 and d1 + d2 > 0 else None
    goal3.append({"alg": alg, "path2_share_second_half": share,
                  "series": [{"second": s, "path1_bytes": a, "path2_bytes": b} for s, a, b in pts]})

doc = {"goal1": goal1, "goal3": goal3, "seconds": secs,
       "paths": "path 1: 20 Mbit/s, 10 ms each way; path 2: 10 Mbit/s, 20 ms each way; 100-packet buffers; "
                "goal 3: two Reno TCP flows on path 1 (TCG guests)",
       "targets": "goal 1: MPTCP/TCP(best path) >= 0.95; goal 3: >= 80% of MPTCP's bytes on path 2"}
for d in (out, os.path.dirname(out)):
    with open(os.path.join(d, "goals.json"), "w") as fh:
        json.dump(doc, fh, indent=1)

fmt = lambda v, p=2: "-" if v is None else "%.*f" % (p, v)
print()
print("RFC 6356 goals, two disjoint paths (20 Mbit/s 10 ms; 10 Mbit/s 20 ms), %g s runs." % secs)
print("%-13s %10s %8s %7s   %s" % ("algorithm", "TCP best", "MPTCP", "goal 1", "goal 3: path 2's share, 2nd half"))
for g in goal1:
    g3 = next((x for x in goal3 if x["alg"] == g["alg"]), {})
    share = g3.get("path2_share_second_half")
    print("%-13s %10s %8s %7s   %s" % (g["alg"], fmt(g["tcp_best"]), fmt(g["mptcp"]), fmt(g["ratio"]),
                                      "-" if share is None else "%.0f%%" % (100 * share)))

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    n = max(len(goal3), 1)
    fig, axes = plt.subplots(1, n, figsize=(3.2 * n, 3.2), squeeze=False, sharey=True)
    for ax, g in zip(axes[0], goal3):
        pts = [(p["second"], p["path1_bytes"], p["path2_bytes"]) for p in g["series"]]
        xs = [p[0] for p in pts[1:]]
        for k, label in ((1, "path 1 (2 TCP flows)"), (2, "path 2 (idle)")):
            # (None, a gap in the line, where a count went down: a subflow
            # gone at the end.)
            ys = [(b[k] - a[k]) * 8 / 1e6 / max(b[0] - a[0], 0.1) if b[k] >= a[k] else None
                  for a, b in zip(pts, pts[1:])]
            ax.plot(xs, ys, label=label)
        ax.set_title(g["alg"], fontsize=9)
        ax.set_xlabel("s")
    axes[0][0].set_ylabel("MPTCP Mbit/s per path")
    axes[0][0].legend(fontsize=7)
    fig.suptitle("Goal 3: MPTCP moves its traffic off the congested path", fontsize=9)
    fig.tight_layout()
    png = os.path.join(out, "goals.png")
    fig.savefig(png, dpi=110)
    shutil.copy(png, os.path.join(os.path.dirname(out), "goals.png"))
    print("plot: results/bench/goals.png")
except ImportError:
    print("(python3-matplotlib missing: no plot)")

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Table, JSON and plot of the multipath runs (qemu/bench/paths.sh's PATHS
lines in RESULTS/paths-runs.txt).

    paths-report.py RESULTS SECONDS

Aggregation: MPTCP against the sum of TCP alone on each path (target >=
0.95). Loss on path B: what MPTCP's path A carried against TCP alone on A
(target >= 0.95 up to 3%). Subflows on one path: CPU time per Mbit/s
against one subflow's (target <= 1.10 for 8). A point run several times is
reported as its median. Writes RESULTS/paths.json and paths.png, and copies
both to results/bench/."""
import os
import statistics
import sys

from benchreport import pyplot, save_plot, write_json

out, secs = sys.argv[1], float(sys.argv[2])
runs = {}


def num(s):
    try:
        return float(s)
    except ValueError:
        return None


for line in open(os.path.join(out, "paths-runs.txt")):
    f = line.split()
    if len(f) != 9 or f[0] != "PATHS":
        continue
    vm, scen, point, what = f[1:5]
    runs.setdefault((vm, scen, point, what), []).append(
        {"mbps": num(f[5]), "x": num(f[6]), "y": num(f[7]), "subflows": int(f[8])})


def med(vm, scen, point, what, key="mbps"):
    v = [r[key] for r in runs.get((vm, scen, point, what), []) if r[key] is not None]
    return statistics.median(v) if v else None


def ratio(a, b):
    return a / b if a is not None and b else None


def fmt(x, spec=".2f"):
    return "-" if x is None else format(x, spec)


vms = [vm for vm in ("dut", "peer") if any(k[0] == vm for k in runs)]
doc = {"seconds": secs, "aggregation": [], "loss": [], "delay": [], "subflows": [],
       "paths": "aggregation: 10+10 Mbit/s or 20+2 Mbit/s; loss: 10+10 Mbit/s, path B losing 0-5%; "
                "10 ms round trips, 100-packet limits; delay: 10+10 Mbit/s, path 2 0-500 ms slower, "
                "the receiver's tcp_rmem[2] 256 KB-16 MB; subflows: one unshaped veth path (TCG guests)",
       "targets": "aggregation >= 0.95 of the sum; path A >= 0.95 of TCP alone up to 3% loss on B; "
                  "8 subflows <= 1.10x the CPU per Mbit/s of 1"}

print(f"\nAggregation ({secs:.0f} s per run; Mbit/s; target >= 0.95 of TCP 1 + TCP 2):")
print("%-6s %-10s %8s %8s %8s %8s %8s %8s %6s" % ("vm", "paths", "tcp1", "tcp2", "mptcp", "ratio", "path1", "path2", "subfl"))
for vm in vms:
    for scen in ("agg-equal", "agg-10to1"):
        t1, t2, m = med(vm, scen, "-", "tcp1"), med(vm, scen, "-", "tcp2"), med(vm, scen, "-", "mptcp")
        if m is None and t1 is None:
            continue
        r = ratio(m, (t1 or 0) + (t2 or 0))
        p1, p2, n = med(vm, scen, "-", "mptcp", "x"), med(vm, scen, "-", "mptcp", "y"), med(vm, scen, "-", "mptcp", "subflows")
        doc["aggregation"].append({"vm": vm, "scenario": scen, "tcp1": t1, "tcp2": t2, "mptcp": m, "ratio": r,
                                   "mptcp_path1": p1, "mptcp_path2": p2, "subflows": n})
        print("%-6s %-10s %8s %8s %8s %8s %8s %8s %6s" % (vm, scen[4:], fmt(t1), fmt(t2), fmt(m), fmt(r), fmt(p1), fmt(p2), fmt(n, ".0f")))

print("\nLoss on path B (Mbit/s; path A's share against TCP alone on A, target >= 0.95 up to 3%):")
print("%-6s %6s %8s %8s %8s %8s %8s" % ("vm", "loss%", "tcpA", "pathA", "ratio", "pathB", "total"))
for vm in vms:
    ta = med(vm, "loss", "0", "tcp1")
    for l in sorted({int(k[2]) for k in runs if k[0] == vm and k[1] == "loss" and k[3] == "mptcp"}):
        a, b, m = med(vm, "loss", str(l), "mptcp", "x"), med(vm, "loss", str(l), "mptcp", "y"), med(vm, "loss", str(l), "mptcp")
        doc["loss"].append({"vm": vm, "loss_pct": l, "tcp_a": ta, "mptcp_path_a": a, "ratio": ratio(a, ta),
                            "mptcp_path_b": b, "mptcp": m})
        print("%-6s %6d %8s %8s %8s %8s %8s" % (vm, l, fmt(ta), fmt(a), fmt(ratio(a, ta)), fmt(b), fmt(m)))

print("\nDelay: path 2 slower than path 1 (10 ms), both 10 Mbit/s; MPTCP Mbit/s by the receiver's buffer,"
      " and in brackets against TCP alone on path 1:")
for vm in vms:
    ta = med(vm, "delay", "0", "tcp1")
    pts = sorted({tuple(map(int, k[2].split("-"))) for k in runs
                  if k[0] == vm and k[1] == "delay" and k[3] == "mptcp"})
    bufs = sorted({b for _, b in pts})
    if not pts:
        continue
    print("%-6s %-10s" % (vm, "+delay ms") + "".join("%15s" % f"{b} KB" for b in bufs))
    for d in sorted({d for d, _ in pts}):
        cells = []
        for b in bufs:
            m = med(vm, "delay", f"{d}-{b}", "mptcp")
            cells.append("%15s" % f"{fmt(m)} ({fmt(ratio(m, ta))})")
            doc["delay"].append({"vm": vm, "extra_delay_ms": d, "rcvbuf_kb": b, "mptcp": m, "tcp_path1": ta,
                                 "ratio_to_tcp_path1": ratio(m, ta),
                                 "subflows": med(vm, "delay", f"{d}-{b}", "mptcp", "subflows")})
        print("%-6s %-10s" % ("", d) + "".join(cells))

print("\nSubflows on one unshaped path (CPU % of both ends per Mbit/s; ratio to 1 subflow, target <= 1.10 for 8):")
print("%-6s %8s %9s %12s %8s %6s" % ("vm", "subflows", "Mbit/s", "cpu/Mbit/s", "ratio", "seen"))
for vm in vms:
    def cpb(point, what):
        rs = [(r["x"] + r["y"]) / r["mbps"] for r in runs.get((vm, "subflows", point, what), [])
              if r["mbps"] and r["x"] is not None and r["y"] is not None]
        return statistics.median(rs) if rs else None
    base = cpb("1", "mptcp")
    tcp = cpb("1", "tcp1")
    if tcp is not None:
        print("%-6s %8s %9s %12s %8s %6s" % (vm, "tcp", fmt(med(vm, "subflows", "1", "tcp1")), fmt(tcp, ".3f"), "-", "-"))
    for n in sorted({int(k[2]) for k in runs if k[0] == vm and k[1] == "subflows" and k[3] == "mptcp"}):
        c = cpb(str(n), "mptcp")
        seen = med(vm, "subflows", str(n), "mptcp", "subflows")
        doc["subflows"].append({"vm": vm, "subflows": n, "seen": seen, "mbps": med(vm, "subflows", str(n), "mptcp"),
                                "cpu_per_mbps": c, "ratio_to_one": ratio(c, base), "tcp_cpu_per_mbps": tcp})
        print("%-6s %8d %9s %12s %8s %6s" % (vm, n, fmt(med(vm, "subflows", str(n), "mptcp")), fmt(c, ".3f"),
                                            fmt(ratio(c, base)), fmt(seen, ".0f")))

write_json(out, "paths.json", doc)

plt = pyplot()
if plt is None:
    sys.exit(0)
fig, axes = plt.subplots(1, 4, figsize=(20, 4.5))
ax = axes[0]
labels, width = [], 0.2
for i, a in enumerate(doc["aggregation"]):
    labels.append(f"{a['vm']}\n{a['scenario'][4:]}")
    ax.bar(i - width, a["tcp1"] or 0, width, color="tab:blue", label="TCP path 1" if i == 0 else None)
    ax.bar(i, a["tcp2"] or 0, width, color="tab:orange", label="TCP path 2" if i == 0 else None)
    ax.bar(i + width, a["mptcp_path1"] or 0, width, color="tab:green", label="MPTCP path 1" if i == 0 else None)
    ax.bar(i + width, a["mptcp_path2"] or 0, width, bottom=a["mptcp_path1"] or 0, color="tab:olive",
           label="MPTCP path 2" if i == 0 else None)
ax.set_xticks(range(len(labels)))
ax.set_xticklabels(labels)
ax.set_ylabel("Mbit/s")
ax.set_title("aggregation")
ax.legend(fontsize=7)
ax = axes[1]
for vm in vms:
    pts = [p for p in doc["loss"] if p["vm"] == vm]
    style = "--" if vm == "peer" else "-"
    ax.plot([p["loss_pct"] for p in pts], [p["mptcp_path_a"] for p in pts], style, marker="o", label=f"{vm}: path A")
    ax.plot([p["loss_pct"] for p in pts], [p["mptcp_path_b"] for p in pts], style, marker="x", label=f"{vm}: path B")
    if pts and pts[0]["tcp_a"]:
        ax.axhline(pts[0]["tcp_a"], linestyle=":", color="grey")
ax.set_xlabel("loss on path B, %")
ax.set_ylabel("Mbit/s")
ax.set_title("loss on path B (dotted: TCP alone on A)")
ax.legend(fontsize=7)
ax = axes[2]
for vm in vms:
    for d in sorted({p["extra_delay_ms"] for p in doc["delay"] if p["vm"] == vm}):
        pts = [p for p in doc["delay"] if p["vm"] == vm and p["extra_delay_ms"] == d]
        ax.plot([p["rcvbuf_kb"] for p in pts], [p["mptcp"] for p in pts], "--" if vm == "peer" else "-",
                marker="o", label=f"{vm}: +{d} ms")
ax.set_xscale("log", base=2)
ax.set_xlabel("receiver's buffer, KB (tcp_rmem[2])")
ax.set_ylabel("Mbit/s")
ax.set_title("path 2 slower (two 10 Mbit/s paths)")
ax.legend(fontsize=7)
ax = axes[3]
for vm in vms:
    pts = [p for p in doc["subflows"] if p["vm"] == vm]
    ax.plot([p["subflows"] for p in pts], [p["ratio_to_one"] for p in pts], "--" if vm == "peer" else "-",
            marker="o", label=vm)
ax.axhline(1.10, linestyle=":", color="grey")
ax.set_xlabel("subflows on one path")
ax.set_ylabel("CPU per Mbit/s, against 1 subflow")
ax.set_title("CPU per byte (dotted: target 1.10)")
ax.legend(fontsize=7)
fig.suptitle("MPTCP over several paths (TCG guests; dashed: Linux's MPTCP, PEER)")
fig.tight_layout()
save_plot(fig, out, "paths.png")

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Table, JSON and plot of the WiFi/3G runs (qemu/bench/wifi3g.sh's WIFI3G
lines in RESULTS/wifi3g-runs.txt).

    wifi3g-report.py RESULTS SECONDS

For each receive buffer, each variant's rate against plain TCP over WiFi
alone in the same VM run (target: >= 1 at every buffer from 64 KB). A
point run several times is reported as its median. Writes
RESULTS/wifi3g.json and wifi3g.png, and copies both to results/bench/."""
import os
import statistics
import sys

from benchreport import pyplot, save_plot, write_json

out, secs = sys.argv[1], float(sys.argv[2])
runs = {}
counters = {}
for line in open(os.path.join(out, "wifi3g-runs.txt")):
    f = line.split()
    if len(f) != 7 or f[0] != "WIFI3G" or f[4] == "failed":
        continue
    vm, variant, buf = f[1], f[2], int(f[3])
    name = variant if vm == "dut" else "linux-" + variant
    runs.setdefault((vm, name, buf), []).append(float(f[4]))
    if f[5] != "-":
        c = counters.setdefault((name, buf), [0, 0])
        c[0] += int(f[5])
        c[1] += int(f[6])

bufs = sorted({k[2] for k in runs})
names = []
for vm, name, _ in sorted(runs, key=lambda k: (k[0], k[1])):
    if (vm, name) not in names:
        names.append((vm, name))
order = ["tcp", "default", "default-nom", "lia", "olia", "balia", "linux-tcp", "linux-default"]
names.sort(key=lambda n: order.index(n[1]) if n[1] in order else len(order))


def med(vm, name, buf):
    v = runs.get((vm, name, buf))
    return statistics.median(v) if v else None


points = []
for vm, name in names:
    tcp_name = "tcp" if vm == "dut" else "linux-tcp"
    for buf in bufs:
        m, t = med(vm, name, buf), med(vm, tcp_name, buf)
        c = counters.get((name, buf))
        points.append({"vm": vm, "variant": name, "rcvbuf_kb": buf, "mbps": m,
                       "runs": len(runs.get((vm, name, buf), [])),
                       "tcp_wifi_mbps": t, "ratio": m / t if m is not None and t else None,
                       "opportunistic_octets": c[0] if c else None, "penalized": c[1] if c else None})

doc = {"points": points, "seconds": secs,
       "paths": "WiFi: 8 Mbit/s, 20 ms round trip; 3G: 2 Mbit/s, 150 ms; 50-packet netem limits "
                "(rates far below what a TCG guest carries: the links are the bottlenecks)",
       "buffer": "the receiver's net.ipv4.tcp_rmem = '4096 B B' (memory, as SO_RCVBUF counts it)",
       "target": "every MPTCP variant >= TCP over WiFi alone at every buffer from 64 KB"}
write_json(out, "wifi3g.json", doc)


def fmt(x, spec):
    return "-" if x is None else format(x, spec)


print(f"\nWiFi (8 Mbit/s, 20 ms) + 3G (2 Mbit/s, 150 ms), {secs:.0f} s per run; Mbit/s and, in "
      "brackets, the ratio to TCP over WiFi alone in the same VM (target >= 1):")
print("%-16s" % "variant" + "".join("%15s" % f"{b} KB" for b in bufs))
for vm, name in names:
    cells = []
    for buf in bufs:
        p = next(p for p in points if p["variant"] == name and p["rcvbuf_kb"] == buf)
        cells.append("%15s" % (fmt(p["mbps"], ".2f") + ("" if name.endswith("tcp") else f" ({fmt(p['ratio'], '.2f')})")))
    print("%-16s" % name + "".join(cells))
missed = [p for p in points if not p["variant"].endswith("tcp") and p["ratio"] is not None and p["ratio"] < 1]
print("below TCP over WiFi: " + (", ".join(f"{p['variant']} at {p['rcvbuf_kb']} KB ({p['ratio']:.2f})"
                                           for p in missed) or "none"))

plt = pyplot()
if plt is None:
    sys.exit(0)
fig, ax = plt.subplots(figsize=(8, 5))
for vm, name in names:
    xs = [b for b in bufs if med(vm, name, b) is not None]
    ax.plot(xs, [med(vm, name, b) for b in xs], marker="o",
            linestyle="--" if vm == "peer" else "-", linewidth=2.5 if name.endswith("tcp") else 1.5, label=name)
ax.set_xscale("log", base=2)
ax.set_xticks(bufs)
ax.set_xticklabels([f"{b}K" if b < 1024 else f"{b // 1024}M" for b in bufs])
ax.set_xlabel("receiver's buffer (tcp_rmem[2])")
ax.set_ylabel("goodput, Mbit/s")
ax.set_title("WiFi 8 Mbit/s 20 ms + 3G 2 Mbit/s 150 ms (TCG guest; dashed: Linux's MPTCP, PEER)")
ax.grid(True, alpha=0.3)
ax.legend(fontsize=8)
fig.tight_layout()
save_plot(fig, out, "wifi3g.png")

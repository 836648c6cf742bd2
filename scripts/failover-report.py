#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Table, JSON and plot of the failover runs (qemu/bench/failover.sh's
FAIL* lines in RESULTS/failover-runs.txt).

    failover-report.py RESULTS

For each path failure: the stall (the longest run of 0.1 s intervals in
which the server received nothing, from half a second before the failure
to 10 s after it; target: one RTO + 200 ms), and the time until the
server's rate over one second is back to 0.95 of TCP alone on the
surviving path (target: 5 s). (Octets lost: qemu/soak/multipath_failover.sh
checks SHA-256 under path failures; iperf3's counts cannot tell.) Writes RESULTS/failover.json and failover.png, and copies both
to results/bench/."""
import os
import sys

from benchreport import pyplot, save_plot, write_json

out = sys.argv[1]
vms = {}
for line in open(os.path.join(out, "failover-runs.txt")):
    f = line.split()
    if len(f) < 3 or not f[0].startswith("FAIL"):
        continue
    v = vms.setdefault(f[1], {"tcp": None, "events": [], "rx": [], "paths": []})
    try:
        if f[0] == "FAILTCP":
            v["tcp"] = float(f[2])
        elif f[0] == "FAILEVT":
            v["events"].append((float(f[2]), f[3], int(f[4]) if len(f) > 4 else None))
        elif f[0] == "FAILRX":
            v["rx"].append((float(f[2]), float(f[3]), int(f[4])))
        elif f[0] == "FAILPATH":
            v["paths"].append((float(f[2]), int(f[3]), int(f[4])))
    except (ValueError, IndexError):
        pass


def failure_figures(v, when):
    rx = v["rx"]
    stall = run = 0.0
    for s, e, b in rx:
        if s < when - 0.5 or s > when + 10:
            continue
        run = run + (e - s) if b == 0 else 0.0
        stall = max(stall, run)
    recovered = None
    if v["tcp"]:
        for i, (s, _, _) in enumerate(rx):
            if s < when:
                continue
            window = [x for x in rx[i:] if x[0] < s + 1.0]
            if window and sum(x[2] for x in window) * 8 / 1e6 / (window[-1][1] - s) >= 0.95 * v["tcp"]:
                recovered = s + 1.0 - when
                break
    return stall, recovered


doc = {"paths": "two paths of 10 Mbit/s, 20 ms round trip (TCG guests); a failure drops all of a path's data",
       "targets": "stall <= one RTO + 200 ms; >= 0.95 of the surviving path's TCP rate within 5 s",
       "runs": []}
print("\nFailover (two 10 Mbit/s paths, 20 ms; a failed path drops all its data):")
print("%-6s %-12s %8s %10s %10s %14s %10s" % ("vm", "event", "at s", "rto ms", "stall ms", "back in s", "tcp Mbit/s"))
for vm, v in vms.items():
    run = {"vm": vm, "tcp_path1_mbps": v["tcp"], "failures": [],
           "received": [{"start": s, "end": e, "octets": b} for s, e, b in v["rx"]],
           "paths": [{"second": t, "path1_octets": a, "path2_octets": b} for t, a, b in v["paths"]],
           "events": [{"second": t, "event": e, "rto_ms": r} for t, e, r in v["events"]]}
    for when, ev, rto in v["events"]:
        if not ev.endswith("down"):
            continue
        stall, back = failure_figures(v, when)
        run["failures"].append({"event": ev, "second": when, "rto_ms": rto, "stall_ms": stall * 1000,
                                "stall_target_ms": rto + 200 if rto else None, "recovered_after_s": back})
        print("%-6s %-12s %8.2f %10s %10.0f %14s %10s" % (vm, ev, when, "-" if rto is None else rto, stall * 1000,
                                                     "never" if back is None else "%.1f" % back,
                                                     "-" if v["tcp"] is None else "%.2f" % v["tcp"]))
    doc["runs"].append(run)
write_json(out, "failover.json", doc)

plt = pyplot()
if plt is None:
    sys.exit(0)
fig, axes = plt.subplots(len(vms), 1, figsize=(10, 4 * len(vms)), squeeze=False)
for ax, (vm, v) in zip(axes[:, 0], vms.items()):
    # The server's rate over 0.5 s windows (five of iperf3's intervals).
    rx = v["rx"]
    xs, ys = [], []
    for i in range(0, len(rx) - 4, 5):
        w = rx[i:i + 5]
        xs.append(w[-1][1])
        ys.append(sum(x[2] for x in w) * 8 / 1e6 / (w[-1][1] - w[0][0]))
    ax.plot(xs, ys, color="black", label="total (server)")
    p = v["paths"]
    for k, name in ((1, "path 1"), (2, "path 2")):
        px, py = [], []
        for a, b in zip(p, p[1:]):
            if b[0] > a[0] and b[k] >= a[k]:
                px.append(b[0])
                py.append((b[k] - a[k]) * 8 / 1e6 / (b[0] - a[0]))
        ax.plot(px, py, label=f"{name} (client's subflows)")
    for t, e, _ in v["events"]:
        ax.axvline(t, linestyle=":", color="red")
        ax.text(t, ax.get_ylim()[1] * 0.95, e, rotation=90, va="top", fontsize=7)
    ax.set_xlabel("seconds")
    ax.set_ylabel("Mbit/s")
    ax.set_title(f"{vm}: failover" + (" (Linux's MPTCP)" if vm == "peer" else ""))
    ax.legend(fontsize=7, loc="lower left")
fig.tight_layout()
save_plot(fig, out, "failover.png")

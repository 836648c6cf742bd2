#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: the data-path benchmark. Prints figures, asserts nothing.
#
#   scripts/bench.sh [SECONDS [ROUNDS]]      (default 8 s, 5 rounds)
#
# Boots the DUT VM with mptcp_rs loaded and the PEER VM (Linux's own MPTCP)
# one after the other, both without the run-time checkers (KASAN, lockdep,
# kmemleak: the DUT runs the BENCH kernel, scripts/kernel.sh bench), whose
# cost per packet would swamp the ratios; each runs qemu/bench/throughput.sh, which alternates
# plain TCP and MPTCP on one unshaped veth path: bulk throughput both ways
# and CPU time per byte (iperf3), and a request/response rate (1-byte
# transactions, qemu/bench/rr.py). Under TCG, without the checkers, plain
# TCP over veth inside one guest reaches about 1 Gbit/s, CPU-bound, and
# absolute figures are noise: the ratios
# MPTCP/TCP, each taken within one VM, are what compares, ours (DUT) against
# Linux's (PEER). Each round runs TCP and MPTCP back to back, and the ratio
# reported is the median of the per-round ratios (the drift between rounds
# cancels), with their range; to results/bench/latest.json as
#   {"scenarios": [{"name", "vm": "dut"|"peer", "tcp", "mptcp", "ratio",
#                   "spread": [lowest, highest], "unit"}], ...}
# with a table on the terminal and results/bench/ratios.png.
#
# Then coupled congestion control (qemu/bench/cc_fairness.sh, FAIR_SECONDS
# measured per run, default 40, after FAIR_OMIT left out, default 10,
# FAIR_ROUNDS rounds, default 3, each point reported as its median): one
# Reno TCP flow against one MPTCP connection of 1, 2 and 3 subflows through
# one shared 20 Mbit/s bottleneck, with lia, olia, balia and uncoupled cubic
# on the DUT and Linux's MPTCP (uncoupled) on the PEER, and the control: two
# Reno TCP flows, three rounds; to results/bench/fairness.json
# ({"runs": [{"vm", "alg", "subflows", "seen", "tcp", "mptcp", "ratio"}]}),
# a table, and results/bench/fairness.png. And the RFC 6356 goals on two disjoint paths
# (qemu/bench/cc_goals.sh): goal 1, MPTCP against TCP on the best path;
# goal 3, MPTCP's traffic per path over time while two TCP flows load path
# 1; to results/bench/goals.json and goals.png.
#
# Then the WiFi/3G scenario of seeds 001/004 (qemu/bench/wifi3g.sh):
# WiFi 8 Mbit/s 20 ms and 3G 2 Mbit/s 150 ms, the receiver's buffer from
# 64 KB to 2 MB; TCP over WiFi alone against MPTCP with opportunistic
# retransmission and penalisation on and off, and with lia, olia and balia,
# on the DUT; TCP and Linux's MPTCP on the PEER; WIFI3G_ROUNDS rounds
# (default 1), WIFI3G_SECONDS per run (default 15), WIFI3G_BUFS the buffers
# in KB (default "64 128 256 512 1024 2048"); to
# results/bench/wifi3g.json and wifi3g.png.
#
# Then four of the seeds' multipath figures (qemu/bench/paths.sh):
# aggregation over two equal paths and over 10:1 paths, path A's rate while
# path B loses 0..5%, MPTCP's rate with path 2 0-500 ms slower at receive
# buffers of 256 KB-16 MB, and the CPU per byte of 1, 2, 4 and 8 subflows
# on one path; PATHS_SECONDS per run (default 15), PATHS_ROUNDS rounds (default
# 1), DUT and PEER; to results/bench/paths.json and paths.png.
#
# Then seed 000's failover timeline (qemu/bench/failover.sh): two 10 Mbit/s
# paths, path 2 fails at 15 s and comes back at 25 s, path 1 fails at 35 s;
# the stall after each failure, the time until the rate is back, and the
# octets lost; DUT and PEER; to results/bench/failover.json and
# failover.png.
#
# BENCH_ONLY=datapath, cc, wifi3g, paths or failover runs one of the parts.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
. "$REPO/scripts/lib.sh"
LOG_TAG=bench

secs=${1:-8}
rounds=${2:-5}
only=${BENCH_ONLY:-all}
case $only in all | datapath | cc | wifi3g | paths | failover) ;;
*) die "BENCH_ONLY=$only: datapath, cc, wifi3g, paths or failover (or unset: all)" ;;
esac
# part NAME: whether this run includes part NAME.
part() { [ "$only" = all ] || [ "$only" = "$1" ]; }
results=$REPO/results/bench/$(date +%Y%m%d-%H%M%S)
mkdir -p "$results"

"$REPO/scripts/setup.sh"
"$REPO/scripts/kernel.sh" bench
"$REPO/scripts/kernel.sh" peer
"$REPO/scripts/module.sh" --kernel bench >"$results/module-build.txt" 2>&1 ||
	{ tail -30 "$results/module-build.txt" >&2; die "module build failed"; }
ko=$(tail -1 "$results/module-build.txt")

# Three measurements per protocol and round, each SECONDS plus set-up.
timeout=$((rounds * 2 * 3 * (secs + 12) + 300))
if part datapath; then
"$REPO/qemu/vm" --kernel bench --ko "$ko" --no-kmemleak --timeout $timeout --out "$results/dut" \
	-- "$REPO/qemu/bench/throughput.sh" dut "$secs" "$rounds"
"$REPO/qemu/vm" --kernel peer --no-kmemleak --timeout $timeout --out "$results/peer" \
	-- "$REPO/qemu/bench/throughput.sh" peer "$secs" "$rounds"
fi

if part cc; then
cc_secs=${CC_SECONDS:-20}
fair_secs=${FAIR_SECONDS:-40}
fair_omit=${FAIR_OMIT:-10}
fair_rounds=${FAIR_ROUNDS:-3}
fair_timeout=$((fair_rounds * 15 * (fair_omit + fair_secs + 30) + 300))
"$REPO/qemu/vm" --kernel bench --ko "$ko" --no-kmemleak --timeout $fair_timeout --out "$results/dut-cc" \
	-- /usr/bin/env OMIT="$fair_omit" ROUNDS="$fair_rounds" "$REPO/qemu/bench/cc_fairness.sh" dut "$fair_secs" lia olia balia cubic reno
"$REPO/qemu/vm" --kernel peer --no-kmemleak --timeout $((fair_timeout / 5 + 200)) --out "$results/peer-cc" \
	-- /usr/bin/env OMIT="$fair_omit" ROUNDS="$fair_rounds" "$REPO/qemu/bench/cc_fairness.sh" peer "$fair_secs" cubic
cat "$results/dut-cc/output.txt" "$results/peer-cc/output.txt" | grep '^CCBENCH' >"$results/cc-runs.txt" || true
/usr/bin/python3 "$REPO/scripts/cc-fairness-report.py" "$results" "$fair_secs" "$fair_omit"
"$REPO/qemu/vm" --kernel bench --ko "$ko" --no-kmemleak --timeout $((4 * (3 * cc_secs + 60) + 300)) \
	--out "$results/dut-goals" -- "$REPO/qemu/bench/cc_goals.sh" dut "$cc_secs" lia olia balia cubic
"$REPO/qemu/vm" --kernel peer --no-kmemleak --timeout $((3 * cc_secs + 360)) --out "$results/peer-goals" \
	-- "$REPO/qemu/bench/cc_goals.sh" peer "$cc_secs" cubic
cat "$results/dut-goals/output.txt" "$results/peer-goals/output.txt" | grep '^GOAL' >"$results/goals-runs.txt" || true
/usr/bin/python3 "$REPO/scripts/cc-goals-report.py" "$results" "$cc_secs"
fi

if part wifi3g; then
w_secs=${WIFI3G_SECONDS:-15}
w_rounds=${WIFI3G_ROUNDS:-1}
w_bufs=${WIFI3G_BUFS:-64 128 256 512 1024 2048}
# Six variants per buffer, each SECONDS plus 3 left out and set-up.
w_timeout=$((w_rounds * 6 * $(wc -w <<<"$w_bufs") * (w_secs + 12) + 300))
for r in $(seq 1 "$w_rounds"); do
	"$REPO/qemu/vm" --kernel bench --ko "$ko" --no-kmemleak --timeout $((w_timeout / w_rounds)) \
		--out "$results/dut-wifi3g-$r" -- /usr/bin/env BUFS="$w_bufs" \
		"$REPO/qemu/bench/wifi3g.sh" dut "$w_secs" tcp default default-nom lia olia balia
	"$REPO/qemu/vm" --kernel peer --no-kmemleak --timeout $((w_timeout / w_rounds / 3 + 200)) \
		--out "$results/peer-wifi3g-$r" -- /usr/bin/env BUFS="$w_bufs" \
		"$REPO/qemu/bench/wifi3g.sh" peer "$w_secs" tcp default
done
cat "$results"/*-wifi3g-*/output.txt | grep '^WIFI3G' >"$results/wifi3g-runs.txt" || true
/usr/bin/python3 "$REPO/scripts/wifi3g-report.py" "$results" "$w_secs"
fi

if part paths; then
p_secs=${PATHS_SECONDS:-15}
p_rounds=${PATHS_ROUNDS:-1}
# PATHS_SCENARIOS: some of paths.sh's scenarios (default all five).
p_scenarios=${PATHS_SCENARIOS:-}
# 33 runs, each SECONDS plus set-up.
p_timeout=$((33 * (p_secs + 12) + 300))
for r in $(seq 1 "$p_rounds"); do
	"$REPO/qemu/vm" --kernel bench --ko "$ko" --no-kmemleak --timeout $p_timeout \
		--out "$results/dut-paths-$r" -- "$REPO/qemu/bench/paths.sh" dut "$p_secs" $p_scenarios
	"$REPO/qemu/vm" --kernel peer --no-kmemleak --timeout $p_timeout \
		--out "$results/peer-paths-$r" -- "$REPO/qemu/bench/paths.sh" peer "$p_secs" $p_scenarios
done
cat "$results"/*-paths-*/output.txt | grep '^PATHS' >"$results/paths-runs.txt" || true
/usr/bin/python3 "$REPO/scripts/paths-report.py" "$results" "$p_secs"
fi

if part failover; then
"$REPO/qemu/vm" --kernel bench --ko "$ko" --no-kmemleak --timeout 600 \
	--out "$results/dut-failover" -- "$REPO/qemu/bench/failover.sh" dut
"$REPO/qemu/vm" --kernel peer --no-kmemleak --timeout 600 \
	--out "$results/peer-failover" -- "$REPO/qemu/bench/failover.sh" peer
cat "$results"/*-failover/output.txt | grep '^FAIL' >"$results/failover-runs.txt" || true
/usr/bin/python3 "$REPO/scripts/failover-report.py" "$results"
fi
part datapath || { echo "results in $results"; exit 0; }

cat "$results/dut/output.txt" "$results/peer/output.txt" | grep '^BENCH' >"$results/runs.txt" || true
# Debian's python3: python3-matplotlib is installed for it.
/usr/bin/python3 - "$results" "$secs" "$rounds" <<'PY'
import json, os, statistics, sys
out, secs, rounds = sys.argv[1], sys.argv[2], sys.argv[3]
runs = {}
for line in open(os.path.join(out, "runs.txt")):
    f = line.split()
    if len(f) < 7 or f[4] == "failed":
        continue
    runs.setdefault((f[1], f[2], f[3]), []).append(tuple(float(x) for x in f[4:7]))

def med(key, i=0):
    v = [r[i] for r in runs.get(key, [])]
    return statistics.median(v) if v else None

def paired(vm, name):
    """Per-round ratios MPTCP/TCP: each round runs the two back to back, so
    a ratio taken within a round cancels the drift between rounds."""
    t, m = runs.get((vm, name, "tcp"), []), runs.get((vm, name, "mptcp"), [])
    return [b[0] / a[0] for a, b in zip(t, m) if a[0] > 0]

def summary(ratios):
    if not ratios:
        return None, None
    return statistics.median(ratios), [min(ratios), max(ratios)]

scenarios = []
for vm in ("dut", "peer"):
    for name, unit in (("bulk-up", "Mbit/s"), ("bulk-down", "Mbit/s"), ("rr", "transactions/s")):
        t, m = med((vm, name, "tcp")), med((vm, name, "mptcp"))
        ratio, spread = summary(paired(vm, name))
        scenarios.append({"name": name, "vm": vm, "tcp": t, "mptcp": m,
                          "ratio": ratio, "spread": spread, "unit": unit,
                          "rounds": len(runs.get((vm, name, "mptcp"), []))})
    # CPU time per byte: both ends' CPU (iperf3's, system time included) per
    # Mbit/s; per round, the MPTCP run's over the TCP run's, in both bulk
    # directions.
    def cpb(r):
        return (r[1] + r[2]) / r[0] if r[0] > 0 else None
    per = {}
    ratios = []
    for name in ("bulk-up", "bulk-down"):
        for proto in ("tcp", "mptcp"):
            per.setdefault(proto, []).extend(c for c in map(cpb, runs.get((vm, name, proto), [])) if c)
        for a, b in zip(runs.get((vm, name, "tcp"), []), runs.get((vm, name, "mptcp"), [])):
            if cpb(a) and cpb(b):
                ratios.append(cpb(b) / cpb(a))
    t = statistics.median(per["tcp"]) if per.get("tcp") else None
    m = statistics.median(per["mptcp"]) if per.get("mptcp") else None
    ratio, spread = summary(ratios)
    scenarios.append({"name": "cpu-per-byte", "vm": vm, "tcp": t, "mptcp": m,
                      "ratio": ratio, "spread": spread, "unit": "cpu% per Mbit/s",
                      "rounds": len(runs.get((vm, "bulk-up", "mptcp"), []))})

doc = {"scenarios": scenarios, "seconds": float(secs), "rounds": int(rounds),
       "note": "TCG guests, one unshaped veth path inside one guest (plain TCP about 1 Gbit/s, CPU-bound); "
               "only ratios within one VM compare. dut: mptcp_rs; peer: Linux's MPTCP; "
               "neither kernel has KASAN, lockdep or kmemleak."}
with open(os.path.join(out, "latest.json"), "w") as f:
    json.dump(doc, f, indent=1)
with open(os.path.join(os.path.dirname(out), "latest.json"), "w") as f:
    json.dump(doc, f, indent=1)

fmt = lambda v, p=1: "-" if v is None else f"{v:.{p}f}"
print()
print("Data path benchmark: TCG guests, one unshaped veth path inside one guest (plain")
print(f"TCP about 1 Gbit/s, CPU-bound); {rounds} rounds of {secs} s, TCP and MPTCP back to back")
print("in each; TCP and MPTCP columns are medians, the ratio is the median of the")
print("per-round ratios (range: lowest and highest). Only the ratios within one VM")
print("compare (dut: mptcp_rs, peer: Linux's MPTCP; neither kernel has KASAN,")
print("lockdep or kmemleak).")
print()
print("%-5s %-13s %12s %12s %8s %12s  %s" % ("vm", "scenario", "TCP", "MPTCP", "ratio", "range", "unit"))
for s in scenarios:
    rng = "-" if not s["spread"] else "%.2f-%.2f" % tuple(s["spread"])
    print("%-5s %-13s %12s %12s %8s %12s  %s" % (s["vm"], s["name"], fmt(s["tcp"], 2), fmt(s["mptcp"], 2),
                                                  fmt(s["ratio"], 2), rng, s["unit"]))
print()
by = {(s["vm"], s["name"]): s["ratio"] for s in scenarios}
for name in ("bulk-up", "bulk-down", "rr", "cpu-per-byte"):
    d, p = by.get(("dut", name)), by.get(("peer", name))
    if d and p:
        print(f"{name:13s} mptcp_rs/TCP {d:.2f}, Linux MPTCP/TCP {p:.2f}")

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = ["bulk-up", "bulk-down", "rr", "cpu-per-byte"]
    fig, ax = plt.subplots(figsize=(7, 3.6))
    w = 0.38
    for i, (vm, label) in enumerate((("dut", "mptcp_rs (DUT)"), ("peer", "Linux MPTCP (PEER)"))):
        vals = [by.get((vm, n)) or 0 for n in names]
        ax.bar([x + (i - 0.5) * w for x in range(len(names))], vals, w, label=label)
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.set_xticks(range(len(names)), names)
    ax.set_ylabel("MPTCP / plain TCP, same VM")
    ax.set_title("Data path: ratios to plain TCP (TCG guests, one veth path, CPU-bound)", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    for path in (os.path.join(out, "ratios.png"), os.path.join(os.path.dirname(out), "ratios.png")):
        fig.savefig(path, dpi=110)
    print("plot: results/bench/ratios.png")
except ImportError:
    print("(python3-matplotlib missing: no plot)")
PY
echo "results in $results"

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Throughput benchmark: prints figures, asserts nothing.
#
#   scripts/bench.sh [SECONDS [ROUNDS]]
#
# Boots the DUT VM with mptcp_rs loaded and the PEER VM (Linux's own MPTCP)
# one after the other; each runs qemu/bench/throughput.sh, which alternates
# iperf3 over plain TCP and over MPTCP on the same topology. Absolute figures
# under TCG mean little; the ratios MPTCP/TCP, each taken within one VM, do:
# the last line compares ours to Linux's as a ratio of ratios.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
. "$REPO/scripts/lib.sh"

secs=${1:-8}
rounds=${2:-3}
results=$REPO/results/bench-$(date +%Y%m%d-%H%M%S)
mkdir -p "$results"

"$REPO/scripts/setup.sh"
"$REPO/scripts/kernel.sh" dut
"$REPO/scripts/kernel.sh" peer
"$REPO/scripts/module.sh"

timeout=$((secs * rounds * 4 * 6 + 300))
"$REPO/qemu/vm" --kernel dut --module --no-kmemleak --timeout $timeout --out "$results/dut" \
	-- "$REPO/qemu/bench/throughput.sh" dut "$secs" "$rounds"
"$REPO/qemu/vm" --kernel peer --no-kmemleak --timeout $timeout --out "$results/peer" \
	-- "$REPO/qemu/bench/throughput.sh" peer "$secs" "$rounds"

cat "$results/dut/output.txt" "$results/peer/output.txt" | grep '^BENCH' | tee "$results/runs.txt"
python3 - "$results/runs.txt" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) < 7 or f[4] == "failed":
        continue
    runs.setdefault((f[1], f[2], f[3]), []).append((float(f[4]), float(f[5]), float(f[6])))
def med(k, i):
    v = [r[i] for r in runs.get(k, [])]
    return statistics.median(v) if v else float("nan")
print()
print("%-5s %-12s %10s %10s %8s %16s %14s %12s" % ("vm", "scenario", "TCP Mb/s", "MPTCP Mb/s", "ratio", "cpu% snd/rcv TCP", "MPTCP", "CPU/byte x"))
ratios = {}
for vm, impl in (("dut", "mptcp_rs"), ("peer", "Linux MPTCP")):
    for scen in ("unshaped", "50mbit-10ms"):
        t, m = med((vm, scen, "tcp"), 0), med((vm, scen, "mptcp"), 0)
        ratios[(vm, scen)] = m / t if t else float("nan")
        # CPU time per byte: both ends' CPU (iperf3's process times, system
        # time included) per Mbit/s, MPTCP over TCP.
        cpb = lambda p: (med((vm, scen, p), 1) + med((vm, scen, p), 2)) / med((vm, scen, p), 0)
        print("%-5s %-12s %10.1f %10.1f %8.2f %9.0f/%-6.0f %7.0f/%-6.0f %12.2f  (%s, median of %d)" % (
            vm, scen, t, m, ratios[(vm, scen)],
            med((vm, scen, "tcp"), 1), med((vm, scen, "tcp"), 2),
            med((vm, scen, "mptcp"), 1), med((vm, scen, "mptcp"), 2), cpb("mptcp") / cpb("tcp"), impl,
            len(runs.get((vm, scen, "mptcp"), []))))
print()
for scen in ("unshaped", "50mbit-10ms"):
    d, p = ratios[("dut", scen)], ratios[("peer", scen)]
    print("%-12s mptcp_rs/TCP %.2f, Linux MPTCP/TCP %.2f: mptcp_rs reaches %.0f%% of Linux's relative throughput" % (scen, d, p, 100 * d / p if p else float("nan")))
PY
echo "results in $results"

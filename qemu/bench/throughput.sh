#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of scripts/bench.sh: plain TCP and MPTCP (IPPROTO_MPTCP, through
# mptcpize for iperf3) on the same one-path topology in the same VM,
# alternating, so that each ratio is measured under the same noise. MPTCP is
# whatever the kernel has: mptcp_rs on the DUT, Linux's own on the PEER.
# Prints one line per measurement:
#   BENCH <vm> <scenario> <tcp|mptcp> <value> <cpu% sender> <cpu% receiver>
# scenarios: bulk-up (client to server), bulk-down (server to client,
# iperf3 -R), both in Mbit/s with iperf3's CPU use of both ends; rr
# (transactions/s of one byte each way, qemu/bench/rr.py).
#
#   throughput.sh LABEL SECONDS ROUNDS
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../topo.sh"

label=${1:?LABEL}
secs=${2:-8}
rounds=${3:-3}
port=5201

topo_create 1 >/dev/null || { echo "topology failed"; exit 1; }
srv=${TOPO_SRV_ADDR[1]}

# iperf PROTO SCENARIO [-R]: one iperf3 run.
iperf() {
	local proto=$1 scen=$2 wrap=() json
	shift 2
	[ "$proto" = mptcp ] && wrap=(mptcpize run)
	port=$((port + 1))
	ip netns exec srv "${wrap[@]}" iperf3 -4 -s -1 -p $port >/dev/null 2>&1 &
	local spid=$!
	sleep 1
	json=$(ip netns exec cli timeout $((secs * 4 + 30)) "${wrap[@]}" iperf3 -4 -c "$srv" -p $port -t "$secs" -J "$@" 2>/dev/null)
	wait $spid 2>/dev/null
	python3 -S -c '
import json, sys
label, scen, proto = sys.argv[1:4]
try:
    e = json.loads(sys.stdin.read())["end"]
    bps = e["sum_received"]["bits_per_second"]
    cpu = e["cpu_utilization_percent"]
    # host is the client; with -R the client receives.
    snd, rcv = (cpu["remote_total"], cpu["host_total"]) if scen == "bulk-down" else (cpu["host_total"], cpu["remote_total"])
    print("BENCH %s %s %s %.2f %.1f %.1f" % (label, scen, proto, bps / 1e6, snd, rcv))
except Exception as ex:
    print("BENCH %s %s %s failed %s" % (label, scen, proto, type(ex).__name__))
' "$label" "$scen" "$proto" <<<"$json"
}

# rr PROTO: transactions per second.
rr() {
	local proto=$1 flag=()
	[ "$proto" = mptcp ] && flag=(--mptcp)
	port=$((port + 1))
	ip netns exec srv python3 -S "$here/rr.py" serve --port $port "${flag[@]}" &
	local spid=$!
	local out
	out=$(ip netns exec cli timeout $((secs * 4 + 30)) python3 -S "$here/rr.py" run "$srv" --port $port --seconds "$secs" "${flag[@]}" 2>&1)
	wait $spid 2>/dev/null
	python3 -S -c '
import json, sys
label, proto = sys.argv[1:3]
try:
    print("BENCH %s rr %s %.1f 0 0" % (label, proto, json.loads(sys.stdin.read())["rate"]))
except Exception as ex:
    print("BENCH %s rr %s failed %s" % (label, proto, type(ex).__name__))
' "$label" "$proto" <<<"$out"
}

for r in $(seq 1 "$rounds"); do
	for proto in tcp mptcp; do
		iperf $proto bulk-up
		iperf $proto bulk-down -R
		rr $proto
	done
done
topo_destroy

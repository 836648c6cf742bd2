#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of scripts/bench.sh: iperf3 over plain TCP and over MPTCP
# (IPPROTO_MPTCP through mptcpize) on the same topology in the same VM,
# alternating, so that the ratio is measured under the same noise.
# MPTCP here is whatever the kernel has: mptcp_rs on the DUT, Linux's own
# on the PEER. Prints one line per run and a summary of medians:
#   BENCH <scenario> <proto> <Mbit/s> <sender cpu%> <receiver cpu%>
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

# run SCENARIO PROTO: one iperf3 run, client to server.
run() {
	local scen=$1 proto=$2 wrap=() json
	[ "$proto" = mptcp ] && wrap=(mptcpize run)
	port=$((port + 1))
	ip netns exec srv "${wrap[@]}" iperf3 -4 -s -1 -p $port >/dev/null 2>&1 &
	local spid=$!
	sleep 1
	json=$(ip netns exec cli timeout $((secs * 4 + 30)) "${wrap[@]}" iperf3 -4 -c "$srv" -p $port -t "$secs" -J 2>/dev/null)
	wait $spid 2>/dev/null
	python3 -c '
import json, sys
try:
    d = json.loads(sys.stdin.read())
    e = d["end"]
    bps = e["sum_received"]["bits_per_second"]
    cpu = e["cpu_utilization_percent"]
    print("BENCH %s %s %s %.1f %.1f %.1f" % (sys.argv[1], sys.argv[2], sys.argv[3], bps / 1e6, cpu["host_total"], cpu["remote_total"]))
except Exception as ex:
    print("BENCH %s %s %s failed %s" % (sys.argv[1], sys.argv[2], sys.argv[3], type(ex).__name__))
' "$label" "$scen" "$proto" <<<"$json"
}

for scen in unshaped 50mbit-10ms; do
	if [ "$scen" = 50mbit-10ms ]; then topo_shape 1 50mbit 5ms; fi
	for r in $(seq 1 "$rounds"); do
		run "$scen" tcp
		run "$scen" mptcp
	done
done
topo_destroy

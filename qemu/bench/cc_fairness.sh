#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of the coupled congestion control benchmark (scripts/bench.sh):
# fairness at one shared bottleneck. One plain TCP flow (Reno) and one MPTCP
# connection with 1, 2 or 3 subflows go through the same link, at the same
# time, for SECONDS (iperf3 each). The link: 20 Mbit/s with 10 ms each way
# and a 100-packet buffer towards the server (about three times the
# bandwidth-delay product), scaled to what a TCG guest carries easily
# (plain TCP over veth: about 100 Mbit/s with the checkers, 1 Gbit/s
# without). The subflows differ by the client's address (10.1.1.1 and the
# `subflow` endpoints 10.1.1.2, 10.1.1.3 on the same interface), so that
# Linux's path manager (the PEER) opens them as ours does.
#
# For each ALG, the MPTCP sender's subflows use it: on the DUT through
# net.mptcp.congestion_control; on the PEER only "cubic" makes sense (Linux's
# MPTCP has no coupled algorithm: its subflows take TCP's default). ALG
# "reno" is the control: a second plain Reno TCP flow in the MPTCP
# connection's place, run three times (its "subflows" column is the
# round): how far from 1 two identical flows land shows what one run's
# ratio can tell.
#
# Both flows run OMIT + SECONDS; iperf3 leaves the first OMIT seconds out
# of its figures (--omit), so that they measure the flows sharing the link,
# not who came out of slow start first: the overshoot of a 100-packet
# buffer at start decides the first seconds, and with a loss every 5 to 10
# seconds per flow, Reno's windows take far longer than a run to forget it.
# ROUNDS (default 1) repeats the whole set, round after round, so that the
# report can take each point's median: two identical Reno flows land
# between about 0.85 and 1.35 of each other in one run of 40 s.
# Prints one line per run:
#   CCBENCH <vm> <alg> <subflows asked> <subflows seen> <tcp Mbit/s> <mptcp Mbit/s> <round>
#
#   cc_fairness.sh LABEL SECONDS ALG...      (OMIT and ROUNDS in the environment)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../topo.sh"
. "$here/lib-cc.sh"

label=${1:?LABEL}
secs=${2:-20}
omit=${OMIT:-10}
rounds=${ROUNDS:-1}
round=1
shift 2
algs=("$@")
port=5300

shared_bottleneck

# run ALG N: one Reno TCP flow against one MPTCP connection of N subflows.
run() {
	local alg=$1 n=$2
	subflows "$n"
	# The connection in the MPTCP column: MPTCP with ALG, or the control.
	local wrap=(mptcpize run) cc=()
	if [ "$alg" = reno ]; then
		wrap=()
		cc=(-C reno)
	else
		cc_select "$alg"
	fi
	local tport=$((port + 1)) mport=$((port + 2)) t=$((omit + secs))
	port=$((port + 2))
	# (Servers end on their own too: one whose client never came would
	# keep the run waiting.)
	ip netns exec srv timeout $((t + 90)) iperf3 -4 -s -1 -p $tport >/dev/null 2>&1 &
	local s1=$!
	ip netns exec srv timeout $((t + 90)) "${wrap[@]}" iperf3 -4 -s -1 -p $mport >/dev/null 2>&1 &
	local s2=$!
	sleep 1
	ip netns exec cli timeout $((t + 60)) iperf3 -4 -c "$srv" -p $tport -t "$secs" -O "$omit" -C reno -J \
		>"/tmp/cc-tcp-$alg-$n.json" 2>/dev/null &
	local c1=$!
	ip netns exec cli timeout $((t + 60)) "${wrap[@]}" iperf3 -4 -c "$srv" -p $mport -t "$secs" -O "$omit" \
		"${cc[@]}" -J >"/tmp/cc-mptcp-$alg-$n.json" 2>/dev/null &
	local c2=$!
	# Mid-run: the subflows that carry the MPTCP connection's data (iperf3's
	# control connection is MPTCP too, and idle).
	sleep $((t / 2 + 1))
	local seen=1
	[ "$alg" = reno ] ||
		seen=$(ip netns exec cli ss -Htin state established "( dport = :$mport )" |
			grep -o 'bytes_acked:[0-9]*' | awk -F: '$2 > 100000 { n++ } END { print n + 0 }')
	wait $c1 $c2 $s1 $s2 2>/dev/null
	echo "CCBENCH $label $alg $n $seen $(mbps "/tmp/cc-tcp-$alg-$n.json") $(mbps "/tmp/cc-mptcp-$alg-$n.json") $round"
	iperf_errors "/tmp/cc-tcp-$alg-$n.json" "/tmp/cc-mptcp-$alg-$n.json"
}

for round in $(seq 1 "$rounds"); do
	for alg in "${algs[@]}"; do
		for n in 1 2 3; do
			run "$alg" "$n"
		done
	done
done
topo_destroy

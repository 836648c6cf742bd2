#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of the multipath benchmark (scripts/bench.sh): three of the
# seeds' figures, scaled to a TCG guest (its plain TCP over veth carries
# about 1 Gbit/s on the BENCH kernel; the shaped paths below are far under
# that, so they are the bottlenecks).
#
#   agg-equal    two paths of 10 Mbit/s, 10 ms round trip (seed 000)
#   agg-10to1    path 1 20 Mbit/s, path 2 2 Mbit/s, both 10 ms
#                For each: TCP alone on path 1, TCP alone on path 2, then
#                MPTCP over both (aggregation: MPTCP / (TCP 1 + TCP 2)).
#   loss         both paths 10 Mbit/s 10 ms; path 2 (B) loses 0..5% of the
#                packets towards the server; TCP alone on path 1 (A), then
#                MPTCP at each loss rate: what path A carried (seed 004).
#   delay        both paths 10 Mbit/s; path 1 10 ms round trip, path 2 0,
#                10, 100 or 500 ms slower; the receiver's buffer
#                (tcp_rmem[2] in the server's namespace, as wifi3g.sh) 256
#                KB, 1, 4 and 16 MB: MPTCP's rate (seed 004); point
#                "DELAY-BUFKB"
#   subflows     one unshaped path, MPTCP with 1, 2, 4 and 8 subflows (the
#                client's extra addresses 10.1.1.2.. as `subflow`
#                endpoints, so that the PEER's Linux opens them too): CPU
#                time of both ends per Mbit/s, against 1 subflow's.
#
# Two disjoint paths as in cc_goals.sh: the server announces its second
# address and the client's second subflow goes through path 2's link
# towards the server; that link carries the path's rate, whole round trip
# and loss (netem on the router's rs<i>; ACKs come back unshaped), with a
# 100-packet limit.
#
# Prints one line per run:
#   PATHS <vm> <scenario> <point> <what> <Mbit/s> <x> <y> <subflows>
# what: tcp1, tcp2 (TCP alone on that path) or mptcp; x and y: for
# mptcp in loss and agg-*, Mbit/s carried by path 1 and path 2 (from the
# subflows' bytes_acked between about 3 s and the end); in subflows, the
# CPU % of sender and receiver (iperf3's); otherwise "-". subflows: how
# many the client had established 3 s into an MPTCP run (1 for TCP).
#
#   paths.sh LABEL SECONDS [SCENARIO...]       (default: all five)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../topo.sh"
. "$here/lib-cc.sh"

label=${1:?LABEL}
secs=${2:-15}
shift 2
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(agg-equal agg-10to1 loss delay subflows)
port=5700

now() { date +%s%N; }

# run SCENARIO POINT WHAT [IPERF3 CLIENT ARGS...]: one iperf3 run of SECONDS
# (MPTCP through mptcpize unless WHAT is tcp*), its line printed.
run() {
	local scen=$1 point=$2 what=$3 wrap=(mptcpize run) f x=- y=- t0 t1 a b seen=1
	shift 3
	case $what in tcp*) wrap=() ;; esac
	port=$((port + 1))
	ip netns exec srv timeout $((secs + 60)) "${wrap[@]}" iperf3 -4 -s -1 -p $port >/dev/null 2>&1 &
	local spid=$!
	sleep 1
	f=/tmp/paths-$scen-$point-$what.json
	ip netns exec cli timeout $((secs + 40)) "${wrap[@]}" iperf3 -4 -c "$srv" -p $port -t "$secs" -J "$@" >"$f" 2>/dev/null &
	local cpid=$!
	if [ "$what" = mptcp ]; then
		sleep 3
		# (iperf3's control connection goes to the same port, over MPTCP
		# too: its subflows have carried a few hundred octets.)
		seen=$(ip netns exec cli ss -Htin state established "( dport = :$port )" |
			grep -o 'bytes_acked:[0-9]*' | awk -F: '$2 > 16384 { n++ } END { print n + 0 }')
		if [ "$scen" != subflows ]; then
			t0=$(now) a=($(path_bytes $port))
			sleep $((secs - 4))
			t1=$(now) b=($(path_bytes $port))
			x=$(awk -v d=$((b[0] - a[0])) -v t=$((t1 - t0)) 'BEGIN { printf "%.2f", d * 8 / (t / 1e3) }')
			y=$(awk -v d=$((b[1] - a[1])) -v t=$((t1 - t0)) 'BEGIN { printf "%.2f", d * 8 / (t / 1e3) }')
		fi
	fi
	wait $cpid $spid 2>/dev/null
	if [ "$scen" = subflows ]; then
		read -r x y < <(python3 -S -c '
import json, sys
try:
    c = json.load(open(sys.argv[1]))["end"]["cpu_utilization_percent"]
    print("%.1f %.1f" % (c["host_total"], c["remote_total"]))
except Exception:
    print("- -")
' "$f")
	fi
	echo "PATHS $label $scen $point $what $(mbps "$f") $x $y $seen"
	iperf_errors "$f"
}

# two_paths R1 R2 [LOSS2]: the two shaped paths, 10 ms round trip each.
two_paths() {
	tc -n rtr qdisc replace dev rs1 root netem delay 10ms rate "$1" limit 100
	tc -n rtr qdisc replace dev rs2 root netem delay 10ms rate "$2" loss "${3:-0%}" limit 100
}

two_paths_signalled
for scen in "${scenarios[@]}"; do
	case $scen in
	agg-equal | agg-10to1)
		if [ $scen = agg-equal ]; then two_paths 10mbit 10mbit; else two_paths 20mbit 2mbit; fi
		run $scen - tcp1 -B "${TOPO_CLI_ADDR[1]}"
		# (TCP to the server's second address crosses path 2's link.)
		srv=${TOPO_SRV_ADDR[2]} run $scen - tcp2
		run $scen - mptcp
		;;
	loss)
		two_paths 10mbit 10mbit
		run loss 0 tcp1 -B "${TOPO_CLI_ADDR[1]}"
		for l in 0 1 2 3 4 5; do
			two_paths 10mbit 10mbit "$l%"
			run loss "$l" mptcp
		done
		;;
	delay)
		run delay 0 tcp1 -B "${TOPO_CLI_ADDR[1]}"
		for d in 0 10 100 500; do
			tc -n rtr qdisc replace dev rs1 root netem delay 10ms rate 10mbit limit 100
			# (netem's limit counts its delay line: 500 ms at 10 Mbit/s
			# holds about 420 packets.)
			tc -n rtr qdisc replace dev rs2 root netem delay $((10 + d))ms rate 10mbit limit 1000
			for b in 256 1024 4096 16384; do
				ip netns exec srv sysctl -q -w net.ipv4.tcp_rmem="4096 $((b * 1024)) $((b * 1024))"
				run delay "$d-$b" mptcp
			done
		done
		ip netns exec srv sysctl -q -w net.ipv4.tcp_rmem="4096 131072 6291456"
		;;
	subflows)
		tc -n rtr qdisc del dev rs1 root 2>/dev/null
		tc -n rtr qdisc del dev rs2 root 2>/dev/null
		ip -n srv mptcp endpoint flush
		for k in 2 3 4 5 6 7 8; do ip -n cli addr add "10.1.1.$k/24" dev c1; done
		run subflows 1 tcp1
		for n in 1 2 4 8; do
			ip -n cli mptcp endpoint flush
			for k in $(seq 2 "$n"); do ip -n cli mptcp endpoint add "10.1.1.$k" dev c1 subflow; done
			ip -n cli mptcp limits set subflow $((n - 1)) add_addr_accepted 0
			ip -n srv mptcp limits set subflow $((n - 1)) add_addr_accepted 0
			run subflows "$n" mptcp
		done
		# Back to two_paths_signalled's endpoints and limits, for the
		# scenarios after this one (PATHS_SCENARIOS may put it first).
		ip -n cli mptcp endpoint flush
		for k in 2 3 4 5 6 7 8; do ip -n cli addr del "10.1.1.$k/24" dev c1; done
		second_path_signalled
		;;
	*) echo "# unknown scenario $scen" ;;
	esac
done
topo_destroy

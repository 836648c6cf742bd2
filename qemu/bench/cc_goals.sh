#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of the RFC 6356 goals benchmark (scripts/bench.sh), on two
# disjoint paths (qemu/topo.sh, 2 paths), rates scaled to a TCG guest:
# path 1 20 Mbit/s, 10 ms each way; path 2 10 Mbit/s, 20 ms each way; each
# with a 100-packet buffer towards the server. The data's bottleneck is the
# router's link to the server's address of that path (a subflow to the
# server's second address crosses path 2's).
#
# Goal 1 ("improve throughput"): a plain TCP flow alone on the best path
# (path 1), then an MPTCP connection alone with a subflow on each path,
# SECONDS each; MPTCP should do at least as well.
# Goal 3 ("balance congestion"): path 1 carries two plain TCP flows
# (Reno) for the whole run; an MPTCP connection with a subflow on each
# path starts with them. About every second, the bytes each of its subflows
# has had acknowledged (`ss -ti`), to see it move its traffic to path 2.
#
# For each ALG (net.mptcp.congestion_control on the DUT; on the PEER, Linux's
# MPTCP, only its TCP default) prints
#   GOAL1 <vm> <alg> <tcp best path Mbit/s> <mptcp Mbit/s>
#   GOAL3 <vm> <alg> <seconds since the start> <path 1 bytes> <path 2 bytes>
#         (cumulative; no line once its subflows are gone)
#
#   cc_goals.sh LABEL SECONDS ALG...
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../topo.sh"
. "$here/lib-cc.sh"

label=${1:?LABEL}
secs=${2:-20}
shift 2
algs=("$@")
port=5400

two_paths_signalled
bottleneck 1 20mbit 10ms
bottleneck 2 10mbit 20ms

# iperf_pair NAME PROTO SECS [CLIENT ARGS...]: a server and a client, the
# client in the background ($IPERF_CPID; its JSON in /tmp/NAME.json).
iperf_start() {
	local name=$1 proto=$2 t=$3 wrap=()
	shift 3
	[ "$proto" = mptcp ] && wrap=(mptcpize run)
	port=$((port + 1))
	IPERF_PORT=$port
	# (The server ends on its own too: one whose client never came would
	# keep the run waiting.)
	ip netns exec srv timeout $((t + 90)) "${wrap[@]}" iperf3 -4 -s -1 -p $port >/dev/null 2>&1 &
	IPERF_SPID=$!
	sleep 1
	ip netns exec cli timeout $((t + 60)) "${wrap[@]}" iperf3 -4 -c "$srv" -p $port -t "$t" -J "$@" \
		>"/tmp/$name.json" 2>/dev/null &
	IPERF_CPID=$!
}

for alg in "${algs[@]}"; do
	cc_select "$alg"
	# Goal 1.
	iperf_start "g1-tcp-$alg" tcp "$secs" -B "${TOPO_CLI_ADDR[1]}"
	wait $IPERF_CPID $IPERF_SPID 2>/dev/null
	iperf_start "g1-mptcp-$alg" mptcp "$secs"
	wait $IPERF_CPID $IPERF_SPID 2>/dev/null
	echo "GOAL1 $label $alg $(mbps "/tmp/g1-tcp-$alg.json") $(mbps "/tmp/g1-mptcp-$alg.json")"
	iperf_errors "/tmp/g1-tcp-$alg.json" "/tmp/g1-mptcp-$alg.json"
	# Goal 3: two Reno flows on path 1 for the whole run, MPTCP with them.
	iperf_start "g3-tcp1-$alg" tcp $((secs + 4)) -B "${TOPO_CLI_ADDR[1]}" -C reno
	t1=($IPERF_CPID $IPERF_SPID)
	iperf_start "g3-tcp2-$alg" tcp $((secs + 4)) -B "${TOPO_CLI_ADDR[1]}" -C reno
	t2=($IPERF_CPID $IPERF_SPID)
	iperf_start "g3-mptcp-$alg" mptcp "$secs"
	m=($IPERF_CPID $IPERF_SPID)
	mport=$IPERF_PORT
	# A sample about every second while the MPTCP client runs, stamped with
	# the time since it started: in a TCG guest one sample (a namespace,
	# ss, awk) takes about a second itself, so counting rounds as seconds
	# ran past the end of the transfer.
	start=$(date +%s%N)
	while kill -0 "${m[0]}" 2>/dev/null; do
		sleep 1
		s=$((($(date +%s%N) - start) / 100000000))
		s=$((s / 10)).$((s % 10))
		read -r p1 p2 < <(path_bytes $mport)
		[ $((p1 + p2)) -gt 0 ] && echo "GOAL3 $label $alg $s $p1 $p2"
	done
	wait "${m[@]}" "${t1[@]}" "${t2[@]}" 2>/dev/null
	iperf_errors "/tmp/g3-mptcp-$alg.json" "/tmp/g3-tcp1-$alg.json" "/tmp/g3-tcp2-$alg.json"
done
topo_destroy

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of the WiFi/3G benchmark (scripts/bench.sh), the scenario of
# seeds 001 and 004: a WiFi path of 8 Mbit/s and 20 ms round trip, a 3G path
# of 2 Mbit/s and 150 ms, and the receiver's buffer limited, from 64 KB up.
# With a small buffer, data sent on the slow 3G path blocks the buffer while
# WiFi waits for it (head-of-line blocking); the seeds' opportunistic
# retransmission and penalisation are there so that MPTCP never does worse
# than TCP over WiFi alone.
#
# Two disjoint paths (qemu/topo.sh); as in cc_goals.sh the server announces
# its second address and the client's second subflow goes to it, through
# path 2's link towards the server. Each path's whole round-trip delay and
# its rate are on that link (netem on the router's rs<i>, data direction;
# the ACKs come back unshaped), with a 50-packet limit (netem counts the
# packets in its delay line too). These rates are far below what a TCG
# guest carries (about 100 Mbit/s of plain TCP with the checkers), so they
# are the bottlenecks, not the guest.
#
# The receiver's buffer: net.ipv4.tcp_rmem in the server's namespace set to
# "4096 B B", for TCP and MPTCP alike (TCP's autotuning and the module's
# connection-level tuning both stop at tcp_rmem[2]). B counts memory, as
# SO_RCVBUF does, not window: with tcp_adv_win_scale 1 the window is about
# half of it.
#
# VARIANT, each run for every buffer size (iperf3 client to server, SECONDS
# measured after 3 s left out):
#   tcp            plain TCP over WiFi alone (path 1)
#   default        MPTCP, subflows with TCP's default CC (uncoupled cubic);
#                  opportunistic retransmission and penalisation on (the
#                  module's defaults; on the PEER, Linux's MPTCP as it is)
#   default-nom    the same with both off (the module only)
#   lia olia balia MPTCP with that coupled CC, both on (the module only)
# Prints one line per run:
#   WIFI3G <vm> <variant> <buffer KB> <Mbit/s> <opportunistic octets> <penalized>
# (the last two: the module's counters over the run; "-" on the PEER)
#
#   wifi3g.sh LABEL SECONDS VARIANT...        (BUFS="64 128 ..." in KB)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../topo.sh"
. "$here/lib-cc.sh"

label=${1:?LABEL}
secs=${2:-15}
shift 2
variants=("$@")
bufs=(${BUFS:-64 128 256 512 1024 2048})
port=5600

two_paths_signalled
tc -n rtr qdisc replace dev rs1 root netem delay 20ms rate 8mbit limit 50
tc -n rtr qdisc replace dev rs2 root netem delay 150ms rate 2mbit limit 50
ours=0
[ -e /proc/sys/net/mptcp/opportunistic_retransmit ] && ours=1

# counter NAME: the module's counter NAME in the client's namespace
# (/proc/net/mptcp_rs: a line of names, a line of values).
counter() {
	ip netns exec cli awk -v n="$1" 'NR == 1 { for (i = 2; i <= NF; i++) if ($i == n) k = i }
		NR == 2 && k { v = $k } END { print v + 0 }' /proc/net/mptcp_rs
}

for buf in "${bufs[@]}"; do
	ip netns exec srv sysctl -q -w net.ipv4.tcp_rmem="4096 $((buf * 1024)) $((buf * 1024))"
	for v in "${variants[@]}"; do
		wrap=(mptcpize run)
		bind=()
		case $v in
		tcp) wrap=() bind=(-B "${TOPO_CLI_ADDR[1]}") ;;
		default | default-nom) cc_select default ;;
		lia | olia | balia) cc_select "$v" ;;
		*) echo "# unknown variant $v"; continue ;;
		esac
		if [ $ours = 1 ]; then
			m=1
			[ "$v" = default-nom ] && m=0
			ip netns exec cli sysctl -q -w net.mptcp.opportunistic_retransmit=$m net.mptcp.penalize=$m
			ip netns exec srv sysctl -q -w net.mptcp.opportunistic_retransmit=$m net.mptcp.penalize=$m
			o0=$(counter OpportunisticRetransmit) p0=$(counter Penalized)
		elif [ "$v" != tcp ] && [ "$v" != default ]; then
			continue
		fi
		port=$((port + 1))
		ip netns exec srv timeout $((secs + 60)) "${wrap[@]}" iperf3 -4 -s -1 -p $port >/dev/null 2>&1 &
		spid=$!
		sleep 1
		f=/tmp/wifi3g-$v-$buf.json
		ip netns exec cli timeout $((secs + 40)) "${wrap[@]}" iperf3 -4 -c "$srv" -p $port \
			-t "$secs" -O 3 -J "${bind[@]}" >"$f" 2>/dev/null
		wait $spid 2>/dev/null
		o=- p=-
		if [ $ours = 1 ]; then
			o=$(($(counter OpportunisticRetransmit) - o0))
			p=$(($(counter Penalized) - p0))
		fi
		echo "WIFI3G $label $v $buf $(mbps "$f") $o $p"
		iperf_errors "$f"
	done
done
topo_destroy

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# A diagnostic, not part of `make bench`: cc_fairness.sh's scenario (one
# Reno TCP flow and one MPTCP connection through one 20 Mbit/s bottleneck)
# for each ALG:N given (algorithm, subflows), with the client's `ss -ti`
# view of every flow and subflow every 4 s (window, threshold, RTT,
# retransmissions, time limited by the send buffer or the peer's window)
# and, after each run, the counters that moved on each side (cumulative
# over the runs: one namespace pair serves them all). It found the
# penalisation of subflows in loss recovery (ssthresh 2 on one of two
# subflows). Run it in the BENCH VM:
#   qemu/vm --kernel bench --ko KO --no-kmemleak --timeout 900 --out DIR -- \
#       /usr/bin/env OMIT=10 qemu/bench/cc_diag.sh 30 lia:2 olia:3 reno:1
# PENALIZE and OPPORT (0 or 1) set net.mptcp.penalize and
# net.mptcp.opportunistic_retransmit on the client first.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../topo.sh"
. "$here/lib-cc.sh"
secs=${1:-30}; shift
omit=${OMIT:-10}
port=5300
shared_bottleneck
[ -n "${PENALIZE:-}" ] && ip netns exec cli sysctl -q -w net.mptcp.penalize=$PENALIZE
[ -n "${OPPORT:-}" ] && ip netns exec cli sysctl -q -w net.mptcp.opportunistic_retransmit=$OPPORT
for spec in "$@"; do
	alg=${spec%:*}; n=${spec#*:}
	subflows "$n"
	cc_select "$alg"
	tport=$((port + 1)); mport=$((port + 2)); port=$((port + 2)); t=$((omit + secs))
	ip netns exec srv timeout $((t + 90)) iperf3 -4 -s -1 -p $tport >/dev/null 2>&1 &
	ip netns exec srv timeout $((t + 90)) mptcpize run iperf3 -4 -s -1 -p $mport >/dev/null 2>&1 &
	sleep 1
	ip netns exec cli timeout $((t + 60)) iperf3 -4 -c "$srv" -p $tport -t "$secs" -O "$omit" -C reno -J >/tmp/d-tcp.json 2>/dev/null &
	c1=$!
	ip netns exec cli timeout $((t + 60)) mptcpize run iperf3 -4 -c "$srv" -p $mport -t "$secs" -O "$omit" -J >/tmp/d-mp.json 2>/dev/null &
	c2=$!
	start=$SECONDS
	while kill -0 $c2 2>/dev/null && [ $((SECONDS - start)) -lt $((t + 5)) ]; do
		sleep 4
		echo "-- t=$((SECONDS - start))"
		ip netns exec cli ss -Htin state established "( dport = :$tport or dport = :$mport )" |
			paste - - | awk '{ o = $3 " " $4; for (i = 5; i <= NF; i++) if ($i ~ /^(cwnd|ssthresh|rtt|retrans|lost|unacked|notsent|rwnd_limited|sndbuf_limited|busy|bytes_acked|backoff|snd_wnd):/) o = o " " $i; print o }'
	done
	wait $c1 $c2
	echo "DIAG $alg $n tcp $(mbps /tmp/d-tcp.json) mptcp $(mbps /tmp/d-mp.json)"
	echo -n "cli: "; ip netns exec cli env PROC_NET_NETSTAT=/proc/net/mptcp_rs nstat -az 2>/dev/null | awk '$2 > 0 { printf "%s=%s ", $1, $2 }'; echo
	echo -n "srv: "; ip netns exec srv env PROC_NET_NETSTAT=/proc/net/mptcp_rs nstat -az 2>/dev/null | awk '$2 > 0 { printf "%s=%s ", $1, $2 }'; echo
	echo -n "cli tcp: "; ip netns exec cli nstat -az 2>/dev/null | grep -E "TCPTimeouts|TCPLossProbes|TcpRetransSegs|TCPFastRetrans|TCPSackRecovery|TCPRenoRecovery" | awk '{ printf "%s=%s ", $1, $2 }'; echo
done
topo_destroy

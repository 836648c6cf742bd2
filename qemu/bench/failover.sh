#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of the failover benchmark (scripts/bench.sh), seed 000's
# timeline: an MPTCP connection over two paths of 10 Mbit/s and 20 ms round
# trip; path 2 fails at FAIL2 s (default 15), is repaired at FIX2 (25), and
# path 1 fails at FAIL1 (35); the transfer lasts SECONDS (default 45).
#
# Two disjoint paths as in cc_goals.sh (the server announces its second
# address; the client's second subflow goes through path 2's link towards
# the server). Each path's rate and round trip are on that link (netem on
# the router's rs<i>); a path fails when that link drops everything
# (netem loss 100%): its subflow's data stops, and only its TCP's
# retransmission timer can tell. The link stays up, as a WiFi that goes out
# of range does.
#
# Prints
#   FAILTCP <vm> <Mbit/s>                 TCP alone on path 1, 10 s
#   FAILEVT <vm> <seconds> <event> <rto ms>
#                                         path2-down, path2-up, path1-down;
#                                         the RTO of that path's subflow then
#   FAILRX <vm> <start> <end> <octets>    the server's receive progress per
#                                         0.1 s interval (iperf3 -i 0.1)
#   FAILPATH <vm> <seconds> <path 1 octets> <path 2 octets>
#                                         the client's bytes_acked per path
# Times in seconds since the client started; the server's intervals count
# from its test's start, a few tens of milliseconds later. Nothing here
# checks the bytes (iperf3's server stops counting when its client says the
# test ended, with data still in flight): qemu/soak/multipath_failover.sh
# fails paths under a SHA-256-checked transfer.
#
#   failover.sh LABEL [SECONDS [FAIL2 FIX2 FAIL1]]
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../topo.sh"
. "$here/lib-cc.sh"

label=${1:?LABEL}
secs=${2:-45}
fail2=${3:-15}
fix2=${4:-25}
fail1=${5:-35}
port=5800

# link I [LOSS]: path I's link towards the server, losing LOSS.
link() {
	tc -n rtr qdisc replace dev "rs$1" root netem delay 20ms rate 10mbit loss "${2:-0%}" limit 100
}

two_paths_signalled
link 1
link 2

# TCP alone on path 1: the surviving path's rate.
port=$((port + 1))
ip netns exec srv timeout 60 iperf3 -4 -s -1 -p $port >/dev/null 2>&1 &
spid=$!
sleep 1
ip netns exec cli timeout 50 iperf3 -4 -c "$srv" -p $port -t 10 -J -B "${TOPO_CLI_ADDR[1]}" >/tmp/failover-tcp.json 2>/dev/null
wait $spid 2>/dev/null
echo "FAILTCP $label $(mbps /tmp/failover-tcp.json)"

port=$((port + 1))
ip netns exec srv timeout $((secs + 90)) mptcpize run iperf3 -4 -s -1 -p $port -i 0.1 -J >/tmp/failover-srv.json 2>/dev/null &
spid=$!
sleep 1
start=$(date +%s%N)
ip netns exec cli timeout $((secs + 60)) mptcpize run iperf3 -4 -c "$srv" -p $port -t "$secs" -J >/tmp/failover-cli.json 2>/dev/null &
cpid=$!

elapsed() {
	local ds=$((($(date +%s%N) - start) / 10000000))
	printf "%d.%02d" $((ds / 100)) $((ds % 100))
}

# The events, at their times, in the background.
(
	for e in "$fail2 2 100% path2-down" "$fix2 2 0% path2-up" "$fail1 1 100% path1-down"; do
		set -- $e
		while [ $((($(date +%s%N) - start) / 1000000)) -lt $(($1 * 1000)) ]; do sleep 0.05; done
		# The retransmission timeout of the subflow(s) on that path just
		# before (the largest: iperf3's control connection, idle, goes to
		# path 1's address too).
		rto=$(ip netns exec cli ss -Htin state established "( dport = :$port )" |
			awk -v p="10.$2." '/^[0-9]/ { split($4, x, ":"); on = index(x[1], p) == 1 }
				on && /rto:/ { match($0, /rto:[0-9.]+/); r = substr($0, RSTART + 4, RLENGTH - 4) + 0
					if (r > m) m = r }
				END { printf "%d\n", m }')
		link "$2" "$3"
		echo "FAILEVT $label $(elapsed) $4 $rto"
	done
) &
epid=$!

# The client's bytes per path, about every half second.
while kill -0 $cpid 2>/dev/null; do
	sleep 0.5
	t=$(elapsed)
	read -r p1 p2 < <(path_bytes $port)
	[ $((p1 + p2)) -gt 0 ] && echo "FAILPATH $label $t $p1 $p2"
done
wait $cpid $spid $epid 2>/dev/null
python3 -S -c '
import json, sys
label = sys.argv[1]
try:
    for i in json.load(open("/tmp/failover-srv.json"))["intervals"]:
        s = i["sum"]
        print("FAILRX %s %.2f %.2f %d" % (label, s["start"], s["end"], s["bytes"]))
except Exception as ex:
    print("# no server intervals: %s" % type(ex).__name__)
' "$label"
iperf_errors /tmp/failover-cli.json
topo_destroy

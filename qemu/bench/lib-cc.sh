# SPDX-License-Identifier: GPL-2.0
#
# Helpers of the benchmarks that shape paths (cc_fairness.sh, cc_goals.sh,
# cc_diag.sh, wifi3g.sh, paths.sh, failover.sh): source after qemu/topo.sh.

# mbps FILE: the receiver's rate of an iperf3 JSON result, in Mbit/s
# ("failed" if there is none).
mbps() {
	python3 -S -c '
import json, sys
try:
    print("%.2f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e6))
except Exception:
    print("failed")
' "$1"
}

# iperf_errors FILE...: a comment line for each iperf3 JSON result that has
# no result, with iperf3's own error if it gave one (an empty file: iperf3
# wrote nothing, jq would say nothing either).
iperf_errors() {
	local f
	for f in "$@"; do
		[ "$(mbps "$f")" = failed ] || continue
		if [ -s "$f" ]; then
			echo "# $f: $(jq -r '.error // "no result"' "$f" 2>/dev/null || echo "not JSON")"
		else
			echo "# $f: empty (iperf3 wrote nothing)"
		fi
	done
}

# bottleneck I RATE DELAY: path I carries data towards the server at RATE
# with DELAY each way and a 100-packet buffer (about three times the
# bandwidth-delay product at 20 Mbit/s and 20 ms); its ACKs come back with
# DELAY.
bottleneck() {
	tc -n rtr qdisc replace dev "rs$1" root netem delay "$3" rate "$2" limit 100
	tc -n rtr qdisc replace dev "rc$1" root netem delay "$3" limit 1000
}

# cc_select ALG: the MPTCP client's subflows use ALG from now on (mptcp_rs's
# net.mptcp.congestion_control; Linux's MPTCP has no such choice).
cc_select() {
	if [ -e /proc/sys/net/mptcp/congestion_control ]; then
		ip netns exec cli sysctl -q -w net.mptcp.congestion_control="$1"
	fi
}

# shared_bottleneck: the fairness topology (cc_fairness.sh, cc_diag.sh):
# one path, the client's addresses 10.1.1.1-3 on it, 20 Mbit/s with 10 ms
# each way; sets srv to the server's address.
shared_bottleneck() {
	topo_create 1 >/dev/null || { echo "topology failed"; exit 1; }
	srv=${TOPO_SRV_ADDR[1]}
	ip -n cli addr add 10.1.1.2/24 dev c1
	ip -n cli addr add 10.1.1.3/24 dev c1
	bottleneck 1 20mbit 10ms
}

# subflows N: the next MPTCP connection through the shared bottleneck
# has N subflows (the client's `subflow` endpoints 10.1.1.2.., limits on
# both sides).
subflows() {
	local k
	ip -n cli mptcp endpoint flush
	for k in $(seq 2 "$1"); do
		ip -n cli mptcp endpoint add "10.1.1.$k" dev c1 subflow
	done
	ip -n cli mptcp limits set subflow $(($1 - 1)) add_addr_accepted 0
	ip -n srv mptcp limits set subflow $(($1 - 1)) add_addr_accepted 0
}

# path_bytes PORT: the client's bytes_acked on its sockets towards PORT
# (subflows, and iperf3's control connection, which has carried a few
# hundred octets), summed per path by the server's address (10.1.*: path
# 1, else path 2): "P1 P2".
path_bytes() {
	ip netns exec cli ss -Htin state established "( dport = :$1 )" |
		awk '/^[0-9]/ { split($4, x, ":"); addr = x[1] }
			/bytes_acked:/ { match($0, /bytes_acked:[0-9]+/); b = substr($0, RSTART + 12, RLENGTH - 12)
				if (addr ~ /^10\.1\./) p1 += b; else p2 += b }
			END { printf "%d %d\n", p1, p2 }'
}

# two_paths_signalled: the two-path topology of cc_goals.sh, wifi3g.sh,
# paths.sh and failover.sh (qemu/topo.sh, 2 paths; sets srv to the
# server's first address). The server announces its second address and the
# client opens its second subflow to it, from the address routing picks:
# that subflow's data crosses path 2's link towards the server (rs2), where
# the benchmarks shape it.
two_paths_signalled() {
	topo_create 2 >/dev/null || { echo "topology failed"; exit 1; }
	srv=${TOPO_SRV_ADDR[1]}
	second_path_signalled
}

# second_path_signalled: two_paths_signalled's endpoint and limits (also to
# restore them after a scenario that changed them).
second_path_signalled() {
	ip -n srv mptcp endpoint add "${TOPO_SRV_ADDR[2]}" dev s2 signal
	ip -n cli mptcp limits set subflow 1 add_addr_accepted 1
	ip -n srv mptcp limits set subflow 1 add_addr_accepted 0
}

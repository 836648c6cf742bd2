# SPDX-License-Identifier: GPL-2.0
#
# Multipath test topologies inside one VM, shared by the tests: source it.
#
#   topo_create N        a client and a server joined by N disjoint paths,
#                        each through its own links of a router namespace:
#
#     ns "cli"              ns "rtr"                      ns "srv"
#     c1 10.1.1.1 ---- rc1 10.1.1.254 | rs1 10.1.2.254 ---- s1 10.1.2.1
#     c2 10.2.1.1 ---- rc2 10.2.1.254 | rs2 10.2.2.254 ---- s2 10.2.2.1
#     ...
#
#   The client and the server route each source address out of its own
#   path (policy routing), so a subflow bound to 10.i.1.1 uses path i; the
#   main tables default to path 1. The router forwards and is where
#   middleboxes go (iptables in ns rtr).
#
#   topo_shape I RATE DELAY [LOSS [EXTRA...]]
#                        shapes path I in both directions with netem on the
#                        router's two interfaces of that path, e.g.
#                        topo_shape 1 100mbit 10ms 1% reorder 25% 50%
#                        (RATE "-" for no rate limit; DELAY is one way)
#   topo_down I / topo_up I
#                        takes path I down or up (link failure)
#   topo_destroy         removes the namespaces
#
# Addresses: TOPO_CLI_ADDR[i] and TOPO_SRV_ADDR[i] (i from 1); the functions
# `cli`, `rtr` and `srv` run a command in the namespace.

TOPO_PATHS=0
declare -a TOPO_CLI_ADDR TOPO_SRV_ADDR

cli() { ip netns exec cli "$@"; }
rtr() { ip netns exec rtr "$@"; }
srv() { ip netns exec srv "$@"; }

topo_create() {
	local n=${1:?usage: topo_create NPATHS} i
	TOPO_PATHS=$n
	ip netns add cli && ip netns add rtr && ip netns add srv || return 1
	# One `ip -batch` per namespace: spawning processes is slow under TCG.
	{
		for i in $(seq 1 "$n"); do
			echo "link add c$i netns cli type veth peer name rc$i netns rtr"
			echo "link add s$i netns srv type veth peer name rs$i netns rtr"
		done
	} | ip -batch - || return 1
	{
		echo "link set lo up"
		for i in $(seq 1 "$n"); do
			echo "addr add 10.$i.1.1/24 dev c$i"
			echo "link set c$i up"
			echo "rule add from 10.$i.1.1 table $((100 + i))"
			echo "route add default via 10.$i.1.254 dev c$i table $((100 + i))"
		done
		echo "route add default via 10.1.1.254 dev c1"
	} | ip -n cli -batch - || return 1
	{
		echo "link set lo up"
		for i in $(seq 1 "$n"); do
			echo "addr add 10.$i.2.1/24 dev s$i"
			echo "link set s$i up"
			echo "rule add from 10.$i.2.1 table $((100 + i))"
			echo "route add default via 10.$i.2.254 dev s$i table $((100 + i))"
		done
		echo "route add default via 10.1.2.254 dev s1"
	} | ip -n srv -batch - || return 1
	{
		echo "link set lo up"
		for i in $(seq 1 "$n"); do
			echo "addr add 10.$i.1.254/24 dev rc$i"
			echo "addr add 10.$i.2.254/24 dev rs$i"
			echo "link set rc$i up"
			echo "link set rs$i up"
		done
	} | ip -n rtr -batch - || return 1
	rtr sysctl -q -w net.ipv4.ip_forward=1 || return 1
	# A closed connection whose peer is gone (a crafted peer, a namespace
	# deleted) gives up after 2 retransmissions of its FIN, not 8: the VM's
	# final unload waits for every connection to end, and it should not
	# wait minutes for those.
	for i in cli srv; do
		ip netns exec $i sysctl -q -w net.ipv4.tcp_orphan_retries=2 net.ipv4.tcp_fin_timeout=10 || return 1
	done
	for i in $(seq 1 "$n"); do
		TOPO_CLI_ADDR[i]=10.$i.1.1
		TOPO_SRV_ADDR[i]=10.$i.2.1
	done
}

topo_shape() {
	local i=${1:?usage: topo_shape PATH RATE DELAY [LOSS [EXTRA...]]} rate=$2 delay=$3 loss=${4:-0%}
	shift 3
	[ $# -gt 0 ] && shift
	local args=(delay "$delay" loss "$loss" "$@" limit 10000)
	[ "$rate" = - ] || args+=(rate "$rate")
	{
		echo "qdisc replace dev rc$i root netem ${args[*]}"
		echo "qdisc replace dev rs$i root netem ${args[*]}"
	} | tc -n rtr -batch -
}

topo_down() {
	{
		echo "link set rc${1:?} down"
		echo "link set rs$1 down"
	} | ip -n rtr -batch -
}

topo_up() {
	{
		echo "link set rc${1:?} up"
		echo "link set rs$1 up"
	} | ip -n rtr -batch -
}

topo_destroy() {
	# The processes that qemu/tests/lib-mptcp.sh keeps in the namespaces
	# (they would keep them alive).
	declare -F ns_sleepers_stop >/dev/null && ns_sleepers_stop
	ip netns del cli 2>/dev/null
	ip netns del rtr 2>/dev/null
	ip netns del srv 2>/dev/null
	TOPO_PATHS=0
}

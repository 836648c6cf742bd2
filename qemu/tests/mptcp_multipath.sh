#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# qemu-vm-args: --module --timeout 900
#
# Ours to ours over several disjoint paths (qemu/topo.sh), configured with
# the unmodified `ip mptcp`: the server announces its other addresses
# (`signal` endpoints, ADD_ADDR), the client joins them from its own
# (`subflow fullmesh` endpoints, MP_JOIN); every transfer checked by a
# SHA-256 of the bytes, each path's links shown to carry data, the counters
# of both ends showing real joins and no reset. Then joins refused: over
# the server's `subflows` limit, and for a token nobody has.
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/lib-mptcp.sh"
. "$(dirname "$0")/../topo.sh"

out=${MPTCP_RS_OUT:-/tmp}
port=44100

# multipath N: N paths; each path carries data.
multipath() {
	local n=$1 i
	check "a $n-path topology" topo_create "$n"
	for i in $(seq 2 "$n"); do
		ip -n srv mptcp endpoint add "${TOPO_SRV_ADDR[i]}" dev "s$i" signal
		ip -n cli mptcp endpoint add "${TOPO_CLI_ADDR[i]}" dev "c$i" subflow fullmesh
	done
	ip -n cli mptcp limits set subflow 7 add_addr_accepted 7
	ip -n srv mptcp limits set subflow 7 add_addr_accepted 0
	local before=()
	for i in $(seq 1 "$n"); do before[i]=$(link_bytes cli "c$i"); done
	mp_transfer "paths$n" 2000000
	each_path_carried "paths$n" "$n" "${before[@]:1}"
	expect_mib srv AddAddrTx -ge $((n - 1))
	expect_mib cli AddAddr -ge $((n - 1))
	expect_mib cli MPJoinSynTx -ge $((n - 1))
	expect_mib cli MPJoinSynAckRx -ge $((n - 1))
	expect_mib srv MPJoinSynRx -ge $((n - 1))
	expect_mib srv MPJoinAckRx -ge $((n - 1))
	for ns in cli srv; do
		expect_zero $ns MPJoinSynAckHMacFailure MPJoinAckHMacFailure MPJoinAckTimeout \
			SubflowReset DSSNotMatching DSSNoMapping
	done
	for ns in cli srv; do
		echo "# $ns: $(in_ns $ns awk 'NR == 1 { for (i = 2; i <= NF; i++) n[i] = $i }
			NR == 2 { for (i = 2; i <= NF; i++) if ($i != 0) printf "%s=%s ", n[i], $i }' /proc/net/mptcp_rs)"
	done
}

multipath 2

# The same paths with the round-robin scheduler (net.mptcp.scheduler, at
# both ends): each path carries data.
for ns in cli srv; do ip netns exec $ns sysctl -q -w net.mptcp.scheduler=roundrobin; done
before=$(link_bytes cli c1) before2=$(link_bytes cli c2)
mp_transfer paths2-roundrobin 1000000
each_path_carried paths2-roundrobin 2 "$before" "$before2"
for ns in cli srv; do ip netns exec $ns sysctl -q -w net.mptcp.scheduler=default; done

for ns in cli srv; do
	expect_zero $ns DSSNotMatching DSSNoMapping
done
topo_destroy

multipath 3
topo_destroy

# The server takes no additional subflow: the client's joins are refused
# (a RST), the connection goes on over its first path.
check "a 2-path topology" topo_create 2
ip -n srv mptcp endpoint add "${TOPO_SRV_ADDR[2]}" dev s2 signal
ip -n srv mptcp limits set subflow 0 add_addr_accepted 0
ip -n cli mptcp endpoint add "${TOPO_CLI_ADDR[2]}" dev c2 subflow fullmesh
ip -n cli mptcp limits set subflow 2 add_addr_accepted 2
mp_transfer limit 1000000
expect_mib srv MPJoinRefused -ge 1
expect_mib srv MPJoinAckRx -eq 0
expect_mib cli MPJoinSynAckRx -eq 0

# A join for a token nobody has: refused with a RST, counted.
no_token=$(mib srv MPJoinNoTokenFound)
srv timeout 120 python3 -S "$here/xfer.py" serve --port 44999 --mptcp --recv 0 >/dev/null 2>&1 &
spid=$!
for _ in $(seq 1 100); do srv ss -ltn | grep -q ':44999 ' && break; sleep 0.2; done
r=$(cli python3 "$here/craft.py" join-syn --dst "${TOPO_SRV_ADDR[1]}" --dport 44999 --token 0x12345678)
kill $spid 2>/dev/null
wait $spid 2>/dev/null
echo "# craft: $r"
expect_eq "a join SYN with an unknown token is answered with a RST" true "$(jq -r .rst <<<"$r")"
expect_mib srv MPJoinNoTokenFound -eq $((no_token + 1))
topo_destroy
tap_done

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

# Bytes through an interface of a namespace, both ways.
link_bytes() { # NS IF
	ip netns exec "$1" cat "/sys/class/net/$2/statistics/tx_bytes" "/sys/class/net/$2/statistics/rx_bytes" |
		awk '{ s += $1 } END { print s }'
}

# expect_zero NS NAME...: each counter is 0 (one read of the file: a
# process costs under TCG).
expect_zero() {
	local ns=$1 m v
	shift
	local all
	all=$(in_ns "$ns" awk 'NR == 1 { for (i = 2; i <= NF; i++) n[i] = $i }
		NR == 2 { for (i = 2; i <= NF; i++) print n[i], $i }' /proc/net/mptcp_rs)
	for m in "$@"; do
		v=$(awk -v n="$m" '$1 == n { print $2 }' <<<"$all")
		if [ "$v" = 0 ]; then ok "ns $ns: $m = 0"; else not_ok "ns $ns: $m = ${v:-missing}, expected 0"; fi
	done
}

# transfer NAME BYTES: both ways at once, server on every address.
transfer() {
	local name=$1 bytes=$2
	port=$((port + 1))
	srv timeout 600 python3 "$here/xfer.py" serve --port $port --mptcp --send "$bytes" --recv "$bytes" \
		--label "$name" >"$out/$name.server.json" 2>&1 &
	local spid=$!
	cli timeout 600 python3 "$here/xfer.py" connect "${TOPO_SRV_ADDR[1]}" --port $port --mptcp \
		--send "$bytes" --recv "$bytes" --retry 60 --label "$name" >"$out/$name.client.json" 2>&1
	local crc=$?
	wait $spid
	local src=$?
	if [ $crc = 0 ] && [ $src = 0 ]; then
		ok "$name: $bytes bytes each way, SHA-256 matches ($(jq -r '.seconds' "$out/$name.client.json") s)"
	else
		not_ok "$name: $bytes bytes each way (client $crc, server $src)"
		sed 's/^/#   /' "$out/$name.client.json" "$out/$name.server.json" | cut -c1-300
	fi
}

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
	transfer "paths$n" 2000000
	for i in $(seq 1 "$n"); do
		local moved=$(($(link_bytes cli "c$i") - before[i]))
		if [ "$moved" -ge 65536 ]; then
			ok "paths$n: path $i carried $moved bytes"
		else
			not_ok "paths$n: path $i carried only $moved bytes"
		fi
	done
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
	topo_destroy
}

multipath 2
multipath 3

# The server takes no additional subflow: the client's joins are refused
# (a RST), the connection goes on over its first path.
check "a 2-path topology" topo_create 2
ip -n srv mptcp endpoint add "${TOPO_SRV_ADDR[2]}" dev s2 signal
ip -n srv mptcp limits set subflow 0 add_addr_accepted 0
ip -n cli mptcp endpoint add "${TOPO_CLI_ADDR[2]}" dev c2 subflow fullmesh
ip -n cli mptcp limits set subflow 2 add_addr_accepted 2
transfer limit 1000000
expect_mib srv MPJoinRefused -ge 1
expect_mib srv MPJoinAckRx -eq 0
expect_mib cli MPJoinSynAckRx -eq 0

# A join for a token nobody has: refused with a RST, counted.
no_token=$(mib srv MPJoinNoTokenFound)
srv timeout 120 python3 "$here/xfer.py" serve --port 44999 --mptcp --recv 0 >/dev/null 2>&1 &
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

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

# transfer_start NAME BYTES: both ways at once, server on every address, in
# the background; transfer_wait NAME BYTES: its result, a TAP case.
transfer_start() {
	local name=$1 bytes=$2
	port=$((port + 1))
	srv timeout 600 python3 -S "$here/xfer.py" serve --port $port --mptcp --send "$bytes" --recv "$bytes" \
		--label "$name" >"$out/$name.server.json" 2>&1 &
	XFER_SPID=$!
	cli timeout 600 python3 -S "$here/xfer.py" connect "${TOPO_SRV_ADDR[1]}" --port $port --mptcp \
		--send "$bytes" --recv "$bytes" --retry 60 --label "$name" >"$out/$name.client.json" 2>&1 &
	XFER_CPID=$!
}

transfer_wait() {
	local name=$1 bytes=$2 crc src
	wait $XFER_CPID
	crc=$?
	wait $XFER_SPID
	src=$?
	if [ $crc = 0 ] && [ $src = 0 ]; then
		ok "$name: $bytes bytes each way, SHA-256 matches ($(jq -r '.seconds' "$out/$name.client.json") s)"
	else
		not_ok "$name: $bytes bytes each way (client $crc, server $src)"
		sed 's/^/#   /' "$out/$name.client.json" "$out/$name.server.json" | cut -c1-300
	fi
}

transfer() {
	transfer_start "$@"
	transfer_wait "$@"
}

# each_path_carried NAME N BEFORE...: a TAP case per path: its client link
# moved at least 64 KB since the byte counts BEFORE (of link_bytes).
each_path_carried() {
	local name=$1 n=$2 i moved
	shift 2
	local before=("" "$@")
	for i in $(seq 1 "$n"); do
		moved=$(($(link_bytes cli "c$i") - before[i]))
		if [ "$moved" -ge 65536 ]; then
			ok "$name: path $i carried $moved bytes"
		else
			not_ok "$name: path $i carried only $moved bytes"
		fi
	done
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
transfer paths2-roundrobin 1000000
each_path_carried paths2-roundrobin 2 "$before" "$before2"
for ns in cli srv; do ip netns exec $ns sysctl -q -w net.mptcp.scheduler=default; done

# established_between NS LOCAL REMOTE up|gone: polls the TCP sockets of NS
# (every 0.1 s for 30 s, one process with shell builtins) until one from the
# address LOCAL to REMOTE (as /proc/net/tcp spells them) is established
# (up) or none is (gone); prints the tenths of a second that took, or
# "never".
established_between() {
	in_ns "$1" bash -c 'exec 9<> <(:)
	for ((i = 0; i < 300; i++)); do
		mapfile -t lines </proc/net/tcp
		n=0
		for l in "${lines[@]}"; do [[ $l == *": $1:"????" $2:"????" 01 "* ]] && n=1; done
		if [ "$3" = up ] && [ $n = 1 ] || [ "$3" = gone ] && [ $n = 0 ]; then echo $i; exit; fi
		read -rt 0.1 -u 9 || :
	done
	echo never' - "$2" "$3" "$4"
}

# failover NAME PATH SECONDS: path PATH fails once both subflows are up, in
# the middle of a transfer, and comes back SECONDS later; nothing is lost.
failover() {
	local name=$1 path=$2 secs=$3 joins i
	joins=$(mib srv MPJoinAckRx)
	transfer_start "$name" 3000000
	for i in $(seq 1 60); do
		[ "$(mib srv MPJoinAckRx)" -gt "$joins" ] && break
		sleep 0.5
	done
	sleep 1
	topo_down "$path"
	sleep "$secs"
	topo_up "$path"
	transfer_wait "$name" 3000000
}
failover path2-fails 2 4
failover path1-fails 1 4

# The server deletes its announced address mid-transfer (`ip mptcp endpoint
# delete`): it sends REMOVE_ADDR, the client closes its subflow to that
# address while the transfer goes on over the others, and nothing is lost.
rm_tx=$(mib srv RmAddrTx) rm_rx=$(mib cli RmAddr)
transfer_start remove-addr 4000000
# The client's subflow from 10.2.1.1 to 10.2.2.1 (0101020A and 0102020A in
# /proc/net/tcp).
up=$(established_between cli 0101020A 0102020A up)
ip -n srv mptcp endpoint delete id 1
gone=$(established_between cli 0101020A 0102020A gone)
running=$(kill -0 $XFER_CPID 2>/dev/null && echo yes || echo no)
echo "# remove-addr: the subflow to the deleted address up after ${up} tenths of a second, gone ${gone} tenths after the delete; transfer running then: $running"
if [ "$up" != never ]; then
	ok "remove-addr: the client's subflow to the server's second address is up before the delete"
else
	not_ok "remove-addr: no subflow to the server's second address seen up before the delete"
	cli cat /proc/net/tcp | sed 's/^/# /' | cut -c1-100
fi
expect_eq "remove-addr: it closes while the transfer goes on" "True yes" \
	"$([ "$gone" != never ] && echo True || echo False) $running"
transfer_wait remove-addr 4000000
expect_mib srv RmAddrTx -ge $((rm_tx + 1))
expect_mib cli RmAddr -ge $((rm_rx + 1))
for ns in cli srv; do
	expect_zero $ns DSSNotMatching DSSNoMapping
done
topo_destroy

multipath 3
topo_destroy

# The server takes no additional subflow: the client's joins are refused
# (a RST), the connection goes on over its first path.
check "a 2-path topology" topo_create 2
# The crafted join SYN of the end comes from a process that imports scapy
# (40 s under TCG) during the transfer, and reads its command from a FIFO.
rm -f /tmp/join.cases
mkfifo /tmp/join.cases
cli timeout 600 python3 "$here/craft.py" cases </tmp/join.cases >"$out/join-syn.json" 2>"$out/join-syn.err" &
cases_pid=$!
exec 7>/tmp/join.cases
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
srv timeout 120 python3 -S "$here/xfer.py" serve --port 44999 --mptcp --recv 0 >/dev/null 2>&1 &
spid=$!
for _ in $(seq 1 100); do srv ss -ltn | grep -q ':44999 ' && break; sleep 0.2; done
printf '%s\n' "join-syn --dst ${TOPO_SRV_ADDR[1]} --dport 44999 --token 0x12345678" end >&7
exec 7>&-
wait $cases_pid
r=$(cat "$out/join-syn.json")
kill $spid 2>/dev/null
wait $spid 2>/dev/null
echo "# craft: $r"
expect_eq "a join SYN with an unknown token is answered with a RST" true "$(jq -r .rst <<<"$r")"
expect_mib srv MPJoinNoTokenFound -eq $((no_token + 1))
topo_destroy
tap_done

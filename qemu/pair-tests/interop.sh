#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# mptcp_rs against Linux's own MPTCP (the PEER kernel), as client and as
# server, 3 MB each way at once per connection, SHA-256 checked. The PEER's
# counters prove it saw real MPTCP (MP_CAPABLE on SYN, SYN/ACK and ACK) and
# never fell back; ours agree; a capture on the DUT decodes cleanly in
# tshark. Then the fallbacks with Linux: plain TCP at the other end, and
# MP_CAPABLE stripped by the PEER's own netfilter; Linux's ADD_ADDR echoed;
# multipath: Linux's client joins the address we announce.
# Both VMs run this script.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tests/tap.sh"
. "$here/../tests/lib-mptcp.sh"
. "$here/../pair-net.sh"

out=${MPTCP_RS_OUT:-/tmp}
N=3000000
if pair_setup "$PAIR_ROLE"; then ok "configure the $PAIR_ROLE side of both links"; else not_ok "configure links"; fi
check "the other VM answers on both links" pair_wait_for_peer 180

# run NAME PORT serve|connect FLAGS...: one end of a transfer both ways.
run() {
	local name=$1 port=$2 mode=$3
	shift 3
	local target=()
	[ "$mode" = connect ] && target=("${PAIR_OTHER[1]}" --retry 120)
	# shellcheck disable=SC2068
	if timeout 600 python3 -S "$here/../tests/xfer.py" "$mode" ${target[@]} --port "$port" --bind "${BIND:-${PAIR_ADDR[1]}}" \
		--send $N --recv $N "$@" >"$out/$name.json" 2>&1; then
		ok "$name ($PAIR_ROLE $mode): 3 MB each way, SHA-256 matches"
	else
		not_ok "$name ($PAIR_ROLE $mode)"
		sed 's/^/#   /' "$out/$name.json" | cut -c1-300
	fi
}

expect_link2() { # NAME BYTES: the second link carried data (64 KB or more)
	if [ "$2" -ge 65536 ]; then
		ok "$1: the second link carried $2 bytes"
	else
		not_ok "$1: the second link carried only $2 bytes"
	fi
}

# The PEER's own counters (Linux's MPTcpExt in /proc/net/netstat).
linux_mib() { nstat -az "MPTcpExt$1" 2>/dev/null | awk -v n="MPTcpExt$1" '$1 == n { print $2 }'; }
expect_linux_mib() { # NAME OP N
	local v
	v=$(linux_mib "$1")
	if [ -n "$v" ] && [ "$v" "$2" "$3" ]; then ok "Linux MPTCP: $1 = $v ($2 $3)"; else not_ok "Linux MPTCP: $1 = ${v:-missing}, expected $2 $3"; fi
}

if [ "$PAIR_ROLE" = dut ]; then
	capture_start - eth0 "$out/interop.pcap"
	run dut-client-peer-server 45001 connect --mptcp
	run peer-client-dut-server 45002 serve --mptcp
	capture_stop
	check_capture "$out/interop.pcap"
	expect_mib - MPCapableSYNACKRX -eq 1
	expect_mib - MPCapableACKRX -eq 1
	expect_zero - MPCapableFallbackSYNACK MPCapableFallbackACK MPFallbackNoDSS DSSNotMatching \
		DSSNoMapping SubflowReset
	# Fallbacks with Linux at the other end.
	run dut-mptcp-client-tcp-server 45003 connect --mptcp
	run tcp-client-dut-mptcp-server 45004 serve --mptcp
	run dut-client-stripped-synack 45005 connect --mptcp
	expect_mib - MPCapableFallbackSYNACK -eq 2
	# Linux announces its second address (ADD_ADDR with its HMAC): we check
	# the HMAC and echo it on a pure ACK; no subflow is opened (no path
	# manager here yet).
	run dut-client-add-addr 45006 connect --mptcp
	expect_mib - AddAddr -ge 1
	expect_mib - EchoAddTx -ge 1
	expect_mib - AddAddrDrop -eq 0
	# Linux joins us: we announce our second address (ADD_ADDR), its path
	# manager opens a subflow to it, our listener takes the MP_JOIN to the
	# connection.
	ip mptcp endpoint add "${PAIR_ADDR[2]}" dev eth1 signal
	link2_before=$(link_bytes - eth1)
	BIND=0.0.0.0 run peer-client-dut-server-join 45008 serve --mptcp
	link2=$(($(link_bytes - eth1) - link2_before))
	ip mptcp endpoint flush
	expect_mib - AddAddrTx -ge 1
	expect_mib - MPJoinSynRx -ge 1
	expect_mib - MPJoinAckRx -ge 1
	expect_zero - MPJoinAckHMacFailure MPJoinNoTokenFound MPJoinRefused SubflowReset
	expect_link2 peer-client-dut-server-join "$link2"
else
	run dut-client-peer-server 45001 serve --mptcp
	run peer-client-dut-server 45002 connect --mptcp
	expect_linux_mib MPCapableSYNRX -ge 1
	expect_linux_mib MPCapableSYNACKRX -ge 1
	expect_linux_mib MPCapableACKRX -ge 1
	for m in MPCapableFallbackACK MPCapableFallbackSYNACK MPFallbackTokenInit DSSNotMatching \
		DSSCorruptionFallback DSSCorruptionReset InfiniteMapTx InfiniteMapRx DSSNoMatchTCP \
		MPCapableDataFallback DssFallback SimultConnectFallback FallbackFailed; do
		expect_linux_mib $m -eq 0
	done
	run dut-mptcp-client-tcp-server 45003 serve
	run tcp-client-dut-mptcp-server 45004 connect
	# A middlebox in the PEER itself: its SYN/ACKs lose MP_CAPABLE.
	iptables -t mangle -A OUTPUT -p tcp --sport 45005 --tcp-flags SYN,ACK SYN,ACK -j TCPOPTSTRIP --strip-options 30
	run dut-client-stripped-synack 45005 serve --mptcp
	iptables -t mangle -F OUTPUT
	expect_linux_mib MPCapableFallbackACK -eq 1
	# A signal endpoint: Linux announces it to our client, which must echo.
	ip mptcp endpoint add "${PAIR_ADDR[2]}" dev eth1 signal
	run dut-client-add-addr 45006 serve --mptcp
	expect_linux_mib AddAddrTx -ge 1
	expect_linux_mib EchoAdd -ge 1
	ip mptcp endpoint flush
	# Linux's client accepts our announcement and joins it. Linux joins
	# only while its connection is ESTABLISHED (__mptcp_subflow_connect
	# gives up silently otherwise): a client that wrote its 3 MB and shut
	# down its write side before our ADD_ADDR came would never join. So it
	# pauses after 1 MB until it has joined (or about 2 minutes passed:
	# the DUT's server may start late).
	ip mptcp limits set subflow 2 add_addr_accepted 2
	joins_before=$(linux_mib MPJoinSynAckRx)
	rm -f "$out/joined"
	(
		for _ in $(seq 240); do
			[ "$(linux_mib MPJoinSynAckRx)" -gt "${joins_before:-0}" ] && break
			sleep 0.5
		done
		touch "$out/joined"
	) &
	waiter=$!
	run peer-client-dut-server-join 45008 connect --mptcp --pause-at 1000000 --until "$out/joined"
	wait "$waiter"
	ip mptcp limits set subflow 2 add_addr_accepted 0
	expect_linux_mib AddAddr -ge 1
	expect_linux_mib EchoAddTx -ge 1
	expect_linux_mib MPJoinSynTx -ge 1
	expect_linux_mib MPJoinSynAckRx -ge 1
	# (If Linux did not join: what it counted, its connect errors among
	# them, for the record.)
	[ "$(linux_mib MPJoinSynTx)" != 0 ] ||
		echo "# Linux MPTcpExt: $(nstat -az 2>/dev/null | awk '/^MPTcpExt/ && $2 != 0 { printf "%s=%s ", $1, $2 }')"
	for m in MPJoinSynAckHMacFailure MPRstRx MPRstTx AddAddrDrop; do
		expect_linux_mib $m -eq 0
	done
fi
tap_done

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The DUT-PEER pair itself (qemu/pair): both links carry traffic, bytes
# arrive intact in both directions, and the PEER runs Linux's own MPTCP
# (its MPTCP client falls back to TCP against a plain TCP server, and its
# counters say so). Both VMs run this script; $PAIR_ROLE says which side.
here=$(dirname "$0")
. "$here/../tests/tap.sh"
. "$here/../pair-net.sh"
xfer() { python3 -S "$here/../tests/xfer.py" "$@"; }

# Not through `check`: pair_setup sets PAIR_ADDR/PAIR_OTHER in this shell.
if pair_setup "$PAIR_ROLE"; then ok "configure the $PAIR_ROLE side of both links"; else not_ok "configure the $PAIR_ROLE side of both links"; fi
check "the other VM answers on both links" pair_wait_for_peer 180
MB=4000000

if [ "$PAIR_ROLE" = dut ]; then
	check "PEER -> DUT, 4 MB over link 1, SHA-256 checked" xfer serve --port 6001 --bind 10.1.0.1 --recv $MB
	check "DUT -> PEER, 4 MB over link 2, SHA-256 checked" xfer connect 10.2.0.2 --port 6002 --bind 10.2.0.1 --send $MB
	check "PEER's MPTCP client -> DUT's TCP server, 1 MB" xfer serve --port 6003 --bind 10.1.0.1 --recv 1000000
else
	check "PEER -> DUT, 4 MB over link 1" xfer connect 10.1.0.1 --port 6001 --bind 10.1.0.2 --send $MB
	check "DUT -> PEER, 4 MB over link 2" xfer serve --port 6002 --bind 10.2.0.2 --recv $MB
	expect_eq "Linux's own MPTCP is enabled on the PEER" 1 "$(sysctl -n net.mptcp.enabled)"
	# Counters since boot: other tests of the same boot count too, so the
	# difference is what this connection did.
	counter() { nstat -az "MPTcpExt$1" 2>/dev/null | awk -v n="MPTcpExt$1" '$1 == n {print $2}'; }
	syn0=$(counter MPCapableSYNTX) fb0=$(counter MPCapableFallbackSYNACK)
	check "PEER's MPTCP client -> DUT's TCP server, 1 MB" xfer connect 10.1.0.1 --port 6003 --mptcp --send 1000000
	# At least one: the client retries until the DUT's server listens, and
	# each SYN refused with a RST counts too (how many depends on which VM
	# is faster to start Python). The fallback below counts the connection.
	syns=$(($(counter MPCapableSYNTX) - ${syn0:-0}))
	check "the PEER sent MP_CAPABLE SYNs ($syns)" test "$syns" -ge 1
	expect_eq "and fell back to TCP on the plain SYN/ACK" 1 "$(($(counter MPCapableFallbackSYNACK) - ${fb0:-0}))"
fi
tap_done

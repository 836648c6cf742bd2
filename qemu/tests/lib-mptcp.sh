# SPDX-License-Identifier: GPL-2.0
#
# Helpers of the MPTCP VM tests: source after tap.sh.
#
#   xfer ...                qemu/tests/xfer.py (SHA-256-checked transfers)
#   mib NS NAME             the MPTcpExt counter NAME of mptcp_rs in netns NS
#                           ("-" for the current one)
#   expect_mib NS NAME OP N a TAP case: the counter compares to N (OP: -eq, -ge)
#   capture_start NS IF FILE / capture_stop
#                           tcpdump of whole TCP segments to FILE (keep it
#                           for small transfers)
#   check_capture FILE      TAP cases: MPTCP options decode in tshark with no
#                           malformed field or MPTCP warning

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
xfer() { python3 "$here/xfer.py" "$@"; }

in_ns() { # NS command...
	local ns=$1
	shift
	if [ "$ns" = - ]; then "$@"; else ip netns exec "$ns" "$@"; fi
}

mib() {
	in_ns "$1" awk -v n="$2" 'NR == 1 { for (i = 2; i <= NF; i++) name[i] = $i }
		NR == 2 { for (i = 2; i <= NF; i++) if (name[i] == n) print $i }' /proc/net/mptcp_rs
}

expect_mib() { # NS NAME OP N
	local v
	v=$(mib "$1" "$2")
	if [ -n "$v" ] && [ "$v" "$3" "$4" ]; then
		ok "ns ${1}: $2 = $v ($3 $4)"
	else
		not_ok "ns ${1}: $2 = ${v:-missing}, expected $3 $4"
	fi
}

CAPTURE_PID=
capture_start() { # NS IF FILE
	in_ns "$1" tcpdump -i "$2" -U -w "$3" tcp 2>/dev/null &
	CAPTURE_PID=$!
	sleep 2
}

capture_stop() {
	sleep 1
	[ -n "$CAPTURE_PID" ] && kill "$CAPTURE_PID" 2>/dev/null
	wait "$CAPTURE_PID" 2>/dev/null
	CAPTURE_PID=
}

check_capture() { # FILE
	local f=$1 n bad
	# Port heuristics of other dissectors must not claim our payload.
	local ts=(tshark -r "$f" -o tcp.analyze_sequence_numbers:FALSE --disable-protocol gryphon)
	n=$("${ts[@]}" -Y mptcp 2>/dev/null | wc -l)
	if [ "$n" -gt 0 ]; then ok "$(basename "$f"): $n segments carry MPTCP options"; else not_ok "$(basename "$f"): no MPTCP option captured"; fi
	n=$("${ts[@]}" -Y "tcp.options.mptcp.subtype == 0" 2>/dev/null | wc -l)
	if [ "$n" -ge 3 ]; then ok "$(basename "$f"): MP_CAPABLE on SYN, SYN/ACK and ACK ($n)"; else not_ok "$(basename "$f"): $n MP_CAPABLE options"; fi
	# Any malformed field, and any warning on a segment with MPTCP options
	# but tshark's "4 NOP in a row" heuristic (tcp.nop): Linux's own MPTCP
	# trips it with NOP NOP TS DSS NOP NOP; our layout never has four.
	bad=$("${ts[@]}" -Y "_ws.malformed || (mptcp && _ws.expert.severity >= 6291456 && !tcp.nop)" 2>/dev/null | head -5)
	if [ -z "$bad" ]; then ok "$(basename "$f"): no malformed field, no MPTCP warning"; else not_ok "$(basename "$f"): tshark reports problems"; echo "$bad" | sed 's/^/#   /'; fi
}

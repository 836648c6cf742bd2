#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# qemu-vm-args: --module --timeout 1200
#
# What a conformance suite found, each checked with crafted segments
# (qemu/tests/craft.py, scapy):
# - forged segments with the right 4-tuple and checksum but sequence numbers
#   outside the window, carrying a conflicting mapping, a DATA_FIN or an
#   MP_FASTCLOSE, change nothing: a live transfer completes intact (the
#   options of segments TCP drops are ignored, and counted);
# - an MP_CAPABLE with "B" set, without a crypto bit ("H"), with "A"
#   (checksums, which we do not do) or of another version is ignored
#   (RFC 8684, 3.1), by a listener (on the SYN and on the third ACK) and by
#   a client (on the SYN/ACK): the connection is plain TCP;
# - the DATA_ACK answering the MP_CAPABLE ACK with data covers that data,
#   before the application accepted the connection;
# - our DSS options have Linux's lengths: 22 octets on data (4-octet
#   DATA_ACK, 8-octet DSN) until the peer's data came with 64-bit DSNs, 26
#   from then on (8-octet DATA_ACK), and on a DATA_FIN after it.
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/lib-mptcp.sh"
. "$(dirname "$0")/../topo.sh"

out=${MPTCP_RS_OUT:-/tmp}
craft() { python3 "$here/craft.py" "$@"; }

check "a 1-path topology" topo_create 1
SRV=${TOPO_SRV_ADDR[1]}

# Importing scapy takes about 40 s under TCG: the two `craft.py cases`
# processes of the later sections (a client's in ns cli, a server's in ns
# srv) start now and import it while the forged-segment transfer runs; each
# reads its commands from a FIFO, written when their section comes, up to
# a line "end".
rm -f /tmp/cases.cli /tmp/cases.srv
mkfifo /tmp/cases.cli /tmp/cases.srv
cli timeout 900 python3 "$here/craft.py" cases </tmp/cases.cli >"$out/cases.json" 2>"$out/cases.err" &
cases_pid=$!
srv timeout 900 python3 "$here/craft.py" cases </tmp/cases.srv >"$out/synack.json" 2>"$out/synack.err" &
synack_pid=$!
exec 7>/tmp/cases.cli 8>/tmp/cases.srv

# --- forged segments during a transfer -------------------------------------
# wait_for FILE: until it exists (scapy takes seconds to start under TCG).
wait_for() {
	local i
	for i in $(seq 1 300); do
		[ -e "$1" ] && return 0
		sleep 0.5
	done
	return 1
}

MB=5000000
# The forger sends 10 rounds of 3 variants on each side of the window, each
# way; building them takes longer than a transfer, so both senders pause
# (the connection open) until it is done: every forged segment meets a live
# connection. Forged segments are 152 or 160 octets long: those that reach
# each end are counted too (iptables), to compare with our counter.
rm -f /tmp/forge.done
for ns in cli srv; do in_ns $ns iptables -A INPUT -p tcp -m length --length 152:160; done
rtr timeout 300 python3 "$here/craft.py" forge --iface rs1 --dst "$SRV" --dport 45100 --count 10 \
	--ready /tmp/forge.ready --done /tmp/forge.done >"$out/forged.craft.json" 2>&1 &
fpid=$!
check "the forger listens" wait_for /tmp/forge.ready
srv timeout 600 python3 -S "$here/xfer.py" serve --port 45100 --mptcp --recv $MB --send 2000000 \
	--pause-at 500000 --until /tmp/forge.done >"$out/forged.server.json" 2>&1 &
spid=$!
check "a 5 MB / 2 MB transfer completes intact under forged segments (client)" \
	cli timeout 600 python3 -S "$here/xfer.py" connect "$SRV" --port 45100 --mptcp --send $MB --recv 2000000 \
	--pause-at 1000000 --until /tmp/forge.done --retry 60
check "and the server's side" wait $spid
check "the forged segments were sent" wait $fpid
sed 's/^/# /' "$out/forged.craft.json"
for ns in cli srv; do
	echo "# ns $ns: $(in_ns $ns iptables -L INPUT -v -x -n | awk 'NR == 3 { print $1 }') segments of 152-160 octets arrived"
	in_ns $ns iptables -F INPUT
done
expect_mib srv OptionOutOfWindow -ge 60
expect_mib cli OptionOutOfWindow -ge 60
for ns in cli srv; do
	expect_zero $ns SubflowReset DSSNotMatching MPFastcloseRx DataFinMismatch
done

# --- a listener and MP_CAPABLE it must ignore ------------------------------
# The crafting end owns no socket for these connections: its kernel's RSTs go.
cli iptables -A OUTPUT -p tcp --tcp-flags RST RST -j DROP
# (Not through the srv function: its subshell would be $!, and killing it
# would leave the listener running after the namespaces are gone, holding
# the module until its timeout.)
ip netns exec srv timeout 300 python3 -S -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 45200)); s.listen(64)
time.sleep(300)  # never accepts: children stay in the accept queue
' &
lpid=$!
# Listening before the first SYN (Python takes seconds to start).
for _ in $(seq 1 60); do srv ss -ltn | grep -q ':45200 ' && break; sleep 0.5; done
# One scapy process for all of them (each start costs seconds under TCG):
# a command per line, a JSON line per command, in order.
syn_cases=("1 0x01 True valid" "1 0x41 False B set" "1 0x00 False no crypto bit"
	"1 0x81 False checksums required" "0 0x01 False version 0" "2 0x01 True version 2 (answered as 1)")
ack_cases=("1 0x01 True valid" "0 0x01 False version 0" "2 0x01 False version 2"
	"1 0x41 False B set" "1 0x00 False no crypto bit")
cmds=()
for case in "${syn_cases[@]}"; do
	read -r v f _ <<<"$case"
	cmds+=("syn --dst $SRV --dport 45200 --version $v --flags $f")
done
for case in "${ack_cases[@]}"; do
	read -r v f _ <<<"$case"
	cmds+=("third-ack --dst $SRV --dport 45200 --version $v --flags $f")
done
cmds+=("third-ack --dst $SRV --dport 45200 --data 100")
printf '%s\n' "${cmds[@]}" end >&7
exec 7>&-
wait $cases_pid
mapfile -t answers <"$out/cases.json"
i=0
for case in "${syn_cases[@]}"; do
	read -r _ _ want what <<<"$case"
	expect_eq "SYN with MP_CAPABLE $what: SYN/ACK with MP_CAPABLE $want" "$want" \
		"$(json_get "${answers[i]:-{\}}" .mp_capable)"
	i=$((i + 1))
done
for case in "${ack_cases[@]}"; do
	read -r _ _ want what <<<"$case"
	expect_eq "third ACK with MP_CAPABLE $what: MPTCP (DSS in the answer) $want" "$want" \
		"$(json_get "${answers[i]:-{\}}" .dss)"
	i=$((i + 1))
done
expect_mib srv MPCapableFallbackACK -ge 4
expect_eq "MP_CAPABLE ACK with 100 bytes, before accept(): the answer's DATA_ACK covers them" \
	True "$(json_get "${answers[i]:-{\}}" .data_ack_covers_data)"
kill $lpid 2>/dev/null
wait $lpid 2>/dev/null
cli iptables -F OUTPUT

# --- a client and the SYN/ACK -------------------------------------------------
srv iptables -A OUTPUT -p tcp --tcp-flags RST RST -j DROP
before=$(mib cli MPCapableFallbackSYNACK)
synack_cases=("1 0x01 True valid" "1 0x41 False B set" "1 0x00 False no crypto bit"
	"1 0x81 False checksums required" "0 0x01 False version 0")
cmds=()
n=0
for case in "${synack_cases[@]}"; do
	read -r v f _ <<<"$case"
	rm -f /tmp/synack.ready.$n
	cmds+=("synack --iface s1 --sport $((45300 + n)) --version $v --flags $f --ready /tmp/synack.ready.$n")
	n=$((n + 1))
done
printf '%s\n' "${cmds[@]}" end >&8
exec 8>&-
n=0
for case in "${synack_cases[@]}"; do
	port=$((45300 + n))
	wait_for /tmp/synack.ready.$n
	n=$((n + 1))
	cli timeout 8 python3 -S -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
s.settimeout(5)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
except OSError:
    pass
' "$SRV" $port
done
wait $synack_pid
mapfile -t answers <"$out/synack.json"
n=0
for case in "${synack_cases[@]}"; do
	read -r _ _ want what <<<"$case"
	expect_eq "SYN/ACK with MP_CAPABLE $what: our third ACK carries MP_CAPABLE $want" "$want" \
		"$(json_get "${answers[n]:-{\}}" .third_ack_mp_capable)"
	n=$((n + 1))
done
expect_mib cli MPCapableFallbackSYNACK -eq $((before + 4))
srv iptables -F OUTPUT

# --- DSS lengths --------------------------------------------------------------
capture_start rtr rs1 "$out/dss.pcap"
srv timeout 120 python3 -S "$here/xfer.py" serve --port 45400 --mptcp --recv 300000 --send 300000 >/dev/null 2>&1 &
spid=$!
check "a 300 kB exchange for the capture" \
	cli timeout 120 python3 -S "$here/xfer.py" connect "$SRV" --port 45400 --mptcp --send 300000 --recv 300000 --retry 30
wait $spid
# The DATA_FINs go when each end closes, after its data: the capture runs
# until the client's subflow has left ESTABLISHED (the exchange is over).
for _ in $(seq 1 30); do
	[ -z "$(cli ss -Htn state established '( sport = :45400 or dport = :45400 )')" ] && break
	sleep 1
done
capture_stop
r=$(craft dss-lengths --pcap "$out/dss.pcap")
echo "# DSS option lengths (octets: segments): $r"
# Both ends send: the first data of each may go before the other's came
# (22), the rest after it (26); so may a DATA_FIN (in one run, one of 5
# was 22 octets).
for what in data data_fin; do
	lens=$(json_get "$r" ".$what | keys | join(\",\") | if . == \"\" then \"none\" else . end")
	case $lens in
	26 | 22,26) ok "every DSS on $what is 26 octets once the peer's data came, 22 before ($lens)" ;;
	*) not_ok "every DSS on $what is 26 octets once the peer's data came, 22 before (got $lens)" ;;
	esac
done
check_capture "$out/dss.pcap"

topo_destroy
tap_done

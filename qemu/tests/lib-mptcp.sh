# SPDX-License-Identifier: GPL-2.0
#
# Helpers of the MPTCP VM tests: source after tap.sh.
#
#   xfer ...                qemu/tests/xfer.py (SHA-256-checked transfers)
#   mib NS NAME             the MPTcpExt counter NAME of mptcp_rs in netns NS
#                           ("-" for the current one); mib_all NS: all of
#                           them in the associative array MIB
#   ns_net NS               NS_NET: NS's /proc/net, read without a process
#   expect_mib NS NAME OP N a TAP case: the counter compares to N (OP: -eq, -ge)
#   expect_zero NS NAME...  a TAP case per counter: it is 0 (one read for all)
#   capture_start NS IF FILE / capture_stop
#                           tcpdump of whole TCP segments to FILE (keep it
#                           for small transfers)
#   check_capture FILE      TAP cases: MPTCP options decode in tshark with no
#                           malformed field or MPTCP warning
#   json_get JSON FILTER    the value of a jq FILTER on JSON, with booleans and
#                           null spelled as Python does (True, False, None)
#   mp_transfer[_start|_wait] NAME BYTES, each_path_carried, link_bytes,
#   established_between     multipath helpers (see their section)

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
xfer() { python3 -S "$here/xfer.py" "$@"; }

# (jq, not python3: Python takes about 3 s to start under TCG.)
json_get() {
	jq -rc "($2)"' | if . == true then "True" elif . == false then "False" elif . == null then "None" else . end' <<<"$1"
}

in_ns() { # NS command...
	local ns=$1
	shift
	if [ "$ns" = - ]; then "$@"; else ip netns exec "$ns" "$@"; fi
}

# ns_net NS: sets NS_NET to the /proc/PID/net of a process that lives in
# netns NS ("-": this one), so that NS's /proc/net files read with shell
# builtins, without `ip netns exec` and a reader (two processes, about a
# second under TCG). The process (a sleep) is started once per namespace,
# in this shell; in a subshell ($(...)) only one already started is used:
# otherwise NS_NET is empty, and callers read the old way.
declare -A NS_SLEEPER
ns_net() {
	local ns=$1 pid i
	NS_NET=
	if [ "$ns" = - ]; then
		NS_NET=/proc/$BASHPID/net
		return
	fi
	pid=${NS_SLEEPER[$ns]:-}
	if [ -n "$pid" ] && [ "/proc/$pid/ns/net" -ef "/run/netns/$ns" ]; then
		NS_NET=/proc/$pid/net
		return
	fi
	[ "$BASHPID" = $$ ] || return 0
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	# `ip netns exec` enters NS, then execs sleep in the same process.
	ip netns exec "$ns" sleep 3600 &
	pid=$!
	for i in $(seq 1 100); do
		[ "/proc/$pid/ns/net" -ef "/run/netns/$ns" ] && break
		sleep 0.02
	done
	NS_SLEEPER[$ns]=$pid
	NS_NET=/proc/$pid/net
}

# ns_sleepers_stop: ends the processes of ns_net (topo_destroy calls it).
ns_sleepers_stop() {
	local ns
	for ns in "${!NS_SLEEPER[@]}"; do kill "${NS_SLEEPER[$ns]}" 2>/dev/null; done
	NS_SLEEPER=()
}

# mib_all NS: sets MIB (an associative array) to every counter of NS.
declare -A MIB
mib_all() {
	local names values i lines=()
	MIB=()
	ns_net "$1"
	if [ -n "$NS_NET" ]; then
		mapfile -t lines <"$NS_NET/mptcp_rs"
	else
		mapfile -t lines < <(in_ns "$1" cat /proc/net/mptcp_rs)
	fi
	read -ra names <<<"${lines[0]}"
	read -ra values <<<"${lines[1]}"
	for ((i = 1; i < ${#names[@]}; i++)); do MIB[${names[i]}]=${values[i]}; done
}

mib() {
	mib_all "$1"
	echo "${MIB[$2]}"
}

# expect_zero NS NAME...: each counter is 0 (one read of the file).
expect_zero() {
	local ns=$1 m v
	shift
	mib_all "$ns"
	for m in "$@"; do
		v=${MIB[$m]}
		if [ "$v" = 0 ]; then ok "ns $ns: $m = 0"; else not_ok "ns $ns: $m = ${v:-missing}, expected 0"; fi
	done
}

expect_mib() { # NS NAME OP N
	local v
	mib_all "$1"
	v=${MIB[$2]}
	if [ -n "$v" ] && [ "$v" "$3" "$4" ]; then
		ok "ns ${1}: $2 = $v ($3 $4)"
	else
		not_ok "ns ${1}: $2 = ${v:-missing}, expected $3 $4"
	fi
}

CAPTURE_PID=
capture_start() { # NS IF FILE
	# Not through in_ns (a function: $! would be the subshell running it,
	# and killing that would leave tcpdump capturing): `ip netns exec`
	# execs tcpdump in its own process.
	if [ "$1" = - ]; then
		tcpdump -i "$2" -U -w "$3" tcp 2>/dev/null &
	else
		ip netns exec "$1" tcpdump -i "$2" -U -w "$3" tcp 2>/dev/null &
	fi
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
	local f=$1 name counts n caps bad
	name=$(basename "$f")
	# One tshark pass (its start costs 25 s under TCG): per segment, the
	# MPTCP subtypes, expert severities, whether tshark saw four NOPs in a
	# row (tcp.nop), a malformed field, the MPTCP layer, D-SACK blocks.
	# Port heuristics of other dissectors must not claim our payload.
	tshark -r "$f" -o tcp.analyze_sequence_numbers:FALSE --disable-protocol gryphon \
		-T fields -E occurrence=a -E aggregator=, -e frame.number -e tcp.options.mptcp.subtype \
		-e _ws.expert.severity -e tcp.nop -e _ws.malformed -e mptcp \
		-e tcp.options.sack.dsack >"$f.fields" 2>/dev/null
	# Any malformed field, and any warning (severity >= 6291456) on a
	# segment with MPTCP options but two of tshark's: its "4 NOP in a row"
	# heuristic (Linux's own MPTCP trips it with NOP NOP TS DSS NOP NOP; our
	# layout never has four), and its warning on each D-SACK block (TCP
	# telling its peer of a duplicate, such as a tail loss probe of a
	# segment that had arrived: seen under TCG on two CPUs).
	counts=$(awk -F'\t' '
		$6 != "" { n++ }
		("," $2 ",") ~ /,0,/ { caps++ }
		{
			warn = 0; k = split($3, sev, ",")
			for (i = 1; i <= k; i++) if (sev[i] + 0 >= 6291456) warn++
			if ($7 != "") warn -= split($7, dsack, ",")
			if ($5 != "" || ($6 != "" && warn > 0 && $4 == "")) bad = bad " " $1
		}
		END { printf "%d %d %s\n", n, caps, bad }' "$f.fields")
	read -r n caps bad <<<"$counts"
	if [ "$n" -gt 0 ]; then ok "$name: $n segments carry MPTCP options"; else not_ok "$name: no MPTCP option captured"; fi
	if [ "$caps" -ge 3 ]; then ok "$name: MP_CAPABLE on SYN, SYN/ACK and ACK ($caps)"; else not_ok "$name: $caps MP_CAPABLE options"; fi
	if [ -z "$bad" ]; then
		ok "$name: no malformed field, no MPTCP warning"
	else
		not_ok "$name: tshark reports problems in frames$(cut -d' ' -f1-10 <<<" $bad")"
	fi
}

# --- multipath (mptcp_multipath.sh, qemu/soak/multipath_failover.sh) ------
# Over qemu/topo.sh, with $port and $out set by the script.

# Bytes through an interface of a namespace ("-": this one), both ways.
link_bytes() { # NS IF
	local line f
	ns_net "$1"
	if [ -z "$NS_NET" ]; then
		in_ns "$1" cat "/sys/class/net/$2/statistics/tx_bytes" "/sys/class/net/$2/statistics/rx_bytes" |
			awk '{ s += $1 } END { print s }'
		return
	fi
	# /proc/net/dev: "  IF: rx_bytes (7 more) tx_bytes ...".
	local name
	while IFS= read -r line; do
		name=${line%%:*}
		[ "${name//[[:space:]]/}" = "$2" ] || continue
		read -ra f <<<"${line#*:}"
		echo $((f[0] + f[8]))
		return
	done <"$NS_NET/dev"
}

# mp_transfer_start NAME BYTES: both ways at once, server on every address, in
# the background; mp_transfer_wait NAME BYTES: its result, a TAP case.
mp_transfer_start() {
	local name=$1 bytes=$2
	ns_net cli
	ns_net srv
	port=$((port + 1))
	srv timeout 600 python3 -S "$here/xfer.py" serve --port $port --mptcp --send "$bytes" --recv "$bytes" \
		--label "$name" >"$out/$name.server.json" 2>&1 &
	XFER_SPID=$!
	cli timeout 600 python3 -S "$here/xfer.py" connect "${TOPO_SRV_ADDR[1]}" --port $port --mptcp \
		--send "$bytes" --recv "$bytes" --retry 60 --label "$name" >"$out/$name.client.json" 2>&1 &
	XFER_CPID=$!
}

# mp_upload_start NAME BYTES PAUSE_AT: the client sends BYTES to the server
# (nothing back), pausing after PAUSE_AT until `touch "$out/NAME.resume"`,
# in the background; mp_transfer_wait NAME BYTES "one way": its result.
mp_upload_start() {
	local name=$1 bytes=$2 pause=$3
	ns_net cli
	ns_net srv
	port=$((port + 1))
	rm -f "$out/$name.resume"
	srv timeout 300 python3 -S "$here/xfer.py" serve --port $port --mptcp --send 0 --recv "$bytes" \
		--label "$name" >"$out/$name.server.json" 2>&1 &
	XFER_SPID=$!
	cli timeout 300 python3 -S "$here/xfer.py" connect "${TOPO_SRV_ADDR[1]}" --port $port --mptcp \
		--send "$bytes" --recv 0 --pause-at "$pause" --until "$out/$name.resume" --retry 60 \
		--label "$name" >"$out/$name.client.json" 2>&1 &
	XFER_CPID=$!
}

mp_transfer_wait() {
	local name=$1 bytes=$2 way=${3:-each way} crc src
	wait $XFER_CPID
	crc=$?
	wait $XFER_SPID
	src=$?
	if [ $crc = 0 ] && [ $src = 0 ]; then
		ok "$name: $bytes bytes $way, SHA-256 matches ($(jq -r '.seconds' "$out/$name.client.json") s)"
	else
		not_ok "$name: $bytes bytes $way (client $crc, server $src)"
		sed 's/^/#   /' "$out/$name.client.json" "$out/$name.server.json" | cut -c1-300
	fi
}

mp_transfer() {
	mp_transfer_start "$@"
	mp_transfer_wait "$@"
}

# each_path_carried NAME N BEFORE...: a TAP case per path: its client link
# moved at least 64 KB since the byte counts BEFORE (of link_bytes).
each_path_carried() {
	local name=$1 n=$2 i moved
	ns_net cli
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
		if { [ "$3" = up ] && [ $n = 1 ]; } || { [ "$3" = gone ] && [ $n = 0 ]; }; then echo $i; exit; fi
		read -rt 0.1 -u 9 || :
	done
	echo never' - "$2" "$3" "$4"
}

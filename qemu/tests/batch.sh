#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs several VM test scripts in one boot (scripts/test.sh groups the
# scripts that ask for the same VM). Each script runs under its own timeout
# with its TAP output in $MPTCP_RS_OUT/NAME.tap and its wall time in seconds
# in $MPTCP_RS_OUT/NAME.time (and when each case ended in NAME.steps,
# see tap.sh); a line in the kernel log marks where each one
# starts, so that a report in the log can be traced to the script that was
# running. Between scripts, network namespaces a script left behind are
# deleted. Each script's exit status goes to $MPTCP_RS_OUT/NAME.rc; the batch
# itself exits 0 (a failed script fails itself, not the others: qemu/vm
# then fails the run only for what concerns the whole boot, the kernel log
# or a timeout).
#
#   batch.sh [--timeout-each SECONDS[,SECONDS...]] SCRIPT...
out=${MPTCP_RS_OUT:?batch.sh runs in a test VM (qemu/vm)}
timeouts=()
if [ "${1:-}" = --timeout-each ]; then
	IFS=, read -ra timeouts <<<"$2"
	shift 2
fi

i=0
for script in "$@"; do
	name=$(basename "$script" .sh)
	limit=${timeouts[i]:-600}
	i=$((i + 1))
	echo "mptcp-rs batch: $name starts" >/dev/kmsg
	start=${EPOCHREALTIME/./}
	TAP_STEPS=$out/$name.steps timeout -k 10 "$limit" "$script" >"$out/$name.tap" 2>&1
	rc=$?
	# Tenths of a second, with shell arithmetic (a process costs ~0.5 s).
	tenths=$(((${EPOCHREALTIME/./} - start) / 100000))
	echo "$((tenths / 10)).$((tenths % 10))" >"$out/$name.time"
	if [ $rc = 124 ] || [ $rc = 137 ]; then
		echo "not ok 0 - $name did not finish within ${limit}s" >>"$out/$name.tap"
	fi
	echo $rc >"$out/$name.rc"
	echo "mptcp-rs batch: $name ends (exit $rc)" >/dev/kmsg
	# Connections still ending each hold the module: a count that only
	# grows from script to script points at the one that leaks.
	held=
	if [ -e /sys/module/mptcp_rs/refcnt ]; then
		held=", module refcnt $(</sys/module/mptcp_rs/refcnt)"
		# The module's census of connections: alive, and over but alive.
		mapfile -t live </proc/net/mptcp_rs 2>/dev/null
		[ -z "${live[3]:-}" ] || held+=" (${live[3]#MPTcpRsLive: } connections alive, over)"
	fi
	echo "# $name: exit $rc in $(<"$out/$name.time") s$held"
	# What a failed script left behind must not disturb the next one:
	# processes still running in its namespaces (a server whose client
	# never came; each MPTCP socket it holds keeps a connection and the
	# module) are killed, and named, then the namespaces go.
	left=()
	for ns in $(ip netns list 2>/dev/null | cut -d' ' -f1); do
		left+=($(ip netns pids "$ns" 2>/dev/null))
	done
	if [ ${#left[@]} -gt 0 ]; then
		for pid in "${left[@]}"; do
			echo "# $name left pid $pid running: $(tr '\0' ' ' </proc/$pid/cmdline 2>/dev/null)"
		done
		kill -9 "${left[@]}" 2>/dev/null
	fi
	ip -all netns delete 2>/dev/null
done
exit 0

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# qemu-vm-args:
#
# Loading and unloading mptcp_rs 50 times: each load brings net.mptcp back in
# every namespace, each unload removes it; the harness then checks the kernel
# log and kmemleak.
. "$(dirname "$0")/tap.sh"
ko=$PWD/mptcp_rs.ko
f=/proc/sys/net/mptcp/enabled

check "modinfo shows the version" sh -c "modinfo $ko | grep -q '^version: *[0-9]'"
ip netns add lu-a
fails=0
# Few processes per round: each costs about half a second under TCG.
for i in $(seq 1 50); do
	if ! insmod "$ko"; then fails=$((fails + 1)); echo "# insmod $i failed"; continue; fi
	[ "$(<$f)" = 1 ] || { fails=$((fails + 1)); echo "# load $i: enabled not 1 in init_net"; }
	if [ $((i % 10)) = 0 ]; then
		[ "$(ip netns exec lu-a cat $f)" = 1 ] || { fails=$((fails + 1)); echo "# load $i: no sysctl in lu-a"; }
		# A namespace born while loaded, gone before unload.
		ip netns add lu-b && ip netns exec lu-b sysctl -q -w net.mptcp.enabled=0 && ip netns del lu-b
	fi
	if ! rmmod mptcp_rs; then fails=$((fails + 1)); echo "# rmmod $i failed"; continue; fi
	[ ! -e $f ] || { fails=$((fails + 1)); echo "# unload $i: $f still there"; }
done
expect_eq "50 loads and unloads without error" 0 $fails
ip netns del lu-a
check "no mptcp_rs left in /proc/modules" sh -c "! grep -q '^mptcp_rs ' /proc/modules"
n=$(dmesg | grep -c 'mptcp_rs .* loaded' || true)
expect_eq "the module logged 50 loads" 50 "$n"
tap_done

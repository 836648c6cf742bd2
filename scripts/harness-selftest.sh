#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Self-tests of the test harness: a checker that cannot fail is worse than
# none. Prints TAP.
#
#   scripts/harness-selftest.sh        the log checkers, on sample logs (fast)
#   scripts/harness-selftest.sh --vm   real VMs: a WARNING, a KASAN report, a
#                                      leak, a failing command, a timeout and a
#                                      failing KUnit case must each fail the run
. "$(dirname "$0")/lib.sh"
. "$REPO/qemu/tests/tap.sh"
set +e

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
kunit_py=$(kernel_src_dir)/tools/testing/kunit/kunit.py
ktap_pass=$REPO/scripts/testdata/ktap-pass.log

fails() { ! "$@" >/dev/null 2>&1; }

if [ "${1:-}" != --vm ]; then
	# check-dmesg: passes a clean log, fails on each kind of report.
	printf '[    0.000000] Linux version 6.12.117\n[    1.000000] mptcp_rs: loaded\n' >"$tmp/clean"
	check "check-dmesg passes a clean log" "$REPO/qemu/check-dmesg" "$tmp/clean"
	check "check-dmesg fails a missing log" fails "$REPO/qemu/check-dmesg" "$tmp/missing"
	while IFS= read -r report; do
		{ cat "$tmp/clean"; echo "[    2.000000] $report"; } >"$tmp/bad"
		check "check-dmesg catches: $report" fails "$REPO/qemu/check-dmesg" "$tmp/bad"
	done <<'EOF'
WARNING: CPU: 1 PID: 42 at net/ipv4/tcp_output.c:1234 tcp_transmit_skb+0x1/0x2
BUG: KASAN: slab-use-after-free in sk_free+0x10/0x20
BUG: unable to handle page fault for address: ffff888000000000
Oops: general protection fault, probably for non-canonical address 0xdead: 0000 [#1] SMP KASAN
kernel BUG at net/core/skbuff.c:100!
WARNING: possible circular locking dependency detected
BUG: sleeping function called from invalid context at mm/slab.h:1
unreferenced object 0xffff888005b0c000 (size 64):
kmemleak: 1 new suspected memory leaks (see /sys/kernel/debug/kmemleak)
rcu: INFO: rcu_preempt self-detected stall on CPU
INFO: task kworker/0:1:12 blocked for more than 120 seconds.
Kernel panic - not syncing: Fatal exception
rust_kernel: panicked at net-mptcp/core/src/option.rs:10:5:
EOF

	# ktap-count: counts real KTAP from the DUT, fails on failures and crashes.
	counts=$(python3 "$REPO/scripts/ktap-count.py" "$kunit_py" "$ktap_pass" 2>/dev/null)
	expect_eq "ktap-count counts a passing log" "10 0 0 2" "$counts"
	sed 's/    ok 4 mapping_table_vectors/    not ok 4 mapping_table_vectors/' "$ktap_pass" >"$tmp/ktap-fail"
	check "ktap-count fails a log with a failing case" fails python3 "$REPO/scripts/ktap-count.py" "$kunit_py" "$tmp/ktap-fail"
	counts=$(python3 "$REPO/scripts/ktap-count.py" "$kunit_py" "$tmp/ktap-fail" 2>/dev/null)
	expect_eq "ktap-count counts the failing case" "9 1 0 2" "$counts"
	grep -v 'ok 2 mptcp_rs_pernet\|enabled_by_default\|pernet: pass' "$ktap_pass" >"$tmp/ktap-crash"
	check "ktap-count fails a log cut short (crash)" fails python3 "$REPO/scripts/ktap-count.py" "$kunit_py" "$tmp/ktap-crash"
	check "ktap-count fails a log without KUnit results" fails python3 "$REPO/scripts/ktap-count.py" "$kunit_py" "$tmp/clean"

	# setup.sh on a machine that never ran it: the cache directory does not
	# exist and a package is missing. Stand-ins early on PATH: dpkg-query
	# reports socat as not installed, apt-get and sudo succeed without doing
	# anything, cargo "installs" a bindgen that reports the pinned version.
	stub=$tmp/stub-bin
	mkdir -p "$stub"
	cat >"$stub/dpkg-query" <<-'EOF'
		#!/bin/sh
		# dpkg-query -W -f='${Status}' PACKAGE (or '${Version}' linux-source-6.12)
		for a; do pkg=$a; done
		case $* in
		*Version*) echo 6.12.117 ;;
		*) [ "$pkg" = socat ] && echo "deinstall ok config-files" || echo "install ok installed" ;;
		esac
	EOF
	cat >"$stub/apt-get" <<-'EOF'
		#!/bin/sh
		echo "stand-in apt-get $*"
	EOF
	cat >"$stub/sudo" <<-'EOF'
		#!/bin/sh
		exec "$@"
	EOF
	cat >"$stub/cargo" <<-'EOF'
		#!/bin/sh
		# cargo install ... --root DIR: a bindgen that reports the pinned version.
		root=
		while [ $# -gt 0 ]; do [ "$1" = --root ] && root=$2; shift; done
		if [ -n "$root" ]; then
			mkdir -p "$root/bin"
			printf '#!/bin/sh\necho "bindgen %s"\n' "$MPTCP_RS_STUB_BINDGEN" >"$root/bin/bindgen"
			chmod +x "$root/bin/bindgen"
		fi
	EOF
	chmod +x "$stub"/*
	new_cache=$tmp/never-made/cache
	MPTCP_RS_CACHE=$new_cache MPTCP_RS_STUB_BINDGEN=$BINDGEN_VERSION PATH="$stub:$PATH" \
		"$REPO/scripts/setup.sh" >"$tmp/setup.out" 2>&1
	rc=$?
	expect_eq "setup.sh with no cache directory and a missing package exits 0" 0 "$rc"
	[ $rc = 0 ] || sed 's/^/#   /' "$tmp/setup.out"
	check "setup.sh installed the missing package (apt-get log in the new cache)" \
		grep -q 'stand-in apt-get install .*socat' "$new_cache/apt-install.log"
	check "setup.sh left the apt-get update log in the new cache" \
		grep -q 'stand-in apt-get update' "$new_cache/apt-update.log"
	tap_done
	exit
fi

# --- real VMs -------------------------------------------------------------
# One boot provokes each problem in turn (a boot costs a minute under TCG):
# a WARNING, a KASAN report and a leak, then the command fails. The run must
# fail, naming the command's exit status and the leak; the kernel log is cut
# at the marks between the provocations, and check-dmesg must fail each
# piece on its own, the piece before the first one being clean.
"$REPO/qemu/vm" --timeout 300 --out "$tmp/vm" -- sh -c '
	modprobe lkdtm
	echo "selftest: warning" >/dev/kmsg
	echo WARNING >/sys/kernel/debug/provoke-crash/DIRECT
	echo "selftest: kasan" >/dev/kmsg
	echo READ_AFTER_FREE >/sys/kernel/debug/provoke-crash/DIRECT
	echo "selftest: leak" >/dev/kmsg
	modprobe kmemleak-test && rmmod kmemleak-test
	echo "selftest: end" >/dev/kmsg
	false' >"$tmp/vm.out" 2>&1
vm_rc=$?
check "a failing run fails" test $vm_rc != 0
check "a failing command fails the run" grep -q "the command exited with 1" "$tmp/vm.out"
check "a memory leak fails the run" grep -q "kmemleak reports leaks" "$tmp/vm.out"
piece() { # FROM TO: the kernel log between two marks
	awk -v from="$1" -v to="$2" 'index($0, to) { on = 0 } on { print } index($0, from) { on = 1 }' \
		"$tmp/vm/dmesg.txt" >"$tmp/piece"
	[ -s "$tmp/piece" ] || echo "[    0.000000] (empty piece)" >"$tmp/piece"
}
awk '/selftest: warning/ { exit } { print }' "$tmp/vm/dmesg.txt" >"$tmp/piece"
check "the kernel log before the provocations is clean" "$REPO/qemu/check-dmesg" "$tmp/piece"
piece "selftest: warning" "selftest: kasan"
check "a WARNING in the kernel log fails the run" fails "$REPO/qemu/check-dmesg" "$tmp/piece"
piece "selftest: kasan" "selftest: leak"
check "a KASAN report fails the run" fails "$REPO/qemu/check-dmesg" "$tmp/piece"
check "a VM that does not finish in time fails" fails "$REPO/qemu/vm" --no-kmemleak --timeout 30 \
	--out "$tmp/vm" -- sleep 600

# A module whose KUnit vectors are made to fail: the kunit level must fail.
src=$tmp/src
mkdir -p "$src"
copy_module_sources "$src"
kdir=$("$REPO/scripts/kernel.sh" dut --dir)
# shellcheck disable=SC2046
if make -C "$kdir" M="$src" $(kmake_args) MPTCP_RS_KUNIT_FAIL=1 -j"$JOBS" modules >"$tmp/build.log" 2>&1; then
	# (A boot costs a minute under TCG: this one also shows that a run
	# whose command and kernel log are clean passes; KUnit's verdict is
	# the kunit level's, not the VM runner's.)
	check "a VM run passes when all is well" "$REPO/qemu/vm" --no-kmemleak --timeout 240 \
		--out "$tmp/vm" --ko "$src/mptcp_rs.ko" -- true
	counts=$(python3 "$REPO/scripts/ktap-count.py" "$kunit_py" "$tmp/vm/dmesg.txt" 2>/dev/null)
	rc=$?
	read -r _ failed _ <<<"${counts:-0 0 0}"
	# Both: the counter exits non-zero, and because it counted failed cases
	# (not because it found nothing to count).
	if [ $rc != 0 ] && [ "${failed:-0}" -gt 0 ]; then
		ok "failing KUnit cases fail the count (passed failed skipped suites: $counts)"
	else
		not_ok "failing KUnit cases fail the count: exit $rc, counts '$counts'"
	fi
else
	not_ok "build the module with MPTCP_RS_KUNIT_FAIL=1"
	tail -20 "$tmp/build.log" | sed 's/^/#   /'
fi
tap_done

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make test`: sets up what is missing, builds what changed, and runs every
# test at three levels:
#   host   cargo test of the protocol core, rustfmt and clippy (scripts/lint.sh;
#          the module build itself runs clippy), self-tests of this harness;
#   kunit  the module's KUnit suites, run by the DUT kernel when it loads
#          mptcp_rs, counted from the KTAP in the kernel log;
#   vm     functional tests (qemu/tests/*.sh, TAP) in DUT (and PEER) VMs.
# Prints the counts of each level; exits 1 if any case anywhere failed, a VM
# timed out, or a kernel log reported a problem.
#
#   scripts/test.sh [host|kunit|vm ...]     only these levels (default all)
. "$(dirname "$0")/lib.sh"
LOG_TAG=test

levels=("$@")
[ ${#levels[@]} -gt 0 ] || levels=(host kunit vm)
want() { [[ " ${levels[*]} " == *" $1 "* ]]; }

t0=$SECONDS
results=$REPO/results/test-$(date +%Y%m%d-%H%M%S)
mkdir -p "$results"
ln -sfn "$results" "$REPO/results/latest"

"$REPO/scripts/setup.sh"
"$REPO/scripts/kernel.sh" dut
"$REPO/scripts/module.sh" >"$results/module-build.txt" 2>&1 ||
	{ cat "$results/module-build.txt" >&2; die "module build failed"; }
log "build and set-up: $(fmt_secs $((SECONDS - t0)))"

# The PEER kernel is needed only by the pair batch, which runs last. On a
# cold run it builds in the background, at the lowest priority, while the
# host, KUnit and DUT levels run: a TCG guest keeps about one of the two
# cores busy, and the build takes what is left. (Built already: a second.)
peer_pid=
if want vm; then
	nice -n 19 "$REPO/scripts/kernel.sh" peer >"$results/kernel-peer.txt" 2>&1 &
	peer_pid=$!
fi

declare -A passed failed detail
failures=()
record() { # level passed failed detail
	passed[$1]=$((${passed[$1]:-0} + $2))
	failed[$1]=$((${failed[$1]:-0} + $3))
	detail[$1]="${detail[$1]:-}$4"
}

# Counts TAP lines of FILE: prints "passed failed".
tap_count() {
	local p f
	p=$(grep -cE '^ok [0-9]+' "$1" || true)
	f=$(grep -cE '^not ok [0-9]+' "$1" || true)
	echo "$p $f"
}

# --- host ---------------------------------------------------------------
if want host; then
	t=$SECONDS
	out=$results/host-cargo.txt
	if (cd "$REPO/net-mptcp/core" && CARGO_TARGET_DIR=$CARGO_TARGET \
		cargo test --locked --offline --all-targets 2>&1) >"$out"; then cargo_ok=1; else cargo_ok=0; fi
	p=$(awk '/^test result:/ {s += $4} END {print s + 0}' "$out")
	f=$(awk '/^test result:/ {s += $6} END {print s + 0}' "$out")
	if [ $cargo_ok = 0 ] && [ "$f" = 0 ]; then
		f=1 # a build error or a crash: no result line says so
		tail -n 30 "$out" >&2
	fi
	[ "$f" = 0 ] || failures+=("host: cargo test ($out)")
	record host "$p" "$f" "cargo test $p/$((p + f))"

	out=$results/host-lint.txt
	"$REPO/scripts/lint.sh" >"$out" 2>&1 || true
	read -r p f < <(tap_count "$out")
	[ "$f" = 0 ] && [ "$p" -gt 0 ] || { failures+=("host: lint ($out)"); grep -A8 '^not ok' "$out" >&2 || true; }
	record host "$p" "$f" ", lint $p/$((p + f))"

	out=$results/host-harness.txt
	"$REPO/scripts/harness-selftest.sh" >"$out" 2>&1 || true
	read -r p f < <(tap_count "$out")
	[ "$f" = 0 ] && [ "$p" -gt 0 ] || { failures+=("host: harness self-test ($out)"); grep -A3 '^not ok' "$out" >&2 || true; }
	record host "$p" "$f" ", harness $p/$((p + f))"
	log "host level: ${passed[host]} passed, ${failed[host]} failed in $(fmt_secs $((SECONDS - t)))"
fi

# --- kunit --------------------------------------------------------------
# The module's KUnit suites run whenever it loads. With the VM level, they
# are counted from the kernel log of the first VM batch that boots with the
# module loaded (a boot saved); otherwise, or if no batch does, from a boot
# of their own.
count_kunit() { # DMESG VM_OK FROM
	local dmesg=$1 vm_ok=$2 from=$3 counts p f s suites
	local kunit_py
	kunit_py=$(kernel_src_dir)/tools/testing/kunit/kunit.py
	if counts=$(python3 "$REPO/scripts/ktap-count.py" "$kunit_py" "$dmesg" 2>"$dmesg.ktap-count"); then :; else
		cat "$dmesg.ktap-count" >&2
		failures+=("kunit: failing or missing cases ($dmesg)")
	fi
	read -r p f s suites <<<"${counts:-0 0 0 0}"
	[ "$vm_ok" = 1 ] || { failures+=("kunit: VM run failed ($(dirname "$dmesg"))"); [ "$f" != 0 ] || f=1; }
	record kunit "$p" "$f" "$suites suites, from $from"
	log "kunit level: $p passed, $f failed, $s skipped in $suites suites (from $from)"
}
kunit_own_boot() {
	local t=$SECONDS out=$results/kunit vm_ok=1
	"$REPO/qemu/vm" --module --name kunit --timeout 300 --out "$out" -- true || vm_ok=0
	count_kunit "$out/dmesg.txt" $vm_ok "a boot of its own, $(fmt_secs $((SECONDS - t)))"
}
kunit_pending=0
if want kunit; then
	if want vm; then kunit_pending=1; else kunit_own_boot; fi
fi

# --- vm -----------------------------------------------------------------
# Records one script's TAP (from one or two VMs: a pair) under NAME, and a
# failure if its VM run failed (timeout, kernel log) or the script exited
# non-zero (NAME.rc beside its TAP) although no case did, or if it printed
# no TAP at all.
record_vm() { # name vm_ok outputs...
	local name=$1 vm_ok=$2 p=0 f=0 out tp tf rc
	shift 2
	for out in "$@"; do
		read -r tp tf < <(tap_count "$out" 2>/dev/null || echo "0 0")
		p=$((p + tp)) f=$((f + tf))
		while IFS= read -r line; do
			echo "[$name] $line" >&2
			failures+=("vm: [$name] $line")
		done < <(awk '/^not ok/ { if (l) print l; l = $0; n = 0; next }
			l && /^ *#/ && n < 3 { l = l " | " $0; n++; next }
			l { print l; l = "" } END { if (l) print l }' "$out" 2>/dev/null)
		rc=$(cat "${out%.tap}.rc" 2>/dev/null || echo 0)
		if [ "$rc" != 0 ] && [ "$tf" = 0 ]; then
			failures+=("vm: $name exited with $rc ($out)")
			f=$((f + 1))
		fi
	done
	if [ "$vm_ok" = 0 ]; then
		failures+=("vm: $name ($(dirname "$1"))")
		[ "$f" != 0 ] || f=1
	elif [ "$p" = 0 ]; then
		failures+=("vm: $name printed no TAP result ($(dirname "$1"))")
		f=1
	fi
	record vm "$p" "$f" ""
}

# The wall time of each VM script (inside its VM) and of each boot, for the
# summary: a regression in either shows there.
declare -A script_time
boot_times=()

# Runs a batch of scripts in one boot of `qemu/vm ARGS` (or of qemu/pair),
# each under its own timeout; records each script. A kernel log report or
# a VM failure fails every script of the batch (the log says which one was
# running: qemu/tests/batch.sh marks each start).
run_batch() { # label pair|vm "args" timeouts scripts...
	local label=$1 kind=$2 args=$3 timeouts=$4 t=$SECONDS vm_ok=1 out name s total=0
	shift 4
	local names=() tmo
	IFS=, read -ra tmo <<<"$timeouts"
	for s in "${tmo[@]}"; do total=$((total + s)); done
	for s in "$@"; do names+=("$(basename "$s" .sh)"); done
	out=$results/vm-$label
	local job=("$REPO/qemu/tests/batch.sh" --timeout-each "$timeouts" "$@")
	log "vm batch $label: ${names[*]}"
	if [ "$kind" = pair ]; then
		"$REPO/qemu/pair" --timeout $((total + 180)) --out "$out" \
			--dut "${job[*]}" --peer "${job[*]}" || vm_ok=0
	else
		# shellcheck disable=SC2086
		"$REPO/qemu/vm" $args --timeout $((total + 120)) --name "$label" --out "$out" \
			-- "${job[@]}" || vm_ok=0
	fi
	# Why the run failed, in the summary (CI shows its tail): the guest's
	# exit status and the first report of its init (an rmmod refused).
	if [ "$vm_ok" = 0 ]; then
		local why
		why=$(cat "$out/rc" "$out/dut/rc" 2>/dev/null | tr '\n' ' ')
		why="exit ${why:-none}; $(grep -a -h -m1 '^guest-init: rmmod' "$out/console.log" "$out/dut/console.log" 2>/dev/null | cut -d: -f2- | head -n1)"
		failures+=("vm: $label failed: $why")
	fi
	local times=""
	for name in "${names[@]}"; do
		if [ "$kind" = pair ]; then
			record_vm "pair-$name" $vm_ok "$out/dut/$name.tap" "$out/peer/$name.tap"
			script_time[pair-$name]=$(cat "$out/dut/$name.time" 2>/dev/null || echo -)
			times+="$name ${script_time[pair-$name]} s, "
		else
			record_vm "$name" $vm_ok "$out/$name.tap"
			script_time[$name]=$(cat "$out/$name.time" 2>/dev/null || echo -)
			times+="$name ${script_time[$name]} s, "
		fi
	done
	if [ "$kunit_pending" = 1 ] && [ "$kind" = vm ] && [[ " $args " == *" --module "* ]]; then
		count_kunit "$out/dmesg.txt" 1 "the boot of $label"
		kunit_pending=0
	fi
	# Now, not only in the summary: a run cut short still shows them.
	log "vm batch $label took $(fmt_secs $((SECONDS - t))): ${times%, }"
	boot_times+=("$label $((SECONDS - t))")
}

if want vm; then
	t=$SECONDS
	runs=0
	# Scripts that ask for the same VM ("# qemu-vm-args:", but for their
	# --timeout) share one boot, in name order; each keeps its timeout.
	declare -A batch_scripts batch_timeouts
	batch_keys=()
	for test in "$REPO"/qemu/tests/*.sh; do
		grep -q '^# qemu-vm-args:' "$test" || continue
		args=$(sed -n 's/^# qemu-vm-args:\(.*\)/\1/p' "$test")
		tmo=$(sed -n 's/.*--timeout \([0-9]*\).*/\1/p' <<<"$args")
		# (Prefixed: bash refuses an empty key.)
		key=vm:$(sed -e 's/--timeout [0-9]*//' -e 's/  */ /g' -e 's/^ //' -e 's/ $//' <<<"$args")
		[ -n "${batch_scripts[$key]+x}" ] || batch_keys+=("$key")
		batch_scripts[$key]+="$test "
		batch_timeouts[$key]+="${tmo:-600},"
	done
	n=0
	for key in "${batch_keys[@]}"; do
		n=$((n + 1))
		# shellcheck disable=SC2086
		run_batch "batch$n" vm "${key#vm:}" "${batch_timeouts[$key]%,}" ${batch_scripts[$key]}
		runs=$((runs + 1))
	done
	[ "$kunit_pending" = 0 ] || kunit_own_boot
	out=$results/vm-harness
	mkdir -p "$out"
	vm_ok=1
	th=$SECONDS
	"$REPO/scripts/harness-selftest.sh" --vm >"$out/output.txt" 2>&1 || vm_ok=0
	record_vm harness $vm_ok "$out/output.txt"
	script_time[harness]=$((SECONDS - th))
	boot_times+=("harness $((SECONDS - th))")
	runs=$((runs + 1))
	pair_scripts=() pair_timeouts=""
	for test in "$REPO"/qemu/pair-tests/*.sh; do
		[ -x "$test" ] || continue
		pair_scripts+=("$test")
		pair_timeouts+="$(sed -n 's/^# pair-timeout: *\([0-9]*\)/\1/p' "$test" | grep . || echo 600),"
	done
	# The PEER kernel, if it is still building.
	tw=$SECONDS
	if [ -n "$peer_pid" ] && ! wait "$peer_pid"; then
		cat "$results/kernel-peer.txt" >&2
		failures+=("vm: the PEER kernel did not build ($results/kernel-peer.txt)")
		pair_scripts=()
	fi
	log "PEER kernel ready (waited $(fmt_secs $((SECONDS - tw))))"
	if [ ${#pair_scripts[@]} -gt 0 ]; then
		run_batch pair pair "" "${pair_timeouts%,}" "${pair_scripts[@]}"
		runs=$((runs + 1))
	fi
	detail[vm]="${#script_time[@]} scripts in $runs runs"
	log "vm level: ${passed[vm]:-0} passed, ${failed[vm]:-0} failed in $(fmt_secs $((SECONDS - t)))"
fi

echo
echo "=== mptcp-rs test summary ($(fmt_secs $((SECONDS - t0))), results in $results) ==="
total_failed=0
for level in host kunit vm; do
	want $level || continue
	printf '  %-6s %4d passed  %3d failed   %s\n' "$level" "${passed[$level]:-0}" \
		"${failed[$level]:-0}" "${detail[$level]:-}"
	total_failed=$((total_failed + ${failed[$level]:-0}))
done
if want vm; then
	echo "  VM scripts by wall time in their VM (s), slowest first:"
	for name in "${!script_time[@]}"; do echo "${script_time[$name]} $name"; done |
		sort -rn | awk '{ printf "    %7s  %s\n", $1, $2 }'
	echo "  VM runs, boot to power-off (s): ${boot_times[*]}"
fi
for f in "${failures[@]}"; do echo "  FAILED: $f"; done
if [ $total_failed = 0 ] && [ ${#failures[@]} = 0 ]; then
	echo "  PASS"
	exit 0
fi
echo "  FAIL"
exit 1

# SPDX-License-Identifier: GPL-2.0
# TAP output for the VM tests: source it, call `check` or `ok`/`not_ok` per
# case, `tap_done` at the end (prints the plan; exits 1 if any case failed).

TAP_N=0
TAP_FAILED=0

# With TAP_STEPS set (qemu/tests/batch.sh), each case also appends "MS N
# DESCRIPTION" there (MS: milliseconds since the script started, a builtin:
# no process), so that the slow cases of a slow script can be found.
TAP_T0=${EPOCHREALTIME/./}
tap_step() {
	[ -z "${TAP_STEPS:-}" ] || echo "$(((${EPOCHREALTIME/./} - TAP_T0) / 1000)) $TAP_N $*" >>"$TAP_STEPS"
}
ok() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $*"; tap_step "$*"; }
not_ok() { TAP_N=$((TAP_N + 1)); TAP_FAILED=$((TAP_FAILED + 1)); echo "not ok $TAP_N - $*"; tap_step "$*"; }

# check "description" command...: one case, passing if the command succeeds.
# The command runs in this shell (not a subshell), so that functions like
# topo_create can set variables.
TAP_LOG=$(mktemp)
check() {
	local desc=$1
	shift
	if "$@" >"$TAP_LOG" 2>&1; then
		ok "$desc"
	else
		not_ok "$desc"
		echo "#   command: $*"
		head -c 2000 "$TAP_LOG" | sed 's/^/#   /'
	fi
}

# expect_eq "description" expected actual
expect_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; echo "#   expected '$2', got '$3'"; fi
}

tap_done() {
	echo "1..$TAP_N"
	[ $TAP_FAILED = 0 ]
}

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds mptcp_rs.ko out of tree against the DUT kernel (which must be built:
# scripts/kernel.sh dut). Kbuild rebuilds only what changed.
#   scripts/module.sh [clean]
. "$(dirname "$0")/lib.sh"
LOG_TAG=module

kdir=$("$REPO/scripts/kernel.sh" dut --dir)
[ -f "$kdir/.mptcp-rs-built" ] || die "the DUT kernel is not built: scripts/kernel.sh dut"
# shellcheck disable=SC2046
kmake() { make -C "$kdir" M="$REPO" $(kmake_args) "$@"; }

if [ "${1:-}" = clean ]; then
	kmake clean
	exit 0
fi
start=$SECONDS
# CLIPPY=1: every build of the module is linted by clippy with the kernel's
# own lint set, and our Kbuild makes its warnings errors.
kmake -j"$JOBS" CLIPPY=1 modules
log "mptcp_rs.ko built in $(fmt_secs $((SECONDS - start)))"

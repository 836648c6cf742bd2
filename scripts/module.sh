#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds mptcp_rs.ko out of tree against the DUT kernel (which must be built:
# scripts/kernel.sh dut). Kbuild rebuilds only what changed.
#   scripts/module.sh [clean]
#   scripts/module.sh --kernel bench   against the BENCH kernel (make bench),
#                        in a copy of the sources under the cache (Kbuild
#                        writes its objects beside them); prints the .ko's path
. "$(dirname "$0")/lib.sh"
LOG_TAG=module

flavour=dut
if [ "${1:-}" = --kernel ]; then
	flavour=${2:?usage: module.sh --kernel FLAVOUR}
	shift 2
fi
kdir=$("$REPO/scripts/kernel.sh" "$flavour" --dir)
[ -f "$kdir/.mptcp-rs-built" ] || die "the $flavour kernel is not built: scripts/kernel.sh $flavour"
src=$REPO
if [ "$flavour" != dut ]; then
	src=$CACHE/module-$flavour
	rm -rf "$src"
	mkdir -p "$src"
	copy_module_sources "$src"
fi
# shellcheck disable=SC2046
kmake() { make -C "$kdir" M="$src" $(kmake_args) "$@"; }

if [ "${1:-}" = clean ]; then
	kmake clean
	exit 0
fi
start=$SECONDS
# CLIPPY=1: every build of the module is linted by clippy with the kernel's
# own lint set, and our Kbuild makes its warnings errors.
kmake -j"$JOBS" CLIPPY=1 modules
log "mptcp_rs.ko built against the $flavour kernel in $(fmt_secs $((SECONDS - start)))"
[ "$flavour" = dut ] || echo "$src/mptcp_rs.ko"

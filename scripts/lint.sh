#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The hygiene checks of a Rust-for-Linux tree, as TAP (run by `make test`'s
# host level and by `make lint`):
# - rustfmt with the kernel's settings (.rustfmt.toml, a copy of linux's) on
#   the module (its crate root and every file it includes) and on the core
#   crate, its tests and fuzz targets: any difference fails;
# - clippy on the core crate (all targets, warnings are errors);
# - clippy on the module: scripts/module.sh always builds with the kernel's
#   `CLIPPY=1` and our Kbuild makes warnings errors, so the module build
#   fails on a clippy warning (that build runs before the test levels).
#
#   scripts/lint.sh [--fix]     --fix rewrites the files instead of checking
. "$(dirname "$0")/lib.sh"
. "$REPO/qemu/tests/tap.sh"
LOG_TAG=lint
set +e

mode=--check
[ "${1:-}" = --fix ] && mode=

fmt_module() {
	rustfmt --edition 2021 --color never --config-path "$REPO/.rustfmt.toml" $mode \
		"$REPO/net-mptcp/mptcp_rs_main.rs"
}
fmt_core() { (cd "$REPO/net-mptcp/core" && cargo fmt --all -- --color never $mode); }
fmt_fuzz() {
	rustfmt --edition 2021 --color never --config-path "$REPO/.rustfmt.toml" $mode \
		"$REPO"/net-mptcp/core/fuzz/fuzz_targets/*.rs
}
clippy_core() {
	(cd "$REPO/net-mptcp/core" && CARGO_TARGET_DIR=$CARGO_TARGET \
		cargo clippy --locked --offline --all-targets -- -D warnings)
}

check "rustfmt: the module (net-mptcp/, rust/, kunit-tests/, the core it includes)" fmt_module
check "rustfmt: the core crate and its tests" fmt_core
check "rustfmt: the fuzz targets" fmt_fuzz
check "clippy: the core crate, all targets, no warning" clippy_core
tap_done

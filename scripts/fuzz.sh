#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Reruns the cargo-fuzz targets of the protocol core (net-mptcp/core/fuzz)
# on their committed corpora, one job each (the machine has 2 cores).
#
#   scripts/fuzz.sh [target|all] [seconds]
#
# target   one of `cargo +nightly fuzz list` (default: all, one after another)
# seconds  how long each target runs (default 60)
#
# New inputs that widen coverage are added to fuzz/corpus/<target>/; before
# committing them, minimize the corpus with
#   (cd net-mptcp/core && cargo +nightly fuzz cmin <target>)
# A crash stops the run with the failing input in fuzz/artifacts/<target>/
# (ignored by git): fix the code and add the input as a regression vector to
# the target module's selftest.
. "$(dirname "$0")/lib.sh"
LOG_TAG=fuzz

target=${1:-all}
secs=${2:-60}
[[ $secs =~ ^[0-9]+$ ]] || die "seconds must be a whole number, not '$secs'"

# cargo-fuzz needs a nightly toolchain (sanitizer flags); it is not pinned
# like the kernel's rustc, any installed nightly does.
rustup toolchain list | grep -q '^nightly' ||
	die "cargo fuzz needs a nightly toolchain: rustup toolchain install nightly --profile minimal"
if ! command -v cargo-fuzz >/dev/null; then
	log "installing cargo-fuzz"
	cargo install cargo-fuzz --locked >&2
fi

cd "$REPO/net-mptcp/core"
# Builds stay out of the repository.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$CARGO_TARGET-fuzz}

mapfile -t all < <(cargo +nightly fuzz list)
[ ${#all[@]} -gt 0 ] || die "cargo fuzz list found no target"
if [ "$target" = all ]; then
	targets=("${all[@]}")
elif [[ " ${all[*]} " == *" $target "* ]]; then
	targets=("$target")
else
	die "no fuzz target '$target'; targets: ${all[*]}"
fi

for t in "${targets[@]}"; do
	mkdir -p "fuzz/corpus/$t"
	log "fuzzing $t for ${secs}s from $(find "fuzz/corpus/$t" -type f | wc -l) corpus inputs"
	cargo +nightly fuzz run "$t" -- \
		-max_total_time="$secs" -print_final_stats=1
done
log "done: ${targets[*]}"

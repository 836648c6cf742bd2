# SPDX-License-Identifier: GPL-2.0
# Shared settings for the mptcp-rs scripts. Source it; do not run it.
#
# Everything that is downloaded or built outside the repository lives under
# $MPTCP_RS_CACHE (default ~/.cache/mptcp-rs), keyed by version and config:
#   src/linux-<ver>/           the Debian 6.12 source, unpacked once
#   kernels/<flavour>-<key>/   kernel build trees (O=), one per config key
#   tools/                     bindgen-cli
#   module/<key>/              out-of-tree module builds

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${MPTCP_RS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mptcp-rs}

# Pinned tools.
RUST_TOOLCHAIN=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' "$REPO/rust-toolchain.toml")
BINDGEN_VERSION=0.72.1
LLVM_SUFFIX=-16
KERNEL_TARBALL=/usr/src/linux-source-6.12.tar.xz

# Cargo's build directory for the core, one per checkout: cargo decides
# what is fresh from the files the last build read, so two clones sharing
# one directory would run each other's test binaries.
CARGO_TARGET=$CACHE/cargo-target/$(printf '%s' "$REPO" | sha256sum | cut -c1-12)

BINDGEN_ROOT=$CACHE/tools/bindgen-$BINDGEN_VERSION
BINDGEN=$BINDGEN_ROOT/bin/bindgen

export RUSTUP_TOOLCHAIN=$RUST_TOOLCHAIN
export LIBCLANG_PATH=/usr/lib/llvm${LLVM_SUFFIX}/lib
export PATH=$HOME/.cargo/bin:$PATH

JOBS=${JOBS:-$(nproc)}

# Arguments every kernel-tree make (kernel or module) gets.
kmake_args() {
	echo "LLVM=$LLVM_SUFFIX" "BINDGEN=$BINDGEN" \
		"RUSTC=$(rustup which rustc)" "RUSTDOC=$(rustup which rustdoc)" \
		"RUSTFMT=$(rustup which rustfmt)" "CLIPPY_DRIVER=$(rustup which clippy-driver)"
}

# Copies the module's sources (no git, results or build products) into the
# existing directory DEST, for a build beside the repository's own: Kbuild
# writes its objects next to the sources.
copy_module_sources() { # DEST
	tar -C "$REPO" --exclude=./.git --exclude=./results --exclude='*.o' --exclude='*.ko' -cf - . |
		tar -C "$1" -xf -
}

log() { printf '[%s] %s\n' "${LOG_TAG:-mptcp-rs}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Formats a number of seconds as 3m07s.
fmt_secs() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

# The version of the Debian kernel source package, e.g. 6.12.117.
kernel_pkg_version() {
	dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null | sed 's/-.*//'
}

kernel_src_dir() { echo "$CACHE/src/linux-$(kernel_pkg_version)"; }

# Bump when scripts/kernel.sh changes how a tree is configured or built, so
# that cached trees built the old way are not reused.
KERNEL_RECIPE=1

# The config fragments of a kernel flavour, in merge order. The DUT carries
# the run-time checkers (debug.config) because it runs our code; the PEER runs
# only Linux's own MPTCP, so it goes without them: it builds in less time and
# its side of a pair test runs faster under TCG. BENCH is the DUT without
# them, for `make bench` alone: their cost per packet would swamp the ratios.
kernel_frags() {
	local flavour=$1
	echo "$REPO/qemu/config/base.config"
	case $flavour in
	dut) echo "$REPO/qemu/config/debug.config" "$REPO/qemu/config/dut.config" ;;
	peer) echo "$REPO/qemu/config/peer.config" ;;
	bench) echo "$REPO/qemu/config/dut.config" "$REPO/qemu/config/bench.config" ;;
	esac | tr ' ' '\n'
}

# The cache key of a kernel flavour: the source version, the config fragments,
# the recipe version and the versions of the compilers involved.
kernel_key() {
	local flavour=$1
	{
		kernel_pkg_version
		cat $(kernel_frags "$flavour")
		echo "recipe $KERNEL_RECIPE"
		clang$LLVM_SUFFIX --version | head -1
		if [ "$flavour" != peer ]; then
			rustup which rustc >/dev/null && rustc --version
			echo "bindgen $BINDGEN_VERSION"
		fi
	} | sha256sum | cut -c1-12
}

kernel_dir() { echo "$CACHE/kernels/$1-$(kernel_pkg_version)-$(kernel_key "$1")"; }

# Runs a long command with its output in a log file, printing a progress line
# every $PROGRESS_EVERY seconds (the number of lines the build has printed and
# the elapsed time). On failure the tail of the log is shown.
run_with_progress() {
	local what=$1 logfile=$2
	shift 2
	local start=$SECONDS every=${PROGRESS_EVERY:-30}
	# The log may be the first thing written under $CACHE on a new machine.
	mkdir -p "$(dirname "$logfile")"
	"$@" >"$logfile" 2>&1 &
	local pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		local i=0
		while [ $i -lt "$every" ] && kill -0 "$pid" 2>/dev/null; do
			sleep 1
			i=$((i + 1))
		done
		kill -0 "$pid" 2>/dev/null &&
			log "$what: $(grep -c '^  ' "$logfile" || true) steps, $(fmt_secs $((SECONDS - start)))"
	done
	if ! wait "$pid"; then
		tail -n 40 "$logfile" >&2
		die "$what failed after $(fmt_secs $((SECONDS - start))); full log: $logfile"
	fi
	log "$what: done in $(fmt_secs $((SECONDS - start)))"
}

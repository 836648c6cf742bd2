#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Installs what is missing, and nothing else: Debian packages (among them
# QEMU, our VM runner), the pinned rustc (with rust-src) and bindgen-cli.
# Safe to run any number of times; a complete machine is checked in seconds.
# Everything comes from the package registries (Debian, crates.io) or
# rustup's own distribution of the pinned toolchain.
. "$(dirname "$0")/lib.sh"
LOG_TAG=setup

DEB_PACKAGES=(
	# Kernel and module builds.
	linux-source-6.12 clang-16 lld-16 llvm-16 libclang-16-dev libelf-dev
	bc bison flex libssl-dev cpio make gcc xz-utils
	# VM runner (qemu/vm boots the kernels with plain QEMU).
	qemu-system-x86 kmod procps util-linux
	# Tools the tests use inside the VMs.
	iproute2 iputils-ping iperf3 tcpdump tshark iptables nftables ethtool mptcpd mptcpize socat jq
	# Crafted segments (forged options, conformance), and the benchmarks' plots.
	python3-scapy python3-matplotlib
)

sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

start=$SECONDS

# 1. Debian packages.
missing=()
for p in "${DEB_PACKAGES[@]}"; do
	[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	log "installing ${#missing[@]} Debian packages: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	run_with_progress "apt-get update" "$CACHE/apt-update.log" sudo_if_needed apt-get update
	run_with_progress "apt-get install" "$CACHE/apt-install.log" \
		sudo_if_needed apt-get install -y --no-install-recommends "${missing[@]}"
fi

# 2. The pinned Rust toolchain with rust-src (the kernel builds core from it).
command -v rustup >/dev/null || die "rustup not found: this project needs rustup to pin rustc $RUST_TOOLCHAIN"
installed=$(rustup component list --installed --toolchain "$RUST_TOOLCHAIN" 2>/dev/null || true)
if ! grep -q '^rust-src' <<<"$installed" || ! grep -q '^rustc' <<<"$installed" ||
	! grep -q '^clippy' <<<"$installed" || ! grep -q '^rustfmt' <<<"$installed"; then
	log "installing rustc $RUST_TOOLCHAIN with rust-src, rustfmt, clippy"
	rustup toolchain install "$RUST_TOOLCHAIN" --profile minimal \
		--component rust-src,rustfmt,clippy >&2
fi

# 3. bindgen-cli, the version scripts/rust_is_available.sh names.
if [ "$("$BINDGEN" --version 2>/dev/null)" != "bindgen $BINDGEN_VERSION" ]; then
	mkdir -p "$CACHE/tools"
	run_with_progress "cargo install bindgen-cli $BINDGEN_VERSION" "$CACHE/tools/bindgen-install.log" \
		cargo install --locked --force bindgen-cli --version "$BINDGEN_VERSION" --root "$BINDGEN_ROOT"
fi

# 4. Host test dependencies (proptest, sha2, hmac): fetched once so that the
# test run itself can be offline.
(cd "$REPO/net-mptcp/core" 2>/dev/null && cargo fetch --locked -q) || true

log "ready in $(fmt_secs $((SECONDS - start)))"

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds a test kernel from the Debian 6.12 source, cached by kernel_key():
#   scripts/kernel.sh dut|peer|bench   build if needed, print nothing else on stdout
#   scripts/kernel.sh dut --dir    print the build directory (built or not)
#
# An unchanged rebuild does nothing: a stamp in the build directory records
# that the tree for this key was built to the end.
. "$(dirname "$0")/lib.sh"

flavour=${1:?usage: kernel.sh dut|peer|bench [--dir]}
case $flavour in dut | peer | bench) ;; *) die "unknown kernel flavour '$flavour' (dut, peer or bench)" ;; esac
LOG_TAG="kernel $flavour"

dir=$(kernel_dir "$flavour")
if [ "${2:-}" = --dir ]; then
	echo "$dir"
	exit 0
fi

stamp=$dir/.mptcp-rs-built
# shellcheck disable=SC2046
kmake() { make -C "$(kernel_src_dir)" O="$dir" $(kmake_args) "$@"; }

# The modules the guests load (ipv6.ko on the DUT), where qemu/guest-init
# finds them for modprobe.
install_modules() {
	[ -d "$dir/modroot/lib/modules" ] && return 0
	kmake -s modules_install INSTALL_MOD_PATH="$dir/modroot.tmp" >/dev/null
	mv "$dir/modroot.tmp" "$dir/modroot"
}

if [ -f "$stamp" ] && [ -f "$dir/arch/x86/boot/bzImage" ]; then
	install_modules
	log "up to date: $dir"
	exit 0
fi

[ -f "$KERNEL_TARBALL" ] || die "$KERNEL_TARBALL missing: run scripts/setup.sh"
[ "$flavour" = peer ] || [ -x "$BINDGEN" ] || die "$BINDGEN missing: run scripts/setup.sh"

src=$(kernel_src_dir)
if [ ! -f "$src/.unpacked" ]; then
	log "unpacking $KERNEL_TARBALL"
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	tar -C "$src.tmp" --strip-components=1 -xf "$KERNEL_TARBALL"
	touch "$src.tmp/.unpacked"
	mv "$src.tmp" "$src"
fi

# How a tree is configured and built: bump KERNEL_RECIPE (scripts/lib.sh)
# when this changes in a way that matters.
mapfile -t frags < <(kernel_frags "$flavour")
start=$SECONDS
rm -rf "$dir/modroot"
mkdir -p "$dir"
kmake -s allnoconfig >/dev/null
KCONFIG_CONFIG=$dir/.config "$src/scripts/kconfig/merge_config.sh" -m -O "$dir" \
	"$dir/.config" "${frags[@]}" >"$dir/merge_config.log"
kmake -s olddefconfig >/dev/null

# Every option a fragment asks for must have taken: Kconfig silently drops
# what a dependency forbids, and a kernel missing an option is not the one we
# asked for.
missing=()
while IFS= read -r line; do
	case $line in
	CONFIG_*=n) want="# ${line%=n} is not set" ;;
	CONFIG_*=*) want=$line ;;
	*) continue ;;
	esac
	if ! grep -qxF -- "$want" "$dir/.config"; then
		[[ $want == "# "* ]] && ! grep -q "^${line%=n}=" "$dir/.config" && continue
		missing+=("$line")
	fi
done < <(cat "${frags[@]}")
[ ${#missing[@]} -eq 0 ] || die "config options did not take (check their dependencies): ${missing[*]}"

run_with_progress "build" "$dir/build.log" kmake -j"$JOBS" all
install_modules
echo "$(kernel_key "$flavour") built in $((SECONDS - start))s" >"$stamp"
log "built $dir/arch/x86/boot/bzImage in $(fmt_secs $((SECONDS - start)))"

# Keep the two newest trees of this flavour; older keys are dead weight.
# shellcheck disable=SC2012
ls -dt "$CACHE/kernels/$flavour-"* 2>/dev/null | tail -n +3 | xargs -r rm -rf

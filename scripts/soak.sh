#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make soak`: the long runs that `make test` leaves out (qemu/soak/*.sh),
# each in its own DUT VM with the kernel's checkers on. Prints a table and
# writes results/soak/latest.json: {"scripts": [{"name", "passed", "failed",
# "seconds", "vm_ok"}]}. Exits 1 if anything failed.
#
#   scripts/soak.sh [SCRIPT...]     default: every qemu/soak/*.sh
#   SOAK_BYTES, SOAK_CONNECTIONS    sizes (see each script)
. "$(dirname "$0")/lib.sh"
LOG_TAG=soak

scripts=("$@")
[ ${#scripts[@]} -gt 0 ] || scripts=("$REPO"/qemu/soak/*.sh)
"$REPO/scripts/setup.sh"
"$REPO/scripts/kernel.sh" dut
"$REPO/scripts/module.sh"
results=$REPO/results/soak/$(date +%Y%m%d-%H%M%S)
mkdir -p "$results"

status=0
rows=()
for s in "${scripts[@]}"; do
	name=$(basename "$s" .sh)
	args=$(sed -n 's/^# qemu-vm-args:\(.*\)/\1/p' "$s")
	t=$SECONDS
	vm_ok=1
	# shellcheck disable=SC2086
	"$REPO/qemu/vm" $args --name "soak-$name" --out "$results/$name" \
		--append "SOAK_BYTES=${SOAK_BYTES:-} SOAK_CONNECTIONS=${SOAK_CONNECTIONS:-}" -- "$s" || vm_ok=0
	p=$(grep -cE '^ok [0-9]+' "$results/$name/output.txt" 2>/dev/null || true)
	f=$(grep -cE '^not ok [0-9]+' "$results/$name/output.txt" 2>/dev/null || true)
	[ $vm_ok = 1 ] && [ "$f" = 0 ] && [ "$p" -gt 0 ] || status=1
	rows+=("$name ${p:-0} ${f:-0} $((SECONDS - t)) $vm_ok")
done

python3 - "$results" "${rows[@]}" <<'PY'
import json, os, sys
out, rows = sys.argv[1], [r.split() for r in sys.argv[2:]]
doc = {"scripts": [{"name": n, "passed": int(p), "failed": int(f), "seconds": int(s), "vm_ok": v == "1"}
                   for n, p, f, s, v in rows]}
print("%-16s %7s %7s %8s %s" % ("soak", "passed", "failed", "seconds", "VM (kernel log, leaks)"))
for r in doc["scripts"]:
    print("%-16s %7d %7d %8d %s" % (r["name"], r["passed"], r["failed"], r["seconds"], "clean" if r["vm_ok"] else "FAILED"))
with open(os.path.join(out, "summary.json"), "w") as f:
    json.dump(doc, f, indent=1)
latest = os.path.join(os.path.dirname(out), "latest.json")
with open(latest, "w") as f:
    json.dump(doc, f, indent=1)
print("results in", out)
PY
exit $status

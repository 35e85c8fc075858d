#!/usr/bin/env bash
# The main job behind 'make demo': build the patched kernel, boot it and
# run the post-copy demo (guest/demo/uffd-postcopy-demo.c), then run the
# same demo on Debian's unpatched 6.1, where the one-step strategy is
# unsupported. Prints the demo's tables from each guest.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

s="$TOP/scripts"
: "${DEMO_KERNELS:=patched debian-6.1}"
start=$(date +%s)

step "install missing packages" "$s/deps.sh"
step "base tree $BASE_TAG" "$s/base.sh"
step "apply the series (git am, quilt)" "$s/apply.sh"
step "build the patched kernel" "$s/build-kernel.sh" "$CHECK" "$BUILD/patched"
step "mainline unit tests from $MAINLINE_PKG" "$s/mainline-tests.sh"
step "build guest programs and initramfs" "$s/build-guest.sh" "$CHECK" "$BUILD/patched/usr" "$GUESTDIR"
step "fetch reference kernels" "$s/ref-kernels.sh"

suite=demo
read -ra kernels <<<"$DEMO_KERNELS"
rc=0
step "boot and run the demo on: ${kernels[*]}" "$s/run-suites.sh" "$suite" "${kernels[@]}" || rc=1

for k in "${kernels[@]}"; do
	log="$RESULTS/$k/console.log"
	printf '\n===== %s: %s =====\n' "$k" "$(sed -n 's/^kernel=//p' "$RESULTS/$k/boot.info" 2>/dev/null | head -n 1)"
	[ -f "$log" ] || { echo "(no console log)"; rc=1; continue; }
	# The demo's own output: between the runner's start and result lines.
	tr -d '\r' <"$log" | awk '
		/uffdwp: \[[0-9]+\/[0-9]+\] postcopy-demo: / { on = 1; next }
		/uffdwp: \[[0-9]+\/[0-9]+\] (not )?ok / { if (on) print; on = 0 }
		on && !/^\[ *[0-9]+\.[0-9]+\] / { print }'
done
echo
"$s/report.sh" "${kernels[@]/#/$RESULTS/}" || rc=1
printf 'demo finished in %ss\n' "$(($(date +%s) - start))"
exit "$rc"

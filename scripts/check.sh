#!/usr/bin/env bash
# The test pipeline behind 'make check': install what is missing, prepare
# the base, lint, apply the series (git am and quilt), build every patch,
# build the guest, boot the three kernels and run the guest suites, then
# report: one line per test and kernel, the kselftest's cases side by
# side on the three kernels, mainline's userfaultfd unit tests side by
# side on the patched kernel and 6.12, and last "N passed, N failed,
# N skipped" (each side-by-side comparison counts as one more test).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

: "${KERNELS:=patched debian-6.1 debian-6.12}"
: "${SUITES:=selftests,continue-wp}"
# Mainline's unit tests (a subset; make check-mainline-full runs them all)
# only where UFFDIO_CONTINUE_MODE_WP exists: built with
# guest/mainline/minor-wp-gate.patch, their minor-wp case fails without it.
# MAINLINE_SUITE= leaves them out.
: "${MAINLINE_SUITE=mainline-uffd}"
: "${MAINLINE_KERNELS:=patched debian-6.12}"
start=$(date +%s)
s="$TOP/scripts"

step "install missing packages" "$s/deps.sh"
step "base tree $BASE_TAG" "$s/base.sh"
step "lint (checkpatch, shellcheck)" "$s/lint.sh"
step "apply the series (git am, quilt)" "$s/apply.sh"
step "build each patch, warnings base vs tip" "$s/build-series.sh"
step "mainline unit tests from $MAINLINE_PKG" "$s/mainline-tests.sh"
step "build guest programs and initramfs" "$s/build-guest.sh" "$CHECK" "$BUILD/patched/usr" "$GUESTDIR"
step "prove the harness catches failures" "$s/check-harness.sh" \
	"$BUILD/patched/arch/x86/boot/bzImage" "$GUESTDIR/initramfs.cpio.gz"
step "fetch reference kernels" "$s/ref-kernels.sh"
read -ra kernels <<<"$KERNELS"

# mainline KERNEL: whether KERNEL runs mainline's unit tests.
mainline() {
	[ -n "$MAINLINE_SUITE" ] && [[ " $MAINLINE_KERNELS " == *" $1 "* ]]
}

# A kernel whose boot fails still gets a report row (report.sh reads the
# status boot.sh left), so the run goes on to the report either way.
for k in "${kernels[@]}"; do
	suites=$SUITES
	if mainline "$k"; then
		suites+=",$MAINLINE_SUITE"
	fi
	step "boot $k and run '$suites'" "$s/run-suites.sh" "$suites" "$k" || true
done
printf '==> results (whole run: %ss)\n' "$(($(date +%s) - start))"
rc=0
report=$("$s/report.sh" "${kernels[@]/#/$RESULTS/}") || rc=1
printf '%s\n' "$report" | sed '$d'
read -r pass _ fail _ skip _ <<<"$(printf '%s\n' "$report" | tail -n 1 | tr -d ,)"
for n in "$pass" "$fail" "$skip"; do
	case "$n" in '' | *[!0-9]*)
		printf '%s\n' "$report" | tail -n 1
		die "report.sh did not end with its counts" ;;
	esac
done

# comparison CMD...: run a side-by-side comparison; it counts as a test.
comparison() {
	echo
	if "$@"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		rc=1
	fi
}

# The kselftest's cases on the three kernels, when all three ran it.
if [[ ",$SUITES," == *,continue-wp,* ]] && [ "${kernels[*]}" = "patched debian-6.1 debian-6.12" ]; then
	comparison "$s/compare.sh" uffd-continue-wp "${kernels[@]/#/$RESULTS/}"
fi

# Mainline's unit tests on the patched kernel and 6.12, when both ran them.
if [[ " ${kernels[*]} " == *" patched "*" debian-6.12 "* ]] && mainline patched && mainline debian-6.12; then
	comparison "$s/mainline-report.sh" "$RESULTS/patched" "$RESULTS/debian-6.12"
fi
echo "$pass passed, $fail failed, $skip skipped"
exit "$rc"

#!/usr/bin/env bash
# run-suites.sh SUITES KERNEL...
# Boot each kernel (see kernels.sh) with the guest initramfs and run the
# comma-separated guest SUITES, results in $RESULTS/KERNEL. Every kernel
# is run even if an earlier one failed; the exit status says whether all
# boots completed (test results are report.sh's business).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -ge 2 ] || die "usage: run-suites.sh SUITES KERNEL..."
suites=$1
shift
initramfs="$GUESTDIR/initramfs.cpio.gz"
[ -f "$initramfs" ] || die "$initramfs missing: run 'make guest'"
: "${SUITE_TIMEOUT:=900}"

rc=0
while read -r name kernel; do
	rm -rf "${RESULTS:?}/$name"
	if "$TOP/scripts/boot.sh" "$kernel" "$initramfs" "$RESULTS/$name" "$suites" "$SUITE_TIMEOUT"; then
		info "$name: guest run complete"
	else
		info "$name: guest run FAILED (see $RESULTS/$name/console.log)"
		rc=1
	fi
done < <("$TOP/scripts/kernels.sh" "$@")
exit "$rc"

#!/usr/bin/env bash
# run-suites.sh SUITES KERNEL...
# Boot each kernel (see kernels.sh) with the guest initramfs and run the
# comma-separated guest SUITES, results in $RESULTS/KERNEL, each marked
# with this run's id (run.id) so a report never shows another run's. A
# boot's time limit is a boot allowance (UFFDWP_BOOT_ALLOWANCE, 180 s) plus the
# time limits of every test in the suites, plus the 10 s the guest gives
# each test to die after its limit. Every kernel is run even if an
# earlier one failed or is missing; the exit status says whether all boots
# completed (test results are report.sh's business).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
load_run

[ $# -ge 2 ] || die "usage: run-suites.sh SUITES KERNEL..."
suites=$1
shift
initramfs="$GUESTDIR/initramfs.cpio.gz"
[ -f "$initramfs" ] || die "$initramfs missing: run 'make guest'"
: "${UFFDWP_BOOT_ALLOWANCE:=180}"

# budget: the boot allowance plus every test's limit (+10 s) in $suites.
budget() {
	local s total=$UFFDWP_BOOT_ALLOWANCE name secs
	for s in ${suites//,/ }; do
		[ -f "$TOP/guest/suites/$s" ] || die "no suite '$s' in guest/suites"
		while read -r name secs _; do
			case "$name" in '' | \#*) continue ;; esac
			case "$secs" in
			'' | *[!0-9]*) die "guest/suites/$s: test $name has no time limit in seconds ('$secs')" ;;
			esac
			total=$((total + secs + 10))
		done <"$TOP/guest/suites/$s"
	done
	echo "$total"
}
timeout=$(budget)

rc=0
for name in "$@"; do
	dir="$RESULTS/$name"
	rm -rf "${dir:?}"
	mkdir -p "$dir"
	echo "$RUN_ID" >"$dir/run.id"
	if ! kernel=$("$TOP/scripts/kernels.sh" "$name" 2>&1); then
		echo "${kernel#error: }" >"$dir/status"
		info "$name: not run: ${kernel#error: }"
		rc=1
		continue
	fi
	kernel=${kernel#* }
	ok=0
	"$TOP/scripts/boot.sh" "$kernel" "$initramfs" "$dir" "$suites" "$timeout" && ok=1
	# A kernel that dies before the guest has started the suite (no KTAP
	# header yet) is booted once more: under TCG a cross-modifying-code
	# race in QEMU can kill an early boot (seen as 'Oops: int3' while
	# the kernel patches its own text). The first attempt's console and
	# status are kept in $dir/boot1 and the retry is said here; a kernel
	# that dies twice fails.
	if [ "$ok" = 0 ] && ! grep -q '^KTAP version' "$dir/results.ktap" 2>/dev/null &&
		grep -qE '^kernel (panic|splat)' "$dir/status" 2>/dev/null; then
		rm -rf "$dir/boot1"
		mkdir "$dir/boot1"
		cp "$dir/console.log" "$dir/status" "$dir/boot.info" "$dir/boot1/" 2>/dev/null || true
		info "$name: the kernel died before the guest started the suite ($(cat "$dir/status")); booting it once more (first attempt: $dir/boot1)"
		"$TOP/scripts/boot.sh" "$kernel" "$initramfs" "$dir" "$suites" "$timeout" && ok=1
		echo "retried once: the first boot died before the suite started: $(cat "$dir/boot1/status")" >"$dir/retried"
	fi
	if [ "$ok" = 1 ]; then
		info "$name: guest run complete"
	else
		info "$name: guest run FAILED (see $dir/console.log)"
		rc=1
	fi
done
exit "$rc"

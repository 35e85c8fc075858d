#!/usr/bin/env bash
# pipeline.sh TARGET: the one place that orders the harness's steps. Each
# Makefile target is a call to this script; each step is a call to one
# single-job script. Holds a lock on the cache for the whole run, so two
# runs never share it at once.
#
#   demo                 build the patched kernel, boot it and Debian's 6.1,
#                        run the post-copy demo on both
#   check                everything: lint, apply, build every patch, the
#                        harness's own checks, three kernels, the short
#                        race stress on the debug kernel, the reports
#   check-mainline-full  mainline's unit tests, every case, patched + 6.12
#   check-debug          the series on a KASAN/lockdep/PAGE_TABLE_CHECK kernel,
#                        every suite, booted with panic_on_warn=1
#   bench                the benchmark on patched, 6.12 and 6.1: bench/
#   check-mutants        bugs planted in the series (mutants/*.patch,
#                        MUTANTS to choose): the tests must catch each
#   check-matrix         build the series' tip in more configurations and
#                        architectures (build-matrix.sh; LEGS to choose),
#                        then boot the Debian-config kernel and run the
#                        suites on it
#   resolve fetch base apply lint kernel guest
#                        the first steps of the pipeline, up to that one
#   run                  boot KERNELS (default: all three) with SUITES
#                        (default: selftests) and report them: the kernels
#                        the last run left, under a new run id
#   check-harness        prove the harness reports failures (needs kernel, guest)
#   series-tree          base + patches/ as commits on branch 'series' in $SRC
#
# Environment: BASE=pinned|newest|VERSION (resolve.sh), JOBS, UFFDWP_CACHE,
# UFFDWP_ACCEL; for 'run': SUITES, KERNELS.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || die "usage: pipeline.sh TARGET (see its header)"
target=$1
s="$TOP/scripts"
start=$(date +%s)
PATCHED_KERNEL="$BUILD/patched/arch/x86/boot/bzImage"
INITRAMFS="$GUESTDIR/initramfs.cpio.gz"

# One run at a time per cache.
mkdir -p "$UFFDWP_CACHE"
exec 9>>"$UFFDWP_CACHE/lock"
if ! flock -n 9; then
	owner=$(cat "$UFFDWP_CACHE/lock.owner" 2>/dev/null || echo 'owner unknown')
	pid=${owner#pid }
	pid=${pid%%,*}
	alive="not running any more; a process it started (QEMU?) still holds the lock"
	kill -0 "$pid" 2>/dev/null && alive="still running"
	die "another harness run is using the cache $UFFDWP_CACHE ($owner; $alive): wait for it, or set UFFDWP_CACHE"
fi
printf 'pid %s, %s, since %s\n' "$$" "$target" "$(date -u +%FT%TZ)" >"$UFFDWP_CACHE/lock.owner"
# Holding the lock, no other harness git command runs in the cache: lock
# files there were left by a killed run.
if [ -d "$SRC/.git" ]; then
	find "$SRC/.git" -maxdepth 3 -name '*.lock' -type f -delete 2>/dev/null || true
	for w in "$SRC"/.git/worktrees/*/locked; do
		[ -e "$w" ] && rm -f "$w"
	done
	git -C "$SRC" worktree prune 2>/dev/null || true
fi
# Leftovers of interrupted downloads and unpacking.
rm -rf "$DEBS"/.fetch.* "$REFDIR"/.unpack.* "$UFFDWP_CACHE/base.tmp" "$MAINLINE_TESTS.tmp" 2>/dev/null || true

# --- the steps --------------------------------------------------------
prepare() {
	# A step that runs make targets itself (readme-commands.sh, in a
	# scratch cache with a copy of this run's record) sets UFFDWP_NESTED
	# to the run's id: the nested run is part of that run and decides
	# nothing again.
	if [ -n "${UFFDWP_NESTED:-}" ]; then
		load_run
		[ "$RUN_ID" = "$UFFDWP_NESTED" ] ||
			die "UFFDWP_NESTED=$UFFDWP_NESTED does not name the run in $RUN_ENV ($RUN_ID): unset it"
		step "base tree $BASE_TAG" "$s/base.sh"
		return
	fi
	step "install missing packages, check every command" "$s/deps.sh"
	step "decide the run (base, reference kernels)" "$s/resolve.sh"
	load_run
	step "fetch packages (base, mainline, reference kernels)" "$s/fetch.sh"
	step "decide the QEMU accelerator" "$s/accel.sh"
	load_run
	step "base tree $BASE_TAG" "$s/base.sh"
	step "apply the series (git am, quilt)" "$s/apply.sh"
}
kernel() {
	step "build the patched kernel" "$s/build-kernel.sh" "$CHECK" "$BUILD/patched"
}
guest() {
	step "mainline unit tests from $MAINLINE_PKG $MAINLINE_VERSION" "$s/mainline-tests.sh"
	step "build guest programs and initramfs" "$s/build-guest.sh" "$CHECK" "$BUILD/patched/usr" "$GUESTDIR"
}
lint() {
	step "lint (checkpatch, shellcheck)" "$s/lint.sh"
}
selftest() {
	step "harness self-tests (offline: KTAP parser, reports)" "$s/tests/run.sh"
	step "the README's commands for applying and editing the series" "$s/readme-commands.sh"
}
harness() {
	step "prove the harness catches failures" "$s/check-harness.sh" "$PATCHED_KERNEL" "$INITRAMFS"
}
# boot_all SUITES KERNEL...: boot each kernel; a failed boot still gets
# its report row (the status boot.sh left), so the run goes on.
boot_all() {
	local suites=$1 k
	shift
	for k in "$@"; do
		step "boot $k and run '$suites'" "$s/run-suites.sh" "$suites" "$k" || true
	done
}
# report KERNEL...: one line per test and kernel, this run's results only.
report() {
	"$s/report.sh" --run-id "$RUN_ID" "${@/#/$RESULTS/}"
}
# boot_debug SUITES KERNEL...: boot_all with what a debug kernel run needs
# on the command line: any warning a panic, and PAGE_TABLE_CHECK on.
boot_debug() {
	UFFDWP_BOOT_APPEND="panic_on_warn=1 page_table_check=on ${UFFDWP_BOOT_APPEND:-}" boot_all "$@"
}
# boot_report SUITES KERNEL: boot one kernel built by build-matrix.sh with
# SUITES, then the run's time and the kernel's report.
boot_report() {
	boot_all "$1" "$2"
	printf '==> results (whole run: %ss)\n' "$(($(date +%s) - start))"
	report "$2"
}

# --- the targets ------------------------------------------------------
case "$target" in
resolve)
	step "install missing packages, check every command" "$s/deps.sh"
	step "decide the run (base, reference kernels)" "$s/resolve.sh"
	;;
fetch | base | apply)
	prepare
	;;
lint)
	prepare
	lint
	;;
series-tree)
	prepare
	step "branch 'series' in $SRC" "$s/series-tree.sh"
	;;
kernel)
	prepare
	kernel
	;;
guest)
	prepare
	kernel
	guest
	;;
demo)
	prepare
	kernel
	guest
	kernels=(patched debian-6.1)
	rc=0
	boot_all demo "${kernels[@]}"
	for k in "${kernels[@]}"; do
		log="$RESULTS/$k/console.log"
		printf '\n===== %s: %s =====\n' "$k" "$(sed -n 's/^kernel=//p' "$RESULTS/$k/boot.info" 2>/dev/null | head -n 1)"
		[ -f "$log" ] || { echo "(no console log)"; rc=1; continue; }
		# The demo's own output: between the runner's start and result lines.
		awk '
			/uffdwp: \[[0-9]+\/[0-9]+\] postcopy-demo: / { on = 1; next }
			/uffdwp: \[[0-9]+\/[0-9]+\] (not )?ok / { if (on) print; on = 0 }
			on && !/^\[ *[0-9]+\.[0-9]+\] / { print }' "$log"
	done
	echo
	report "${kernels[@]}" || rc=1
	printf 'demo finished in %ss\n' "$(($(date +%s) - start))"
	exit "$rc"
	;;
check)
	# make check is make check: no boot or build knob of a user's shell.
	unset UFFDWP_BOOT_APPEND UFFDWP_QEMU_MEM UFFDWP_QEMU_SMP UFFDWP_BOOT_ALLOWANCE \
		UFFDWP_BUSYBOX UFFDWP_RESULTS UFFDWP_NESTED
	RESULTS="$UFFDWP_CACHE/results"
	prepare
	lint
	selftest
	step "build each patch, warnings base vs tip" "$s/build-series.sh"
	guest
	harness
	# Fixed: make check always runs all of it (make run is for less).
	kernels=(patched debian-6.1 debian-6.12)
	suites=selftests,continue-wp,bench-quick
	# Mainline's unit tests (a subset; make check-mainline-full runs them
	# all) on the two kernels with UFFDIO_CONTINUE_MODE_WP, which
	# scripts/mainline-report.sh compares case by case.
	for k in "${kernels[@]}"; do
		case "$k" in
		debian-6.1) boot_all "$suites" "$k" ;;
		*) boot_all "$suites,mainline-uffd" "$k" ;;
		esac
	done
	# The race stress, short, on the debug kernel (KASAN, lockdep,
	# DEBUG_VM, DEBUG_LIST, PAGE_TABLE_CHECK; a warning panics): any
	# kernel report or broken invariant fails. make check-debug runs
	# every suite there, and the long stress with DURATION.
	step "build the debug kernel" "$s/build-matrix.sh" debug
	boot_debug stress-quick debug
	kernels+=(debug)
	printf '==> results (whole run: %ss)\n' "$(($(date +%s) - start))"
	rc=0
	out=$(report "${kernels[@]}") || rc=1
	printf '%s\n' "$out" | sed '$d'
	read -r pass _ fail _ skip _ <<<"$(printf '%s\n' "$out" | tail -n 1 | tr -d ,)"
	for n in "$pass" "$fail" "$skip"; do
		case "$n" in '' | *[!0-9]*)
			printf '%s\n' "$out" | tail -n 1
			die "report.sh did not end with its counts" ;;
		esac
	done
	# Each side-by-side comparison counts as one more test.
	echo
	if "$s/compare.sh" --run-id "$RUN_ID" uffd-continue-wp "$RESULTS/patched" "$RESULTS/debian-6.1" "$RESULTS/debian-6.12"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1)) rc=1
	fi
	echo
	if "$s/mainline-report.sh" --run-id "$RUN_ID" "$RESULTS/patched" "$RESULTS/debian-6.12"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1)) rc=1
	fi
	echo "$pass passed, $fail failed, $skip skipped"
	exit "$rc"
	;;
check-mainline-full)
	prepare
	kernel
	guest
	export UFFDWP_RESULTS="$RESULTS/mainline-full"
	RESULTS=$UFFDWP_RESULTS
	kernels=(patched debian-6.12)
	boot_all mainline-uffd-full "${kernels[@]}"
	printf '==> results (whole run: %ss)\n' "$(($(date +%s) - start))"
	rc=0
	report "${kernels[@]}" || rc=1
	echo
	"$s/mainline-report.sh" --run-id "$RUN_ID" "${kernels[@]/#/$RESULTS/}" || rc=1
	exit "$rc"
	;;
check-matrix)
	prepare
	step "install the arm64 cross compiler and openssl (Debian configuration)" "$s/deps.sh" gcc-aarch64-linux-gnu openssl
	kernel
	guest
	read -ra legs <<<"${LEGS:-no-userfaultfd no-shmem no-hugetlb no-pte-marker i386 arm64 debian}"
	step "build the tip in: ${legs[*]}" "$s/build-matrix.sh" "${legs[@]}"
	case " ${legs[*]} " in
	*" debian "*)
		# Debian's configuration has THP for shmem, memcg and NUMA, which
		# the tinyconfig test kernel lacks: the collapse tests run here.
		boot_report selftests,collapse,continue-wp,mainline-uffd debian-config
		;;
	esac
	;;
check-debug)
	# The series on a kernel with KASAN, lockdep, DEBUG_VM, DEBUG_LIST and
	# PAGE_TABLE_CHECK, any warning a panic: every suite, the race stress
	# and the fuzzer; or, with DURATION (e.g. 30m), the stress and the
	# fuzzer alone, half of DURATION each. Then the same stress and fuzzer
	# on Debian's 6.12 (mainline), to tell a finding of ours from mainline's.
	prepare
	kernel
	guest
	step "build the debug kernel" "$s/build-matrix.sh" debug
	# 6.12 is booted as the debug kernel is: a warning there counts too.
	if [ -n "${DURATION:-}" ]; then
		secs=$(duration_secs "$DURATION") || die "DURATION=$DURATION: give seconds, or Nm or Nh, at most 2h"
		info "race stress and fuzzer for $((secs / 2))s each, ${secs}s on each kernel"
		export UFFDWP_BOOT_APPEND="uffdwp.stress_secs=$((secs / 2)) ${UFFDWP_BOOT_APPEND:-}"
		boot_debug stress-long debug debian-6.12
	else
		boot_debug selftests,continue-wp,mainline-uffd,demo,stress,fuzz debug
		boot_debug stress,fuzz debian-6.12
	fi
	printf '==> results (whole run: %ss)\n' "$(($(date +%s) - start))"
	report debug debian-6.12
	;;
bench)
	# A measurement, not a test (README: Performance): the benchmark on
	# the patched kernel, mainline (6.12) and the base (6.1: no one-step
	# strategy there), then the CSV, tables and plot in bench/.
	prepare
	kernel
	guest
	step "install gnuplot (the plot)" "$s/deps.sh" gnuplot-nox
	# TCG's TSCs are not in sync, so the kernels fall back to a jiffies
	# clock (4 ms steps), too coarse to time an ioctl: trust the TSC.
	export UFFDWP_BOOT_APPEND="tsc=reliable ${UFFDWP_BOOT_APPEND:-}"
	kernels=(patched debian-6.12 debian-6.1)
	boot_all bench "${kernels[@]}"
	step "figures of the run: bench/results.csv, bench/ratios.md, bench/bench.png" \
		"$s/bench-report.sh" "$RUN_ID" "${kernels[@]}"
	cat "$TOP/bench/ratios.md"
	printf '==> make bench done in %ss\n' "$(($(date +%s) - start))"
	;;
check-mutants)
	# Bugs planted in the series (mutants/*.patch, MUTANTS= to choose), one
	# test kernel each: the tests must fail where each patch says.
	prepare
	kernel
	guest
	if [ -n "${MUTANTS:-}" ]; then
		read -ra mutants <<<"$MUTANTS"
	else
		mutants=("$TOP"/mutants/*.patch)
		mutants=("${mutants[@]##*/}")
		mutants=("${mutants[@]%.patch}")
	fi
	rc=0
	for m in "${mutants[@]}"; do
		step "plant mutants/$m.patch in the tip and build it" "$s/mutant-build.sh" "$m"
		msuites=$(mutant_field "$TOP/mutants/$m.patch" Suites)
		if mutant_is_debug "$m"; then
			boot_debug "${msuites:-mutant}" "mutant-$m"
		else
			boot_all "${msuites:-mutant}" "mutant-$m"
		fi
		printf '==> mutant %s: the cases it must fail\n' "$m"
		python3 "$s/ktap.py" mutant --run-id "$RUN_ID" "$TOP/mutants/$m.patch" "$RESULTS/mutant-$m" || rc=1
	done
	printf '==> %s mutant(s) in %ss\n' "${#mutants[@]}" "$(($(date +%s) - start))"
	exit "$rc"
	;;
run)
	# The kernels the last run built and fetched, under a new run id.
	new_run_id
	if [ -z "${ACCEL:-}" ]; then
		step "decide the QEMU accelerator" "$s/accel.sh"
		load_run
	fi
	info "run $RUN_ID: base $BASE_TAG, kernels as the last 'make check' (or demo) left them, QEMU $ACCEL"
	read -ra kernels <<<"${KERNELS:-patched debian-6.1 debian-6.12}"
	boot_all "${SUITES:-selftests}" "${kernels[@]}"
	report "${kernels[@]}"
	;;
check-harness)
	new_run_id
	[ -n "${ACCEL:-}" ] || step "decide the QEMU accelerator" "$s/accel.sh"
	harness
	;;
*)
	die "unknown target '$target' (see the header of $0)"
	;;
esac

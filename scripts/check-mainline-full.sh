#!/usr/bin/env bash
# The job behind 'make check-mainline-full': mainline's userfaultfd unit
# tests, every case on every memory type (guest/suites/mainline-uffd-full),
# on the patched kernel and on Debian's 6.12, side by side. make check runs
# only a subset (guest/suites/mainline-uffd): the whole takes several
# minutes per kernel under TCG, most of it in the cases that take a
# userfault for each of 8192 4 KiB pages (minor*, events* on anon and
# shmem). Needs the patched kernel (the Makefile builds it first).
# Results go to $RESULTS/mainline-full/KERNEL, apart from make check's.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

: "${MAINLINE_FULL_SUITE:=mainline-uffd-full}"
# Generous: a busy 2-core host can take twice the idle time.
: "${SUITE_TIMEOUT:=2400}"
export SUITE_TIMEOUT
kernels=(patched debian-6.12)
start=$(date +%s)
s="$TOP/scripts"

step "mainline unit tests from $MAINLINE_PKG" "$s/mainline-tests.sh"
step "build guest programs and initramfs" "$s/build-guest.sh" "$CHECK" "$BUILD/patched/usr" "$GUESTDIR"
step "fetch reference kernels" "$s/ref-kernels.sh"
UFFDWP_RESULTS="$RESULTS/mainline-full"
export UFFDWP_RESULTS
step "boot and run '$MAINLINE_FULL_SUITE' on: ${kernels[*]}" \
	"$s/run-suites.sh" "$MAINLINE_FULL_SUITE" "${kernels[@]}" || true
printf '==> results (whole run: %ss)\n' "$(($(date +%s) - start))"
rc=0
"$s/report.sh" "${kernels[@]/#/$UFFDWP_RESULTS/}" || rc=1
echo
"$s/mainline-report.sh" "${kernels[@]/#/$UFFDWP_RESULTS/}" || rc=1
exit "$rc"

#!/usr/bin/env bash
# The test pipeline behind 'make check': install what is missing, prepare
# the base, lint, apply the series (git am and quilt), build every patch,
# build the guest, boot the three kernels and run the guest suites, then
# report. Each step prints how long it took; the last line of the report
# is "N passed, N failed, N skipped".
set -euo pipefail
. "$(dirname "$0")/lib.sh"

: "${KERNELS:=patched debian-6.1 debian-6.12}"
: "${SUITES:=selftests}"
start=$(date +%s)
s="$TOP/scripts"

step "install missing packages" "$s/deps.sh"
step "base tree $BASE_TAG" "$s/base.sh"
step "lint (checkpatch, shellcheck)" "$s/lint.sh"
step "apply the series (git am, quilt)" "$s/apply.sh"
step "build each patch, warnings base vs tip" "$s/build-series.sh"
step "build guest programs and initramfs" "$s/build-guest.sh" "$CHECK" "$BUILD/patched/usr" "$GUESTDIR"
step "fetch reference kernels" "$s/ref-kernels.sh"
read -ra kernels <<<"$KERNELS"
# A kernel whose boot fails still gets a report row (report.sh reads the
# status boot.sh left), so the run goes on to the report either way.
step "boot and run '$SUITES' on: ${kernels[*]}" "$s/run-suites.sh" "$SUITES" "${kernels[@]}" || true
printf '==> results (whole run: %ss)\n' "$(($(date +%s) - start))"
exec "$s/report.sh" "${kernels[@]/#/$RESULTS/}"

#!/usr/bin/env bash
# check-harness.sh KERNEL INITRAMFS [WORKDIR]
# Prove that the guest, boot.sh and report.sh report what they must: boot
# KERNEL with INITRAMFS plus made-up suites (tests that fail, crash, hang,
# reboot, fake a kernel splat; a guest that panics) and check that each
# run fails, or passes, the way it should. Not a kernel test: any kernel
# that boots the guest will do, the tinyconfig test kernel is fastest.
# Runs go to WORKDIR (default $UFFDWP_CACHE/harness-check).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -eq 2 ] || [ $# -eq 3 ] || die "usage: check-harness.sh KERNEL INITRAMFS [WORKDIR]"
kernel=$1 initramfs=$2 work=${3:-$UFFDWP_CACHE/harness-check}
[ -f "$initramfs" ] || die "initramfs $initramfs not found: run build-guest.sh"
rm -rf "$work"
mkdir -p "$work/root/uffdwp/suites"

# The made-up suites, appended to a copy of the initramfs as a second
# archive (the kernel unpacks both), so guest/suites stays real tests.
suite() {
	cat >"$work/root/uffdwp/suites/$1"
}
suite harness-outcomes <<'EOF'
harness-pass		10	true
harness-skip		10	echo "feature missing" >&2; exit 4
harness-fail		10	echo "ERROR: it broke" >&2; exit 1
harness-segv		10	kill -SEGV $$
harness-timeout		3	sleep 60
harness-orphan		10	sleep 600 & echo "left a child holding stdout and stderr"
harness-missing		10	no-such-program
harness-badline		ten	true
harness-order		10	echo order-1; sleep 1; echo order-2 >/dev/kmsg; sleep 1; echo order-3
harness-ktap		10	printf 'TAP version 13\n1..2\nok 1 case-a\nnot ok 2 case-b\n'
EOF
suite harness-hang <<'EOF'
harness-hang		3600	sleep 3600
EOF
suite harness-splat <<'EOF'
harness-splat		10	echo "WARNING: CPU: 0 PID: 1 at harness.c:1 fake_splat+0x0/0x10" >/dev/kmsg
EOF
suite harness-reboot <<'EOF'
harness-reboot		10	reboot -f
EOF
(cd "$work/root" && find . -mindepth 1 | cpio -o -H newc -R 0:0 --quiet) | gzip -n >"$work/extra.cpio.gz"
cat "$initramfs" "$work/extra.cpio.gz" >"$work/initramfs.cpio.gz"

BOOT_ENV=()
failed=0
bad() {
	printf 'FAIL  %s\n' "$*"
	failed=$((failed + 1))
}

# A user's locale must not reach the harness: de_DE.UTF-8 writes times
# with a decimal comma (EPOCHREALTIME "1764633600,123456"), which once
# made boot.sh's deadline meaningless, so a hung guest hung the run. The
# locale is compiled into the work directory (LOCPATH), not installed.
LOCALE_ENV=()
mkdir -p "$work/locale"
if localedef -i de_DE -f UTF-8 "$work/locale/de_DE.UTF-8" >"$work/localedef.log" 2>&1 ||
	[ -f "$work/locale/de_DE.UTF-8/LC_NUMERIC" ]; then
	LOCALE_ENV=(LOCPATH="$work/locale" LANG=de_DE.UTF-8 LC_ALL=de_DE.UTF-8)
	# shellcheck disable=SC2016 # expanded by the inner bash, in the locale
	mark=$(env "${LOCALE_ENV[@]}" bash -c 'echo "$EPOCHREALTIME"')
	case "$mark" in
	*,*) printf 'ok    locale: de_DE.UTF-8 compiled, EPOCHREALTIME there is %s\n' "$mark" ;;
	*) bad "locale: EPOCHREALTIME under de_DE.UTF-8 is '$mark', not written with a comma: the locale test proves nothing" ;;
	esac
	ms=$(env "${LOCALE_ENV[@]}" bash -c "$(declare -f now_ms); now_ms")
	if [ "$((ms / 1000 - $(date +%s)))" -ge -2 ] && [ "$((ms / 1000 - $(date +%s)))" -le 2 ]; then
		printf 'ok    locale: now_ms under de_DE.UTF-8 is the time in ms\n'
	else
		bad "locale: now_ms under de_DE.UTF-8 gives $ms, not the time in ms"
	fi
else
	bad "locale: cannot compile de_DE.UTF-8 (localedef, from libc-bin and locales): $(tail -n 1 "$work/localedef.log")"
fi

# boot NAME SUITE TIMEOUT WANT [UFFDWP_BOOT_APPEND]: boot.sh must succeed (WANT
# "ok") or fail with a last line matching the extended regex WANT. With
# BOOT_ENV set (an array), boot.sh runs in that environment.
boot() {
	local name=$1 suite=$2 timeout=$3 want=$4 log="$work/$1.log" rc=0
	timeout -k 10 $((timeout + 240)) env "${BOOT_ENV[@]}" UFFDWP_BOOT_APPEND="${5:-}" "$TOP/scripts/boot.sh" "$kernel" "$work/initramfs.cpio.gz" \
		"$work/$name" "$suite" "$timeout" >"$log" 2>&1 || rc=$?
	if [ "$want" = ok ]; then
		if [ "$rc" -eq 0 ]; then
			printf 'ok    %s: %s\n' "$name" "$(tail -n1 "$log" | sed 's/^ *//')"
		else
			bad "$name: boot.sh failed: $(tail -n1 "$log")"
		fi
	elif [ "$rc" -eq 0 ]; then
		bad "$name: boot.sh succeeded, wanted a failure matching '$want'"
	elif ! tail -n1 "$log" | grep -qE "$want"; then
		bad "$name: wanted '$want', boot.sh said: $(tail -n1 "$log")"
	else
		printf 'ok    %s: %s\n' "$name" "$(tail -n1 "$log")"
	fi
}

# report NAME WANT...: report.sh on run NAME must fail and print every
# line matching the extended regexes WANT.
report() {
	local name=$1 log="$work/$1.report" w
	shift
	if "$TOP/scripts/report.sh" "$work/$name" >"$log" 2>&1; then
		bad "$name: report.sh succeeded, wanted a failure"
		return
	fi
	for w in "$@"; do
		grep -qE "$w" "$log" || bad "$name: report.sh printed no line matching '$w' (see $log)"
	done
	printf 'ok    %s: report: %s\n' "$name" "$(tail -n1 "$log")"
}

boot outcomes harness-outcomes 300 ok
report outcomes \
	'harness-pass +PASS' \
	'harness-skip +SKIP +[0-9.]+s +feature missing$' \
	'harness-fail +FAIL +[0-9.]+s +exit=1: ERROR: it broke$' \
	'harness-segv +FAIL +[0-9.]+s +killed by signal 11 \(SIGSEGV\)' \
	'harness-timeout +FAIL +[0-9.]+s +TIMEOUT 3 seconds$' \
	'harness-orphan +PASS' \
	'harness-missing +FAIL +[0-9.]+s +exit=127' \
	"harness-badline +FAIL +bad suite line: timeout 'ten' is not a number" \
	'harness-order +PASS' \
	'harness-ktap +PASS' \
	'^4 passed, 5 failed, 1 skipped$'
# A test's output reaches the console as it comes, between the kernel's
# messages, and its KTAP is forwarded to the results as a subtest.
order=$(grep -n -E '^(\[ *[0-9.]+\] )?order-[123]$' "$work/outcomes/console.log" |
	sed 's/:.*order-/:/' | sort -n | cut -d: -f2 | tr -d '\n' || true)
if [ "$order" = 123 ]; then
	printf 'ok    outcomes: test output and kernel messages in order\n'
else
	bad "outcomes: console order of test output and kernel message is '$order', not 123"
fi
if grep -qx '  ok 1 case-a' "$work/outcomes/results.ktap" &&
	grep -qx '  not ok 2 case-b' "$work/outcomes/results.ktap"; then
	printf 'ok    outcomes: a test'"'"'s KTAP is forwarded as a subtest\n'
else
	bad "outcomes: harness-ktap's KTAP is not in results.ktap as a subtest"
fi
# 60 s: long enough for a loaded host to boot the guest and print the
# plan. Under the de_DE.UTF-8 locale, and bounded from outside: a boot.sh
# that cannot keep time fails here instead of hanging the run.
BOOT_ENV=("${LOCALE_ENV[@]}")
hang_start=$(date +%s)
boot hang harness-hang 60 'timed out after 60s'
BOOT_ENV=()
if [ $(($(date +%s) - hang_start)) -gt 150 ]; then
	bad "hang: boot.sh took $(($(date +%s) - hang_start))s to stop a guest it should stop after 60s"
fi
report hang '\(run\) +FAIL +timed out' '\(run\) +FAIL +0 of 1 planned' '^0 passed, 2 failed, 0 skipped$'
boot splat harness-splat 120 'kernel splat in the console: WARNING: CPU: 0 PID: 1 at harness.c'
report splat 'harness-splat +PASS' '\(run\) +FAIL +kernel splat' '^1 passed, 1 failed, 0 skipped$'
boot reboot harness-reboot 120 'stopped before the end of the run'
report reboot '\(run\) +FAIL +0 of 1 planned results' '^0 passed, 2 failed, 0 skipped$'
boot panic "" 120 'kernel panic: .*Kernel panic - not syncing' 'rdinit=/no-such-init init=/no-such-init'
report panic '\(run\) +FAIL +kernel panic' '\(run\) +FAIL +no KTAP plan'
# run-suites.sh boots a kernel that dies before the guest starts the
# suite once more (a QEMU TCG race can kill an early boot), says so,
# keeps the first attempt, and fails when the kernel dies again.
retry_log="$work/retry.log"
if UFFDWP_RESULTS="$work/retry" UFFDWP_BOOT_APPEND='rdinit=/no-such-init init=/no-such-init' \
	"$TOP/scripts/run-suites.sh" continue-wp patched >"$retry_log" 2>&1; then
	bad "retry: run-suites.sh succeeded on a kernel that panics at every boot"
elif ! grep -q 'booting it once more' "$retry_log" ||
	! grep -q '^kernel panic' "$work/retry/patched/boot1/status" 2>/dev/null ||
	! grep -q '^kernel panic' "$work/retry/patched/status" 2>/dev/null ||
	[ ! -f "$work/retry/patched/retried" ]; then
	bad "retry: run-suites.sh did not boot a kernel that died early exactly once more, keeping both attempts (see $retry_log)"
else
	printf 'ok    retry: a kernel that dies before the suite is booted once more, then fails: %s\n' "$(cat "$work/retry/patched/status")"
fi
boot no-suite no-such-suite 120 ok
report no-suite '\(run\) +FAIL +Bail out! no suite .no-such-suite.' '^0 passed, 1 failed, 0 skipped$'
report missing '\(run\) +FAIL +no .*/missing/results.ktap' '^0 passed, 1 failed, 0 skipped$'

[ "$failed" -eq 0 ] || die "$failed harness check(s) failed; logs in $work"
info "all harness checks passed; logs in $work"

#!/usr/bin/env bash
# boot.sh KERNEL INITRAMFS RESULTDIR SUITE [TIMEOUT]
# Boot KERNEL with INITRAMFS (from build-guest.sh) under QEMU and run the
# guest suite SUITE: a file name in guest/suites, several joined by commas,
# or "" for none (the guest bails out on a name it does not have).
# RESULTDIR, named for the kernel, gets:
#   console.log    kernel console and the tests' output (ttyS0)
#   results.ktap   KTAP results (ttyS1), for report.sh
#   status         "ok", or the one-line reason the run failed
#   boot.info      what was booted, how, and how long it took
#   qemu.log       QEMU's own messages
# Fails on a timeout (TIMEOUT seconds of wall clock, default 900), a
# kernel panic, a kernel splat in the console or a run that stopped before
# the end marker. Test failures are report.sh's business, not this one's.
# Environment: UFFDWP_BOOT_APPEND  extra kernel arguments (e.g. panic_on_warn=1)
#              UFFDWP_ACCEL tcg or kvm (default: the run record's ACCEL, accel.sh)
#              UFFDWP_QEMU_MEM (2G) UFFDWP_QEMU_SMP (2)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -eq 4 ] || [ $# -eq 5 ] || die "usage: boot.sh KERNEL INITRAMFS RESULTDIR SUITE [TIMEOUT]"
kernel=$1 initramfs=$2 dir=$3 suite=$4 timeout=${5:-900}
[ -f "$kernel" ] || die "kernel $kernel not found: build it (build-kernel.sh) or fetch it (fetch.sh)"
[ -f "$initramfs" ] || die "initramfs $initramfs not found: run build-guest.sh"
case "$timeout" in '' | *[!0-9]*) die "TIMEOUT must be seconds, not '$timeout'" ;; esac
case "$dir" in *,*) die "RESULTDIR must not contain a comma (QEMU option syntax): $dir" ;; esac
BIOS=/usr/share/qemu/qboot.rom
[ -f "$BIOS" ] || die "$BIOS missing: run 'make deps' (qemu-system-x86)"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing: run 'make deps'"

mkdir -p "$dir"
dir=$(realpath "$dir")
label=${dir##*/}


secs() {
	printf '%d.%d' $(($1 / 1000)) $(($1 % 1000 / 100))
}

# fail CAUSE: record and report why the run failed.
fail() {
	echo "$1" >"$dir/status"
	die "$label: $1 (console: $dir/console.log)"
}

# first REGEX: "N:line" of the first console line matching REGEX, but
# not the guest's own progress lines ("uffdwp: ..."), which quote commands.
first() {
	console_first "$1" "$dir/console.log"
}

# context LINE: the console around line LINE, to stderr.
context() {
	sed -n "$(($1 > 5 ? $1 - 5 : 1)),$(($1 + 25))p" "$dir/console.log" | sed 's/^/    | /' >&2
}

# The accelerator is decided once per run (accel.sh, in the run record).
acc=${UFFDWP_ACCEL:-}
if [ -z "$acc" ]; then
	load_run
	acc=${ACCEL:-}
fi
case "$acc" in
tcg | kvm) ;;
*) die "no accelerator decided for this run (run record: ACCEL=${acc:-unset}): run scripts/accel.sh, or set UFFDWP_ACCEL=tcg" ;;
esac
cpu=max
[ "$acc" = kvm ] && cpu=host
rm -f "$dir"/{console,results}.{raw,log,ktap} "$dir"/{status,boot.info,qemu.log}
echo running >"$dir/status"

# no_timer_check: under TCG on a loaded host the IO-APIC timer probe can
# miss its ticks and panic the boot ("IO-APIC + timer doesn't work!").
append="console=ttyS0 panic=-1 no_timer_check uffdwp.suite=$suite ${UFFDWP_BOOT_APPEND:-}"
qemu=(qemu-system-x86_64 -nodefaults -no-user-config -display none
	-machine "pc,accel=$acc" -cpu "$cpu" -smp "${UFFDWP_QEMU_SMP:-2}" -m "${UFFDWP_QEMU_MEM:-2G}"
	-bios "$BIOS" -no-reboot
	-kernel "$kernel" -initrd "$initramfs" -append "$append"
	-serial "file:$dir/console.raw" -serial "file:$dir/results.raw")
printf '%q ' "${qemu[@]}" >"$dir/qemu.log"
echo >>"$dir/qemu.log"

info "$label: booting $kernel ($acc), suite '${suite:-none}', timeout ${timeout}s"
start=$(now_ms)
# QEMU has a deadline of its own (should this script be killed), and does
# not hold the harness's lock (fd 9, pipeline.sh).
nice -n 10 timeout -k 10 $((timeout + 30)) "${qemu[@]}" </dev/null >>"$dir/qemu.log" 2>&1 9>&- &
qpid=$!
# shellcheck disable=SC2064 # expand now: this is the QEMU we started
trap "kill $qpid 2>/dev/null || true" EXIT

# Wait for QEMU, showing results as they come; stop it at the deadline.
init_ms="" seen=0 timed_out=""
while kill -0 "$qpid" 2>/dev/null; do
	sleep 0.5
	if [ -z "$init_ms" ] && grep -q '^KTAP version' "$dir/results.raw" 2>/dev/null; then
		init_ms=$(($(now_ms) - start))
	fi
	lines=$(wc -l <"$dir/results.raw" 2>/dev/null || echo 0)
	if [ "$lines" -gt "$seen" ]; then
		sed -n "$((seen + 1)),${lines}p" "$dir/results.raw" | tr -d '\r' |
			grep -E '^(ok|not ok|Bail out)' | sed "s/^/    $label: /" || true
		seen=$lines
	fi
	if [ $(($(now_ms) - start)) -ge $((timeout * 1000)) ]; then
		timed_out=1
		kill "$qpid" 2>/dev/null || true
		break
	fi
done
qrc=0
wait "$qpid" || qrc=$?
trap - EXIT
total_ms=$(($(now_ms) - start))

for f in console results; do
	tr -d '\r' 2>/dev/null <"$dir/$f.raw" >"$dir/$f.tmp" || : >"$dir/$f.tmp"
	rm -f "$dir/$f.raw"
done
mv "$dir/console.tmp" "$dir/console.log"
mv "$dir/results.tmp" "$dir/results.ktap"
{
	echo "kernel=$(realpath "$kernel")"
	echo "initramfs=$(realpath "$initramfs")"
	echo "suite=$suite"
	echo "accel=$acc"
	echo "append=$append"
	echo "init_seconds=${init_ms:+$(secs "$init_ms")}"
	echo "total_seconds=$(secs "$total_ms")"
	echo "qemu_exit=$qrc"
} >"$dir/boot.info"

# qemu_status: QEMU's exit status in words.
qemu_status() {
	if [ "$qrc" -gt 128 ]; then
		echo "QEMU was killed by signal $((qrc - 128)) (SIG$(kill -l "$((qrc - 128))" 2>/dev/null || echo '?'))"
	else
		echo "QEMU exited with status $qrc"
	fi
}

panic=$(first 'Kernel panic')
if [ -n "$panic" ]; then
	context "${panic%%:*}"
	fail "kernel panic: $(cut -d: -f2- <<<"$panic" | cut -c1-160)"
fi
splat=$(first "$KERNEL_SPLAT")
if [ -n "$splat" ]; then
	context "${splat%%:*}"
	fail "kernel splat in the console: $(cut -d: -f2- <<<"$splat" | cut -c1-160)${timed_out:+ (then timed out)}"
fi
if [ -n "$timed_out" ]; then
	tail -n 20 "$dir/console.log" | sed 's/^/    | /' >&2
	fail "timed out after ${timeout}s: the guest hung or the suite is too slow for this TIMEOUT"
fi
if [ ! -s "$dir/console.log" ]; then
	fail "no console output, $(qemu_status): $(tail -n1 "$dir/qemu.log")"
fi
if [ "$qrc" -ne 0 ]; then
	tail -n 10 "$dir/console.log" | sed 's/^/    | /' >&2
	fail "$(qemu_status) (QEMU's messages: $dir/qemu.log)"
fi
if ! grep -qxF "$KTAP_END" "$dir/results.ktap"; then
	tail -n 20 "$dir/console.log" | sed 's/^/    | /' >&2
	fail "the guest stopped before the end of the run (no '$KTAP_END' in results.ktap)"
fi
echo ok >"$dir/status"
init_s=${init_ms:+$(secs "$init_ms")}
info "$label: init after ${init_s:-?}s, done after $(secs "$total_ms")s ($acc)"

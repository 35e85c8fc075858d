#!/usr/bin/env bash
# accel.sh: decide, once per run, how QEMU runs the guests, and add it to
# the run record (ACCEL, ACCEL_WHY): kvm only if the CPU has vmx or svm,
# /dev/kvm is usable and a probe boot of Debian's 6.12 image under KVM
# prints the kernel banner and gets to its end (no root file system:
# a panic) within 60 s; otherwise tcg. UFFDWP_ACCEL=tcg|kvm overrides.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
load_run

record() {
	printf 'ACCEL=%q\nACCEL_WHY=%q\n' "$1" "$2" >>"$RUN_ENV"
	info "QEMU accelerator: $1 ($2)"
}

case "${UFFDWP_ACCEL:-}" in
tcg | kvm) record "$UFFDWP_ACCEL" "UFFDWP_ACCEL"; exit 0 ;;
"") ;;
*) die "UFFDWP_ACCEL=$UFFDWP_ACCEL: use tcg or kvm" ;;
esac
if ! grep -qwE 'vmx|svm' /proc/cpuinfo; then
	record tcg "the CPU has no vmx/svm flag"
	exit 0
fi
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	record tcg "/dev/kvm is missing or not usable by uid $(id -u)"
	exit 0
fi
kernel="$REFDIR/debian-6.12/vmlinuz"
[ -f "$kernel" ] || die "$kernel missing: run scripts/fetch.sh first"
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
rc=0
timeout -k 5 60 qemu-system-x86_64 -nodefaults -no-user-config -display none \
	-machine pc,accel=kvm -cpu host -smp 1 -m 512M -no-reboot \
	-bios /usr/share/qemu/qboot.rom -kernel "$kernel" \
	-append "console=ttyS0 panic=-1" -serial "file:$probe/console" \
	</dev/null >"$probe/qemu.log" 2>&1 || rc=$?
if [ "$rc" -eq 0 ] && grep -q 'Linux version' "$probe/console" &&
	grep -q 'Kernel panic' "$probe/console"; then
	record kvm "a probe boot under KVM worked"
else
	record tcg "vmx/svm present but a probe boot under KVM failed (exit $rc): $(tail -n 1 "$probe/qemu.log" 2>/dev/null)"
fi

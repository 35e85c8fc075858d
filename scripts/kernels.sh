#!/usr/bin/env bash
# kernels.sh NAME...: print "NAME PATH" for each test kernel asked for.
#   patched      the series built from configs/test.config
#   debian-6.1   Debian's prebuilt unpatched base (fetch.sh)
#   debian-6.12  Debian's prebuilt 6.12, mainline behaviour
#   debian-config the series built with Debian's own configuration
#                (build-matrix.sh, leg 'debian')
#   debug        the test kernel with KASAN, lockdep and the mm checkers
#                (build-matrix.sh, leg 'debug')
#   mutant-NAME  the test kernel (or the debug kernel, for a patch that says
#                "Kernel: debug") with mutants/NAME.patch planted; one build
#                tree serves them all, so only the one built last is there
#                (mutant-build.sh)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

for k in "$@"; do
	case "$k" in
	patched) p="$BUILD/patched/arch/x86/boot/bzImage" ;;
	debian-6.1 | debian-6.12) p="$REFDIR/$k/vmlinuz" ;;
	debian-config) p="$BUILD/matrix-debian/arch/x86/boot/bzImage" ;;
	debug) p="$BUILD/matrix-debug/arch/x86/boot/bzImage" ;;
	mutant-?*)
		p="$BUILD/mutant/arch/x86/boot/bzImage"
		! mutant_is_debug "${k#mutant-}" || p="$BUILD/mutant-debug/arch/x86/boot/bzImage"
		;;
	*) die "unknown kernel '$k' (patched, debian-6.1, debian-6.12, debian-config, debug, mutant-NAME)" ;;
	esac
	[ -f "$p" ] || die "kernel $k not found at $p: run 'make kernel' (patched), 'make fetch' (Debian's) or 'make check-matrix' (debian-config) or 'make check-debug' (debug) or 'make check-mutants' (mutant-NAME)"
	printf '%s %s\n' "$k" "$p"
done

#!/usr/bin/env bash
# build-kernel.sh SRCDIR OUTDIR [FRAGMENT...]
# Configure (default fragment: configs/test.config) and build bzImage and
# the uapi headers in OUTDIR, with ccache. Incremental: rerunning with
# nothing changed only relinks what make thinks is stale.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -ge 2 ] || die "usage: build-kernel.sh SRCDIR OUTDIR [FRAGMENT...]"
src=$1 out=$2
shift 2
[ $# -gt 0 ] || set -- "$TOP/configs/test.config"
[ -f "$src/Makefile" ] || die "$src is not a kernel tree"

"$TOP/scripts/kconfig.sh" "$src" "$out" "$@"

mkdir -p "$CCACHE_DIR"
# Fixed build identity: keeps ccache hits across runs and trees.
export KBUILD_BUILD_TIMESTAMP="2000-01-01" KBUILD_BUILD_USER=uffd KBUILD_BUILD_HOST=harness
log="$out/build.log"
info "make -j$JOBS bzImage (log: $log)"
if ! make -C "$src" O="$out" ARCH=x86_64 CC="ccache gcc" -j"$JOBS" \
	bzImage >"$log" 2>&1; then
	grep -E ': (fatal )?error:|undefined reference|\*\*\*' "$log" | head -n 20 >&2 || tail -n 20 "$log" >&2
	die "kernel build failed in $src; full log: $log"
fi
quiet "$out/headers.log" make -C "$src" O="$out" ARCH=x86_64 \
	INSTALL_HDR_PATH="$out/usr" headers_install
info "$(stat -c %s "$out/arch/x86/boot/bzImage") bytes: $out/arch/x86/boot/bzImage"

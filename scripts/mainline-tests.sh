#!/usr/bin/env bash
# mainline-tests.sh: prepare mainline's userfaultfd unit tests for the
# guest build, from Debian's linux-source-6.12 (never committed here):
#   $MAINLINE_TESTS/linux/    the few parts of the 6.12 tree they need:
#                             tools/testing/selftests/mm (uffd-unit-tests.c,
#                             uffd-common.c, vm_util.c, thp_settings.c),
#                             kselftest.h, mm/gup_test.h, and what
#                             'make headers_install' reads
#   $MAINLINE_TESTS/usr/include  the 6.12 uapi headers they are built against
# The tree gets mainline/*.patch, our patches to mainline's tests (git
# format-patch files, in name order; see README: minor-wp gets a real probe
# for UFFDIO_CONTINUE_MODE_WP and checks write protection). guest/programs
# names the files as mainline:PATH. Reused while the package version, the
# patches and this script are unchanged; otherwise prepared again.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
load_run

shopt -s nullglob
mpatches=("$TOP"/mainline/*.patch)
shopt -u nullglob
test_src=tools/testing/selftests/mm/uffd-unit-tests.c
# What the tests include, and what headers_install needs (no .config, no
# kernel build: scripts, the uapi trees, the x86 arch Makefiles and syscall
# tables, usr/include's Makefile and tools/include for arch/x86/tools).
parts=(Makefile scripts include/uapi arch/x86 usr tools/include
	tools/testing/selftests/kselftest.h tools/testing/selftests/mm mm/gup_test.h)

version=$MAINLINE_VERSION
deb=$(debfile "$MAINLINE_PKG" "$version")
[ "${#mpatches[@]}" -gt 0 ] || die "no mainline/*.patch: restore them from git"
stamp=$({
	echo "$MAINLINE_PKG $version"
	sha256sum "${mpatches[@]}" "$0" | cut -d' ' -f1
} | sha256sum | cut -d' ' -f1)
if [ "$(cat "$MAINLINE_TESTS/stamp" 2>/dev/null)" = "$stamp" ]; then
	info "mainline unit tests from $MAINLINE_PKG $version ready in $MAINLINE_TESTS"
	exit 0
fi

tmp="$MAINLINE_TESTS.tmp"
log="$tmp.log"
rm -rf "$tmp" "$log"
mkdir -p "$tmp/linux"
tarball="$tmp/source.tar.xz"
source_tarball "$deb" >"$tarball" || die "cannot write the source tarball of ${deb##*/} to $tarball (disk full?) or read it (a damaged file: delete it and run again)"
info "extracting ${#parts[@]} parts of ${deb##*/}"
top=$(tar -tJf "$tarball" | head -n 1) || true
top=${top%%/*}
[ -n "$top" ] || die "cannot read the source tarball of ${deb##*/}: if the file is damaged, delete it and run again"
quiet "$log" tar -xJf "$tarball" -C "$tmp/linux" --strip-components=1 "${parts[@]/#/$top/}"
[ -f "$tmp/linux/$test_src" ] ||
	die "$MAINLINE_PKG $version has no $test_src: these tests need a 6.4 or later source package"

for p in "${mpatches[@]}"; do
	info "applying ${p#"$TOP"/}"
	(cd "$tmp/linux" && patch -p1 --fuzz=0 --no-backup-if-mismatch --dry-run <"$p" >>"$log" 2>&1) ||
		die "${p#"$TOP"/} does not apply to $MAINLINE_PKG $version: refresh it against $test_src (see $log)"
	(cd "$tmp/linux" && quiet "$log" patch -p1 --fuzz=0 --no-backup-if-mismatch -i "$p")
done

info "installing the $version uapi headers"
quiet "$log" make -C "$tmp/linux" O="$tmp/obj" ARCH=x86_64 -j"$JOBS" \
	headers_install INSTALL_HDR_PATH="$tmp/usr"
grep -q UFFDIO_CONTINUE_MODE_WP "$tmp/usr/include/linux/userfaultfd.h" ||
	die "the $version uapi headers lack UFFDIO_CONTINUE_MODE_WP: is $MAINLINE_PKG older than 6.4?"
rm -rf "$tmp/obj" "$tarball"

echo "$stamp" >"$tmp/stamp"
rm -rf "$MAINLINE_TESTS"
mv "$tmp" "$MAINLINE_TESTS"
mv "$log" "$MAINLINE_TESTS/prepare.log"
info "mainline unit tests from $MAINLINE_PKG $version ready in $MAINLINE_TESTS"

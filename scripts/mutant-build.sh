#!/usr/bin/env bash
# mutant-build.sh NAME
# The test kernel with the bug of mutants/NAME.patch planted in the applied
# series' tip: the source is $UFFDWP_CACHE/mutant, a work tree of $SRC
# reset to the tip and patched; the build tree is $BUILD/mutant, or, for a
# patch with the header line "Kernel: debug", $BUILD/mutant-debug with the
# debug kernel's options too (configs/matrix/debug.config). Going back to
# the tip rewrites only the files the previous mutant changed, so make
# rebuilds only those: after the first build each mutant costs a few files
# and a relink.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
load_run

[ $# -eq 1 ] || die "usage: mutant-build.sh NAME (a mutants/NAME.patch)"
patch=$TOP/mutants/$1.patch
if [ ! -f "$patch" ]; then
	names=("$TOP"/mutants/*.patch)
	names=("${names[@]##*/}")
	die "no mutants/$1.patch; there are: ${names[*]%.patch}"
fi
tip=$(applied_tip)
src=$UFFDWP_CACHE/mutant

if ! git -C "$src" rev-parse -q --verify HEAD >/dev/null 2>&1; then
	rm -rf "$src"
	git -C "$SRC" worktree prune
	info "creating the mutant work tree $src"
	git -C "$SRC" worktree add -q --detach "$src" "$tip"
fi
git -C "$src" checkout -q -f --detach "$tip"
git -C "$src" clean -q -fd
git -C "$src" apply --check "$patch" 2>/dev/null ||
	die "mutants/$1.patch does not apply to the series tip $tip: recreate it against the tip (README: planted bugs)"
git -C "$src" apply "$patch"
info "planted mutants/$1.patch: $(git -C "$src" diff --stat | tail -n 1)"
if mutant_is_debug "$1"; then
	"$TOP/scripts/build-kernel.sh" "$src" "$BUILD/mutant-debug" \
		"$TOP/configs/test.config" "$TOP/configs/matrix/debug.config"
else
	"$TOP/scripts/build-kernel.sh" "$src" "$BUILD/mutant"
fi

#!/usr/bin/env bash
# readme-commands.sh: run the commands README.md gives a user for the
# series, exactly as written there, and check what they did. A README
# code block is tested when the line before it is
#   <!-- readme-commands: NAME -->
# NAME says what the block is and how its result is checked:
#   apply-git    in a tree at the base, with PATCHES=<repo>/patches: the
#                tree must end up as the applied series ($CHECK, branch check)
#   apply-quilt  the same, with quilt
#   edit-series  from the repository: make series-tree, make export must
#                leave patches/ byte for byte as it was
# Every marked block must be one of these, and each of these must be in
# the README. (make and make check are run by check-fresh.sh.)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
load_run

readme="$TOP/README.md"
work="$UFFDWP_CACHE/readme"
mkdir -p "$work"

# block NAME: the text of the code block marked NAME.
block() {
	readme_block readme-commands "$1" <"$readme"
}

mapfile -t marked < <(sed -n 's/^<!-- readme-commands: \(.*\) -->$/\1/p' "$readme")
for name in "${marked[@]}"; do
	case "$name" in
	apply-git | apply-quilt | edit-series) ;;
	*) die "README.md marks a block '$name', which this script does not know how to check" ;;
	esac
done
for name in apply-git apply-quilt edit-series; do
	[ -n "$(block "$name")" ] || die "README.md has no block marked '<!-- readme-commands: $name -->'"
done

tip_tree=$(git -C "$CHECK" rev-parse 'check^{tree}')

# scratch: a worktree at the base, clean.
tree="$work/linux"
if ! git -C "$tree" rev-parse --git-dir >/dev/null 2>&1; then
	rm -rf "$tree"
	git -C "$SRC" worktree prune
	git -C "$SRC" worktree add -q --detach "$tree" "$BASE_TAG"
fi
scratch() {
	git -C "$tree" am --abort >/dev/null 2>&1 || true
	git -C "$tree" checkout -q -f --detach "$BASE_TAG"
	git -C "$tree" clean -q -f -d -x
}

# run NAME: the block, in the scratch tree, under bash -e.
run() {
	local log="$work/$1.log"
	if ! (cd "$tree" && PATCHES="$TOP/patches" bash -e -c "$(block "$1")") >"$log" 2>&1; then
		sed 's/^/    | /' "$log" | tail -n 15 >&2
		die "the README's '$1' commands failed (log: $log)"
	fi
}

scratch
run apply-git
[ "$(git -C "$tree" rev-parse 'HEAD^{tree}')" = "$tip_tree" ] ||
	die "the README's git am commands did not produce the applied series (tree differs from $CHECK)"
n=$(git -C "$tree" rev-list --count "$BASE_TAG..HEAD")
info "README apply-git: git am applied $n patches, the tree is the series tip's"

scratch
run apply-quilt
(cd "$tree" && git add -f -A . && git rm -r -q --cached --ignore-unmatch .pc >/dev/null)
[ "$(git -C "$tree" write-tree)" = "$tip_tree" ] ||
	die "the README's quilt commands did not produce the applied series (tree differs from $CHECK)"
info "README apply-quilt: quilt pushed the series, the tree is the series tip's"
scratch

# edit-series: its make commands, each run as the README says, from the
# repository, but on a scratch cache ($work/cache: its git repository
# borrows the real one's objects), so that make check never touches the
# user's own branch 'series'. patches/ must not change.
if [ "$BASE_VERSION" != "$BASE_PIN" ]; then
	info "README edit-series: not checked on base $BASE_VERSION (the export records the pinned base $BASE_PIN)"
	exit 0
fi
scache="$work/cache"
mkdir -p "$scache"
if [ ! -d "$scache/linux/.git" ]; then
	rm -rf "$scache/linux"
	git init -q "$scache/linux"
	echo "$SRC/.git/objects" >"$scache/linux/.git/objects/info/alternates"
fi
git -C "$scache/linux" update-ref "refs/tags/$BASE_TAG" "$(git -C "$SRC" rev-parse "refs/tags/$BASE_TAG")"
cp "$RUN_ENV" "$scache/run.env"
before="$work/patches.before"
rm -rf "$before"
cp -a "$TOP/patches" "$before"
log="$work/edit-series.log"
# FORCE=1: the scratch branch is ours to replace.
if ! (cd "$TOP" && UFFDWP_CACHE="$scache" UFFDWP_NESTED="$RUN_ID" FORCE=1 \
	BASE="$BASE_VERSION" bash -e -c "$(block edit-series)") >"$log" 2>&1; then
	sed 's/^/    | /' "$log" | tail -n 15 >&2
	rm -rf "$TOP/patches" && cp -a "$before" "$TOP/patches"
	die "the README's edit-series commands failed (log: $log)"
fi
if ! diff -r "$before" "$TOP/patches" >"$work/edit-series.diff"; then
	rm -rf "$TOP/patches" && cp -a "$before" "$TOP/patches"
	head -n 20 "$work/edit-series.diff" | sed 's/^/    | /' >&2
	die "make series-tree + make export change patches/ (restored; diff: $work/edit-series.diff): patches/ is not what the series branch exports"
fi
info "README edit-series: make series-tree, make export leave patches/ unchanged"

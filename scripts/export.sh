#!/usr/bin/env bash
# export.sh [--check]
# Export branch 'series' of the cache work tree to patches/ with git
# format-patch: numbered patches, a cover letter from the branch
# description, and patches/series. Output is reproducible (zero commit
# ids, no signature, the cover letter dated by the tip's author date,
# which git am keeps), so exporting an unchanged branch, or one just
# made by 'make series-tree', leaves the repo untouched. --check only
# reports whether patches/ is up to date (exit 1 if not).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

check=0
[ "${1:-}" = --check ] && check=1

[ -d "$SRC" ] || die "no $SRC: run 'make series-tree' first"
cd "$SRC"
git rev-parse -q --verify refs/heads/series >/dev/null ||
	die "no branch 'series' in $SRC: run 'make series-tree' first"
# The base the branch was made on (series-tree.sh records it; a branch
# made before it did: the tag of the branch's root commit).
BASE_TAG=$(git config branch.series.base || true)
if [ -z "$BASE_TAG" ]; then
	BASE_TAG=$(git tag --points-at "$(git rev-list --max-parents=0 series | tail -n 1)" 'debian/*' | head -n 1)
fi
if [ -z "$BASE_TAG" ] || ! git rev-parse -q --verify "refs/tags/$BASE_TAG" >/dev/null; then
	die "branch 'series' in $SRC records no base tag (branch.series.base): run 'make series-tree' again"
fi
[ -n "$(git config branch.series.description || true)" ] ||
	die "branch 'series' has no description (the cover letter): set it with 'git branch --edit-description series'"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
count=$(git rev-list --count "$BASE_TAG..series")
cover=()
[ "$count" -gt 0 ] && cover=(--cover-letter --cover-from-description=subject)
# The cover letter's From: is the tip's author (ours), not the harness's
# fixed identity.
GIT_COMMITTER_DATE=$(git log -1 --format=%aI series) \
	git -c user.name="$(git log -1 --format=%an series)" \
	-c user.email="$(git log -1 --format=%ae series)" format-patch -q --zero-commit --no-signature --base="$BASE_TAG" \
	"${cover[@]}" -o "$out" "$BASE_TAG..series"
# The first branch.series.stable patches are stable material: the
# series file says so, and apply.sh checks each applies to the base alone.
stable=$(git config branch.series.stable || echo 0)
case "$stable" in '' | *[!0-9]*) die "branch.series.stable is '$stable', not a number of patches" ;; esac
[ "$stable" -le "$count" ] || die "branch.series.stable is $stable, but the branch has $count patches"
{
	echo "# Apply in this order: quilt push -a, or git am on $BASE_TAG."
	i=0
	for f in "$out"/[0-9][0-9][0-9][0-9]-*.patch; do
		[ -e "$f" ] || continue
		case "${f##*/}" in 0000-*) continue ;; esac
		i=$((i + 1))
		if [ "$stable" -gt 0 ] && [ "$i" = 1 ]; then
			echo "# Stable material: fixes, each of which applies to the unpatched base on its own."
		fi
		if [ "$stable" -gt 0 ] && [ "$i" = $((stable + 1)) ]; then
			echo "# The feature backport, on top of the fixes, with its documentation and tests."
		fi
		echo "${f##*/}"
	done
} >"$out/series"

changed=0
for f in "$out"/*; do
	cmp -s "$f" "$TOP/patches/$(basename "$f")" || changed=1
done
for f in "$TOP"/patches/*; do
	[ -e "$f" ] || continue
	[ -e "$out/$(basename "$f")" ] || changed=1
done
if [ "$check" = 1 ]; then
	exit "$changed"
fi
if [ "$changed" = 0 ]; then
	info "patches/ is up to date ($count patches)"
	exit 0
fi
mkdir -p "$TOP/patches"
for f in "$TOP"/patches/*; do
	[ -e "$f" ] || continue
	[ -e "$out/$(basename "$f")" ] || rm -f "$f"
done
for f in "$out"/*; do
	cmp -s "$f" "$TOP/patches/$(basename "$f")" || cp "$f" "$TOP/patches/"
done
info "exported $count patches to patches/"

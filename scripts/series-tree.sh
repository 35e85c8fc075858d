#!/usr/bin/env bash
# Materialise base + patches/series as commits on branch 'series' in the
# cache work tree ($SRC), ready to edit with git (commit --amend, rebase
# -i, ...). The cover letter becomes the branch description, which
# 'make export' turns back into patches/0000-cover-letter.patch.
# Refuses to throw away commits on 'series' that were not exported.
# The base is the run's (pipeline.sh series-tree resolves it: the pinned
# version unless BASE says otherwise); it is recorded as the branch's
# 'base' for export.sh.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
load_run

git -C "$SRC" rev-parse -q --verify "refs/tags/$BASE_TAG" >/dev/null ||
	die "no base $BASE_TAG in $SRC: run scripts/base.sh first (make series-tree does)"
cd "$SRC"
[ -z "$(git status --porcelain --untracked-files=no)" ] ||
	die "$SRC has uncommitted changes: commit or stash them first"

if git rev-parse -q --verify refs/heads/series >/dev/null; then
	if [ "${FORCE:-0}" != 1 ] && ! "$TOP/scripts/export.sh" --check; then
		die "branch 'series' in $SRC has work not exported to patches/: run 'make export' first, or FORCE=1 to discard it"
	fi
fi

git am --abort >/dev/null 2>&1 || true
git checkout -q -f -B series "$BASE_TAG"
git config branch.series.base "$BASE_TAG"
git config branch.series.stable "$(series_stable | wc -l)"
n=0
while IFS= read -r p; do
	[ -f "$TOP/patches/$p" ] || die "patches/series names $p, which does not exist"
	if ! out=$(git am -q --keep-cr --committer-date-is-author-date "$TOP/patches/$p" 2>&1); then
		printf '%s\n' "$out" | sed 's/^/    git: /' | head -n 8 >&2
		git am --abort >/dev/null 2>&1 || true
		die "git am $p failed (git's message above); 'make apply' shows the failing hunk"
	fi
	n=$((n + 1))
done < <(series_patches)

cover="$TOP/patches/0000-cover-letter.patch"
if [ -f "$cover" ]; then
	# Subject (without the [PATCH 0/N] tag) and body up to the shortlog.
	desc=$(awk '
		/^Subject: / { sub(/^Subject: (\[[^]]*\] )?/, ""); subj = $0; insubj = 1; next }
		insubj && /^ / { sub(/^ /, ""); subj = subj " " $0; next }
		insubj && /^$/ { insubj = 0; body = 1; print subj; print ""; next }
		body && /^.* \([0-9]+\):$/ { exit }
		body { print }
	' "$cover")
	git config branch.series.description "$desc"
fi
info "branch 'series' in $SRC: $BASE_TAG + $n patches"

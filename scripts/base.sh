#!/usr/bin/env bash
# Make the base of this run (run record: BASE_VERSION, BASE_TAG) a commit
# of the cache repository $SRC: the pristine tree of Debian's
# linux-source-6.1 of that version, one root commit tagged
# debian/VERSION. Each base version gets its own tag in the one
# repository, so switching base (a new Debian upload, BASE=newest) never
# needs 'make clean-cache'. The commit is made with a private index from
# a scratch extraction, and the tag is written last: an interrupted run
# leaves no tag, and the next run starts again.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
load_run

if [ ! -d "$SRC/.git" ]; then
	[ ! -e "$SRC" ] || die "$SRC exists but is not a git repository: move it away (or 'make clean-cache')"
	git init -q "$SRC"
	# Debian's top-level .gitignore ignores everything ('/*'): a checkout
	# of the base (series-tree.sh) needs 'git add -f' for new files.
fi
git -C "$SRC" rev-parse --git-dir >/dev/null ||
	die "git cannot read $SRC (see its message above)"

if git -C "$SRC" rev-parse -q --verify "refs/tags/$BASE_TAG^{commit}" >/dev/null; then
	info "base $BASE_TAG ready in $SRC"
	exit 0
fi

deb=$(debfile "$BASE_PKG" "$BASE_VERSION")
tmp="$UFFDWP_CACHE/base.tmp"
rm -rf "$tmp"
mkdir -p "$tmp/tree"
info "extracting ${deb##*/}"
source_tarball "$deb" | tar -xJ -C "$tmp/tree" --strip-components=1 ||
	die "cannot extract the source tarball of ${deb##*/} into $tmp (disk full? df -h $UFFDWP_CACHE; a damaged file: delete it and run again)"
if [ ! -f "$tmp/tree/Makefile" ] || [ ! -f "$tmp/tree/mm/userfaultfd.c" ]; then
	die "${deb##*/} does not hold a kernel tree"
fi

info "committing the base tree as $BASE_TAG"
export GIT_INDEX_FILE="$tmp/index"
# -f: Debian's top-level .gitignore ends with '/*'.
git -C "$SRC" --work-tree="$tmp/tree" add -f -A .
tree=$(git -C "$SRC" write-tree)
unset GIT_INDEX_FILE
# Fixed identity and date: the same Debian version always gives the same
# commit id (patches/ records it as base-commit).
commit=$(GIT_AUTHOR_NAME="Debian" GIT_AUTHOR_EMAIL="debian-kernel@lists.debian.org" \
	GIT_COMMITTER_NAME="Debian" GIT_COMMITTER_EMAIL="debian-kernel@lists.debian.org" \
	GIT_AUTHOR_DATE="2000-01-01T00:00:00Z" GIT_COMMITTER_DATE="2000-01-01T00:00:00Z" \
	git -C "$SRC" commit-tree "$tree" -m "Debian $BASE_PKG $BASE_VERSION")
git -C "$SRC" tag "$BASE_TAG" "$commit"
rm -rf "$tmp"
info "base $BASE_TAG ready in $SRC ($commit)"

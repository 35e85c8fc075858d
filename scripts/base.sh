#!/usr/bin/env bash
# Turn Debian's linux-source-6.1 tarball into a git repository in the
# cache: one commit holding the pristine tree, tagged with the package
# version. Reused as is on later runs.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

installed=$(dpkg-query -W -f='${Version}' "$BASE_PKG" 2>/dev/null) ||
	die "$BASE_PKG is not installed: run 'make deps' (or apt-get install $BASE_PKG)"
if [ "$installed" != "$BASE_VERSION" ]; then
	warn "installed $BASE_PKG is $installed, but the series was tested on $BASE_VERSION"
	warn "the series may not apply; results are for $installed, not $BASE_VERSION"
	BASE_VERSION=$installed
	BASE_TAG="debian/${BASE_VERSION//\~/_}"
fi

if git -C "$SRC" rev-parse -q --verify "refs/tags/$BASE_TAG" >/dev/null 2>&1; then
	info "base $BASE_TAG ready in $SRC"
	exit 0
fi
if [ -e "$SRC" ]; then
	die "$SRC exists but has no tag $BASE_TAG: move it away or 'make clean-cache'"
fi

tarball=/usr/src/$BASE_PKG.tar.xz
[ -f "$tarball" ] || die "$tarball missing: reinstall $BASE_PKG"

tmp="$SRC.tmp"
rm -rf "$tmp"
mkdir -p "$tmp"
info "extracting $tarball"
tar -xJf "$tarball" -C "$tmp" --strip-components=1
cd "$tmp"
git init -q -b base
git config gc.auto 0
# Debian's top-level .gitignore ends with '/*': force-add the whole tree.
info "committing the base tree"
git add -f -A .
GIT_AUTHOR_NAME="Debian" GIT_AUTHOR_EMAIL="debian-kernel@lists.debian.org" \
	GIT_COMMITTER_NAME="Debian" GIT_COMMITTER_EMAIL="debian-kernel@lists.debian.org" \
	GIT_AUTHOR_DATE="2000-01-01T00:00:00Z" GIT_COMMITTER_DATE="2000-01-01T00:00:00Z" \
	git commit -q -m "Debian $BASE_PKG $BASE_VERSION"
git tag "$BASE_TAG"
cd /
mv "$tmp" "$SRC"
info "base $BASE_TAG ready in $SRC"

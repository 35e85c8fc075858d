#!/usr/bin/env bash
# Fetch Debian's prebuilt reference kernels with apt-get download and
# unpack them into the cache:
#   $REFDIR/debian-6.1/vmlinuz   unpatched base, same version as the source
#   $REFDIR/debian-6.12/vmlinuz  mainline behaviour
# Cached: a kernel already unpacked is not fetched again.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# fetch NAME PACKAGE: download PACKAGE and unpack its vmlinuz as NAME.
fetch() {
	local name=$1 pkg=$2 dir="$REFDIR/$1" tmp
	if [ -f "$dir/vmlinuz" ] && [ "$(cat "$dir/package" 2>/dev/null)" = "$pkg" ]; then
		info "$name: $pkg (cached)"
		return 0
	fi
	tmp=$(mktemp -d "$REFDIR/.fetch.XXXXXX")
	info "$name: downloading $pkg"
	(cd "$tmp" && quiet "$UFFDWP_CACHE/logs/apt-download.log" apt-get download "$pkg")
	dpkg-deb -x "$tmp"/*.deb "$tmp/root"
	rm -rf "$dir"
	mkdir -p "$dir"
	cp "$tmp"/root/boot/vmlinuz-* "$dir/vmlinuz"
	echo "$pkg" >"$dir/package"
	rm -rf "$tmp"
	info "$name: $pkg unpacked to $dir"
}

# The newest package of those apt knows that matches REGEX and whose
# version is VERSION (any version if VERSION is empty).
pick() {
	local regex=$1 version=$2 p v best=""
	for p in $(apt-cache search --names-only "$regex" | awk '{print $1}' | sort -V); do
		v=$(apt-cache show "$p" 2>/dev/null | awk '/^Version:/{print $2; exit}')
		if [ -z "$version" ] || [ "$v" = "$version" ]; then
			best=$p
		fi
	done
	printf '%s\n' "$best"
}

mkdir -p "$REFDIR" "$UFFDWP_CACHE/logs"
if ! apt-cache show "$MAINLINE_PKG" >/dev/null 2>&1; then
	quiet "$UFFDWP_CACHE/logs/apt.log" apt-get update
fi

base_version=$(dpkg-query -W -f='${Version}' "$BASE_PKG" 2>/dev/null) ||
	die "$BASE_PKG is not installed: run 'make deps'"
pkg61=$(pick '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' "$base_version")
[ -n "$pkg61" ] || die "no linux-image-6.1.0-*-amd64-unsigned with version $base_version in apt: run apt-get update"
fetch debian-6.1 "$pkg61"

main_version=$(dpkg-query -W -f='${Version}' "$MAINLINE_PKG" 2>/dev/null) ||
	die "$MAINLINE_PKG is not installed: run 'make deps'"
pkg612=$(pick '^linux-image-6\.12\.[0-9]+\+deb[0-9]+-amd64-unsigned$' "$main_version")
[ -n "$pkg612" ] || pkg612=$(pick '^linux-image-6\.12\.[0-9]+\+deb[0-9]+-amd64$' "$main_version")
[ -n "$pkg612" ] || die "no linux-image-6.12.*-amd64 with version $main_version in apt: run apt-get update"
fetch debian-6.12 "$pkg612"

#!/usr/bin/env bash
# fetch.sh: download, with apt-get download, the exact package versions
# the run record names, into $DEBS (kept: a later run with the same
# versions downloads nothing), before any long step:
#   linux-source-6.1  BASE_VERSION      the base tree (base.sh)
#   linux-source-6.12 MAINLINE_VERSION  mainline's tests (mainline-tests.sh)
#   REF61_PKG, REF612_PKG               Debian's prebuilt kernels, unpacked to
#                                       $REFDIR/debian-6.1 and debian-6.12
# apt-get download checks each file against the signed archive index.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
load_run

mkdir -p "$DEBS" "$REFDIR" "$UFFDWP_CACHE/logs"

# deb PKG VERSION: the path of PKG's .deb of VERSION, downloaded if needed.
deb() {
	local pkg=$1 version=$2 f tmp
	f=$(find "$DEBS" -maxdepth 1 -name "${pkg}_${version//:/%3a}_*.deb" | head -n 1)
	if [ -n "$f" ] && dpkg-deb --info "$f" >/dev/null 2>&1; then
		printf '%s\n' "$f"
		return
	fi
	tmp=$(mktemp -d "$DEBS/.fetch.XXXXXX") || die "cannot create a directory in $DEBS"
	info "downloading $pkg $version" >&2
	if ! (cd "$tmp" && apt-get download "$pkg=$version" >>"$UFFDWP_CACHE/logs/apt-download.log" 2>&1); then
		# Lists older than the archive point at files it no longer has:
		# refresh them once and try again.
		if [ "$(id -u)" -eq 0 ]; then
			info "apt-get download $pkg=$version failed; refreshing apt's lists and trying again" >&2
			quiet "$UFFDWP_CACHE/logs/apt.log" apt-get update
		fi
		if ! (cd "$tmp" && apt-get download "$pkg=$version" >>"$UFFDWP_CACHE/logs/apt-download.log" 2>&1); then
			tail -n 5 "$UFFDWP_CACHE/logs/apt-download.log" >&2
			rm -rf "$tmp"
			die "apt-get download $pkg=$version failed (log: $UFFDWP_CACHE/logs/apt-download.log): if the archive no longer has it, run again to pick another version"
		fi
	fi
	f=$(find "$tmp" -maxdepth 1 -name '*.deb' | head -n 1)
	[ -n "$f" ] || die "apt-get download $pkg=$version left no .deb"
	mv "$f" "$DEBS/" || die "cannot move ${f##*/} into $DEBS (disk full?)"
	rm -rf "$tmp"
	printf '%s\n' "$DEBS/${f##*/}"
}

# ref NAME PKG VERSION: unpack the kernel image of PKG as $REFDIR/NAME/vmlinuz.
ref() {
	local name=$1 pkg=$2 version=$3 dir="$REFDIR/$1" f tmp
	if [ -f "$dir/vmlinuz" ] && [ "$(cat "$dir/package" 2>/dev/null)" = "$pkg $version" ]; then
		info "$name: $pkg $version (cached)"
		return
	fi
	f=$(deb "$pkg" "$version")
	tmp=$(mktemp -d "$REFDIR/.unpack.XXXXXX")
	dpkg-deb -x "$f" "$tmp/root"
	rm -rf "$dir"
	mkdir -p "$dir"
	cp "$tmp"/root/boot/vmlinuz-* "$dir/vmlinuz"
	cp "$tmp"/root/boot/config-* "$dir/config" 2>/dev/null || true
	echo "$pkg $version" >"$dir/package"
	rm -rf "$tmp"
	info "$name: $pkg $version unpacked to $dir"
}

f=$(deb "$BASE_PKG" "$BASE_VERSION")
info "base: ${f##*/}"
f=$(deb "$MAINLINE_PKG" "$MAINLINE_VERSION")
info "mainline: ${f##*/}"
ref debian-6.1 "$REF61_PKG" "$BASE_VERSION"
ref debian-6.12 "$REF612_PKG" "$MAINLINE_VERSION"

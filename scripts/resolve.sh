#!/usr/bin/env bash
# resolve.sh: decide, once per run, what this run is, and record it in
# $RUN_ENV for every later step:
#   RUN_ID            names the run; results of other runs are not reported
#   BASE_VERSION/TAG  the linux-source-6.1 version the series is applied to
#   BASE_PIN/NEWEST   the version configs/base-version pins, the archive's newest
#   MAINLINE_VERSION  the linux-source-6.12 version (mainline's tests and
#                     the reference for mainline behaviour), pinned in
#                     configs/mainline-version the same way (MAINLINE=
#                     pinned or newest)
#   REF61_PKG/REF612_PKG  Debian's prebuilt kernels of those two versions
# The base is chosen by BASE (environment or make BASE=...):
#   pinned (default)  configs/base-version; if the archive no longer has
#                     it, say so and use the newest
#   newest            the newest version apt offers
#   VERSION           exactly that version (e.g. to find the oldest base
#                     the series applies to)
# apt's lists are refreshed when they do not know a package or version
# this needs (a fresh machine may have none, or old ones), and always for
# BASE=newest or VERSION (as root). A newest version older than the pin
# means apt's sources lack a suite (bookworm-security): that is an error,
# not a fallback.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mode=${BASE:-pinned}
main_mode=${MAINLINE:-pinned}
MAINLINE_PIN=$(cat "$TOP/configs/mainline-version")
for pin in "$BASE_PIN" "$MAINLINE_PIN"; do
	dpkg --validate-version "$pin" 2>/dev/null ||
		die "configs/base-version or configs/mainline-version holds '$pin', not a Debian version"
done
refreshed=0

# refresh: apt-get update, once per run.
refresh() {
	[ "$refreshed" = 0 ] || return 0
	refreshed=1
	if [ "$(id -u)" -ne 0 ]; then
		warn "apt's lists may be out of date and only root can refresh them ('apt-get update'); going on with them as they are"
		return 0
	fi
	info "refreshing apt's lists (apt-get update)"
	quiet "$UFFDWP_CACHE/logs/apt.log" apt-get update
}

# versions PKG: the versions of PKG the archive offers (apt's lists, not
# dpkg's status file), newest first.
versions() {
	apt-cache madison "$1" 2>/dev/null | awk -F'|' '{ gsub(/ /, "", $2); print $2 }' |
		sort -V -r -u
}

# images REGEX: "PACKAGE VERSION" for every version of every package whose
# name matches REGEX, in one apt-cache call.
images() {
	local names
	names=$(apt-cache search --names-only "$1" | awk '{ print $1 }')
	[ -n "$names" ] || return 0
	# shellcheck disable=SC2086 # one word per package name
	apt-cache show $names 2>/dev/null | awk '/^Package: / { p = $2 } /^Version: / { print p, $2 }'
}

# image_for REGEX VERSION: the package matching REGEX with that version.
image_for() {
	images "$1" | awk -v v="$2" '$2 == v { print $1 }' | sort -V | tail -n 1
}

# older A B: whether Debian version A sorts before B.
older() {
	dpkg --compare-versions "$1" lt "$2"
}

# suites: the suites apt's sources name, for error messages.
suites() {
	# shellcheck disable=SC2016 # apt's format, not the shell's
	apt-get indextargets --format '$(RELEASE)' 2>/dev/null | sort -u | tr '\n' ' '
}

mkdir -p "$UFFDWP_CACHE/logs"
if [ "$mode" != pinned ] && [ "$(id -u)" -eq 0 ]; then
	refresh
fi
mapfile -t base_versions < <(versions "$BASE_PKG")
if [ "${#base_versions[@]}" -eq 0 ] || { [ "$mode" = pinned ] &&
	[[ " ${base_versions[*]} " != *" $BASE_PIN "* ]]; }; then
	refresh
	mapfile -t base_versions < <(versions "$BASE_PKG")
fi
[ "${#base_versions[@]}" -gt 0 ] ||
	die "apt knows no version of $BASE_PKG: is a Debian 12 (bookworm) and bookworm-security source in /etc/apt/sources.list(.d)?"
newest=${base_versions[0]}
have() { [[ " ${base_versions[*]} " == *" $1 "* ]]; }

case "$mode" in
pinned)
	if have "$BASE_PIN"; then
		version=$BASE_PIN
		[ "$newest" = "$BASE_PIN" ] ||
			info "base: the series is pinned to $BASE_PIN; the archive's newest is $newest (make check BASE=newest tests that)"
	elif older "$newest" "$BASE_PIN"; then
		die "the newest $BASE_PKG apt knows is $newest, older than the pinned $BASE_PIN: apt's sources lack a suite (they have: $(suites)); Debian 12's kernel updates come from bookworm-security"
	else
		version=$newest
		info "base: the pinned $BASE_PIN is no longer in the Debian archive; using the newest, $newest"
	fi
	;;
newest)
	version=$newest
	if [ "$newest" = "$BASE_PIN" ]; then
		info "base: newest $newest is the pinned version"
	else
		info "base: newest $newest, not the pinned $BASE_PIN the series was tested on"
	fi
	;;
*)
	have "$mode" || die "BASE=$mode: the archive has no $BASE_PKG $mode (it has: ${base_versions[*]})"
	version=$mode
	info "base: $version as asked (pinned: $BASE_PIN, newest: $newest)"
	;;
esac

# The unpatched base, prebuilt: Debian's image of the same version.
ref61=$(image_for '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' "$version")
if [ -z "$ref61" ]; then
	refresh
	ref61=$(image_for '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' "$version")
fi
[ -n "$ref61" ] || die "the archive has no linux-image-6.1.0-*-amd64-unsigned of version $version (the unpatched base to compare with)"

# Mainline: linux-source-6.12 of the pinned version and Debian's image of
# the same version; if the archive no longer has both, the newest that has.
image612() {
	local p
	p=$(image_for '^linux-image-6\.12\.[0-9]+\+deb[0-9]+-amd64-unsigned$' "$1")
	[ -n "$p" ] || p=$(image_for '^linux-image-6\.12\.[0-9]+\+deb[0-9]+-amd64$' "$1")
	printf '%s\n' "$p"
}
mapfile -t main_versions < <(versions "$MAINLINE_PKG")
if [ "${#main_versions[@]}" -eq 0 ] || { [ "$main_mode" = pinned ] &&
	[[ " ${main_versions[*]} " != *" $MAINLINE_PIN "* ]]; }; then
	refresh
	mapfile -t main_versions < <(versions "$MAINLINE_PKG")
fi
main_version="" ref612=""
if [ "$main_mode" = pinned ] && [[ " ${main_versions[*]} " == *" $MAINLINE_PIN "* ]]; then
	ref612=$(image612 "$MAINLINE_PIN")
	[ -z "$ref612" ] || main_version=$MAINLINE_PIN
fi
if [ -z "$main_version" ]; then
	for v in "${main_versions[@]}"; do
		ref612=$(image612 "$v")
		if [ -n "$ref612" ]; then
			main_version=$v
			break
		fi
	done
	[ -n "$main_version" ] || die "the archive has no $MAINLINE_PKG with a linux-image-6.12 of the same version (have: ${main_versions[*]:-none}; apt's suites: $(suites))"
	if [ "$main_mode" = pinned ]; then
		older "$main_version" "$MAINLINE_PIN" &&
			die "the newest $MAINLINE_PKG apt knows with its image is $main_version, older than the pinned $MAINLINE_PIN: apt's sources lack a suite (they have: $(suites))"
		info "mainline: the pinned $MAINLINE_PIN is no longer in the Debian archive (with its image); using $main_version"
	fi
fi

run_id="$(date -u +%Y%m%dT%H%M%SZ)-$$"
tmp="$RUN_ENV.tmp"
{
	printf '# What this run is: written by scripts/resolve.sh, read by every later step.\n'
	printf 'RUN_ID=%q\n' "$run_id"
	printf 'BASE_MODE=%q\n' "$mode"
	printf 'BASE_PIN=%q\n' "$BASE_PIN"
	printf 'BASE_NEWEST=%q\n' "$newest"
	printf 'BASE_VERSION=%q\n' "$version"
	printf 'BASE_TAG=%q\n' "$(base_tag "$version")"
	printf 'MAINLINE_PIN=%q\n' "$MAINLINE_PIN"
	printf 'MAINLINE_VERSION=%q\n' "$main_version"
	printf 'REF61_PKG=%q\n' "$ref61"
	printf 'REF612_PKG=%q\n' "$ref612"
	printf 'JOBS=%q\n' "$JOBS"
} >"$tmp"
mv "$tmp" "$RUN_ENV"
info "run $run_id: base $BASE_PKG $version ($(base_tag "$version")), mainline $MAINLINE_PKG $main_version"
info "reference kernels: $ref61 $version, $ref612 $main_version; $JOBS jobs"

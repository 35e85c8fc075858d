#!/usr/bin/env bash
# deps.sh [--check] [EXTRA-PACKAGE...]
# Preflight: install, with apt-get, the Debian packages the harness needs
# that are missing, then check that every command the harness runs is
# there, naming the command and its package when one is not. Needs no
# network when everything is installed. Refreshes the apt lists before
# installing (a fresh machine may have none, or stale ones).
# --check: install nothing, only check the commands (exit 1 naming what
# is missing). EXTRA-PACKAGE: more packages a target needs (check-fresh:
# mmdebstrap).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

check_only=0
if [ "${1:-}" = --check ]; then
	check_only=1
	shift
fi

# Every command the harness runs, with the package that provides it.
COMMANDS=(
	bash:bash sed:sed grep:grep awk:mawk find:findutils xargs:findutils
	sha256sum:coreutils realpath:coreutils timeout:coreutils nice:coreutils
	cmp:diffutils diff:diffutils flock:util-linux
	dpkg-deb:dpkg dpkg-query:dpkg apt-get:apt apt-cache:apt
	git:git quilt:quilt patch:patch xz:xz-utils tar:tar gzip:gzip
	make:make gcc:gcc ld:binutils readelf:binutils bc:bc bison:bison flex:flex
	perl:perl python3:python3 rsync:rsync cpio:cpio ccache:ccache
	sparse:sparse shellcheck:shellcheck localedef:libc-bin ldd:libc-bin
	qemu-system-x86_64:qemu-system-x86 busybox:busybox-static
)
# Packages needed for what they hold, not for a command: the two source
# trees are fetched by fetch.sh; these are headers and data, and the
# Debian programs the guest carries (guest/tools).
tool_lines=$(guest_tools "$TOP/guest/tools") || die "fix guest/tools"
mapfile -t tool_packages < <(cut -d' ' -f2 <<<"$tool_lines")
PACKAGES=(
	build-essential libelf-dev libssl-dev kmod locales
	"${tool_packages[@]}" "$@"
)

# missing_commands: "COMMAND (PACKAGE)" for each command not on PATH, and
# for busybox when it is not the static one the guest needs.
missing_commands() {
	local cp cmd
	for cp in "${COMMANDS[@]}"; do
		cmd=${cp%%:*}
		command -v "$cmd" >/dev/null 2>&1 || printf '%s (%s)\n' "$cmd" "${cp#*:}"
	done
	if command -v busybox >/dev/null 2>&1 &&
		readelf -l "$(command -v busybox)" 2>/dev/null | grep -q 'program interpreter'; then
		echo "static busybox (busybox-static)"
	fi
}

# missing_packages: the packages of COMMANDS and PACKAGES not installed.
missing_packages() {
	local p
	{
		printf '%s\n' "${COMMANDS[@]#*:}" "${PACKAGES[@]}"
	} | sort -u | while read -r p; do
		[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" = installed ] ||
			printf '%s\n' "$p"
	done
}

if [ "$check_only" = 1 ]; then
	mapfile -t gone < <(missing_commands)
	[ "${#gone[@]}" -eq 0 ] || die "missing command(s): ${gone[*]}: run 'make deps' as root, or apt-get install the package(s) named"
	info "all ${#COMMANDS[@]} commands present"
	exit 0
fi

mapfile -t missing < <(missing_packages)
if [ "${#missing[@]}" -gt 0 ]; then
	info "installing: ${missing[*]}"
	[ "$(id -u)" -eq 0 ] || die "need root to install ${missing[*]}: run as root, or install them by hand"
	log="$UFFDWP_CACHE/logs/apt.log"
	export DEBIAN_FRONTEND=noninteractive
	quiet "$log" apt-get update
	quiet "$log" apt-get install -y --no-install-recommends "${missing[@]}"
else
	info "all packages present"
fi
mapfile -t gone < <(missing_commands)
[ "${#gone[@]}" -eq 0 ] || die "still missing after installing: ${gone[*]}: install them by hand"
info "all ${#COMMANDS[@]} commands present"

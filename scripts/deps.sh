#!/usr/bin/env bash
# Install, with apt-get, the Debian packages the harness needs that are
# not installed yet. Does nothing (and needs no network) when all are.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PKGS=(
	# base tree, mainline reference and patch tooling
	"$BASE_PKG" "$MAINLINE_PKG" git quilt patch xz-utils
	# kernel build
	build-essential bc bison flex libelf-dev libssl-dev cpio kmod
	ccache python3 perl
	# checks
	sparse shellcheck
	# guest
	qemu-system-x86 busybox-static
)

missing=()
for p in "${PKGS[@]}"; do
	case "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" in
	installed) ;;
	*) missing+=("$p") ;;
	esac
done

if [ "${#missing[@]}" -eq 0 ]; then
	info "all ${#PKGS[@]} packages present"
	exit 0
fi

info "installing: ${missing[*]}"
[ "$(id -u)" -eq 0 ] || die "need root to install ${missing[*]}: run as root or install them by hand"
log="$UFFDWP_CACHE/logs/apt.log"
export DEBIAN_FRONTEND=noninteractive
quiet "$log" apt-get update
quiet "$log" apt-get install -y --no-install-recommends "${missing[@]}"

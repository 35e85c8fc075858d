#!/usr/bin/env bash
# kconfig.sh [--arch ARCH] [--base CONFIG] SRCDIR OUTDIR FRAGMENT...
# Make OUTDIR/.config from ARCH's tinyconfig (default x86_64), or from
# the config file CONFIG, plus the fragments, with the kernel's own
# merge_config.sh, and fail naming every wanted option that did not end
# up in it: 'CONFIG_X=...' must be in .config, '# CONFIG_X is not set'
# must not be set; where fragments disagree, the last one wins, as in
# merge_config.sh. .config is only replaced when it changes, so an
# unchanged config costs no rebuild.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

arch=x86_64 base=""
while [ $# -gt 0 ]; do
	case "$1" in
	--arch) arch=$2; shift 2 ;;
	--base) base=$2; shift 2 ;;
	*) break ;;
	esac
done
[ $# -ge 3 ] || die "usage: kconfig.sh [--arch ARCH] [--base CONFIG] SRCDIR OUTDIR FRAGMENT..."
src=$1 out=$2
shift 2
frags=()
for f in "$@"; do
	[ -f "$f" ] || die "config fragment $f not found"
	frags+=("$(realpath "$f")")
done
set -- "${frags[@]}"
if [ -n "$base" ]; then
	[ -f "$base" ] || die "base config $base not found"
	base=$(realpath "$base")
fi

gen="$out.kconfig"
rm -rf "$gen"
mkdir -p "$gen" "$out"
# merge_config.sh leaves files in its working directory: keep them in $gen.
cd "$gen"
if [ -n "$base" ]; then
	cp "$base" "$gen/.config"
else
	quiet "$gen/log" make -C "$src" O="$gen" ARCH="$arch" tinyconfig
fi
quiet "$gen/log" env ARCH="$arch" \
	"$src/scripts/kconfig/merge_config.sh" -m -O "$gen" "$gen/.config" "$@"
quiet "$gen/log" make -C "$src" O="$gen" ARCH="$arch" olddefconfig

# What the fragments want, the last fragment winning: "y", "m", a value,
# or "n" for '# CONFIG_X is not set'.
declare -A want=()
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*) want[${line%%=*}]=${line#*=} ;;
	"# CONFIG_"*" is not set") line=${line#\# }; want[${line%% *}]=n ;;
	esac
done < <(cat "$@")
missing=()
for opt in "${!want[@]}"; do
	if [ "${want[$opt]}" = n ]; then
		! grep -q "^$opt=" "$gen/.config" || missing+=("# $opt is not set")
	else
		grep -qxF "$opt=${want[$opt]}" "$gen/.config" || missing+=("$opt=${want[$opt]}")
	fi
done
if [ "${#missing[@]}" -gt 0 ]; then
	printf '    not set as wanted: %s\n' "${missing[@]}" >&2
	die "${#missing[@]} config option(s) did not stick (unmet dependencies?); see $gen/.config"
fi

if cmp -s "$gen/.config" "$out/.config"; then
	info "config unchanged"
else
	cp "$gen/.config" "$out/.config"
	info "config updated"
fi
rm -rf "$gen"

#!/usr/bin/env bash
# kconfig.sh SRCDIR OUTDIR FRAGMENT...
# Make OUTDIR/.config from x86_64 tinyconfig plus the fragments, with the
# kernel's own merge_config.sh, and fail naming every wanted option that
# did not end up in it. .config is only replaced when it changes, so an
# unchanged config costs no rebuild.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -ge 3 ] || die "usage: kconfig.sh SRCDIR OUTDIR FRAGMENT..."
src=$1 out=$2
shift 2
frags=()
for f in "$@"; do
	[ -f "$f" ] || die "config fragment $f not found"
	frags+=("$(realpath "$f")")
done
set -- "${frags[@]}"

gen="$out.kconfig"
rm -rf "$gen"
mkdir -p "$gen" "$out"
# merge_config.sh leaves files in its working directory: keep them in $gen.
cd "$gen"
quiet "$gen/log" make -C "$src" O="$gen" ARCH=x86_64 tinyconfig
quiet "$gen/log" env ARCH=x86_64 \
	"$src/scripts/kconfig/merge_config.sh" -m -O "$gen" "$gen/.config" "$@"
quiet "$gen/log" make -C "$src" O="$gen" ARCH=x86_64 olddefconfig

missing=()
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)
		grep -qxF "$line" "$gen/.config" || missing+=("$line")
		;;
	esac
done < <(cat "$@")
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

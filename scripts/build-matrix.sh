#!/usr/bin/env bash
# build-matrix.sh [LEG...]
# Build the applied series' tip ($CHECK, branch 'check') in configurations
# beyond the test kernel's, each in its own build tree ($BUILD/matrix-LEG),
# and fail on a build error or on a compiler warning the base does not
# have:
#   no-userfaultfd, no-shmem, no-hugetlb, no-pte-marker
#              x86_64 test kernel with that feature off
#   i386, arm64
#              tinyconfig of that architecture plus what the series touches
#              (neither has uffd-wp in 6.1, so the WP code compiles out)
#   debian     Debian's own 6.1 configuration (from the image package the
#              harness fetched), its =m options off, no debug info
#   debug      the test kernel with KASAN, lockdep, DEBUG_VM, DEBUG_LIST,
#              PAGE_TABLE_CHECK (not in the default set: make check-debug)
# Each leg builds the whole kernel, so every object that includes a header
# the series changes is compiled; then W=1 and sparse on the C files the
# series changes, and every object the full build warned about, are built
# at the base and at the tip, and any warning only the tip has fails.
# A leg is skipped when its stamp (series tip, configs, compilers) holds.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
load_run

ALL_LEGS=(no-userfaultfd no-shmem no-hugetlb no-pte-marker i386 arm64 debian)
[ $# -gt 0 ] || set -- "${ALL_LEGS[@]}"
frag_dir="$TOP/configs/matrix"

tip=$(applied_tip)
mapfile -t touched < <(touched_objects "$tip")

# leg_setup LEG: sets arch, cross, image, base_config and frags for LEG.
leg_setup() {
	arch=x86_64 cross="" image=arch/x86/boot/bzImage base_config="" frags=()
	case "$1" in
	no-userfaultfd | no-shmem | no-hugetlb | no-pte-marker | debug)
		frags=("$TOP/configs/test.config" "$frag_dir/$1.config") ;;
	i386)
		arch=i386 frags=("$frag_dir/i386.config") ;;
	arm64)
		arch=arm64 cross=aarch64-linux-gnu- image=arch/arm64/boot/Image
		frags=("$frag_dir/arm64.config") ;;
	debian)
		[ -f "$REFDIR/debian-6.1/config" ] ||
			die "no $REFDIR/debian-6.1/config: run scripts/fetch.sh first (make fetch)"
		base_config="$BUILD/matrix-debian.base-config"
		# Debian's modules become "not set": a built-in-only kernel.
		sed -E 's/^(CONFIG_[A-Za-z0-9_]+)=m$/# \1 is not set/' \
			"$REFDIR/debian-6.1/config" >"$base_config"
		frags=("$frag_dir/debian.config") ;;
	*) die "unknown leg '$1' (${ALL_LEGS[*]} debug)" ;;
	esac
	if [ -n "$cross" ] && ! command -v "${cross}gcc" >/dev/null 2>&1; then
		die "${cross}gcc not found: install gcc-${cross%-} (make check-matrix does)"
	fi
}

# kmake OUT ARGS...: make in $CHECK for the current leg.
kmake() {
	local out=$1
	shift
	make -C "$CHECK" O="$out" ARCH="$arch" ${cross:+CROSS_COMPILE="$cross"} \
		CC="ccache ${cross}gcc" -j"$JOBS" "$@"
}

export KBUILD_BUILD_TIMESTAMP="2000-01-01" KBUILD_BUILD_USER=uffd KBUILD_BUILD_HOST=harness
mkdir -p "$CCACHE_DIR"
declare -A objs_of=()
todo=()
for leg in "$@"; do
	leg_setup "$leg"
	out="$BUILD/matrix-$leg"
	stamp="$out.built"
	want=$(
		printf '%s %s %s\n' "$tip" "$(gcc --version | head -n 1)" "$arch"
		[ -z "$cross" ] || "${cross}gcc" --version | head -n 1
		cat "${frags[@]}" ${base_config:+"$base_config"}
	)
	want=$(printf '%s\n' "$want" | sha256sum | cut -d' ' -f1)
	if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
		info "$leg: built and warning-checked before for this tip (stamp $stamp)"
		continue
	fi
	rm -f "$stamp"
	info "$leg: configure ($arch${base_config:+, on the Debian configuration})"
	"$TOP/scripts/kconfig.sh" --arch "$arch" ${base_config:+--base "$base_config"} \
		"$CHECK" "$out" "${frags[@]}"
	start=$(date +%s)
	info "$leg: make -j$JOBS ${image##*/} (log: $out/build.log)"
	if ! kmake "$out" "${image#arch/*/boot/}" >"$out/build.log" 2>&1; then
		grep -E ': (fatal )?error:|undefined reference|\*\*\*' "$out/build.log" | head -n 20 >&2 ||
			tail -n 20 "$out/build.log" >&2
		die "$leg: the series' tip does not build (log: $out/build.log)"
	fi
	[ -f "$out/$image" ] || die "$leg: build finished without $image"
	# Objects to compare: the touched ones the config builds, and any the
	# full build warned about.
	mapfile -t warned < <(warning_lines "$out/build.log" | sed -n 's|^\([^:]*\)\.c:.*|\1.o|p' | sort -u)
	objs=()
	for o in "${touched[@]}" "${warned[@]}"; do
		[ -f "$out/$o" ] && objs+=("$o")
	done
	mapfile -t objs < <(printf '%s\n' "${objs[@]}" | sort -u | sed '/^$/d')
	objs_of[$leg]="${objs[*]}"
	info "$leg: built in $(($(date +%s) - start))s; $(warning_lines "$out/build.log" | grep -c . || true) warning(s) in the full build; comparing ${objs[*]:-nothing}"
	echo "$want" >"$stamp.pending"
	todo+=("$leg")
done
[ "${#todo[@]}" -gt 0 ] || exit 0

# wbuild REV: W=1 + sparse on each pending leg's objects at REV.
wbuild() {
	local rev=$1 leg out
	for leg in "${todo[@]}"; do
		leg_setup "$leg"
		out="$BUILD/matrix-$leg"
		read -r -a objs <<<"${objs_of[$leg]}"
		[ "${#objs[@]}" -gt 0 ] || continue
		rm -f "${objs[@]/#/$out/}"
		kmake "$out" W=1 C=1 "${objs[@]}" >"$out/warnings-$rev.log" 2>&1 || {
			tail -n 20 "$out/warnings-$rev.log" >&2
			git -C "$CHECK" checkout -q check
			die "$leg: W=1/sparse build of ${objs[*]} failed at $rev (log: $out/warnings-$rev.log)"
		}
	done
}
git -C "$CHECK" checkout -q --detach "$BASE_TAG"
wbuild base
git -C "$CHECK" checkout -q check
[ "$(git -C "$CHECK" rev-parse HEAD)" = "$tip" ] || die "internal: branch 'check' in $CHECK moved"
wbuild tip
fail=0
for leg in "${todo[@]}"; do
	out="$BUILD/matrix-$leg"
	[ -n "${objs_of[$leg]}" ] || { mv "$out.built.pending" "$out.built"; continue; }
	new=$(comm -13 <(warning_lines "$out/warnings-base.log") <(warning_lines "$out/warnings-tip.log") | sed '/^$/d')
	if [ -n "$new" ]; then
		printf '%s\n' "$new" | sed "s/^/    $leg: new: /" >&2
		info "$leg: FAIL: the series adds W=1/sparse warnings (logs: $out/warnings-{base,tip}.log)"
		fail=1
		rm -f "$out.built.pending"
		continue
	fi
	info "$leg: ok, no new W=1/sparse warnings ($(warning_lines "$out/warnings-base.log" | grep -c . || true) at the base, same at the tip)"
	mv "$out.built.pending" "$out.built"
done
[ "$fail" = 0 ] || die "build matrix: new warnings (above)"

#!/usr/bin/env bash
# Build the test kernel at every commit of the applied series, so each
# patch is known to build (bisectable), and compare compiler (W=1) and
# sparse warnings on the C files the series touches, base against tip:
# any warning the tip has that the base has not fails. Walks the commits
# in $CHECK and builds in $BUILD/patched, ending at the tip, so the test
# kernel is what is left behind. Skipped when this series and config
# were already walked successfully.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
load_run

out="$BUILD/patched"
frag="$TOP/configs/test.config"
stamp="$out.series-built"
# The stamp covers the series, the config fragment and the compiler.
want=$(printf '%s %s %s\n' "$(series_hash)" "$(sha256sum <"$frag")" "$(gcc --version | head -n 1)" |
	sha256sum | cut -d' ' -f1)
# The series as apply.sh left it: its stamp names the tip commit.
tip=$(applied_tip)
want="$want $tip"
if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && [ -f "$out/arch/x86/boot/bzImage" ]; then
	info "every patch built and warning-checked before for this series (stamp $stamp)"
	exit 0
fi
rm -f "$stamp"

mapfile -t commits < <(git -C "$CHECK" rev-list --reverse "$BASE_TAG..check")
mapfile -t objs < <(touched_objects "$tip")

# warnings REV: W=1 and sparse warnings of the touched objects at REV,
# without line numbers, one per line, sorted.
warnings() {
	local log="$out/warnings-$1.log"
	rm -f "${objs[@]/#/$out/}"
	make -C "$CHECK" O="$out" ARCH=x86_64 CC="ccache gcc" -j"$JOBS" \
		W=1 C=1 "${objs[@]}" >"$log" 2>&1 || {
		tail -n 20 "$log" >&2
		die "W=1/sparse build of ${objs[*]} failed at $1; log: $log"
	}
	warning_lines "$log"
}

git -C "$CHECK" checkout -q --detach "$BASE_TAG"
"$TOP/scripts/kconfig.sh" "$CHECK" "$out" "$frag"
base_warnings=""
if [ "${#objs[@]}" -gt 0 ]; then
	info "base: W=1 + sparse on ${objs[*]}"
	quiet "$out/prepare.log" make -C "$CHECK" O="$out" ARCH=x86_64 CC="ccache gcc" -j"$JOBS" prepare
	base_warnings=$(warnings base)
fi

i=0
for c in "${commits[@]}"; do
	i=$((i + 1))
	subject=$(git -C "$CHECK" log -1 --format=%s "$c")
	git -C "$CHECK" checkout -q --detach "$c"
	start=$(date +%s)
	if ! "$TOP/scripts/build-kernel.sh" "$CHECK" "$out" "$frag" >/dev/null; then
		die "the kernel does not build after patch $i/${#commits[@]}: $subject (log: $out/build.log)"
	fi
	info "patch $i/${#commits[@]} builds ($(($(date +%s) - start))s): $subject"
done
git -C "$CHECK" checkout -q check
[ "$(git -C "$CHECK" rev-parse HEAD)" = "$tip" ] || die "internal: branch 'check' in $CHECK moved during the walk"

if [ "${#objs[@]}" -gt 0 ]; then
	info "tip: W=1 + sparse on ${objs[*]}"
	tip_warnings=$(warnings tip)
	new=$(comm -13 <(printf '%s\n' "$base_warnings") <(printf '%s\n' "$tip_warnings") | sed '/^$/d')
	if [ -n "$new" ]; then
		printf '%s\n' "$new" | sed 's/^/    new: /' >&2
		die "the series adds W=1/sparse warnings (logs: $out/warnings-{base,tip}.log)"
	fi
	info "no new W=1/sparse warnings ($(printf '%s\n' "$base_warnings" | grep -c . || true) in the base, same at the tip)"
	# The W=1 objects differ from the normal ones: rebuild them.
	"$TOP/scripts/build-kernel.sh" "$CHECK" "$out" "$frag" >/dev/null ||
		die "kernel build at the tip failed (log: $out/build.log)"
fi
[ "$(git -C "$CHECK" rev-parse HEAD)" = "$tip" ] || die "internal: $CHECK not left at the series tip"
echo "$want" >"$stamp"

#!/usr/bin/env bash
# checkpatch.pl --strict (from the base tree) on every patch of the
# series, failing on any finding not in configs/checkpatch-allow; then
# run shellcheck over every harness script.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

fail=0

checkpatch=$SRC/scripts/checkpatch.pl
[ -x "$checkpatch" ] || die "$checkpatch not found: run 'make base' first"
allow="$TOP/configs/checkpatch-allow"
n=0
while IFS= read -r p; do
	n=$((n + 1))
	# Findings as 'LEVEL TYPE FILE' lines ('-' when not in a file).
	# GIT_DIR is pointed nowhere: the base has no upstream history.
	findings=$(cd / && GIT_DIR=/nonexistent "$checkpatch" --strict \
		--show-types --no-summary -q "$TOP/patches/$p" 2>&1 | awk '
		/^(ERROR|WARNING|CHECK):[A-Z_]+:/ {
			if (t) print l, t, f
			split($0, a, ":"); l = a[1]; t = a[2]; f = "-"; next
		}
		t && /^#[0-9]+: FILE: / { f = $3; sub(/:[0-9]+:$/, "", f) }
		END { if (t) print l, t, f }') || true
	bad=0
	total=0
	while read -r level type file; do
		[ -n "$level" ] || continue
		total=$((total + 1))
		if ! awk -v t="$type" -v f="$file" \
			'!/^#/ && $1 == t && $2 == f { found = 1 } END { exit !found }' "$allow"; then
			printf '    %s: %s %s in %s (not in configs/checkpatch-allow)\n' \
				"$p" "$level" "$type" "$file" >&2
			bad=$((bad + 1))
		fi
	done <<<"$findings"
	if [ "$bad" -gt 0 ]; then
		fail=1
		info "checkpatch FAIL $p: $bad finding(s) not allowed; run $checkpatch --strict on it"
	else
		info "checkpatch ok   $p ($total allowed finding(s))"
	fi
done < <(series_patches)
info "checkpatch: $n patch(es) checked"

mapfile -t scripts < <(cd "$TOP" && {
	ls scripts/*.sh .ci/run 2>/dev/null
	grep -rlE '^#!/bin/(ba)?sh|^#!/usr/bin/env (ba)?sh' guest 2>/dev/null || true
} | sort -u)
if (cd "$TOP" && shellcheck "${scripts[@]}"); then
	info "shellcheck ok: ${#scripts[@]} script(s)"
else
	info "shellcheck FAIL"
	fail=1
fi
[ "$fail" = 0 ] || die "lint failed"

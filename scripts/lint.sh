#!/usr/bin/env bash
# checkpatch.pl --strict (from the base tree) on every patch of the
# series, failing on any finding not in configs/checkpatch-allow; then
# run shellcheck over every harness script.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

load_run
fail=0

# checkpatch.pl from the base (the series does not touch scripts/), run
# from an empty directory with HOME empty (lib.sh): no .checkpatch.conf
# changes what it finds. GIT_DIR is pointed nowhere: the base has no
# upstream history.
checkpatch=$CHECK/scripts/checkpatch.pl
[ -f "$checkpatch" ] || die "$checkpatch not found: run scripts/apply.sh first"
allow="$TOP/configs/checkpatch-allow"
empty=$(mktemp -d)
trap 'rm -rf "$empty"' EXIT
n=0
while IFS= read -r p; do
	n=$((n + 1))
	out=$(cd "$empty" && GIT_DIR=/nonexistent perl "$checkpatch" --strict \
		--show-types "$TOP/patches/$p" 2>&1) && cprc=0 || cprc=$?
	# checkpatch exits 0 (clean) or 1 (findings); it ends with a summary
	# line. Anything else is checkpatch failing, not a finding.
	summary=$(printf '%s\n' "$out" | sed -n 's/^total: \([0-9]*\) errors, \([0-9]*\) warnings, \([0-9]*\) checks, .*/\1 \2 \3/p' | tail -n 1)
	if [ "$cprc" -gt 1 ] || [ -z "$summary" ]; then
		printf '%s\n' "$out" | tail -n 5 | sed 's/^/    | /' >&2
		die "checkpatch.pl crashed or printed no summary on $p (exit $cprc)"
	fi
	read -r e w c <<<"$summary"
	# Findings as 'LEVEL TYPE FILE' lines ('-' when not in a file).
	findings=$(printf '%s\n' "$out" | awk '
		/^(ERROR|WARNING|CHECK):[A-Z_0-9]+:/ {
			if (t) print l, t, f
			split($0, a, ":"); l = a[1]; t = a[2]; f = "-"; next
		}
		t && /^#[0-9]+: FILE: / { f = $3; sub(/:[0-9]+:$/, "", f) }
		END { if (t) print l, t, f }')
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
	if [ "$total" -ne $((e + w + c)) ]; then
		die "checkpatch on $p: summary says $((e + w + c)) finding(s), $total parsed: the parser in scripts/lint.sh no longer matches checkpatch's output"
	fi
	if [ "$bad" -gt 0 ]; then
		fail=1
		info "checkpatch FAIL $p: $bad finding(s) not allowed; run $checkpatch --strict on it"
	else
		info "checkpatch ok   $p ($total allowed finding(s))"
	fi
	# Provenance (stable's and DEP-3's forms): a backport names its full
	# upstream id in '[ Upstream commit <40 hex> ]' and the same id in
	# 'Origin: upstream, commit:<id>'; any other patch says where it comes
	# from (Origin: backport|other) and ours are 'Forwarded: not-needed'.
	why=$(awk '
		/^---$/ { exit }
		/^\[ Upstream commit / { n++; up = $4; if (up !~ /^[0-9a-f]+$/ || length(up) != 40 || $5 != "]") bad = "malformed upstream line: " $0 }
		/^Origin: / { no++; origin = $0 }
		/^Forwarded: not-needed$/ { fwd = 1 }
		END {
			if (bad) { print bad; exit }
			if (no != 1) { print "needs exactly one DEP-3 Origin: line, has " no + 0; exit }
			if (n > 1) { print "more than one [ Upstream commit ] line"; exit }
			if (n == 1 && origin != "Origin: upstream, commit:" up) { print "Origin: does not name the upstream commit " up; exit }
			if (n == 0 && origin ~ /^Origin: upstream/) { print "Origin: upstream without an [ Upstream commit ] line"; exit }
			if (origin ~ /^Origin: other/ && !fwd) { print "our own patch lacks Forwarded: not-needed"; exit }
		}' "$TOP/patches/$p")
	if [ -n "$why" ]; then
		fail=1
		info "provenance FAIL $p: $why"
	fi
done < <(series_patches)
info "checkpatch: $n patch(es) checked"

# Our patches to mainline's tests (mainline/, see scripts/mainline-tests.sh)
# go upstream as they are: no finding at all is allowed.
for mp in "$TOP"/mainline/*.patch; do
	[ -f "$mp" ] || continue
	if out=$(cd "$empty" && GIT_DIR=/nonexistent perl "$checkpatch" --strict "$mp" 2>&1); then
		info "checkpatch ok   mainline/${mp##*/}"
	else
		printf '%s\n' "$out" | grep -E '^(ERROR|WARNING|CHECK|total):' | sed 's/^/    /'
		info "checkpatch FAIL mainline/${mp##*/}: run $checkpatch --strict on it"
		fail=1
	fi
done

mapfile -t scripts < <(cd "$TOP" && {
	ls scripts/*.sh scripts/tests/*.sh .ci/run 2>/dev/null
	grep -rlE '^#!/bin/(ba)?sh|^#!/usr/bin/env (ba)?sh' guest 2>/dev/null || true
} | sort -u)
if (cd "$TOP" && shellcheck "${scripts[@]}"); then
	info "shellcheck ok: ${#scripts[@]} script(s)"
else
	info "shellcheck FAIL"
	fail=1
fi
[ "$fail" = 0 ] || die "lint failed"

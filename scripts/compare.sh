#!/usr/bin/env bash
# compare.sh TEST PATCHED BASE MAINLINE
# Side-by-side results of one KTAP-producing guest test (its subtests,
# forwarded by guest/init as an indented KTAP block) on three kernels:
# the patched 6.1, Debian's unpatched 6.1 and Debian's 6.12, given as
# their result directories. One row per case, one column per kernel.
# Fails unless:
#   - the patched kernel passes every case;
#   - the unpatched base fails none, and skips only for the missing
#     UFFDIO_CONTINUE_MODE_WP (and skips at least one case);
#   - the patched kernel and 6.12 give the same result for every case.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -eq 4 ] || die "usage: compare.sh TEST PATCHED-DIR BASE-DIR MAINLINE-DIR"
test=$1
shift
feature_reason='CONTINUE_MODE_WP'

# cases DIR: "NAME<TAB>PASS|FAIL|SKIP<TAB>REASON" for each subtest of
# $test in DIR/results.ktap.
cases() {
	local f="$1/results.ktap"
	[ -f "$f" ] || die "$f missing: the guest run for $(basename "$1") did not happen"
	awk -v t="$test" '
		$0 ~ "^# " t ": cmd: " { on = 1; next }
		on && /^(ok|not ok) [0-9]+ / { exit }
		!on || !/^  / { next }
		{ sub(/^  /, "") }
		# A failure or skip is preceded by "# NAME: REASON" (names
		# contain ": " themselves, so match on the name that follows).
		/^# / { last = substr($0, 3); next }
		/^(ok|not ok) [0-9]+ / {
			res = /^not ok/ ? "FAIL" : "PASS"
			line = $0; sub(/^(not )?ok [0-9]+ /, "", line)
			if (line ~ /^# SKIP /) { res = "SKIP"; sub(/^# SKIP /, "", line) }
			else if (line ~ / # SKIP/) { res = "SKIP"; sub(/ # SKIP.*/, "", line) }
			why = ""
			if (index(last, line ": ") == 1)
				why = substr(last, length(line) + 3)
			printf "%s\t%s\t%s\n", line, res, why
			last = ""
		}' "$f"
}

declare -A res=() why=()
labels=()
for dir in "$@"; do
	k=$(basename "$dir")
	labels+=("$k")
	n=0
	while IFS=$'\t' read -r name r reason; do
		res["$k|$name"]=$r
		why["$k|$name"]=$reason
		n=$((n + 1))
	done < <(cases "$dir")
	[ "$n" -gt 0 ] || die "no '$test' cases in $dir/results.ktap (did the test run?)"
done
patched=${labels[0]} base=${labels[1]} mainline=${labels[2]}

mapfile -t names < <(for d in "$@"; do cases "$d" | cut -f1; done | awk '!seen[$0]++')

bad=0
base_skips=0
printf '%-72s %-8s %-11s %-11s\n' "$test case" "$patched" "$base" "$mainline"
for name in "${names[@]}"; do
	p=${res["$patched|$name"]:-none} b=${res["$base|$name"]:-none} m=${res["$mainline|$name"]:-none}
	note=""
	[ "$p" = PASS ] || note+=" patched:$p"
	case "$b" in
	PASS) ;;
	SKIP)
		base_skips=$((base_skips + 1))
		[[ "${why["$base|$name"]}" == *"$feature_reason"* ]] ||
			note+=" base skips for another reason: ${why["$base|$name"]}"
		;;
	*) note+=" base:$b" ;;
	esac
	[ "$p" = "$m" ] || note+=" patched!=mainline"
	printf '%-72s %-8s %-11s %-11s%s\n' "${name:0:72}" "$p" "$b" "$m" "${note:+  <-- $note}"
	[ -z "$note" ] || bad=$((bad + 1))
done
if [ "$base_skips" -eq 0 ]; then
	info "the unpatched base skipped nothing: it should lack UFFDIO_CONTINUE_MODE_WP"
	bad=$((bad + 1))
fi
info "${#names[@]} cases; base skipped $base_skips for the missing feature"
[ "$bad" -eq 0 ] || die "$bad case(s) break the rules above (marked <--)"
info "patched passes all, base skips only for the missing feature, patched = mainline"

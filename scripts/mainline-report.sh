#!/usr/bin/env bash
# mainline-report.sh PATCHED-DIR MAINLINE-DIR
# Mainline's userfaultfd unit tests (guest/suites/mainline-uffd*, run
# through uffd-unit-ktap) on the patched 6.1 and on Debian's 6.12, given as
# their result directories: one row per case and memory type with its
# result and time on each kernel, then each kernel's summary. Fails unless:
#   - no case fails on either kernel;
#   - minor-wp (CONTINUE_MODE_WP) passes on shmem and hugetlb on both;
#   - every case has the same result on both kernels, except that the
#     patched kernel skips, for "feature missing", the cases gated on
#     features 6.1 does not have (MISSING_6_1 below), and skips, for the
#     reason given, what its config leaves out (TEST_CONFIG below).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -eq 2 ] || die "usage: mainline-report.sh PATCHED-DIR MAINLINE-DIR"
# Cases gated on a feature bit that Linux 6.1 (and so our series) lacks.
declare -A MISSING_6_1=(
	[move]="UFFD_FEATURE_MOVE (6.8)"
	[move-pmd]="UFFD_FEATURE_MOVE (6.8)"
	[move-pmd-split]="UFFD_FEATURE_MOVE (6.8)"
	[wp-unpopulated]="UFFD_FEATURE_WP_UNPOPULATED (6.4)"
	[poison]="UFFD_FEATURE_POISON (6.6)"
)
# Cases the test kernel's config (tinyconfig + configs/test.config) keeps
# from running: the skip reason the test gives, then why.
declare -A TEST_CONFIG=(
	[minor-collapse]="MADV_COLLAPSE failed|tinyconfig's CONFIG_BASE_SMALL caps page cache folios below PMD order (MAX_PAGECACHE_ORDER 7), so shmem has no THP to collapse into"
)
MUST_PASS=("minor-wp on shmem" "minor-wp on hugetlb")

# cases DIR: "CASE PASS|FAIL|SKIP SECONDS REASON EARLIER", separated by
# \037 (a tab would merge empty fields), for every subtest of the tests
# that ran uffd-unit-ktap in DIR/results.ktap. A case reported twice (a
# test retried, see guest/bin/retry-on-6.12) has its last result, and the
# first in EARLIER.
cases() {
	awk '
		/^# [^ ]+: cmd: .*uffd-unit-ktap / { on = 1; next }
		/^(ok|not ok) [0-9]+ / { on = 0; next }
		!on || !/^  / { next }
		{ sub(/^  /, "") }
		/^# .*: [0-9.]+s$/ {
			t = $NF; name = substr($0, 3, length($0) - 2 - length(t) - 2)
			time[name] = t; next
		}
		/^(ok|not ok) [0-9]+ / {
			r = /^not ok/ ? "FAIL" : "PASS"
			line = $0; sub(/^(not )?ok [0-9]+ /, "", line)
			name = line; w = ""
			if ((i = index(line, " # ")) > 0) {
				name = substr(line, 1, i - 1); w = substr(line, i + 3)
			}
			if (r == "PASS" && w ~ /^SKIP/) { r = "SKIP"; sub(/^SKIP */, "", w) }
			# err() ends its message with the source path: keep the file name
			gsub(/@\/[^ ]*\//, "@", w)
			if (name in res) {
				if (!(name in earlier)) earlier[name] = res[name] (why[name] != "" ? " " why[name] : "")
			} else {
				order[++n] = name
			}
			res[name] = r; why[name] = w; secs[name] = time[name]
		}
		END {
			for (i = 1; i <= n; i++) {
				c = order[i]
				printf "%s\037%s\037%s\037%s\037%s\n", c, res[c], secs[c], why[c], earlier[c]
			}
		}' "$1/results.ktap"
}

patched=$(basename "$1") mainline=$(basename "$2")
declare -A res=() secs=() why=() earlier=()
for dir in "$1" "$2"; do
	k=$(basename "$dir")
	[ -f "$dir/results.ktap" ] || die "$dir/results.ktap missing: the guest run for $k did not happen"
	n=0
	while IFS=$'\037' read -r name r t reason first; do
		res["$k|$name"]=$r secs["$k|$name"]=$t why["$k|$name"]=$reason earlier["$k|$name"]=$first
		n=$((n + 1))
	done < <(cases "$dir")
	[ "$n" -gt 0 ] || die "no uffd-unit-tests cases in $dir/results.ktap (did the mainline suite run?)"
done
mapfile -t names < <(for d in "$@"; do cases "$d" | cut -d$'\037' -f1; done | awk '!seen[$0]++')

bad=0
declare -A count=() total=()
printf '%-42s %-16s %s\n' "mainline uffd-unit-tests" "$patched" "$mainline"
for name in "${names[@]}"; do
	p=${res["$patched|$name"]:-none} m=${res["$mainline|$name"]:-none}
	note=""
	for k in "$patched" "$mainline"; do
		r=${res["$k|$name"]:-none}
		count["$k|$r"]=$((${count["$k|$r"]:-0} + 1))
		t=${secs["$k|$name"]:-}
		t=${t%s}
		total[$k]=$(awk -v a="${total[$k]:-0}" -v b="${t:-0}" 'BEGIN { print a + b }')
		[ "$r" != FAIL ] || note+=" $k:FAIL ${why["$k|$name"]:-}"
		[ -z "${earlier["$k|$name"]:-}" ] || note+=" ($k: retried, first run: ${earlier["$k|$name"]})"
	done
	test=${name%% on *} config=${TEST_CONFIG[${name%% on *}]:-}
	if [ "$p" = SKIP ] && [ "$m" = PASS ] && [ -n "${MISSING_6_1[$test]:-}" ] &&
		[ "${why["$patched|$name"]:-}" = "feature missing" ]; then
		note+=" (6.1 lacks ${MISSING_6_1[$test]})"
	elif [ "$p" = SKIP ] && [ "$m" = PASS ] && [ -n "$config" ] &&
		[ "${why["$patched|$name"]:-}" = "${config%%|*}" ]; then
		note+=" (test kernel config: ${config#*|})"
	elif [ "$p" != "$m" ]; then
		note+=" <-- $patched!=$mainline"
		bad=$((bad + 1))
	elif [ "$p" = SKIP ]; then
		note+=" (both: ${why["$patched|$name"]:-})"
	fi
	[[ "$note" != *:FAIL* ]] || bad=$((bad + 1))
	row=$(printf '%-42s %-4s %9s   %-4s %9s  %s' "${name:0:42}" "$p" "${secs["$patched|$name"]:-}" \
		"$m" "${secs["$mainline|$name"]:-}" "${note# }")
	printf '%s\n' "${row%"${row##*[! ]}"}"
done
for name in "${MUST_PASS[@]}"; do
	for k in "$patched" "$mainline"; do
		if [ "${res["$k|$name"]:-none}" != PASS ]; then
			info "$k: '$name' is ${res["$k|$name"]:-missing}, must pass: it is the CONTINUE_MODE_WP case"
			bad=$((bad + 1))
		fi
	done
done
for k in "$patched" "$mainline"; do
	info "$k: ${count["$k|PASS"]:-0} passed, ${count["$k|SKIP"]:-0} skipped, ${count["$k|FAIL"]:-0} failed, ${count["$k|none"]:-0} not run (${total[$k]}s in cases)"
done
[ "$bad" -eq 0 ] || die "$bad mainline unit test case(s) break the rules above (marked <-- or FAIL)"
info "mainline unit tests: no failure, minor-wp passes on shmem and hugetlb, $patched = $mainline but for the skips explained"

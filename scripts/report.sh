#!/usr/bin/env bash
# report.sh RESULTDIR...
# Summarise the results of boot.sh runs, one RESULTDIR per kernel, named
# for it. One line per test:
#   KERNEL  TEST  PASS|FAIL|SKIP  SECONDS  REASON
# then, as the last line, "N passed, N failed, N skipped". A run whose
# results.ktap is missing or incomplete (no plan, fewer results than
# planned, bail out, no end marker), or that boot.sh marked as failed
# (timeout, panic, kernel splat), counts as one failed test named (run).
# Exits non-zero if anything failed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -ge 1 ] || die "usage: report.sh RESULTDIR..."

# rows DIR: the tab-separated rows (kernel, test, result, time, reason)
# of one run.
rows() {
	local dir=$1 label status
	label=$(basename "$(realpath -m "$dir")")
	if [ -f "$dir/status" ]; then
		status=$(cat "$dir/status")
		case "$status" in
		ok) ;;
		running) printf '%s\t(run)\tFAIL\t\tboot.sh did not finish\n' "$label" ;;
		*) printf '%s\t(run)\tFAIL\t\t%s\n' "$label" "$status" ;;
		esac
	fi
	if [ ! -f "$dir/results.ktap" ]; then
		printf '%s\t(run)\tFAIL\t\tno %s\n' "$label" "$dir/results.ktap"
		return
	fi
	awk -v label="$label" -v end="$KTAP_END" '
	function row(test, result, time, reason) {
		printf "%s\t%s\t%s\t%s\t%s\n", label, test, result, time, reason
	}
	/^# [^ ]+: time: / { time[substr($0, 3, index($0, ": time:") - 3)] = $0; next }
	/^# [^ ]+: stderr: / {
		name = substr($0, 3, index($0, ": stderr:") - 3)
		stderr[name] = substr($0, index($0, ": stderr: ") + 10)
		next
	}
	/^1\.\.[0-9]+$/ { plan = substr($0, 4) + 0; have_plan = 1; next }
	/^Bail out!/ { bail = $0; next }
	$0 == end { complete = 1; next }
	/^(not )?ok [0-9]+ / {
		ok = ($1 == "ok")
		line = $0
		sub(/^(not )?ok [0-9]+ /, "", line)
		name = line; directive = ""
		if ((i = index(line, " # ")) > 0) {
			name = substr(line, 1, i - 1)
			directive = substr(line, i + 3)
		}
		t = time[name]; sub(/.*: time: /, "", t)
		if (t != "") t = t "s"
		if (ok && directive ~ /^SKIP/) {
			sub(/^SKIP */, "", directive)
			row(name, "SKIP", t, directive)
		} else if (ok) {
			row(name, "PASS", t, "")
		} else {
			if (stderr[name] != "" && directive !~ /^TIMEOUT/)
				directive = directive ": " stderr[name]
			row(name, "FAIL", t, directive)
		}
		results++
		next
	}
	END {
		if (bail != "")
			row("(run)", "FAIL", "", bail)
		else if (!have_plan)
			row("(run)", "FAIL", "", "no KTAP plan: the guest never started the suite")
		else if (results != plan)
			row("(run)", "FAIL", "", results + 0 " of " plan " planned results")
		else if (!complete)
			row("(run)", "FAIL", "", "no end marker: the run did not complete")
	}' "$dir/results.ktap"
}

for d in "$@"; do
	rows "$d"
done | awk -F '\t' '
	{
		for (i = 1; i <= 5; i++) {
			cell[NR, i] = $i
			if (length($i) > w[i]) w[i] = length($i)
		}
		n[$3]++
	}
	END {
		for (r = 1; r <= NR; r++) {
			line = sprintf("%-" w[1] "s  %-" w[2] "s  %-4s  %" w[4] "s  %s",
				cell[r, 1], cell[r, 2], cell[r, 3], cell[r, 4], cell[r, 5])
			sub(/ +$/, "", line)
			print line
		}
		printf "%d passed, %d failed, %d skipped\n", n["PASS"], n["FAIL"], n["SKIP"]
		exit n["FAIL"] > 0
	}'

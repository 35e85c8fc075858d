#!/usr/bin/env bash
# bench-report.sh RUN-ID KERNEL...
# The figures of a make bench run from each kernel's results (this run's
# only): bench/results.csv, bench/ratios.md and bench/bench.png in the
# repository (scripts/bench.py writes the first two and the plot's data,
# gnuplot draws the plot in $RESULTS/bench, then the three are copied).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -ge 2 ] || die "usage: bench-report.sh RUN-ID KERNEL..."
run_id=$1
shift
command -v gnuplot >/dev/null 2>&1 || die "gnuplot missing: run 'scripts/deps.sh gnuplot-nox' (make bench does)"
work=$RESULTS/bench
rm -rf "$work"
mkdir -p "$work"
python3 "$TOP/scripts/bench.py" --run-id "$run_id" "$work" "${@/#/$RESULTS/}" >/dev/null
(cd "$work" && gnuplot bench.gp) >"$work/gnuplot.log" 2>&1 ||
	die "gnuplot failed on $work/bench.gp: see $work/gnuplot.log"
mkdir -p "$TOP/bench"
cp "$work/results.csv" "$work/ratios.md" "$work/bench.png" "$TOP/bench/"
info "bench/: results.csv ($(($(wc -l <"$work/results.csv") - 1)) figures), ratios.md, bench.png"

#!/usr/bin/env bash
# report.sh [--run-id ID] RESULTDIR...
# Summarise the results of boot.sh runs, one RESULTDIR per kernel, named
# for it. One line per test:
#   KERNEL  TEST  PASS|FAIL|SKIP  SECONDS  REASON
# then, as the last line, "N passed, N failed, N skipped". A run whose
# results.ktap is missing or incomplete (no plan, fewer results than
# planned, bail out, no end marker), or that boot.sh marked as failed
# (timeout, panic, kernel splat), counts as one failed test named (run).
# With --run-id, a RESULTDIR whose run.id is missing or names another run
# is one failed test named (run) instead, and none of its results count.
# Exits non-zero if anything failed.
# The parser and these rules are in ktap.py, tested by scripts/tests/run.sh.
exec python3 "$(dirname "$0")/ktap.py" report "$@"

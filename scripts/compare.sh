#!/usr/bin/env bash
# compare.sh [--run-id ID] TEST PATCHED BASE MAINLINE
# Side-by-side results of one KTAP-producing guest test (its subtests,
# forwarded by guest/init as an indented KTAP block) on three kernels:
# the patched 6.1, Debian's unpatched 6.1 and Debian's 6.12, given as
# their result directories. One row per case, one column per kernel.
# Fails unless:
#   - the patched kernel passes every case;
#   - the unpatched base fails none, and skips only for the missing
#     UFFDIO_CONTINUE_MODE_WP (and skips at least one case);
#   - the patched kernel and 6.12 give the same result for every case.
# With --run-id, also fails if a directory's run.id is missing or names
# another run.
# The parser and these rules are in ktap.py, tested by scripts/tests/run.sh.
exec python3 "$(dirname "$0")/ktap.py" compare "$@"

#!/usr/bin/env bash
# mainline-report.sh [--run-id ID] PATCHED-DIR MAINLINE-DIR
# Mainline's userfaultfd unit tests (guest/suites/mainline-uffd*, run
# through uffd-unit-ktap) on the patched 6.1 and on Debian's 6.12, given as
# their result directories: one row per case and memory type with its
# result and time on each kernel, then each kernel's summary. Fails unless:
#   - no case fails on either kernel;
#   - minor-wp (CONTINUE_MODE_WP) passes on shmem and hugetlb on both;
#   - every case has the same result on both kernels, except that the
#     patched kernel skips, for "feature missing", the cases gated on
#     features 6.1 does not have (MISSING_6_1 in ktap.py), and skips, for
#     the reason given, what its config leaves out (TEST_CONFIG in ktap.py).
# A case reported twice (a test retried, see guest/bin/retry-on-6.12) has
# its last result, and the first is shown. With --run-id, also fails if a
# directory's run.id is missing or names another run.
# The parser and these rules are in ktap.py, tested by scripts/tests/run.sh.
exec python3 "$(dirname "$0")/ktap.py" mainline "$@"

#!/usr/bin/env bash
# run.sh [-v]: the harness's offline tests: scripts/ktap.py (the KTAP
# parser behind report.sh, compare.sh and mainline-report.sh) on the
# canned guest results in scripts/tests/data. No kernel build, no guest.
# Prints unittest's summary (every test with -v); exits with its status.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PYTHONDONTWRITEBYTECODE=1 PYTHONNOUSERSITE=1 LC_ALL=C
exec python3 -m unittest discover -s scripts/tests "$@"

#!/usr/bin/env bash
# run.sh: the harness's offline tests: scripts/ktap.py (the KTAP parser
# behind report.sh, compare.sh and mainline-report.sh) on the canned guest
# results in scripts/tests/data. No kernel build, no guest. Exits with
# unittest's status.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PYTHONDONTWRITEBYTECODE=1
exec python3 -m unittest discover -s scripts/tests -v

#!/usr/bin/env bash
# cachedir.sh [check|build|guest|results|ref]: print a cache path, for the
# Makefile (which has no other way to read lib.sh's settings).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

case "${1:-}" in
"") echo "$UFFDWP_CACHE" ;;
check) echo "$CHECK" ;;
build) echo "$BUILD" ;;
guest) echo "$GUESTDIR" ;;
results) echo "$RESULTS" ;;
ref) echo "$REFDIR" ;;
*) die "unknown cache path '$1'" ;;
esac

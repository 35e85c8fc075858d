#!/usr/bin/env bash
# Remove the whole cache: base tree and its work tree, build trees,
# ccache, reference kernels, guest images and results. Refuses if the
# work tree has commits not exported to patches/.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -d "$SRC" ] || [ -d "$BUILD" ] || [ -d "$DEBS" ] ||
	{ info "no cache at $UFFDWP_CACHE"; rm -rf "$UFFDWP_CACHE"; exit 0; }
# Not under a running harness.
exec 9>>"$UFFDWP_CACHE/lock"
flock -n 9 || die "a harness run is using the cache $UFFDWP_CACHE ($(cat "$UFFDWP_CACHE/lock.owner" 2>/dev/null || echo 'owner unknown')): wait for it"
if git -C "$SRC" rev-parse -q --verify refs/heads/series >/dev/null 2>&1 &&
	[ "${FORCE:-0}" != 1 ] && ! "$TOP/scripts/export.sh" --check; then
	die "branch 'series' in $SRC has work not exported to patches/: 'make export' first, or FORCE=1"
fi
info "removing $UFFDWP_CACHE ($(du -sh "$UFFDWP_CACHE" 2>/dev/null | cut -f1))"
rm -rf "$UFFDWP_CACHE"

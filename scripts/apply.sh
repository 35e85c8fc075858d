#!/usr/bin/env bash
# Apply patches/series to the base, twice:
#  - with git am, on branch 'check' of a worktree ($CHECK) that the test
#    kernel is built from. Skipped when the series has not changed since
#    the last run, so the build tree stays incremental.
#  - with quilt push -a --fuzz=0 on a scratch copy of the files the series
#    touches, the way a Debian kernel build applies debian/patches.
# A patch that does not apply stops the run, naming the patch and showing
# the failing hunk.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mapfile -t patches < <(series_patches)
for p in "${patches[@]}"; do
	[ -f "$TOP/patches/$p" ] || die "patches/series names $p, which does not exist in patches/"
done

# show_failure PATCH DIR: which hunks of PATCH do not apply in DIR, and
# the text of the first one.
show_failure() {
	local p=$1 dir=$2 out file hunk
	out=$(cd "$dir" && patch -p1 --dry-run -f --fuzz=0 <"$TOP/patches/$p" 2>&1) || true
	printf '%s\n' "$out" | grep -E 'FAILED|can.t find file|malformed|reversed' |
		sed 's/^/    /' >&2 || true
	file=$(printf '%s\n' "$out" | awk '/^(checking|patching) file /{f=$3} /FAILED/{print f; exit}')
	hunk=$(printf '%s\n' "$out" | sed -n 's/^Hunk #\([0-9]*\) FAILED.*/\1/p' | head -n 1)
	[ -n "$file" ] && [ -n "$hunk" ] || return 0
	printf '    first failing hunk (%s, #%s):\n' "$file" "$hunk" >&2
	awk -v f="$file" -v n="$hunk" '
		/^diff --git / { infile = ($3 == "a/" f); h = 0; show = 0; next }
		infile && /^@@ / { h++; show = (h == n) }
		show && !/^(diff|index|---|\+\+\+) / { print "      " $0 }
	' "$TOP/patches/$p" | head -n 40 >&2
}

# --- git am ----------------------------------------------------------
if [ ! -d "$CHECK" ]; then
	info "creating worktree $CHECK"
	git -C "$SRC" worktree add -q --detach "$CHECK" "$BASE_TAG"
fi
stamp="$CHECK.applied"
want=$(series_hash)
if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] &&
	[ -z "$(git -C "$CHECK" status --porcelain --untracked-files=no)" ]; then
	info "git am: ${#patches[@]} patches already applied in $CHECK"
else
	rm -f "$stamp"
	git -C "$CHECK" am --abort >/dev/null 2>&1 || true
	git -C "$CHECK" checkout -q -f -B check "$BASE_TAG"
	for p in "${patches[@]}"; do
		if ! git -C "$CHECK" am -q --keep-cr "$TOP/patches/$p" >/dev/null 2>&1; then
			git -C "$CHECK" am --abort >/dev/null 2>&1 || true
			show_failure "$p" "$CHECK"
			die "patch $p does not apply to $BASE_TAG with git am"
		fi
	done
	echo "$want" >"$stamp"
	info "git am: applied ${#patches[@]} patches on $BASE_TAG in $CHECK"
fi

# --- quilt -----------------------------------------------------------
[ "${#patches[@]}" -gt 0 ] || { info "quilt: empty series, nothing to check"; exit 0; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# Only the files the series touches are needed to apply it.
mapfile -t files < <(cd "$TOP/patches" && cat "${patches[@]}" |
	sed -n 's|^--- a/\(.*\)|\1|p' | sort -u)
if [ "${#files[@]}" -gt 0 ]; then
	git -C "$SRC" archive "$BASE_TAG" -- "${files[@]}" | tar -x -C "$scratch"
fi
mkdir -p "$scratch/debian/patches"
cp "${patches[@]/#/$TOP/patches/}" "$scratch/debian/patches/"
printf '%s\n' "${patches[@]}" >"$scratch/debian/patches/series"
if ! (cd "$scratch" && QUILT_PATCHES=debian/patches QUILT_PC=.pc \
	quilt push -a -q --fuzz=0 >quilt.log 2>&1); then
	failed=$(sed -n 's/^Applying patch \(.*\)$/\1/p' "$scratch/quilt.log" | tail -n 1)
	failed=${failed##*/}
	sed 's/^/    /' "$scratch/quilt.log" | tail -n 15 >&2
	die "patch ${failed:-?} does not apply with quilt push --fuzz=0"
fi
info "quilt: push -a --fuzz=0 applied ${#patches[@]} patches"

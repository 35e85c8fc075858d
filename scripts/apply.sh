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
load_run

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
	file=$(printf '%s\n' "$out" | awk '/^(checking|patching) file /{f=$3} /FAILED/ && !p {print f; p=1}')
	hunk=$(printf '%s\n' "$out" | sed -n 's/^Hunk #\([0-9]*\) FAILED.*/\1/p' | head -n 1)
	[ -n "$file" ] && [ -n "$hunk" ] || return 0
	printf '    first failing hunk (%s, #%s):\n' "$file" "$hunk" >&2
	awk -v f="$file" -v n="$hunk" '
		/^diff --git / { infile = ($3 == "a/" f); h = 0; show = 0; next }
		infile && /^@@ / { h++; show = (h == n) }
		show && !/^(diff|index|---|\+\+\+) / { print "      " $0 }
	' "$TOP/patches/$p" | head -n 40 >&2
}

# base_files DIR PATCH...: the base's copy of every file the patches
# touch, extracted into DIR.
base_files() {
	local dir=$1 files
	shift
	mapfile -t files < <(sed -n 's|^--- a/\(.*\)|\1|p' "$@" | sort -u)
	[ "${#files[@]}" -eq 0 ] || git -C "$SRC" archive "$BASE_TAG" -- "${files[@]}" | tar -x -C "$dir"
}

# --- git am ----------------------------------------------------------
# The worktree: recreated when missing or broken (a removed directory
# leaves git's record of it behind: prune that first).
if ! git -C "$CHECK" rev-parse --git-dir >/dev/null 2>&1; then
	if [ -e "$CHECK" ]; then
		warn "$CHECK is not a usable worktree; recreating it"
		rm -rf "$CHECK"
	fi
	git -C "$SRC" worktree prune
	info "creating worktree $CHECK"
	git -C "$SRC" worktree add -q --detach "$CHECK" "$BASE_TAG" ||
		die "git worktree add $CHECK failed (git's message above)"
fi

# The stamp says which series was applied and which commit that made; it
# holds only while the worktree is at that commit, on branch 'check',
# with nothing changed (a per-patch walk stopped half-way leaves HEAD on
# an earlier patch: that is not the series).
stamp="$CHECK.applied"
want=$(series_hash)
stamp_hash="" stamp_tip=""
[ ! -f "$stamp" ] || read -r stamp_hash stamp_tip _ <"$stamp" || true
# A walk stopped half-way (build-series.sh) leaves HEAD on an earlier
# patch while branch 'check' still holds the series: check it out again.
if [ "$stamp_hash" = "$want" ] && [ -n "$stamp_tip" ] &&
	[ "$(git -C "$CHECK" rev-parse -q --verify refs/heads/check || true)" = "$stamp_tip" ] &&
	{ [ "$(git -C "$CHECK" rev-parse -q --verify HEAD || true)" != "$stamp_tip" ] ||
		[ "$(git -C "$CHECK" symbolic-ref -q --short HEAD || true)" != check ] ||
		[ -n "$(git -C "$CHECK" status --porcelain --untracked-files=no)" ]; }; then
	info "git am: $CHECK is not at the applied series (${stamp_tip:0:12}): checking it out again"
	git -C "$CHECK" am --abort >/dev/null 2>&1 || true
	git -C "$CHECK" checkout -q -f check || die "cannot check out branch 'check' in $CHECK (git's message above)"
fi
head=$(git -C "$CHECK" rev-parse -q --verify HEAD || true)
branch=$(git -C "$CHECK" symbolic-ref -q --short HEAD || true)
if [ "$stamp_hash" = "$want" ] && [ -n "$stamp_tip" ] && [ "$head" = "$stamp_tip" ] &&
	[ "$branch" = check ] &&
	[ -z "$(git -C "$CHECK" status --porcelain --untracked-files=no)" ]; then
	info "git am: ${#patches[@]} patches already applied in $CHECK (tip ${stamp_tip:0:12})"
else
	rm -f "$stamp"
	git -C "$CHECK" am --abort >/dev/null 2>&1 || true
	git -C "$CHECK" checkout -q -f -B check "$BASE_TAG" ||
		die "cannot check out $BASE_TAG in $CHECK (git's message above)"
	log="$UFFDWP_CACHE/logs/git-am.log"
	mkdir -p "${log%/*}"
	: >"$log"
	for p in "${patches[@]}"; do
		if ! git -C "$CHECK" am -q --keep-cr --committer-date-is-author-date "$TOP/patches/$p" >>"$log" 2>&1; then
			sed 's/^/    git: /' "$log" | tail -n 12 >&2
			git -C "$CHECK" am --abort >/dev/null 2>&1 || true
			show_failure "$p" "$CHECK"
			die "git am $p on $BASE_TAG failed (git's message above; log: $log)"
		fi
	done
	tip=$(git -C "$CHECK" rev-parse HEAD)
	echo "$want $tip" >"$stamp"
	info "git am: applied ${#patches[@]} patches on $BASE_TAG in $CHECK (tip ${tip:0:12})"
fi

# --- quilt -----------------------------------------------------------
[ "${#patches[@]}" -gt 0 ] || { info "quilt: empty series, nothing to check"; exit 0; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# Only the files the series touches are needed to apply it.
base_files "$scratch" "${patches[@]/#/$TOP/patches/}"
mkdir -p "$scratch/debian/patches"
cp "${patches[@]/#/$TOP/patches/}" "$scratch/debian/patches/"
printf '%s\n' "${patches[@]}" >"$scratch/debian/patches/series"
# --quiltrc -: no ~/.quiltrc or /etc/quilt.quiltrc, as dpkg-source does.
if ! (cd "$scratch" && QUILT_PATCHES=debian/patches QUILT_PC=.pc \
	quilt --quiltrc - push -a -q --fuzz=0 >quilt.log 2>&1); then
	failed=$(sed -n 's/^Applying patch \(.*\)$/\1/p' "$scratch/quilt.log" | tail -n 1)
	failed=${failed##*/}
	sed 's/^/    /' "$scratch/quilt.log" | tail -n 15 >&2
	die "patch ${failed:-?} does not apply with quilt push --fuzz=0"
fi
info "quilt: push -a --fuzz=0 applied ${#patches[@]} patches"

# --- stable material ---------------------------------------------------
# Each patch of the series' stable section applies to the unpatched base
# on its own (patch --fuzz=0 on a fresh copy of the files it touches).
mapfile -t stable < <(series_stable)
for p in "${stable[@]}"; do
	alone="$scratch/alone"
	rm -rf "$alone"
	mkdir -p "$alone"
	base_files "$alone" "$TOP/patches/$p"
	if ! (cd "$alone" && patch -p1 -s -f --dry-run --fuzz=0 <"$TOP/patches/$p" >/dev/null 2>&1); then
		show_failure "$p" "$alone"
		die "$p is in the stable section of patches/series but does not apply to $BASE_TAG on its own"
	fi
done
[ "${#stable[@]}" -eq 0 ] || info "stable: each of ${#stable[@]} fixes applies to $BASE_TAG on its own"

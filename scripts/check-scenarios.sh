#!/usr/bin/env bash
# check-scenarios.sh: the machine states that once broke a newcomer's run,
# each reproduced and checked to be handled. Runs after 'make check' (a
# warm cache), as root; check-fresh.sh runs it in the fresh root, where
# removing apt's lists or the worktree harms nobody. Each scenario prints
# one 'ok' or 'FAIL' line; the script fails if any failed.
#   no-apt-lists     apt's lists are gone: the run refreshes them
#   pin-gone         the pinned base has left the archive (warm cache): one
#                    plain line, the newest is used, the series applies
#   pin-gone-cold    the same with an empty cache
#   base-switch      another base on a warm cache: its own tag, no clean-cache
#   hostile-git      a global git config with gpgsign, noprefix, threeWay,
#                    signOff and no identity: apply, series-tree and export
#                    behave as without it
#   foreign-cache    a cache owned by another user: a clear error
#   missing-tool     a command missing from PATH: the preflight names it
#   worktree-gone    the check worktree deleted: recreated
#   interrupted-walk a per-patch walk stopped at patch 1, then make demo:
#                    the demo runs the series tip, with the feature
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cd "$TOP"
work="$UFFDWP_CACHE/scenarios"
rm -rf "$work"
mkdir -p "$work"
failed=0
ok() { printf 'ok    %s\n' "$*"; }
bad() {
	printf 'FAIL  %s\n' "$*"
	failed=$((failed + 1))
}

# scenario NAME CMD...: run CMD (a function below), output in a log.
scenario() {
	local name=$1 t0
	shift
	t0=$(date +%s)
	printf '==> scenario %s\n' "$name"
	if "$@" >"$work/$name.log" 2>&1; then
		ok "$name ($(($(date +%s) - t0))s): $(tail -n 1 "$work/$name.log")"
	else
		sed 's/^/    | /' "$work/$name.log" | tail -n 15
		bad "$name ($(($(date +%s) - t0))s): $(tail -n 1 "$work/$name.log")"
	fi
}

# expect LOG REGEX: LOG has a line matching REGEX, or the scenario fails.
expect() {
	grep -qE "$2" "$1" || { echo "no line matching '$2' in $1"; return 1; }
}

# with_pin VERSION: a clone of the repository with configs/base-version
# set to VERSION, in $work/pin.
with_pin() {
	rm -rf "$work/pin"
	git clone -q "$TOP" "$work/pin"
	echo "$1" >"$work/pin/configs/base-version"
}

no_apt_lists() {
	rm -rf /var/lib/apt/lists/*
	make -C "$TOP" fetch | tee "$work/no-apt-lists.out"
	expect "$work/no-apt-lists.out" "refreshing apt's lists"
	echo "lists refreshed, packages fetched"
}

pin_gone() {
	with_pin 6.1.192-0
	make -C "$work/pin" apply | tee "$work/pin-gone.out"
	expect "$work/pin-gone.out" '^    base: the pinned 6.1.192-0 is no longer in the Debian archive; using the newest, '
	expect "$work/pin-gone.out" 'git am: (applied|[0-9]+ patches already applied)'
	echo "fell back to the newest and applied the series"
}

pin_gone_cold() {
	with_pin 6.1.192-0
	rm -rf "$work/cold"
	UFFDWP_CACHE="$work/cold" CCACHE_DIR="$CCACHE_DIR" make -C "$work/pin" apply | tee "$work/pin-gone-cold.out"
	expect "$work/pin-gone-cold.out" 'using the newest'
	expect "$work/pin-gone-cold.out" 'git am: applied [0-9]+ patches'
	rm -rf "$work/cold"
	echo "empty cache: fell back to the newest and applied the series"
}

base_switch() {
	local other
	load_run
	# The oldest base the series applies to (README); not the pinned one.
	other=6.1.192-1
	[ "$other" != "$BASE_VERSION" ] || other=6.1.192-2
	make -C "$TOP" apply BASE="$other" | tee "$work/base-switch.out"
	expect "$work/base-switch.out" "git am: applied [0-9]+ patches on debian/$other"
	make -C "$TOP" apply | tee -a "$work/base-switch.out"
	load_run
	git -C "$SRC" rev-parse -q --verify "refs/tags/debian/$other" >/dev/null
	expect "$work/base-switch.out" "git am: applied [0-9]+ patches on $BASE_TAG"
	echo "$other and $BASE_VERSION side by side in one repository"
}

hostile_git() {
	local home="$work/hostile-home"
	mkdir -p "$home"
	cat >"$home/.gitconfig" <<-'EOF'
		[commit]
			gpgsign = true
		[tag]
			gpgSign = true
		[am]
			threeWay = true
		[diff]
			noprefix = true
		[format]
			signOff = true
		[user]
			useConfigOnly = true
		[safe]
			directory = /nonexistent
	EOF
	rm -f "$CHECK.applied"
	HOME="$home" make -C "$TOP" apply | tee "$work/hostile-git.out"
	expect "$work/hostile-git.out" 'git am: applied [0-9]+ patches'
	cp -a patches "$work/patches.before"
	HOME="$home" make -C "$TOP" series-tree export | tee -a "$work/hostile-git.out"
	diff -r "$work/patches.before" patches || {
		rm -rf patches && cp -a "$work/patches.before" patches
		echo "series-tree + export changed patches/ under a hostile git config"
		return 1
	}
	echo "git am, series-tree and export unaffected by ~/.gitconfig"
}

foreign_cache() {
	local c="$work/foreign"
	mkdir -p "$c"
	chown 4242:4242 "$c"
	if UFFDWP_CACHE="$c" scripts/pipeline.sh resolve >"$work/foreign.out" 2>&1; then
		echo "a run on a cache owned by uid 4242 did not fail"
		return 1
	fi
	expect "$work/foreign.out" "belongs to uid 4242, not to you"
	tail -n 1 "$work/foreign.out"
}

missing_tool() {
	local fake="$work/path" c
	mkdir -p "$fake"
	for c in /usr/sbin/* /usr/bin/* /sbin/* /bin/*; do
		case "${c##*/}" in rsync) continue ;; esac
		[ -e "$fake/${c##*/}" ] || ln -s "$c" "$fake/${c##*/}"
	done
	if UFFDWP_TEST_PATH="$fake" scripts/deps.sh --check >"$work/missing.out" 2>&1; then
		echo "deps.sh --check passed with rsync missing"
		return 1
	fi
	expect "$work/missing.out" 'missing command\(s\): rsync \(rsync\)'
	tail -n 1 "$work/missing.out"
}

worktree_gone() {
	rm -rf "$CHECK"
	make -C "$TOP" apply | tee "$work/worktree.out"
	expect "$work/worktree.out" 'creating worktree'
	git -C "$CHECK" rev-parse -q --verify HEAD >/dev/null
	echo "worktree recreated and the series applied"
}

interrupted_walk() {
	local tip
	load_run
	read -r _ tip _ <"$CHECK.applied"
	# As a per-patch walk leaves it when the build of patch 1 fails.
	git -C "$CHECK" checkout -q --detach "$tip~8"
	rm -f "$BUILD/patched.series-built"
	make -C "$TOP" demo | tee "$work/walk.out"
	[ "$(git -C "$CHECK" rev-parse HEAD)" = "$tip" ] || { echo "the worktree is not at the series tip"; return 1; }
	expect "$work/walk.out" 'checking it out again'
	# The patched kernel's demo ran the one-step strategy: the feature is in.
	awk '/===== patched/ { on = 1 } /===== debian/ { on = 0 } on' "$work/walk.out" >"$work/walk.patched"
	expect "$work/walk.patched" '^  one-step CONTINUE\(WP\) +[0-9]+'
	if grep -q 'unsupported' "$work/walk.patched"; then
		echo "the patched kernel's demo says the feature is unsupported"
		return 1
	fi
	echo "make demo after a stopped walk: series tip, one-step strategy ran"
}

scenario missing-tool missing_tool
scenario foreign-cache foreign_cache
scenario no-apt-lists no_apt_lists
scenario hostile-git hostile_git
scenario worktree-gone worktree_gone
scenario pin-gone pin_gone
scenario base-switch base_switch
scenario pin-gone-cold pin_gone_cold
scenario interrupted-walk interrupted_walk

[ "$failed" -eq 0 ] || die "$failed scenario(s) failed; logs in $work"
info "all scenarios handled; logs in $work"

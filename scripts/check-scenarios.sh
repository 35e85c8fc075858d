#!/usr/bin/env bash
# check-scenarios.sh [NAME...]: the machine states that once broke a newcomer's run,
# each reproduced and checked to be handled. Runs after 'make check' (a
# warm cache), as root; check-fresh.sh runs it in the fresh root, where
# removing apt's lists or the worktree harms nobody. Each scenario prints
# one 'ok' or 'FAIL' line; the script fails if any failed. NAMEs run
# only those scenarios.
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
#   killed-apply     make apply killed (SIGKILL) in the middle of git am:
#                    the next run applies the series from scratch
#   interrupted-walk a per-patch walk stopped at patch 1 (kernel built
#                    there), then make demo: the demo rebuilds and runs the
#                    series tip, with the feature
# Each runs make as the user would, from a clean environment (env -i),
# not with the harness's own settings. Destructive (apt's lists, the
# worktree, /etc/gitconfig): refuses to run outside check-fresh's root
# unless UFFDWP_SCENARIOS_ANYWHERE=1.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if [ ! -f /etc/uffdwp-fresh-root ] && [ "${UFFDWP_SCENARIOS_ANYWHERE:-}" != 1 ]; then
	die "check-scenarios.sh removes apt's lists and changes /etc/gitconfig: it runs in make check-fresh's root (or set UFFDWP_SCENARIOS_ANYWHERE=1)"
fi
cd "$TOP"
user_home=$(getent passwd "$(id -u)" | cut -d: -f6)

# umake ARG...: make in the repository as the user runs it: a login's
# environment only (env -i; VAR=VALUE arguments before make's add to it).
umake() {
	local vars=()
	while [[ "${1:-}" == *=* ]] && [[ "$1" != -* ]]; do
		vars+=("$1")
		shift
	done
	env -i UFFDWP_CACHE="$UFFDWP_CACHE" HOME="$user_home" TERM=dumb LANG=de_DE.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		CCACHE_DIR="$CCACHE_DIR" "${vars[@]}" make --no-print-directory "$@"
}
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
	local name=$1 t0 rc
	shift
	t0=$(date +%s)
	printf '==> scenario %s\n' "$name"
	# A subshell with -e in force: any failing command fails the
	# scenario (in an if or after ||, bash would ignore -e inside it).
	set +e
	(
		set -e
		"$@"
	) >"$work/$name.log" 2>&1
	rc=$?
	set -e
	if [ "$rc" = 0 ]; then
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
	umake -C "$TOP" fetch | tee "$work/no-apt-lists.out"
	expect "$work/no-apt-lists.out" "refreshing apt's lists"
	echo "lists refreshed, packages fetched"
}

pin_gone() {
	with_pin 6.1.192-0
	umake -C "$work/pin" apply | tee "$work/pin-gone.out"
	expect "$work/pin-gone.out" '^    base: the pinned 6.1.192-0 is no longer in the Debian archive; using the newest, '
	expect "$work/pin-gone.out" 'git am: (applied|[0-9]+ patches already applied)'
	echo "fell back to the newest and applied the series"
}

pin_gone_cold() {
	with_pin 6.1.192-0
	rm -rf "$work/cold"
	# The packages are hard links to the warm cache's: the fresh root's
	# first run downloaded them; what is cold here is everything else.
	mkdir -p "$work/cold/debs"
	ln "$DEBS"/*.deb "$work/cold/debs/"
	umake UFFDWP_CACHE="$work/cold" -C "$work/pin" apply | tee "$work/pin-gone-cold.out"
	expect "$work/pin-gone-cold.out" 'using the newest'
	expect "$work/pin-gone-cold.out" 'git am: applied [0-9]+ patches'
	rm -rf "$work/cold"
	echo "empty cache: fell back to the newest and applied the series"
}

base_switch() {
	local other v
	load_run
	# Another version the series applies to: the newest other one not
	# older than the oldest base it applies to (README: 6.1.192-1).
	other=""
	for v in $(apt-cache madison "$BASE_PKG" | awk -F'|' '{ gsub(/ /, "", $2); print $2 }' | sort -V -r); do
		if [ "$v" != "$BASE_VERSION" ] && [ "$v" != "$BASE_PIN" ] &&
			dpkg --compare-versions "$v" ge 6.1.192-1; then
			other=$v
			break
		fi
	done
	[ -n "$other" ] || { echo "the archive has no other base the series applies to"; return 1; }
	umake -C "$TOP" apply BASE="$other" | tee "$work/base-switch.out"
	expect "$work/base-switch.out" "git am: applied [0-9]+ patches on debian/$other"
	umake -C "$TOP" apply | tee "$work/base-switch-back.out"
	load_run
	git -C "$SRC" rev-parse -q --verify "refs/tags/debian/$other" >/dev/null
	[ "$BASE_VERSION" != "$other" ] || { echo "back on the default base, the run still uses $other"; return 1; }
	expect "$work/base-switch-back.out" "git am: applied [0-9]+ patches on $BASE_TAG"
	echo "$other and $BASE_VERSION side by side in one repository"
}

hostile_git() {
	local home="$work/hostile-home" saved=""
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
	EOF
	# The system configuration too (restored below).
	[ -f /etc/gitconfig ] && saved=$(cat /etc/gitconfig)
	printf '[format]\n\tnumbered = false\n[core]\n\tabbrev = 7\n[safe]\n\tdirectory = /nonexistent\n' >/etc/gitconfig
	# The test means something only if git, as the user runs it, sees it.
	# (The cache stays the usual one: HOME alone would move it.)
	[ "$(env -i HOME="$home" PATH=/usr/bin:/bin git config commit.gpgsign)" = true ] ||
		{ echo "git does not read $home/.gitconfig: the scenario proves nothing"; return 1; }
	rm -f "$CHECK.applied"
	cp -a patches "$work/patches.before"
	rc=0
	{
		umake HOME="$home" UFFDWP_CACHE="$UFFDWP_CACHE" -C "$TOP" apply | tee "$work/hostile-git.out" &&
			expect "$work/hostile-git.out" 'git am: applied [0-9]+ patches' &&
			umake HOME="$home" UFFDWP_CACHE="$UFFDWP_CACHE" -C "$TOP" series-tree export |
			tee -a "$work/hostile-git.out" &&
			diff -r "$work/patches.before" patches
	} || rc=1
	if [ -n "$saved" ]; then printf '%s\n' "$saved" >/etc/gitconfig; else rm -f /etc/gitconfig; fi
	if [ "$rc" != 0 ]; then
		rm -rf patches && cp -a "$work/patches.before" patches
		echo "apply, series-tree or export failed or changed patches/ under a hostile git configuration"
		return 1
	fi
	echo "git am, series-tree and export unaffected by ~/.gitconfig and /etc/gitconfig"
}

foreign_cache() {
	local c="$work/foreign"
	mkdir -p "$c"
	chown 4242:4242 "$c"
	if umake UFFDWP_CACHE="$c" -C "$TOP" resolve >"$work/foreign.out" 2>&1; then
		echo "a run on a cache owned by uid 4242 did not fail"
		return 1
	fi
	expect "$work/foreign.out" "belongs to uid 4242, not to you"
	grep -m1 'belongs to uid 4242' "$work/foreign.out"
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
	umake -C "$TOP" apply | tee "$work/worktree.out"
	expect "$work/worktree.out" 'creating worktree'
	git -C "$CHECK" rev-parse -q --verify HEAD >/dev/null
	echo "worktree recreated and the series applied"
}

killed_apply() {
	local pgid _ am="$SRC/.git/worktrees/check/rebase-apply" stamp
	# A stamp that names another series: apply must do git am again.
	read -r _ stamp <"$CHECK.applied"
	echo "0000000000000000000000000000000000000000000000000000000000000000 $stamp" >"$CHECK.applied"
	# shellcheck disable=SC2016 # for the inner shell
	setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' sh "$work/killed.pgid" \
		env -i UFFDWP_CACHE="$UFFDWP_CACHE" HOME="$user_home" PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		make --no-print-directory -C "$TOP" apply >"$work/killed.out" 2>&1 &
	# The steps before apply (a KVM probe among them) may take a while.
	for _ in $(seq 1800); do
		grep -q '^==> apply the series' "$work/killed.out" 2>/dev/null && break
		sleep 0.1
	done
	for _ in $(seq 600); do
		[ -d "$am" ] && break
		sleep 0.05
	done
	pgid=$(cat "$work/killed.pgid")
	[ -d "$am" ] || { kill -KILL -- "-$pgid" 2>/dev/null; echo "never caught git am at work"; return 1; }
	kill -KILL -- "-$pgid"
	wait || true
	echo "killed make apply during git am ($(find "$am" | wc -l) files in rebase-apply)"
	[ ! -f "$CHECK.applied" ] || { echo "a stamp survived the kill ($(cat "$CHECK.applied"))"; return 1; }
	umake -C "$TOP" apply | tee "$work/killed-again.out"
	expect "$work/killed-again.out" 'git am: applied [0-9]+ patches'
	read -r _ tip _ <"$CHECK.applied"
	[ "$(git -C "$CHECK" rev-parse HEAD)" = "$tip" ] || { echo "the worktree is not at the stamp's tip"; return 1; }
	echo "make apply killed mid-way, then run again: the series applied, stamp and HEAD agree"
}

interrupted_walk() {
	local tip
	load_run
	read -r _ tip _ <"$CHECK.applied"
	# As a per-patch walk leaves it when it stops after building patch 1:
	# the worktree and the kernel are patch 1's, which lacks the feature.
	git -C "$CHECK" checkout -q --detach "$(git -C "$CHECK" rev-list --reverse "$BASE_TAG..$tip" | head -n 1)"
	rm -f "$BUILD/patched.series-built"
	scripts/build-kernel.sh "$CHECK" "$BUILD/patched" >/dev/null
	umake -C "$TOP" demo | tee "$work/walk.out"
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

all=(missing-tool foreign-cache no-apt-lists hostile-git worktree-gone killed-apply
	pin-gone base-switch pin-gone-cold interrupted-walk)
[ $# -gt 0 ] || set -- "${all[@]}"
for name in "$@"; do
	[[ " ${all[*]} " == *" $name "* ]] || die "no scenario '$name' (have: ${all[*]})"
	scenario "$name" "${name//-/_}"
done

[ "$failed" -eq 0 ] || die "$failed scenario(s) failed; logs in $work"
info "all scenarios handled; logs in $work"

#!/usr/bin/env bash
# check-fresh.sh [REV]: run the README's commands as a new user would, on
# a fresh Debian 12 root: mmdebstrap builds a bare bookworm (minbase) from
# the machine's Debian apt sources, with a de_DE.UTF-8 locale generated;
# a clean clone of this repository at REV (default HEAD: the committed
# state, not the working tree) goes in /root; then, chrooted, with an
# empty HOME, no git identity, LANG=de_DE.UTF-8 and nothing installed but
# the bare system, it runs the README's setup line, its two commands
# ('make', 'make check') and scripts/check-scenarios.sh. Only the
# compiler cache is shared with the host (a cache hides no missing tool).
# Needs root. Runs in a mount namespace of its own, so no mount it makes
# can outlive it or reach the host. The root is kept for inspection in
# $UFFDWP_CACHE/fresh/root until the next run.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || die "check-fresh needs root (mmdebstrap, chroot, mounts)"
command -v git >/dev/null || die "check-fresh needs git on this machine, to clone the repository: apt-get install git"
command -v unshare >/dev/null || die "check-fresh needs unshare (util-linux)"
# Private mounts: they vanish with this process, whatever ends it. The
# script runs itself again under unshare, telling the new copy the mount
# namespace it came from, and the copy checks it is in another one (pid
# 1's namespace may not be readable: it is not the reference).
if [ "${1:-}" = --in-namespace ]; then
	[ "$(readlink /proc/self/ns/mnt)" != "${2:-}" ] ||
		die "unshare did not give check-fresh a mount namespace of its own"
	shift 2
else
	exec unshare --mount --propagation private /bin/bash "$0" --in-namespace "$(readlink /proc/self/ns/mnt)" "$@"
fi

rev=${1:-HEAD}
dir="$UFFDWP_CACHE/fresh"
root="$dir/root"
# Belt and braces: undo the mounts on the way out too.
umount_root() {
	local m
	findmnt -rn -o TARGET | grep -F "$root/" | sort -r | while read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
}
trap umount_root EXIT
start=$(date +%s)
mkdir -p "$dir" "$CCACHE_DIR" "$UFFDWP_CACHE/logs"

# One run at a time per cache, as pipeline.sh.
exec 9>>"$UFFDWP_CACHE/lock"
flock -n 9 || die "another harness run is using the cache $UFFDWP_CACHE ($(cat "$UFFDWP_CACHE/lock.owner" 2>/dev/null || echo 'owner unknown')): wait for it"
printf 'pid %s, check-fresh, since %s\n' "$$" "$(date -u +%FT%TZ)" >"$UFFDWP_CACHE/lock.owner"

if ! command -v mmdebstrap >/dev/null; then
	info "installing mmdebstrap"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y -q --no-install-recommends mmdebstrap >>"$UFFDWP_CACHE/logs/apt.log" 2>&1; then
		quiet "$UFFDWP_CACHE/logs/apt.log" apt-get update
		quiet "$UFFDWP_CACHE/logs/apt.log" apt-get install -y -q --no-install-recommends mmdebstrap
	fi
fi
commit=$(git -c safe.directory="$TOP" -C "$TOP" rev-parse --verify "$rev^{commit}") ||
	die "no commit '$rev' in $TOP"
if [ "$rev" = HEAD ] && [ -n "$(git -c safe.directory="$TOP" -C "$TOP" status --porcelain)" ]; then
	warn "the repository has uncommitted changes: check-fresh tests the committed HEAD (${commit:0:12}) only"
fi

# The machine's Debian bookworm sources (same apt registry), nothing else:
# other suites and repositories would need keys, https support or files a
# bare root lacks. deb822 stanzas keep only their bookworm suites;
# one-line entries, their options dropped, only bookworm ones.
sources="$dir/debian.sources"
{
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		tr -d '\r' <"$f" | awk '
			BEGIN { RS = ""; ORS = "\n\n" }
			{
				n = split($0, line, "\n"); out = ""; deb = 0; keep = ""; off = 0
				for (i = 1; i <= n; i++) {
					l = line[i]; low = tolower(l)
					if (low ~ /^types:/ && low ~ /[ \t]deb([ \t]|$)/) deb = 1
					if (low ~ /^enabled:[ \t]*no/) off = 1
					if (low ~ /^suites:/) {
						m = split(substr(l, 8), w, /[ \t]+/)
						for (j = 1; j <= m; j++)
							if (w[j] ~ /^bookworm(-updates|-security)?$/) keep = keep " " w[j]
						l = "Suites:" keep
					}
					if (low ~ /^uris:/ && low ~ /mirror\+file:|https:/) off = 1
					out = out l "\n"
				}
				if (deb && !off && keep != "") printf "%s\n", out
			}' 
	done
} >"$sources"
list="$dir/debian.list"
{
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		tr -d '\r' <"$f" | awk '
			$1 == "deb" {
				l = $0; sub(/\[[^]]*\][ \t]*/, "", l); split(l, w, /[ \t]+/)
				if (w[3] ~ /^bookworm(-updates|-security)?$/ && w[2] !~ /^(mirror\+file|https):/) print l
			}'
	done
} >"$list"
mirrors=()
[ -s "$sources" ] && mirrors+=("$sources")
[ -s "$list" ] && mirrors+=("$list")
[ "${#mirrors[@]}" -gt 0 ] || die "no Debian bookworm source in /etc/apt: cannot bootstrap Debian 12"

# phase NAME CMD...: CMD in a subshell with -e in force, one timed line
# per phase, kept in $dir/phases.
: >"$dir/phases"
phase() {
	local name=$1 t0 rc=0
	shift
	t0=$(date +%s)
	printf '==> fresh root: %s\n' "$name"
	local e=${-//[^e]/}
	set +e
	(
		set -e
		"$@"
	)
	rc=$?
	[ -z "$e" ] || set -e
	printf '%-52s %5ss  %s\n' "${name:0:52}" "$(($(date +%s) - t0))" "$([ "$rc" = 0 ] && echo ok || echo "FAILED ($rc)")" |
		tee -a "$dir/phases"
	return "$rc"
}

bootstrap() {
	if findmnt -rn -o TARGET | grep -qF "$root/"; then
		die "something is still mounted below $root: not removing it"
	fi
	rm -rf --one-file-system "$root"
	mkdir -p "$root"
	# shellcheck disable=SC2016 # "$1" is mmdebstrap's, expanded in its hook
	quiet "$dir/mmdebstrap.log" mmdebstrap --variant=minbase --include=locales \
		--customize-hook='echo "de_DE.UTF-8 UTF-8" >"$1/etc/locale.gen"' \
		--customize-hook='chroot "$1" locale-gen' \
		bookworm "$root" "${mirrors[@]}"
	git -c safe.directory="$TOP" clone -q --no-checkout "$TOP" "$root/root/uffd-continue-wp"
	git -C "$root/root/uffd-continue-wp" checkout -q "$commit"
	# The root's own clone: a newcomer's would have no trace of this machine.
	git -C "$root/root/uffd-continue-wp" remote remove origin
	mkdir -p "$root/var/cache/uffdwp-ccache"
	mount -t proc proc "$root/proc"
	mount -t sysfs sysfs "$root/sys"
	mount --rbind /dev "$root/dev"
	mount --bind "$CCACHE_DIR" "$root/var/cache/uffdwp-ccache"
	cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
	# check-scenarios.sh does destructive things only in a root that says so.
	echo "check-fresh $(date -u +%FT%TZ)" >"$root/etc/uffdwp-fresh-root"
	info "fresh root: $(du -sh --exclude=proc --exclude=sys --exclude=dev "$root" | cut -f1), $(chroot "$root" dpkg-query -W | wc -l) packages; git: $(chroot "$root" sh -c 'command -v git || echo none'), make: $(chroot "$root" sh -c 'command -v make || echo none'); repository at ${commit:0:12}"
}

# inside CMD: run CMD in the root as a new user's login would: root,
# empty HOME, German locale, no git identity, nothing else of ours but
# the shared compiler cache.
inside() {
	chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=de_DE.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		CCACHE_DIR=/var/cache/uffdwp-ccache \
		/bin/bash -c "cd /root/uffd-continue-wp && $1"
}

# readme NAME: the README block marked <!-- check-fresh: NAME -->, from the
# commit under test.
readme() {
	git -c safe.directory="$TOP" -C "$TOP" show "$commit:README.md" | readme_block check-fresh "$1"
}
setup=$(readme setup)
commands=$(readme commands)
if [ -z "$setup" ] || [ -z "$commands" ]; then
	die "README.md at ${commit:0:12} lacks the blocks marked <!-- check-fresh: setup --> and <!-- check-fresh: commands -->"
fi

rc=0
# (phase is never called where -e is ignored, as after || or in an if:
# that would switch -e off inside its subshell too.)
set +e
phase "bootstrap Debian 12 (mmdebstrap)" bootstrap
r=$?
set -e
[ "$r" = 0 ] || die "bootstrapping the fresh root failed (log: $dir/mmdebstrap.log)"
set +e
phase "README setup: $setup" inside "cd / && $setup" >"$dir/setup.log" 2>&1
r=$?
set -e
if [ "$r" != 0 ]; then
	tail -n 20 "$dir/setup.log"
	die "the README's setup commands failed in the fresh root (log: $dir/setup.log)"
fi
# The README's two commands, one after the other, as written.
n=0
while IFS= read -r cmd; do
	cmd=${cmd%%#*}
	cmd=${cmd%"${cmd##*[! ]}"}
	[ -n "$cmd" ] || continue
	n=$((n + 1))
	log="$dir/command-$n.log"
	set +e
	phase "README: $cmd" inside "$cmd" 2>&1 | tee "$log"
	r=${PIPESTATUS[0]}
	set -e
	if [ "$r" != 0 ]; then
		rc=1
		break
	fi
done <<<"$commands"
if [ "$rc" = 0 ]; then
	set +e
	phase "scenarios (scripts/check-scenarios.sh)" inside "scripts/check-scenarios.sh" 2>&1 |
		tee "$dir/scenarios.log"
	r=${PIPESTATUS[0]}
	set -e
	[ "$r" = 0 ] || rc=1
fi
echo
echo "fresh-root check of ${commit:0:12}, $(date -u +%F), $(($(date +%s) - start))s in all:"
cat "$dir/phases"
[ "$rc" = 0 ] || die "the fresh-root check failed (logs in $dir)"
echo "fresh-root check passed"

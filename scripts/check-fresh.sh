#!/usr/bin/env bash
# check-fresh.sh: run the README's commands as a new user would, on a
# fresh Debian 12 root: mmdebstrap builds a bare bookworm (minbase) from
# the machine's apt sources, with a de_DE.UTF-8 locale generated; a clean
# clone of this repository's HEAD goes in /root; then, chrooted, with an
# empty HOME, no git identity, LANG=de_DE.UTF-8 and nothing installed but
# the bare system, it runs the README's setup line, 'make', 'make check'
# and scripts/check-scenarios.sh. Only the compiler cache is shared with
# the host (a cache hides no missing tool). Needs root. The root is kept
# for inspection in $UFFDWP_CACHE/fresh/root until the next run.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || die "check-fresh needs root (mmdebstrap, chroot, mounts)"
dir="$UFFDWP_CACHE/fresh"
root="$dir/root"
start=$(date +%s)
mkdir -p "$dir" "$CCACHE_DIR"

# One run at a time per cache, as pipeline.sh.
exec 9>>"$UFFDWP_CACHE/lock"
flock -n 9 || die "another harness run is using the cache $UFFDWP_CACHE: wait for it"

# umount_root: undo every mount below $root, deepest first.
umount_root() {
	local m
	[ -d "$root" ] || return 0
	findmnt -rn -o TARGET | grep -F "$root/" | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null || true
	done
}
trap umount_root EXIT

if ! command -v mmdebstrap >/dev/null; then
	info "installing mmdebstrap"
	quiet "$UFFDWP_CACHE/logs/apt.log" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mmdebstrap ||
		{ quiet "$UFFDWP_CACHE/logs/apt.log" apt-get update &&
			quiet "$UFFDWP_CACHE/logs/apt.log" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mmdebstrap; }
fi
if [ -n "$(git -C "$TOP" status --porcelain)" ]; then
	warn "the repository has uncommitted changes: check-fresh tests the committed HEAD ($(git -C "$TOP" rev-parse --short HEAD)) only"
fi

# The machine's Debian sources, as they are (the same apt registry).
sources=()
[ -s /etc/apt/sources.list ] && grep -q '^deb ' /etc/apt/sources.list && sources+=(/etc/apt/sources.list)
for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] && sources+=("$f")
done
[ "${#sources[@]}" -gt 0 ] || die "no apt sources in /etc/apt: cannot bootstrap Debian"

# phase NAME CMD...: one timed line per phase, kept in $dir/phases.
: >"$dir/phases"
phase() {
	local name=$1 t0 rc=0
	shift
	t0=$(date +%s)
	printf '==> fresh root: %s\n' "$name"
	"$@" || rc=$?
	printf '%-40s %5ss  %s\n' "$name" "$(($(date +%s) - t0))" "$([ "$rc" = 0 ] && echo ok || echo "FAILED ($rc)")" |
		tee -a "$dir/phases"
	return "$rc"
}

bootstrap() {
	umount_root
	rm -rf "$root"
	mkdir -p "$root"
	# shellcheck disable=SC2016 # "$1" is mmdebstrap's, expanded in its hook
	quiet "$dir/mmdebstrap.log" mmdebstrap --variant=minbase --include=locales \
		--customize-hook='echo "de_DE.UTF-8 UTF-8" >"$1/etc/locale.gen"' \
		--customize-hook='chroot "$1" locale-gen' \
		bookworm "$root" "${sources[@]}"
	git clone -q "$TOP" "$root/root/uffd-continue-wp"
	mkdir -p "$root/var/cache/uffdwp-ccache"
	mount -t proc proc "$root/proc"
	mount -t sysfs sysfs "$root/sys"
	mount --rbind /dev "$root/dev"
	mount --bind "$CCACHE_DIR" "$root/var/cache/uffdwp-ccache"
	cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
	info "fresh root: $(du -sh "$root" | cut -f1), $(chroot "$root" dpkg-query -W | wc -l) packages, no git, no make"
}

# inside CMD: run CMD in the root as a new user's login would: root,
# empty HOME, German locale, no git identity, nothing else of ours but
# the shared compiler cache.
inside() {
	chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=de_DE.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		CCACHE_DIR=/var/cache/uffdwp-ccache \
		bash -c "cd /root/uffd-continue-wp && $1"
}

# readme NAME: the README block marked <!-- check-fresh: NAME -->.
readme() {
	awk -v n="$1" '
		$0 == "<!-- check-fresh: " n " -->" { want = 1; next }
		want && /^```/ { if (on) exit; on = 1; next }
		on { print }' "$TOP/README.md"
}
setup=$(readme setup)
commands=$(readme commands)
if [ -z "$setup" ] || [ -z "$commands" ]; then
	die "README.md lacks the blocks marked <!-- check-fresh: setup --> and <!-- check-fresh: commands -->"
fi

rc=0
phase "bootstrap Debian 12 (mmdebstrap)" bootstrap || die "mmdebstrap failed (log: $dir/mmdebstrap.log)"
phase "README setup: $setup" inside "cd / && $setup" >"$dir/setup.log" 2>&1 ||
	{ tail -n 20 "$dir/setup.log"; die "the README's setup line failed in the fresh root (log: $dir/setup.log)"; }
# The README's two commands, one after the other, as written.
n=0
while IFS= read -r cmd; do
	cmd=${cmd%%#*}
	cmd=${cmd%"${cmd##*[! ]}"}
	[ -n "$cmd" ] || continue
	n=$((n + 1))
	log="$dir/command-$n.log"
	if ! phase "README: $cmd" inside "$cmd" > >(tee "$log") 2>&1; then
		rc=1
		break
	fi
done <<<"$commands"
if [ "$rc" = 0 ]; then
	phase "scenarios (scripts/check-scenarios.sh)" inside "scripts/check-scenarios.sh" \
		> >(tee "$dir/scenarios.log") 2>&1 || rc=1
fi
sleep 1
echo
echo "fresh-root check, $(date -u +%F), $(($(date +%s) - start))s in all:"
cat "$dir/phases"
[ "$rc" = 0 ] || die "the fresh-root check failed (logs in $dir)"
echo "fresh-root check passed"

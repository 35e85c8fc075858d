# shellcheck shell=bash disable=SC2034
# (variables here are used by the scripts that source this file)
# Shared settings and helpers for the harness scripts. Sourced, never run.

# Where everything that is not source lives: the extracted base, build
# trees, reference kernels, guest images and results.
: "${UFFDWP_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/uffd-continue-wp}"
export UFFDWP_CACHE

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export TOP

# The Debian source package the series was written and tested against.
BASE_PKG=linux-source-6.1
BASE_VERSION=$(cat "$TOP/configs/base-version")
BASE_TAG="debian/${BASE_VERSION//\~/_}"
# Mainline reference source (for reading and for mainline's own tests).
MAINLINE_PKG=linux-source-6.12

SRC="$UFFDWP_CACHE/linux"		# git repo: base commit + series branch
CHECK="$UFFDWP_CACHE/check"		# worktree the harness applies the series in
BUILD="$UFFDWP_CACHE/build"		# O= build trees
REFDIR="$UFFDWP_CACHE/ref"		# Debian prebuilt kernels
GUESTDIR="$UFFDWP_CACHE/guest"		# guest binaries and initramfs
RESULTS="${UFFDWP_RESULTS:-$UFFDWP_CACHE/results}"	# per-kernel console logs and KTAP
MAINLINE_TESTS="$UFFDWP_CACHE/mainline-tests"	# mainline's uffd unit tests (mainline-tests.sh)
export CCACHE_DIR="${CCACHE_DIR:-$UFFDWP_CACHE/ccache}"
JOBS=$(nproc)

die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

warn() {
	printf 'warning: %s\n' "$*" >&2
}

info() {
	printf '    %s\n' "$*"
}

# step NAME CMD...: run CMD with a progress line before and a timed line
# after, so long stages show what they are doing and what they cost.
step() {
	local name=$1 start rc=0
	shift
	start=$(date +%s)
	printf '==> %s\n' "$name"
	"$@" || rc=$?
	if [ "$rc" -ne 0 ]; then
		printf '<== %s FAILED after %ss\n' "$name" "$(($(date +%s) - start))"
		return "$rc"
	fi
	printf '<== %s done in %ss\n' "$name" "$(($(date +%s) - start))"
}

# Run a command quietly, keeping its output in a log; on failure show the
# tail of the log and say where the whole log is.
quiet() {
	local log=$1
	shift
	mkdir -p "$(dirname "$log")"
	printf '$ %s\n' "$*" >>"$log"
	if ! "$@" >>"$log" 2>&1; then
		tail -n 30 "$log" >&2
		die "'$*' failed; full log: $log"
	fi
}

# The patch files named by patches/series, in order, comments skipped.
series_patches() {
	local line
	[ -f "$TOP/patches/series" ] || return 0
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line%%#*}
		line=${line//[[:space:]]/}
		[ -n "$line" ] && printf '%s\n' "$line"
	done <"$TOP/patches/series"
}

# A hash of everything that decides the content of the patched tree:
# names and contents only, not where the checkout is (CI clones anew).
series_hash() {
	{
		echo "$BASE_TAG"
		series_patches | while IFS= read -r p; do
			printf '%s ' "$p"
			sha256sum <"$TOP/patches/$p"
		done
	} | sha256sum | cut -d' ' -f1
}

# The last line of a complete KTAP results stream; guest/init writes it
# after the last test. Keep in sync with END_MARKER there.
KTAP_END='# uffdwp: run complete'

# shellcheck shell=bash disable=SC2034
# (variables here are used by the scripts that source this file)
# Shared settings and helpers for the harness scripts. Sourced, never run.
#
# What a step does must depend only on the repository, the Debian archive
# and the run record (run.env, written by resolve.sh), never on the shell
# or the machine it runs in: so this file first gives every script a fixed
# environment of its own.

# --- a fixed environment ---------------------------------------------
# No functions a caller exported into the environment (BASH_FUNC_*).
# shellcheck disable=SC2046 # one word per function name
unset -f $(compgen -A function)
# The cache path is decided from the caller's HOME before HOME is replaced.
if [ -z "${UFFDWP_CACHE:-}" ]; then
	if [ -n "${XDG_CACHE_HOME:-}" ]; then
		UFFDWP_CACHE=$XDG_CACHE_HOME/uffd-continue-wp
	elif [ -n "${HOME:-}" ]; then
		UFFDWP_CACHE=$HOME/.cache/uffd-continue-wp
	else
		printf 'error: neither HOME nor UFFDWP_CACHE is set: set UFFDWP_CACHE to a directory for the cache\n' >&2
		exit 1
	fi
fi
case "$UFFDWP_CACHE" in
/*) ;;
*)
	printf 'error: the cache path %s is not absolute: set UFFDWP_CACHE (or HOME, XDG_CACHE_HOME) to an absolute path\n' "$UFFDWP_CACHE" >&2
	exit 1
	;;
esac
UFFDWP_CACHE=$(realpath -m "$UFFDWP_CACHE")
case "$UFFDWP_CACHE" in
*[!A-Za-z0-9._/+-]*)
	printf 'error: the cache path %s has characters the kernel build cannot take (spaces, ...): set UFFDWP_CACHE to a path of letters, digits and . _ / + -\n' "$UFFDWP_CACHE" >&2
	exit 1
	;;
esac
export UFFDWP_CACHE

# Locale, time zone, file modes: C, UTC, 022, whatever the user's are
# (a decimal comma breaks arithmetic on times; sort orders differ).
export LC_ALL=C LANG=C TZ=UTC
unset LANGUAGE CDPATH BASH_ENV ENV GREP_OPTIONS GREP_COLOR GREP_COLORS
umask 022
# System tools only: no ~/bin, no pyenv or other shims. UFFDWP_TEST_PATH
# exists for check-scenarios.sh, to prove the preflight names a missing tool.
export PATH=${UFFDWP_TEST_PATH:-/usr/sbin:/usr/bin:/sbin:/bin}
# No rc files: HOME is an empty directory of the cache (git, quilt,
# checkpatch, ccache and python read their configuration from HOME).
export HOME=$UFFDWP_CACHE/home TMPDIR=$UFFDWP_CACHE/tmp
unset XDG_CONFIG_HOME XDG_CACHE_HOME XDG_DATA_HOME XDG_RUNTIME_DIR
# Knobs of the tools the harness runs that a user's shell may carry: the
# kernel build's (make's own included: the scripts call make afresh, with
# their own -j), the compiler's and linker's, git's, ccache's (but the
# cache directory: check-fresh shares it on purpose), quilt's, python's,
# the linter's, tar's and xz's.
unset ARCH SUBARCH CROSS_COMPILE LLVM LLVM_IAS O V W C CC LD AR NM OBJCOPY \
	HOSTCC HOSTCXX HOSTCFLAGS HOSTLDFLAGS CFLAGS CPPFLAGS LDFLAGS KCFLAGS \
	KCPPFLAGS KAFLAGS INSTALL_HDR_PATH INSTALL_MOD_PATH MAKEFLAGS MFLAGS \
	MAKELEVEL MAKEOVERRIDES GNUMAKEFLAGS MAKEFILES CPATH C_INCLUDE_PATH \
	CPLUS_INCLUDE_PATH LIBRARY_PATH LD_LIBRARY_PATH LD_PRELOAD GCC_EXEC_PREFIX \
	COMPILER_PATH SOURCE_DATE_EPOCH SHELLCHECK_OPTS TAR_OPTIONS XZ_DEFAULTS \
	XZ_OPT POSIXLY_CORRECT APT_CONFIG "${!KBUILD_@}" "${!KCONFIG_@}" \
	"${!GIT_@}" "${!QUILT_@}" "${!PYTHON@}"
for v in "${!CCACHE_@}"; do
	[ "$v" = CCACHE_DIR ] || unset "$v"
done
# git: no system or global configuration or attributes, no hooks, a fixed
# identity and settings given as command-line configuration
# (GIT_CONFIG_COUNT), and no repository above the cache is ever used for
# one of the cache's directories (GIT_CEILING_DIRECTORIES).
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null GIT_ATTR_NOSYSTEM=1 \
	GIT_TERMINAL_PROMPT=0 GIT_CEILING_DIRECTORIES=$UFFDWP_CACHE
export GIT_CONFIG_COUNT=7
export GIT_CONFIG_KEY_0=user.name GIT_CONFIG_VALUE_0="uffd-continue-wp harness"
export GIT_CONFIG_KEY_1=user.email GIT_CONFIG_VALUE_1="harness@uffd-continue-wp.invalid"
export GIT_CONFIG_KEY_2=gc.auto GIT_CONFIG_VALUE_2=0
export GIT_CONFIG_KEY_3=advice.detachedHead GIT_CONFIG_VALUE_3=false
export GIT_CONFIG_KEY_4=core.editor GIT_CONFIG_VALUE_4=false
export GIT_CONFIG_KEY_5=init.defaultBranch GIT_CONFIG_VALUE_5=base
export GIT_CONFIG_KEY_6=core.hooksPath GIT_CONFIG_VALUE_6=/dev/null

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export TOP

# The Debian source package the series is written against; the version
# the series was tested on is pinned in configs/base-version.
BASE_PKG=linux-source-6.1
BASE_PIN=$(cat "$TOP/configs/base-version")
# Mainline reference source (for reading and for mainline's own tests).
MAINLINE_PKG=linux-source-6.12

SRC="$UFFDWP_CACHE/linux"		# git repo: one tagged commit per base + series branch
CHECK="$UFFDWP_CACHE/check"		# worktree the harness applies the series in
BUILD="$UFFDWP_CACHE/build"		# O= build trees
REFDIR="$UFFDWP_CACHE/ref"		# Debian prebuilt kernels
DEBS="$UFFDWP_CACHE/debs"		# packages fetched with apt-get download
GUESTDIR="$UFFDWP_CACHE/guest"		# guest binaries and initramfs
RESULTS="${UFFDWP_RESULTS:-$UFFDWP_CACHE/results}"	# per-kernel console logs and KTAP
MAINLINE_TESTS="$UFFDWP_CACHE/mainline-tests"	# mainline's uffd unit tests (mainline-tests.sh)
RUN_ENV="$UFFDWP_CACHE/run.env"		# what this run is (resolve.sh)
export CCACHE_DIR="${CCACHE_DIR:-$UFFDWP_CACHE/ccache}"
export PYTHONNOUSERSITE=1 PYTHONDONTWRITEBYTECODE=1
: "${JOBS:=$(nproc)}"
case "$JOBS" in '' | 0 | *[!0-9]*)
	printf 'error: JOBS=%s: must be a positive number\n' "$JOBS" >&2
	exit 1 ;;
esac
export JOBS

die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# No step ends silently: a command that stops a script under set -e says
# where. (Not errtrace: a process substitution's failing command, which
# stops nothing, would be reported too.)
# shellcheck disable=SC2154 # assigned inside the trap
trap '_uffdwp_rc=$?; case "$BASH_COMMAND" in return*) ;; *) printf "error: %s, line %s: \"%s\" failed (exit %s)\n" "$(basename "${BASH_SOURCE[0]:-$0}")" "$LINENO" "$BASH_COMMAND" "$_uffdwp_rc" >&2 ;; esac' ERR

warn() {
	printf 'warning: %s\n' "$*" >&2
}

info() {
	printf '    %s\n' "$*"
}

# The cache must be the user's own: git refuses repositories owned by
# someone else, and a shared cache would mix two users' runs.
if [ -e "$UFFDWP_CACHE" ] && [ "$(stat -c %u "$UFFDWP_CACHE")" != "$(id -u)" ]; then
	die "the cache $UFFDWP_CACHE belongs to uid $(stat -c %u "$UFFDWP_CACHE"), not to you (uid $(id -u)): set UFFDWP_CACHE to a directory of your own"
fi
mkdir -p "$HOME" "$TMPDIR" || die "cannot create $HOME and $TMPDIR"

# base_tag VERSION: the tag of a Debian version's base commit in $SRC.
base_tag() {
	printf 'debian/%s\n' "${1//\~/_}"
}

# load_run: read the run record that resolve.sh wrote (base version and
# tag, reference kernel packages, accelerator). Every step after resolve
# uses these instead of deciding again.
load_run() {
	[ -f "$RUN_ENV" ] || die "no run record $RUN_ENV: run 'make check' or 'make demo' (or scripts/pipeline.sh resolve)"
	# shellcheck source=/dev/null
	. "$RUN_ENV"
	if [ -z "${BASE_VERSION:-}" ] || [ -z "${BASE_TAG:-}" ] || [ -z "${RUN_ID:-}" ]; then
		die "run record $RUN_ENV is incomplete: run scripts/pipeline.sh resolve"
	fi
}

# new_run_id: give the run record a new RUN_ID, keeping what it decided
# (make run, make check-harness: new results of the same run's kernels).
new_run_id() {
	load_run
	RUN_ID="$(date -u +%Y%m%dT%H%M%SZ)-$$"
	sed -i "s/^RUN_ID=.*/RUN_ID=$RUN_ID/" "$RUN_ENV"
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
	return 0
}

# A hash of everything that decides the content of the patched tree: the
# base tag, patch names and contents, not where the checkout is (CI
# clones anew). Needs the run record (BASE_TAG).
series_hash() {
	{
		echo "$BASE_TAG"
		series_patches | while IFS= read -r p; do
			printf '%s ' "$p"
			sha256sum <"$TOP/patches/$p"
		done
	} | sha256sum | cut -d' ' -f1
}

# applied_tip: the tip commit of the applied series; dies unless apply.sh's
# stamp holds for this series and $CHECK is at that commit.
applied_tip() {
	local applied="" tip=""
	[ ! -f "$CHECK.applied" ] || read -r applied tip _ <"$CHECK.applied" || true
	if [ "$applied" != "$(series_hash)" ] || [ -z "$tip" ] ||
		[ "$(git -C "$CHECK" rev-parse -q --verify HEAD)" != "$tip" ]; then
		die "$CHECK does not hold the applied series: run scripts/apply.sh first (make check does)"
	fi
	echo "$tip"
}

# touched_objects REV: the kernel objects built from the C files the
# series changes between the base and REV (selftests left out).
touched_objects() {
	git -C "$CHECK" diff --name-only "$BASE_TAG" "$1" -- '*.c' |
		{ grep -v '^tools/' || true; } | sed 's/\.c$/.o/'
}

# warning_lines LOG: the compiler and sparse warnings in a build LOG,
# without line numbers or build paths, one per line, sorted.
warning_lines() {
	{ grep -E ': (warning|error):' "$1" || true; } |
		sed -E 's|^.*/check/||; s|^\.\./||; s|:[0-9]+:[0-9]+:|:|; s|:[0-9]+:|:|' |
		sort -u
}

# readme_block KIND NAME: from the README on stdin, the text of the code
# block after the line '<!-- KIND: NAME -->'. Reads to the end (no early
# exit), so a writer feeding it through a pipe never gets SIGPIPE.
readme_block() {
	awk -v m="<!-- $1: $2 -->" '
		$0 == m { want = 1; next }
		want && !done && /^```/ { if (on) { done = 1; next } on = 1; next }
		on && !done { print }'
}

# series_stable: the patches of patches/series' stable section, the
# lines after '# Stable material' up to the next comment: fixes that
# must each apply to the unpatched base on their own.
series_stable() {
	[ -f "$TOP/patches/series" ] || return 0
	awk '/^# Stable material/ { s = 1; next } /^#/ { s = 0 }
		s { sub(/#.*/, ""); gsub(/[[:space:]]/, ""); if ($0 != "") print }' "$TOP/patches/series"
}

# now_ms: wall clock in milliseconds, whatever the locale's decimal mark.
now_ms() {
	local t=${EPOCHREALTIME//[!0-9]/}
	echo $((10#$t / 1000))
}

# The last line of a complete KTAP results stream; guest/init writes it
# after the last test. Keep in sync with END_MARKER there.
KTAP_END='# uffdwp: run complete'

# A kernel report in a console log: panics, oopses, warnings, and what the
# debug options print (configs/matrix/debug.config): KASAN and KFENCE,
# lockdep, DEBUG_VM's bad page and VM_BUG_ON reports, PAGE_TABLE_CHECK's
# BUG_ON, DEBUG_LIST's corruption reports, DEBUG_ATOMIC_SLEEP, UBSAN,
# stalls. Any of these fails a guest run, whatever the tests said.
# scripts/tests/test_shell.py holds a line of each kind.
KERNEL_SPLAT='Kernel panic|BUG:|WARNING:|Oops|KASAN:|KFENCE:|UBSAN:|general protection fault|'
KERNEL_SPLAT+='kernel BUG at|Unable to handle kernel|possible circular locking|'
KERNEL_SPLAT+='possible recursive locking|inconsistent lock state|suspicious RCU usage|'
KERNEL_SPLAT+='list_(add|del) corruption|page dumped because|Bad rss-counter|'
KERNEL_SPLAT+='soft lockup|hard LOCKUP|blocked for more than|detected stall|Call Trace:'

# mutant_field PATCH FIELD: the value of PATCH's header line "FIELD: VALUE"
# (before its diff), empty if none. mutants/*.patch use Kernel: (debug),
# Suites: (guest suites to boot, default 'mutant'), Expect-fail: and
# Expect-splat: (scripts/ktap.py mutant).
mutant_field() {
	sed -n -e '/^diff --git /q' -e "s/^$2: *//p" "$1" | head -n 1
}

# mutant_is_debug NAME: whether mutants/NAME.patch asks for the debug kernel
# ("Kernel: debug"): built in $BUILD/mutant-debug, booted as the debug
# kernel is (pipeline.sh's boot_debug).
mutant_is_debug() {
	[ -f "$TOP/mutants/$1.patch" ] && [ "$(mutant_field "$TOP/mutants/$1.patch" Kernel)" = debug ]
}

# guest_tools FILE: the programs of FILE (guest/tools), "NAME PACKAGE
# PATH" a line; fails naming a line that is not three words
# (deps.sh installs the packages, build-guest.sh packs the programs).
guest_tools() {
	awk '
		$1 ~ /^#/ || NF == 0 { next }
		NF != 3 { print "guest/tools line " NR ": want NAME PACKAGE PATH: " $0 > "/dev/stderr"; bad = 1; next }
		{ print $1, $2, $3 }
		END { exit bad }
	' "$1"
}

# ldd_paths: on stdin, what ldd printed for a program; out, the path of
# each shared library it loads and of the dynamic loader, one per line.
# Fails naming any library ldd did not find (the program would not start).
ldd_paths() {
	awk '
		$2 == "=>" && $3 == "not" { missing = missing " " $1; next }
		$2 == "=>" && $3 ~ /^\// { print $3; next }
		$1 ~ /^\// { print $1 }
		END { if (missing != "") { print "not found:" missing > "/dev/stderr"; exit 1 } }
	'
}

# duration_secs TEXT: seconds of "N", "Ns", "Nm" or "Nh", at most 2 hours;
# fails on anything else.
duration_secs() {
	local n=${1%[smh]} unit=${1##*[0-9]}
	case "$n" in '' | *[!0-9]*) return 1 ;; esac
	case "$unit" in
	'' | s) ;;
	m) n=$((n * 60)) ;;
	h) n=$((n * 3600)) ;;
	*) return 1 ;;
	esac
	[ "$n" -gt 0 ] && [ "$n" -le 7200 ] || return 1
	echo "$n"
}

# console_first REGEX FILE: "N:line" of FILE's first line matching REGEX,
# but not the guest's own progress lines ("uffdwp: ..."), which quote
# commands.
console_first() {
	grep -n -E "$1" "$2" | grep -v '^[0-9]*:uffdwp: ' | head -n1 || true
}

# debfile PKG VERSION: the .deb of PKG VERSION that fetch.sh downloaded.
debfile() {
	local f
	f=$(find "$DEBS" -maxdepth 1 -name "${1}_${2//:/%3a}_*.deb" 2>/dev/null | head -n 1)
	[ -n "$f" ] || die "no $1 $2 package in $DEBS: run scripts/fetch.sh (make check does)"
	printf '%s\n' "$f"
}

# source_tarball DEB: stream the kernel source tarball inside a
# linux-source-X.Y package (usr/src/linux-source-X.Y.tar.xz) to stdout.
source_tarball() {
	dpkg-deb --fsys-tarfile "$1" | tar -xO --wildcards './usr/src/linux-source-*.tar.xz'
}

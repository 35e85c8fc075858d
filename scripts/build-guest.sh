#!/usr/bin/env bash
# build-guest.sh KSRC HDRS OUT
# Build every program of guest/programs static against the uapi headers in
# HDRS (a headers_install INSTALL_HDR_PATH: HDRS/include/linux/...) into
# OUT/bin, then pack OUT/initramfs.cpio.gz: static busybox and its applets,
# guest/init as /init, guest/suites/*, guest/bin/* (helper scripts), the
# programs, and the Debian programs of guest/tools with their shared
# libraries.
# Incremental: a program is rebuilt only when its gcc command or the
# content of a file it includes changed; the archive is only replaced when
# its content changed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -eq 3 ] || die "usage: build-guest.sh KSRC HDRS OUT"
ksrc=$(realpath "$1") hdrs=$(realpath "$2") out=$3
if [ ! -f "$ksrc/Makefile" ] || [ ! -f "$ksrc/usr/gen_init_cpio.c" ]; then
	die "$ksrc is not a kernel tree"
fi
[ -f "$hdrs/include/linux/userfaultfd.h" ] ||
	die "no uapi headers in $hdrs/include: run 'make headers_install INSTALL_HDR_PATH=$hdrs' in the kernel tree"
: "${UFFDWP_BUSYBOX:=/bin/busybox}"
[ -x "$UFFDWP_BUSYBOX" ] || die "$UFFDWP_BUSYBOX missing: run 'make deps' (busybox-static)"
readelf -l "$UFFDWP_BUSYBOX" | grep -q 'program interpreter' &&
	die "$UFFDWP_BUSYBOX is dynamically linked: install busybox-static or set UFFDWP_BUSYBOX"

mkdir -p "$out/bin" "$out/build"
out=$(realpath "$out")
CFLAGS=(-static -O2 -Wall -isystem "$hdrs/include")

# expand WORD: tree:X -> $ksrc/X, repo:X -> $TOP/X and
# mainline:X -> $MAINLINE_TESTS/X (mainline-tests.sh), anywhere in WORD.
expand() {
	local w=$1
	w=${w//tree:/$ksrc/}
	w=${w//mainline:/$MAINLINE_TESTS/}
	printf '%s\n' "${w//repo:/$TOP/}"
}

# build NAME WORD...: build one program, unless its key (gcc version,
# command, and the content of every file gcc reads) is the one recorded
# when it was last built.
build() {
	local name=$1 w src key log="$out/build/$1.log" bin="$out/bin/$1"
	local srcs=() args=() deps
	shift
	for w in "$@"; do
		case "$w" in
		tree:*.c | repo:*.c | mainline:*.c)
			src=$(expand "$w")
			[ -f "$src" ] || die "$name: source $w not found ($src); fix guest/programs (mainline: files come from scripts/mainline-tests.sh)"
			srcs+=("$src")
			;;
		*) args+=("$(expand "$w")") ;;
		esac
	done
	[ "${#srcs[@]}" -gt 0 ] || die "$name: no tree:/repo:/mainline: .c source in guest/programs"

	deps=$(gcc "${CFLAGS[@]}" "${args[@]}" -M "${srcs[@]}" 2>"$log.deps") ||
		die "$name: build failed: $(grep -m1 -E 'error|fatal' "$log.deps" || tail -n1 "$log.deps"); full log: $log.deps"
	key=$({
		gcc --version | head -n1
		printf '%s\n' "${CFLAGS[@]}" "${srcs[@]}" "${args[@]}"
		# shellcheck disable=SC2086 # deps is a whitespace-separated file list
		printf '%s\n' $deps | grep -v -e ':$' -e '^\\$' | sort -u | xargs sha256sum
	} | sha256sum | cut -d' ' -f1)
	if [ -x "$bin" ] && [ "$(cat "$out/build/$name.key" 2>/dev/null)" = "$key" ]; then
		info "$name: up to date"
		return 0
	fi
	rm -f "$bin" "$out/build/$name.key"
	printf '$ gcc %s\n' "${CFLAGS[*]} ${srcs[*]} ${args[*]} -o $bin" >"$log"
	if ! gcc "${CFLAGS[@]}" "${srcs[@]}" "${args[@]}" -o "$bin" >>"$log" 2>&1; then
		die "$name: build failed: $(grep -m1 -E 'error|undefined reference|ld: ' "$log" || tail -n1 "$log"); full log: $log"
	fi
	echo "$key" >"$out/build/$name.key"
	info "$name: built ($(stat -c %s "$bin") bytes)"
}

names=()
while read -r -a words; do
	[ "${#words[@]}" -gt 0 ] || continue
	case "${words[0]}" in \#*) continue ;; esac
	case " ${names[*]} " in
	*" ${words[0]} "*) die "program ${words[0]} listed twice in guest/programs" ;;
	esac
	names+=("${words[0]}")
	build "${words[@]}"
done <"$TOP/guest/programs"

# Drop binaries of programs no longer listed.
for f in "$out/bin"/*; do
	[ -e "$f" ] || continue
	case " ${names[*]} " in *" ${f##*/} "*) ;; *) rm -f "$f" ;; esac
done

# The programs of guest/tools, and every shared library ldd names for
# them (the dynamic loader too), each at its path here.
tools=()
declare -A carried=()
tool_lines=$(guest_tools "$TOP/guest/tools") || die "fix guest/tools"
while read -r name pkg path; do
	[ -x "$path" ] || die "$path ($name) missing: run 'make deps' (package $pkg)"
	libs=$(ldd "$path" 2>&1) || die "ldd $path failed: $libs"
	libs=$(ldd_paths <<<"$libs" 2>&1) ||
		die "$path ($name): $libs: reinstall $pkg and what it depends on ('make deps')"
	tools+=("$path")
	carried[$path]=1
	while read -r lib; do
		carried[$lib]=1
	done <<<"$libs"
	info "$name: $(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || echo '?'), $(wc -l <<<"$libs") shared libraries (the loader too)"
done <<<"$tool_lines"

# gen_init_cpio from the kernel tree: makes device nodes without root.
gen="$out/build/gen_init_cpio"
if [ ! -x "$gen" ] || [ "$ksrc/usr/gen_init_cpio.c" -nt "$gen" ]; then
	quiet "$out/build/gen_init_cpio.log" gcc -O2 -o "$gen" "$ksrc/usr/gen_init_cpio.c"
fi

list="$out/build/initramfs.list"
{
	echo "dir /dev 0755 0 0"
	echo "nod /dev/console 0600 0 0 c 5 1"
	# the directories, each once; sorted, a parent comes before its children
	{
		printf '%s\n' /proc /sys /root /mnt /mnt/huge /bin /sbin /usr \
			/usr/bin /usr/sbin /uffdwp /uffdwp/bin /uffdwp/suites
		for f in "${!carried[@]}"; do
			d=${f%/*}
			while [ -n "$d" ]; do
				echo "$d"
				d=${d%/*}
			done
		done
	} | sort -u | while read -r d; do
		echo "dir $d 0755 0 0"
	done
	printf '%s\n' "${!carried[@]}" | sort | while read -r f; do
		echo "file $f $(realpath "$f") 0755 0 0"
	done
	echo "dir /tmp 1777 0 0"
	echo "file /bin/busybox $UFFDWP_BUSYBOX 0755 0 0"
	"$UFFDWP_BUSYBOX" --list-full | while read -r applet; do
		case "$applet" in
		# No other init than /init: if it fails, the kernel must say so.
		*/busybox | sbin/init | linuxrc) ;;
		*/*) echo "slink /$applet /bin/busybox 0777 0 0" ;;
		esac
	done
	echo "file /init $TOP/guest/init 0755 0 0"
	for f in "$TOP"/guest/suites/*; do
		[ -f "$f" ] && echo "file /uffdwp/suites/${f##*/} $f 0644 0 0"
	done
	for f in "$TOP"/guest/bin/*; do
		[ -f "$f" ] && echo "file /uffdwp/bin/${f##*/} $f 0755 0 0"
	done
	for n in "${names[@]}"; do
		echo "file /uffdwp/bin/$n $out/bin/$n 0755 0 0"
	done
} >"$list"

img="$out/initramfs.cpio.gz"
"$gen" -t 0 "$list" 2>"$out/build/cpio.log" | gzip -9 -n >"$img.tmp" ||
	die "packing the initramfs failed: $(head -n1 "$out/build/cpio.log"); list: $list"
if cmp -s "$img.tmp" "$img"; then
	rm -f "$img.tmp"
	info "initramfs unchanged: $img"
else
	mv "$img.tmp" "$img"
	info "initramfs: $img ($(stat -c %s "$img") bytes, ${#names[@]} program(s), ${#tools[@]} from Debian)"
fi

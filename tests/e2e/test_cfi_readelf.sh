#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The CFI table against readelf --debug-dump=frames-interp: for every FDE of every
# fixture (gcc and clang, -O0 and -O2, DWARF 4 and 5), of an assembly fixture using
# every call frame instruction, of a .debug_frame-only build (in the binary and in a
# separate debug file) and of the system's libc, the CFA, return-address and rbp
# rules must agree at every row start.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/build_cfi_dump.sh"
command -v python3 >/dev/null || skip "needs python3"
command -v readelf >/dev/null || skip "needs readelf (binutils)"
fixtures
build_cfi_dump

compare() {	# compare ELF [DEBUG_FILE]
	local out
	"$CFI_DUMP" "$@" >"$T/ours.txt" || fail "cfi_dump failed on '$1'"
	readelf --debug-dump=frames-interp "${2:-$1}" >"$T/readelf.txt" 2>/dev/null || true
	if [ -n "${2:-}" ]; then	# .eh_frame lives in the stripped binary
		readelf --debug-dump=frames-interp "$1" >>"$T/readelf.txt" 2>/dev/null || true
	fi
	out=$(python3 "$GS_TOP/tests/e2e/cfi_compare.py" "$T/ours.txt" "$T/readelf.txt") ||
		fail "CFI of '$1' differs from readelf:"$'\n'"$out"
	echo "ok $1: ${out##*$'\n'}"
}

n=0
for d in "$FIX"/{gcc,clang}-O{0,2}-dwarf{4,5}; do
	for f in shop shop-nopie libshop.so shopxx; do
		compare "$d/$f"
		n=$((n + 1))
	done
done
[ "$n" -eq 32 ] || fail "expected 32 fixture binaries, compared $n"

# Every instruction kind, assembled by gas and by clang's integrated assembler.
for cc in gcc clang-16; do
	$cc -o "$T/cfi_ops" "$GS_TOP/tests/e2e/cfi_ops.S" || fail "$cc cannot build cfi_ops.S"
	compare "$T/cfi_ops"
	base=$(nm "$T/cfi_ops" | awk '$3 == "cfi_ops" { print $1 }')
	got=$("$CFI_DUMP" "$T/cfi_ops" | while read -r pc rest; do
		case $pc in 0x*) ;; *) continue ;; esac
		off=$((pc - 16#$base))
		if [ "$off" -ge 0 ] && [ "$off" -le 19 ]; then printf '+0x%x %s\n' "$off" "$rest"; fi
	done)
	assert_eq "+0x0 cfa=rsp+8 ra=c-8 rbp=s
+0x1 cfa=rsp+16 ra=c-8 rbp=c-16
+0x4 cfa=rbp+16 ra=c-8 rbp=c-16
+0x5 cfa=rbp+16 ra=c-8 rbp=rax
+0x6 cfa=rbp+16 ra=c-8 rbp=v+8
+0x7 cfa=rbp+16 ra=c-8 rbp=v-16
+0x8 cfa=rbp+16 ra=c-8 rbp=s
+0x9 cfa=rbp+16 ra=c-8 rbp=u
+0xb cfa=exp ra=c-8 rbp=u
+0xc cfa=rbp+16 ra=c-8 rbp=c-16
+0xd cfa=rsp+16 ra=c-8 rbp=s
+0xe cfa=rsp+16 ra=c-8 rbp=exp
+0xf cfa=rsp+16 ra=c-8 rbp=c-16
+0x10 cfa=rsp+16 ra=u rbp=c-16
+0x12 cfa=rsp+8 ra=u rbp=c-16
+0x13 cfa=rsp+8 ra=c-8 rbp=s" "$got" "cfi_ops rows ($cc)"
done

# CFI only in .debug_frame: read from the binary, then from its separate debug file.
gcc -g -O2 -fno-asynchronous-unwind-tables -fno-unwind-tables -o "$T/df" \
	"$GS_TOP/tests/fixtures/libshop.c" -shared -fPIC || fail "cannot build df"
readelf -S "$T/df" | grep -q '\.debug_frame' || fail "no .debug_frame in df"
compare "$T/df"
objcopy --only-keep-debug "$T/df" "$T/df.debug"
objcopy --strip-debug --add-gnu-debuglink="$T/df.debug" "$T/df" "$T/df.stripped"
compare "$T/df.stripped" "$T/df.debug"
"$CFI_DUMP" "$T/df" | tail -n +4 >"$T/a.txt"
"$CFI_DUMP" "$T/df.stripped" | tail -n +4 >"$T/b.txt"
cmp -s "$T/a.txt" "$T/b.txt" || fail "CFI from the separate debug file differs"

# A large real-world table with remember/restore_state, expressions and registers.
libc=$(readlink -f /lib/x86_64-linux-gnu/libc.so.6 2>/dev/null || true)
[ -f "$libc" ] && compare "$libc"
echo "all CFI tables match readelf"

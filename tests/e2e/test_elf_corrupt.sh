#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Hostile input for the ELF, debug-info and CFI modules: truncated and byte-flipped
# copies of fixtures (headers, .eh_frame, .debug_*, symbol tables, notes) go through
# gs_elf_open + gs_debuginfo_open + gs_cfi_build (tests/e2e/cfi_dump.c built with
# ASan+UBSan; leaks are left to the unit tests and the fuzzer). Each run must end with exit 0 or a clean error exit 1 within 10 s:
# no signal, no sanitizer report, no hang.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/build_cfi_dump.sh"
command -v python3 >/dev/null || skip "needs python3"
fixtures
CFI_DUMP_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
build_cfi_dump
export ASAN_OPTIONS=exitcode=99:detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1:exitcode=98
export GHOSTSCOPE_DEBUG_ROOT=""

n=0 errors=0
for f in gcc-O2-dwarf5/libshop.so clang-O0-dwarf4/shop clang-O2-dwarf5/shopxx; do
	dir="$T/mut/${f//\//-}"
	python3 "$GS_TOP/tests/e2e/corrupt.py" "$FIX/$f" "$dir" 4
	for m in "$dir"/*; do
		rc=0
		timeout 10 "$CFI_DUMP" "$m" >/dev/null 2>"$T/err" || rc=$?
		case $rc in
		0) ;;
		1) errors=$((errors + 1))
		   [ "$(grep -vc '^elf:\|^debuginfo:\|^cfi_dump:' "$T/err")" -eq 0 ] ||
			fail "unexpected output for '$m': $(cat "$T/err")" ;;
		124) fail "hang on '$m'" ;;
		*) cat "$T/err" >&2; fail "crash (exit $rc) on '$m'" ;;
		esac
		n=$((n + 1))
	done
	rm -rf "$dir"
done
[ "$n" -gt 300 ] || fail "only $n damaged files were tried"
echo "$n damaged files: $errors clean errors, $((n - errors)) read, no crash"

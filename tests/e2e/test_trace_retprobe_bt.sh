#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Return probes ($retval, parameters as at entry), $comm and bt, at -O0 and -O2.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/trace_lib.sh"
need_root_bpf
fixtures
src="$GS_TOP/tests/fixtures/shop.c"
main_line=$(grep -n 'int r = checkout(&o, 3, "HALF50");' "$src" | cut -d: -f1)
tax_line=$(grep -n 'int tax = amount \* rate / 100;' "$src" | cut -d: -f1)

for build in gcc-O0-dwarf5 clang-O0-dwarf5 gcc-O2-dwarf5 clang-O2-dwarf4; do
	D="$FIX/$build"
	start_shop "$D"
	# checkout(o, 3, "HALF50") returns add_tax(33, 10) = 36; checkout(o, 1, NULL) 24.
	gs_run -p "$PID" --script-output plain --max-events 2 -s 'trace checkout:return { print "{} {} {} -> {}", qty, o.id, coupon, $retval; }'
	assert_eq "$(printf '1 1007 NULL (const char*) -> 24\n3 1007 "HALF50" -> 36')" "$(sort <<<"$OUT")" "$build return probe"
	gs_run -p "$PID" --script-output plain --max-events 1 -s 'trace lib_price:return { print "{} {} {}", qty, $retval, $comm; }'
	assert_eq '2 500 "shop"' "$OUT" "$build library return probe"

	# bt from inside the inlined add_tax: the inline frame, checkout, main, libc, _start.
	gs_run -p "$PID" --script-output plain --max-events 1 -s 'trace checkout { if qty == 3 { bt; } }'
	assert_contains "$OUT" "backtrace: complete, " "$build bt status"
	assert_contains "$OUT" "  #0 checkout(struct order* o, int qty, const char* coupon) at shop.c:" "$build bt frame 0"
	assert_contains "$OUT" "  #1 main(int argc, char** argv) at shop.c:$main_line:" "$build bt frame 1"
	assert_contains "$OUT" "[libc.so.6+0x" "$build bt libc frame"
	assert_contains "$OUT" "_start" "$build bt _start"
	gs_run -p "$PID" --script-output plain --max-events 1 --backtrace-depth 2 -s "trace shop.c:$tax_line { bt; }"
	assert_contains "$OUT" "backtrace: truncated, " "$build bt depth"
	assert_contains "$OUT" "add_tax(" "$build inline frame"
	kill "$PID"; wait "$PID" 2>/dev/null || true
done
echo ok

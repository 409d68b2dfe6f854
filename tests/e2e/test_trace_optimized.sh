#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Values in optimized code: DW_OP_entry_value recovered from a save at the function's
# entry, thread-local variables of the executable, at -O0 and -O2.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/trace_lib.sh"
need_root_bpf
fixtures
src="$GS_TOP/tests/fixtures/shop.c"
line=$(( $(grep -n 'total = add_tax(total, 10);' "$src" | cut -d: -f1) + 1 ))

for build in gcc-O0-dwarf5 gcc-O2-dwarf5 clang-O2-dwarf5; do
	D="$FIX/$build"
	start_shop "$D"
	gs_run -p "$PID" --script-output plain --max-events 2 -s "trace shop.c:$line { print \"{} {} {} {}\", qty, o.id, coupon, t_depth; }"
	assert_eq "$(printf '1 1007 NULL (const char*) 42\n3 1007 "HALF50" 42')" "$(sort <<<"$OUT")" "$build"
	kill "$PID"; wait "$PID" 2>/dev/null || true
done
# gcc -O2 reads them as entry values: the dry run says so.
OUT=$("$GS" -t "$FIX/gcc-O2-dwarf5/shop" --dry-run -s "trace shop.c:$line { print qty; print t_depth; }")
assert_contains "$OUT" "qty: entry value of rsi"
assert_contains "$OUT" "entry save for 'shop.c:$line'"
assert_contains "$OUT" "t_depth: tls"
echo ok

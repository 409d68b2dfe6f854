#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Values in optimized code: DW_OP_entry_value recovered from a save at the function's
# entry, thread-local variables of the executable, at -O0 and -O2; gcc -O3's synthetic
# pointer (DW_OP_implicit_pointer) read through like a real one.
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
# gcc -O3 folds the "HALF50" literal checkout gets into a DW_OP_implicit_pointer: a
# pointer with no address. Reading through it gives what -O2 reads from memory.
synth='trace checkout { if qty == 3 {
	print "{} {} {} {}", coupon, *coupon, coupon[5], coupon + 2;
	print "{} {} {} {}", starts_with(coupon, "HALF"), coupon == "HALF50", strncmp(coupon, "HALX", 4), memcmp(coupon, hex("48414c46"), 4);
	let q = coupon + 4; print q[1];
} }'
for build in gcc-O2-dwarf5 gcc-O3-dwarf4 gcc-O3-dwarf5; do
	D="$FIX/$build"
	start_shop "$D"
	gs_run -p "$PID" --script-output plain --max-events 1 -s "$synth"
	assert_eq "$(printf '"HALF50" 72 48 "LF50"\ntrue true false true\nq[1] = 48')" "$OUT" "$build"
	kill "$PID"; wait "$PID" 2>/dev/null || true
done
OUT=$("$GS" -t "$FIX/gcc-O3-dwarf5/shop" --dry-run -s "$synth")
assert_contains "$OUT" "coupon: implicit pointer to 7 constant bytes+0"
for bad in '"{:p}", coupon|is a synthetic pointer at 0x' 'coupon[7]|points into 7 constant bytes; this read at offset 7 is outside them' \
	'coupon[o.id]|synthetic pointer: index it with a constant' '*(coupon - 1)|this read at offset -1 is outside them'; do
	OUT=$("$GS" -t "$FIX/gcc-O3-dwarf5/shop" --dry-run -s "trace checkout { print ${bad%%|*}; }" 2>&1)
	assert_contains "$OUT" "${bad#*|}"
done

# gcc -O2 reads them as entry values: the dry run says so.
OUT=$("$GS" -t "$FIX/gcc-O2-dwarf5/shop" --dry-run -s "trace shop.c:$line { print qty; print t_depth; }")
assert_contains "$OUT" "qty: entry value of rsi"
assert_contains "$OUT" "entry save for 'shop.c:$line'"
assert_contains "$OUT" "t_depth: tls"
echo ok

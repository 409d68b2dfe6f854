#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# char* members of a printed struct render as the strings they point at (as GDB shows
# them), a NULL one as NULL, an unreadable one as its read error with the rest of the
# struct after it; in the gcc -O0 and -O2 shop, the gcc -O0 C++ fixture and json output.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/trace_lib.sh"
need_root_bpf
fixtures

# Addresses change from run to run: "0x55d0c2a0 (T*)" becomes "ADDR (T*)".
norm() { sed -E 's/0x[0-9a-f]+ \(/ADDR (/g'; }

# The order seen 8 bytes later has its note on o.next (NULL); 56 bytes earlier, on o.big
# (-9000000000, an address no process can read) with o.ubig as its next.
script='trace checkout {
  if qty == 3 {
    print *o;
    print "{} / {}", o.note, *o;
    print "{:x}", o.ship;
    print *cast(cast(o, "char *") + 8, "struct order *");
    print *cast(cast(o, "char *") - 56, "struct order *");
  }
}'

order='order { id: 1007, cust: ADDR (struct customer*), items: [4, 5, 6, 7], st: status::ST_PAID, extra: union data { i = 5, f = 7e-45, b = [5, 0, 0, 0] }, price: -12.5, weight: 2.25, delta: -5, flags: 250, big: -9000000000, ubig: 18446744073709551610, grid: [[1, 2, 3], [-4, -5, -6]], ship: address { city: "lisbon", zip: 1100 }, pricer: ADDR (int (*)(int)), note: "fragile", next: NULL (struct order*) }'
expected="*o = $order
\"fragile\" / $order
6c 69 73 62 6f 6e 00 00 00 00 00 00 4c 04"

for build in gcc-O0-dwarf5 gcc-O2-dwarf5 clang-O0-dwarf4; do
	start_shop "$FIX/$build"
	gs_run -p "$PID" --script-output plain --max-events 1 -s "$script"
	lines=$(printf '%s\n' "$OUT" | norm)
	assert_eq "$expected" "$(printf '%s\n' "$lines" | head -3)" "$build struct strings"
	null_line=$(printf '%s\n' "$lines" | sed -n 4p)
	assert_contains "$null_line" '*cast(cast(o, "char *") + 8, "struct order *") = order { id: ' "$build NULL member"
	assert_contains "$null_line" ', note: NULL (const char*), next: ' "$build NULL member"
	bad_line=$(printf '%s\n' "$OUT" | sed -n 5p)
	assert_contains "$bad_line" ', note: <read error at 0xfffffffde78ee600>, next: 0xfffffffffffffffa (struct order*) }' \
		"$build unreadable member"
	[ "$(printf '%s\n' "$OUT" | wc -l)" = 5 ] || fail "$build: expected 5 lines, got: $OUT"
	kill "$PID"; wait "$PID" 2>/dev/null || true
done

# json carries the rendered lines, strings included.
start_shop "$FIX/gcc-O0-dwarf5"
gs_run -p "$PID" --script-output json --max-events 1 -s 'trace checkout { if qty == 3 { print *o; } }'
line=$(printf '%s\n' "$OUT" | python3 -c 'import json, sys; print(json.loads(sys.stdin.readline())["lines"][0])' | norm)
assert_eq "*o = $order" "$line" "json struct strings"
assert_contains "$OUT" 'note: \"fragile\", next: NULL (struct order*) }"]}' "json escaping"
kill "$PID"; wait "$PID" 2>/dev/null || true

# C++: a const char* member of a class; the third shelf's next is nullptr.
slots() { echo "[inventory::Item { sku: $1, qty: $2 }, inventory::Item { sku: $3, qty: $4 }, inventory::Item { sku: $5, qty: $6 }]"; }
expected="*s = inventory::Shelf { label: \"bottom\", slots: $(slots 21 4 22 5 23 6), grade: inventory::Grade::Low, next: ADDR (inventory::Shelf*) }
*s.next = inventory::Shelf { label: \"top\", slots: $(slots 11 1 12 2 13 3), grade: inventory::Grade::High, next: ADDR (inventory::Shelf*) }
*s.next.next = inventory::Shelf { label: \"spare\", slots: $(slots 31 7 32 8 33 9), grade: inventory::Grade::Mid, next: NULL (inventory::Shelf*) }"
start_shop "$FIX/gcc-O0-dwarf5" shopxx
gs_run -p "$PID" --script-output plain --max-events 1 \
	-s 'trace inventory::Audited::audit { print *s; print *s.next; print *s.next.next; }'
assert_eq "$expected" "$(printf '%s\n' "$OUT" | norm)" "C++ struct strings"
kill "$PID"; wait "$PID" 2>/dev/null || true
echo ok

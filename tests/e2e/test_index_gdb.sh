#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The index against gdb on every fixture build (gcc/clang, -O0/-O2, DWARF 4/5): the
# post-prologue pc against `break FUNC`, `info line FILE:N` against --line, global
# addresses against `info address`, struct member offsets against `ptype /o`, ELF
# symbols against `info symbol`, and parameter names against `info scope`.
source "$(dirname "$0")/lib.sh"
command -v gdb >/dev/null || skip "gdb is not installed"
fixtures

gdbq() { gdb -nx -batch "$@" 2>/dev/null; }
checked=0
for d in "$FIX"/*-O?-dwarf?; do
	"$GSI" "$d" >/dev/null || fail "indexing $d"
	shop=$d/shop lib=$d/libshop.so
	# post-prologue pc == gdb's breakpoint address
	for f in checkout tally rare_path deref_null main; do
		ours=$("$GSI" query "$shop" --func "$f" | sed -n 's/^  post-prologue: \(0x[0-9a-f]*\).*/\1/p' | head -1 || true)
		theirs=$(gdbq -ex "break $f" "$shop" | grep -o 'at 0x[0-9a-f]*' | head -1 | cut -c4- || true)
		assert_eq "$theirs" "$ours" "$d: post-prologue of $f"
		checked=$((checked + 1))
	done
	for f in lib_apply lib_price; do
		ours=$("$GSI" query "$lib" --func "$f" | sed -n 's/^  post-prologue: \(0x[0-9a-f]*\).*/\1/p' || true)
		theirs=$(gdbq -ex "break $f" "$lib" | grep -o 'at 0x[0-9a-f]*' | head -1 | cut -c4- || true)
		assert_eq "$theirs" "$ours" "$d: post-prologue of $f"
	done
	# info line: the first address gdb gives must be one of ours
	for n in 44 47 58 60 76 85 130; do
		theirs=$(gdbq -ex "info line shop.c:$n" "$shop" | grep -o 'starts at address 0x[0-9a-f]*' | awk '{print $4}' || true)
		[ -n "$theirs" ] || continue
		ours=$("$GSI" query "$shop" --line "shop.c:$n" | awk '{print $2}' || true)
		assert_contains "$ours" "$theirs" "$d: shop.c:$n"
		checked=$((checked + 1))
	done
	# globals: static storage addresses
	for g in g_counter g_total g_vip g_matrix g_status g_banner; do
		theirs=$(gdbq -ex "info address $g" "$shop" | grep -o 'address 0x[0-9a-f]*' | awk '{print $2}' || true)
		ours=$("$GSI" query "$shop" --global "$g" | grep -o 'DW_OP_addr 0x[0-9a-f]*' | awk '{print $2}' || true)
		assert_eq "$theirs" "$ours" "$d: address of $g"
		checked=$((checked + 1))
	done
	theirs=$(gdbq -ex "info address lib_counter" "$lib" | grep -o 'address 0x[0-9a-f]*' | awk '{print $2}' || true)
	ours=$("$GSI" query "$lib" --global lib_counter | grep -o 'DW_OP_addr 0x[0-9a-f]*' | awk '{print $2}' || true)
	assert_eq "$theirs" "$ours" "$d: address of lib_counter"
	assert_contains "$("$GSI" query "$lib" --global lib_tls)" "(tls)" "$d: lib_tls is TLS"
	assert_contains "$("$GSI" query "$shop" --global tally::calls)" "static int calls" "$d: static in tally"
	# struct layout: member byte offsets and sizes as ptype /o prints them
	for t in customer address; do
		theirs=$(gdbq -ex "ptype /o struct $t" "$shop" | sed -n 's@^/\* *\([0-9]*\)\(:[ 0-9]*\)\? *| *\([0-9]*\) \*/ *\(.*\);$@\1 \4@p' |
			sed 's/ *$//; s/ : [0-9]*$//' | awk '{print $1, $NF}' | sed 's/\[.*//' || true)
		ours=$("$GSI" query "$shop" --type "$t" | sed -n 's@^    \(.*\); /\* bit offset \([0-9]*\) \*/$@\2 \1@p' |
			awk '{ off = int($1 / 8); name = $NF; sub(/\[.*/, "", name); sub(/^\**/, "", name); sub(/\).*/, "", name); if ($(NF-1) == ":") name = $(NF-2); print off, name }')
		theirs_n=$(printf '%s\n' "$theirs" | awk '{ n = $2; sub(/^\**/, "", n); sub(/\).*/, "", n); sub(/^\(\*/, "", n); print $1, n }')
		ours_n=$(printf '%s\n' "$ours" | sed 's/(\*//')
		assert_eq "$theirs_n" "$ours_n" "$d: layout of struct $t"
		checked=$((checked + 1))
	done
	# symbols: gdb's info symbol names the function holding an address
	addr=$("$GSI" query "$shop" --func checkout | grep -A1 '^  symbol:   checkout$' | sed -n 's/^  entry: *\(0x[0-9a-f]*\)/\1/p' || true)
	assert_contains "$(gdbq -ex "info symbol $addr" "$shop")" "checkout" "$d: info symbol"
	# parameters of checkout as info scope lists them
	theirs=$(gdbq -ex "info scope checkout" "$shop" | sed -n 's/^Symbol \([a-z_]*\) is.*/\1/p' | sort -u | tr '\n' ' ' || true)
	pc=$("$GSI" query "$shop" --func checkout | grep -A2 '^  symbol:   checkout$' | sed -n 's/^  post-prologue: \(0x[0-9a-f]*\).*/\1/p' || true)
	ours=$("$GSI" query "$shop" --addr "$pc" | sed -n 's/^    \(param\|local\|static\) .*[ *]\([a-z_]*\)\( (tls)\)\?: .*/\2/p' | sort -u | tr '\n' ' ')
	for v in o qty coupon; do
		assert_contains "$ours" "$v" "$d: checkout params at $pc"
		assert_contains "$theirs" "$v" "$d: gdb scope of checkout"
	done
done
# C++: namespaces, overloads, methods, static members
d=$FIX/gcc-O0-dwarf5
assert_eq 3 "$("$GSI" query "$d/shopxx" --func inventory::weigh | grep -c '^function inventory::weigh')" "three weigh overloads"
for m in _ZN9inventory5weighEi _ZN9inventory5weighEii _ZN9inventory5weighEd; do
	theirs=$(gdbq -ex "info address $m" "$d/shopxx" | grep -o 'address 0x[0-9a-f]*' | awk '{print $2}' || true)
	ours=$("$GSI" query "$d/shopxx" --func "$m" | sed -n 's/^  entry: *\(0x[0-9a-f]*\)/\1/p' || true)
	assert_eq "$theirs" "$ours" "entry of $m"
done
assert_contains "$("$GSI" query "$d/shopxx" --func inventory::Store::add)" "function inventory::Store::add" "method"
theirs=$(gdbq -ex "info address inventory::Store::instances" "$d/shopxx" | grep -o 'address 0x[0-9a-f]*' | awk '{print $2}' || true)
ours=$("$GSI" query "$d/shopxx" --global inventory::Store::instances | grep -o 'DW_OP_addr 0x[0-9a-f]*' | awk '{print $2}' || true)
assert_eq "$theirs" "$ours" "static member address"
# gcc -O2: the clone and the cold part
d=$FIX/gcc-O2-dwarf5
assert_contains "$("$GSI" query "$d/shop" --func scaled)" "symbol:   scaled.constprop.0" "clone by source name"
assert_contains "$("$GSI" query "$d/shop" --func scaled)" "clone" "clone flag"
cold=$("$GSI" query "$d/shop" --func rare_path.cold | grep -c '^function rare_path' || true)
assert_eq 1 "$cold" "rare_path.cold finds rare_path"
nr=$("$GSI" query "$d/shop" --func rare_path | sed -n 's/^  ranges: *//p' | wc -w || true)
assert_eq 2 "$nr" "rare_path is split in two ranges"
assert_contains "$("$GSI" query "$d/shop" --func add_tax)" "inline add_tax in checkout" "inlined add_tax"
echo "checked $checked facts against gdb"

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ghostscope-index command line and scope details: global options before the command
# (--index-dir DIR show PATH), an inlined function's parameters listed in declaration
# order (gcc emits an inlined instance's parameters in reverse) on every fixture build
# where add_tax(int amount, int rate) is inlined, and the same index whether the walk
# has its second thread or not (GS_INDEX_THREADS=1).
source "$(dirname "$0")/lib.sh"
fixtures
bin=$FIX/gcc-O0-dwarf5/shop
alt=$T/alt-cache

# --index-dir before the command, in both spellings, and after it
"$GSI" --index-dir "$alt" "$bin" >/dev/null || fail "indexing into --index-dir"
out=$("$GSI" --index-dir "$alt" show "$bin") || fail "--index-dir DIR show PATH"
assert_contains "$out" "index:        $alt/"
out=$("$GSI" --index-dir="$alt" ls) || fail "--index-dir=DIR ls"
assert_contains "$out" "$(realpath "$bin")"
out=$("$GSI" --index-dir "$alt" query "$bin" --func checkout) || fail "--index-dir DIR query"
assert_contains "$out" "checkout"
out=$("$GSI" show --index-dir "$alt" "$bin") || fail "show --index-dir DIR PATH"
assert_contains "$out" "index:        $alt/"
# the default cache does not have it: the option really was used
"$GSI" show "$bin" >/dev/null 2>&1 && fail "the module leaked into the default cache"
# an option the command does not take is a usage error, not a path
rc=0
"$GSI" --force show "$bin" >/dev/null 2>&1 || rc=$?
assert_eq 2 "$rc" "--force before show"

# inlined parameters in declaration order, at every is_stmt address of add_tax's body
n=0
for b in "$FIX"/*/shop; do
	"$GSI" "$b" >/dev/null || fail "indexing $b"
	for a in $("$GSI" query "$b" --line shop.c:34 | awk '{ print $2 }'); do
		out=$("$GSI" query "$b" --addr "$a")
		case "$out" in *"inline add_tax"*) ;; *) continue ;; esac
		params=$(printf '%s\n' "$out" | sed -n '/inline add_tax/,/^  [a-z]/p' |
			 sed -n 's/^    param int \([a-z]*\):.*/\1/p' | tr '\n' ' ')
		# an optimizing build may drop one of them, never reorder them
		case "$params" in
		"amount rate "|"amount "|"rate "|"") ;;
		*) fail "$b at $a: add_tax parameters in order '$params', want 'amount rate'" ;;
		esac
		[ "$params" = "amount rate " ] && n=$((n + 1))
	done
done
[ $n -ge 4 ] || fail "only $n addresses showed both add_tax parameters"

# one thread or two: the same records (the dump without the index time)
for b in "$FIX"/gcc-O2-dwarf5/shop "$FIX"/clang-O2-dwarf4/shopxx "$FIX"/gcc-O3-dwarf5/libshop.so; do
	GS_INDEX_THREADS=1 "$GSI" --index-dir "$T/one" "$b" >/dev/null || fail "one thread: $b"
	"$GSI" --index-dir "$T/two" "$b" >/dev/null || fail "two threads: $b"
	one=$("$GSI" --index-dir "$T/one" dump "$b" | grep -v 'indexed at')
	two=$("$GSI" --index-dir "$T/two" dump "$b" | grep -v 'indexed at')
	assert_eq "$one" "$two" "dump of $b with one and two threads"
done
echo "ok: global options, inline parameter order ($n addresses), threads"

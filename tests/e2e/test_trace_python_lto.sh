#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A real LTO binary with a separate debug file: Debian's release python3.11 (stripped,
# its DWARF in python3.11-dbg). PyObject_GetAttr is out of line once and inlined 13
# times; every copy must plan, with 'v' readable. Two traps seen there: an inlined copy
# whose DW_AT_entry_pc lies outside its own ranges (at the enclosing function's entry,
# where 'v' does not exist yet), and copies in .cold parts that the stripped binary's
# .dynsym cannot name (the debug file's .symtab does).
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3.11
[ -x "$PY" ] || skip "no $PY"
bid=$(readelf -n "$PY" | awk '/Build ID/ { print $3 }')
dbg="/usr/lib/debug/.build-id/${bid:0:2}/${bid:2}.debug"
[ -r "$dbg" ] || skip "no debug file for $PY (install python3.11-dbg)"

"$GSI" "$PY" >/dev/null || fail "indexing $PY"
"$GS" -t "$PY" --dry-run -s 'trace PyObject_GetAttr { print v.ob_refcnt; }' \
	>"$T/out" 2>"$T/err" || { cat "$T/err"; fail "dry-run of PyObject_GetAttr failed"; }
nprobes=$(grep -c '^probe [0-9]*:' "$T/out")
nreads=$(grep -c '^    v: ' "$T/out")
[ "$nprobes" -ge 10 ] || fail "only $nprobes probes for PyObject_GetAttr"
assert_eq "$nprobes" "$nreads" "every copy reads 'v'"
grep -q 'error' "$T/out" "$T/err" && { cat "$T/err"; fail "a copy failed to plan"; }
grep -q '+0xffff' "$T/out" && fail "a pc below its function's entry printed as a negative offset"
grep -q '\.cold+0x' "$T/out" || fail "no copy named by its .cold symbol"
echo "ok: $nprobes probes, each reads v"

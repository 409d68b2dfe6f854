#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A target without any debug info: the index says so, function-entry probes by symbol
# still work (with specials), and reading a variable is a clear error.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/trace_lib.sh"
need_root_bpf
src="$GS_TOP/tests/fixtures"
mkdir -p "$T/nodw"
gcc -g0 -O2 -fPIC -shared -o "$T/nodw/libshop.so" "$src/libshop.c"
gcc -g0 -O2 -o "$T/nodw/shop" "$src/shop.c" -L"$T/nodw" -lshop -Wl,-rpath,"$T/nodw"
readelf -S "$T/nodw/shop" | grep -q debug_info && fail "fixture has DWARF"
"$GSI" "$T/nodw/shop" >/dev/null
"$GSI" show "$T/nodw/shop" >"$T/show"
grep -qi "dwarf.*no\|no dwarf\|debug.*none" "$T/show" || { cat "$T/show"; fail "index does not say it has no DWARF"; }
start_shop "$T/nodw"
gs_run -p "$PID" --script-output plain --max-events 1 -s "trace tally { print \"hit {}\", \$pid == $PID; }"
assert_eq "hit true" "$OUT" "symbol probe"
rc=0
"$GS" -p "$PID" --timeout 5 -s 'trace tally { print no_such_var_q; }' >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -ne 0 ] || fail "reading a variable without DWARF succeeded"
assert_contains "$(cat "$T/err")" "unknown variable 'no_such_var_q'"
echo ok

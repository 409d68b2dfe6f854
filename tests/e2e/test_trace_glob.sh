#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Function names with shell wildcards: `trace lib_* { }` attaches at every matching
# function of every module (here the executable and libshop.so), each pc its own probe;
# pcs where the body cannot compile are listed and the others still attach; a pattern
# that matches nothing is an error naming it; wildcards work with :return.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/trace_lib.sh"
need_root_bpf
fixtures
D="$FIX/gcc-O0-dwarf5"
start_shop "$D"

# The dry run lists exactly the two library functions, in libshop.so.
"$GS" -p "$PID" --dry-run -s 'trace lib_* { print $pc > 0; }' >"$T/dry" 2>"$T/dry.err" ||
	{ cat "$T/dry.err"; fail "dry-run of lib_*"; }
got=$(sed -n "s/^probe [0-9]*: trace 'lib_\*' at \([a-z_]*\)[+ ].*/\1/p" "$T/dry" | sort | tr '\n' ' ')
assert_eq "lib_apply lib_price " "$got" "lib_* matches both library functions"
assert_eq 2 "$(grep -c 'module .*libshop.so' "$T/dry")" "both in libshop.so"

# Live: one event from each function, each with the parameter only it has: lib_price's
# probe cannot read 'factor', so it is listed and the other probe still runs.
gs_run -p "$PID" --script-output plain --max-events 2 -s 'trace lib_pr?ce { print qty; } trace lib_a* { print factor; }'
assert_eq "$(printf 'factor = 3\nqty = 2')" "$(sort <<<"$OUT")" "wildcard probes in a library"

# A body that compiles in only some of the matches: those attach, the others are listed.
gs_run -p "$PID" --script-output plain --max-events 1 -s 'trace lib_* { print qty; }'
assert_eq "qty = 2" "$OUT" "the compiling match runs"
assert_contains "$ERR" "unknown variable 'qty'" "the other match is listed"

# Return probes by pattern.
gs_run -p "$PID" --script-output plain --max-events 1 -s 'trace lib_pri*:return { print $retval; }'
assert_eq '$retval = 500' "$OUT" "return probe by pattern"

# Nothing matches: one line naming the pattern, non-zero exit.
rc=0
"$GS" -p "$PID" --timeout 5 -s 'trace zz_no_such_* { print 1; }' >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -ne 0 ] || fail "a pattern matching nothing succeeded"
assert_contains "$(cat "$T/err")" "no function matches 'zz_no_such_*'"
echo ok

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every trace-point form, the three target modes, conditions, let, specials, the three
# output formats and dry-run, on the gcc -O0 PIE build.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/trace_lib.sh"
need_root_bpf
fixtures
D="$FIX/gcc-O0-dwarf5"
start_shop "$D"

# FILE:LINE (basename and a longer suffix), with a local.
line=$(grep -n 'total = add_tax(total, 10);' "$GS_TOP/tests/fixtures/shop.c" | cut -d: -f1)
gs_run -p "$PID" --script-output plain --max-events 2 -s "trace shop.c:$line { print \"{} {}\", qty, total; }"
assert_eq "$(printf '1 22\n3 33')" "$(sort <<<"$OUT")" "line probe"
gs_run -p "$PID" --script-output plain --max-events 1 -s "trace fixtures/shop.c:$line { if qty == 1 { print total; } }"
assert_eq "total = 22" "$OUT" "line probe by suffix"

# A lexical block's local.
line=$(grep -n 'sum = 100 + add_tax(excess, 0);' "$GS_TOP/tests/fixtures/shop.c" | cut -d: -f1)
gs_run -p "$PID" --script-output plain --max-events 1 -s "trace shop.c:$line { print \"{} {} {}\", a, b, excess; }"
assert_eq "90 20 10" "$OUT" "block local"

# Address probes: the function's post-prologue pc as the dry run reports it.
pc=$("$GS" --dry-run --after-prologue -p "$PID" -s 'trace tally { print a; }' | sed -n 's/^  pc \(0x[0-9a-f]*\),.*/\1/p' | head -1)
[ -n "$pc" ] || fail "no pc from dry run"
gs_run -p "$PID" --script-output plain --max-events 1 -s "trace $pc { if b == 2 { print a; } }"
assert_eq "a = 40" "$OUT" "address probe"
gs_run -p "$PID" --script-output plain --max-events 1 -s "trace shop:$pc { if b == 2 { print a; } }"
assert_eq "a = 40" "$OUT" "module:address probe"

# A shared-library function, its parameters, and the library's global.
gs_run -p "$PID" --script-output plain --max-events 1 -s 'trace lib_apply { print "{} {} {}", factor, o.id, o.cust.name; print lib_counter > 77; }'
assert_eq "$(printf '3 1007 "alice"\nlib_counter > 77 = true')" "$OUT" "library function"
# The library's global read from a probe in the executable (-p gives its load address).
gs_run -p "$PID" --script-output plain --max-events 1 -s 'trace tally { if b == 2 { print lib_counter > 77; } }'
assert_eq "lib_counter > 77 = true" "$OUT" "library global from the executable"

# Conditions: else-if chains, let, string compares, starts_with, specials.
gs_run -p "$PID" --script-output plain --max-events 2 -s 'trace checkout {
  let id = o.id;
  let twice = id * 2;
  if coupon == 0 { print "none {}", twice; }
  else if coupon == "HALF50" && starts_with(coupon, "HALF") { print "half {}", $pid == '"$PID"'; }
  else { print "other"; }
}'
assert_eq "$(printf 'half true\nnone 2014')" "$(sort <<<"$OUT")" "conditions"

# A failed read: inline error and an ExprError for the condition, the rest still prints.
gs_run -p "$PID" --script-output plain --max-events 1 -s 'trace deref_null {
  print o.id;
  if o.id == 1 { print "then"; } else { print "else"; }
  print "after";
}'
assert_eq "$(printf 'o.id = <error: null pointer dereference>\nExprError: o.id == 1 (null pointer dereference at 0x0)\nafter')" "$OUT" "failed read"

# Output formats.
gs_run -p "$PID" --max-events 1 -s 'trace tally { if b == 2 { print a; } }'
[[ "$OUT" =~ ^\[[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}\]\ TraceID:1\ PID:$PID\ TID:$PID$'\n'"  a = 40"$ ]] || fail "pretty output: $OUT"
fpc=$("$GS" --dry-run -p "$PID" -s 'trace tally { if b == 2 { print a; } }' | sed -n 's/^  pc \(0x[0-9a-f]*\),.*/\1/p' | head -1)
gs_run -p "$PID" --script-output json --max-events 1 -s 'trace tally { if b == 2 { print a; } }'
assert_contains "$OUT" '"trace_id":1,"probe":"tally","module":"'"$D/shop"'","pc":"'"$fpc"'","pid":'"$PID"',"tid":'"$PID"
assert_contains "$OUT" '"lines":["a = 40"]}'

# -t PATH: every process of the file; -t PATH -p PID.
gs_run -t "$D/shop" --script-output plain --max-events 1 -s 'trace tally { if b == 2 { print a + b; } }'
assert_eq "a + b = 42" "$OUT" "-t mode"
gs_run -t "$D/shop" -p "$PID" --script-output plain --max-events 1 -s 'trace tally { if b == 2 { print $pid == '"$PID"'; } }'
assert_eq "\$pid == $PID = true" "$OUT" "-t with -p"

# Dry run: plan without loading.
gs_run --dry-run -p "$PID" -s 'trace checkout { print "{}", qty; print o.cust.name; }'
assert_contains "$OUT" "probe 1: trace 'checkout' at checkout at shop.c:"
assert_contains "$OUT" "module $D/shop"
assert_contains "$OUT" "qty: "
assert_contains "$OUT" "BPF instructions"

# Launch mode: armed before the first instruction, exits with the program.
OUT=$("$GS" --script-output plain -s 'trace checkout { print qty; }' -- "$D/shop" 2 0 2>"$T/err" | grep -v 'shop ready')
assert_eq "$(printf 'qty = 3\nqty = 1\nqty = 3\nqty = 1')" "$OUT" "launch mode"
# Launched without address randomization (as under GDB): a library's global is known.
OUT=$("$GS" --script-output plain --max-events 1 -s 'trace checkout { print lib_counter; }' -- "$D/shop" 2 0 2>"$T/err" | grep -v 'shop ready')
assert_eq "lib_counter = 77" "$OUT" "launch mode, library global"
echo ok

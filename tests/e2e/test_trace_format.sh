#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Format specifiers, memory dumps and builtins on live values (gcc -O0 fixture).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/trace_lib.sh"
need_root_bpf
fixtures
start_shop "$FIX/gcc-O0-dwarf5"
gs_run -p "$PID" --script-output plain --max-events 1 -s 'trace checkout {
  if qty == 3 {
    let n = 3;
    print "{:x}|{:X}|{:s}", o.id, o.id, o.cust.name;
    print "{:x.4}|{:s.3}|{:x.*}|{:s.n$}", o.cust.name, o.note, 2, o.items, o.note;
    print "{}", memcmp(o.cust.name, hex("61 6c 69"));
    print "{} {}", strncmp(coupon, "HALF", 4), starts_with(o.note, "frag");
    print "{}", cast(o.extra, "int");
    print "{{literal}} {:p}", o.next;
  }
}'
expected='ef 03 00 00|EF 03 00 00|alice
61 6c 69 63|fra|04 00|fra
true
true true
5
{literal} 0x0'
assert_eq "$expected" "$OUT" "format specifiers"
# A dump longer than --mem-dump-cap is cut there and marked.
gs_run -p "$PID" --script-output plain --max-events 1 --mem-dump-cap 2 -s 'trace checkout { if qty == 3 { print "{:x.4}", o.cust.name; } }'
assert_eq "61 6c <truncated>" "$OUT" "dump cap"
echo ok

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every value kind of the shop fixture, read live with -p PID, at -O0 with gcc and clang
# (PIE) and gcc non-PIE: exact values the program is known to hold.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/trace_lib.sh"
need_root_bpf
fixtures

script='trace checkout {
  if qty == 3 {
    print "order {} for {}", o.id, o.cust.name;
    print qty;
    print coupon;
    print *o.cust;
    print o.items;
    print o.items[2];
    print o.st;
    print o.extra;
    print o.price;
    print o.weight;
    print o.delta;
    print o.flags;
    print o.big;
    print o.ubig;
    print o.grid;
    print o.grid[1];
    print o.ship;
    print o.note;
    print o.next;
    print o.cust.vip;
    print o.cust.score;
    print g_total;
    print g_banner;
    print g_name;
    print g_vip;
    print s_file_static;
    print g_status;
    print g_matrix;
    print g_null_order;
    print g_data;
    print o.items[1] + o.items[3] * 2;
    print o.delta < o.flags;
    print "{} {}", true, o.cust.tier > 4;
  }
}'

expected='order 1007 for "alice"
qty = 3
coupon = "HALF50"
*o.cust = customer { name: "alice", tier: 5, vip: 1, region: 3, score: -2, id: 4242 }
o.items = [4, 5, 6, 7]
o.items[2] = 6
o.st = status::ST_PAID
o.extra = union data { i = 5, f = 7e-45, b = [5, 0, 0, 0] }
o.price = -12.5
o.weight = 2.25
o.delta = -5
o.flags = 250
o.big = -9000000000
o.ubig = 18446744073709551610
o.grid = [[1, 2, 3], [-4, -5, -6]]
o.grid[1] = [-4, -5, -6]
o.ship = address { city: "lisbon", zip: 1100 }
o.note = "fragile"
o.next = NULL (struct order*)
o.cust.vip = 1
o.cust.score = -2
g_total = 12345
g_banner = "ghost shop"
g_name = "shop"
g_vip = customer { name: "bob", tier: 9, vip: 1, region: 6, score: -7, id: 4243 }
s_file_static = 31337
g_status = status::ST_SHIPPED
g_matrix = [[1, 2, 3], [4, 5, 6]]
g_null_order = NULL (struct order*)
g_data = union data { i = 5, f = 7e-45, b = [5, 0, 0, 0] }
o.items[1] + o.items[3] * 2 = 19
o.delta < o.flags = true
true true'

for build in gcc-O0-dwarf5 clang-O0-dwarf4 gcc-O0-dwarf4; do
	for prog in shop shop-nopie; do
		start_shop "$FIX/$build" $prog
		gs_run -p "$PID" --script-output plain --max-events 1 -s "$script"
		assert_eq "$expected" "$OUT" "$build/$prog values"
		kill "$PID"; wait "$PID" 2>/dev/null || true
	done
done
echo ok

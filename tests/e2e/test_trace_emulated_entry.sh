#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Function probes move to the function's first instruction when the kernel emulates it
# (push) and what the script reads is valid there, and read the same values; they stay
# after the prologue when a stack-slot location is not yet filled (-O0) or $pc is read.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/trace_lib.sh"
need_root_bpf
fixtures

D="$FIX/clang-O2-dwarf5"
OUT=$("$GS" -t "$D/shop" --dry-run -s 'trace checkout { print "{} {}", qty, o.id; }')
assert_contains "$OUT" "probe 1: trace 'checkout' at checkout at shop.c:"
assert_contains "$OUT" "instruction: push (emulated by the kernel)"
start_shop "$D"
gs_run -p "$PID" --script-output plain --max-events 2 -s 'trace checkout { print "{} {} {}", qty, o.id, coupon; }'
assert_eq "$(printf '1 1007 NULL (const char*)\n3 1007 "HALF50"')" "$(sort <<<"$OUT")" "values at the entry"
# $pc keeps the probe after the prologue.
OUT=$("$GS" -p "$PID" --dry-run -s 'trace checkout { print $pc; }')
assert_contains "$OUT" "at checkout+0x"
kill "$PID"; wait "$PID" 2>/dev/null || true

# -O0: parameters live in stack slots the prologue fills; at the entry the System V
# argument registers hold them, so a script reading only parameters probes the entry...
D="$FIX/gcc-O0-dwarf5"
OUT=$("$GS" -t "$D/shop" --dry-run -s 'trace checkout { print qty; print o.id; }')
assert_contains "$OUT" "probe 1: trace 'checkout' at checkout at shop.c:"
assert_contains "$OUT" "qty: reg rsi (argument register at entry)"
assert_contains "$OUT" "o: reg rdi (argument register at entry)"
start_shop "$D"
gs_run -p "$PID" --script-output plain --max-events 2 -s 'trace checkout { print "{} {} {}", qty, o.id, coupon; }'
assert_eq "$(printf '1 1007 NULL (const char*)\n3 1007 "HALF50"')" "$(sort <<<"$OUT")" "-O0 values at the entry"
kill "$PID"; wait "$PID" 2>/dev/null || true
# ...but a local is only meaningful after the prologue, and --after-prologue forces it.
OUT=$("$GS" -t "$D/shop" --dry-run -s 'trace checkout { print total; }')
assert_contains "$OUT" "at checkout+0x"
assert_contains "$OUT" "(single-stepped)"
OUT=$("$GS" -t "$D/shop" --dry-run --after-prologue -s 'trace checkout { print qty; }')
assert_contains "$OUT" "at checkout+0x"

# A struct over 16 bytes is returned in memory the caller passes in rdi: the arguments
# start at rsi (entry and return probes alike). A 16-byte one may be returned in
# registers or not (C++ types that are not trivially copyable): after the prologue.
cat >"$T/sret.c" <<'C'
#include <stdio.h>
struct big { long a, b, c; };
struct pair { long a, b; };
__attribute__((noinline)) struct big mk(long x, long y) { struct big r = { x, y, x + y }; return r; }
__attribute__((noinline)) struct pair mk2(long x, long y) { struct pair r = { x, y }; return r; }
int main(void) { long c = mk(40, 2).c; printf("%ld %ld\n", c, mk2(5, 6).b); return 0; }
C
gcc -g -O0 -o "$T/sret" "$T/sret.c"
"$GSI" "$T/sret" >/dev/null
S='trace mk { print "entry {} {}", x, y; }
trace mk:return { print "return {} {}", x, y; }
trace mk2 { print "entry2 {} {}", x, y; }
trace mk2:return { print "return2 {} {}", x, y; }'
OUT=$("$GS" -t "$T/sret" --dry-run -s "$S")
assert_contains "$OUT" "x: reg rsi (argument register at entry)" "sret: x after the hidden pointer"
assert_contains "$OUT" "x: saved at entry: reg rsi (argument register)" "sret: the return probe's save"
assert_contains "$OUT" "at mk2+0x" "16-byte return: after the prologue"
trace_new -t "$T/sret" --script-output plain --max-events 4 -s "$S" -- "$T/sret"
assert_eq "$(printf 'entry 40 2\nreturn 40 2\nentry2 5 6\nreturn2 5 6')" "$OUT" "sret values"

# A static function whose unused first argument clang dropped: b arrives in rdi, where
# its DWARF location says, not in rsi, where the ABI's count of the declaration would.
cat >"$T/dae.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
static __attribute__((noinline)) int f(int unused, int b) { return b * 2; }
int main(int argc, char **argv) { printf("%d\n", f(argc, atoi(argv[1]))); return 0; }
C
clang-16 -g -O2 -o "$T/dae" "$T/dae.c"
"$GSI" "$T/dae" >/dev/null
S='trace f:return { print "{} -> {}", b, $retval; }'
assert_contains "$("$GS" -t "$T/dae" --dry-run -s "$S")" "b: saved at entry: reg rdi" "dropped argument"
trace_new -t "$T/dae" --script-output plain --max-events 1 -s "$S" -- "$T/dae" 21
assert_eq "21 -> 42" "$OUT" "dropped argument: b's own register"
echo ok

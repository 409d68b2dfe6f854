#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Event accounting: with a ring buffer far too small for the burst, every hit is either
# delivered or counted as lost (per probe and in the summary), never silently dropped;
# a filter that rejects every hit and an empty body deliver nothing and lose nothing;
# a filter whose condition fails to evaluate still reports the ExprError.
source "$(dirname "$0")/lib.sh"
need_root_bpf
cat >"$T/burst.c" <<'C'
#include <stdlib.h>
#include <string.h>
struct blob { char b[1000]; };
volatile long sink;
__attribute__((noinline)) void hit(long i, struct blob *p) { sink += i + (p ? p->b[0] : 0); }
int main(int argc, char **argv)
{
	long n = atol(argv[1]);
	struct blob x;

	memset(&x, 'a', sizeof(x));
	for (long i = 0; i < n; i++)
		hit(i, i == 7 ? NULL : &x);
	return 0;
}
C
cc -O0 -g -fno-omit-frame-pointer -o "$T/burst" "$T/burst.c"
N=20000

# ~1 KiB events into a 4 KiB ring: most are lost, and all are accounted for.
"$GS" -v --script-output plain --ringbuf-size 4096 -s 'trace hit { print "{} {:x}", i, *p; }' \
	-- "$T/burst" "$N" >"$T/out" 2>"$T/err" || { cat "$T/err" >&2; fail "small ring run"; }
delivered=$(wc -l <"$T/out")
summary=$(sed -n 's/^ghostscope: \([0-9]*\) events, \([0-9]*\) lost$/\1 \2/p' "$T/err")
perprobe=$(sed -n 's/^ghostscope: probe 1 (hit at .*): \([0-9]*\) events lost$/\1/p' "$T/err")
[ -n "$summary" ] || { cat "$T/err" >&2; fail "no summary line"; }
assert_eq "$delivered ${perprobe:-0}" "$summary" "summary = lines written and the probe's loss"
assert_eq "$N" "$((delivered + ${perprobe:-0}))" "delivered + lost = hits"
[ "${perprobe:-0}" -gt 0 ] || fail "a 4 KiB ring lost nothing of $N 1 KiB events"
# Each delivered dump is whole: "I " and 1000 bytes as "61" separated by spaces.
assert_eq 0 "$(awk '$0 !~ /^7 / && length($0) != length($1) + 1 + 2999' "$T/out" | wc -l)" "dump lengths"

# Ctrl-C right after the program ends: what is still in the ring (500 events, well under
# the wakeup threshold) is delivered before the tool exits.
"$GS" -t "$T/burst" --script-output plain --ready-marker READY -s 'trace hit { print "{} {:x}", i, *p; }' \
	>"$T/out" 2>"$T/err" &
GP=$!
GS_CLEANUP="kill $GP 2>/dev/null || true"
for _ in $(seq 300); do grep -q READY "$T/err" && break; sleep 0.1; done
grep -q READY "$T/err" || { cat "$T/err" >&2; fail "not armed"; }
"$T/burst" 500
kill -INT "$GP"
wait "$GP" || { cat "$T/err" >&2; fail "exit after SIGINT"; }
assert_eq 500 "$(wc -l <"$T/out")" "lines after SIGINT"
assert_contains "$(cat "$T/err")" "ghostscope: 500 events, 0 lost" "summary after SIGINT"

# Filters that reject everything, and an empty body: nothing delivered, nothing lost.
for s in 'trace hit { if i == -1 { print i; } }' 'trace hit { }'; do
	"$GS" -v --script-output plain -s "$s" -- "$T/burst" "$N" >"$T/out" 2>"$T/err" ||
		{ cat "$T/err" >&2; fail "run of '$s'"; }
	assert_eq "" "$(cat "$T/out")" "output of '$s'"
	assert_contains "$(cat "$T/err")" "ghostscope: 0 events, 0 lost" "'$s'"
done

# The filter's condition cannot be evaluated at i == 7 (p is NULL): that event still comes.
"$GS" -v --script-output plain -s 'trace hit { if p.b[0] == 122 { print i; } }' \
	-- "$T/burst" 10 >"$T/out" 2>"$T/err" || { cat "$T/err" >&2; fail "error filter run"; }
assert_contains "$(cat "$T/out")" "ExprError: p.b[0] == 122 (null pointer dereference" "error in a filter"
assert_eq 1 "$(wc -l <"$T/out")" "only the failing hit prints"
echo ok

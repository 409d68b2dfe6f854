#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A process that ends inside a function traced on return (exit() in it, a kill) never
# returns through it, so its entry save would stay in gs_save, a map that does not
# evict, until the map is full and new calls print "entry value not saved". ghostscope
# removes the saves of ended threads about every second: 20 children that exit inside
# leave() leave the map empty shortly after, while a call that is still running (a
# process waiting inside leave() for a signal, across several sweeps) keeps its save
# and prints its own n on return.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/trace_lib.sh"
need_root_bpf
cc -g -O2 -o "$T/die_in" "$GS_TOP/tests/e2e/die_in.c"
cc -O1 -o "$T/census" "$GS_TOP/tests/e2e/map_census.c" -lbpf
"$GSI" "$T/die_in" >/dev/null
S='trace leave:return { print "{} -> {}", n, $retval; }'
rm -f "$T/gs.out" "$T/gs.err"
"$GS" -v -t "$T/die_in" --timeout 60 --script-output plain -s "$S" >"$T/gs.out" 2>"$T/gs.err" &
gs=$!
GS_CLEANUP="kill $gs 2>/dev/null || true"
gs_wait_ready $gs
# entries=N of gs_save
saves() { local c; c=$("$T/census" gs_save); [[ $c =~ entries=([0-9]+) ]] && echo "${BASH_REMATCH[1]}"; }
# the waiter first: its call stays under way, across sweeps, until it gets SIGUSR1
"$T/die_in" wait >"$T/wait.out" &
waiter=$!
GS_CLEANUP="kill $gs $waiter 2>/dev/null || true"
for _ in $(seq 100); do [ "$(saves)" = 1 ] && break; sleep 0.05; done
[ "$(saves)" = 1 ] || fail "the waiting call's save is not in gs_save: $("$T/census" gs_save)"
"$T/die_in" die 20 >"$T/die.out" || fail "die_in die 20 failed"
assert_eq 0 "$(cat "$T/die.out")" "the parent's own call"
swept=0
for _ in $(seq 100); do
	[ "$(saves)" = 1 ] && { swept=1; break; }
	sleep 0.1
done
[ "$swept" = 1 ] || fail "the ended children's saves were not removed: $("$T/census" gs_save)"
sleep 1.5	# another sweep or more
assert_eq 1 "$(saves)" "the waiting call's save kept across sweeps"
kill -USR1 $waiter
wait $waiter || fail "die_in wait failed"
assert_eq 2 "$(cat "$T/wait.out")" "the waiter's own output"
for _ in $(seq 100); do grep -q -- "2 -> 2" "$T/gs.out" && break; sleep 0.05; done
kill -INT $gs
wait $gs || fail "ghostscope exited $?"
assert_eq "$(printf '0 -> 0\n2 -> 2')" "$(cat "$T/gs.out")" "returns with their own n; the waiter's save kept"
assert_contains "$(cat "$T/gs.err")" "ghostscope: 20 return-probe saves of ended threads removed" "-v count"
assert_eq "" "$("$T/census" gs_save | grep -v ' entries=0' || true)" "the map is gone or empty after detach"
echo ok

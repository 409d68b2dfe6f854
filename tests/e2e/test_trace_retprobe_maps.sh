#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A return probe's save map holds only the calls in progress: between calls, gs_save
# is empty (each return deletes its call's save), and on Linux 6.1 and later it is a
# hash that allocates on insert, not a preallocated LRU hash (whose 16384 elements
# cost most of a return probe's start). A return probe
# that reads nothing saved at entry saves nothing.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/trace_lib.sh"
need_root_bpf
fixtures
D="$FIX/gcc-O2-dwarf5"
start_shop "$D"
cc -O1 -o "$T/census" "$GS_TOP/tests/e2e/map_census.c" -lbpf

"$GS" -v -p "$PID" --timeout 20 --script-output plain \
	-s 'trace checkout:return { print "{} -> {}", qty, $retval; }' >"$T/gs.out" 2>"$T/gs.err" &
gs=$!
GS_CLEANUP="${GS_CLEANUP:+$GS_CLEANUP; }kill $gs 2>/dev/null || true"
gs_wait_ready $gs
# the fixture calls checkout twice every 20 ms: wait for returns, then look between calls
for _ in $(seq 100); do [ "$(wc -l <"$T/gs.out")" -ge 6 ] && break; sleep 0.05; done
assert_contains "$(cat "$T/gs.out")" "3 -> 36" "return values"
empty=0
for _ in $(seq 20); do
	census=$("$T/census" gs_save)
	[ "$census" = "gs_save type=1 flags=1 max=65536 entries=0" ] && { empty=1; break; }
	sleep 0.003
done
kernel=$(uname -r)
if [ "$(printf '%s\n6.1\n' "${kernel%%-*}" | sort -V | head -1)" = 6.1 ]; then
	[ "$empty" = 1 ] || fail "save map not an empty non-preallocated hash between calls: $census"
else
	assert_contains "$census" "gs_save type=9" "LRU hash before Linux 6.1"
fi
kill -INT $gs
wait $gs || fail "ghostscope exited $?"

# A return probe that reads nothing saved at entry has no entry program at all: on a
# PIE the load bias used to be saved for every call and never deleted.
R='trace checkout:return { print "ret {}", $retval; }'
assert_contains "$("$GS" -p "$PID" --dry-run -s "$R")" "1 probes, 0 failed, 1 BPF programs" "no entry save"
gs_run -p "$PID" --script-output plain --max-events 2 -s "$R"
assert_eq "$(printf 'ret 24\nret 36')" "$(sort <<<"$OUT")" "\$retval alone"
echo ok

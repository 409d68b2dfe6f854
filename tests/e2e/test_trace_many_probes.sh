#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 200 probes on 200 functions: all armed, events from all of them, and Ctrl-C returns
# quickly (detach cost). The time is printed, not asserted (benchmarks measure speed).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/trace_lib.sh"
need_root_bpf
{
	echo '#include <stdio.h>'
	echo '#include <unistd.h>'
	for i in $(seq 0 199); do echo "__attribute__((noinline)) int f$i(int x) { return x + $i; }"; done
	echo 'int main(void) { setvbuf(stdout, NULL, _IOLBF, 0); puts("many ready"); for (;;) { int s = 0;'
	for i in $(seq 0 199); do echo "s += f$i(s & 1);"; done
	echo 'usleep(20000); if (s == 7) puts("x"); } }'
} >"$T/many.c"
gcc -g -O0 -o "$T/many" "$T/many.c"
"$T/many" >"$T/many.out" &
PID=$!
GS_CLEANUP="kill $PID"
wait_exec "$PID" "$T/many"
script=$(for i in $(seq 0 199); do echo "trace f$i { print \"f$i {}\", x; }"; done)
"$GS" -p "$PID" --script-output plain --ready-marker READY -s "$script" >"$T/events" 2>"$T/err" &
gs=$!
for _ in $(seq 300); do grep -q READY "$T/err" && break; sleep 0.05; done
grep -q READY "$T/err" || { cat "$T/err"; fail "not armed"; }
sleep 0.5
start=$(date +%s%N)
kill -INT $gs
wait $gs || fail "ghostscope exited $?"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "detach after Ctrl-C with 200 probes: ${ms} ms"
n=$(cut -d' ' -f1 "$T/events" | sort -u | wc -l)
[ "$n" -eq 200 ] || fail "events from $n of 200 functions"
grep -q "f199 " "$T/events" || fail "no event from f199"
echo ok

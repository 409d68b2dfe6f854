#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# $pid and $tid are the target's pid-namespace view: a process that is pid 1 of its
# own namespace (unshare --pid --fork) prints 1, though ghostscope attaches to it by
# its host pid. A target in the initial namespace prints its host pid; there the
# programs skip the namespace helper (the view is the host's), so this test also
# guards that both paths keep printing the right ids.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/trace_lib.sh"
need_root_bpf
command -v unshare >/dev/null || skip "no unshare(1)"
cat >"$T/tick.c" <<'C'
#include <stdio.h>
#include <unistd.h>
__attribute__((noinline)) int tick(int n) { __asm__ volatile("" : "+r"(n)); return n + 1; }
int main(void)
{
	printf("%d\n", (int)getpid());
	fflush(stdout);
	for (int i = 0; i < 600; i++) {	/* 30 s at most */
		tick(i);
		usleep(50000);
	}
	return 0;
}
C
cc -g -O1 -o "$T/tick" "$T/tick.c"
"$GSI" "$T/tick" >/dev/null
S='trace tick { print "{} {}", $pid, $tid; }'

# first_line FILE: the first line tick printed there (waits up to 5 s for it)
first_line() { for _ in $(seq 100); do [ -s "$1" ] && break; sleep 0.05; done; head -n 1 "$1"; }

# a pid namespace of its own: unshare forks tick as that namespace's pid 1
unshare --pid --fork "$T/tick" >"$T/ns.out" &
ush=$!
# a namespace's init ignores signals from outside it but SIGKILL
GS_CLEANUP="kill $ush 2>/dev/null; pkill -KILL -f -x '$T/tick' 2>/dev/null || true"
assert_eq 1 "$(first_line "$T/ns.out")" "tick is pid 1 of its namespace"
host=$(pgrep -f -n -x "$T/tick") || fail "no host pid for the namespaced tick"
[ "$host" != 1 ] || fail "host pid 1?"
OUT=$("$GS" -p "$host" --max-events 1 --timeout 20 --script-output plain -s "$S" 2>"$T/gs.err") ||
	{ cat "$T/gs.err" >&2; fail "ghostscope -p $host failed"; }
assert_eq "1 1" "$OUT" "the namespace's view, not the host's ($host)"
pkill -KILL -f -x "$T/tick" 2>/dev/null || true
wait $ush 2>/dev/null || true

# the initial namespace: the host's ids
"$T/tick" >"$T/init.out" &
tick=$!
GS_CLEANUP="kill $tick 2>/dev/null || true"
assert_eq "$tick" "$(first_line "$T/init.out")" "tick's own pid"
OUT=$("$GS" -p "$tick" --max-events 1 --timeout 20 --script-output plain -s "$S" 2>"$T/gs.err") ||
	{ cat "$T/gs.err" >&2; fail "ghostscope -p $tick failed"; }
assert_eq "$tick $tick" "$OUT" "the host's ids in the initial namespace"
kill $tick
echo ok

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Events go to one ring per CPU and come out in the order they happened:
#  - one thread that moves to another CPU before every call prints 0..N-1 in order
#    (each event is in another ring than the one before it; a reader that drains one
#    ring, then the next, prints them out of order);
#  - two threads pinned to two CPUs, printing 100,000 numbered calls each at full
#    speed, come out with every thread's numbers in order, none missing, none lost;
#  - -v names the rings: one per online CPU, the 8 MiB default shared among them.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/trace_lib.sh"
need_root_bpf
ncpu=$(getconf _NPROCESSORS_ONLN)
[ "$ncpu" -ge 2 ] || skip "one CPU: there is only one ring"
[ "$(nproc)" -ge 2 ] || skip "this process may run on one CPU only"
cat >"$T/hop.c" <<'C'
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) int step(int k, int i) { __asm__ volatile("" : "+r"(i)); return k + i; }

static int cpus[2];

/* the k-th of the first two CPUs we may run on */
static void pin(int k)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpus[k], &s);
	if (sched_setaffinity(0, sizeof(s), &s))
		perror("sched_setaffinity"), exit(1);
}

static int n;

static void *run(void *arg)
{
	int k = (int)(long)arg;

	pin(k);
	for (int i = 0; i < n; i++)
		step(k, i);
	return NULL;
}

/* hop N: N calls, each on the next CPU; pair N: two threads on CPUs 0 and 1, N each */
int main(int argc, char **argv)
{
	pthread_t t[2];
	cpu_set_t s;
	int k = 0;

	if (sched_getaffinity(0, sizeof(s), &s))
		return perror("sched_getaffinity"), 1;
	for (int c = 0; c < CPU_SETSIZE && k < 2; c++)
		if (CPU_ISSET(c, &s))
			cpus[k++] = c;
	if (k < 2)
		return fprintf(stderr, "one CPU allowed\n"), 77;
	n = atoi(argv[2]);
	if (!strcmp(argv[1], "hop")) {
		for (int i = 0; i < n; i++) {
			pin(i % 2);
			step(0, i);
		}
		return 0;
	}
	for (long k = 0; k < 2; k++)
		pthread_create(&t[k], NULL, run, (void *)k);
	for (int k = 0; k < 2; k++)
		pthread_join(t[k], NULL);
	return 0;
}
C
cc -g -O1 -pthread -o "$T/hop" "$T/hop.c"
"$GSI" "$T/hop" >/dev/null
S='trace step { print "{} {}", k, i; }'

# one thread, every call on the other CPU
N=4000
trace_new -t "$T/hop" --max-events $N --script-output plain -s "$S" -- "$T/hop" hop $N
assert_eq "$N" "$(printf '%s\n' "$OUT" | wc -l)" "events of the hopping thread"
bad=$(printf '%s\n' "$OUT" | awk '$2 != NR - 1 { print NR ": " $0; exit }')
assert_eq "" "$bad" "the hopping thread's calls in order"
n=$ncpu
[ "$n" -le 64 ] || n=64
bytes=$((8 << 20))
while [ $((bytes * n)) -gt $((8 << 20)) ]; do bytes=$((bytes / 2)); done
assert_contains "$(cat "$T/gs.err")" "events: $n rings of $((bytes >> 10)) KiB (one per CPU)"

# two threads at full speed on two CPUs; rings large enough to hold every event even
# if the reader got no CPU meanwhile (a loss would leave --max-events unreached)
N=100000
trace_new -t "$T/hop" --max-events $((2 * N)) --ringbuf-size $((64 << 20)) --script-output plain -s "$S" \
	-- "$T/hop" pair $N
for k in 0 1; do
	got=$(printf '%s\n' "$OUT" | awk -v k=$k '$1 == k { if ($2 != c) { print "at " c ": " $0; exit } c++ }
		END { if (c != '$N') print "count " c }')
	assert_eq "" "$got" "thread $k's $N calls, in order"
done
assert_contains "$(cat "$T/gs.err")" "$((2 * N)) events, 0 lost"
echo ok

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * For test_trace_retprobe_recursion.sh: rec(n) recurses n deep and returns n; main
 * calls rec(argv[1]) once, then rec(3), then aligned({3, 4}, 5) (18). The empty asm
 * keeps the compiler from turning the recursion into a loop at -O2. aligned() realigns
 * its stack for a 64-byte aligned local beside an alloca: after its prologue the CFA
 * is a DWARF expression (gcc's DRAP), not a register plus an offset; and its struct
 * passed first leaves n's argument register uncertain to the planner, so a return
 * probe saves n after the prologue, not at the entry. With "loop" as its second
 * argument it does all that every 50 ms until killed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__attribute__((noinline)) int rec(int n)
{
	int r;

	if (n == 0)
		return 0;
	r = rec(n - 1);
	__asm__ volatile("" : "+r"(r));
	return r + 1;
}

struct pair {
	long a, b;
};

__attribute__((noinline)) int aligned(struct pair q, int n)
{
	_Alignas(64) volatile char buf[64];
	volatile char *p = __builtin_alloca((size_t)n);

	p[0] = 1;
	buf[n & 63] = (char)n;
	return buf[n & 63] + n + (int)(q.a + q.b) + p[0];
}

int main(int argc, char **argv)
{
	int deep = argc > 1 ? atoi(argv[1]) : 100;
	int loop = argc > 2 && !strcmp(argv[2], "loop");

	do {
		printf("%d\n", rec(deep));
		printf("%d\n", rec(3));
		printf("%d\n", aligned((struct pair){ 3, 4 }, 5));
		fflush(stdout);
		if (loop)
			usleep(50000);
	} while (loop);
	return 0;
}

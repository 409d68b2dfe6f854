// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * For test_trace_retprobe_recursion.sh: rec(n) recurses n deep and returns n; main
 * calls rec(argv[1]) once, then rec(3). The empty asm keeps the compiler from turning
 * the recursion into a loop at -O2.
 */
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) int rec(int n)
{
	int r;

	if (n == 0)
		return 0;
	r = rec(n - 1);
	__asm__ volatile("" : "+r"(r));
	return r + 1;
}

int main(int argc, char **argv)
{
	int deep = argc > 1 ? atoi(argv[1]) : 100;

	printf("%d\n", rec(deep));
	printf("%d\n", rec(3));
	return 0;
}

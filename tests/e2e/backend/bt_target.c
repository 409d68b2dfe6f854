// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fixture for the backtrace test: main -> f1 -> f2 -> f3 every 10 ms. noipa keeps
 * each call a real call at -O2 (no inlining, cloning or tail call), so the return
 * addresses are the instructions after the calls that objdump shows.
 */
#include <unistd.h>

__attribute__((noipa)) long f3(long x)
{
	asm volatile("" ::: "memory");
	return x * 3;
}

__attribute__((noipa)) long f2(long x)
{
	long r = f3(x + 1);

	asm volatile("" ::: "memory");
	return r + 2;
}

__attribute__((noipa)) long f1(long x)
{
	long r = f2(x + 1);

	asm volatile("" ::: "memory");
	return r + 1;
}

int main(void)
{
	long s = 0;

	for (;;) {
		s += f1(s & 7);
		usleep(10000);
	}
	return (int)s;
}

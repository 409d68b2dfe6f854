// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fixture for test_backend_frame_saves.sh: frec(3) recurses down to frec(0); after
 * each inner call returns, %rdi no longer holds the frame's n, but a save made at
 * frec's entry keyed by the frame (CFA) still gives it. Built -O0 with frame pointers:
 * CFA = rsp + 8 at entry, rbp + 16 after the prologue.
 */
#include <unistd.h>

__attribute__((noinline)) long frec(long n)
{
	long r;

	asm volatile("" ::: "memory");
	if (!n)
		return 0;
	r = frec(n - 1);
	return r + n;
}

int main(void)
{
	long sink = 0;

	for (;;) {
		sink += frec(3);
		usleep(10000);
	}
	return (int)sink;
}

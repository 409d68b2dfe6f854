// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fixture for the BPF back-end tests: probe_me() is called with known arguments,
 * every 10 ms (or in a tight loop with "hot"), then rec(3), which recurses down to
 * rec(0) (return probes with saved arguments); with GEN_MANY the test also compiles
 * 200 functions f0..f199 and calls each in turn.
 */
#include <string.h>
#include <unistd.h>

struct item {
	long id;		/* 0 */
	int count;		/* 8 */
	char name[16];		/* 12 */
	const char *label;	/* 32 */
};

__attribute__((noinline)) long probe_me(long a, struct item *it, const char *s, long *nullp)
{
	asm volatile("" ::: "memory");
	/* Touch the strings so their pages are resident (probe reads cannot fault them in). */
	return a + it->count + s[0] + it->label[0] + (nullp ? 1 : 0);
}

/* rec(n) = n + (n-1) + ... + 0: returns 0, 1, 3, 6 from depths 0..3. */
__attribute__((noinline)) long rec(long n)
{
	asm volatile("" ::: "memory");
	return n ? rec(n - 1) + n : 0;
}

#ifdef GEN_MANY
#include "many.h"
#endif

int main(int argc, char **argv)
{
	struct item it = { .id = 77, .count = 5, .label = "hello world" };
	int hot = argc > 1 && !strcmp(argv[1], "hot");
	long sink = 0;

	strcpy(it.name, "widget");
	for (long i = 0; ; i++) {
		sink += probe_me(1000, &it, "hello", NULL);
		sink += rec(3);
#ifdef GEN_MANY
		call_many(i);
#endif
		if (!hot)
			usleep(10000);
	}
	return (int)sink;
}

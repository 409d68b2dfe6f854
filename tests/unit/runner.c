// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Runs every unit test found by the Makefile's grep (tests.gen.h), or those whose
 * name contains argv[1]. Ends with one line "Summary: N passed, N skipped, N failed".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/test.h"

#define T(fn) bool fn(void);
#include "tests.gen.h"
#undef T

struct test {
	const char *name;
	bool (*fn)(void);
};

static const struct test tests[] = {
#define T(fn) { #fn, fn },
#include "tests.gen.h"
#undef T
	{ NULL, NULL },
};

const char *test_build_dir(void)
{
	const char *d = getenv("GS_BUILD_DIR");

	return d ? d : "build";
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0, skipped = 0;

	for (const struct test *t = tests; t->name; t++) {
		if (argc > 1 && !strstr(t->name, argv[1])) {
			skipped++;
			continue;
		}
		bool ok = t->fn();

		printf("%s %s\n", ok ? "PASS" : "FAIL", t->name);
		if (ok)
			passed++;
		else
			failed++;
	}
	printf("Summary: %d passed, %d skipped, %d failed\n", passed, skipped, failed);
	return failed ? 1 : 0;
}

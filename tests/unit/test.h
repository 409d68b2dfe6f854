/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit test helpers. A test is `bool test_<module>__<case>(void)` in any
 * tests/unit/ source file; the Makefile finds them by grep. Assertions print expected vs
 * actual and make the test return false (jump to a cleanup label with ASSERT_GOTO).
 */
#ifndef GS_TESTS_UNIT_TEST_H
#define GS_TESTS_UNIT_TEST_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define T_FAIL(fmt, ...) \
	fprintf(stderr, "    %s:%d: " fmt "\n", __FILE__, __LINE__, ##__VA_ARGS__)

#define ASSERT_TRUE(c) do { if (!(c)) { T_FAIL("expected true: %s", #c); return false; } } while (0)
#define ASSERT_EQ(a, b) do {								\
	long long _a = (long long)(a), _b = (long long)(b);				\
	if (_a != _b) { T_FAIL("%s == %s: expected %lld, got %lld", #a, #b, _b, _a); return false; } \
} while (0)
#define ASSERT_STREQ(a, b) do {								\
	const char *_a = (a), *_b = (b);							\
	if (!_a || !_b || strcmp(_a, _b)) {						\
		T_FAIL("%s: expected \"%s\", got \"%s\"", #a, _b ? _b : "(null)", _a ? _a : "(null)"); \
		return false;								\
	}										\
} while (0)
/* Like the above but jump to @label (set ok = false first) for tests that clean up. */
#define ASSERT_GOTO(c, label) do { if (!(c)) { T_FAIL("expected true: %s", #c); goto label; } } while (0)

/* Path of a file under the build output directory (for fixtures built by make). */
const char *test_build_dir(void);

#endif /* GS_TESTS_UNIT_TEST_H */

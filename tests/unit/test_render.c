// SPDX-License-Identifier: GPL-2.0-or-later
/* The reader's hand-rolled decimal formatter against printf at the edges. */
#include <stdint.h>

#include "tests/unit/test.h"
#include "tracer/render.h"

static bool dec_is(uint64_t v, bool is_signed, const char *want)
{
	struct gs_strbuf sb;
	bool ok;

	gs_strbuf_init(&sb);
	gs_strbuf_adds(&sb, "x=");	/* appends, never overwrites */
	gs_render_dec(v, is_signed, &sb);
	ok = !strcmp(sb.buf + 2, want) && !strncmp(sb.buf, "x=", 2);
	if (!ok)
		T_FAIL("gs_render_dec(%" PRIu64 ", %d): expected \"%s\", got \"%s\"", v, is_signed,
		       want, sb.buf + 2);
	gs_strbuf_deinit(&sb);
	return ok;
}

bool test_render__dec_edges(void)
{
	ASSERT_TRUE(dec_is(0, false, "0"));
	ASSERT_TRUE(dec_is(0, true, "0"));
	ASSERT_TRUE(dec_is(7, true, "7"));
	ASSERT_TRUE(dec_is((uint64_t)-1, true, "-1"));
	ASSERT_TRUE(dec_is((uint64_t)-1, false, "18446744073709551615"));
	ASSERT_TRUE(dec_is((uint64_t)INT64_MIN, true, "-9223372036854775808"));
	ASSERT_TRUE(dec_is((uint64_t)INT64_MAX, true, "9223372036854775807"));
	ASSERT_TRUE(dec_is(1000000, false, "1000000"));
	return true;
}

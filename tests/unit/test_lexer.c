// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for the script lexer: tokens, positions, literals, comments, errors. */
#include <errno.h>
#include <stdlib.h>

#include "tests/unit/test.h"
#include "tracer/lexer.h"

/* Test functions are declared by the runner's generated list, not by a header. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"

/* Lexes all of @src; fills @toks (up to @max) and returns the count, or -1 on error. */
static int lex_all(const char *src, struct gs_token *toks, int max, struct gs_diag *d)
{
	struct gs_lexer lx;
	int n = 0;

	gs_lexer_init(&lx, src, strlen(src), "-s", d);
	for (;;) {
		struct gs_token t;

		if (gs_lexer_next(&lx, &t))
			return -1;
		if (n < max)
			toks[n] = t;
		n++;
		if (t.kind == GS_TOK_EOF)
			return n;
	}
}

/* Expects lexing @src to fail with @msg at @line:@col. */
static bool lex_fails(const char *src, unsigned int line, unsigned int col, const char *msg)
{
	struct gs_token toks[64];
	struct gs_diag d;
	bool ok = true;

	gs_diag_init(&d);
	if (lex_all(src, toks, 64, &d) >= 0 || !d.set) {
		T_FAIL("'%s' lexed without error", src);
		ok = false;
	} else if (d.line != line || d.col != col || strcmp(d.message, msg)) {
		T_FAIL("'%s': expected %u:%u '%s', got %u:%u '%s'", src, line, col, msg, d.line,
		       d.col, d.message);
		ok = false;
	}
	gs_diag_deinit(&d);
	return ok;
}

bool test_lexer__punctuation(void)
{
	static const enum gs_tok_kind want[] = {
		GS_TOK_LBRACE, GS_TOK_RBRACE, GS_TOK_LPAREN, GS_TOK_RPAREN, GS_TOK_LBRACKET,
		GS_TOK_RBRACKET, GS_TOK_SEMI, GS_TOK_COMMA, GS_TOK_DOT, GS_TOK_PLUS,
		GS_TOK_MINUS, GS_TOK_STAR, GS_TOK_SLASH, GS_TOK_PERCENT, GS_TOK_SHL,
		GS_TOK_SHR, GS_TOK_LT, GS_TOK_LE, GS_TOK_GT, GS_TOK_GE, GS_TOK_EQ, GS_TOK_NE,
		GS_TOK_AMP, GS_TOK_CARET, GS_TOK_PIPE, GS_TOK_ANDAND, GS_TOK_OROR,
		GS_TOK_BANG, GS_TOK_TILDE, GS_TOK_ASSIGN, GS_TOK_EOF,
	};
	struct gs_token t[40];
	int n = lex_all("{}()[];,.+-*/% << >> < <= > >= == != & ^ | && || ! ~ =", t, 40, NULL);

	ASSERT_EQ(n, (int)(sizeof(want) / sizeof(want[0])));
	for (int i = 0; i < n; i++)
		ASSERT_EQ(t[i].kind, want[i]);
	return true;
}

bool test_lexer__positions(void)
{
	struct gs_token t[8];
	int n = lex_all("trace f {\n\tprint  x;\n}", t, 8, NULL);

	ASSERT_EQ(n, 8);
	ASSERT_EQ(t[0].line, 1);
	ASSERT_EQ(t[0].col, 1);
	ASSERT_EQ(t[2].kind, GS_TOK_LBRACE);
	ASSERT_EQ(t[2].col, 9);
	ASSERT_EQ(t[3].line, 2);
	ASSERT_EQ(t[3].col, 2);	/* a tab is one column */
	ASSERT_EQ(t[4].col, 9);
	ASSERT_EQ(t[4].start, 18);
	ASSERT_EQ(t[4].end, 19);
	ASSERT_EQ(t[6].line, 3);
	ASSERT_EQ(t[6].col, 1);
	ASSERT_EQ(t[7].kind, GS_TOK_EOF);
	return true;
}

bool test_lexer__comments(void)
{
	struct gs_token t[8];
	int n = lex_all("a // line comment { \n/* block\n * } */ b/**/c /* x */", t, 8, NULL);

	ASSERT_EQ(n, 4);
	ASSERT_EQ(t[1].kind, GS_TOK_IDENT);
	ASSERT_EQ(t[1].line, 3);
	ASSERT_EQ(t[1].col, 9);
	ASSERT_EQ(t[2].start, 43);
	ASSERT_EQ(t[3].kind, GS_TOK_EOF);
	return true;
}

bool test_lexer__cxx_names(void)
{
	struct gs_token t[8];
	int n = lex_all("_a1 ns::Class::x y", t, 8, NULL);

	ASSERT_EQ(n, 4);
	ASSERT_EQ(t[0].end - t[0].start, 3);
	ASSERT_EQ(t[1].kind, GS_TOK_IDENT);
	ASSERT_EQ(t[1].end - t[1].start, 12);
	return true;
}

bool test_lexer__integers(void)
{
	struct gs_token t[12];
	int n = lex_all("0 42 0x1F 0XfF 0o17 0O7 0b101 0B1 1_000_000 0xffff_ffff_ffff_ffff", t, 12,
			NULL);

	ASSERT_EQ(n, 11);
	ASSERT_EQ(t[0].ival, 0);
	ASSERT_EQ(t[1].ival, 42);
	ASSERT_EQ(t[2].ival, 31);
	ASSERT_EQ(t[3].ival, 255);
	ASSERT_EQ(t[4].ival, 15);
	ASSERT_EQ(t[5].ival, 7);
	ASSERT_EQ(t[6].ival, 5);
	ASSERT_EQ(t[7].ival, 1);
	ASSERT_EQ(t[8].ival, 1000000);
	ASSERT_TRUE(t[9].ival == UINT64_MAX);
	return true;
}

bool test_lexer__int_helper(void)
{
	uint64_t v;

	ASSERT_EQ(gs_lex_int("18446744073709551615", 20, &v), 0);
	ASSERT_TRUE(v == UINT64_MAX);
	ASSERT_EQ(gs_lex_int("18446744073709551616", 20, &v), -ERANGE);
	ASSERT_EQ(gs_lex_int("0x", 2, &v), -EINVAL);
	ASSERT_EQ(gs_lex_int("0b2", 3, &v), -EINVAL);
	ASSERT_EQ(gs_lex_int("0o8", 3, &v), -EINVAL);
	ASSERT_EQ(gs_lex_int("017", 3, &v), -EINVAL);
	ASSERT_EQ(gs_lex_int("12a", 3, &v), -EINVAL);
	ASSERT_EQ(gs_lex_int("0x_1", 4, &v), 0);
	ASSERT_EQ(v, 1);
	ASSERT_EQ(gs_lex_int("0", 1, &v), 0);
	ASSERT_EQ(v, 0);
	return true;
}

bool test_lexer__strings(void)
{
	const char *src = "\"a\\tb\\n\\\\\\\"\\x41\\101\\0z\\e\"";
	struct gs_token t[2];
	char out[64];
	size_t len;

	ASSERT_EQ(lex_all(src, t, 2, NULL), 2);
	ASSERT_EQ(t[0].kind, GS_TOK_STR);
	ASSERT_EQ(t[0].end, strlen(src));
	gs_lex_string_decode(src, &t[0], out, &len);
	ASSERT_EQ(len, 11);
	ASSERT_TRUE(!memcmp(out, "a\tb\n\\\"AA\0z\x1b", 11));
	return true;
}

bool test_lexer__hex_escape_two_digits(void)
{
	const char *src = "\"\\x41BC\"";
	struct gs_token t[2];
	char out[16];
	size_t len;

	ASSERT_EQ(lex_all(src, t, 2, NULL), 2);
	gs_lex_string_decode(src, &t[0], out, &len);
	ASSERT_EQ(len, 3);
	ASSERT_TRUE(!memcmp(out, "ABC", 3));
	return true;
}

bool test_lexer__specials(void)
{
	struct gs_token t[4];

	ASSERT_EQ(lex_all("$pid $host_pid", t, 4, NULL), 3);
	ASSERT_EQ(t[0].kind, GS_TOK_SPECIAL);
	ASSERT_EQ(t[0].end - t[0].start, 4);
	ASSERT_EQ(t[1].end - t[1].start, 9);
	return true;
}

bool test_lexer__pattern(void)
{
	const char *src = "trace src/a-b/c_d.c:12{ trace /lib/x.so:0x10/*c*/ trace ns::f:return //\n";
	struct gs_lexer lx;
	struct gs_token t;

	gs_lexer_init(&lx, src, strlen(src), "-s", NULL);
	ASSERT_EQ(gs_lexer_next(&lx, &t), 0);
	ASSERT_EQ(gs_lexer_pattern(&lx, &t), 0);
	ASSERT_EQ(t.kind, GS_TOK_PATTERN);
	ASSERT_EQ(t.start, 6);
	ASSERT_EQ(t.end, 22);
	ASSERT_EQ(gs_lexer_next(&lx, &t), 0);
	ASSERT_EQ(t.kind, GS_TOK_LBRACE);
	ASSERT_EQ(gs_lexer_next(&lx, &t), 0);
	ASSERT_EQ(gs_lexer_pattern(&lx, &t), 0);
	ASSERT_EQ(t.end - t.start, 14);
	ASSERT_EQ(gs_lexer_next(&lx, &t), 0);
	ASSERT_EQ(gs_lexer_pattern(&lx, &t), 0);
	ASSERT_EQ(t.end - t.start, 12);
	ASSERT_EQ(gs_lexer_next(&lx, &t), 0);
	ASSERT_EQ(t.kind, GS_TOK_EOF);
	return true;
}

bool test_lexer__tok_kind_names(void)
{
	ASSERT_STREQ(gs_tok_kind_name(GS_TOK_SEMI), "';'");
	ASSERT_STREQ(gs_tok_kind_name(GS_TOK_OROR), "'||'");
	ASSERT_STREQ(gs_tok_kind_name(GS_TOK_EOF), "end of input");
	ASSERT_STREQ(gs_tok_kind_name(GS_TOK_IDENT), "identifier");
	return true;
}

bool test_lexer__err_unterminated_string(void)
{
	return lex_fails("a\n  \"abc\nd\"", 2, 3, "unterminated string literal");
}

bool test_lexer__err_unterminated_comment(void)
{
	return lex_fails("a /* b\n c", 1, 3, "unterminated comment");
}

bool test_lexer__err_bad_escape(void)
{
	return lex_fails("\"ab\\qc\"", 1, 4, "invalid escape '\\q' in string literal") &&
	       lex_fails("\"\\x\"", 1, 2, "invalid escape '\\x' in string literal") &&
	       lex_fails("\"\\777\"", 1, 2, "invalid escape '\\7' in string literal");
}

bool test_lexer__err_integers(void)
{
	return lex_fails("x 18446744073709551616", 1, 3,
			 "integer literal '18446744073709551616' does not fit in 64 bits") &&
	       lex_fails("017", 1, 1, "leading zeros are not allowed in '017'; write octal as 0o...") &&
	       lex_fails("0x", 1, 1, "invalid integer literal '0x'") &&
	       lex_fails("12ab", 1, 1, "invalid integer literal '12ab'") &&
	       lex_fails("0b12", 1, 1, "invalid integer literal '0b12'");
}

bool test_lexer__err_arrow(void)
{
	return lex_fails("a->b", 1, 2, "'->' is not needed: '.' dereferences pointers automatically");
}

bool test_lexer__err_characters(void)
{
	return lex_fails("a ? b", 1, 3, "unexpected character '?'") &&
	       lex_fails("a\n @", 2, 2, "unexpected character '@'") &&
	       lex_fails("a \x80", 1, 3, "unexpected byte 0x80") &&
	       lex_fails("$ pid", 1, 1, "expected a special variable name after '$'") &&
	       lex_fails("a : b", 1, 3, "unexpected character ':'");
}

bool test_lexer__err_empty_pattern(void)
{
	struct gs_lexer lx;
	struct gs_token t;
	struct gs_diag d;
	bool ok;

	gs_diag_init(&d);
	gs_lexer_init(&lx, "trace {", 7, "x.gs", &d);
	gs_lexer_next(&lx, &t);
	ok = gs_lexer_pattern(&lx, &t) == -EINVAL && d.set && d.col == 7;
	gs_diag_deinit(&d);
	ASSERT_TRUE(ok);
	return true;
}

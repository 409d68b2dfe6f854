// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for the script parser: every construct, checked through the canonical dump. */
#include <stdlib.h>

#include "tests/unit/test.h"
#include "tracer/parser.h"

/* Test functions are declared by the runner's generated list, not by a header. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"

static struct gs_script *parse_ok(const char *src)
{
	struct gs_script *s = NULL;
	struct gs_diag d;

	gs_diag_init(&d);
	if (gs_script_parse(src, strlen(src), "-s", &s, &d)) {
		char *t = gs_diag_format(&d);

		T_FAIL("'%s' failed to parse:\n%s", src, t ? t : "(no diag)");
		free(t);
	}
	gs_diag_deinit(&d);
	return s;
}

static bool dump_is(const char *src, const char *want)
{
	struct gs_script *s = parse_ok(src);
	char *got = s ? gs_script_dump(s) : NULL;
	bool ok = got && !strcmp(got, want);

	if (s && !ok)
		T_FAIL("dump of '%s':\n--- expected\n%s--- got\n%s", src, want, got ? got : "(null)");
	free(got);
	gs_script_free(s);
	return ok;
}

/* The dump of EXPR in "trace f { print EXPR; }". */
static bool expr_is(const char *expr, const char *want)
{
	char src[512];
	struct gs_script *s;
	char *got = NULL;
	bool ok;

	snprintf(src, sizeof(src), "trace f { print %s; }", expr);
	s = parse_ok(src);
	if (s)
		got = gs_expr_dump(s->traces[0]->body.stmts[0]->expr);
	ok = got && !strcmp(got, want);
	if (s && !ok)
		T_FAIL("'%s': expected %s, got %s", expr, want, got ? got : "(null)");
	free(got);
	gs_script_free(s);
	return ok;
}

/* --- the example of LANGUAGE.md, whole --- */

bool test_parser__language_example(void)
{
	return dump_is(
		"// comments: line and /* block */\n"
		"trace checkout {\n"
		"    print \"order {} for {}\", o.id, o.cust.name;\n"
		"    if qty > 2 && starts_with(coupon, \"HALF\") { print \"discount\"; } else { print \"full price\"; }\n"
		"    let t = o.items[0] * qty;         // immutable script variable\n"
		"    print t;                          // prints: t = 12\n"
		"}\n"
		"trace shop.c:33 { print total; }\n"
		"trace 0x1189 { print \"hit\"; }\n"
		"trace libshop.so:0x2040 { bt; }\n"
		"trace checkout:return {\n"
		"    print \"{} -> {}\", o.id, $retval;\n"
		"}\n",
		"trace (func checkout)\n"
		"  print (fmt \"order \" {} \" for \" {}) (. o id) (. (. o cust) name)\n"
		"  if (&& (> qty 2) (starts_with coupon \"HALF\"))\n"
		"    print (fmt \"discount\")\n"
		"  else\n"
		"    print (fmt \"full price\")\n"
		"  let t (* ([] (. o items) 0) qty)\n"
		"  print-expr \"t\" (var t)\n"
		"trace (line \"shop.c\" 33)\n"
		"  print-expr \"total\" total\n"
		"trace (addr 0x1189)\n"
		"  print (fmt \"hit\")\n"
		"trace (module-addr \"libshop.so\" 0x2040)\n"
		"  bt\n"
		"trace (return checkout)\n"
		"  print (fmt {} \" -> \" {}) (. o id) $retval\n");
}

/* --- patterns --- */

bool test_parser__pattern_func(void)
{
	return dump_is("trace checkout { }", "trace (func checkout)\n") &&
	       dump_is("trace _x9{}", "trace (func _x9)\n") &&
	       dump_is("trace ns::Class::method { }", "trace (func ns::Class::method)\n") &&
	       dump_is("trace ns::Foo::~Foo { }", "trace (func ns::Foo::~Foo)\n");
}

bool test_parser__pattern_glob(void)
{
	struct gs_script *s = parse_ok("trace ngx_http_*_handler { } trace f?o:return { } trace f { }");

	ASSERT_TRUE(s);
	ASSERT_EQ(s->traces[0]->pattern.kind, GS_PAT_FUNC);
	ASSERT_TRUE(s->traces[0]->pattern.glob);
	ASSERT_STREQ(s->traces[0]->pattern.func, "ngx_http_*_handler");
	ASSERT_EQ(s->traces[1]->pattern.kind, GS_PAT_FUNC_RETURN);
	ASSERT_TRUE(s->traces[1]->pattern.glob);
	ASSERT_STREQ(s->traces[1]->pattern.func, "f?o");
	ASSERT_TRUE(!s->traces[2]->pattern.glob);
	gs_script_free(s);
	return dump_is("trace *alloc* { }", "trace (func *alloc*)\n") &&
	       dump_is("trace ns::*::get { }", "trace (func ns::*::get)\n");
}

bool test_parser__pattern_return(void)
{
	return dump_is("trace checkout:return { }", "trace (return checkout)\n") &&
	       dump_is("trace ns::C::m:return { }", "trace (return ns::C::m)\n");
}

bool test_parser__pattern_line(void)
{
	return dump_is("trace shop.c:33 { }", "trace (line \"shop.c\" 33)\n") &&
	       dump_is("trace src/a/b.c:12 { }", "trace (line \"src/a/b.c\" 12)\n") &&
	       dump_is("trace /abs/x-y_z.cpp:7{}", "trace (line \"/abs/x-y_z.cpp\" 7)\n") &&
	       dump_is("trace ../lib/g++.h:1 { }", "trace (line \"../lib/g++.h\" 1)\n") &&
	       dump_is("trace Makefile:3 { }", "trace (line \"Makefile\" 3)\n");
}

bool test_parser__pattern_addr(void)
{
	return dump_is("trace 0x1189 { }", "trace (addr 0x1189)\n") &&
	       dump_is("trace 0XABCdef { }", "trace (addr 0xabcdef)\n") &&
	       dump_is("trace 0x1_000 { }", "trace (addr 0x1000)\n");
}

bool test_parser__pattern_module_addr(void)
{
	return dump_is("trace libshop.so:0x2040 { }", "trace (module-addr \"libshop.so\" 0x2040)\n") &&
	       dump_is("trace /usr/lib/x86_64-linux-gnu/libc.so.6:0x271ca { }",
		       "trace (module-addr \"/usr/lib/x86_64-linux-gnu/libc.so.6\" 0x271ca)\n");
}

bool test_parser__pattern_fields(void)
{
	struct gs_script *s = parse_ok("trace f { }\n  trace lib.so:0x10 { } trace a.c:5 { }");
	const struct gs_pattern *p;

	ASSERT_TRUE(s);
	ASSERT_EQ(s->trace_cnt, 3);
	p = &s->traces[1]->pattern;
	ASSERT_EQ(p->kind, GS_PAT_MODULE_ADDR);
	ASSERT_STREQ(p->text, "lib.so:0x10");
	ASSERT_STREQ(p->module, "lib.so");
	ASSERT_EQ(p->addr, 0x10);
	ASSERT_EQ(p->span.line, 2);
	ASSERT_EQ(p->span.col, 9);
	ASSERT_EQ(s->traces[1]->index, 1);
	ASSERT_EQ(s->traces[1]->span.col, 3);
	p = &s->traces[2]->pattern;
	ASSERT_EQ(p->kind, GS_PAT_LINE);
	ASSERT_STREQ(p->file, "a.c");
	ASSERT_EQ(p->line, 5);
	ASSERT_STREQ(s->traces[0]->pattern.func, "f");
	gs_script_free(s);
	return true;
}

bool test_parser__pattern_comment_ends_it(void)
{
	return dump_is("trace f/* c */{ } trace g// c\n{ }", "trace (func f)\ntrace (func g)\n");
}

/* --- statements --- */

bool test_parser__print_literal(void)
{
	return dump_is("trace f { print \"hit\"; }", "trace (func f)\n  print (fmt \"hit\")\n") &&
	       dump_is("trace f { print \"\"; }", "trace (func f)\n  print (fmt)\n");
}

bool test_parser__print_expr_text(void)
{
	struct gs_script *s = parse_ok("trace f {\n  print  o.items[i + 1] /* x */ ;\n}");
	const struct gs_stmt *st;

	ASSERT_TRUE(s);
	st = s->traces[0]->body.stmts[0];
	ASSERT_EQ(st->kind, GS_S_PRINT_EXPR);
	ASSERT_STREQ(st->expr_text, "o.items[i + 1]");
	ASSERT_EQ(st->span.line, 2);
	ASSERT_EQ(st->span.col, 3);
	ASSERT_EQ(st->expr->span.col, 10);
	ASSERT_EQ(st->expr->span.start, 19);
	ASSERT_EQ(st->expr->span.end, 33);
	ASSERT_EQ(s->src[st->span.end - 1], ';');
	gs_script_free(s);
	return true;
}

bool test_parser__print_expr_parens_kept(void)
{
	struct gs_script *s = parse_ok("trace f { print (a + b); }");

	ASSERT_TRUE(s);
	ASSERT_STREQ(s->traces[0]->body.stmts[0]->expr_text, "(a + b)");
	gs_script_free(s);
	return true;
}

bool test_parser__if_chain(void)
{
	return dump_is("trace f { if a { print 1; } else if b { print 2; } else if c { } else { print 4; } }",
		       "trace (func f)\n"
		       "  if a\n"
		       "    print-expr \"1\" 1\n"
		       "  elif b\n"
		       "    print-expr \"2\" 2\n"
		       "  elif c\n"
		       "  else\n"
		       "    print-expr \"4\" 4\n");
}

bool test_parser__if_structure(void)
{
	struct gs_script *s = parse_ok("trace f { if a { } else if b { print 1; } }");
	const struct gs_stmt *st;

	ASSERT_TRUE(s);
	st = s->traces[0]->body.stmts[0];
	ASSERT_EQ(st->kind, GS_S_IF);
	ASSERT_EQ(st->arm_cnt, 2);
	ASSERT_TRUE(st->else_body == NULL);
	ASSERT_EQ(st->arms[0].body.stmt_cnt, 0);
	ASSERT_EQ(st->arms[1].body.stmt_cnt, 1);
	ASSERT_STREQ(st->arms[1].cond->str, "b");
	ASSERT_EQ(s->src[st->span.end - 1], '}');
	ASSERT_EQ(st->span.end, strlen("trace f { if a { } else if b { print 1; }"));
	gs_script_free(s);
	return true;
}

bool test_parser__if_parenthesized_condition(void)
{
	return dump_is("trace f { if (x > 1) { } }", "trace (func f)\n  if (> x 1)\n");
}

bool test_parser__nested_if(void)
{
	return dump_is("trace f { if a { if b { bt; } } }",
		       "trace (func f)\n  if a\n    if b\n      bt\n");
}

bool test_parser__let_binding(void)
{
	struct gs_script *s = parse_ok("trace f { let a = o.cust; print a.name; let b = a; }");
	const struct gs_block *b;
	const struct gs_expr *use;

	ASSERT_TRUE(s);
	b = &s->traces[0]->body;
	ASSERT_EQ(b->stmts[0]->kind, GS_S_LET);
	ASSERT_STREQ(b->stmts[0]->name, "a");
	ASSERT_EQ(b->stmts[0]->name_span.col, 15);
	use = b->stmts[1]->expr->a;
	ASSERT_EQ(use->kind, GS_E_IDENT);
	ASSERT_TRUE(use->let == b->stmts[0]);
	ASSERT_TRUE(b->stmts[2]->expr->let == b->stmts[0]);
	gs_script_free(s);
	return true;
}

bool test_parser__let_dump(void)
{
	return dump_is("trace f { let p = &buf[0]; let q = p + 1; print *q; }",
		       "trace (func f)\n"
		       "  let p (& ([] buf 0))\n"
		       "  let q (+ (var p) 1)\n"
		       "  print-expr \"*q\" (* (var q))\n");
}

bool test_parser__let_not_in_own_initializer(void)
{
	/* "n" in the initializer is the target's n: the new name starts after the ';'. */
	return dump_is("trace f { let n = n + 1; print n; }",
		       "trace (func f)\n  let n (+ n 1)\n  print-expr \"n\" (var n)\n");
}

bool test_parser__let_sibling_blocks(void)
{
	return dump_is("trace f { if a { let x = 1; print x; } else { let x = 2; } let x = 3; }",
		       "trace (func f)\n"
		       "  if a\n"
		       "    let x 1\n"
		       "    print-expr \"x\" (var x)\n"
		       "  else\n"
		       "    let x 2\n"
		       "  let x 3\n");
}

bool test_parser__let_visible_in_nested_block(void)
{
	return dump_is("trace f { let x = 1; if x { print x; } }",
		       "trace (func f)\n  let x 1\n  if (var x)\n    print-expr \"x\" (var x)\n");
}

bool test_parser__let_per_trace(void)
{
	/* Another trace block is another probe: there "x" is a target name again. */
	return dump_is("trace f { let x = 1; } trace g { print x; let x = 2; }",
		       "trace (func f)\n  let x 1\ntrace (func g)\n  print-expr \"x\" x\n  let x 2\n");
}

bool test_parser__backtrace(void)
{
	return dump_is("trace f { bt; backtrace; bt raw; bt noinline; backtrace noinline raw; }",
		       "trace (func f)\n  bt\n  bt\n  bt raw\n  bt noinline\n  bt raw noinline\n");
}

bool test_parser__empty_statements(void)
{
	return dump_is("trace f { ; print 1;; }", "trace (func f)\n  print-expr \"1\" 1\n");
}

bool test_parser__keywords_as_target_names(void)
{
	/* Only statement starts are keywords: a target variable may be called bt or print. */
	return dump_is("trace f { print bt + print + let + trace + raw; }",
		       "trace (func f)\n"
		       "  print-expr \"bt + print + let + trace + raw\" (+ (+ (+ (+ bt print) let) trace) raw)\n");
}

bool test_parser__comments_everywhere(void)
{
	return dump_is("/* a */ trace /* b */ f /* c */ { // d\n print /* e */ x /* f */ ; } // g",
		       "trace (func f)\n  print-expr \"x\" x\n");
}

bool test_parser__several_traces(void)
{
	struct gs_script *s = parse_ok("trace a { } trace b { } trace c { }");

	ASSERT_TRUE(s);
	ASSERT_EQ(s->trace_cnt, 3);
	ASSERT_EQ(s->traces[2]->index, 2);
	ASSERT_STREQ(s->origin, "-s");
	gs_script_free(s);
	return true;
}

/* --- expressions --- */

bool test_parser__expr_literals(void)
{
	return expr_is("42", "42") && expr_is("0x1F_FF", "8191") && expr_is("0o17", "15") &&
	       expr_is("0b1010", "10") && expr_is("1_000_000", "1000000") &&
	       expr_is("true", "true") && expr_is("false", "false") &&
	       expr_is("9223372036854775807", "9223372036854775807") &&
	       expr_is("-9223372036854775808", "-9223372036854775808") &&
	       expr_is("- 5", "-5") && expr_is("-0x10", "-16");
}

bool test_parser__expr_strings(void)
{
	return expr_is("s == \"a\\tb\\x41\\101\\0\\\"\"", "(== s \"a\\tbAA\\x00\\\"\")") &&
	       expr_is("s != \"\"", "(!= s \"\")");
}

bool test_parser__expr_string_length(void)
{
	struct gs_script *s = parse_ok("trace f { print s == \"a\\0b\"; }");

	ASSERT_TRUE(s);
	ASSERT_EQ(s->traces[0]->body.stmts[0]->expr->b->str_len, 3);
	gs_script_free(s);
	return true;
}

bool test_parser__expr_precedence(void)
{
	return expr_is("a + b * c - d / e % f", "(- (+ a (* b c)) (% (/ d e) f))") &&
	       expr_is("a << 1 + 2", "(<< a (+ 1 2))") &&
	       expr_is("a >> b < c", "(< (>> a b) c)") &&
	       expr_is("a < b == c >= d", "(== (< a b) (>= c d))") &&
	       expr_is("a <= b != c > d", "(!= (<= a b) (> c d))") &&
	       expr_is("a == b & c", "(& (== a b) c)") &&
	       expr_is("a & b ^ c | d && e || f", "(|| (&& (| (^ (& a b) c) d) e) f)") &&
	       expr_is("a || b && c", "(|| a (&& b c))") &&
	       expr_is("a | b ^ c & d", "(| a (^ b (& c d)))");
}

bool test_parser__expr_left_assoc(void)
{
	return expr_is("a - b - c", "(- (- a b) c)") && expr_is("a / b / c", "(/ (/ a b) c)") &&
	       expr_is("a << b << c", "(<< (<< a b) c)") && expr_is("a || b || c", "(|| (|| a b) c)");
}

bool test_parser__expr_parens(void)
{
	return expr_is("(a + b) * c", "(* (+ a b) c)") && expr_is("((a))", "a") &&
	       expr_is("(*p).x", "(. (* p) x)");
}

bool test_parser__expr_unary(void)
{
	return expr_is("-a", "(- a)") && expr_is("*p", "(* p)") && expr_is("&x", "(& x)") &&
	       expr_is("!a", "(! a)") && expr_is("~a", "(~ a)") && expr_is("!~-a", "(! (~ (- a)))") &&
	       expr_is("**pp", "(* (* pp))") && expr_is("a - -1", "(- a -1)") &&
	       expr_is("-a * b", "(* (- a) b)");
}

bool test_parser__expr_postfix_binds_tighter(void)
{
	return expr_is("-a.b[1]", "(- ([] (. a b) 1))") && expr_is("*p.q", "(* (. p q))") &&
	       expr_is("&x[2].y", "(& (. ([] x 2) y))") &&
	       expr_is("o.cust.name", "(. (. o cust) name)") &&
	       expr_is("m[i][j + 1]", "([] ([] m i) (+ j 1))");
}

bool test_parser__expr_names(void)
{
	return expr_is("ns::Class::counter", "ns::Class::counter") &&
	       expr_is("_a + b1", "(+ _a b1)");
}

bool test_parser__expr_specials(void)
{
	return expr_is("$pid", "$pid") && expr_is("$tid", "$tid") &&
	       expr_is("$host_pid", "$host_pid") && expr_is("$timestamp", "$timestamp") &&
	       expr_is("$pc", "$pc") && expr_is("$sp", "$sp") && expr_is("$comm", "$comm") &&
	       dump_is("trace f:return { print $retval + 1; }",
		       "trace (return f)\n  print-expr \"$retval + 1\" (+ $retval 1)\n");
}

bool test_parser__expr_builtins(void)
{
	return expr_is("strncmp(a, \"ab\", 2)", "(strncmp a \"ab\" 2)") &&
	       expr_is("strncmp(\"ab\", q, n * 2)", "(strncmp \"ab\" q (* n 2))") &&
	       expr_is("starts_with(coupon, \"HALF\")", "(starts_with coupon \"HALF\")") &&
	       expr_is("memcmp(a, b, 4)", "(memcmp a b 4)") &&
	       expr_is("memcmp(&buf[0], hex(\"DE AD be ef\"))", "(memcmp (& ([] buf 0)) (hex de ad be ef))") &&
	       expr_is("memcmp(hex(\"00ff\"), p, 2)", "(memcmp (hex 00 ff) p 2)") &&
	       expr_is("memcmp(hex, p, 2)", "(memcmp hex p 2)") &&
	       expr_is("!starts_with(a, \"x\") && memcmp(a, b, 0)",
		       "(&& (! (starts_with a \"x\")) (memcmp a b 0))");
}

bool test_parser__expr_hex_bytes(void)
{
	struct gs_script *s = parse_ok("trace f { print memcmp(a, hex(\"\tDEAD be\tef \")); }");
	const struct gs_expr *h;

	ASSERT_TRUE(s);
	h = s->traces[0]->body.stmts[0]->expr->args[1];
	ASSERT_EQ(h->kind, GS_E_HEX);
	ASSERT_EQ(h->byte_cnt, 4);
	ASSERT_TRUE(!memcmp(h->bytes, "\xde\xad\xbe\xef", 4));
	gs_script_free(s);
	return true;
}

bool test_parser__expr_cast(void)
{
	return expr_is("cast(p, \"struct req *\")", "(cast p \"struct req*\")") &&
	       expr_is("cast(p, \"uint32_t\")", "(cast p \"uint32_t\")") &&
	       expr_is("cast(p, \"u8\")", "(cast p \"u8\")") &&
	       expr_is("cast(p, \"unsigned long\")", "(cast p \"unsigned long\")") &&
	       expr_is("cast(p, \"long  unsigned\tint\")", "(cast p \"long unsigned int\")") &&
	       expr_is("cast(p, \"int[4]\")", "(cast p \"int[4]\")") &&
	       expr_is("cast(p, \" const char * const * [2][0x3] \")", "(cast p \"char**[2][3]\")") &&
	       expr_is("cast(p, \"union u*\")", "(cast p \"union u*\")") &&
	       expr_is("cast(p, \"enum color\")", "(cast p \"enum color\")") &&
	       expr_is("cast(p, \"ns::T**\")", "(cast p \"ns::T**\")") &&
	       expr_is("cast(cast(p, \"void *\"), \"req\").id", "(. (cast (cast p \"void*\") \"req\") id)");
}

bool test_parser__expr_cast_fields(void)
{
	struct gs_script *s = parse_ok("trace f { print cast(p + 1, \"struct req *[2][3]\"); }");
	const struct gs_expr *e;

	ASSERT_TRUE(s);
	e = s->traces[0]->body.stmts[0]->expr;
	ASSERT_EQ(e->kind, GS_E_CAST);
	ASSERT_EQ(e->a->kind, GS_E_BINARY);
	ASSERT_STREQ(e->str, "struct req *[2][3]");
	ASSERT_EQ(e->type->tag, GS_TAG_STRUCT);
	ASSERT_STREQ(e->type->name, "req");
	ASSERT_EQ(e->type->ptr_depth, 1);
	ASSERT_EQ(e->type->dim_cnt, 2);
	ASSERT_EQ(e->type->dims[0], 2);
	ASSERT_EQ(e->type->dims[1], 3);
	gs_script_free(s);
	return true;
}

bool test_parser__expr_spans(void)
{
	struct gs_script *s = parse_ok("trace f {\n print a.b + c[1] * -2;\n}");
	const struct gs_expr *e;

	ASSERT_TRUE(s);
	e = s->traces[0]->body.stmts[0]->expr;
	ASSERT_EQ(e->span.line, 2);
	ASSERT_EQ(e->span.col, 8);
	ASSERT_EQ(e->b->span.col, 14);	/* c[1] * -2 */
	ASSERT_EQ(e->b->span.end - e->b->span.start, 9);
	ASSERT_EQ(e->b->b->span.end - e->b->b->span.start, 2);	/* the folded -2 */
	ASSERT_EQ(e->a->span.end - e->a->span.start, 3);	/* a.b */
	gs_script_free(s);
	return true;
}

/* --- format strings --- */

bool test_parser__fmt_specifiers(void)
{
	return dump_is("trace f { print \"{} {:x} {:X} {:p} {:s}\", a, b, c, d, e; }",
		       "trace (func f)\n"
		       "  print (fmt {} \" \" {:x} \" \" {:X} \" \" {:p} \" \" {:s}) a b c d e\n");
}

bool test_parser__fmt_dumps(void)
{
	return dump_is("trace f { let len = 8; print \"{:x.16}{:s.0x10}{:x.0o20}{:X.0b1}{:s.1_0}{:x.*}{:s.*}{:s.len$}{:x.len$}\","
		       " a, b, c, d, e, n, f, m, g, h, i; }",
		       "trace (func f)\n"
		       "  let len 8\n"
		       "  print (fmt {:x.16} {:s.16} {:x.16} {:X.1} {:s.10} {:x.*} {:s.*} {:s.len$} {:x.len$})"
		       " a b c d e n f m g h i\n");
}

bool test_parser__fmt_braces(void)
{
	return dump_is("trace f { print \"{{}} {{x}} {} }}{{\", a; }",
		       "trace (func f)\n  print (fmt \"{} {x} \" {} \" }{\") a\n") &&
	       dump_is("trace f { print \"{{\"; }", "trace (func f)\n  print (fmt \"{\")\n");
}

bool test_parser__fmt_escapes_are_literal(void)
{
	/* An escaped brace is a character, never a placeholder. */
	return dump_is("trace f { print \"\\x7b\\x7d \\t\\\"\"; }",
		       "trace (func f)\n  print (fmt \"{} \\t\\\"\")\n");
}

bool test_parser__fmt_parts(void)
{
	struct gs_script *s = parse_ok("trace f { let n = 4; print \"a{:x.*}b{:s.n$}{}\", l, v, w, x; }");
	const struct gs_stmt *st;
	const struct gs_fmt_part *pt;

	ASSERT_TRUE(s);
	st = s->traces[0]->body.stmts[1];
	ASSERT_EQ(st->kind, GS_S_PRINT);
	ASSERT_EQ(st->part_cnt, 5);
	ASSERT_EQ(st->arg_cnt, 4);
	ASSERT_EQ(st->fmt_span.col, 28);
	pt = &st->parts[0];
	ASSERT_EQ(pt->conv, GS_FMT_LIT);
	ASSERT_EQ(pt->text_len, 1);
	ASSERT_EQ(pt->span.col, 29);
	pt = &st->parts[1];
	ASSERT_EQ(pt->conv, GS_FMT_HEX);
	ASSERT_EQ(pt->len_kind, GS_FMT_LEN_STAR);
	ASSERT_EQ(pt->len_arg, 0);
	ASSERT_EQ(pt->arg, 1);
	ASSERT_EQ(pt->span.col, 30);
	ASSERT_EQ(pt->span.end - pt->span.start, 6);
	pt = &st->parts[3];
	ASSERT_EQ(pt->conv, GS_FMT_STR);
	ASSERT_EQ(pt->len_kind, GS_FMT_LEN_VAR);
	ASSERT_TRUE(pt->len_let == s->traces[0]->body.stmts[0]);
	ASSERT_EQ(pt->arg, 2);
	pt = &st->parts[4];
	ASSERT_EQ(pt->conv, GS_FMT_DEFAULT);
	ASSERT_EQ(pt->len_kind, GS_FMT_LEN_NONE);
	ASSERT_EQ(pt->arg, 3);
	gs_script_free(s);
	return true;
}

bool test_parser__fmt_const_len(void)
{
	struct gs_script *s = parse_ok("trace f { print \"{:x.0x100}\", p; }");

	ASSERT_TRUE(s);
	ASSERT_EQ(s->traces[0]->body.stmts[0]->parts[0].len_kind, GS_FMT_LEN_CONST);
	ASSERT_EQ(s->traces[0]->body.stmts[0]->parts[0].len, 256);
	gs_script_free(s);
	return true;
}

bool test_parser__fmt_args_are_expressions(void)
{
	return dump_is("trace f { print \"{} {}\", a + 1, cast(p, \"int*\")[2]; }",
		       "trace (func f)\n  print (fmt {} \" \" {}) (+ a 1) ([] (cast p \"int*\") 2)\n");
}

/* --- diagnostics and the API around the parser --- */

bool test_parser__script_error_helper(void)
{
	struct gs_script *s = parse_ok("trace f {\n\tprint  o.cust;\n}");
	struct gs_diag d;
	char *text;
	bool ok;

	ASSERT_TRUE(s);
	gs_diag_init(&d);
	ASSERT_EQ(gs_script_error(s, &s->traces[0]->body.stmts[0]->expr->span, &d,
				  "unknown variable '%s'", "o"), -22);
	text = gs_diag_format(&d);
	ok = text && !strcmp(text, "error: -s:2:9: unknown variable 'o'\n"
				   "\tprint  o.cust;\n"
				   "\t       ^~~~~~\n");
	if (!ok)
		T_FAIL("got '%s'", text ? text : "(null)");
	free(text);
	gs_diag_deinit(&d);
	gs_script_free(s);
	return ok;
}

bool test_parser__diag_first_error_wins(void)
{
	struct gs_diag d;

	gs_diag_init(&d);
	ASSERT_EQ(gs_diag_set(&d, "a.gs", "xy\nz", 4, 3, 4, "first %d", 1), 0);
	ASSERT_EQ(gs_diag_set(&d, "b.gs", "xy", 2, 0, 1, "second"), 0);
	ASSERT_STREQ(d.message, "first 1");
	ASSERT_STREQ(d.origin, "a.gs");
	ASSERT_EQ(d.line, 2);
	ASSERT_EQ(d.col, 1);
	ASSERT_STREQ(d.source_line, "z");
	gs_diag_deinit(&d);
	ASSERT_TRUE(!d.set);
	gs_diag_deinit(NULL);
	return true;
}

bool test_parser__diag_at_end_of_input(void)
{
	struct gs_diag d;
	char *text;
	bool ok;

	gs_diag_init(&d);
	ASSERT_EQ(gs_diag_set(&d, "x", "ab", 2, 2, 2, "m"), 0);
	text = gs_diag_format(&d);
	ok = text && !strcmp(text, "error: x:1:3: m\nab\n  ^\n");
	free(text);
	gs_diag_deinit(&d);
	ASSERT_TRUE(ok);
	return true;
}

bool test_parser__diag_span_clipped_to_line(void)
{
	struct gs_diag d;

	gs_diag_init(&d);
	ASSERT_EQ(gs_diag_set(&d, "x", "abc\ndef", 7, 1, 6, "m"), 0);
	ASSERT_EQ(d.width, 2);
	ASSERT_STREQ(d.source_line, "abc");
	gs_diag_deinit(&d);
	return true;
}

bool test_parser__non_terminated_input(void)
{
	/* The source need not be NUL-terminated: only len bytes are read. */
	const char buf[] = { 't', 'r', 'a', 'c', 'e', ' ', 'f', '{', '}', 'X' };
	struct gs_script *s = NULL;

	ASSERT_EQ(gs_script_parse(buf, 9, "file.gs", &s, NULL), 0);
	ASSERT_TRUE(s);
	ASSERT_EQ(s->len, 9);
	ASSERT_STREQ(s->src, "trace f{}");
	ASSERT_STREQ(s->origin, "file.gs");
	gs_script_free(s);
	gs_script_free(NULL);
	return true;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for script errors: exact message, line and column for every check. */
#include <errno.h>
#include <stdlib.h>

#include "tests/unit/test.h"
#include "tracer/parser.h"

/* Test functions are declared by the runner's generated list, not by a header. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"

/* Expects @src to fail with @msg at @line:@col. */
static bool error_is(const char *src, unsigned int line, unsigned int col, const char *msg)
{
	struct gs_script *s = NULL;
	struct gs_diag d;
	bool ok = false;
	int err;

	gs_diag_init(&d);
	err = gs_script_parse(src, strlen(src), "-s", &s, &d);
	if (!err) {
		T_FAIL("'%s' parsed without error", src);
		gs_script_free(s);
	} else if (err != -EINVAL || !d.set || s) {
		T_FAIL("'%s': err %d, diag %s", src, err, d.set ? "set" : "unset");
	} else if (d.line != line || d.col != col || strcmp(d.message, msg)) {
		T_FAIL("'%s':\n      expected %u:%u %s\n      got      %u:%u %s", src, line, col, msg,
		       d.line, d.col, d.message);
	} else {
		ok = true;
	}
	gs_diag_deinit(&d);
	return ok;
}

/* The whole printed diagnostic. */
static bool diag_text_is(const char *src, const char *origin, const char *want)
{
	struct gs_script *s = NULL;
	struct gs_diag d;
	char *text = NULL;
	bool ok;

	gs_diag_init(&d);
	gs_script_parse(src, strlen(src), origin, &s, &d);
	text = gs_diag_format(&d);
	ok = text && !strcmp(text, want);
	if (!ok)
		T_FAIL("--- expected\n%s--- got\n%s", want, text ? text : "(null)\n");
	free(text);
	gs_diag_deinit(&d);
	gs_script_free(s);
	return ok;
}

bool test_parser_errors__format_of_a_diagnostic(void)
{
	return diag_text_is("trace f {\n    prnt x;\n}\n", "-s",
			    "error: -s:2:5: unknown keyword 'prnt', did you mean 'print'?\n"
			    "    prnt x;\n"
			    "    ^~~~\n") &&
	       diag_text_is("trace f {\n\tif a {\n\t\tx = 1;\n\t}\n}", "probe.gs",
			    "error: probe.gs:3:3: cannot assign to 'x': variables are immutable; use 'let x = ...' to bind a new script variable\n"
			    "\t\tx = 1;\n"
			    "\t\t^~~\n");
}

/* --- keywords and statements --- */

bool test_parser_errors__unknown_keyword(void)
{
	return error_is("trace f { prnt x; }", 1, 11, "unknown keyword 'prnt', did you mean 'print'?") &&
	       error_is("trace f { pritn x; }", 1, 11, "unknown keyword 'pritn', did you mean 'print'?") &&
	       error_is("trace f { prt x; }", 1, 11, "unknown keyword 'prt', did you mean 'print'?") &&
	       error_is("trace f { lte x = 1; }", 1, 11, "unknown keyword 'lte', did you mean 'let'?") &&
	       error_is("trace f { fi x { } }", 1, 11, "unknown keyword 'fi', did you mean 'if'?") &&
	       error_is("trace f { bactrace; }", 1, 11, "unknown keyword 'bactrace', did you mean 'backtrace'?") &&
	       error_is("trace f { if a { } eles { } }", 1, 20, "unknown keyword 'eles', did you mean 'else'?") &&
	       error_is("trce f { }", 1, 1, "unknown keyword 'trce', did you mean 'trace'?") &&
	       error_is("\n  trc f { }", 2, 3, "unknown keyword 'trc', did you mean 'trace'?");
}

bool test_parser_errors__not_a_statement(void)
{
	return error_is("trace f { foo; }", 1, 11, "expected a statement (print, if, let, bt), got 'foo'") &&
	       error_is("trace f { pid; }", 1, 11, "expected a statement (print, if, let, bt), got 'pid'") &&
	       error_is("trace f { 1; }", 1, 11, "expected a statement (print, if, let, bt), got '1'") &&
	       error_is("trace f { { } }", 1, 11, "expected a statement (print, if, let, bt), got '{'");
}

bool test_parser_errors__assignment(void)
{
	return error_is("trace f { x = 1; }", 1, 11,
			"cannot assign to 'x': variables are immutable; use 'let x = ...' to bind a new script variable") &&
	       error_is("trace f { let x = 1; x = 2; }", 1, 22,
			"cannot assign to 'x': script variables are immutable; bind a new name with 'let'") &&
	       error_is("trace f { if x = 1 { } }", 1, 16,
			"unexpected '=': compare with '=='; variables are immutable (bind new ones with 'let')") &&
	       error_is("trace f { print a = 1; }", 1, 19,
			"unexpected '=': compare with '=='; variables are immutable (bind new ones with 'let')");
}

bool test_parser_errors__let_redeclared(void)
{
	return error_is("trace f { let a = 1; let a = 2; }", 1, 26,
			"'a' is already declared at 1:15; variables are immutable, pick another name") &&
	       error_is("trace f {\n let a = 1;\n if x {\n  let a = 2;\n }\n}", 4, 7,
			"'a' shadows the variable declared at 2:6; pick another name") &&
	       error_is("trace f { let a = 1; if x { } else if y { if z { let a = 2; } } }", 1, 54,
			"'a' shadows the variable declared at 1:15; pick another name");
}

bool test_parser_errors__let_outside_block(void)
{
	return error_is("trace f { if x { let a = 1; } print a; }", 1, 37,
			"'a' is not in scope here: it was declared at 1:22 in a block that has ended") &&
	       error_is("trace f { if x { let a = 1; } else { print a; } }", 1, 44,
			"'a' is not in scope here: it was declared at 1:22 in a block that has ended") &&
	       error_is("trace f { if x { let a = 1; } if a { } }", 1, 34,
			"'a' is not in scope here: it was declared at 1:22 in a block that has ended") &&
	       error_is("trace f { if x { let len = 1; } print \"{:s.len$}\", p; }", 1, 44,
			"'len' is not in scope here: it was declared at 1:22 in a block that has ended");
}

bool test_parser_errors__let_syntax(void)
{
	return error_is("trace f { let = 1; }", 1, 15, "expected a variable name after 'let', got '='") &&
	       error_is("trace f { let 1 = 1; }", 1, 15, "expected a variable name after 'let', got '1'") &&
	       error_is("trace f { let a::b = 1; }", 1, 15, "expected a variable name after 'let', got 'a::b'") &&
	       error_is("trace f { let true = 1; }", 1, 15, "'true' is a keyword and cannot name a variable") &&
	       error_is("trace f { let print = 1; }", 1, 15, "'print' is a keyword and cannot name a variable") &&
	       error_is("trace f { let x 1; }", 1, 17, "expected '=' after 'let x', got '1'") &&
	       error_is("trace f { let x = 1 }", 1, 21, "expected ';' after the let statement, got '}'") &&
	       error_is("trace f { let x == 1; }", 1, 17, "expected '=' after 'let x', got '=='");
}

bool test_parser_errors__print_syntax(void)
{
	return error_is("trace f { print; }", 1, 16, "expected an expression or a format string after 'print'") &&
	       error_is("trace f { print x }", 1, 19, "expected ';' after the print statement, got '}'") &&
	       error_is("trace f { print a, b; }", 1, 18,
			"to print several values start with a format string: print \"{} {}\", a, b") &&
	       error_is("trace f { print \"{}\" a; }", 1, 22, "expected ',' or ';' in 'print', got 'a'") &&
	       error_is("trace f { print \"{}\", ; }", 1, 23, "expected an expression, got ';'");
}

bool test_parser_errors__if_syntax(void)
{
	return error_is("trace f { if { } }", 1, 14, "expected an expression, got '{'") &&
	       error_is("trace f { if a print 1; }", 1, 16, "expected '{' after the 'if' condition, got 'print'") &&
	       error_is("trace f { if a { } else print 1; }", 1, 25, "expected '{' or 'if' after 'else', got 'print'") &&
	       error_is("trace f { else { } }", 1, 11, "'else' without a preceding 'if'");
}

bool test_parser_errors__bt_syntax(void)
{
	return error_is("trace f { bt foo; }", 1, 14, "unknown backtrace option 'foo'; expected 'raw' or 'noinline'") &&
	       error_is("trace f { bt raw raw; }", 1, 18, "backtrace option 'raw' given twice") &&
	       error_is("trace f { bt 3; }", 1, 14, "expected ';' after the backtrace statement, got '3'") &&
	       error_is("trace f { bt }", 1, 14, "expected ';' after the backtrace statement, got '}'");
}

/* --- blocks and top level --- */

bool test_parser_errors__top_level(void)
{
	return error_is("", 1, 1, "the script has no trace blocks; write 'trace FUNCTION { print ...; }'") &&
	       error_is("// nothing\n", 2, 1, "the script has no trace blocks; write 'trace FUNCTION { print ...; }'") &&
	       error_is("print x;", 1, 1, "'print' must be inside a 'trace PATTERN { ... }' block") &&
	       error_is("trace f { } let x = 1;", 1, 13, "'let' must be inside a 'trace PATTERN { ... }' block") &&
	       error_is("trace f { } }", 1, 13, "expected 'trace PATTERN { ... }', got '}'") &&
	       error_is("foo", 1, 1, "expected 'trace PATTERN { ... }', got 'foo'");
}

bool test_parser_errors__blocks(void)
{
	return error_is("trace f { trace g { } }", 1, 11, "trace blocks do not nest; close this one with '}' first") &&
	       error_is("trace f {\n print x;\n", 3, 1,
			"expected '}' to close the block opened at 1:9, got end of input") &&
	       error_is("trace f { if a {\n}", 2, 2,
			"expected '}' to close the block opened at 1:9, got end of input") &&
	       error_is("trace f print x;", 1, 9, "expected '{' after the probe pattern, got 'print'") &&
	       error_is("trace f;", 1, 8, "expected '{' after the probe pattern, got ';'") &&
	       error_is("trace f", 1, 8, "expected '{' after the probe pattern, got end of input");
}

/* --- probe patterns --- */

bool test_parser_errors__patterns(void)
{
	return error_is("trace { }", 1, 7,
			"expected a probe pattern after 'trace' (a function, FILE:LINE, 0xADDR or MODULE:0xADDR)") &&
	       error_is("trace", 1, 6,
			"expected a probe pattern after 'trace' (a function, FILE:LINE, 0xADDR or MODULE:0xADDR)") &&
	       error_is("trace shop.c { }", 1, 7, "invalid function name 'shop.c'; for a source line write FILE:LINE") &&
	       error_is("trace a-b { }", 1, 7, "invalid function name 'a-b'") &&
	       error_is("trace f:foo { }", 1, 8, "invalid probe suffix ':foo'; expected ':return', ':LINE' or ':0xADDR'") &&
	       error_is("trace f: { }", 1, 8, "invalid probe suffix ':'; expected ':return', ':LINE' or ':0xADDR'") &&
	       error_is("trace :12 { }", 1, 7, "expected a function, file or module before ':'") &&
	       error_is("trace 123 { }", 1, 7, "invalid probe pattern '123'; write addresses in hex (0x...)") &&
	       error_is("trace 0xzz { }", 1, 7, "invalid address '0xzz'") &&
	       error_is("trace lib.so:0xg1 { }", 1, 14, "invalid address '0xg1'") &&
	       error_is("trace a?b.c:12 { }", 1, 8, "invalid character '?' in file name 'a?b.c'") &&
	       error_is("trace l@b.so:0x10 { }", 1, 8, "invalid character '@' in module name 'l@b.so'") &&
	       error_is("trace a.c:0 { }", 1, 11, "invalid line number '0'") &&
	       error_is("trace a.c:12x { }", 1, 11, "invalid line number '12x'") &&
	       error_is("trace a.c:99999999999 { }", 1, 11, "invalid line number '99999999999'") &&
	       error_is("trace 1f:return { }", 1, 7, "invalid function name '1f'") &&
	       error_is("trace ns:::f { }", 1, 7, "invalid function name 'ns:::f'");
}

/* --- expressions --- */

bool test_parser_errors__integers(void)
{
	return error_is("trace f { print 9223372036854775808; }", 1, 17,
			"integer literal '9223372036854775808' is out of range for a signed 64-bit integer") &&
	       error_is("trace f { print -9223372036854775809; }", 1, 18,
			"integer literal '9223372036854775809' is out of range for a signed 64-bit integer") &&
	       error_is("trace f { print 0xffffffffffffffff; }", 1, 17,
			"integer literal '0xffffffffffffffff' is out of range for a signed 64-bit integer") &&
	       error_is("trace f { print 18446744073709551616; }", 1, 17,
			"integer literal '18446744073709551616' does not fit in 64 bits") &&
	       error_is("trace f { print 017; }", 1, 17,
			"leading zeros are not allowed in '017'; write octal as 0o...") &&
	       error_is("trace f { print 0b102; }", 1, 17, "invalid integer literal '0b102'");
}

bool test_parser_errors__expression_syntax(void)
{
	return error_is("trace f { print a +; }", 1, 20, "expected an expression, got ';'") &&
	       error_is("trace f { print (a + b; }", 1, 23, "expected ')' to close the '(' at 1:17, got ';'") &&
	       error_is("trace f { print a[1; }", 1, 20, "expected ']' to close the '[' at 1:18, got ';'") &&
	       error_is("trace f { print a.; }", 1, 19, "expected a field name after '.', got ';'") &&
	       error_is("trace f { print a.1; }", 1, 19, "expected a field name after '.', got '1'") &&
	       error_is("trace f { print a->b; }", 1, 18, "'->' is not needed: '.' dereferences pointers automatically") &&
	       error_is("trace f { print if; }", 1, 17, "expected an expression, got keyword 'if'") &&
	       error_is("trace f { print a ? b : c; }", 1, 19, "unexpected character '?'") &&
	       error_is("trace f { print \"abc; }", 1, 17, "unterminated string literal") &&
	       error_is("trace f { print \"\\q\"; }", 1, 18, "invalid escape '\\q' in string literal") &&
	       error_is("trace f { /* x", 1, 11, "unterminated comment");
}

bool test_parser_errors__specials(void)
{
	return error_is("trace f { print $pdi; }", 1, 17, "unknown special variable '$pdi', did you mean '$pid'?") &&
	       error_is("trace f { print $ret; }", 1, 17, "unknown special variable '$ret', did you mean '$retval'?") &&
	       error_is("trace f { print $foo; }", 1, 17,
			"unknown special variable '$foo'; known: $pid, $tid, $host_pid, $timestamp, $pc, $sp, $comm, $retval") &&
	       error_is("trace f { print $retval; }", 1, 17,
			"'$retval' is only available in return probes (trace FUNCTION:return)") &&
	       error_is("trace f:return { } trace f { print $retval; }", 1, 36,
			"'$retval' is only available in return probes (trace FUNCTION:return)");
}

bool test_parser_errors__builtins(void)
{
	return error_is("trace f { print strcmp(a, \"x\"); }", 1, 17, "unknown builtin 'strcmp', did you mean 'strncmp'?") &&
	       error_is("trace f { print startswith(a, \"x\"); }", 1, 17,
			"unknown builtin 'startswith', did you mean 'starts_with'?") &&
	       error_is("trace f { print foo(1); }", 1, 17,
			"unknown builtin 'foo'; builtins are strncmp, starts_with, memcmp, hex and cast") &&
	       error_is("trace f { print a.b(1); }", 1, 20,
			"only builtins can be called (strncmp, starts_with, memcmp, hex, cast)") &&
	       error_is("trace f { print strncmp(a, \"x\" 1); }", 1, 32,
			"expected ',' or ')' in the arguments of 'strncmp', got '1'");
}

bool test_parser_errors__builtin_arity(void)
{
	return error_is("trace f { print strncmp(a, \"x\"); }", 1, 17, "'strncmp' takes 3 arguments, got 2") &&
	       error_is("trace f { print starts_with(a); }", 1, 17, "'starts_with' takes 2 arguments, got 1") &&
	       error_is("trace f { print memcmp(a); }", 1, 17, "'memcmp' takes 2 or 3 arguments, got 1") &&
	       error_is("trace f { print memcmp(a, b, 1, 2); }", 1, 17, "'memcmp' takes 2 or 3 arguments, got 4") &&
	       error_is("trace f { print cast(a); }", 1, 17, "'cast' takes 2 arguments, got 1") &&
	       error_is("trace f { print cast(); }", 1, 17, "'cast' takes 2 arguments, got 0");
}

bool test_parser_errors__builtin_operands(void)
{
	return error_is("trace f { print starts_with(a, b); }", 1, 32,
			"'starts_with' needs a string literal as its second argument") &&
	       error_is("trace f { print memcmp(a, b); }", 1, 17,
			"'memcmp' without a length needs a hex(...) operand; pass the length as a third argument") &&
	       error_is("trace f { print cast(a, b); }", 1, 25,
			"'cast' needs the type as a string literal, e.g. cast(p, \"struct req *\")") &&
	       error_is("trace f { print cast(a, \"\\x41\"); }", 1, 25,
			"escapes are not allowed in a cast's type string");
}

bool test_parser_errors__hex(void)
{
	return error_is("trace f { print hex(\"00\"); }", 1, 17, "'hex(...)' is only allowed as an operand of 'memcmp'") &&
	       error_is("trace f { print memcmp(a, hex(\"DE AD BEE\")); }", 1, 38, "odd number of hex digits in 'BEE'") &&
	       error_is("trace f { print memcmp(a, hex(\"DE AG\")); }", 1, 36, "invalid character 'G' in hex literal") &&
	       error_is("trace f { print memcmp(a, hex(\"  \")); }", 1, 31, "hex literal has no bytes") &&
	       error_is("trace f { print memcmp(a, hex(x)); }", 1, 31,
			"'hex' takes one string literal of hex bytes, e.g. hex(\"DE AD be ef\")") &&
	       error_is("trace f { print memcmp(a, hex(\"00\" 1)); }", 1, 36, "expected ')' to close 'hex(', got '1'") &&
	       error_is("trace f { print memcmp(a, hex(\"00\") + 1); }", 1, 37,
			"expected ',' or ')' in the arguments of 'memcmp', got '+'");
}

bool test_parser_errors__cast_types(void)
{
	return error_is("trace f { print cast(a, \"\"); }", 1, 26, "expected a type name in the cast, e.g. \"struct req *\"") &&
	       error_is("trace f { print cast(a, \"*\"); }", 1, 26, "expected a type name in the cast, e.g. \"struct req *\"") &&
	       error_is("trace f { print cast(a, \"struct foo bar\"); }", 1, 33, "invalid type name 'foo bar'") &&
	       error_is("trace f { print cast(a, \"foo bar\"); }", 1, 26, "invalid type name 'foo bar'") &&
	       error_is("trace f { print cast(a, \"int[0]\"); }", 1, 30, "array dimension must be a positive integer, got '0'") &&
	       error_is("trace f { print cast(a, \"int[]\"); }", 1, 30, "array dimension must be a positive integer, got ''") &&
	       error_is("trace f { print cast(a, \"int[2\"); }", 1, 29, "unterminated '[' in type") &&
	       error_is("trace f { print cast(a, \"int[2]*\"); }", 1, 32, "unexpected '*' in type 'int[2]*'") &&
	       error_is("trace f { print cast(a, \"int &\"); }", 1, 30, "unexpected '&' in type 'int &'");
}

/* --- format strings --- */

bool test_parser_errors__fmt_arg_count(void)
{
	return error_is("trace f { print \"{} {}\", a; }", 1, 21,
			"placeholder '{}' has no argument: the format string takes 2, got 1") &&
	       error_is("trace f { print \"x={}\"; }", 1, 20,
			"placeholder '{}' has no argument: the format string takes 1, got 0") &&
	       error_is("trace f { print \"{:x.*}\", n; }", 1, 18,
			"placeholder '{:x.*}' has no argument: the format string takes 2, got 1") &&
	       error_is("trace f { print \"{}\", a, b; }", 1, 26, "too many arguments: the format string takes 1, got 2") &&
	       error_is("trace f { print \"hi\", a + 1; }", 1, 23, "too many arguments: the format string takes 0, got 1") &&
	       error_is("trace f { print \"{:s.*}\", n, p, q; }", 1, 33,
			"too many arguments: the format string takes 2, got 3");
}

bool test_parser_errors__fmt_syntax(void)
{
	return error_is("trace f { print \"{:q}\", a; }", 1, 18,
			"invalid placeholder '{:q}'; expected {}, {:x}, {:X}, {:p}, {:s}, or a memory dump {:x.N}, {:s.N}, {:x.*}, {:s.NAME$}") &&
	       error_is("trace f { print \"a{x}\", a; }", 1, 19,
			"invalid placeholder '{x}'; expected {}, {:x}, {:X}, {:p}, {:s}, or a memory dump {:x.N}, {:s.N}, {:x.*}, {:s.NAME$}") &&
	       error_is("trace f { print \"{:xx}\", a; }", 1, 18,
			"invalid placeholder '{:xx}'; expected {}, {:x}, {:X}, {:p}, {:s}, or a memory dump {:x.N}, {:s.N}, {:x.*}, {:s.NAME$}") &&
	       error_is("trace f { print \"{:p.4}\", a; }", 1, 18,
			"'{:p}' takes no length; expected {}, {:x}, {:X}, {:p}, {:s}, or a memory dump {:x.N}, {:s.N}, {:x.*}, {:s.NAME$}") &&
	       error_is("trace f { print \"a } b\"; }", 1, 20, "unmatched '}' in format string; write '}}' for a literal brace") &&
	       error_is("trace f { print \"a { b\"; }", 1, 20,
			"unterminated placeholder in format string; write '{{' for a literal brace") &&
	       error_is("trace f { print \"{{{\"; }", 1, 20,
			"unterminated placeholder in format string; write '{{' for a literal brace");
}

bool test_parser_errors__fmt_lengths(void)
{
	return error_is("trace f { print \"{:x.0}\", a; }", 1, 22,
			"invalid memory dump length '0'; expected a positive integer, '*' or NAME$") &&
	       error_is("trace f { print \"{:s.}\", a; }", 1, 22,
			"invalid memory dump length ''; expected a positive integer, '*' or NAME$") &&
	       error_is("trace f { print \"{:x.1z}\", a; }", 1, 22,
			"invalid memory dump length '1z'; expected a positive integer, '*' or NAME$") &&
	       error_is("trace f { print \"{:x.0x100000000}\", a; }", 1, 22,
			"invalid memory dump length '0x100000000'; expected a positive integer, '*' or NAME$") &&
	       error_is("trace f { print \"{:s.len$}\", a; }", 1, 22,
			"'len' is not a script variable; '{:s.NAME$}' takes its length from a 'let'") &&
	       error_is("trace f { print \"\\n{:x.n$}\", a; }", 1, 24,
			"'n' is not a script variable; '{:x.NAME$}' takes its length from a 'let'");
}

bool test_parser_errors__crlf_source_line(void)
{
	return diag_text_is("trace f {\r\n  prnt a;\r\n}", "-s",
			    "error: -s:2:3: unknown keyword 'prnt', did you mean 'print'?\n"
			    "  prnt a;\n"
			    "  ^~~~\n");
}

bool test_parser_errors__line_and_column_on_later_lines(void)
{
	return error_is("trace f {\n  print a;\n}\ntrace g {\n  print \"{}\";\n}", 5, 10,
			"placeholder '{}' has no argument: the format string takes 1, got 0") &&
	       error_is("trace f {\r\n  prnt a;\r\n}", 2, 3, "unknown keyword 'prnt', did you mean 'print'?");
}

bool test_parser_errors__nesting_limits(void)
{
	char src[4096];
	size_t n = 0;
	bool ok;

	n += (size_t)snprintf(src + n, sizeof(src) - n, "trace f { print ");
	for (int i = 0; i < 300; i++)
		src[n++] = '(';
	snprintf(src + n, sizeof(src) - n, "x; }");
	ok = error_is(src, 1, 273, "expression is nested too deeply (more than 256 levels)");
	n = (size_t)snprintf(src, sizeof(src), "trace f ");
	for (int i = 0; i < 300; i++)
		n += (size_t)snprintf(src + n, sizeof(src) - n, "{if a");
	return ok && error_is(src, 1, 1289, "blocks are nested too deeply (more than 256 levels)");
}

bool test_parser_errors__statement_size_limit(void)
{
	size_t cap = 64 + 4 * 10001, n;
	char *src = malloc(cap);
	bool ok;

	ASSERT_TRUE(src);
	n = (size_t)snprintf(src, cap, "trace f { print a");
	for (int i = 0; i < 5000; i++)
		n += (size_t)snprintf(src + n, cap - n, "+a");
	snprintf(src + n, cap - n, "; print a; }");
	ok = error_is(src, 1, 10018, "statement is too long (more than 10000 expression nodes)");
	free(src);
	return ok;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The script parser: source text in, a checked AST (ast.h) or one diagnostic out.
 *
 * It is a hand-written recursive-descent parser with one token of lookahead and
 * precedence climbing for binary operators. Parsing stops at the first error:
 * later errors are often caused by the first, and the user fixes one thing at a time.
 *
 * Checks done here, because they need no debug info: the grammar; unknown keywords
 * (with the closest one suggested); assignment ("x = 1": variables are immutable);
 * `let` redeclaration, shadowing, and use outside the declaring block; unknown special
 * variables, `$retval` outside a return probe; unknown builtins and wrong arities;
 * `starts_with` without a literal, `memcmp` without a length or hex operand;
 * `hex(...)` contents; cast type strings; format strings against their argument
 * counts and `{:s.name$}` variables; integer literals that do not fit in i64; probe
 * pattern shape. Everything about names in the target is left to the planner.
 * docs/scripting.md lists the language as implemented.
 */
#ifndef GS_TRACER_PARSER_H
#define GS_TRACER_PARSER_H

#include <stddef.h>

#include "tracer/ast.h"
#include "tracer/diag.h"

/*
 * Parses @len bytes of @src (need not be NUL-terminated). @origin names the script in
 * messages: the file name, or "-s" for --script text.
 *
 * On success returns 0 and sets *@script_ret to a new script with at least one trace
 * block; the caller frees it with gs_script_free(). The script keeps its own copy of
 * the source and origin.
 * On failure sets *@script_ret to NULL and returns -EINVAL for a script error (the
 * error is recorded in @diag_ret, which the caller initialized with gs_diag_init() and
 * prints with gs_diag_print()), -E2BIG for a source of 4 GiB or more (also recorded),
 * or -ENOMEM (the diag may be left unset). @diag_ret may be NULL.
 */
int gs_script_parse(const char *src, size_t len, const char *origin,
		    struct gs_script **script_ret, struct gs_diag *diag_ret);

/*
 * Records an error about the script text at @span in @diag (see gs_diag_set), for the
 * planner and the code generator: "unknown variable 'x'" at the identifier.
 * Returns -EINVAL when recorded (or the diag was already set), -ENOMEM otherwise,
 * so callers can `return gs_script_error(...)`.
 */
int gs_script_error(const struct gs_script *s, const struct gs_span *span,
		    struct gs_diag *diag, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif /* GS_TRACER_PARSER_H */

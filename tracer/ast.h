/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The script AST: what the parser (parser.c) hands the planner (plan.c).
 *
 * A script is a list of trace blocks; each has a probe pattern and a block of
 * statements. The parser has already checked everything that needs no debug info:
 * syntax, format strings against their argument counts, builtin names and arities,
 * `hex()` literals, cast type strings, special variable names, and script variable
 * (`let`) scoping. Every identifier that names a `let` points at its declaring
 * statement (gs_expr.let); every other identifier is left for the planner to look up
 * among the parameters, locals and globals of the probe.
 *
 * The structs are plain on purpose: a kind, the fields that kind uses (documented per
 * field), children as arrays with counts. Every node carries its source span; the text
 * of any node is gs_script.src[span.start, span.end), which is how `print EXPR;`
 * renders "<expr as written> = <value>".
 *
 * Ownership: every node, string and array hangs off the gs_script's arena and lives
 * until gs_script_free(). Nothing in the tree is freed or modified on its own; the
 * planner treats the whole tree as read-only. Strings are NUL-terminated (gs_expr.str
 * of a string literal may also contain NULs inside, see str_len).
 */
#ifndef GS_TRACER_AST_H
#define GS_TRACER_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A piece of the script: bytes [start, end) of gs_script.src, starting at line:col. */
struct gs_span {
	uint32_t start, end;
	uint32_t line, col;	/* 1-based; col counts bytes */
};

enum gs_pattern_kind {
	GS_PAT_FUNC,		/* checkout, ns::Class::method: func */
	GS_PAT_FUNC_RETURN,	/* checkout:return: func */
	GS_PAT_LINE,		/* shop.c:33, src/a/b.c:12: file, line */
	GS_PAT_ADDR,		/* 0x1189 (module-relative vaddr): addr */
	GS_PAT_MODULE_ADDR,	/* libshop.so:0x2040, /usr/lib/x.so:0x10: module, addr */
};

struct gs_pattern {
	enum gs_pattern_kind kind;
	const char *text;	/* the whole pattern as written */
	const char *func;	/* FUNC, FUNC_RETURN: name as written, may contain "::" */
	bool glob;		/* FUNC, FUNC_RETURN: func has shell wildcards '*' '?' */
	const char *file;	/* LINE: path or suffix as written */
	uint32_t line;		/* LINE: >= 1 */
	const char *module;	/* MODULE_ADDR: full path or suffix as written */
	uint64_t addr;		/* ADDR, MODULE_ADDR */
	struct gs_span span;
};

enum gs_special {
	GS_SP_PID, GS_SP_TID, GS_SP_HOST_PID, GS_SP_TIMESTAMP, GS_SP_PC, GS_SP_SP,
	GS_SP_COMM,
	GS_SP_RETVAL,		/* only in FUNC_RETURN traces (checked by the parser) */
};

enum gs_unop {
	GS_UN_DEREF,		/* *a */
	GS_UN_ADDR,		/* &a */
	GS_UN_NEG,		/* -a (a minus sign before an integer literal is folded into it) */
	GS_UN_LNOT,		/* !a */
	GS_UN_BNOT,		/* ~a */
};

/* In order of increasing precedence groups (see LANGUAGE.md). */
enum gs_binop {
	GS_BIN_LOR, GS_BIN_LAND,	/* short-circuit */
	GS_BIN_BOR, GS_BIN_BXOR, GS_BIN_BAND,
	GS_BIN_EQ, GS_BIN_NE,
	GS_BIN_LT, GS_BIN_LE, GS_BIN_GT, GS_BIN_GE,
	GS_BIN_SHL, GS_BIN_SHR,
	GS_BIN_ADD, GS_BIN_SUB,
	GS_BIN_MUL, GS_BIN_DIV, GS_BIN_MOD,
};

enum gs_builtin {
	GS_BI_STRNCMP,		/* strncmp(a, b, n): 3 args */
	GS_BI_STARTS_WITH,	/* starts_with(a, "lit"): args[1] is a GS_E_STR */
	GS_BI_MEMCMP,		/* memcmp(a, b[, len]): with 2 args one of them is GS_E_HEX */
};

enum gs_expr_kind {
	GS_E_INT,		/* ival */
	GS_E_STR,		/* str, str_len: decoded bytes (escapes applied) */
	GS_E_BOOL,		/* bval */
	GS_E_IDENT,		/* str: name (C++ names keep "::"); let: binding or NULL */
	GS_E_SPECIAL,		/* special */
	GS_E_MEMBER,		/* a.str (auto-dereferences pointers) */
	GS_E_INDEX,		/* a[b] */
	GS_E_UNARY,		/* unop a */
	GS_E_BINARY,		/* a binop b */
	GS_E_CALL,		/* builtin(args[0..arg_cnt)) */
	GS_E_HEX,		/* hex("DE AD"): bytes, byte_cnt (>= 1); only a memcmp operand */
	GS_E_CAST,		/* cast(a, "TYPE"): type; str: the type string as written */
};

enum gs_type_tag { GS_TAG_PLAIN, GS_TAG_STRUCT, GS_TAG_UNION, GS_TAG_ENUM };

/*
 * A cast's type string, parsed: [struct|union|enum] NAME {*} {[N]}. NAME is one word
 * (a C++ name may contain "::") or several C base-type words ("unsigned long",
 * "long unsigned int") joined by single spaces in the order written; const and
 * volatile are dropped. As in a C declaration, dims apply last: "char *[4]" is an
 * array of 4 char pointers, "int[2][3]" an array of 2 arrays of 3 ints (dims {2, 3}).
 */
struct gs_type_expr {
	enum gs_type_tag tag;
	const char *name;
	unsigned int ptr_depth;
	const uint64_t *dims;	/* outermost first, each >= 1 */
	size_t dim_cnt;
};

struct gs_stmt;

struct gs_expr {
	enum gs_expr_kind kind;
	struct gs_span span;	/* for a parenthesized expression, includes the parens */
	int64_t ival;
	bool bval;
	const char *str;
	size_t str_len;
	enum gs_special special;
	enum gs_unop unop;
	enum gs_binop binop;
	struct gs_expr *a, *b;
	enum gs_builtin builtin;
	struct gs_expr **args;
	size_t arg_cnt;
	const uint8_t *bytes;
	size_t byte_cnt;
	const struct gs_type_expr *type;
	const struct gs_stmt *let;	/* GS_E_IDENT naming a script variable: its GS_S_LET */
};

enum gs_fmt_conv {
	GS_FMT_LIT,		/* literal text, not a placeholder */
	GS_FMT_DEFAULT,		/* {}: by type */
	GS_FMT_HEX,		/* {:x} */
	GS_FMT_HEX_UPPER,	/* {:X} */
	GS_FMT_PTR,		/* {:p} */
	GS_FMT_STR,		/* {:s} */
};

enum gs_fmt_len {
	GS_FMT_LEN_NONE,	/* not a memory dump */
	GS_FMT_LEN_CONST,	/* {:x.N}: len */
	GS_FMT_LEN_STAR,	/* {:x.*}: length from args[len_arg], value from args[arg] */
	GS_FMT_LEN_VAR,		/* {:s.name$}: length from the script variable len_let */
};

/* One piece of a format string. Only HEX, HEX_UPPER and STR take a length. */
struct gs_fmt_part {
	enum gs_fmt_conv conv;
	const char *text;	/* LIT: decoded text ("{{" is "{"), text_len bytes */
	size_t text_len;
	enum gs_fmt_len len_kind;
	uint64_t len;		/* LEN_CONST: >= 1 */
	const struct gs_stmt *len_let;	/* LEN_VAR: the GS_S_LET of the variable */
	size_t arg;		/* placeholders: index in gs_stmt.args of the value */
	size_t len_arg;		/* LEN_STAR: index of the length (arg - 1) */
	struct gs_span span;	/* placeholder or literal text inside the string */
};

struct gs_block {
	struct gs_stmt **stmts;
	size_t stmt_cnt;
	struct gs_span span;	/* from '{' to '}' */
};

/* `if cond { body }` or one `else if cond { body }` of a chain. */
struct gs_if_arm {
	struct gs_expr *cond;
	struct gs_block body;
};

enum gs_stmt_kind {
	GS_S_PRINT,		/* print "fmt", args...: parts, args (print "lit" has no args) */
	GS_S_PRINT_EXPR,	/* print EXPR: expr, expr_text */
	GS_S_IF,		/* arms (if, else if...), else_body or NULL */
	GS_S_LET,		/* let name = expr */
	GS_S_BT,		/* bt / backtrace [raw] [noinline] */
};

struct gs_stmt {
	enum gs_stmt_kind kind;
	struct gs_span span;	/* from the keyword to the ';' or closing '}' */
	/* GS_S_PRINT */
	struct gs_fmt_part *parts;
	size_t part_cnt;
	struct gs_expr **args;
	size_t arg_cnt;
	struct gs_span fmt_span; /* the format string literal, quotes included */
	/* GS_S_PRINT_EXPR and GS_S_LET */
	struct gs_expr *expr;
	const char *expr_text;	/* PRINT_EXPR: the source text of expr, exactly as written */
	/* GS_S_IF */
	struct gs_if_arm *arms;	/* arm_cnt >= 1 */
	size_t arm_cnt;
	struct gs_block *else_body;
	/* GS_S_LET */
	const char *name;
	struct gs_span name_span;
	/* GS_S_BT */
	bool bt_raw, bt_noinline;
};

struct gs_trace {
	struct gs_pattern pattern;
	struct gs_block body;
	struct gs_span span;	/* from 'trace' to the closing '}' */
	size_t index;		/* 0-based position in the script */
};

struct gs_script {
	const char *origin;	/* file name or "-s" */
	const char *src;	/* a copy of the source, NUL-terminated */
	size_t len;
	struct gs_trace **traces;
	size_t trace_cnt;	/* >= 1 after a successful parse */
	void *arena;		/* private */
};

/*
 * Lifecycle. gs_script_new() copies @src (@len bytes) and @origin; returns NULL with
 * errno = ENOMEM. gs_script_free() frees the whole tree; accepts NULL and scripts
 * abandoned half-built by a failed parse.
 */
struct gs_script *gs_script_new(const char *src, size_t len, const char *origin);
void gs_script_free(struct gs_script *s);

/*
 * Node constructors for the parser: zeroed nodes from the script's arena. They
 * return NULL only when memory runs out (errno = ENOMEM).
 */
void *gs_ast_alloc(struct gs_script *s, size_t size);
char *gs_ast_strndup(struct gs_script *s, const char *p, size_t n);
struct gs_expr *gs_ast_expr_new(struct gs_script *s, enum gs_expr_kind kind,
				const struct gs_span *span);
struct gs_stmt *gs_ast_stmt_new(struct gs_script *s, enum gs_stmt_kind kind,
				const struct gs_span *span);
/*
 * Grows the array *@arr of *@cnt elements of @elem_size bytes by one zeroed element
 * and returns it (capacity doubles at powers of two; old copies stay in the arena).
 * Returns NULL when memory runs out; *@arr and *@cnt are then unchanged.
 */
void *gs_ast_push(struct gs_script *s, void *arr, size_t *cnt, size_t elem_size);

/*
 * Canonical text for tests and --dry-run: one line per trace and statement, indented
 * two spaces per level, expressions as S-expressions, e.g.
 *   trace (func checkout)
 *     print (fmt "order " {} " for " {}) (. o id) (. (. o cust) name)
 *     if (&& (> qty 2) (starts_with coupon "HALF"))
 *       print (fmt "discount")
 *     else
 *       print (fmt "full price")
 *     let t (* ([] (. o items) 0) qty)
 *     print-expr "t" (var t)
 * Identifiers are bare, script variables (var NAME), specials $name, strings quoted
 * with C escapes. malloc'd, the caller frees; NULL with errno = ENOMEM.
 */
char *gs_script_dump(const struct gs_script *s);
char *gs_expr_dump(const struct gs_expr *e);
/* The type of a cast in canonical C spelling: "struct req*", "unsigned long[2][3]". */
char *gs_type_expr_dump(const struct gs_type_expr *t);

const char *gs_special_name(enum gs_special sp);	/* "$pid"... */
const char *gs_binop_name(enum gs_binop op);	/* "+", "&&"... */
const char *gs_unop_name(enum gs_unop op);	/* "*", "&", "-", "!", "~" */
const char *gs_builtin_name(enum gs_builtin bi);	/* "strncmp"... */

#endif /* GS_TRACER_AST_H */

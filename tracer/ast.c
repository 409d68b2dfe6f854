// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The script AST: an arena that owns every node, the node constructors the parser
 * uses, and the canonical dump that tests compare against.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tracer/ast.h"

/* Chunks are chained; a script is small, so chunk size only matters for big inputs. */
struct arena_chunk {
	struct arena_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

#define ARENA_CHUNK_MIN 16384

static void *arena_alloc(struct arena_chunk **head, size_t size)
{
	struct arena_chunk *c = *head;
	size_t need = (size + _Alignof(max_align_t) - 1) & ~(_Alignof(max_align_t) - 1);
	void *p;

	if (need < size) {
		errno = ENOMEM;
		return NULL;
	}
	if (!c || c->cap - c->used < need) {
		size_t cap = need > ARENA_CHUNK_MIN ? need : ARENA_CHUNK_MIN;

		c = calloc(1, sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->cap = cap;
		c->next = *head;
		*head = c;
	}
	p = (char *)c->data + c->used;
	c->used += need;
	memset(p, 0, size);
	return p;
}

struct gs_script *gs_script_new(const char *src, size_t len, const char *origin)
{
	struct arena_chunk *arena = NULL;
	struct gs_script *s;
	char *copy;

	s = arena_alloc(&arena, sizeof(*s));
	if (!s)
		return NULL;
	s->arena = arena;
	copy = gs_ast_strndup(s, src, len);
	if (!copy || !(s->origin = gs_ast_strndup(s, origin ? origin : "-s",
						   strlen(origin ? origin : "-s")))) {
		gs_script_free(s);
		errno = ENOMEM;
		return NULL;
	}
	s->src = copy;
	s->len = len;
	return s;
}

void gs_script_free(struct gs_script *s)
{
	struct arena_chunk *c, *next;

	if (!s)
		return;
	/* The script itself lives in the arena: read the head before freeing. */
	for (c = s->arena; c; c = next) {
		next = c->next;
		free(c);
	}
}

void *gs_ast_alloc(struct gs_script *s, size_t size)
{
	struct arena_chunk *head = s->arena;
	void *p = arena_alloc(&head, size);

	s->arena = head;
	return p;
}

char *gs_ast_strndup(struct gs_script *s, const char *p, size_t n)
{
	char *r;

	if (n == SIZE_MAX) {
		errno = ENOMEM;
		return NULL;
	}
	r = gs_ast_alloc(s, n + 1);
	if (!r)
		return NULL;
	if (n)
		memcpy(r, p, n);
	r[n] = '\0';
	return r;
}

struct gs_expr *gs_ast_expr_new(struct gs_script *s, enum gs_expr_kind kind,
				const struct gs_span *span)
{
	struct gs_expr *e = gs_ast_alloc(s, sizeof(*e));

	if (!e)
		return NULL;
	e->kind = kind;
	e->span = *span;
	return e;
}

struct gs_stmt *gs_ast_stmt_new(struct gs_script *s, enum gs_stmt_kind kind,
				const struct gs_span *span)
{
	struct gs_stmt *st = gs_ast_alloc(s, sizeof(*st));

	if (!st)
		return NULL;
	st->kind = kind;
	st->span = *span;
	return st;
}

void *gs_ast_push(struct gs_script *s, void *arr, size_t *cnt, size_t elem_size)
{
	char **parr = arr;
	size_t n = *cnt;
	char *p = *parr;

	/* Capacity is implicit: the next power of two at or above the count. */
	if (n == 0 || (n & (n - 1)) == 0) {
		size_t cap = n ? n * 2 : 2;
		char *np;

		if (cap < n || (elem_size && cap > SIZE_MAX / elem_size)) {
			errno = ENOMEM;
			return NULL;
		}
		np = gs_ast_alloc(s, cap * elem_size);
		if (!np)
			return NULL;
		if (n)
			memcpy(np, p, n * elem_size);
		p = np;
		*parr = p;
	}
	*cnt = n + 1;
	memset(p + n * elem_size, 0, elem_size);
	return p + n * elem_size;
}

const char *gs_special_name(enum gs_special sp)
{
	static const char *const names[] = {
		[GS_SP_PID] = "$pid", [GS_SP_TID] = "$tid", [GS_SP_HOST_PID] = "$host_pid",
		[GS_SP_TIMESTAMP] = "$timestamp", [GS_SP_PC] = "$pc", [GS_SP_SP] = "$sp",
		[GS_SP_COMM] = "$comm", [GS_SP_RETVAL] = "$retval",
	};

	return (unsigned int)sp < sizeof(names) / sizeof(names[0]) ? names[sp] : "$?";
}

const char *gs_binop_name(enum gs_binop op)
{
	static const char *const names[] = {
		[GS_BIN_LOR] = "||", [GS_BIN_LAND] = "&&", [GS_BIN_BOR] = "|",
		[GS_BIN_BXOR] = "^", [GS_BIN_BAND] = "&", [GS_BIN_EQ] = "==",
		[GS_BIN_NE] = "!=", [GS_BIN_LT] = "<", [GS_BIN_LE] = "<=", [GS_BIN_GT] = ">",
		[GS_BIN_GE] = ">=", [GS_BIN_SHL] = "<<", [GS_BIN_SHR] = ">>",
		[GS_BIN_ADD] = "+", [GS_BIN_SUB] = "-", [GS_BIN_MUL] = "*",
		[GS_BIN_DIV] = "/", [GS_BIN_MOD] = "%",
	};

	return (unsigned int)op < sizeof(names) / sizeof(names[0]) ? names[op] : "?";
}

const char *gs_unop_name(enum gs_unop op)
{
	static const char *const names[] = {
		[GS_UN_DEREF] = "*", [GS_UN_ADDR] = "&", [GS_UN_NEG] = "-",
		[GS_UN_LNOT] = "!", [GS_UN_BNOT] = "~",
	};

	return (unsigned int)op < sizeof(names) / sizeof(names[0]) ? names[op] : "?";
}

const char *gs_builtin_name(enum gs_builtin bi)
{
	static const char *const names[] = {
		[GS_BI_STRNCMP] = "strncmp", [GS_BI_STARTS_WITH] = "starts_with",
		[GS_BI_MEMCMP] = "memcmp",
	};

	return (unsigned int)bi < sizeof(names) / sizeof(names[0]) ? names[bi] : "?";
}

/* --- dump --- */

static void dump_quoted(FILE *f, const char *p, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		switch (c) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\t': fputs("\\t", f); break;
		case '\r': fputs("\\r", f); break;
		default:
			if (c < 0x20 || c >= 0x7f)
				fprintf(f, "\\x%02x", c);
			else
				fputc(c, f);
		}
	}
	fputc('"', f);
}

static void dump_type(FILE *f, const struct gs_type_expr *t)
{
	static const char *const tags[] = {
		[GS_TAG_PLAIN] = "", [GS_TAG_STRUCT] = "struct ",
		[GS_TAG_UNION] = "union ", [GS_TAG_ENUM] = "enum ",
	};

	fprintf(f, "%s%s", tags[t->tag], t->name);
	for (unsigned int i = 0; i < t->ptr_depth; i++)
		fputc('*', f);
	for (size_t i = 0; i < t->dim_cnt; i++)
		fprintf(f, "[%llu]", (unsigned long long)t->dims[i]);
}

static void dump_expr(FILE *f, const struct gs_expr *e)
{
	switch (e->kind) {
	case GS_E_INT:
		fprintf(f, "%lld", (long long)e->ival);
		break;
	case GS_E_STR:
		dump_quoted(f, e->str, e->str_len);
		break;
	case GS_E_BOOL:
		fputs(e->bval ? "true" : "false", f);
		break;
	case GS_E_IDENT:
		if (e->let)
			fprintf(f, "(var %s)", e->str);
		else
			fputs(e->str, f);
		break;
	case GS_E_SPECIAL:
		fputs(gs_special_name(e->special), f);
		break;
	case GS_E_MEMBER:
		fputs("(. ", f);
		dump_expr(f, e->a);
		fprintf(f, " %s)", e->str);
		break;
	case GS_E_INDEX:
		fputs("([] ", f);
		dump_expr(f, e->a);
		fputc(' ', f);
		dump_expr(f, e->b);
		fputc(')', f);
		break;
	case GS_E_UNARY:
		fprintf(f, "(%s ", gs_unop_name(e->unop));
		dump_expr(f, e->a);
		fputc(')', f);
		break;
	case GS_E_BINARY:
		fprintf(f, "(%s ", gs_binop_name(e->binop));
		dump_expr(f, e->a);
		fputc(' ', f);
		dump_expr(f, e->b);
		fputc(')', f);
		break;
	case GS_E_CALL:
		fprintf(f, "(%s", gs_builtin_name(e->builtin));
		for (size_t i = 0; i < e->arg_cnt; i++) {
			fputc(' ', f);
			dump_expr(f, e->args[i]);
		}
		fputc(')', f);
		break;
	case GS_E_HEX:
		fputs("(hex", f);
		for (size_t i = 0; i < e->byte_cnt; i++)
			fprintf(f, " %02x", e->bytes[i]);
		fputc(')', f);
		break;
	case GS_E_CAST:
		fputs("(cast ", f);
		dump_expr(f, e->a);
		fputs(" \"", f);
		dump_type(f, e->type);
		fputs("\")", f);
		break;
	}
}

static void dump_fmt_part(FILE *f, const struct gs_fmt_part *pt)
{
	static const char *const convs[] = {
		[GS_FMT_DEFAULT] = "", [GS_FMT_HEX] = ":x", [GS_FMT_HEX_UPPER] = ":X",
		[GS_FMT_PTR] = ":p", [GS_FMT_STR] = ":s",
	};

	if (pt->conv == GS_FMT_LIT) {
		dump_quoted(f, pt->text, pt->text_len);
		return;
	}
	fprintf(f, "{%s", convs[pt->conv]);
	switch (pt->len_kind) {
	case GS_FMT_LEN_NONE:
		break;
	case GS_FMT_LEN_CONST:
		fprintf(f, ".%llu", (unsigned long long)pt->len);
		break;
	case GS_FMT_LEN_STAR:
		fputs(".*", f);
		break;
	case GS_FMT_LEN_VAR:
		fprintf(f, ".%s$", pt->len_let->name);
		break;
	}
	fputc('}', f);
}

static void dump_block(FILE *f, const struct gs_block *b, int depth);

static void dump_stmt(FILE *f, const struct gs_stmt *st, int depth)
{
	fprintf(f, "%*s", depth * 2, "");
	switch (st->kind) {
	case GS_S_PRINT:
		fputs("print (fmt", f);
		for (size_t i = 0; i < st->part_cnt; i++) {
			fputc(' ', f);
			dump_fmt_part(f, &st->parts[i]);
		}
		fputc(')', f);
		for (size_t i = 0; i < st->arg_cnt; i++) {
			fputc(' ', f);
			dump_expr(f, st->args[i]);
		}
		fputc('\n', f);
		break;
	case GS_S_PRINT_EXPR:
		fputs("print-expr ", f);
		dump_quoted(f, st->expr_text, strlen(st->expr_text));
		fputc(' ', f);
		dump_expr(f, st->expr);
		fputc('\n', f);
		break;
	case GS_S_IF:
		for (size_t i = 0; i < st->arm_cnt; i++) {
			if (i)
				fprintf(f, "%*selif ", depth * 2, "");
			else
				fputs("if ", f);
			dump_expr(f, st->arms[i].cond);
			fputc('\n', f);
			dump_block(f, &st->arms[i].body, depth + 1);
		}
		if (st->else_body) {
			fprintf(f, "%*selse\n", depth * 2, "");
			dump_block(f, st->else_body, depth + 1);
		}
		break;
	case GS_S_LET:
		fprintf(f, "let %s ", st->name);
		dump_expr(f, st->expr);
		fputc('\n', f);
		break;
	case GS_S_BT:
		fprintf(f, "bt%s%s\n", st->bt_raw ? " raw" : "", st->bt_noinline ? " noinline" : "");
		break;
	}
}

static void dump_block(FILE *f, const struct gs_block *b, int depth)
{
	for (size_t i = 0; i < b->stmt_cnt; i++)
		dump_stmt(f, b->stmts[i], depth);
}

static void dump_pattern(FILE *f, const struct gs_pattern *p)
{
	switch (p->kind) {
	case GS_PAT_FUNC:
		fprintf(f, "(func %s)", p->func);
		break;
	case GS_PAT_FUNC_RETURN:
		fprintf(f, "(return %s)", p->func);
		break;
	case GS_PAT_LINE:
		fputs("(line ", f);
		dump_quoted(f, p->file, strlen(p->file));
		fprintf(f, " %u)", p->line);
		break;
	case GS_PAT_ADDR:
		fprintf(f, "(addr 0x%llx)", (unsigned long long)p->addr);
		break;
	case GS_PAT_MODULE_ADDR:
		fputs("(module-addr ", f);
		dump_quoted(f, p->module, strlen(p->module));
		fprintf(f, " 0x%llx)", (unsigned long long)p->addr);
		break;
	}
}

/* Runs @fn on a memstream and returns its text, or NULL with errno = ENOMEM. */
static char *dump_to_string(void (*fn)(FILE *, const void *), const void *arg)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	fn(f, arg);
	if (fclose(f)) {
		free(out);
		errno = ENOMEM;
		return NULL;
	}
	return out;
}

static void dump_script_fn(FILE *f, const void *arg)
{
	const struct gs_script *s = arg;

	for (size_t i = 0; i < s->trace_cnt; i++) {
		fputs("trace ", f);
		dump_pattern(f, &s->traces[i]->pattern);
		fputc('\n', f);
		dump_block(f, &s->traces[i]->body, 1);
	}
}

static void dump_expr_fn(FILE *f, const void *arg)
{
	dump_expr(f, arg);
}

static void dump_type_fn(FILE *f, const void *arg)
{
	dump_type(f, arg);
}

char *gs_script_dump(const struct gs_script *s)
{
	return dump_to_string(dump_script_fn, s);
}

char *gs_expr_dump(const struct gs_expr *e)
{
	return dump_to_string(dump_expr_fn, e);
}

char *gs_type_expr_dump(const struct gs_type_expr *t)
{
	return dump_to_string(dump_type_fn, t);
}

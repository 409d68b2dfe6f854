// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The script parser: recursive descent over the lexer's tokens, building the AST and
 * doing every check that needs no debug info (see parser.h for the list).
 *
 * Errors: every error path calls perr(), which records the first diagnostic and the
 * parser's error code; the functions then return NULL (or the error) up to
 * gs_script_parse(). Nodes live in the script's arena, so an abandoned half-built
 * tree needs no cleanup beyond gs_script_free().
 *
 * Script variables: `lets` is a flat list of the current trace's declarations with
 * the block depth they were declared at. Closing a block marks its declarations dead;
 * a dead name that is used again is the "used outside its block" error, a live one is
 * a binding. Each trace block starts with an empty list: a name declared in another
 * trace block is a different probe's business and may well be a target variable here.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tracer/lexer.h"
#include "tracer/parser.h"

struct let_entry {
	const struct gs_stmt *let;
	unsigned int depth;
	bool live;
};

struct parser {
	struct gs_script *s;
	struct gs_lexer lx;
	struct gs_token tok;	/* the current token */
	struct gs_diag *diag;
	int err;		/* first error: -EINVAL or -ENOMEM */
	bool in_return_probe;	/* $retval allowed */
	unsigned int depth;	/* block nesting inside the trace body, 1 = the body */
	struct let_entry *lets;	/* malloc'd */
	size_t let_cnt, let_cap;
	unsigned int nest;	/* recursion depth, bounded so hostile input cannot overflow the stack */
	unsigned int nodes;	/* expression nodes since the current statement began */
};

#define MAX_NEST 256
/* Trees are walked recursively (dump, planner): bound their depth through their size. */
#define MAX_STMT_NODES 10000

static const char *const stmt_keywords[] = { "print", "if", "else", "let", "bt", "backtrace" };
static const char *const top_keywords[] = { "trace" };
/* Words that cannot name a script variable. */
static const char *const reserved_words[] = {
	"trace", "print", "if", "else", "let", "bt", "backtrace", "true", "false",
};

static const struct {
	const char *name;
	enum gs_special sp;
} specials[] = {
	{ "pid", GS_SP_PID }, { "tid", GS_SP_TID }, { "host_pid", GS_SP_HOST_PID },
	{ "timestamp", GS_SP_TIMESTAMP }, { "pc", GS_SP_PC }, { "sp", GS_SP_SP },
	{ "comm", GS_SP_COMM }, { "retval", GS_SP_RETVAL },
};

enum { BI_HEX = 100, BI_CAST = 101 };	/* builtins that make their own node kinds */

static const struct {
	const char *name;
	int id;			/* enum gs_builtin, BI_HEX or BI_CAST */
	unsigned int min_args, max_args;
} builtins[] = {
	{ "strncmp", GS_BI_STRNCMP, 3, 3 },
	{ "starts_with", GS_BI_STARTS_WITH, 2, 2 },
	{ "memcmp", GS_BI_MEMCMP, 2, 3 },
	{ "hex", BI_HEX, 1, 1 },
	{ "cast", BI_CAST, 2, 2 },
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static struct gs_expr *parse_expr(struct parser *p);
static int parse_block(struct parser *p, struct gs_block *block);

/* --- errors and suggestions --- */

__attribute__((format(printf, 4, 5)))
static int perr(struct parser *p, size_t start, size_t end, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int err;

	if (p->err)
		return p->err;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err = gs_diag_set(p->diag, p->s->origin, p->s->src, p->s->len, start, end, "%s", msg);
	p->err = err ? err : -EINVAL;
	return p->err;
}

static void *oom(struct parser *p)
{
	if (!p->err)
		p->err = -ENOMEM;
	return NULL;
}

static int oom_err(struct parser *p)
{
	oom(p);
	return p->err;
}

/* Optimal string alignment distance (edits plus adjacent swaps), capped at 64 bytes. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t d[65][65];

	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t v = d[i - 1][j - 1] + cost;

			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

/* "trc" for "trace": same first letter, the rest a subsequence, at most 2 left out. */
static bool is_abbrev(const char *word, const char *cand)
{
	size_t wl = strlen(word), cl = strlen(cand), j = 0;

	if (!wl || word[0] != cand[0] || cl < wl || cl - wl > 2)
		return false;
	for (size_t i = 0; i < cl && j < wl; i++) {
		if (cand[i] == word[j])
			j++;
	}
	return j == wl;
}

/*
 * The candidate closest to @word, or NULL when none is close enough to be a typo:
 * one edit for words up to 4 bytes, two for longer ones, or @word a prefix or an
 * abbreviation of it.
 */
static const char *closest(const char *word, const char *const *cands, size_t n)
{
	size_t wl = strlen(word), best_d = SIZE_MAX, limit = wl <= 4 ? 1 : 2;
	const char *best = NULL;

	if (wl < 2)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(word, cands[i]);

		if (d == 0)
			continue;
		if (d > limit && (!strncmp(cands[i], word, wl) || is_abbrev(word, cands[i])))
			d = limit;
		if (d <= limit && d < best_d) {
			best_d = d;
			best = cands[i];
		}
	}
	return best;
}

/* --- tokens --- */

static int advance(struct parser *p)
{
	int err;

	if (p->err)
		return p->err;
	err = gs_lexer_next(&p->lx, &p->tok);
	if (err)
		p->err = err;
	return err;
}

/* The token after the current one, without consuming anything (EOF on a lex error). */
static struct gs_token peek_tok(const struct parser *p)
{
	struct gs_lexer copy = p->lx;
	struct gs_token t;

	copy.diag = NULL;
	if (gs_lexer_next(&copy, &t))
		t.kind = GS_TOK_EOF;
	return t;
}

static bool tok_is_word(const struct parser *p, const struct gs_token *t, const char *w)
{
	size_t n = strlen(w);

	return t->kind == GS_TOK_IDENT && t->end - t->start == n &&
	       !memcmp(p->s->src + t->start, w, n);
}

static bool is_word(const struct parser *p, const char *w)
{
	return tok_is_word(p, &p->tok, w);
}

static int tok_len(const struct gs_token *t)
{
	return (int)(t->end - t->start);
}

/* "'foo'" or "end of input", for "expected X, got Y" messages. */
static const char *tok_desc(const struct parser *p, const struct gs_token *t, char *buf,
			    size_t size)
{
	if (t->kind == GS_TOK_EOF)
		return "end of input";
	if (tok_len(t) > 40)
		snprintf(buf, size, "'%.40s...'", p->s->src + t->start);
	else
		snprintf(buf, size, "'%.*s'", tok_len(t), p->s->src + t->start);
	return buf;
}

/* Consumes a token of @kind or fails with "expected K @context, got X". */
static int expect(struct parser *p, enum gs_tok_kind kind, const char *context)
{
	char buf[64];

	if (p->err)
		return p->err;
	if (p->tok.kind != kind)
		return perr(p, p->tok.start, p->tok.end, "expected %s %s, got %s",
			    gs_tok_kind_name(kind), context, tok_desc(p, &p->tok, buf, sizeof(buf)));
	return advance(p);
}

static struct gs_span tok_span(const struct gs_token *t)
{
	return (struct gs_span){ .start = t->start, .end = t->end, .line = t->line, .col = t->col };
}

/* From the start of @a to the end of @b. */
static struct gs_span span_join(const struct gs_span *a, uint32_t end)
{
	struct gs_span s = *a;

	s.end = end;
	return s;
}

/* --- script variables --- */

static struct let_entry *let_find(struct parser *p, const char *name, bool live)
{
	for (size_t i = p->let_cnt; i-- > 0;) {
		if (p->lets[i].live == live && !strcmp(p->lets[i].let->name, name))
			return &p->lets[i];
	}
	return NULL;
}

static int let_push(struct parser *p, const struct gs_stmt *let)
{
	if (p->let_cnt == p->let_cap) {
		size_t cap = p->let_cap ? p->let_cap * 2 : 8;
		struct let_entry *n = reallocarray(p->lets, cap, sizeof(*n));

		if (!n) {
			oom(p);
			return -ENOMEM;
		}
		p->lets = n;
		p->let_cap = cap;
	}
	p->lets[p->let_cnt++] = (struct let_entry){ .let = let, .depth = p->depth, .live = true };
	return 0;
}

static void scope_close(struct parser *p)
{
	for (size_t i = 0; i < p->let_cnt; i++) {
		if (p->lets[i].depth == p->depth)
			p->lets[i].live = false;
	}
}

/*
 * Resolves a use of @name at [@start, @end): its live declaration, or NULL for a
 * target variable. A dead declaration is an error (*@failed set).
 */
static const struct gs_stmt *let_resolve(struct parser *p, const char *name, size_t start,
					 size_t end, bool *failed)
{
	struct let_entry *e = let_find(p, name, true);

	*failed = false;
	if (e)
		return e->let;
	e = let_find(p, name, false);
	if (e) {
		*failed = true;
		perr(p, start, end,
		     "'%s' is not in scope here: it was declared at %u:%u in a block that has ended",
		     name, e->let->name_span.line, e->let->name_span.col);
	}
	return NULL;
}

/* --- expressions --- */

static struct gs_expr *new_expr(struct parser *p, enum gs_expr_kind kind,
				const struct gs_span *span)
{
	struct gs_expr *e;

	if (++p->nodes > MAX_STMT_NODES) {
		perr(p, p->tok.start, p->tok.end,
		     "statement is too long (more than %d expression nodes)", MAX_STMT_NODES);
		return NULL;
	}
	e = gs_ast_expr_new(p->s, kind, span);
	return e ? e : oom(p);
}

static struct gs_expr *parse_int(struct parser *p, const struct gs_token *t, bool negate)
{
	struct gs_span span = tok_span(t);
	struct gs_expr *e;

	if (t->ival > (uint64_t)INT64_MAX + (negate ? 1 : 0)) {
		perr(p, t->start, t->end,
		     "integer literal '%.*s' is out of range for a signed 64-bit integer",
		     tok_len(t), p->s->src + t->start);
		return NULL;
	}
	e = new_expr(p, GS_E_INT, &span);
	if (!e)
		return NULL;
	/* -(2^63) is representable; negate in unsigned arithmetic to avoid overflow. */
	e->ival = negate ? (int64_t)(0 - t->ival) : (int64_t)t->ival;
	return e;
}

static struct gs_expr *parse_string(struct parser *p)
{
	struct gs_span span = tok_span(&p->tok);
	struct gs_expr *e = new_expr(p, GS_E_STR, &span);
	char *buf;

	if (!e)
		return NULL;
	buf = gs_ast_alloc(p->s, p->tok.end - p->tok.start);
	if (!buf)
		return oom(p);
	gs_lex_string_decode(p->s->src, &p->tok, buf, &e->str_len);
	buf[e->str_len] = '\0';
	e->str = buf;
	advance(p);
	return e;
}

static struct gs_expr *parse_special(struct parser *p)
{
	const struct gs_token *t = &p->tok;
	const char *name = p->s->src + t->start + 1;
	size_t n = t->end - t->start - 1;
	struct gs_span span = tok_span(t);
	const char *cands[ARRAY_SIZE(specials)];
	char word[72];
	const char *near;
	struct gs_expr *e;

	for (size_t i = 0; i < ARRAY_SIZE(specials); i++) {
		if (strlen(specials[i].name) != n || memcmp(specials[i].name, name, n))
			continue;
		if (specials[i].sp == GS_SP_RETVAL && !p->in_return_probe) {
			perr(p, t->start, t->end,
			     "'$retval' is only available in return probes (trace FUNCTION:return)");
			return NULL;
		}
		e = new_expr(p, GS_E_SPECIAL, &span);
		if (!e)
			return NULL;
		e->special = specials[i].sp;
		advance(p);
		return e;
	}
	for (size_t i = 0; i < ARRAY_SIZE(specials); i++)
		cands[i] = specials[i].name;
	snprintf(word, sizeof(word), "%.*s", (int)(n < 64 ? n : 64), name);
	near = closest(word, cands, ARRAY_SIZE(cands));
	if (near)
		perr(p, t->start, t->end, "unknown special variable '$%s', did you mean '$%s'?",
		     word, near);
	else
		perr(p, t->start, t->end,
		     "unknown special variable '$%s'; known: $pid, $tid, $host_pid, $timestamp, $pc, $sp, $comm, $retval",
		     word);
	return NULL;
}

/*
 * hex("DE AD be ef"): hex digit pairs; spaces and tabs separate groups, and each group
 * must hold whole bytes, so a mistyped digit is not silently re-paired.
 */
static struct gs_expr *parse_hex(struct parser *p)
{
	struct gs_span span = tok_span(&p->tok);
	const char *src = p->s->src;
	struct gs_expr *e;
	uint8_t *bytes;
	size_t start, end, n = 0;

	advance(p);
	if (expect(p, GS_TOK_LPAREN, "after 'hex'"))
		return NULL;
	if (p->tok.kind != GS_TOK_STR) {
		perr(p, p->tok.start, p->tok.end,
		     "'hex' takes one string literal of hex bytes, e.g. hex(\"DE AD be ef\")");
		return NULL;
	}
	start = p->tok.start + 1;
	end = p->tok.end - 1;
	bytes = gs_ast_alloc(p->s, (end - start) / 2 + 1);
	if (!bytes)
		return oom(p);
	for (size_t i = start; i < end;) {
		size_t g = i;

		if (src[i] == ' ' || src[i] == '\t') {
			i++;
			continue;
		}
		while (i < end && src[i] != ' ' && src[i] != '\t') {
			char c = src[i];

			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
				perr(p, i, i + 1, "invalid character '%c' in hex literal", c);
				return NULL;
			}
			i++;
		}
		if ((i - g) % 2) {
			perr(p, g, i, "odd number of hex digits in '%.*s'", (int)(i - g), src + g);
			return NULL;
		}
		for (size_t k = g; k < i; k += 2) {
			char pair[3] = { src[k], src[k + 1], 0 };

			bytes[n++] = (uint8_t)strtoul(pair, NULL, 16);
		}
	}
	if (!n) {
		perr(p, p->tok.start, p->tok.end, "hex literal has no bytes");
		return NULL;
	}
	advance(p);
	span.end = p->tok.end;
	if (expect(p, GS_TOK_RPAREN, "to close 'hex('"))
		return NULL;
	e = new_expr(p, GS_E_HEX, &span);
	if (!e)
		return NULL;
	e->bytes = bytes;
	e->byte_cnt = n;
	return e;
}

static bool is_base_type_word(const char *w, size_t n)
{
	static const char *const words[] = {
		"unsigned", "signed", "short", "long", "int", "char", "float", "double",
		"_Bool", "bool",
	};

	for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
		if (strlen(words[i]) == n && !memcmp(words[i], w, n))
			return true;
	}
	return false;
}

/*
 * Parses a cast's type string, the string literal token at [@start - 1, @end + 1):
 * [struct|union|enum] NAME {*} {[N]}, with const/volatile dropped.
 */
static struct gs_type_expr *parse_type(struct parser *p, size_t start, size_t end)
{
	const char *src = p->s->src;
	struct gs_type_expr *t = gs_ast_alloc(p->s, sizeof(*t));
	char name[256];
	size_t name_len = 0, words = 0, i = start, name_start = start;
	bool all_base = true;

	if (!t)
		return oom(p);
	name[0] = '\0';
	/* Words: the tag, the name words, qualifiers. */
	for (;;) {
		size_t w;

		while (i < end && (src[i] == ' ' || src[i] == '\t'))
			i++;
		if (i >= end || !((src[i] >= 'a' && src[i] <= 'z') || (src[i] >= 'A' && src[i] <= 'Z') ||
				  src[i] == '_'))
			break;
		w = i;
		while (i < end && ((src[i] >= 'a' && src[i] <= 'z') || (src[i] >= 'A' && src[i] <= 'Z') ||
				   (src[i] >= '0' && src[i] <= '9') || src[i] == '_' ||
				   (src[i] == ':' && i + 1 < end && src[i + 1] == ':')))
			i += src[i] == ':' ? 2 : 1;
		if ((i - w == 5 && !memcmp(src + w, "const", 5)) ||
		    (i - w == 8 && !memcmp(src + w, "volatile", 8)))
			continue;
		if (words == 0 && t->tag == GS_TAG_PLAIN && name_len == 0) {
			enum gs_type_tag tag = GS_TAG_PLAIN;

			if (i - w == 6 && !memcmp(src + w, "struct", 6))
				tag = GS_TAG_STRUCT;
			else if (i - w == 5 && !memcmp(src + w, "union", 5))
				tag = GS_TAG_UNION;
			else if (i - w == 4 && !memcmp(src + w, "enum", 4))
				tag = GS_TAG_ENUM;
			if (tag != GS_TAG_PLAIN) {
				t->tag = tag;
				continue;
			}
		}
		if (words == 0)
			name_start = w;
		if (name_len + (i - w) + 2 > sizeof(name)) {
			perr(p, w, i, "type name is too long");
			return NULL;
		}
		if (words)
			name[name_len++] = ' ';
		memcpy(name + name_len, src + w, i - w);
		name_len += i - w;
		name[name_len] = '\0';
		all_base = all_base && is_base_type_word(src + w, i - w);
		words++;
	}
	if (!words) {
		perr(p, i, i + 1, "expected a type name in the cast, e.g. \"struct req *\"");
		return NULL;
	}
	if (words > 1 && (t->tag != GS_TAG_PLAIN || !all_base)) {
		perr(p, name_start, i, "invalid type name '%s'", name);
		return NULL;
	}
	t->name = gs_ast_strndup(p->s, name, name_len);
	if (!t->name)
		return oom(p);
	/* Pointers, with qualifiers allowed between them ("char * const *"). */
	for (;;) {
		while (i < end && (src[i] == ' ' || src[i] == '\t'))
			i++;
		if (i < end && src[i] == '*') {
			t->ptr_depth++;
			i++;
		} else if (end - i >= 5 && !memcmp(src + i, "const", 5)) {
			i += 5;
		} else if (end - i >= 8 && !memcmp(src + i, "volatile", 8)) {
			i += 8;
		} else {
			break;
		}
	}
	/* Array dimensions. */
	while (i < end && src[i] == '[') {
		size_t d = ++i;
		uint64_t v;
		uint64_t *slot;

		while (i < end && src[i] != ']')
			i++;
		if (i >= end) {
			perr(p, d - 1, end, "unterminated '[' in type");
			return NULL;
		}
		if (gs_lex_int(src + d, i - d, &v) || v == 0) {
			perr(p, d, i > d ? i : d + 1,
			     "array dimension must be a positive integer, got '%.*s'", (int)(i - d),
			     src + d);
			return NULL;
		}
		slot = gs_ast_push(p->s, &t->dims, &t->dim_cnt, sizeof(*slot));
		if (!slot)
			return oom(p);
		*slot = v;
		i++;
		while (i < end && (src[i] == ' ' || src[i] == '\t'))
			i++;
	}
	if (i < end) {
		perr(p, i, i + 1, "unexpected '%c' in type '%.*s'", src[i], (int)(end - start),
		     src + start);
		return NULL;
	}
	return t;
}

static int builtin_lookup(const char *name, size_t n)
{
	for (size_t i = 0; i < ARRAY_SIZE(builtins); i++) {
		if (strlen(builtins[i].name) == n && !memcmp(builtins[i].name, name, n))
			return (int)i;
	}
	return -1;
}

static int unknown_builtin(struct parser *p, const struct gs_token *t)
{
	const char *cands[ARRAY_SIZE(builtins)];
	char word[72];
	const char *near;

	for (size_t i = 0; i < ARRAY_SIZE(builtins); i++)
		cands[i] = builtins[i].name;
	snprintf(word, sizeof(word), "%.*s", tok_len(t) < 64 ? tok_len(t) : 64,
		 p->s->src + t->start);
	near = closest(word, cands, ARRAY_SIZE(cands));
	if (near)
		return perr(p, t->start, t->end, "unknown builtin '%s', did you mean '%s'?", word,
			    near);
	return perr(p, t->start, t->end,
		    "unknown builtin '%s'; builtins are strncmp, starts_with, memcmp, hex and cast",
		    word);
}

/* Checks a call's arguments once they are parsed; @call spans name to ')'. */
static int check_call(struct parser *p, int bi, struct gs_expr *call)
{
	const char *name = builtins[bi].name;
	unsigned int lo = builtins[bi].min_args, hi = builtins[bi].max_args;
	size_t n = call->arg_cnt;
	struct gs_expr **a = call->args;

	if (n < lo || n > hi) {
		if (lo == hi)
			return perr(p, call->span.start, call->span.end,
				    "'%s' takes %u argument%s, got %zu", name, lo,
				    lo == 1 ? "" : "s", n);
		return perr(p, call->span.start, call->span.end,
			    "'%s' takes %u or %u arguments, got %zu", name, lo, hi, n);
	}
	switch (builtins[bi].id) {
	case GS_BI_STARTS_WITH:
		if (a[1]->kind != GS_E_STR || p->s->src[a[1]->span.start] != '"')
			return perr(p, a[1]->span.start, a[1]->span.end,
				    "'starts_with' needs a string literal as its second argument");
		break;
	case GS_BI_MEMCMP:
		if (n == 2 && a[0]->kind != GS_E_HEX && a[1]->kind != GS_E_HEX)
			return perr(p, call->span.start, call->span.end,
				    "'memcmp' without a length needs a hex(...) operand; pass the length as a third argument");
		break;
	case BI_CAST:
		if (a[1]->kind != GS_E_STR || p->s->src[a[1]->span.start] != '"')
			return perr(p, a[1]->span.start, a[1]->span.end,
				    "'cast' needs the type as a string literal, e.g. cast(p, \"struct req *\")");
		if (memchr(p->s->src + a[1]->span.start, '\\', a[1]->span.end - a[1]->span.start))
			return perr(p, a[1]->span.start, a[1]->span.end,
				    "escapes are not allowed in a cast's type string");
		break;
	default:
		break;
	}
	return 0;
}

/* A call: the current token is the builtin's name and the next one is '('. */
static struct gs_expr *parse_call(struct parser *p)
{
	struct gs_token name = p->tok;
	struct gs_span span = tok_span(&name);
	int bi = builtin_lookup(p->s->src + name.start, name.end - name.start);
	struct gs_expr *call, **slot;
	char buf[64];

	if (bi < 0) {
		unknown_builtin(p, &name);
		return NULL;
	}
	if (builtins[bi].id == BI_HEX) {
		perr(p, name.start, name.end, "'hex(...)' is only allowed as an operand of 'memcmp'");
		return NULL;
	}
	call = new_expr(p, builtins[bi].id == BI_CAST ? GS_E_CAST : GS_E_CALL, &span);
	if (!call)
		return NULL;
	advance(p);
	advance(p);	/* '(' */
	while (!p->err && p->tok.kind != GS_TOK_RPAREN) {
		struct gs_expr *arg;

		if (builtins[bi].id == GS_BI_MEMCMP && is_word(p, "hex") &&
		    peek_tok(p).kind == GS_TOK_LPAREN)
			arg = parse_hex(p);
		else
			arg = parse_expr(p);
		if (!arg)
			return NULL;
		slot = gs_ast_push(p->s, &call->args, &call->arg_cnt, sizeof(*slot));
		if (!slot)
			return oom(p);
		*slot = arg;
		if (p->tok.kind == GS_TOK_COMMA) {
			advance(p);
		} else if (p->tok.kind != GS_TOK_RPAREN) {
			perr(p, p->tok.start, p->tok.end, "expected ',' or ')' in the arguments of '%s', got %s",
			     builtins[bi].name, tok_desc(p, &p->tok, buf, sizeof(buf)));
			return NULL;
		}
	}
	if (p->err)
		return NULL;
	call->span.end = p->tok.end;
	advance(p);
	if (check_call(p, bi, call))
		return NULL;
	if (builtins[bi].id == BI_CAST) {
		const struct gs_expr *ty = call->args[1];

		call->type = parse_type(p, ty->span.start + 1, ty->span.end - 1);
		if (!call->type)
			return NULL;
		call->str = ty->str;
		call->a = call->args[0];
		call->args = NULL;
		call->arg_cnt = 0;
	} else {
		call->builtin = (enum gs_builtin)builtins[bi].id;
	}
	return call;
}

static struct gs_expr *parse_ident(struct parser *p)
{
	const struct gs_token *t = &p->tok;
	struct gs_span span = tok_span(t);
	struct gs_expr *e;
	char *name;
	bool failed;

	if (is_word(p, "true") || is_word(p, "false")) {
		e = new_expr(p, GS_E_BOOL, &span);
		if (!e)
			return NULL;
		e->bval = is_word(p, "true");
		advance(p);
		return e;
	}
	if (is_word(p, "if") || is_word(p, "else")) {
		perr(p, t->start, t->end, "expected an expression, got keyword '%.*s'", tok_len(t),
		     p->s->src + t->start);
		return NULL;
	}
	if (peek_tok(p).kind == GS_TOK_LPAREN)
		return parse_call(p);
	e = new_expr(p, GS_E_IDENT, &span);
	name = gs_ast_strndup(p->s, p->s->src + t->start, t->end - t->start);
	if (!e || !name)
		return oom(p);
	e->str = name;
	e->let = let_resolve(p, name, t->start, t->end, &failed);
	if (failed)
		return NULL;
	advance(p);
	return e;
}

static struct gs_expr *parse_primary(struct parser *p)
{
	struct gs_token t = p->tok;
	struct gs_expr *e;
	char buf[64];

	switch (t.kind) {
	case GS_TOK_INT:
		e = parse_int(p, &t, false);
		if (e)
			advance(p);
		return e;
	case GS_TOK_STR:
		return parse_string(p);
	case GS_TOK_SPECIAL:
		return parse_special(p);
	case GS_TOK_IDENT:
		return parse_ident(p);
	case GS_TOK_LPAREN:
		advance(p);
		e = parse_expr(p);
		if (!e)
			return NULL;
		if (p->tok.kind != GS_TOK_RPAREN) {
			perr(p, p->tok.start, p->tok.end,
			     "expected ')' to close the '(' at %u:%u, got %s", t.line, t.col,
			     tok_desc(p, &p->tok, buf, sizeof(buf)));
			return NULL;
		}
		/* The node's text includes the parentheses, as the user wrote it. */
		e->span.start = t.start;
		e->span.line = t.line;
		e->span.col = t.col;
		e->span.end = p->tok.end;
		advance(p);
		return e;
	default:
		perr(p, t.start, t.end, "expected an expression, got %s",
		     tok_desc(p, &t, buf, sizeof(buf)));
		return NULL;
	}
}

static struct gs_expr *parse_postfix(struct parser *p)
{
	struct gs_expr *e = parse_primary(p), *n;
	char buf[64];

	while (e && !p->err) {
		struct gs_span span = e->span;

		if (p->tok.kind == GS_TOK_DOT) {
			advance(p);
			if (p->tok.kind != GS_TOK_IDENT ||
			    memchr(p->s->src + p->tok.start, ':', p->tok.end - p->tok.start)) {
				perr(p, p->tok.start, p->tok.end, "expected a field name after '.', got %s",
				     tok_desc(p, &p->tok, buf, sizeof(buf)));
				return NULL;
			}
			span.end = p->tok.end;
			n = new_expr(p, GS_E_MEMBER, &span);
			if (!n)
				return NULL;
			n->a = e;
			n->str = gs_ast_strndup(p->s, p->s->src + p->tok.start,
						p->tok.end - p->tok.start);
			if (!n->str)
				return oom(p);
			advance(p);
			e = n;
		} else if (p->tok.kind == GS_TOK_LBRACKET) {
			struct gs_token lb = p->tok;

			advance(p);
			n = new_expr(p, GS_E_INDEX, &span);
			if (!n)
				return NULL;
			n->a = e;
			n->b = parse_expr(p);
			if (!n->b)
				return NULL;
			if (p->tok.kind != GS_TOK_RBRACKET) {
				perr(p, p->tok.start, p->tok.end,
				     "expected ']' to close the '[' at %u:%u, got %s", lb.line, lb.col,
				     tok_desc(p, &p->tok, buf, sizeof(buf)));
				return NULL;
			}
			n->span.end = p->tok.end;
			advance(p);
			e = n;
		} else if (p->tok.kind == GS_TOK_LPAREN) {
			perr(p, p->tok.start, p->tok.end,
			     "only builtins can be called (strncmp, starts_with, memcmp, hex, cast)");
			return NULL;
		} else {
			break;
		}
	}
	return p->err ? NULL : e;
}

static struct gs_expr *parse_unary_nested(struct parser *p);

/* Every recursion through expressions passes here: "((((x))))", "- - - x". */
static struct gs_expr *parse_unary(struct parser *p)
{
	struct gs_expr *e;

	if (p->nest >= MAX_NEST) {
		perr(p, p->tok.start, p->tok.end, "expression is nested too deeply (more than %d levels)",
		     MAX_NEST);
		return NULL;
	}
	p->nest++;
	e = parse_unary_nested(p);
	p->nest--;
	return e;
}

static struct gs_expr *parse_unary_nested(struct parser *p)
{
	struct gs_token op = p->tok;
	struct gs_span span = tok_span(&op);
	enum gs_unop uop;
	struct gs_expr *e, *a;

	switch (op.kind) {
	case GS_TOK_MINUS: uop = GS_UN_NEG; break;
	case GS_TOK_STAR: uop = GS_UN_DEREF; break;
	case GS_TOK_AMP: uop = GS_UN_ADDR; break;
	case GS_TOK_BANG: uop = GS_UN_LNOT; break;
	case GS_TOK_TILDE: uop = GS_UN_BNOT; break;
	default:
		return parse_postfix(p);
	}
	advance(p);
	if (p->err)
		return NULL;
	if (uop == GS_UN_NEG && p->tok.kind == GS_TOK_INT) {
		struct gs_token lit = p->tok;
		enum gs_tok_kind after = peek_tok(p).kind;

		/* Fold "-5" into one literal so that -9223372036854775808 is expressible. */
		if (after != GS_TOK_DOT && after != GS_TOK_LBRACKET) {
			e = parse_int(p, &lit, true);
			if (!e)
				return NULL;
			e->span = span_join(&span, lit.end);
			advance(p);
			return e;
		}
	}
	a = parse_unary(p);
	if (!a)
		return NULL;
	span.end = a->span.end;
	e = new_expr(p, GS_E_UNARY, &span);
	if (!e)
		return NULL;
	e->unop = uop;
	e->a = a;
	return e;
}

/* Binding power of a binary operator token (higher binds tighter), 0 if none. */
static int binop_prec(enum gs_tok_kind k, enum gs_binop *op)
{
	switch (k) {
	case GS_TOK_OROR: *op = GS_BIN_LOR; return 1;
	case GS_TOK_ANDAND: *op = GS_BIN_LAND; return 2;
	case GS_TOK_PIPE: *op = GS_BIN_BOR; return 3;
	case GS_TOK_CARET: *op = GS_BIN_BXOR; return 4;
	case GS_TOK_AMP: *op = GS_BIN_BAND; return 5;
	case GS_TOK_EQ: *op = GS_BIN_EQ; return 6;
	case GS_TOK_NE: *op = GS_BIN_NE; return 6;
	case GS_TOK_LT: *op = GS_BIN_LT; return 7;
	case GS_TOK_LE: *op = GS_BIN_LE; return 7;
	case GS_TOK_GT: *op = GS_BIN_GT; return 7;
	case GS_TOK_GE: *op = GS_BIN_GE; return 7;
	case GS_TOK_SHL: *op = GS_BIN_SHL; return 8;
	case GS_TOK_SHR: *op = GS_BIN_SHR; return 8;
	case GS_TOK_PLUS: *op = GS_BIN_ADD; return 9;
	case GS_TOK_MINUS: *op = GS_BIN_SUB; return 9;
	case GS_TOK_STAR: *op = GS_BIN_MUL; return 10;
	case GS_TOK_SLASH: *op = GS_BIN_DIV; return 10;
	case GS_TOK_PERCENT: *op = GS_BIN_MOD; return 10;
	default: return 0;
	}
}

/* Precedence climbing: all operators are left-associative. */
static struct gs_expr *parse_binary(struct parser *p, int min_prec)
{
	struct gs_expr *lhs = parse_unary(p);

	while (lhs && !p->err) {
		enum gs_binop op;
		int prec = binop_prec(p->tok.kind, &op);
		struct gs_expr *rhs, *e;
		struct gs_span span;

		if (p->tok.kind == GS_TOK_ASSIGN) {
			perr(p, p->tok.start, p->tok.end,
			     "unexpected '=': compare with '=='; variables are immutable (bind new ones with 'let')");
			return NULL;
		}
		if (!prec || prec < min_prec)
			break;
		advance(p);
		rhs = parse_binary(p, prec + 1);
		if (!rhs)
			return NULL;
		span = span_join(&lhs->span, rhs->span.end);
		e = new_expr(p, GS_E_BINARY, &span);
		if (!e)
			return NULL;
		e->binop = op;
		e->a = lhs;
		e->b = rhs;
		lhs = e;
	}
	return p->err ? NULL : lhs;
}

static struct gs_expr *parse_expr(struct parser *p)
{
	return parse_binary(p, 1);
}

/* --- format strings --- */

struct fmt_state {
	struct parser *p;
	struct gs_stmt *st;
	char *lit;		/* decoded literal text being collected (malloc'd) */
	size_t lit_len;
	size_t lit_start;	/* source offset of its first byte */
	size_t next_arg;
};

static int fmt_flush(struct fmt_state *f, size_t end)
{
	struct gs_fmt_part *pt;
	struct parser *p = f->p;

	if (!f->lit_len)
		return 0;
	pt = gs_ast_push(p->s, &f->st->parts, &f->st->part_cnt, sizeof(*pt));
	if (!pt)
		return oom_err(p);
	pt->conv = GS_FMT_LIT;
	pt->text = gs_ast_strndup(p->s, f->lit, f->lit_len);
	if (!pt->text)
		return oom_err(p);
	pt->text_len = f->lit_len;
	pt->span = (struct gs_span){ .start = (uint32_t)f->lit_start, .end = (uint32_t)end };
	f->lit_len = 0;
	return 0;
}

static void fmt_lit_byte(struct fmt_state *f, size_t at, char c)
{
	if (!f->lit_len)
		f->lit_start = at;
	f->lit[f->lit_len++] = c;
}

static const char fmt_help[] =
	"expected {}, {:x}, {:X}, {:p}, {:s}, or a memory dump {:x.N}, {:s.N}, {:x.*}, {:s.NAME$}";

/* Parses the placeholder at [@open, @close] (the braces) into a new part. */
static int fmt_placeholder(struct fmt_state *f, size_t open, size_t close)
{
	struct parser *p = f->p;
	const char *src = p->s->src, *c = src + open + 1;
	size_t n = close - open - 1;
	struct gs_fmt_part *pt;
	enum gs_fmt_conv conv = GS_FMT_DEFAULT;

	if (n > 0) {
		if (n < 2 || c[0] != ':' || !strchr("xXps", c[1]) || (n > 2 && c[2] != '.'))
			return perr(p, open, close + 1, "invalid placeholder '%.*s'; %s",
				    (int)(n + 2), src + open, fmt_help);
		conv = c[1] == 'x' ? GS_FMT_HEX : c[1] == 'X' ? GS_FMT_HEX_UPPER :
		       c[1] == 'p' ? GS_FMT_PTR : GS_FMT_STR;
	}
	pt = gs_ast_push(p->s, &f->st->parts, &f->st->part_cnt, sizeof(*pt));
	if (!pt)
		return oom_err(p);
	pt->conv = conv;
	pt->span = (struct gs_span){ .start = (uint32_t)open, .end = (uint32_t)close + 1 };
	if (n > 2) {
		const char *l = c + 3;
		size_t ln = n - 3;

		if (conv == GS_FMT_PTR)
			return perr(p, open, close + 1, "'{:p}' takes no length; %s", fmt_help);
		if (ln == 1 && l[0] == '*') {
			pt->len_kind = GS_FMT_LEN_STAR;
			pt->len_arg = f->next_arg++;
		} else if (ln > 1 && l[ln - 1] == '$') {
			char name[72];
			bool failed;

			snprintf(name, sizeof(name), "%.*s", (int)(ln - 1 < 64 ? ln - 1 : 64), l);
			pt->len_kind = GS_FMT_LEN_VAR;
			pt->len_let = let_resolve(p, name, (size_t)(l - src), (size_t)(l - src) + ln - 1,
						  &failed);
			if (failed)
				return p->err;
			if (!pt->len_let)
				return perr(p, (size_t)(l - src), (size_t)(l - src) + ln - 1,
					    "'%s' is not a script variable; '{:%c.NAME$}' takes its length from a 'let'",
					    name, c[1]);
		} else {
			int err = gs_lex_int(l, ln, &pt->len);

			if (err || pt->len == 0 || pt->len > UINT32_MAX)
				return perr(p, (size_t)(l - src), (size_t)(l - src) + (ln ? ln : 1),
					    "invalid memory dump length '%.*s'; expected a positive integer, '*' or NAME$",
					    (int)ln, l);
			pt->len_kind = GS_FMT_LEN_CONST;
		}
	}
	pt->arg = f->next_arg++;
	return 0;
}

/*
 * Splits the format string token @t into parts, working on the raw source so that
 * errors point at the exact column. Escapes are decoded first: "\x7b" is a literal
 * '{' character, never a placeholder.
 */
static int parse_fmt(struct parser *p, struct gs_stmt *st, const struct gs_token *t)
{
	const char *src = p->s->src;
	size_t i = t->start + 1, end = t->end - 1;
	struct fmt_state f = { .p = p, .st = st };
	int err = 0;

	f.lit = malloc(end - i + 1);
	if (!f.lit)
		return oom_err(p);
	while (i < end && !err) {
		char c = src[i];

		if (c == '\\') {
			uint8_t b;
			size_t used;

			gs_lex_escape(src + i + 1, end - i - 1, &b, &used);
			fmt_lit_byte(&f, i, (char)b);
			i += 1 + used;
		} else if (c == '{' && i + 1 < end && src[i + 1] == '{') {
			fmt_lit_byte(&f, i, '{');
			i += 2;
		} else if (c == '}' && i + 1 < end && src[i + 1] == '}') {
			fmt_lit_byte(&f, i, '}');
			i += 2;
		} else if (c == '}') {
			err = perr(p, i, i + 1,
				   "unmatched '}' in format string; write '}}' for a literal brace");
		} else if (c == '{') {
			size_t close = i + 1;

			while (close < end && src[close] != '}' && src[close] != '{' &&
			       src[close] != '\\')
				close++;
			if (close >= end || src[close] != '}') {
				err = perr(p, i, close,
					   "unterminated placeholder in format string; write '{{' for a literal brace");
				break;
			}
			err = fmt_flush(&f, i);
			if (!err)
				err = fmt_placeholder(&f, i, close);
			i = close + 1;
		} else {
			fmt_lit_byte(&f, i, c);
			i++;
		}
	}
	if (!err)
		err = fmt_flush(&f, end);
	free(f.lit);
	/* Literal part spans were recorded without line:col; fill them in. */
	for (size_t k = 0; !err && k < st->part_cnt; k++) {
		struct gs_span *sp = &st->parts[k].span;

		sp->line = t->line;
		sp->col = t->col + (sp->start - t->start);
	}
	return err;
}

/* Matches placeholders with arguments: each takes one, '{:x.*}' takes two. */
static int check_fmt_args(struct parser *p, const struct gs_stmt *st)
{
	size_t need = 0;

	for (size_t k = 0; k < st->part_cnt; k++) {
		if (st->parts[k].conv != GS_FMT_LIT)
			need = st->parts[k].arg + 1;
	}
	for (size_t k = 0; k < st->part_cnt; k++) {
		const struct gs_fmt_part *pt = &st->parts[k];

		if (pt->conv != GS_FMT_LIT && pt->arg >= st->arg_cnt)
			return perr(p, pt->span.start, pt->span.end,
				    "placeholder '%.*s' has no argument: the format string takes %zu, got %zu",
				    (int)(pt->span.end - pt->span.start), p->s->src + pt->span.start,
				    need, st->arg_cnt);
	}
	if (st->arg_cnt > need) {
		const struct gs_expr *extra = st->args[need];

		return perr(p, extra->span.start, extra->span.end,
			    "too many arguments: the format string takes %zu, got %zu", need,
			    st->arg_cnt);
	}
	return 0;
}

/* --- statements --- */

static struct gs_stmt *new_stmt(struct parser *p, enum gs_stmt_kind kind,
				const struct gs_span *span)
{
	struct gs_stmt *st = gs_ast_stmt_new(p->s, kind, span);

	return st ? st : oom(p);
}

/* Ends a statement: expects ';' and stretches the statement's span over it. */
static int end_stmt(struct parser *p, struct gs_stmt *st, const char *what)
{
	char ctx[64];

	if (p->tok.kind == GS_TOK_SEMI)
		st->span.end = p->tok.end;
	snprintf(ctx, sizeof(ctx), "after %s", what);
	return expect(p, GS_TOK_SEMI, ctx);
}

static struct gs_stmt *parse_print(struct parser *p)
{
	struct gs_span span = tok_span(&p->tok);
	struct gs_stmt *st;
	char buf[64];

	advance(p);
	if (p->err)
		return NULL;
	if (p->tok.kind == GS_TOK_STR) {
		struct gs_token fmt = p->tok;

		st = new_stmt(p, GS_S_PRINT, &span);
		if (!st || parse_fmt(p, st, &fmt))
			return NULL;
		st->fmt_span = tok_span(&fmt);
		advance(p);
		while (!p->err && p->tok.kind == GS_TOK_COMMA) {
			struct gs_expr **slot, *arg;

			advance(p);
			arg = parse_expr(p);
			if (!arg)
				return NULL;
			slot = gs_ast_push(p->s, &st->args, &st->arg_cnt, sizeof(*slot));
			if (!slot)
				return oom(p);
			*slot = arg;
		}
		if (p->err)
			return NULL;
		if (p->tok.kind != GS_TOK_SEMI) {
			perr(p, p->tok.start, p->tok.end, "expected ',' or ';' in 'print', got %s",
			     tok_desc(p, &p->tok, buf, sizeof(buf)));
			return NULL;
		}
		if (check_fmt_args(p, st))
			return NULL;
	} else {
		struct gs_expr *e;

		if (p->tok.kind == GS_TOK_SEMI) {
			perr(p, p->tok.start, p->tok.end,
			     "expected an expression or a format string after 'print'");
			return NULL;
		}
		e = parse_expr(p);
		if (!e)
			return NULL;
		if (p->tok.kind == GS_TOK_COMMA) {
			perr(p, p->tok.start, p->tok.end,
			     "to print several values start with a format string: print \"{} {}\", a, b");
			return NULL;
		}
		st = new_stmt(p, GS_S_PRINT_EXPR, &span);
		if (!st)
			return NULL;
		st->expr = e;
		st->expr_text = gs_ast_strndup(p->s, p->s->src + e->span.start,
					       e->span.end - e->span.start);
		if (!st->expr_text)
			return oom(p);
	}
	return end_stmt(p, st, "the print statement") ? NULL : st;
}

static struct gs_stmt *parse_if(struct parser *p)
{
	struct gs_span span = tok_span(&p->tok);
	struct gs_stmt *st = new_stmt(p, GS_S_IF, &span);
	char buf[64];

	if (!st)
		return NULL;
	advance(p);
	for (;;) {
		struct gs_if_arm *arm = gs_ast_push(p->s, &st->arms, &st->arm_cnt, sizeof(*arm));

		if (!arm)
			return oom(p);
		if (p->err)
			return NULL;
		arm->cond = parse_expr(p);
		if (!arm->cond)
			return NULL;
		if (p->tok.kind != GS_TOK_LBRACE) {
			perr(p, p->tok.start, p->tok.end, "expected '{' after the 'if' condition, got %s",
			     tok_desc(p, &p->tok, buf, sizeof(buf)));
			return NULL;
		}
		if (parse_block(p, &arm->body))
			return NULL;
		st->span.end = arm->body.span.end;
		if (!is_word(p, "else"))
			break;
		advance(p);
		if (is_word(p, "if")) {
			advance(p);
			continue;
		}
		if (p->tok.kind != GS_TOK_LBRACE) {
			perr(p, p->tok.start, p->tok.end, "expected '{' or 'if' after 'else', got %s",
			     tok_desc(p, &p->tok, buf, sizeof(buf)));
			return NULL;
		}
		st->else_body = gs_ast_alloc(p->s, sizeof(*st->else_body));
		if (!st->else_body)
			return oom(p);
		if (parse_block(p, st->else_body))
			return NULL;
		st->span.end = st->else_body->span.end;
		break;
	}
	return p->err ? NULL : st;
}

static bool is_reserved(const struct parser *p, const struct gs_token *t)
{
	for (size_t i = 0; i < ARRAY_SIZE(reserved_words); i++) {
		if (tok_is_word(p, t, reserved_words[i]))
			return true;
	}
	return false;
}

static struct gs_stmt *parse_let(struct parser *p)
{
	struct gs_span span = tok_span(&p->tok);
	struct gs_stmt *st = new_stmt(p, GS_S_LET, &span);
	struct gs_token name;
	struct let_entry *prev;
	char buf[64];

	if (!st)
		return NULL;
	advance(p);
	name = p->tok;
	if (p->err)
		return NULL;
	if (name.kind != GS_TOK_IDENT || memchr(p->s->src + name.start, ':', (size_t)tok_len(&name))) {
		perr(p, name.start, name.end, "expected a variable name after 'let', got %s",
		     tok_desc(p, &name, buf, sizeof(buf)));
		return NULL;
	}
	if (is_reserved(p, &name)) {
		perr(p, name.start, name.end, "'%.*s' is a keyword and cannot name a variable",
		     tok_len(&name), p->s->src + name.start);
		return NULL;
	}
	st->name = gs_ast_strndup(p->s, p->s->src + name.start, (size_t)tok_len(&name));
	if (!st->name)
		return oom(p);
	st->name_span = tok_span(&name);
	prev = let_find(p, st->name, true);
	if (prev && prev->depth == p->depth) {
		perr(p, name.start, name.end,
		     "'%s' is already declared at %u:%u; variables are immutable, pick another name",
		     st->name, prev->let->name_span.line, prev->let->name_span.col);
		return NULL;
	}
	if (prev) {
		perr(p, name.start, name.end,
		     "'%s' shadows the variable declared at %u:%u; pick another name",
		     st->name, prev->let->name_span.line, prev->let->name_span.col);
		return NULL;
	}
	advance(p);
	if (p->tok.kind != GS_TOK_ASSIGN) {
		perr(p, p->tok.start, p->tok.end, "expected '=' after 'let %s', got %s", st->name,
		     tok_desc(p, &p->tok, buf, sizeof(buf)));
		return NULL;
	}
	advance(p);
	/* The name is not in scope in its own initializer: "let n = n + 1" reads the target's n. */
	st->expr = parse_expr(p);
	if (!st->expr || end_stmt(p, st, "the let statement"))
		return NULL;
	return let_push(p, st) ? NULL : st;
}

static struct gs_stmt *parse_bt(struct parser *p)
{
	struct gs_span span = tok_span(&p->tok);
	struct gs_stmt *st = new_stmt(p, GS_S_BT, &span);
	char buf[64];

	if (!st)
		return NULL;
	advance(p);
	while (!p->err && p->tok.kind == GS_TOK_IDENT) {
		bool *flag = is_word(p, "raw") ? &st->bt_raw :
			     is_word(p, "noinline") ? &st->bt_noinline : NULL;

		if (!flag) {
			perr(p, p->tok.start, p->tok.end,
			     "unknown backtrace option %s; expected 'raw' or 'noinline'",
			     tok_desc(p, &p->tok, buf, sizeof(buf)));
			return NULL;
		}
		if (*flag) {
			perr(p, p->tok.start, p->tok.end, "backtrace option %s given twice",
			     tok_desc(p, &p->tok, buf, sizeof(buf)));
			return NULL;
		}
		*flag = true;
		advance(p);
	}
	return end_stmt(p, st, "the backtrace statement") ? NULL : st;
}

/* A statement that starts with a word that is not a statement keyword. */
static int bad_statement(struct parser *p)
{
	struct gs_token t = p->tok, next = peek_tok(p);
	char word[72], buf[64];
	const char *near;

	if (t.kind != GS_TOK_IDENT)
		return perr(p, t.start, t.end,
			    "expected a statement (print, if, let, bt), got %s",
			    tok_desc(p, &t, buf, sizeof(buf)));
	snprintf(word, sizeof(word), "%.*s", tok_len(&t) < 64 ? tok_len(&t) : 64,
		 p->s->src + t.start);
	if (!strcmp(word, "else"))
		return perr(p, t.start, t.end, "'else' without a preceding 'if'");
	if (!strcmp(word, "trace"))
		return perr(p, t.start, t.end,
			    "trace blocks do not nest; close this one with '}' first");
	if (next.kind == GS_TOK_ASSIGN) {
		if (let_find(p, word, true))
			return perr(p, t.start, next.end,
				    "cannot assign to '%s': script variables are immutable; bind a new name with 'let'",
				    word);
		return perr(p, t.start, next.end,
			    "cannot assign to '%s': variables are immutable; use 'let %s = ...' to bind a new script variable",
			    word, word);
	}
	near = closest(word, stmt_keywords, ARRAY_SIZE(stmt_keywords));
	if (near)
		return perr(p, t.start, t.end, "unknown keyword '%s', did you mean '%s'?", word, near);
	return perr(p, t.start, t.end, "expected a statement (print, if, let, bt), got '%s'", word);
}

/* Parses one statement; *@st_ret is NULL for an empty statement (a lone ';'). */
static int parse_stmt(struct parser *p, struct gs_stmt **st_ret)
{
	struct gs_stmt *st;

	*st_ret = NULL;
	p->nodes = 0;
	if (p->tok.kind == GS_TOK_SEMI)
		return advance(p);
	if (is_word(p, "print"))
		st = parse_print(p);
	else if (is_word(p, "if"))
		st = parse_if(p);
	else if (is_word(p, "let"))
		st = parse_let(p);
	else if (is_word(p, "bt") || is_word(p, "backtrace"))
		st = parse_bt(p);
	else
		return bad_statement(p);
	*st_ret = st;
	return st ? 0 : p->err;
}

/* A block: the current token is '{'. Closing it ends the scope of its lets. */
static int parse_block(struct parser *p, struct gs_block *block)
{
	struct gs_token open = p->tok;

	block->span = tok_span(&open);
	if (p->depth >= MAX_NEST)
		return perr(p, open.start, open.end, "blocks are nested too deeply (more than %d levels)",
			    MAX_NEST);
	p->depth++;
	advance(p);
	while (!p->err && p->tok.kind != GS_TOK_RBRACE) {
		struct gs_stmt *st, **slot;

		if (p->tok.kind == GS_TOK_EOF)
			return perr(p, p->tok.start, p->tok.end,
				    "expected '}' to close the block opened at %u:%u, got end of input",
				    open.line, open.col);
		if (parse_stmt(p, &st))
			return p->err;
		if (!st)
			continue;
		slot = gs_ast_push(p->s, &block->stmts, &block->stmt_cnt, sizeof(*slot));
		if (!slot)
			return oom_err(p);
		*slot = st;
	}
	if (p->err)
		return p->err;
	block->span.end = p->tok.end;
	scope_close(p);
	p->depth--;
	return advance(p);
}

/* --- probe patterns --- */

static bool is_ident_start(char c, bool glob)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (glob && (c == '*' || c == '?'));
}

/*
 * ident(::ident)*, each segment optionally '~'-prefixed (C++ destructors). With @glob,
 * '*' and '?' may stand anywhere in a segment (shell wildcards over function names).
 */
static bool is_func_name(const char *s, size_t n, bool glob)
{
	size_t i = 0;

	for (;;) {
		if (i < n && s[i] == '~')
			i++;
		if (i >= n || !is_ident_start(s[i], glob))
			return false;
		while (i < n && (is_ident_start(s[i], glob) || (s[i] >= '0' && s[i] <= '9')))
			i++;
		if (i == n)
			return true;
		if (n - i < 2 || s[i] != ':' || s[i + 1] != ':')
			return false;
		i += 2;
	}
}

static bool has_wildcard(const char *s, size_t n)
{
	return memchr(s, '*', n) || memchr(s, '?', n);
}

/* A file or module path: letters, digits, / . - _ +; returns the first bad byte or n. */
static size_t path_check(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("/.-_+", c)))
			return i;
	}
	return n;
}

static int pattern_path(struct parser *p, const struct gs_token *t, size_t n, const char *what)
{
	const char *s = p->s->src + t->start;
	size_t bad = path_check(s, n);

	if (bad < n)
		return perr(p, t->start + bad, t->start + bad + 1,
			    "invalid character '%c' in %s '%.*s'", s[bad], what, (int)n, s);
	return 0;
}

static int parse_pattern(struct parser *p, const struct gs_token *t, struct gs_pattern *pat)
{
	const char *s = p->s->src + t->start;
	size_t n = t->end - t->start, colon = SIZE_MAX;
	struct gs_script *sc = p->s;

	pat->span = tok_span(t);
	pat->text = gs_ast_strndup(sc, s, n);
	if (!pat->text)
		return oom_err(p);
	/* The last ':' that is not part of a C++ "::". */
	for (size_t i = n; i-- > 0;) {
		if (s[i] == ':' && (i == 0 || s[i - 1] != ':') && (i + 1 == n || s[i + 1] != ':')) {
			colon = i;
			break;
		}
	}
	if (colon != SIZE_MAX) {
		const char *suf = s + colon + 1;
		size_t sn = n - colon - 1;
		uint64_t v;

		if (colon == 0)
			return perr(p, t->start, t->start + 1,
				    "expected a function, file or module before ':'");
		if (sn == 6 && !memcmp(suf, "return", 6)) {
			if (!is_func_name(s, colon, true))
				return perr(p, t->start, t->start + colon, "invalid function name '%.*s'",
					    (int)colon, s);
			pat->kind = GS_PAT_FUNC_RETURN;
			pat->func = gs_ast_strndup(sc, s, colon);
			pat->glob = has_wildcard(s, colon);
		} else if (sn > 2 && suf[0] == '0' && (suf[1] == 'x' || suf[1] == 'X')) {
			if (gs_lex_int(suf, sn, &v))
				return perr(p, t->start + colon + 1, t->end, "invalid address '%.*s'",
					    (int)sn, suf);
			if (pattern_path(p, t, colon, "module name"))
				return p->err;
			pat->kind = GS_PAT_MODULE_ADDR;
			pat->module = gs_ast_strndup(sc, s, colon);
			pat->addr = v;
		} else if (sn > 0 && suf[0] >= '0' && suf[0] <= '9') {
			if (gs_lex_int(suf, sn, &v) || v == 0 || v > UINT32_MAX ||
			    (sn > 1 && suf[0] == '0' && (suf[1] < '0' || suf[1] > '9')))
				return perr(p, t->start + colon + 1, t->end, "invalid line number '%.*s'",
					    (int)sn, suf);
			if (pattern_path(p, t, colon, "file name"))
				return p->err;
			pat->kind = GS_PAT_LINE;
			pat->file = gs_ast_strndup(sc, s, colon);
			pat->line = (uint32_t)v;
		} else {
			return perr(p, t->start + colon, t->end,
				    "invalid probe suffix '%.*s'; expected ':return', ':LINE' or ':0xADDR'",
				    (int)(sn + 1), suf - 1);
		}
	} else if (n > 1 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		if (gs_lex_int(s, n, &pat->addr))
			return perr(p, t->start, t->end, "invalid address '%.*s'", (int)n, s);
		pat->kind = GS_PAT_ADDR;
	} else if (s[0] >= '0' && s[0] <= '9') {
		return perr(p, t->start, t->end,
			    "invalid probe pattern '%.*s'; write addresses in hex (0x...)", (int)n, s);
	} else if (!is_func_name(s, n, true)) {
		if (memchr(s, '.', n) || memchr(s, '/', n))
			return perr(p, t->start, t->end,
				    "invalid function name '%.*s'; for a source line write FILE:LINE",
				    (int)n, s);
		return perr(p, t->start, t->end, "invalid function name '%.*s'", (int)n, s);
	} else {
		pat->kind = GS_PAT_FUNC;
		pat->func = pat->text;
		pat->glob = has_wildcard(s, n);
	}
	if (!pat->text || (pat->kind == GS_PAT_FUNC_RETURN && !pat->func) ||
	    (pat->kind == GS_PAT_MODULE_ADDR && !pat->module) ||
	    (pat->kind == GS_PAT_LINE && !pat->file))
		return oom_err(p);
	return 0;
}

/* --- top level --- */

static int parse_trace(struct parser *p)
{
	struct gs_trace *tr, **slot;
	struct gs_token kw = p->tok, pt;
	char buf[64];
	int err;

	tr = gs_ast_alloc(p->s, sizeof(*tr));
	slot = gs_ast_push(p->s, &p->s->traces, &p->s->trace_cnt, sizeof(*slot));
	if (!tr || !slot)
		return oom_err(p);
	*slot = tr;
	tr->index = p->s->trace_cnt - 1;
	tr->span = tok_span(&kw);
	/* The lexer stands right after 'trace': read the pattern with its own rules. */
	err = gs_lexer_pattern(&p->lx, &pt);
	if (err)
		return p->err = err;
	if (parse_pattern(p, &pt, &tr->pattern) || advance(p))
		return p->err;
	if (p->tok.kind != GS_TOK_LBRACE)
		return perr(p, p->tok.start, p->tok.end, "expected '{' after the probe pattern, got %s",
			    tok_desc(p, &p->tok, buf, sizeof(buf)));
	p->in_return_probe = tr->pattern.kind == GS_PAT_FUNC_RETURN;
	p->let_cnt = 0;
	p->depth = 0;
	if (parse_block(p, &tr->body))
		return p->err;
	tr->span.end = tr->body.span.end;
	return 0;
}

static int bad_toplevel(struct parser *p)
{
	struct gs_token t = p->tok;
	char word[72], buf[64];
	const char *near;

	if (t.kind == GS_TOK_IDENT) {
		snprintf(word, sizeof(word), "%.*s", tok_len(&t) < 64 ? tok_len(&t) : 64,
			 p->s->src + t.start);
		for (size_t i = 0; i < ARRAY_SIZE(stmt_keywords); i++) {
			if (!strcmp(word, stmt_keywords[i]))
				return perr(p, t.start, t.end,
					    "'%s' must be inside a 'trace PATTERN { ... }' block", word);
		}
		near = closest(word, top_keywords, ARRAY_SIZE(top_keywords));
		if (near)
			return perr(p, t.start, t.end, "unknown keyword '%s', did you mean '%s'?",
				    word, near);
	}
	return perr(p, t.start, t.end, "expected 'trace PATTERN { ... }', got %s",
		    tok_desc(p, &t, buf, sizeof(buf)));
}

int gs_script_parse(const char *src, size_t len, const char *origin,
		    struct gs_script **script_ret, struct gs_diag *diag_ret)
{
	struct parser p = { .diag = diag_ret };
	int err;

	*script_ret = NULL;
	p.s = gs_script_new(src, len, origin);
	if (!p.s)
		return -ENOMEM;
	if (len >= UINT32_MAX) {
		/* Spans are 32-bit. Point at the start: there is no better place. */
		gs_diag_set(diag_ret, p.s->origin, "", 0, 0, 0, "script is too large (4 GiB or more)");
		err = -E2BIG;
		goto err_free;
	}
	gs_lexer_init(&p.lx, p.s->src, p.s->len, p.s->origin, diag_ret);
	advance(&p);
	while (!p.err && p.tok.kind != GS_TOK_EOF) {
		if (is_word(&p, "trace"))
			parse_trace(&p);
		else
			bad_toplevel(&p);
	}
	if (!p.err && p.s->trace_cnt == 0)
		perr(&p, p.tok.start, p.tok.end,
		     "the script has no trace blocks; write 'trace FUNCTION { print ...; }'");
	err = p.err;
	if (err)
		goto err_free;
	free(p.lets);
	*script_ret = p.s;
	return 0;

err_free:
	free(p.lets);
	gs_script_free(p.s);
	return err;
}

int gs_script_error(const struct gs_script *s, const struct gs_span *span,
		    struct gs_diag *diag, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int err;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err = gs_diag_set(diag, s->origin, s->src, s->len, span->start, span->end, "%s", msg);
	return err ? err : -EINVAL;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Probe IR constructors, the per-program arena that owns every node, and the
 * canonical text dump (used by --dry-run and to deduplicate identical plans).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tracer/ir.h"

/*
 * Nodes live in a chain of chunks; nothing is freed before the whole program, so a
 * bump allocator keeps construction cheap and gs_ir_prog_free() a short loop.
 */
struct ir_chunk {
	struct ir_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

/*
 * The first chunk is small and each next one doubles, to 4 KiB: a probe's program is
 * often a few hundred bytes, and a plan of 1,000 probes with a 4 KiB chunk each
 * touched 4 MB of fresh heap, a page fault (10-20 us in a VM) per program.
 */
enum { IR_CHUNK_FIRST = 512, IR_CHUNK_MAX = 4096 };

static void *ir_alloc(struct gs_ir_prog *p, size_t size)
{
	struct ir_chunk *c = p->arena;
	void *ret;

	size = (size + 15) & ~(size_t)15;
	if (!c || c->cap - c->used < size) {
		size_t step = c ? (c->cap * 2 < IR_CHUNK_MAX ? c->cap * 2 : IR_CHUNK_MAX) :
				  IR_CHUNK_FIRST;
		size_t cap = size > step ? size : step;

		c = malloc(sizeof(*c) + cap);
		if (!c) {
			fprintf(stderr, "ir: out of memory\n");
			abort();
		}
		c->next = p->arena;
		c->used = 0;
		c->cap = cap;
		p->arena = c;
	}
	ret = (char *)c->data + c->used;
	c->used += size;
	memset(ret, 0, size);
	return ret;
}

void *gs_ir_alloc(struct gs_ir_prog *p, size_t size)
{
	return ir_alloc(p, size);
}

struct gs_ir_prog *gs_ir_prog_new(void)
{
	struct gs_ir_prog *p = calloc(1, sizeof(*p));

	if (!p) {
		fprintf(stderr, "ir: out of memory\n");
		abort();
	}
	return p;
}

void gs_ir_prog_free(struct gs_ir_prog *prog)
{
	struct ir_chunk *c, *next;

	if (!prog)
		return;
	for (c = prog->arena; c; c = next) {
		next = c->next;
		free(c);
	}
	free(prog);
}

static struct gs_ir_expr *ir_expr(struct gs_ir_prog *p, enum gs_ir_kind kind)
{
	struct gs_ir_expr *e = ir_alloc(p, sizeof(*e));

	e->kind = kind;
	return e;
}

struct gs_ir_expr *gs_ir_const(struct gs_ir_prog *p, uint64_t imm)
{
	struct gs_ir_expr *e = ir_expr(p, GS_IR_CONST);

	e->imm = imm;
	return e;
}

struct gs_ir_expr *gs_ir_reg(struct gs_ir_prog *p, unsigned int dwarf_reg)
{
	struct gs_ir_expr *e = ir_expr(p, GS_IR_REG);

	e->reg = dwarf_reg;
	return e;
}

struct gs_ir_expr *gs_ir_special(struct gs_ir_prog *p, enum gs_ir_special sp)
{
	struct gs_ir_expr *e = ir_expr(p, GS_IR_SPECIAL);

	e->op = sp;
	return e;
}

struct gs_ir_expr *gs_ir_load(struct gs_ir_prog *p, struct gs_ir_expr *addr, unsigned int size,
			      bool is_signed)
{
	struct gs_ir_expr *e = ir_expr(p, GS_IR_LOAD);

	e->a = addr;
	e->size = size;
	e->is_signed = is_signed;
	return e;
}

struct gs_ir_expr *gs_ir_binop(struct gs_ir_prog *p, enum gs_ir_binop op, bool is_signed,
			       struct gs_ir_expr *a, struct gs_ir_expr *b)
{
	struct gs_ir_expr *e = ir_expr(p, GS_IR_BINOP);

	e->op = op;
	e->is_signed = is_signed;
	e->a = a;
	e->b = b;
	return e;
}

struct gs_ir_expr *gs_ir_unop(struct gs_ir_prog *p, enum gs_ir_unop op, struct gs_ir_expr *a)
{
	struct gs_ir_expr *e = ir_expr(p, GS_IR_UNOP);

	e->op = op;
	e->a = a;
	return e;
}

struct gs_ir_expr *gs_ir_land(struct gs_ir_prog *p, struct gs_ir_expr *a, struct gs_ir_expr *b)
{
	struct gs_ir_expr *e = ir_expr(p, GS_IR_LAND);

	e->a = a;
	e->b = b;
	return e;
}

struct gs_ir_expr *gs_ir_lor(struct gs_ir_prog *p, struct gs_ir_expr *a, struct gs_ir_expr *b)
{
	struct gs_ir_expr *e = ir_expr(p, GS_IR_LOR);

	e->a = a;
	e->b = b;
	return e;
}

/* The node reads "a ? b : c" (ir.h); the constructor takes (cond, then, else). */
struct gs_ir_expr *gs_ir_select(struct gs_ir_prog *p, struct gs_ir_expr *c, struct gs_ir_expr *a,
				struct gs_ir_expr *b)
{
	struct gs_ir_expr *e = ir_expr(p, GS_IR_SELECT);

	e->a = c;
	e->b = a;
	e->c = b;
	return e;
}

struct gs_ir_expr *gs_ir_ext(struct gs_ir_prog *p, struct gs_ir_expr *a, unsigned int bits,
			     bool is_signed)
{
	struct gs_ir_expr *e = ir_expr(p, GS_IR_EXT);

	e->a = a;
	e->bits = bits;
	e->is_signed = is_signed;
	return e;
}

static const uint8_t *ir_copy_bytes(struct gs_ir_prog *p, const void *bytes, uint32_t len)
{
	uint8_t *copy;

	if (!bytes)
		return NULL;
	copy = ir_alloc(p, len ? len : 1);
	memcpy(copy, bytes, len);
	return copy;
}

struct gs_ir_expr *gs_ir_memeq(struct gs_ir_prog *p, struct gs_ir_expr *a, struct gs_ir_expr *b,
			       const void *bytes, uint32_t len)
{
	struct gs_ir_expr *e = ir_expr(p, GS_IR_MEMEQ);

	e->a = a;
	e->b = bytes ? NULL : b;
	e->len = len;
	e->bytes = ir_copy_bytes(p, bytes, len);
	return e;
}

struct gs_ir_expr *gs_ir_streq(struct gs_ir_prog *p, struct gs_ir_expr *a, const char *lit)
{
	struct gs_ir_expr *e = ir_expr(p, GS_IR_STREQ);
	uint32_t len = (uint32_t)strlen(lit) + 1;

	e->a = a;
	e->len = len;
	e->bytes = ir_copy_bytes(p, lit, len);
	return e;
}

struct gs_ir_expr *gs_ir_saved(struct gs_ir_prog *p, unsigned int index)
{
	struct gs_ir_expr *e = ir_expr(p, GS_IR_SAVED);

	e->imm = index;
	return e;
}

struct gs_ir_expr *gs_ir_saved_frame(struct gs_ir_prog *p, uint32_t save_key, unsigned int index,
				     struct gs_ir_expr *frame)
{
	struct gs_ir_expr *e = ir_expr(p, GS_IR_SAVED_FRAME);

	e->imm = index;
	e->save_key = save_key;
	e->a = frame;
	return e;
}

struct gs_ir_expr *gs_ir_mod_bias(struct gs_ir_prog *p, uint64_t dyn_vaddr, uint64_t id_vaddr,
				  uint64_t id_word)
{
	struct gs_ir_expr *e = ir_expr(p, GS_IR_MOD_BIAS);

	e->imm = dyn_vaddr;
	e->a = gs_ir_const(p, id_vaddr);
	e->b = gs_ir_const(p, id_word);
	return e;
}

struct gs_ir_expr *gs_ir_tls_block(struct gs_ir_prog *p, struct gs_ir_expr *modid_addr)
{
	struct gs_ir_expr *e = ir_expr(p, GS_IR_TLS_BLOCK);

	e->a = modid_addr;
	return e;
}

struct gs_ir_stmt *gs_ir_stmt_new(struct gs_ir_prog *p, enum gs_ir_stmt_kind kind, uint16_t id,
				  struct gs_ir_expr *expr, uint32_t len)
{
	struct gs_ir_stmt *s = ir_alloc(p, sizeof(*s));

	s->kind = kind;
	s->id = id;
	s->expr = expr;
	s->len = len;
	return s;
}

struct gs_ir_stmt *gs_ir_save(struct gs_ir_prog *p, uint32_t save_key,
			      struct gs_ir_expr *const *exprs, uint32_t n)
{
	struct gs_ir_stmt *s = gs_ir_stmt_new(p, GS_IR_S_SAVE, 0, NULL, 0);

	s->save_key = save_key;
	s->nsave = n;
	s->save_exprs = ir_alloc(p, (n ? n : 1) * sizeof(*s->save_exprs));
	for (uint32_t i = 0; i < n; i++)
		s->save_exprs[i] = exprs[i];
	return s;
}

struct gs_ir_stmt *gs_ir_save_frame(struct gs_ir_prog *p, uint32_t save_key,
				    struct gs_ir_expr *frame, struct gs_ir_expr *const *exprs,
				    uint32_t n)
{
	struct gs_ir_stmt *s = gs_ir_save(p, save_key, exprs, n);

	s->frame = frame;
	return s;
}

void gs_ir_append(struct gs_ir_stmt **head, struct gs_ir_stmt *s)
{
	while (*head)
		head = &(*head)->next;
	*head = s;
}

/* ---- canonical text ---------------------------------------------------------- */

/*
 * The dump is a stable, whitespace-normalised rendering: two programs dump to the same
 * text exactly when the code generator would emit the same code for them, so the
 * planner can use it as a deduplication key. Expressions are prefix S-expressions,
 * statements one per line, nested bodies indented by two spaces.
 */
struct dbuf {
	char *s;
	size_t len, cap;
};

static void db_put(struct dbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void db_put(struct dbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			abort();
		if ((size_t)n < b->cap - b->len)
			break;
		b->cap = (b->cap + n + 1) * 2;
		b->s = realloc(b->s, b->cap);
		if (!b->s) {
			fprintf(stderr, "ir: out of memory\n");
			abort();
		}
	}
	b->len += n;
}

static const char *const reg_names[17] = {
	"rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip",
};

static const char *const special_names[] = {
	[GS_IR_SP_PID] = "pid", [GS_IR_SP_TID] = "tid", [GS_IR_SP_HOST_PID] = "host_pid",
	[GS_IR_SP_TIMESTAMP] = "timestamp", [GS_IR_SP_PC] = "pc", [GS_IR_SP_SP] = "sp",
	[GS_IR_SP_BIAS] = "bias", [GS_IR_SP_TRACE_ID] = "trace_id", [GS_IR_SP_CFA] = "cfa",
	[GS_IR_SP_TP] = "tp",
};

static const char *const binop_names[] = {
	[GS_IR_ADD] = "add", [GS_IR_SUB] = "sub", [GS_IR_MUL] = "mul", [GS_IR_DIV] = "div",
	[GS_IR_MOD] = "mod", [GS_IR_AND] = "and", [GS_IR_OR] = "or", [GS_IR_XOR] = "xor",
	[GS_IR_SHL] = "shl", [GS_IR_SHR] = "shr", [GS_IR_EQ] = "eq", [GS_IR_NE] = "ne",
	[GS_IR_LT] = "lt", [GS_IR_LE] = "le", [GS_IR_GT] = "gt", [GS_IR_GE] = "ge",
};

static const char *const unop_names[] = {
	[GS_IR_NEG] = "neg", [GS_IR_NOT] = "not", [GS_IR_LNOT] = "lnot",
};

static const char *ir_name(const char *const *names, size_t n, unsigned int i)
{
	return i < n && names[i] ? names[i] : "?";
}

/* Signedness matters only for these operators; elsewhere it is not printed. */
static bool binop_signed_matters(unsigned int op)
{
	return op == GS_IR_DIV || op == GS_IR_MOD || op == GS_IR_SHR || op >= GS_IR_LT;
}

static void dump_bytes(struct dbuf *b, const uint8_t *p, uint32_t len)
{
	db_put(b, "\"");
	for (uint32_t i = 0; i < len; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
			db_put(b, "%c", p[i]);
		else
			db_put(b, "\\x%02x", p[i]);
	}
	db_put(b, "\"");
}

static void dump_expr(struct dbuf *b, const struct gs_ir_expr *e)
{
	if (!e) {
		db_put(b, "<null>");
		return;
	}
	switch (e->kind) {
	case GS_IR_CONST:
		db_put(b, "0x%llx", (unsigned long long)e->imm);
		return;
	case GS_IR_REG:
		db_put(b, "%%%s", ir_name(reg_names, 17, e->reg));
		return;
	case GS_IR_SPECIAL:
		db_put(b, "$%s", ir_name(special_names, sizeof(special_names) / sizeof(special_names[0]), e->op));
		return;
	case GS_IR_LOAD:
		db_put(b, "(load.%c%u ", e->is_signed ? 's' : 'u', e->size);
		break;
	case GS_IR_BINOP:
		db_put(b, "(%s%s ", ir_name(binop_names, 16, e->op),
		       e->is_signed && binop_signed_matters(e->op) ? ".s" : "");
		break;
	case GS_IR_UNOP:
		db_put(b, "(%s ", ir_name(unop_names, 3, e->op));
		break;
	case GS_IR_LAND:
		db_put(b, "(land ");
		break;
	case GS_IR_LOR:
		db_put(b, "(lor ");
		break;
	case GS_IR_SELECT:
		db_put(b, "(select ");
		break;
	case GS_IR_EXT:
		db_put(b, "(ext.%c%u ", e->is_signed ? 's' : 'u', e->bits);
		break;
	case GS_IR_MEMEQ:
		db_put(b, "(memeq %u ", e->len);
		break;
	case GS_IR_STREQ:
		db_put(b, "(streq ");
		break;
	case GS_IR_SAVED:
		db_put(b, "$saved%llu", (unsigned long long)e->imm);
		return;
	case GS_IR_SAVED_FRAME:
		db_put(b, "(saved_frame key=%u %llu ", e->save_key, (unsigned long long)e->imm);
		dump_expr(b, e->a);
		db_put(b, ")");
		return;
	case GS_IR_MOD_BIAS:
		db_put(b, "(mod_bias dyn=0x%llx id ", (unsigned long long)e->imm);
		dump_expr(b, e->a);
		db_put(b, " ");
		dump_expr(b, e->b);
		db_put(b, ")");
		return;
	case GS_IR_TLS_BLOCK:
		db_put(b, "(tls_block ");
		break;
	default:
		db_put(b, "(?%u)", e->kind);
		return;
	}
	dump_expr(b, e->a);
	if (e->kind == GS_IR_MEMEQ || e->kind == GS_IR_STREQ) {
		db_put(b, " ");
		if (e->bytes)
			dump_bytes(b, e->bytes, e->kind == GS_IR_STREQ ? e->len - 1 : e->len);
		else
			dump_expr(b, e->b);
	} else if (e->b) {
		db_put(b, " ");
		dump_expr(b, e->b);
		if (e->c) {
			db_put(b, " ");
			dump_expr(b, e->c);
		}
	}
	db_put(b, ")");
}

static void dump_body(struct dbuf *b, const struct gs_ir_stmt *s, int depth)
{
	for (; s; s = s->next) {
		db_put(b, "%*s", depth * 2, "");
		switch (s->kind) {
		case GS_IR_S_VALUE:
			db_put(b, "value #%u ", s->id);
			dump_expr(b, s->expr);
			break;
		case GS_IR_S_MEM:
			db_put(b, "mem #%u len=%u ", s->id, s->len);
			dump_expr(b, s->expr);
			break;
		case GS_IR_S_MEM_DYN:
			db_put(b, "memdyn #%u len=%u ", s->id, s->len);
			dump_expr(b, s->expr);
			db_put(b, " ");
			dump_expr(b, s->len_expr);
			break;
		case GS_IR_S_STR:
			db_put(b, "str #%u len=%u ", s->id, s->len);
			dump_expr(b, s->expr);
			break;
		case GS_IR_S_MARK:
			db_put(b, "mark #%u", s->id);
			break;
		case GS_IR_S_IF:
			db_put(b, "if #%u ", s->id);
			dump_expr(b, s->expr);
			db_put(b, "\n");
			dump_body(b, s->then_body, depth + 1);
			if (s->else_body) {
				db_put(b, "%*selse\n", depth * 2, "");
				dump_body(b, s->else_body, depth + 1);
			}
			db_put(b, "%*send", depth * 2, "");
			break;
		case GS_IR_S_RETURN:
			db_put(b, "return");
			break;
		case GS_IR_S_COMM:
			db_put(b, "comm #%u", s->id);
			break;
		case GS_IR_S_SAVE:
			db_put(b, "save key=%u", s->save_key);
			if (s->len == GS_IR_SAVE_ARMED)
				db_put(b, " armed");
			if (s->frame) {
				db_put(b, " frame=");
				dump_expr(b, s->frame);
			}
			for (uint32_t i = 0; i < s->nsave; i++) {
				db_put(b, " ");
				dump_expr(b, s->save_exprs ? s->save_exprs[i] : NULL);
			}
			break;
		case GS_IR_S_BACKTRACE:
			db_put(b, "bt #%u depth=%u", s->id, s->len);
			break;
		default:
			db_put(b, "?%u", s->kind);
			break;
		}
		db_put(b, "\n");
	}
}

char *gs_ir_dump(const struct gs_ir_prog *p)
{
	struct dbuf b = { 0 };

	db_put(&b, "%s", "");
	if (p->retprobe) {
		if (p->save_key)
			db_put(&b, "retprobe key=%u\n", p->save_key);
		else
			db_put(&b, "retprobe\n");
	}
	if (p->cfa_valid)
		db_put(&b, "cfa %%%s%+d\n", ir_name(reg_names, 17, p->cfa_reg), p->cfa_off);
	dump_body(&b, p->body, 0);
	return b.s;
}

static bool expr_reads_saved(const struct gs_ir_expr *e)
{
	return e && (e->kind == GS_IR_SAVED || expr_reads_saved(e->a) || expr_reads_saved(e->b) ||
		     expr_reads_saved(e->c));
}

static bool stmts_read_saved(const struct gs_ir_stmt *s)
{
	for (; s; s = s->next) {
		if (expr_reads_saved(s->expr) || expr_reads_saved(s->len_expr) ||
		    expr_reads_saved(s->frame) || stmts_read_saved(s->then_body) ||
		    stmts_read_saved(s->else_body))
			return true;
		for (uint32_t i = 0; i < s->nsave; i++)
			if (expr_reads_saved(s->save_exprs[i]))
				return true;
	}
	return false;
}

bool gs_ir_reads_saved(const struct gs_ir_prog *p)
{
	return p && stmts_read_saved(p->body);
}

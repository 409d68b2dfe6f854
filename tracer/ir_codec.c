// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * IR programs as flat records (wire.h): the plan cache saves them, and the tracer
 * sends them to its code generator process.
 *
 * Expressions form a DAG (the planner shares nodes): a program lists its nodes
 * children first, and parents and statements name them by their position in that
 * list, so a decoded program has the same sharing as the encoded one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tracer/ir.h"
#include "tracer/wire.h"

/* Expression node -> its position in the program's node list (open addressing). */
struct nodemap {
	const struct gs_ir_expr **keys;
	uint32_t *vals;
	size_t cap, n;
	const struct gs_ir_expr **order;	/* the nodes, children first */
	size_t norder, order_cap;
	bool oom;
};

static size_t nm_slot(const struct nodemap *m, const struct gs_ir_expr *e)
{
	size_t i = ((uintptr_t)e >> 4) * 0x9e3779b97f4a7c15ull & (m->cap - 1);

	while (m->keys[i] && m->keys[i] != e)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static uint32_t nm_get(const struct nodemap *m, const struct gs_ir_expr *e)
{
	size_t i;

	if (!e || !m->cap)
		return GS_WIRE_NIL;
	i = nm_slot(m, e);
	return m->keys[i] ? m->vals[i] : GS_WIRE_NIL;
}

static bool nm_grow(struct nodemap *m)
{
	struct nodemap n = { .cap = m->cap ? m->cap * 2 : 64 };

	n.keys = calloc(n.cap, sizeof(*n.keys));
	n.vals = calloc(n.cap, sizeof(*n.vals));
	if (!n.keys || !n.vals) {
		free(n.keys);
		free(n.vals);
		return false;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (m->keys[i]) {
			size_t j = nm_slot(&n, m->keys[i]);

			n.keys[j] = m->keys[i];
			n.vals[j] = m->vals[i];
		}
	}
	free(m->keys);
	free(m->vals);
	m->keys = n.keys;
	m->vals = n.vals;
	m->cap = n.cap;
	return true;
}

static void nm_add(struct nodemap *m, const struct gs_ir_expr *e)
{
	size_t i;

	if (!e || m->oom || nm_get(m, e) != GS_WIRE_NIL)
		return;
	nm_add(m, e->a);
	nm_add(m, e->b);
	nm_add(m, e->c);
	if ((m->n + 1) * 2 > m->cap && !nm_grow(m)) {
		m->oom = true;
		return;
	}
	if (m->norder == m->order_cap) {
		size_t cap = m->order_cap ? m->order_cap * 2 : 64;
		const struct gs_ir_expr **o = realloc(m->order, cap * sizeof(*o));

		if (!o) {
			m->oom = true;
			return;
		}
		m->order = o;
		m->order_cap = cap;
	}
	i = nm_slot(m, e);
	m->keys[i] = e;
	m->vals[i] = (uint32_t)m->norder;
	m->n++;
	m->order[m->norder++] = e;
}

static void nm_add_stmts(struct nodemap *m, const struct gs_ir_stmt *s)
{
	for (; s; s = s->next) {
		nm_add(m, s->expr);
		nm_add(m, s->len_expr);
		nm_add(m, s->frame);
		for (uint32_t i = 0; i < s->nsave; i++)
			nm_add(m, s->save_exprs[i]);
		nm_add_stmts(m, s->then_body);
		nm_add_stmts(m, s->else_body);
	}
}

/*
 * Statement lists nest this deep at most: each `else if` arm nests one level (the
 * parser allows 256 levels of blocks, and chains of any length). Both sides check
 * it, so that a decoder's recursion is bounded and never refuses what was encoded.
 */
#define IR_MAX_DEPTH	10000

static bool put_stmts(struct gs_strbuf *b, const struct nodemap *m, const struct gs_ir_stmt *s,
		      int depth)
{
	uint32_t n = 0;

	if (depth > IR_MAX_DEPTH)
		return false;

	for (const struct gs_ir_stmt *t = s; t; t = t->next)
		n++;
	gs_wire_u32(b, n);
	for (; s; s = s->next) {
		gs_wire_u8(b, s->kind);
		gs_wire_u16(b, s->id);
		gs_wire_u32(b, nm_get(m, s->expr));
		gs_wire_u32(b, nm_get(m, s->len_expr));
		gs_wire_u32(b, s->len);
		gs_wire_u32(b, s->nsave);
		for (uint32_t i = 0; i < s->nsave; i++)
			gs_wire_u32(b, nm_get(m, s->save_exprs[i]));
		gs_wire_u32(b, s->save_key);
		gs_wire_u32(b, nm_get(m, s->frame));
		if (!put_stmts(b, m, s->then_body, depth + 1) ||
		    !put_stmts(b, m, s->else_body, depth + 1))
			return false;
	}
	return true;
}

int gs_ir_encode(struct gs_strbuf *b, const struct gs_ir_prog *p)
{
	struct nodemap m = { 0 };
	int ret;

	nm_add_stmts(&m, p->body);
	if (m.oom) {
		free(m.keys);
		free(m.vals);
		free(m.order);
		return -ENOMEM;
	}
	gs_wire_u8(b, p->cfa_valid);
	gs_wire_u8(b, p->cfa_reg);
	gs_wire_u32(b, (uint32_t)p->cfa_off);
	gs_wire_u8(b, p->retprobe);
	gs_wire_u32(b, p->save_key);
	gs_wire_u32(b, (uint32_t)m.norder);
	for (size_t i = 0; i < m.norder; i++) {
		const struct gs_ir_expr *e = m.order[i];

		gs_wire_u8(b, e->kind);
		gs_wire_u8(b, e->op);
		gs_wire_u8(b, e->is_signed);
		gs_wire_u8(b, e->size);
		gs_wire_u8(b, e->bits);
		gs_wire_u8(b, e->reg);
		gs_wire_u64(b, e->imm);
		gs_wire_u32(b, nm_get(&m, e->a));
		gs_wire_u32(b, nm_get(&m, e->b));
		gs_wire_u32(b, nm_get(&m, e->c));
		gs_wire_u32(b, e->len);
		gs_wire_u32(b, e->save_key);
		gs_wire_u8(b, e->bytes != NULL);
		if (e->bytes)
			gs_wire_put(b, e->bytes, e->len);
	}
	ret = put_stmts(b, &m, p->body, 0) ? 0 : -E2BIG;
	free(m.keys);
	free(m.vals);
	free(m.order);
	return ret;
}

static struct gs_ir_expr *node(struct gs_wire_rd *r, struct gs_ir_expr **nodes, uint32_t n,
			       uint32_t id)
{
	if (id == GS_WIRE_NIL)
		return NULL;
	if (id >= n) {
		r->bad = true;
		return NULL;
	}
	return nodes[id];
}

static struct gs_ir_stmt *get_stmts(struct gs_wire_rd *r, struct gs_ir_prog *p,
				    struct gs_ir_expr **nodes, uint32_t nnodes, int depth)
{
	struct gs_ir_stmt *head = NULL, **tail = &head;
	uint32_t n;

	if (depth > IR_MAX_DEPTH) {
		r->bad = true;
		return NULL;
	}
	n = gs_wire_get_count(r, 30);
	for (uint32_t i = 0; i < n && !r->bad; i++) {
		struct gs_ir_stmt *s = gs_ir_alloc(p, sizeof(*s));

		s->kind = gs_wire_get_u8(r);
		s->id = gs_wire_get_u16(r);
		s->expr = node(r, nodes, nnodes, gs_wire_get_u32(r));
		s->len_expr = node(r, nodes, nnodes, gs_wire_get_u32(r));
		s->len = gs_wire_get_u32(r);
		/* more than GS_IR_SAVE_MAX is the code generator's error to report */
		s->nsave = gs_wire_get_count(r, 4);
		if (s->nsave && !r->bad) {
			s->save_exprs = gs_ir_alloc(p, s->nsave * sizeof(*s->save_exprs));
			for (uint32_t k = 0; k < s->nsave; k++)
				s->save_exprs[k] = node(r, nodes, nnodes, gs_wire_get_u32(r));
		}
		s->save_key = gs_wire_get_u32(r);
		s->frame = node(r, nodes, nnodes, gs_wire_get_u32(r));
		s->then_body = get_stmts(r, p, nodes, nnodes, depth + 1);
		s->else_body = get_stmts(r, p, nodes, nnodes, depth + 1);
		*tail = s;
		tail = &s->next;
	}
	return head;
}

struct gs_ir_prog *gs_ir_decode(struct gs_wire_rd *r)
{
	struct gs_ir_prog *p = gs_ir_prog_new();
	struct gs_ir_expr **nodes;
	uint32_t n;

	p->cfa_valid = gs_wire_get_u8(r);
	p->cfa_reg = gs_wire_get_u8(r);
	p->cfa_off = (int32_t)gs_wire_get_u32(r);
	p->retprobe = gs_wire_get_u8(r);
	p->save_key = gs_wire_get_u32(r);
	n = gs_wire_get_count(r, 35);
	nodes = calloc(n ? n : 1, sizeof(*nodes));
	if (!nodes)
		r->bad = true;
	for (uint32_t i = 0; i < n && !r->bad; i++) {
		struct gs_ir_expr *e = gs_ir_alloc(p, sizeof(*e));

		e->kind = gs_wire_get_u8(r);
		e->op = gs_wire_get_u8(r);
		e->is_signed = gs_wire_get_u8(r);
		e->size = gs_wire_get_u8(r);
		e->bits = gs_wire_get_u8(r);
		e->reg = gs_wire_get_u8(r);
		e->imm = gs_wire_get_u64(r);
		/* children come first: a forward or own id is a bad file */
		e->a = node(r, nodes, i, gs_wire_get_u32(r));
		e->b = node(r, nodes, i, gs_wire_get_u32(r));
		e->c = node(r, nodes, i, gs_wire_get_u32(r));
		e->len = gs_wire_get_u32(r);
		e->save_key = gs_wire_get_u32(r);
		if (gs_wire_get_u8(r) && !r->bad) {
			uint8_t *bytes;

			if ((size_t)(r->end - r->p) < e->len) {
				r->bad = true;
				break;
			}
			bytes = gs_ir_alloc(p, e->len ? e->len : 1);
			gs_wire_take(r, bytes, e->len);
			e->bytes = bytes;
		}
		nodes[i] = e;
	}
	if (!r->bad)
		p->body = get_stmts(r, p, nodes, n, 0);
	free(nodes);
	if (r->bad) {
		gs_ir_prog_free(p);
		return NULL;
	}
	return p;
}


// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The plan cache (plancache.h): a plan encoded as a flat little-endian record in a
 * cache file (filecache.h) under <dir>/plan/.
 *
 * Encoding: counts and fields in fixed widths, strings as a u32 length (NIL for
 * NULL) then the bytes and a NUL, so that a decoded plan's instruction names can
 * point into the payload it keeps. IR expressions form a DAG (the planner shares
 * nodes): each program lists its nodes children first, and parents and statements
 * name them by their position in that list.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "shared/elf.h"
#include "shared/strbuf.h"
#include "tracer/filecache.h"
#include "tracer/insn.h"
#include "tracer/plancache.h"

#define PLAN_FORMAT	"ghostscope-plan-cache-1"
#define PLAN_MAGIC	"GSPLAN1\n"
#define NIL		UINT32_MAX

/* ---- key ------------------------------------------------------------------------------ */

int gs_plancache_key(const struct gs_script *script, const struct gs_plan_module *mods,
		     size_t nmods, const struct gs_plan_opts *opts, uint8_t key[16])
{
	char self[41];
	XXH3_state_t *st;
	uint64_t v[8];

	/* A tool without a build-id could change its planner unseen: no cache then. */
	if (gs_build_id_of_path("/proc/self/exe", self))
		return -ENOENT;
	st = XXH3_createState();
	if (!st)
		return -ENOMEM;
	XXH3_128bits_reset(st);
	gs_filecache_hash_field(st, PLAN_FORMAT, sizeof(PLAN_FORMAT));
	gs_filecache_hash_field(st, self, strlen(self));
	gs_filecache_hash_field(st, script->origin, strlen(script->origin));
	gs_filecache_hash_field(st, script->src, script->len);
	v[0] = opts->str_cap;
	v[1] = opts->mem_cap;
	v[2] = opts->dump_cap;
	v[3] = opts->bt_depth;
	v[4] = opts->after_prologue;
	v[5] = gs_insn_nop5_optimized();
	v[6] = nmods;
	gs_filecache_hash_field(st, v, 7 * sizeof(v[0]));
	for (size_t i = 0; i < nmods; i++) {
		const struct gs_plan_module *m = &mods[i];
		struct gs_index_file_id fid = { 0 };

		gs_filecache_hash_field(st, m->path, strlen(m->path));
		v[0] = m->is_main | (uint64_t)m->has_bias << 1 | (uint64_t)m->has_exec << 2 |
		       (uint64_t)(m->idx != NULL) << 3;
		v[1] = m->bias;
		v[2] = m->exec_start;
		v[3] = m->exec_end;
		if (m->idx)
			gs_index_file_id(m->idx, &fid);
		v[4] = fid.dev;
		v[5] = fid.ino;
		v[6] = fid.size;
		v[7] = fid.mtime_ns;
		gs_filecache_hash_field(st, v, sizeof(v));
		if (m->info)
			gs_filecache_hash_field(st, m->info->build_id, strlen(m->info->build_id));
	}
	gs_filecache_key(st, key);
	XXH3_freeState(st);
	return 0;
}

/* ---- writer ---------------------------------------------------------------------------- */

static void put(struct gs_strbuf *b, const void *p, size_t n)
{
	gs_strbuf_add(b, p, n);
}

static void put_u8(struct gs_strbuf *b, uint8_t v)
{
	put(b, &v, 1);
}

static void put_u16(struct gs_strbuf *b, uint16_t v)
{
	put(b, &v, 2);
}

static void put_u32(struct gs_strbuf *b, uint32_t v)
{
	put(b, &v, 4);
}

static void put_u64(struct gs_strbuf *b, uint64_t v)
{
	put(b, &v, 8);
}

static void put_str(struct gs_strbuf *b, const char *s)
{
	if (!s) {
		put_u32(b, NIL);
		return;
	}
	put_u32(b, (uint32_t)strlen(s));
	put(b, s, strlen(s) + 1);
}

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
		return NIL;
	i = nm_slot(m, e);
	return m->keys[i] ? m->vals[i] : NIL;
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

	if (!e || m->oom || nm_get(m, e) != NIL)
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

static void put_stmts(struct gs_strbuf *b, const struct nodemap *m, const struct gs_ir_stmt *s)
{
	uint32_t n = 0;

	for (const struct gs_ir_stmt *t = s; t; t = t->next)
		n++;
	put_u32(b, n);
	for (; s; s = s->next) {
		put_u8(b, s->kind);
		put_u16(b, s->id);
		put_u32(b, nm_get(m, s->expr));
		put_u32(b, nm_get(m, s->len_expr));
		put_u32(b, s->len);
		put_u32(b, s->nsave);
		for (uint32_t i = 0; i < s->nsave; i++)
			put_u32(b, nm_get(m, s->save_exprs[i]));
		put_u32(b, s->save_key);
		put_u32(b, nm_get(m, s->frame));
		put_stmts(b, m, s->then_body);
		put_stmts(b, m, s->else_body);
	}
}

static int put_ir(struct gs_strbuf *b, const struct gs_ir_prog *p)
{
	struct nodemap m = { 0 };

	nm_add_stmts(&m, p->body);
	if (m.oom) {
		free(m.keys);
		free(m.vals);
		free(m.order);
		return -ENOMEM;
	}
	put_u8(b, p->cfa_valid);
	put_u8(b, p->cfa_reg);
	put_u32(b, (uint32_t)p->cfa_off);
	put_u8(b, p->retprobe);
	put_u32(b, p->save_key);
	put_u32(b, (uint32_t)m.norder);
	for (size_t i = 0; i < m.norder; i++) {
		const struct gs_ir_expr *e = m.order[i];

		put_u8(b, e->kind);
		put_u8(b, e->op);
		put_u8(b, e->is_signed);
		put_u8(b, e->size);
		put_u8(b, e->bits);
		put_u8(b, e->reg);
		put_u64(b, e->imm);
		put_u32(b, nm_get(&m, e->a));
		put_u32(b, nm_get(&m, e->b));
		put_u32(b, nm_get(&m, e->c));
		put_u32(b, e->len);
		put_u32(b, e->save_key);
		put_u8(b, e->bytes != NULL);
		if (e->bytes)
			put(b, e->bytes, e->len);
	}
	put_stmts(b, &m, p->body);
	free(m.keys);
	free(m.vals);
	free(m.order);
	return 0;
}

static uint32_t mod_pos(const struct gs_plan *plan, const struct gs_plan_module *mod)
{
	return mod ? (uint32_t)(mod - plan->mods) : NIL;
}

static uint32_t idx_pos(const struct gs_plan *plan, const struct gs_index *idx)
{
	for (size_t i = 0; idx && i < plan->nmods; i++)
		if (plan->mods[i].idx == idx)
			return (uint32_t)i;
	return NIL;
}

static uint32_t print_pos(const struct gs_probe *pr, const struct gs_plan_print *pp)
{
	for (size_t i = 0; pp && i < pr->nprints; i++)
		if (pr->prints[i] == pp)
			return (uint32_t)i;
	return NIL;
}

static void put_stmt_ref(struct gs_strbuf *b, const struct gs_stmt *s)
{
	put_u32(b, s ? s->span.start : NIL);
	put_u8(b, s ? (uint8_t)s->kind : 0);
}

int gs_plancache_encode(const struct gs_plan *plan, void **buf_ret, size_t *len_ret)
{
	struct gs_strbuf b;
	int ret = 0;

	gs_strbuf_init(&b);
	put_u32(&b, (uint32_t)plan->nmods);
	put_u32(&b, (uint32_t)plan->nprobes);
	for (size_t i = 0; i < plan->nprobes && !ret; i++) {
		const struct gs_probe *pr = &plan->probes[i];

		put_u32(&b, pr->trace_id);
		put_u8(&b, pr->retprobe | pr->hidden << 1 | (pr->ir != NULL) << 2);
		put_u8(&b, pr->insn_kind);
		put_u32(&b, pr->trace ? (uint32_t)pr->trace->index : NIL);
		put_u32(&b, mod_pos(plan, pr->mod));
		put_u64(&b, pr->vaddr);
		put_u64(&b, pr->file_offset);
		put_str(&b, pr->insn);
		put_str(&b, pr->where);
		put_str(&b, pr->error);
		if (pr->ir)
			ret = put_ir(&b, pr->ir);
		put_u32(&b, (uint32_t)pr->nprints);
		for (size_t j = 0; j < pr->nprints; j++) {
			const struct gs_plan_print *pp = pr->prints[j];

			put_stmt_ref(&b, pp->stmt);
			put_u32(&b, (uint32_t)pp->nargs);
			for (size_t k = 0; k < pp->nargs; k++) {
				const struct gs_plan_arg *a = &pp->args[k];

				put_u8(&b, a->how);
				put_u8(&b, a->int_signed);
				put_u8(&b, a->extra_ptr);
				put_u32(&b, a->dim_skip);
				put_u8(&b, a->conv);
				put_u8(&b, a->truncated);
				put_u32(&b, a->type_id);
				put_u32(&b, idx_pos(plan, a->idx));
				put_u16(&b, a->rec);
				put_u16(&b, a->rec2);
				put_str(&b, a->how == GS_ARG_TEXT ? a->text : NULL);
				put_u8(&b, a->nstrs);
				for (uint8_t s = 0; s < a->nstrs; s++) {
					put_u32(&b, a->strs[s].off);
					put_u16(&b, a->strs[s].rec);
				}
			}
		}
		put_u16(&b, pr->nrecs);
		for (uint16_t r = 1; r <= pr->nrecs; r++) {
			const struct gs_plan_rec *rec = &pr->recs[r];

			put_u8(&b, rec->role);
			put_u32(&b, print_pos(pr, rec->print));
			put_str(&b, rec->role == GS_ROLE_EXPR_ERROR ? rec->text : NULL);
			put_stmt_ref(&b, rec->stmt);
		}
	}
	if (ret) {
		gs_strbuf_deinit(&b);
		return ret;
	}
	*len_ret = b.len;
	*buf_ret = gs_strbuf_detach(&b);
	return *buf_ret ? 0 : -ENOMEM;
}

/* ---- reader ---------------------------------------------------------------------------- */

struct rd {
	const uint8_t *p, *end;
	bool bad;
};

static bool take(struct rd *r, void *out, size_t n)
{
	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = true;
		memset(out, 0, n);
		return false;
	}
	memcpy(out, r->p, n);
	r->p += n;
	return true;
}

static uint8_t get_u8(struct rd *r)
{
	uint8_t v;

	take(r, &v, 1);
	return v;
}

static uint16_t get_u16(struct rd *r)
{
	uint16_t v;

	take(r, &v, 2);
	return v;
}

static uint32_t get_u32(struct rd *r)
{
	uint32_t v;

	take(r, &v, 4);
	return v;
}

static uint64_t get_u64(struct rd *r)
{
	uint64_t v;

	take(r, &v, 8);
	return v;
}

/* A count of items of at least @min bytes each that the rest of the payload can hold. */
static uint32_t get_count(struct rd *r, size_t min)
{
	uint32_t n = get_u32(r);

	if (!r->bad && (size_t)(r->end - r->p) / min < n)
		r->bad = true;
	return r->bad ? 0 : n;
}

/* A string inside the payload (NUL-terminated there), or NULL for NIL. */
static const char *get_str(struct rd *r)
{
	uint32_t n = get_u32(r);
	const char *s;

	if (r->bad || n == NIL)
		return NULL;
	if ((size_t)(r->end - r->p) <= n || r->p[n] != '\0') {
		r->bad = true;
		return NULL;
	}
	s = (const char *)r->p;
	r->p += n + 1;
	return s;
}

static char *get_strdup(struct rd *r)
{
	const char *s = get_str(r);
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		r->bad = true;
	return d;
}

static struct gs_ir_expr *node(struct rd *r, struct gs_ir_expr **nodes, uint32_t n, uint32_t id)
{
	if (id == NIL)
		return NULL;
	if (id >= n) {
		r->bad = true;
		return NULL;
	}
	return nodes[id];
}

static struct gs_ir_stmt *get_stmts(struct rd *r, struct gs_ir_prog *p, struct gs_ir_expr **nodes,
				    uint32_t nnodes, int depth)
{
	struct gs_ir_stmt *head = NULL, **tail = &head;
	uint32_t n;

	if (depth > 64) {	/* far deeper than any script nests */
		r->bad = true;
		return NULL;
	}
	n = get_count(r, 30);
	for (uint32_t i = 0; i < n && !r->bad; i++) {
		struct gs_ir_stmt *s = gs_ir_alloc(p, sizeof(*s));

		s->kind = get_u8(r);
		s->id = get_u16(r);
		s->expr = node(r, nodes, nnodes, get_u32(r));
		s->len_expr = node(r, nodes, nnodes, get_u32(r));
		s->len = get_u32(r);
		s->nsave = get_count(r, 4);
		if (s->nsave > GS_IR_SAVE_MAX)
			r->bad = true;
		if (s->nsave && !r->bad) {
			s->save_exprs = gs_ir_alloc(p, s->nsave * sizeof(*s->save_exprs));
			for (uint32_t k = 0; k < s->nsave; k++)
				s->save_exprs[k] = node(r, nodes, nnodes, get_u32(r));
		}
		s->save_key = get_u32(r);
		s->frame = node(r, nodes, nnodes, get_u32(r));
		s->then_body = get_stmts(r, p, nodes, nnodes, depth + 1);
		s->else_body = get_stmts(r, p, nodes, nnodes, depth + 1);
		*tail = s;
		tail = &s->next;
	}
	return head;
}

static struct gs_ir_prog *get_ir(struct rd *r)
{
	struct gs_ir_prog *p = gs_ir_prog_new();
	struct gs_ir_expr **nodes;
	uint32_t n;

	p->cfa_valid = get_u8(r);
	p->cfa_reg = get_u8(r);
	p->cfa_off = (int32_t)get_u32(r);
	p->retprobe = get_u8(r);
	p->save_key = get_u32(r);
	n = get_count(r, 35);
	nodes = calloc(n ? n : 1, sizeof(*nodes));
	if (!nodes)
		r->bad = true;
	for (uint32_t i = 0; i < n && !r->bad; i++) {
		struct gs_ir_expr *e = gs_ir_alloc(p, sizeof(*e));

		e->kind = get_u8(r);
		e->op = get_u8(r);
		e->is_signed = get_u8(r);
		e->size = get_u8(r);
		e->bits = get_u8(r);
		e->reg = get_u8(r);
		e->imm = get_u64(r);
		/* children come first: a forward or own id is a bad file */
		e->a = node(r, nodes, i, get_u32(r));
		e->b = node(r, nodes, i, get_u32(r));
		e->c = node(r, nodes, i, get_u32(r));
		e->len = get_u32(r);
		e->save_key = get_u32(r);
		if (get_u8(r) && !r->bad) {
			uint8_t *bytes;

			if ((size_t)(r->end - r->p) < e->len) {
				r->bad = true;
				break;
			}
			bytes = gs_ir_alloc(p, e->len ? e->len : 1);
			take(r, bytes, e->len);
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

static const struct gs_stmt *find_in_block(const struct gs_block *blk, uint32_t off, uint8_t kind);

static const struct gs_stmt *find_stmt(const struct gs_stmt *s, uint32_t off, uint8_t kind)
{
	const struct gs_stmt *f = NULL;

	if (s->span.start == off && (uint8_t)s->kind == kind)
		return s;
	if (s->kind != GS_S_IF)
		return NULL;
	for (size_t i = 0; i < s->arm_cnt && !f; i++)
		f = find_in_block(&s->arms[i].body, off, kind);
	if (!f && s->else_body)
		f = find_in_block(s->else_body, off, kind);
	return f;
}

static const struct gs_stmt *find_in_block(const struct gs_block *blk, uint32_t off, uint8_t kind)
{
	const struct gs_stmt *f = NULL;

	for (size_t i = 0; i < blk->stmt_cnt && !f; i++)
		f = find_stmt(blk->stmts[i], off, kind);
	return f;
}

/* The statement of trace @tr saved as (offset, kind); NULL for none, r->bad if lost. */
static const struct gs_stmt *get_stmt_ref(struct rd *r, const struct gs_trace *tr)
{
	uint32_t off = get_u32(r);
	uint8_t kind = get_u8(r);
	const struct gs_stmt *s;

	if (off == NIL || r->bad)
		return NULL;
	s = tr ? find_in_block(&tr->body, off, kind) : NULL;
	if (!s)
		r->bad = true;
	return s;
}

static void get_print(struct rd *r, const struct gs_plan *plan, const struct gs_trace *tr,
		      struct gs_plan_print *pp)
{
	pp->stmt = get_stmt_ref(r, tr);
	pp->nargs = get_count(r, 22);
	pp->args = calloc(pp->nargs ? pp->nargs : 1, sizeof(*pp->args));
	if (!pp->args) {
		r->bad = true;
		pp->nargs = 0;
		return;
	}
	for (size_t k = 0; k < pp->nargs && !r->bad; k++) {
		struct gs_plan_arg *a = &pp->args[k];
		uint32_t ix;

		a->how = get_u8(r);
		a->int_signed = get_u8(r);
		a->extra_ptr = get_u8(r);
		a->dim_skip = get_u32(r);
		a->conv = get_u8(r);
		a->truncated = get_u8(r);
		a->type_id = get_u32(r);
		ix = get_u32(r);
		if (ix != NIL && ix >= plan->nmods)
			r->bad = true;
		else
			a->idx = ix == NIL ? NULL : plan->mods[ix].idx;
		a->rec = get_u16(r);
		a->rec2 = get_u16(r);
		/* only GS_ARG_TEXT owns its text (probe_clear frees it) */
		a->text = get_strdup(r);
		if (a->text && a->how != GS_ARG_TEXT) {
			free(a->text);
			a->text = NULL;
			r->bad = true;
		}
		a->nstrs = get_u8(r);
		if (a->nstrs > GS_PLAN_ARG_STRS)
			r->bad = true;
		for (uint8_t s = 0; s < a->nstrs && !r->bad; s++) {
			a->strs[s].off = get_u32(r);
			a->strs[s].rec = get_u16(r);
		}
	}
}

static void get_probe(struct rd *r, struct gs_plan *plan, const struct gs_script *script,
		      struct gs_probe *pr)
{
	uint32_t ti, mi, np;
	uint8_t flags;

	if (get_u32(r) != pr->trace_id)
		r->bad = true;
	flags = get_u8(r);
	pr->retprobe = flags & 1;
	pr->hidden = flags & 2;
	pr->insn_kind = get_u8(r);
	ti = get_u32(r);
	mi = get_u32(r);
	if (ti >= script->trace_cnt || mi >= plan->nmods) {
		r->bad = true;
		return;
	}
	pr->trace = script->traces[ti];
	pr->mod = &plan->mods[mi];
	pr->vaddr = get_u64(r);
	pr->file_offset = get_u64(r);
	pr->insn = get_str(r);
	pr->where = get_strdup(r);
	pr->error = get_strdup(r);
	if ((flags & 4) && !r->bad)
		pr->ir = get_ir(r);
	np = get_count(r, 9);
	if (np) {
		pr->prints = calloc(np, sizeof(*pr->prints));
		if (!pr->prints)
			r->bad = true;
	}
	for (uint32_t j = 0; j < np && !r->bad; j++) {
		pr->prints[j] = calloc(1, sizeof(*pr->prints[j]));
		if (!pr->prints[j]) {
			r->bad = true;
			break;
		}
		pr->nprints++;
		get_print(r, plan, pr->trace, pr->prints[j]);
	}
	pr->nrecs = get_u16(r);
	if (r->bad)
		return;
	pr->recs = calloc((size_t)pr->nrecs + 1, sizeof(*pr->recs));
	if (!pr->recs) {
		pr->nrecs = 0;
		r->bad = true;
		return;
	}
	for (uint16_t i = 1; i <= pr->nrecs && !r->bad; i++) {
		struct gs_plan_rec *rec = &pr->recs[i];
		uint32_t pi;

		rec->role = get_u8(r);
		pi = get_u32(r);
		if (pi != NIL && pi >= pr->nprints)
			r->bad = true;
		else
			rec->print = pi == NIL ? NULL : pr->prints[pi];
		/* only an EXPR_ERROR record owns its text (probe_clear frees it) */
		rec->text = get_strdup(r);
		if (rec->text && rec->role != GS_ROLE_EXPR_ERROR) {
			free((char *)rec->text);
			rec->text = NULL;
			r->bad = true;
		}
		rec->stmt = get_stmt_ref(r, pr->trace);
	}
}

int gs_plancache_decode(void *buf, size_t len, const struct gs_script *script,
			struct gs_plan_module *mods, size_t nmods, struct gs_plan **plan_ret)
{
	struct rd r = { buf, (const uint8_t *)buf + len, false };
	struct gs_plan *plan = calloc(1, sizeof(*plan));
	uint32_t n;

	*plan_ret = NULL;
	if (!plan) {
		free(buf);
		return -ENOMEM;
	}
	plan->script = script;
	plan->mods = mods;
	plan->nmods = nmods;
	plan->cache_buf = buf;
	if (get_u32(&r) != nmods)
		r.bad = true;
	n = get_count(&r, 40);
	if (n) {
		plan->probes = calloc(n, sizeof(*plan->probes));
		if (!plan->probes)
			r.bad = true;
	}
	for (uint32_t i = 0; i < n && !r.bad; i++) {
		struct gs_probe *pr = &plan->probes[plan->nprobes++];

		pr->plan = plan;
		pr->trace_id = i + 1;
		gs_strbuf_init(&pr->reads);
		get_probe(&r, plan, script, pr);
	}
	if (r.bad || r.p != r.end) {
		gs_plan_free(plan);
		return -EINVAL;
	}
	*plan_ret = plan;
	return 0;
}

/* ---- files ----------------------------------------------------------------------------- */

int gs_plancache_load(const char *dir, const uint8_t key[16], const struct gs_script *script,
		      struct gs_plan_module *mods, size_t nmods, struct gs_plan **plan_ret)
{
	char d[PATH_MAX], path[PATH_MAX];
	size_t len;
	void *buf;
	int ret;

	*plan_ret = NULL;
	ret = gs_filecache_paths(dir, "plan", key, ".plan", d, path, sizeof(path));
	if (ret)
		return ret;
	buf = gs_filecache_read(path, PLAN_MAGIC, key, &len);
	if (!buf)
		return -ENOENT;
	return gs_plancache_decode(buf, len, script, mods, nmods, plan_ret);
}

int gs_plancache_store(const char *dir, const uint8_t key[16], const struct gs_plan *plan)
{
	char d[PATH_MAX], path[PATH_MAX];
	size_t len;
	void *buf;
	int ret;

	ret = gs_filecache_paths(dir, "plan", key, ".plan", d, path, sizeof(path));
	if (ret)
		return ret;
	ret = gs_plancache_encode(plan, &buf, &len);
	if (ret)
		return ret;
	ret = gs_filecache_write(dir, "plan", d, path, PLAN_MAGIC, key, buf, len);
	free(buf);
	return ret;
}

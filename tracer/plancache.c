// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The plan cache (plancache.h): a plan encoded as a flat little-endian record in a
 * cache file (filecache.h) under <dir>/plan/.
 *
 * Encoding: wire.h, whose strings end in a NUL inside the payload, so that a decoded
 * plan's instruction names can point into the payload it keeps; IR programs as
 * ir_codec.c writes them.
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
#include "tracer/wire.h"

#define PLAN_FORMAT	"ghostscope-plan-cache-1"
#define PLAN_MAGIC	"GSPLAN1\n"

/* ---- key ------------------------------------------------------------------------------ */

int gs_plancache_key(const struct gs_script *script, const struct gs_plan_module *mods,
		     size_t nmods, const struct gs_plan_opts *opts, uint8_t key[16])
{
	const char *self = gs_self_build_id();
	XXH3_state_t *st;
	uint64_t v[8];

	/* A tool without a build-id could change its planner unseen: no cache then. */
	if (!*self)
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

static uint32_t mod_pos(const struct gs_plan *plan, const struct gs_plan_module *mod)
{
	return mod ? (uint32_t)(mod - plan->mods) : GS_WIRE_NIL;
}

static uint32_t idx_pos(const struct gs_plan *plan, const struct gs_index *idx)
{
	for (size_t i = 0; idx && i < plan->nmods; i++)
		if (plan->mods[i].idx == idx)
			return (uint32_t)i;
	return GS_WIRE_NIL;
}

static uint32_t print_pos(const struct gs_probe *pr, const struct gs_plan_print *pp)
{
	for (size_t i = 0; pp && i < pr->nprints; i++)
		if (pr->prints[i] == pp)
			return (uint32_t)i;
	return GS_WIRE_NIL;
}

static void put_stmt_ref(struct gs_strbuf *b, const struct gs_stmt *s)
{
	gs_wire_u32(b, s ? s->span.start : GS_WIRE_NIL);
	gs_wire_u8(b, s ? (uint8_t)s->kind : 0);
}

int gs_plancache_encode(const struct gs_plan *plan, void **buf_ret, size_t *len_ret)
{
	struct gs_strbuf b;
	int ret = 0;

	gs_strbuf_init(&b);
	gs_wire_u32(&b, (uint32_t)plan->nmods);
	gs_wire_u32(&b, (uint32_t)plan->nprobes);
	for (size_t i = 0; i < plan->nprobes && !ret; i++) {
		const struct gs_probe *pr = &plan->probes[i];

		gs_wire_u32(&b, pr->trace_id);
		gs_wire_u8(&b, pr->retprobe | pr->hidden << 1 | (pr->ir != NULL) << 2);
		gs_wire_u8(&b, pr->insn_kind);
		gs_wire_u32(&b, pr->trace ? (uint32_t)pr->trace->index : GS_WIRE_NIL);
		gs_wire_u32(&b, mod_pos(plan, pr->mod));
		gs_wire_u64(&b, pr->vaddr);
		gs_wire_u64(&b, pr->file_offset);
		gs_wire_str(&b, pr->insn);
		gs_wire_str(&b, pr->where);
		gs_wire_str(&b, pr->error);
		if (pr->ir)
			ret = gs_ir_encode(&b, pr->ir);
		gs_wire_u32(&b, (uint32_t)pr->nprints);
		for (size_t j = 0; j < pr->nprints; j++) {
			const struct gs_plan_print *pp = pr->prints[j];

			put_stmt_ref(&b, pp->stmt);
			gs_wire_u32(&b, (uint32_t)pp->nargs);
			for (size_t k = 0; k < pp->nargs; k++) {
				const struct gs_plan_arg *a = &pp->args[k];

				gs_wire_u8(&b, a->how);
				gs_wire_u8(&b, a->int_signed);
				gs_wire_u8(&b, a->extra_ptr);
				gs_wire_u32(&b, a->dim_skip);
				gs_wire_u8(&b, a->conv);
				gs_wire_u8(&b, a->truncated);
				gs_wire_u32(&b, a->type_id);
				gs_wire_u32(&b, idx_pos(plan, a->idx));
				gs_wire_u16(&b, a->rec);
				gs_wire_u16(&b, a->rec2);
				gs_wire_str(&b, a->how == GS_ARG_TEXT ? a->text : NULL);
				gs_wire_u8(&b, a->nstrs);
				for (uint8_t s = 0; s < a->nstrs; s++) {
					gs_wire_u32(&b, a->strs[s].off);
					gs_wire_u16(&b, a->strs[s].rec);
				}
			}
		}
		gs_wire_u16(&b, pr->nrecs);
		for (uint16_t r = 1; r <= pr->nrecs; r++) {
			const struct gs_plan_rec *rec = &pr->recs[r];

			gs_wire_u8(&b, rec->role);
			gs_wire_u32(&b, print_pos(pr, rec->print));
			gs_wire_str(&b, rec->role == GS_ROLE_EXPR_ERROR ? rec->text : NULL);
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
static const struct gs_stmt *get_stmt_ref(struct gs_wire_rd *r, const struct gs_trace *tr)
{
	uint32_t off = gs_wire_get_u32(r);
	uint8_t kind = gs_wire_get_u8(r);
	const struct gs_stmt *s;

	if (off == GS_WIRE_NIL || r->bad)
		return NULL;
	s = tr ? find_in_block(&tr->body, off, kind) : NULL;
	if (!s)
		r->bad = true;
	return s;
}

static void get_print(struct gs_wire_rd *r, const struct gs_plan *plan, const struct gs_trace *tr,
		      struct gs_plan_print *pp)
{
	pp->stmt = get_stmt_ref(r, tr);
	if (!pp->stmt)		/* the decoder renders from it */
		r->bad = true;
	pp->nargs = gs_wire_get_count(r, 22);
	pp->args = calloc(pp->nargs ? pp->nargs : 1, sizeof(*pp->args));
	if (!pp->args) {
		r->bad = true;
		pp->nargs = 0;
		return;
	}
	for (size_t k = 0; k < pp->nargs && !r->bad; k++) {
		struct gs_plan_arg *a = &pp->args[k];
		uint32_t ix;

		a->how = gs_wire_get_u8(r);
		a->int_signed = gs_wire_get_u8(r);
		a->extra_ptr = gs_wire_get_u8(r);
		a->dim_skip = gs_wire_get_u32(r);
		a->conv = gs_wire_get_u8(r);
		a->truncated = gs_wire_get_u8(r);
		a->type_id = gs_wire_get_u32(r);
		ix = gs_wire_get_u32(r);
		if (ix != GS_WIRE_NIL && ix >= plan->nmods)
			r->bad = true;
		else
			a->idx = ix == GS_WIRE_NIL ? NULL : plan->mods[ix].idx;
		a->rec = gs_wire_get_u16(r);
		a->rec2 = gs_wire_get_u16(r);
		/* only GS_ARG_TEXT owns its text (probe_clear frees it) */
		a->text = gs_wire_get_strdup(r);
		if (a->text && a->how != GS_ARG_TEXT) {
			free(a->text);
			a->text = NULL;
			r->bad = true;
		}
		if (a->how == GS_ARG_TEXT && !a->text)
			r->bad = true;
		a->nstrs = gs_wire_get_u8(r);
		if (a->nstrs > GS_PLAN_ARG_STRS)
			r->bad = true;
		for (uint8_t s = 0; s < a->nstrs && !r->bad; s++) {
			a->strs[s].off = gs_wire_get_u32(r);
			a->strs[s].rec = gs_wire_get_u16(r);
		}
	}
}

static void get_probe(struct gs_wire_rd *r, struct gs_plan *plan, const struct gs_script *script,
		      struct gs_probe *pr)
{
	uint32_t ti, mi, np;
	uint8_t flags;

	if (gs_wire_get_u32(r) != pr->trace_id)
		r->bad = true;
	flags = gs_wire_get_u8(r);
	pr->retprobe = flags & 1;
	pr->hidden = flags & 2;
	pr->insn_kind = gs_wire_get_u8(r);
	ti = gs_wire_get_u32(r);
	mi = gs_wire_get_u32(r);
	if (ti >= script->trace_cnt || mi >= plan->nmods) {
		r->bad = true;
		return;
	}
	pr->trace = script->traces[ti];
	pr->mod = &plan->mods[mi];
	pr->vaddr = gs_wire_get_u64(r);
	pr->file_offset = gs_wire_get_u64(r);
	pr->insn = gs_wire_get_str(r);
	pr->where = gs_wire_get_strdup(r);
	pr->error = gs_wire_get_strdup(r);
	if ((flags & 4) && !r->bad)
		pr->ir = gs_ir_decode(r);
	np = gs_wire_get_count(r, 9);
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
	pr->nrecs = gs_wire_get_u16(r);
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

		rec->role = gs_wire_get_u8(r);
		pi = gs_wire_get_u32(r);
		if (pi != GS_WIRE_NIL && pi >= pr->nprints)
			r->bad = true;
		else
			rec->print = pi == GS_WIRE_NIL ? NULL : pr->prints[pi];
		/* only an EXPR_ERROR record owns its text (probe_clear frees it) */
		rec->text = gs_wire_get_strdup(r);
		if (rec->text && rec->role != GS_ROLE_EXPR_ERROR) {
			free((char *)rec->text);
			rec->text = NULL;
			r->bad = true;
		}
		rec->stmt = get_stmt_ref(r, pr->trace);
		/* what the decoder follows for each role must be there */
		if ((rec->role == GS_ROLE_PRINT && !rec->print) ||
		    (rec->role == GS_ROLE_EXPR_ERROR && !rec->text) ||
		    (rec->role == GS_ROLE_BACKTRACE && !rec->stmt))
			r->bad = true;
	}
}

int gs_plancache_decode(void *buf, size_t len, const struct gs_script *script,
			struct gs_plan_module *mods, size_t nmods, struct gs_plan **plan_ret)
{
	struct gs_wire_rd r = { buf, (const uint8_t *)buf + len, false };
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
	if (gs_wire_get_u32(&r) != nmods)
		r.bad = true;
	n = gs_wire_get_count(&r, 40);
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

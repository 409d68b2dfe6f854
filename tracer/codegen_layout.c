// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The event layout of a probe program: where each statement's record goes in the
 * ring-buffer event. The emitter (codegen.c, in the LLVM library) and the renderer
 * (through gs_codegen_layout) must agree, so both use this one function; it lives
 * outside the LLVM library because the tracer needs it on every run, cache hits too.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tracer/codegen.h"
#include "tracer/codegen_lib.h"
#include "tracer/event.h"

static uint32_t round8(uint32_t n)
{
	return (n + 7) & ~7u;
}

uint32_t gs_cg_pow2_at_least(uint32_t n)
{
	uint32_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

static uint32_t slot_cap(const struct gs_ir_stmt *s)
{
	switch (s->kind) {
	case GS_IR_S_VALUE:
	case GS_IR_S_IF:
		return 8;
	case GS_IR_S_MEM:
	case GS_IR_S_MEM_DYN:
	case GS_IR_S_STR:
		return s->len > 8 ? round8(s->len) : 8;
	case GS_IR_S_COMM:
		return 16;
	case GS_IR_S_BACKTRACE:
		return sizeof(struct gs_bt_hdr) + 8 * s->len;
	default:
		return 0;
	}
}

static int layout_fail(struct gs_cg_layout *lo, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int layout_fail(struct gs_cg_layout *lo, int ret, const char *fmt, ...)
{
	va_list ap;

	if (lo->err && lo->errlen) {
		va_start(ap, fmt);
		vsnprintf(lo->err, lo->errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static int layout_body(struct gs_cg_layout *lo, const struct gs_ir_stmt *s)
{
	for (; s; s = s->next) {
		struct gs_event_slot *slot;
		int ret;

		if (s->kind > GS_IR_S_BACKTRACE)
			return layout_fail(lo, -EINVAL, "unknown statement kind %u", s->kind);
		if (s->kind == GS_IR_S_RETURN)
			continue;
		if (s->kind == GS_IR_S_SAVE) {
			if (!s->nsave || s->nsave > GS_IR_SAVE_MAX || !s->save_exprs)
				return layout_fail(lo, -E2BIG, "save of %u values (1..%u allowed)",
						   s->nsave, GS_IR_SAVE_MAX);
			continue;
		}
		if (!s->id)
			return layout_fail(lo, -EINVAL, "statement with emit id 0");
		if (s->kind == GS_IR_S_BACKTRACE && (!s->len || s->len > GS_IR_BT_MAX))
			return layout_fail(lo, -E2BIG, "backtrace #%u of depth %u (1..%u allowed)",
					   s->id, s->len, GS_IR_BT_MAX);
		if (s->kind != GS_IR_S_MARK && s->kind != GS_IR_S_COMM &&
		    s->kind != GS_IR_S_BACKTRACE && !s->expr)
			return layout_fail(lo, -EINVAL, "statement #%u lacks an expression", s->id);
		if (s->kind == GS_IR_S_MEM_DYN && !s->len_expr)
			return layout_fail(lo, -EINVAL, "statement #%u lacks a length", s->id);
		if ((s->kind == GS_IR_S_MEM || s->kind == GS_IR_S_MEM_DYN || s->kind == GS_IR_S_STR) &&
		    (s->len > GS_CODEGEN_MAX_MEM || (s->kind == GS_IR_S_STR && s->len < 2)))
			return layout_fail(lo, -E2BIG, "statement #%u reads %u bytes (1..%u allowed)",
					   s->id, s->len, GS_CODEGEN_MAX_MEM);
		if (lo->cnt == lo->cap) {
			size_t cap = lo->cap ? lo->cap * 2 : 16;
			void *p = reallocarray(lo->slots, cap, sizeof(*lo->slots));

			if (!p)
				return -ENOMEM;
			lo->slots = p;
			lo->cap = cap;
		}
		slot = &lo->slots[lo->cnt++];
		slot->id = s->id;
		slot->kind = s->kind;
		slot->off = lo->end;
		slot->cap = slot_cap(s);
		lo->end += sizeof(struct gs_rec_hdr) + slot->cap;
		if (lo->end > GS_CODEGEN_MAX_EVENT)
			return layout_fail(lo, -E2BIG, "event exceeds %u bytes", GS_CODEGEN_MAX_EVENT);
		if (s->kind == GS_IR_S_BACKTRACE) {
			/* The unwinder's pc stores are masked to GS_IR_BT_MAX slots (helpers.c). */
			uint32_t need = slot->off + sizeof(struct gs_rec_hdr) +
					sizeof(struct gs_bt_hdr) + 8 * GS_IR_BT_MAX;

			if (need > lo->reserve)
				lo->reserve = need;
		}
		if (s->kind == GS_IR_S_MEM_DYN) {
			/* The verifier sees the length as "masked", so room up to the mask. */
			uint32_t need = slot->off + sizeof(struct gs_rec_hdr) +
					gs_cg_pow2_at_least(s->len + 1);

			if (need > lo->reserve)
				lo->reserve = need;
		}
		if (s->kind == GS_IR_S_IF) {
			ret = layout_body(lo, s->then_body);
			if (!ret)
				ret = layout_body(lo, s->else_body);
			if (ret)
				return ret;
		}
	}
	return 0;
}

int gs_cg_layout_build(const struct gs_ir_prog *prog, struct gs_cg_layout *lo)
{
	int ret;

	lo->end = sizeof(struct gs_event_hdr);
	lo->reserve = 0;
	ret = layout_body(lo, prog->body);
	if (lo->reserve < lo->end)
		lo->reserve = lo->end;
	return ret;
}

int gs_codegen_layout(const struct gs_ir_prog *prog, struct gs_event_slot **slots_ret,
		      size_t *cnt_ret, uint32_t *event_len_ret)
{
	struct gs_cg_layout lo = { 0 };
	int ret = gs_cg_layout_build(prog, &lo);

	if (ret) {
		free(lo.slots);
		return ret;
	}
	*slots_ret = lo.slots;
	*cnt_ret = lo.cnt;
	*event_len_ret = lo.end;
	return 0;
}

/* ---- per-run settings ---------------------------------------------------------------- */

uint32_t gs_codegen_cfg_fill(const struct gs_codegen_opts *o, struct gs_codegen_cfg *cfg)
{
	uint32_t ring = o->ringbuf_bytes ? o->ringbuf_bytes : GS_CODEGEN_DEFAULT_RING;

	memset(cfg, 0, sizeof(*cfg));
	if (ring < 4096 || (ring & (ring - 1)))
		return 0;
	cfg->pidns_dev = o->pidns_dev;
	cfg->pidns_ino = o->pidns_ino;
	cfg->pid_filter = o->pid_filter;
	cfg->filter_tgid = o->filter_tgid;
	cfg->wakeup_bytes = o->wakeup_bytes ? o->wakeup_bytes : ring / 8;
	return ring;
}

/* ---- shared bodies ------------------------------------------------------------------- */

/* @a and @b as a leaf of a shared body: the same in a node of @a met twice (a DAG). */
static bool shape_leaf(const struct gs_ir_expr *a, const struct gs_ir_expr *b,
		       struct gs_cg_shape *sh)
{
	bool is_const = a->kind == GS_IR_CONST;

	for (size_t i = 0; i < sh->n; i++)
		if (sh->leaf[i] == a)
			return is_const ? sh->imm[i] == b->imm : sh->reg[i] == b->reg;
	if (sh->n == GS_CG_MAX_LEAVES)
		return false;
	sh->leaf[sh->n] = a;
	sh->is_const[sh->n] = is_const;
	sh->reg[sh->n] = b->reg;
	sh->imm[sh->n++] = b->imm;
	return true;
}

/* @fixed: constants the code generator reads at compile time (GS_IR_MOD_BIAS's). */
static bool shape_expr(const struct gs_ir_expr *a, const struct gs_ir_expr *b,
		       struct gs_cg_shape *sh, bool *cfa, bool fixed)
{
	bool kids_fixed;

	if (!a || !b)
		return a == b;
	if (a->kind != b->kind || a->op != b->op || a->is_signed != b->is_signed ||
	    a->size != b->size || a->bits != b->bits || a->len != b->len ||
	    a->save_key != b->save_key)
		return false;
	if (a->kind == GS_IR_REG || (a->kind == GS_IR_CONST && !fixed))
		return shape_leaf(a, b, sh);
	if (a->imm != b->imm || a->reg != b->reg || !a->bytes != !b->bytes ||
	    (a->bytes && memcmp(a->bytes, b->bytes, a->len)))
		return false;
	if (a->kind == GS_IR_SPECIAL && a->op == GS_IR_SP_CFA)
		*cfa = true;
	kids_fixed = a->kind == GS_IR_MOD_BIAS;
	return shape_expr(a->a, b->a, sh, cfa, kids_fixed) &&
	       shape_expr(a->b, b->b, sh, cfa, kids_fixed) &&
	       shape_expr(a->c, b->c, sh, cfa, kids_fixed);
}

static bool shape_stmts(const struct gs_ir_stmt *a, const struct gs_ir_stmt *b,
			struct gs_cg_shape *sh, bool *cfa)
{
	for (; a && b; a = a->next, b = b->next) {
		if (a->kind != b->kind || a->id != b->id || a->len != b->len ||
		    a->nsave != b->nsave || a->save_key != b->save_key ||
		    !shape_expr(a->expr, b->expr, sh, cfa, false) ||
		    !shape_expr(a->len_expr, b->len_expr, sh, cfa, false) ||
		    !shape_expr(a->frame, b->frame, sh, cfa, false) ||
		    !shape_stmts(a->then_body, b->then_body, sh, cfa) ||
		    !shape_stmts(a->else_body, b->else_body, sh, cfa))
			return false;
		/* a call-scoped save is keyed by the program's CFA (codegen.c cg_stmt_save) */
		if (a->kind == GS_IR_S_SAVE && !a->frame)
			*cfa = true;
		for (uint32_t i = 0; i < a->nsave; i++)
			if (!shape_expr(a->save_exprs[i], b->save_exprs[i], sh, cfa, false))
				return false;
	}
	return !a && !b;
}

bool gs_cg_same_shape(const struct gs_ir_prog *a, const struct gs_ir_prog *b,
		      struct gs_cg_shape *sh)
{
	bool cfa = false;

	sh->n = 0;
	if (!a || !b || a->retprobe != b->retprobe || a->save_key != b->save_key ||
	    !shape_stmts(a->body, b->body, sh, &cfa))
		return false;
	/* $cfa is computed from the program's CFA rule: it must be the same rule */
	return !cfa || (a->cfa_valid == b->cfa_valid && a->cfa_reg == b->cfa_reg &&
			a->cfa_off == b->cfa_off);
}

/* A backtrace runs the unwinder's loop: such bodies stay alone (verifier limits). */
static bool has_backtrace(const struct gs_ir_stmt *s)
{
	for (; s; s = s->next)
		if (s->kind == GS_IR_S_BACKTRACE || has_backtrace(s->then_body) ||
		    has_backtrace(s->else_body))
			return true;
	return false;
}

size_t gs_codegen_merge(const struct gs_ir_prog *const *progs, size_t n, uint32_t max,
			uint32_t *entry_of, uint32_t *variant_of)
{
	/* the open group of each kind (0: entry, 1: return) and its size */
	uint32_t open[2] = { 0, 0 }, used[2] = { 0, 0 };
	bool has[2] = { false, false };
	size_t nentries = 0;

	if (max < 1)
		max = 1;
	for (size_t i = 0; i < n; i++) {
		int k = progs[i] && progs[i]->retprobe;

		if (progs[i] && has_backtrace(progs[i]->body)) {
			entry_of[i] = nentries++;
			variant_of[i] = 0;
			continue;
		}
		if (!has[k] || used[k] == max) {
			open[k] = nentries++;
			used[k] = 0;
			has[k] = true;
		}
		entry_of[i] = open[k];
		variant_of[i] = used[k]++;
	}
	return nentries;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Record decoders of the index reader: ranges, location expressions and lists,
 * variables, scope dictionaries and trees, the module record. Each reads one value
 * LMDB returned through a bounds-checked struct gs_dec (shared/enc.h) and puts every
 * array it makes into the index's arena; layouts are in schema.h.
 */
#include <dwarf.h>
#include <errno.h>
#include <string.h>

#include "shared/enc.h"
#include "shared/errors.h"
#include "shared/index.h"
#include "shared/index_internal.h"
#include "shared/schema.h"

/* "u n, n x (s lo - @base, u hi - lo)" */
int gs_idx_dec_ranges(struct gs_index *idx, struct gs_dec *d, uint64_t base, uint32_t *n_ret,
		      const struct gs_range **r_ret)
{
	uint32_t n = gs_dec_count(d, 2);
	struct gs_range *r = n ? gs_idx_alloc(idx, n * sizeof(*r)) : NULL;

	if (n && !r)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		r[i].lo = base + (uint64_t)gs_dec_s(d);
		r[i].hi = r[i].lo + gs_dec_u(d);
	}
	*n_ret = n;
	*r_ret = r;
	return d->err ? -GS_ERR_CORRUPT : 0;
}

/* schema.h "expr": a lone reg/breg in one byte, else "u (nops << 1 | has blob), ops
 * (u8 atom, gs_op_arity() x s), [u len, blob]" */
int gs_idx_dec_expr(struct gs_index *idx, struct gs_dec *d, struct gs_locexpr *e)
{
	uint64_t head, n;
	struct gs_op *ops;

	memset(e, 0, sizeof(*e));
	if (d->p < d->end && *d->p >= GS_EXPR_BREG0 && *d->p < 0x80) {	/* a lone reg/breg */
		uint8_t b = gs_dec_u8(d);

		ops = gs_idx_alloc(idx, sizeof(*ops));
		if (!ops)
			return -ENOMEM;
		if (b < GS_EXPR_REG)
			ops->atom = DW_OP_breg0 + (b - GS_EXPR_BREG0);
		else if (b < GS_EXPR_BREG)
			ops->atom = DW_OP_reg0 + (b - GS_EXPR_REG);
		else
			ops->atom = DW_OP_breg0 + (b - GS_EXPR_BREG);
		ops->n1 = b >= GS_EXPR_BREG ? (uint64_t)gs_dec_s(d) : 0;
		ops->n2 = 0;
		e->nops = 1;
		e->ops = ops;
		return d->err ? -GS_ERR_CORRUPT : 0;
	}
	head = gs_dec_u(d);
	n = head >> 1;

	if (n > (uint64_t)(d->end - d->p))
		return -GS_ERR_CORRUPT;
	ops = n ? gs_idx_alloc(idx, n * sizeof(*ops)) : NULL;
	if (n && !ops)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		int arity;

		ops[i].atom = gs_dec_u8(d);
		arity = gs_op_arity(ops[i].atom);
		ops[i].n1 = arity > 0 ? (uint64_t)gs_dec_s(d) : 0;
		ops[i].n2 = arity > 1 ? (uint64_t)gs_dec_s(d) : 0;
	}
	e->nops = (uint32_t)n;
	e->ops = ops;
	e->blob_len = head & 1 ? gs_dec_count(d, 1) : 0;
	e->blob = e->blob_len ? gs_dec_bytes(d, e->blob_len) : NULL;
	return d->err ? -GS_ERR_CORRUPT : 0;
}

/*
 * A location whose kind byte was already read (var records pack it with flags); a
 * list's first lo is from @base (scope trees: the function's first lo; else 0).
 */
static int dec_loc_body(struct gs_index *idx, struct gs_dec *d, uint8_t kind, uint64_t base,
			struct gs_location *loc)
{
	struct gs_loc_entry *ents;
	int ret = 0;

	memset(loc, 0, sizeof(*loc));
	loc->kind = kind;
	switch (loc->kind) {
	case GS_LOC_NONE:
		break;
	case GS_LOC_EXPR:
		ret = gs_idx_dec_expr(idx, d, &loc->expr);
		break;
	case GS_LOC_LIST: {
		uint64_t prev = base;

		loc->nentries = gs_dec_count(d, 2);
		ents = loc->nentries ? gs_idx_alloc(idx, loc->nentries * sizeof(*ents)) : NULL;
		if (loc->nentries && !ents)
			return -ENOMEM;
		for (uint32_t i = 0; i < loc->nentries && !ret; i++) {
			uint64_t lg = gs_dec_u(d);

			ents[i].lo = prev + (lg & 1 ? (uint64_t)gs_dec_s(d) : 0);
			ents[i].hi = ents[i].lo + (lg >> 1);
			prev = ents[i].hi;
			ret = gs_idx_dec_expr(idx, d, &ents[i].expr);
		}
		loc->entries = ents;
		break;
	}
	case GS_LOC_CONST:
		loc->cval = gs_dec_s(d);
		loc->cval_len = gs_dec_count(d, 1);
		loc->cval_bytes = loc->cval_len ? gs_dec_bytes(d, loc->cval_len) : NULL;
		break;
	default:
		return -GS_ERR_CORRUPT;
	}
	if (ret)
		return ret;
	return d->err ? -GS_ERR_CORRUPT : 0;
}

static int dec_loc(struct gs_index *idx, struct gs_dec *d, struct gs_location *loc)
{
	return dec_loc_body(idx, d, gs_dec_u8(d), 0, loc);
}

/* "u8 kind | flags << 2 | location kind << 5, str name, u type, u decl_file, u decl_line,
 * location without its kind byte" */
int gs_idx_dec_var(struct gs_index *idx, struct gs_dec *d, struct gs_var *v)
{
	uint8_t head = gs_dec_u8(d);

	v->kind = head & 3;
	v->flags = head >> 2 & 7;
	v->name = gs_idx_dec_sref(idx, d);
	v->type_id = gs_dec_u32(d);
	v->decl_file = gs_dec_u32(d);
	v->decl_line = gs_dec_u32(d);
	if (d->err || head & 0x80)
		return -GS_ERR_CORRUPT;
	return dec_loc_body(idx, d, head >> 5 & 3, 0, &v->loc);
}

/*
 * "u nstrs, strs, u ntmpls, ntmpls x (u name + 1, u type, u zigzag(decl_line -
 * previous) << 1 | file changed, [u decl_file])"
 */
int gs_idx_dec_dict(struct gs_index *idx, struct gs_dec *d, struct scope_dict *sd)
{
	uint32_t file = 0, line = 0;

	sd->ntmpls = gs_dec_count(d, 4);
	sd->tmpls = sd->ntmpls ? gs_idx_alloc(idx, sd->ntmpls * sizeof(*sd->tmpls)) : NULL;
	sd->name_refs = sd->ntmpls ? gs_idx_alloc(idx, sd->ntmpls * sizeof(*sd->name_refs)) : NULL;
	if (sd->ntmpls && (!sd->tmpls || !sd->name_refs))
		return -ENOMEM;
	for (uint32_t i = 0; i < sd->ntmpls; i++) {
		uint64_t w, zz;

		memset(&sd->tmpls[i], 0, sizeof(sd->tmpls[i]));
		sd->name_refs[i] = gs_dec_u(d);
		sd->tmpls[i].type_id = gs_dec_u32(d);
		w = gs_dec_u(d);
		zz = w >> 1;
		line += (uint32_t)((int64_t)(zz >> 1) ^ -(int64_t)(zz & 1));
		if (w & 1)
			file = gs_dec_u32(d);
		sd->tmpls[i].decl_file = file;
		sd->tmpls[i].decl_line = line;
	}
	return d->err ? -GS_ERR_CORRUPT : 0;
}

/* A scope tree's variable: "u8 head (as in var record), u template, location rest" */
static int dec_scope_var(struct gs_index *idx, struct gs_dec *d, struct scope_dict *sd,
			 struct gs_var *v)
{
	uint8_t head = gs_dec_u8(d);
	uint32_t t = gs_dec_u32(d);
	bool bad = false;

	if (d->err || head & 0x80 || t >= sd->ntmpls)
		return -GS_ERR_CORRUPT;
	if (sd->name_refs[t]) {
		/* first use of the template: resolve its name, once */
		sd->tmpls[t].name = gs_idx_str(idx, sd->name_refs[t], &bad);
		if (bad)
			return -GS_ERR_CORRUPT;
		sd->name_refs[t] = 0;
	}
	*v = sd->tmpls[t];
	v->kind = head & 3;
	v->flags = head >> 2 & 7;
	return dec_loc_body(idx, d, head >> 5 & 3, sd->loc_base, &v->loc);
}

bool gs_idx_in_ranges(const struct gs_range *r, uint32_t n, uint64_t pc)
{
	for (uint32_t i = 0; i < n; i++)
		if (pc >= r[i].lo && pc < r[i].hi)
			return true;
	return false;
}

/* A scope that gs_idx_dec_scope() skipped: its ranges miss the pc looked for. */
#define SCOPE_SKIPPED 1

/*
 * "u8 kind, [u name (string + 1) unless a block], ranges from the parent's first lo,
 * [u call_file, u call_line for an inline], [location frame_base for the function],
 * u rest, u nvars, vars, u nchildren, children"
 *
 * With @pc, only the path to @pc: a child scope whose ranges miss it is skipped
 * (SCOPE_SKIPPED) by its rest length, undecoded, and a scope keeps at most the one
 * child that holds it. Planning a probe in a big function with hundreds of inlined
 * scopes then decodes a handful of them.
 */
int gs_idx_dec_scope(struct gs_index *idx, struct gs_dec *d, struct scope_dict *sd,
		     struct gs_scope *s, const struct gs_scope *parent, int depth,
		     const uint64_t *pc)
{
	struct gs_var *vars;
	struct gs_scope *kids;
	uint64_t base = parent && parent->nranges ? parent->ranges[0].lo : 0, head, rest;
	struct gs_range *ranges;
	uint32_t nkids;
	int ret;

	if (depth > GS_SCOPE_MAX_DEPTH)
		return -GS_ERR_CORRUPT;
	memset(s, 0, sizeof(*s));
	s->parent = parent;
	head = gs_dec_u(d);
	s->kind = head & 3;
	if (s->kind > GS_SCOPE_INLINE || head >> 2 > (uint64_t)(d->end - d->p) / 2)
		return -GS_ERR_CORRUPT;
	if (s->kind == GS_SCOPE_FUNC) {
		s->name = sd->func_name;
	} else if (s->kind == GS_SCOPE_INLINE) {
		s->name = gs_idx_dec_sref(idx, d);
	}
	s->nranges = (uint32_t)(head >> 2);
	ranges = s->nranges ? gs_idx_alloc(idx, s->nranges * sizeof(*ranges)) : NULL;
	if (s->nranges && !ranges)
		return -ENOMEM;
	for (uint32_t i = 0; i < s->nranges; i++) {
		ranges[i].lo = base + (uint64_t)gs_dec_s(d);
		ranges[i].hi = ranges[i].lo + gs_dec_u(d);
	}
	s->ranges = ranges;
	if (!parent)
		sd->loc_base = s->nranges ? s->ranges[0].lo : 0;
	if (s->kind == GS_SCOPE_INLINE) {
		s->call_file = gs_dec_u32(d);
		s->call_line = gs_dec_u32(d);
	}
	if (s->kind == GS_SCOPE_FUNC) {
		ret = dec_loc(idx, d, &s->frame_base);
		if (ret)
			return ret;
	}
	rest = gs_dec_u(d);
	if (d->err || rest > (uint64_t)(d->end - d->p))
		return -GS_ERR_CORRUPT;
	if (pc && parent && !gs_idx_in_ranges(s->ranges, s->nranges, *pc)) {
		d->p += rest;
		return SCOPE_SKIPPED;
	}
	s->nvars = gs_dec_count(d, 2);
	vars = s->nvars ? gs_idx_alloc(idx, s->nvars * sizeof(*vars)) : NULL;
	if (s->nvars && !vars)
		return -ENOMEM;
	for (uint32_t i = 0; i < s->nvars; i++)
		if ((ret = dec_scope_var(idx, d, sd, &vars[i])))
			return ret;
	s->vars = vars;
	nkids = gs_dec_count(d, 3);
	kids = nkids ? gs_idx_alloc(idx, (pc ? 1 : nkids) * sizeof(*kids)) : NULL;
	if (nkids && !kids)
		return -ENOMEM;
	s->children = kids;
	for (uint32_t i = 0; i < nkids; i++) {
		ret = gs_idx_dec_scope(idx, d, sd, &kids[pc ? 0 : i], s, depth + 1, pc);
		if (ret < 0)
			return ret;
		if (pc && ret != SCOPE_SKIPPED) {
			/* the rest of the record are its siblings: nothing more on the path */
			s->nchildren = 1;
			return 0;
		}
	}
	s->nchildren = pc ? 0 : nkids;
	return d->err ? -GS_ERR_CORRUPT : 0;
}

int gs_idx_dec_module(struct gs_index *idx, struct gs_dec *d)
{
	struct gs_module_info *m = &idx->info;
	struct gs_segment *segs;
	const char *bid = gs_dec_str(d);

	if (!bid || strlen(bid) > 40)
		return -GS_ERR_CORRUPT;
	strcpy(m->build_id, bid);
	m->path = gs_dec_str(d);
	m->elf_type = gs_dec_u32(d);
	m->machine = gs_dec_u32(d);
	m->nsegments = gs_dec_count(d, 5);
	segs = m->nsegments ? gs_idx_alloc(idx, m->nsegments * sizeof(*segs)) : NULL;
	if (m->nsegments && !segs)
		return -ENOMEM;
	for (uint32_t i = 0; i < m->nsegments; i++) {
		segs[i].vaddr = gs_dec_u(d);
		segs[i].memsz = gs_dec_u(d);
		segs[i].offset = gs_dec_u(d);
		segs[i].filesz = gs_dec_u(d);
		segs[i].flags = gs_dec_u32(d);
	}
	m->segments = segs;
	m->has_dwarf = gs_dec_u8(d);
	m->debug_source = gs_dec_str(d);
	m->dwarf_versions = gs_dec_u32(d);
	m->producer = gs_dec_str(d);
	m->index_time = gs_dec_u(d);
	m->nfuncs = gs_dec_u(d);
	m->ninlines = gs_dec_u(d);
	m->nvars = gs_dec_u(d);
	m->ntypes = gs_dec_u(d);
	m->nlines = gs_dec_u(d);
	m->ncfi = gs_dec_u(d);
	m->nsymbols = gs_dec_u(d);
	m->nglobals = gs_dec_u(d);
	m->dwarf_bytes = gs_dec_u(d);
	if (!m->path)
		m->path = "";
	if (!m->debug_source)
		m->debug_source = "none";
	if (!m->producer)
		m->producer = "";
	return d->err ? -GS_ERR_CORRUPT : 0;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The planner: statements, probe patterns and probes (see plan.h; the design is in
 * plan_internal.h, expressions in plan_expr.c).
 */
#include <dwarf.h>
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/errors.h"
#include "tracer/plan_internal.h"
#include "tracer/render.h"

#include <fcntl.h>
#include <gelf.h>
#include <unistd.h>

#include "shared/elf.h"

/* A hidden entry probe to add once every visible probe has its trace id. */
struct pending_save {
	struct gs_plan_module *mod;
	uint64_t vaddr;
	uint32_t save_key;
	struct gs_ir_prog *ir;
};

/* ---- records ---------------------------------------------------------------------- */

static uint16_t new_rec(struct pctx *c, enum gs_rec_role role)
{
	struct gs_probe *pr = c->pr;
	struct gs_plan_rec *recs = realloc(pr->recs, (pr->nrecs + 2) * sizeof(*recs));

	if (!recs)
		abort();
	pr->recs = recs;
	if (!pr->nrecs)
		memset(&recs[0], 0, sizeof(recs[0]));
	pr->nrecs++;
	memset(&recs[pr->nrecs], 0, sizeof(recs[0]));
	recs[pr->nrecs].role = role;
	return pr->nrecs;
}

static struct gs_ir_stmt *stmt(struct pctx *c, struct gs_ir_stmt **list, enum gs_ir_stmt_kind kind,
			       uint16_t id, struct gs_ir_expr *e, uint32_t len)
{
	struct gs_ir_stmt *s = gs_ir_stmt_new(c->ir, kind, id, e, len);

	gs_ir_append(list, s);
	return s;
}

/* ---- statements ------------------------------------------------------------------- */

static char *render_const(const struct tval *v)
{
	struct gs_strbuf sb;

	gs_strbuf_init(&sb);
	if (v->kind == TV_OPTOUT)
		gs_strbuf_adds(&sb, v->unavailable && strstr(v->unavailable, "synthetic") ?
			       "<synthetic pointer>" : "<optimized out>");
	else if (v->kind == TV_STRLIT)
		gs_render_cstring(v->bytes, v->len, &sb);
	else if (v->kind == TV_SYNPTR && plan_is_string(v) && v->syn_off >= 0 &&
		 (uint64_t)v->syn_off < v->len)	/* a char* like any other: its string */
		gs_render_cstring(v->bytes + v->syn_off, v->len - (uint64_t)v->syn_off, &sb);
	else if (v->kind == TV_SYNPTR)
		gs_strbuf_adds(&sb, "<synthetic pointer>");
	else
		gs_render_value(v->idx, v->type, v->bytes, v->len, &sb);
	return gs_strbuf_detach(&sb);
}

/*
 * Collects into @arg the char* pointers of an object of type @type_id (@skip leading
 * array dimensions indexed away) that starts at byte @off of a printed object of @len
 * bytes: its members, those of the records and arrays it embeds (unions too: GDB shows
 * every member), never what its pointers point to. Stops at GS_PLAN_ARG_STRS and where
 * the renderer stops nesting.
 */
static void find_member_strs(struct gs_index *idx, uint32_t type_id, uint32_t skip, uint64_t off,
			     uint64_t len, int depth, struct gs_plan_arg *arg)
{
	const struct gs_type *t = gs_render_strip(idx, type_id), *et;
	uint64_t count = 1;
	uint8_t before;

	if (!t || arg->nstrs >= GS_PLAN_ARG_STRS)
		return;
	switch (t->kind) {
	case GS_TYPE_POINTER:
		if (off + 8 <= len && gs_render_is_cstr_ptr(idx, type_id))
			arg->strs[arg->nstrs++].off = (uint32_t)off;
		return;
	case GS_TYPE_STRUCT:
	case GS_TYPE_CLASS:
	case GS_TYPE_UNION:
		if (t->declaration || depth >= GS_RENDER_MAX_DEPTH)
			return;
		for (uint32_t i = 0; i < t->nmembers; i++)
			if (!t->members[i].bit_size)
				find_member_strs(idx, t->members[i].type_id, 0,
						 off + t->members[i].bit_offset / 8, len, depth + 1, arg);
		return;
	case GS_TYPE_ARRAY:
		et = gs_render_strip(idx, t->target);
		if (!et || !et->size || skip >= t->ndims)
			return;
		for (uint32_t d = skip; d < t->ndims && count <= len; d++)
			count *= t->dims[d];	/* 0 for a flexible array: nothing followed */
		/* Elements alike: when the first holds no char*, none does. */
		for (uint64_t i = 0; i < count && off + i * et->size < len; i++) {
			before = arg->nstrs;
			find_member_strs(idx, t->target, 0, off + i * et->size, len, depth + 1, arg);
			if (arg->nstrs == before || arg->nstrs >= GS_PLAN_ARG_STRS)
				break;
		}
		return;
	default:
		return;
	}
}

/* Plans how print argument @e is read and rendered by {}; appends its IR to @list. */
static int compile_arg(struct pctx *c, const struct gs_expr *e, struct gs_ir_stmt **list,
		       struct gs_plan_arg *arg)
{
	const struct gs_type *t;
	struct gs_ir_expr *x;
	unsigned int size;
	struct tval v;
	enum tclass cls;
	bool sgn;

	if (e->kind == GS_E_SPECIAL && e->special == GS_SP_COMM) {
		arg->how = GS_ARG_COMM;
		arg->rec = new_rec(c, GS_ROLE_VALUE);
		stmt(c, list, GS_IR_S_COMM, arg->rec, NULL, 16);
		return 0;
	}
	if (plan_compile(c, e, &v))
		return -EINVAL;
	if (v.kind != TV_OPTOUT && !v.extra_ptr) {
		/* A C++ reference prints as what it refers to, as GDB does. */
		const struct gs_type *t = v.idx ? gs_render_strip(v.idx, v.type) : NULL;

		if (t && (t->kind == GS_TYPE_REFERENCE || t->kind == GS_TYPE_RVALUE_REF)) {
			struct tval r;

			if (plan_deref(c, &e->span, &v, &r))
				return -EINVAL;
			v = r;
		}
	}
	arg->idx = v.idx;
	arg->type_id = v.type;
	arg->extra_ptr = v.extra_ptr;
	if (v.kind == TV_OPTOUT || v.kind == TV_STRLIT || v.kind == TV_SYNPTR ||
	    (v.kind == TV_BYTES && !v.extra_ptr)) {
		arg->how = GS_ARG_TEXT;
		arg->text = render_const(&v);
		return 0;
	}
	cls = plan_class(&v, &t);
	if (v.is_int) {
		arg->how = v.is_bool ? GS_ARG_BOOL : GS_ARG_INT;
		arg->int_signed = v.int_signed;
		arg->rec = new_rec(c, GS_ROLE_VALUE);
		stmt(c, list, GS_IR_S_VALUE, arg->rec, v.ir, 8);
		return 0;
	}
	if (plan_is_string(&v) && cls == C_PTR) {
		if (plan_rvalue(c, &e->span, &v, &x, &size, &sgn))
			return -EINVAL;
		arg->how = GS_ARG_CSTR;
		arg->rec = new_rec(c, GS_ROLE_VALUE);
		stmt(c, list, GS_IR_S_VALUE, arg->rec, x, 8);
		arg->rec2 = new_rec(c, GS_ROLE_VALUE);
		stmt(c, list, GS_IR_S_STR, arg->rec2, x, c->opts->str_cap);
		return 0;
	}
	if (v.kind == TV_MEM && !v.bit_size && cls != C_FUNC) {
		uint64_t n = plan_size(&v);

		if (!n)
			return plan_err(c, &e->span, "the size of '%.*s' is unknown",
				    (int)(e->span.end - e->span.start), c->script->src + e->span.start);
		if (n > c->opts->mem_cap)
			n = c->opts->mem_cap;
		arg->how = GS_ARG_OBJECT;
		arg->rec = new_rec(c, GS_ROLE_VALUE);
		arg->dim_skip = v.dim_skip;
		stmt(c, list, GS_IR_S_MEM, arg->rec, v.ir, n);
		/* Its char* members render as strings: each is read at its pointer's value. */
		if (arg->conv == GS_FMT_DEFAULT && !v.extra_ptr)
			find_member_strs(v.idx, v.type, v.dim_skip, 0, n, 0, arg);
		for (uint8_t i = 0; i < arg->nstrs; i++) {
			struct gs_ir_expr *at = v.ir;

			if (arg->strs[i].off)
				at = gs_ir_binop(c->ir, GS_IR_ADD, false, v.ir,
						 gs_ir_const(c->ir, arg->strs[i].off));
			arg->strs[i].rec = new_rec(c, GS_ROLE_VALUE);
			stmt(c, list, GS_IR_S_STR, arg->strs[i].rec, gs_ir_load(c->ir, at, 8, false),
			     c->opts->str_cap);
		}
		return 0;
	}
	if (cls == C_FLOAT && v.kind == TV_VAL)
		return plan_err(c, &e->span, "'%s' is a floating-point value in a register, which uprobes cannot read",
			    v.name ? v.name : "value");
	if (plan_rvalue(c, &e->span, &v, &x, &size, &sgn))
		return -EINVAL;
	arg->how = GS_ARG_SCALAR;
	arg->rec = new_rec(c, GS_ROLE_VALUE);
	stmt(c, list, GS_IR_S_VALUE, arg->rec, x, 8);
	return 0;
}

/*
 * The address a {:p} or a memory dump starts at: a pointer's value, an array's or
 * object's base.
 */
static int arg_address(struct pctx *c, const struct gs_expr *e, struct gs_ir_expr **addr_ret)
{
	const struct gs_type *t;
	unsigned int size;
	struct tval v;
	bool sgn;

	if (plan_compile(c, e, &v) || plan_need_value(c, e, &v))
		return -EINVAL;
	switch (plan_class(&v, &t)) {
	case C_PTR:
	case C_ARRAY:
		return plan_rvalue(c, &e->span, &v, addr_ret, &size, &sgn);
	default:
		if (v.kind != TV_MEM || v.bit_size)
			return plan_err(c, &e->span, "'%.*s' has no address here",
				    (int)(e->span.end - e->span.start), c->script->src + e->span.start);
		*addr_ret = v.ir;
		return 0;
	}
}

static int let_length(struct pctx *c, const struct gs_stmt *let, const struct gs_span *span,
		      struct gs_ir_expr **len_ret)
{
	unsigned int size;
	bool sgn;

	for (size_t i = 0; i < c->nlets; i++)
		if (c->lets[i].stmt == let)
			return plan_rvalue(c, &let->expr->span, &c->lets[i].val, len_ret, &size, &sgn);
	return plan_err(c, span, "length variable '%s' is not known here", let->name);
}

/* One placeholder of a format string: {} {:x} {:X} {:p} {:s} and the dumps. */
static int compile_placeholder(struct pctx *c, const struct gs_stmt *s, const struct gs_fmt_part *p,
			       struct gs_ir_stmt **list, struct gs_plan_arg *arg)
{
	const struct gs_expr *e = s->args[p->arg];
	struct gs_ir_expr *addr, *len = NULL;
	struct gs_ir_stmt *st;
	unsigned int size;
	struct tval lv;
	bool sgn;

	arg->conv = p->conv;
	if (p->conv == GS_FMT_PTR) {
		if (arg_address(c, e, &addr))
			return -EINVAL;
		arg->how = GS_ARG_ADDR;
		arg->rec = new_rec(c, GS_ROLE_VALUE);
		stmt(c, list, GS_IR_S_VALUE, arg->rec, addr, 8);
		return 0;
	}
	if (p->len_kind == GS_FMT_LEN_NONE)
		return compile_arg(c, e, list, arg);

	if (arg_address(c, e, &addr))
		return -EINVAL;
	arg->how = GS_ARG_DUMP;
	arg->rec = new_rec(c, GS_ROLE_VALUE);
	if (p->len_kind == GS_FMT_LEN_CONST) {
		uint32_t n = p->len > c->opts->dump_cap ? c->opts->dump_cap : p->len;

		arg->truncated = p->len > c->opts->dump_cap;
		stmt(c, list, GS_IR_S_MEM, arg->rec, addr, n);
		return 0;
	}
	if (p->len_kind == GS_FMT_LEN_STAR) {
		const struct gs_expr *le = s->args[p->len_arg];

		if (plan_compile(c, le, &lv) || plan_rvalue(c, &le->span, &lv, &len, &size, &sgn))
			return -EINVAL;
		if (size < 8)
			len = gs_ir_ext(c->ir, len, size * 8, sgn);
	} else if (let_length(c, p->len_let, &p->span, &len)) {
		return -EINVAL;
	}
	st = stmt(c, list, GS_IR_S_MEM_DYN, arg->rec, addr, c->opts->dump_cap);
	st->len_expr = len;
	return 0;
}

static int compile_block(struct pctx *c, const struct gs_block *b, struct gs_ir_stmt **list);

static int compile_print(struct pctx *c, const struct gs_stmt *s, struct gs_ir_stmt **list)
{
	struct gs_plan_print *pp = calloc(1, sizeof(*pp));
	struct gs_probe *pr = c->pr;
	struct gs_plan_print **prints;
	uint16_t mark;

	if (!pp)
		abort();
	prints = realloc(pr->prints, (pr->nprints + 1) * sizeof(*prints));
	if (!prints)
		abort();
	pr->prints = prints;
	pr->prints[pr->nprints++] = pp;
	pp->stmt = s;
	mark = new_rec(c, GS_ROLE_PRINT);
	pr->recs[mark].print = pp;
	stmt(c, list, GS_IR_S_MARK, mark, NULL, 0);
	pp->nargs = s->kind == GS_S_PRINT_EXPR ? 1 : s->arg_cnt;
	pp->args = calloc(pp->nargs ? pp->nargs : 1, sizeof(*pp->args));
	if (!pp->args)
		abort();
	if (s->kind == GS_S_PRINT_EXPR) {
		pp->args[0].conv = GS_FMT_DEFAULT;
		return compile_arg(c, s->expr, list, &pp->args[0]);
	}
	for (size_t i = 0; i < s->arg_cnt; i++)
		pp->args[i].how = GS_ARG_NONE;
	for (size_t i = 0; i < s->part_cnt; i++) {
		const struct gs_fmt_part *p = &s->parts[i];

		if (p->conv == GS_FMT_LIT)
			continue;
		if (compile_placeholder(c, s, p, list, &pp->args[p->arg]))
			return -EINVAL;
	}
	return 0;
}

static int compile_if(struct pctx *c, const struct gs_stmt *s, size_t arm, struct gs_ir_stmt **list)
{
	const struct gs_if_arm *a = &s->arms[arm];
	struct gs_ir_expr *x;
	struct gs_ir_stmt *st;
	unsigned int size;
	struct tval v;
	uint16_t id;
	bool sgn;

	if (plan_compile(c, a->cond, &v) || plan_rvalue(c, &a->cond->span, &v, &x, &size, &sgn))
		return -EINVAL;
	id = new_rec(c, GS_ROLE_EXPR_ERROR);
	{
		size_t n = a->cond->span.end - a->cond->span.start;
		char *text = malloc(n + 1);

		if (!text)
			abort();
		memcpy(text, c->script->src + a->cond->span.start, n);
		text[n] = '\0';
		c->pr->recs[id].text = text;
	}
	st = stmt(c, list, GS_IR_S_IF, id, v.is_bool ? x : plan_truthy(c, x), 0);
	if (compile_block(c, &a->body, &st->then_body))
		return -EINVAL;
	if (arm + 1 < s->arm_cnt)
		return compile_if(c, s, arm + 1, &st->else_body);
	if (s->else_body)
		return compile_block(c, s->else_body, &st->else_body);
	return 0;
}

static int compile_block(struct pctx *c, const struct gs_block *b, struct gs_ir_stmt **list)
{
	size_t lets_before = c->nlets;
	int err = 0;

	for (size_t i = 0; i < b->stmt_cnt && !err; i++) {
		const struct gs_stmt *s = b->stmts[i];

		switch (s->kind) {
		case GS_S_PRINT:
		case GS_S_PRINT_EXPR:
			err = compile_print(c, s, list);
			break;
		case GS_S_IF:
			err = compile_if(c, s, 0, list);
			break;
		case GS_S_LET:
			if (c->nlets >= MAX_LETS) {
				err = plan_err(c, &s->span, "too many script variables");
				break;
			}
			err = plan_compile(c, s->expr, &c->lets[c->nlets].val);
			if (!err)
				c->lets[c->nlets++].stmt = s;
			break;
		case GS_S_BT: {
			uint16_t id = new_rec(c, GS_ROLE_BACKTRACE);

			c->pr->recs[id].stmt = s;
			stmt(c, list, GS_IR_S_BACKTRACE, id, NULL, c->opts->bt_depth);
			break;
		}
		}
	}
	c->nlets = lets_before;	/* let names are scoped to their block */
	return err;
}

/* ---- pattern resolution ----------------------------------------------------------- */

struct pc_list {
	struct {
		struct gs_plan_module *mod;
		uint64_t pc;
	} *v;
	size_t n;
};

static int pcs_add(struct pc_list *l, struct gs_plan_module *mod, uint64_t pc)
{
	void *nv;

	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].mod == mod && l->v[i].pc == pc)
			return 0;
	if (l->n >= MAX_PCS_PER_TRACE)
		return -E2BIG;
	nv = realloc(l->v, (l->n + 1) * sizeof(*l->v));
	if (!nv)
		return -ENOMEM;
	l->v = nv;
	l->v[l->n].mod = mod;
	l->v[l->n].pc = pc;
	l->n++;
	return 0;
}

static void diag_at(struct gs_diag *d, const struct gs_script *s, const struct gs_span *span,
		    const char *msg)
{
	gs_diag_set(d, s->origin, s->src, s->len, span->start, span->end, "%s", msg);
}

/*
 * Where an inlined copy starts. GCC with LTO sometimes gives a copy a DW_AT_entry_pc
 * outside its own ranges (the enclosing function's first address, where none of the
 * copy's parameters exist yet); GDB then uses the start of the first range, and so do
 * we.
 */
static uint64_t inline_entry(const struct gs_inline *inl)
{
	for (uint32_t r = 0; r < inl->nranges; r++)
		if (inl->entry_pc >= inl->ranges[r].lo && inl->entry_pc < inl->ranges[r].hi)
			return inl->entry_pc;
	return inl->nranges ? inl->ranges[0].lo : inl->entry_pc;
}

/* The pcs of function @name in @pm: its out-of-line bodies, its inlined copies. */
static void resolve_func_name(struct gs_plan_module *pm, const char *name, struct pc_list *pcs)
{
	const struct gs_func *const *funcs;
	const struct gs_inline *inl;
	size_t cnt = 0, before = pcs->n;

	if (!gs_index_funcs_by_name(pm->idx, name, &funcs, &cnt)) {
		for (size_t i = 0; i < cnt; i++)
			pcs_add(pcs, pm, funcs[i]->post_prologue_pc);
	}
	if (!gs_index_inlines_by_name(pm->idx, name, &inl, &cnt)) {
		for (size_t i = 0; i < cnt; i++)
			pcs_add(pcs, pm, inline_entry(&inl[i]));
	}
	if (pcs->n == before) {	/* no DWARF for it: the ELF symbol */
		const struct gs_symbol *syms;

		if (!gs_index_symbols_by_name(pm->idx, name, &syms, &cnt))
			for (size_t i = 0; i < cnt; i++)
				if (syms[i].type == STT_FUNC && syms[i].value)
					pcs_add(pcs, pm, syms[i].value);
	}
}

static int resolve_func(const struct gs_script *script, const struct gs_pattern *p,
			struct gs_plan_module *mods, size_t nmods, struct pc_list *pcs,
			struct gs_diag *diag)
{
	for (size_t m = 0; m < nmods; m++) {
		struct gs_plan_module *pm = &mods[m];
		const char **names;
		size_t cnt;

		if (!pm->idx)
			continue;
		if (!p->glob) {
			resolve_func_name(pm, p->func, pcs);
			continue;
		}
		/*
		 * A library whose load address is not known (-t PATH lists the ones the
		 * program loads, for their globals): its uprobes would fire in every process
		 * that maps it, with no pid to filter on, so a wildcard does not reach it;
		 * naming one of its functions does.
		 */
		if (!pm->is_main && !pm->has_bias)
			continue;
		if (gs_index_func_glob(pm->idx, p->func, &names, &cnt))
			continue;
		for (size_t i = 0; i < cnt; i++)
			resolve_func_name(pm, names[i], pcs);
	}
	if (!pcs->n) {
		struct gs_strbuf sb;
		const char *names[5];
		size_t n = 0;

		gs_strbuf_init(&sb);
		gs_strbuf_addf(&sb, p->glob ? "no function matches '%s' in %s" : "no function '%s' in %s",
			       p->func, nmods ? mods[0].path : "the target");
		if (nmods > 1)
			gs_strbuf_addf(&sb, " or its %zu libraries", nmods - 1);
		for (size_t m = 0; m < nmods && !n && !p->glob; m++)
			if (mods[m].idx)
				gs_index_func_suggest(mods[m].idx, p->func, names, 5, &n);
		for (size_t i = 0; i < n; i++)
			gs_strbuf_addf(&sb, "%s'%s'", i ? ", " : "; did you mean ", names[i]);
		diag_at(diag, script, &p->span, sb.buf);
		gs_strbuf_deinit(&sb);
		return -ENOENT;
	}
	return 0;
}

static int resolve_line(const struct gs_script *script, const struct gs_pattern *p,
			struct gs_plan_module *mods, size_t nmods, struct pc_list *pcs,
			struct gs_diag *diag)
{
	bool file_seen = false;
	const char *first_file = NULL;
	char msg[512];

	for (size_t m = 0; m < nmods; m++) {
		const uint32_t *ids;
		size_t nids;

		if (!mods[m].idx || gs_index_files_match(mods[m].idx, p->file, &ids, &nids))
			continue;
		for (size_t i = 0; i < nids; i++) {
			const struct gs_line_addr *addrs;
			size_t cnt;

			file_seen = true;
			if (gs_index_line_addrs(mods[m].idx, ids[i], p->line, &addrs, &cnt) || !cnt)
				continue;
			if (first_file && strcmp(first_file, gs_index_file_name(mods[m].idx, ids[i]))) {
				snprintf(msg, sizeof(msg), "'%s' is ambiguous: '%s' and '%s'; give more of the path",
					 p->file, first_file, gs_index_file_name(mods[m].idx, ids[i]));
				diag_at(diag, script, &p->span, msg);
				return -EINVAL;
			}
			first_file = gs_index_file_name(mods[m].idx, ids[i]);
			for (size_t j = 0; j < cnt; j++)
				pcs_add(pcs, &mods[m], addrs[j].addr);
		}
	}
	if (pcs->n)
		return 0;
	if (!file_seen) {
		snprintf(msg, sizeof(msg), "no source file '%s' in the target's debug info", p->file);
	} else {
		uint32_t next = 0;

		for (uint32_t l = p->line + 1; l < p->line + 20 && !next; l++) {
			for (size_t m = 0; m < nmods && !next; m++) {
				const uint32_t *ids;
				size_t nids;

				if (!mods[m].idx || gs_index_files_match(mods[m].idx, p->file, &ids, &nids))
					continue;
				for (size_t i = 0; i < nids && !next; i++) {
					const struct gs_line_addr *a;
					size_t cnt;

					if (!gs_index_line_addrs(mods[m].idx, ids[i], l, &a, &cnt) && cnt)
						next = l;
				}
			}
		}
		if (next)
			snprintf(msg, sizeof(msg), "no code at %s:%u; the next line with code is %u",
				 p->file, p->line, next);
		else
			snprintf(msg, sizeof(msg), "no code at %s:%u", p->file, p->line);
	}
	diag_at(diag, script, &p->span, msg);
	return -ENOENT;
}

static struct gs_plan_module *find_module(struct gs_plan_module *mods, size_t nmods, const char *name)
{
	struct gs_plan_module *hit = NULL;
	size_t nl = strlen(name);

	for (size_t m = 0; m < nmods; m++) {
		size_t pl = strlen(mods[m].path);

		if (!strcmp(mods[m].path, name))
			return &mods[m];
		if (pl > nl && mods[m].path[pl - nl - 1] == '/' && !strcmp(mods[m].path + pl - nl, name)) {
			if (hit)
				return NULL;
			hit = &mods[m];
		}
	}
	return hit;
}

static int resolve(const struct gs_script *script, const struct gs_pattern *p,
		   struct gs_plan_module *mods, size_t nmods, struct pc_list *pcs,
		   struct gs_diag *diag)
{
	struct gs_plan_module *pm;
	char msg[512];

	switch (p->kind) {
	case GS_PAT_FUNC:
		return resolve_func(script, p, mods, nmods, pcs, diag);
	case GS_PAT_FUNC_RETURN: {
		/* Returns exist only for out-of-line bodies: keep the function entries. */
		struct pc_list all = { 0 };
		int err = resolve_func(script, p, mods, nmods, &all, diag);

		for (size_t i = 0; i < all.n && !err; i++) {
			const struct gs_func *f;

			if (!all.v[i].mod->idx ||
			    gs_index_func_by_addr(all.v[i].mod->idx, all.v[i].pc, &f))
				err = pcs_add(pcs, all.v[i].mod, all.v[i].pc);	/* a symbol */
			else if (all.v[i].pc == f->post_prologue_pc || all.v[i].pc == f->entry_pc)
				err = pcs_add(pcs, all.v[i].mod, f->entry_pc);
		}
		free(all.v);
		if (!err && !pcs->n) {
			diag_at(diag, script, &p->span, "only inlined copies: no out-of-line body to return from");
			err = -ENOENT;
		}
		return err;
	}
	case GS_PAT_LINE:
		return resolve_line(script, p, mods, nmods, pcs, diag);
	case GS_PAT_ADDR:
		if (!nmods)
			return -ENOENT;
		return pcs_add(pcs, &mods[0], p->addr);
	case GS_PAT_MODULE_ADDR:
		pm = find_module(mods, nmods, p->module);
		if (!pm) {
			snprintf(msg, sizeof(msg), "no module '%s' (or more than one) in the target", p->module);
			diag_at(diag, script, &p->span, msg);
			return -ENOENT;
		}
		return pcs_add(pcs, pm, p->addr);
	}
	return -EINVAL;
}

/* ---- probes ----------------------------------------------------------------------- */

static char *describe_pc(struct gs_plan_module *pm, uint64_t pc)
{
	const struct gs_func *f;
	struct gs_line_row row;
	struct gs_strbuf sb;

	gs_strbuf_init(&sb);
	/* A pc below the entry is in a split-off part (.cold): its symbol names it. */
	if (pm->idx && !gs_index_func_by_addr(pm->idx, pc, &f) && pc >= f->entry_pc) {
		if (pc == f->entry_pc)
			gs_strbuf_addf(&sb, "%s", f->qual_name ? f->qual_name : f->name);
		else
			gs_strbuf_addf(&sb, "%s+0x%" PRIx64, f->qual_name ? f->qual_name : f->name,
				       pc - f->entry_pc);
	} else {
		const struct gs_symbol *sym;

		if (pm->idx && !gs_index_symbol_by_addr(pm->idx, pc, &sym))
			gs_strbuf_addf(&sb, "%s+0x%" PRIx64, sym->name, pc - sym->value);
		else
			gs_strbuf_addf(&sb, "0x%" PRIx64, pc);
	}
	if (pm->idx && !gs_index_line_at(pm->idx, pc, &row)) {
		const char *file = gs_index_file_name(pm->idx, row.file_id);
		const char *base = file ? strrchr(file, '/') : NULL;

		gs_strbuf_addf(&sb, " at %s:%u", base ? base + 1 : file ? file : "?", row.line);
	}
	return gs_strbuf_detach(&sb);
}

static void set_cfa(struct pctx *c, struct gs_ir_prog *ir, uint64_t pc)
{
	struct gs_cfi_row cfi;

	if (c->mod->idx && !gs_index_cfi_at(c->mod->idx, pc, &cfi) && cfi.cfa_rule == GS_CFI_CFA_REG) {
		ir->cfa_valid = true;
		ir->cfa_reg = cfi.cfa_reg;
		ir->cfa_off = cfi.cfa_off;
	}
}

/*
 * Return probes: the uretprobe sits at the function's entry, and so does the hidden
 * probe that saves the parameters the return reads (and a PIE's load bias, because at
 * the return the pc is the caller's): two consumers of one uprobe cost one trap, where
 * a save after the prologue was a second one per call (about 5 us here). At the
 * entry a parameter is in its argument register by the ABI (single-location
 * parameters: -O0 keeps them in stack slots the prologue fills) or where its location
 * list says. When one is not (a struct passed before it, a clone, nothing listed at
 * the entry), c->ret_entry_reject has the probe planned again with the save after
 * the prologue (c->ret_post), where the locations hold. The save is keyed by the call's
 * CFA (ir.h GS_IR_S_SAVE), so the entry program needs a register-based CFA rule:
 * where the index has none after the prologue (no CFI, or a realigned stack, whose
 * CFA is an expression), the save moves to the entry pc, where the call has just
 * pushed the return address and the CFA is rsp + 8 whatever the CFI says. Parameters
 * in registers read the same there; parameters in memory are refused (save_param):
 * at -O0 the prologue fills their stack slots, and DWARF names the slots all the same.
 */
static void begin_retprobe(struct pctx *c)
{
	const struct gs_func *f = NULL;
	uint64_t save_pc = c->pr->vaddr;

	c->retprobe = true;
	c->nsaves = 0;
	c->func = NULL;
	c->ret_entry_abi = false;
	c->save_at_entry = false;
	if (c->mod->idx && !gs_index_func_by_addr(c->mod->idx, c->pr->vaddr, &f)) {
		c->func = f;
		if (c->ret_post || f->entry_pc != c->pr->vaddr || c->fn_clone)
			save_pc = f->post_prologue_pc;
		else
			c->ret_entry_abi = true;
	}
	c->entry_ir = gs_ir_prog_new();
	if (save_pc != c->pr->vaddr)
		set_cfa(c, c->entry_ir, save_pc);
	c->save_at_entry = !c->entry_ir->cfa_valid && save_pc != c->pr->vaddr;
	if (!c->entry_ir->cfa_valid) {
		save_pc = c->pr->vaddr;
		c->entry_ir->cfa_valid = true;
		c->entry_ir->cfa_reg = 7;	/* rsp */
		c->entry_ir->cfa_off = 8;
	}
	c->save_pc = save_pc;
	c->entry_dw = c->dw;
	c->entry_dw.pc = save_pc;
	c->ir->retprobe = true;
	if (c->dw.pie) {
		c->saves[c->nsaves++] = gs_ir_special(c->entry_ir, GS_IR_SP_BIAS);
		c->saved_vars[0] = NULL;
		c->dw.bias_expr = gs_ir_saved(c->ir, 0);
	}
}

/*
 * The first R_X86_64_DTPMOD64 slot of @elf that names the module itself: one without
 * a symbol (local-dynamic), else one whose symbol it defines. ld.so stores the
 * module's TLS id there. 0 when there is none.
 */
static uint64_t find_dtpmod(Elf *elf)
{
	uint64_t best = 0, defined = 0;
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn)) && !best) {
		GElf_Shdr sh, symsh;
		Elf_Data *d, *syms = NULL;
		Elf_Scn *symscn;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		symscn = elf_getscn(elf, sh.sh_link);
		if (symscn && gelf_getshdr(symscn, &symsh))
			syms = elf_getdata(symscn, NULL);
		for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Rela r;
			GElf_Sym sym;

			if (!gelf_getrela(d, (int)i, &r) || GELF_R_TYPE(r.r_info) != R_X86_64_DTPMOD64)
				continue;
			if (GELF_R_SYM(r.r_info) == 0) {
				best = r.r_offset;
				break;
			}
			if (!defined && syms && gelf_getsym(syms, (int)GELF_R_SYM(r.r_info), &sym) &&
			    sym.st_shndx != SHN_UNDEF)
				defined = r.r_offset;
		}
	}
	return best ? best : defined;
}

/*
 * The module vaddr of the GNU build-id's bytes (in a PT_NOTE segment, which is loaded)
 * and their first 8 as a little-endian word; false when there is none that long.
 */
static bool find_build_id(int fd, const Elf64_Phdr *ph, uint64_t *vaddr_ret, uint64_t *word_ret)
{
	uint8_t id[20];
	uint64_t vaddr;
	size_t len;

	if (gs_elf_pread_build_id(fd, ph, id, &len, &vaddr) || len < 8)
		return false;
	*vaddr_ret = vaddr;
	*word_ret = 0;
	for (int i = 7; i >= 0; i--)
		*word_ret = *word_ret << 8 | id[i];
	return true;
}

/*
 * What the planner needs from a module's ELF file beyond the index, read once: its
 * PT_DYNAMIC vaddr (which identifies it in a process's link_map list, for
 * GS_IR_MOD_BIAS) and how to find its TLS block.
 *
 * TLS. An executable's block is static, x86-64 variant II: it ends at the thread
 * pointer, aligned as glibc's _dl_determine_tlsoffset places the first module. A
 * shared library's offset in static TLS (l_tls_offset) is private to ld.so and per
 * process, so its block is found through the thread's DTV instead: dtv[module id],
 * with the id read at run time from the GOT slot ld.so filled for one of the
 * library's R_X86_64_DTPMOD64 relocations. Only public ABI is used (the DTV layout
 * is glibc's x86-64 tcbhead_t and dtv_t, unchanged since 2.26 and 16-byte entries
 * before that); link_map's glibc-internal l_tls_offset/l_tls_modid would need
 * ld.so's DWARF, which may be missing. A library reached only through
 * initial-exec or TLS-descriptor relocations has no such slot: refused.
 */
struct plan_modelf *plan_modelf(struct pctx *c, struct gs_plan_module *m)
{
	struct plan_modelf *me = NULL;
	struct gs_elf *elf = NULL;
	bool interp = false, found = false;
	Elf64_Phdr tls = { 0 }, ph[GS_ELF_PHDR_MAX];
	Elf64_Ehdr eh;
	int n = -1, fd;

	for (size_t i = 0; c->elfs && i < c->nmods; i++)
		if (&c->mods[i] == m)
			me = &c->elfs[i];
	if (!me)
		return NULL;
	if (me->read)
		return me;
	me->read = true;
	/* program headers and notes by pread: libelf's open costs 0.2 ms a module here */
	fd = open(m->path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		n = gs_elf_pread_phdrs(fd, &eh, ph, GS_ELF_PHDR_MAX);
	for (int i = 0; i < n; i++) {
		interp |= ph[i].p_type == PT_INTERP;
		if (ph[i].p_type == PT_TLS) {
			tls = ph[i];
			found = true;
		}
		if (ph[i].p_type == PT_DYNAMIC) {
			me->has_dyn = true;
			me->dyn_vaddr = ph[i].p_vaddr;
		}
		if (ph[i].p_type == PT_NOTE && !me->id_vaddr)
			find_build_id(fd, &ph[i], &me->id_vaddr, &me->id_word);
	}
	if (fd >= 0)
		close(fd);
	if (n < 0) {
		me->tls_why = "cannot read the module's program headers";
		return me;
	}
	if (!found) {
		me->tls_why = "the module has no TLS segment";
	} else if (interp || (m->info && m->info->elf_type == ET_EXEC)) {
		uint64_t align = tls.p_align ? tls.p_align : 1;
		uint64_t first = (0 - (tls.p_vaddr & (align - 1))) & (align - 1);

		me->tls_off = ((tls.p_memsz - first + align - 1) & ~(align - 1)) + first;
		me->tls_static = true;
	} else {
		/* only a library's TLS needs its relocations, and so libelf */
		if (!gs_elf_open(m->path, &elf))
			me->tls_modid_vaddr = find_dtpmod(gs_elf_handle(elf));
		gs_elf_close(elf);
		me->tls_dtv = me->tls_modid_vaddr != 0;
		if (!me->tls_dtv)
			me->tls_why = "thread-local storage of a shared library without an R_X86_64_DTPMOD64 relocation (initial-exec or TLS descriptors) is not readable";
	}
	if (!me->has_dyn && !me->tls_why)
		me->tls_why = "cannot read the module's program headers";
	return me;
}

void plan_tls(struct pctx *c, struct gs_plan_module *m, struct gs_dwctx *dw)
{
	struct plan_modelf *me = plan_modelf(c, m);

	dw->tls_ok = me && me->tls_static;
	dw->tls_off = me ? me->tls_off : 0;
	dw->tls_dtv = me && me->tls_dtv;
	dw->tls_modid_vaddr = me ? me->tls_modid_vaddr : 0;
	dw->tls_why = me ? me->tls_why : NULL;
}

/*
 * A register of the caller's frame, seen from the probe pc: its stack pointer is the
 * CFA, its rbp what the CFI row says, its rbx and r12-r15 what the index's saved-register
 * rules say (schema 3.2). Caller-saved registers are not recoverable.
 */
static struct gs_ir_expr *caller_reg(void *arg, unsigned int reg)
{
	struct pctx *c = arg;
	struct gs_ir_expr *cfa = gs_ir_special(c->ir, GS_IR_SP_CFA);
	int slot = gs_cfi_saved_slot(reg);
	uint8_t rule;
	int32_t off;

	if (reg == 7)			/* rsp */
		return cfa;
	if (reg == 6 && c->ev_cfi_ok) {
		rule = c->ev_cfi.rbp_rule;
		off = c->ev_cfi.rbp_off;
	} else if (slot >= 0 && c->ev_saved_ok) {	/* rbx, r12-r15 */
		rule = c->ev_saved.rule[slot];
		off = c->ev_saved.off[slot];
	} else {
		return NULL;
	}
	switch (rule) {
	case GS_CFI_SAME:
		return gs_ir_reg(c->ir, reg);
	case GS_CFI_OFFSET:
		return gs_ir_load(c->ir, gs_ir_binop(c->ir, GS_IR_ADD, false, cfa,
						     gs_ir_const(c->ir, (uint64_t)(int64_t)off)),
				  8, false);
	case GS_CFI_VAL_OFFSET:
		return gs_ir_binop(c->ir, GS_IR_ADD, false, cfa,
				   gs_ir_const(c->ir, (uint64_t)(int64_t)off));
	default:
		return NULL;
	}
}

/*
 * The caller's CFA at its pc @pc (the call): its CFI row's rule over its rsp (our
 * CFA) or its rbp (caller_reg), as GDB unwinds one frame. NULL when not recoverable.
 */
static struct gs_ir_expr *caller_cfa(struct pctx *c, uint64_t pc)
{
	struct gs_cfi_row row;
	struct gs_ir_expr *base;

	if (gs_index_cfi_at(c->mod->idx, pc, &row) || row.cfa_rule != GS_CFI_CFA_REG ||
	    (row.cfa_reg != 6 && row.cfa_reg != 7))
		return NULL;
	base = caller_reg(c, row.cfa_reg);
	return base ? gs_ir_binop(c->ir, GS_IR_ADD, false, base,
				  gs_ir_const(c->ir, (uint64_t)(int64_t)row.cfa_off)) : NULL;
}

/*
 * The value call site @rp passes in register @reg, as an expression at the probe pc
 * (its DW_AT_call_value in the caller's frame), or NULL when it cannot be had here.
 */
static struct gs_ir_expr *call_site_value(struct pctx *c, uint64_t rp, unsigned int reg)
{
	const struct gs_scope *chain[MAX_CHAIN];
	const struct gs_call_site *cs;
	size_t n = 0;
	struct gs_location loc = { .kind = GS_LOC_EXPR };
	struct gs_dwctx dw = c->dw;
	struct gs_dwloc out;
	char err[128];

	if (gs_index_call_site(c->mod->idx, rp, &cs))
		return NULL;
	for (uint32_t i = 0; i < cs->nparams; i++) {
		const struct gs_locexpr *l = &cs->params[i].location;

		if (l->nops == 1 && ((l->ops[0].atom == DW_OP_reg0 + reg && reg < 32) ||
				     (l->ops[0].atom == DW_OP_regx && l->ops[0].n1 == reg)))
			loc.expr = cs->params[i].value;
	}
	if (!loc.expr.nops)
		return NULL;
	/* the caller's frame at its call (rp - 1): its frame base and CFA, no entry values */
	dw.pc = rp - 1;
	dw.func_entry = 0;
	dw.frame_base = NULL;
	dw.entry_reg = NULL;
	dw.reg_value = caller_reg;
	dw.reg_arg = c;
	dw.cfa_expr = caller_cfa(c, rp - 1);
	if (dw.cfa_expr && !gs_index_scope_chain(c->mod->idx, rp - 1, chain, MAX_CHAIN, &n) && n) {
		dw.frame_base = &chain[n - 1]->frame_base;
		dw.func_entry = chain[n - 1]->nranges ? chain[n - 1]->ranges[0].lo : 0;
	}
	if (gs_dwexpr_lower(c->ir, &loc, &dw, &out, err, sizeof(err)))
		return NULL;
	switch (out.kind) {
	case GS_DWLOC_MEMORY:	/* a DWARF value expression: its "address" is the value */
	case GS_DWLOC_VALUE:
		return out.ir;
	case GS_DWLOC_BYTES: {
		uint64_t raw = 0;

		if (out.len > 8)
			return NULL;
		memcpy(&raw, out.bytes, out.len);
		return gs_ir_const(c->ir, raw);
	}
	default:
		return NULL;
	}
}

/*
 * Register @reg as the function's callers passed it, chosen by the return address
 * at the CFA (a call site of the function whose value is known here), else @fallback
 * (the entry save). At most 64 callers: a select chain per read. Lists them for the
 * dry run once per register.
 */
static struct gs_ir_expr *entry_from_callers(struct pctx *c, unsigned int reg,
					     struct gs_ir_expr *fallback)
{
	const struct gs_func *f;
	struct gs_ir_expr *ra, *x = fallback;
	struct gs_strbuf sites;
	size_t n = 0;

	if (!fallback || gs_index_func_by_addr(c->mod->idx, c->dw.pc, &f) || !f->ncallers ||
	    f->ncallers > 64)
		return fallback;
	if (f->flags & GS_FUNC_TAIL_CALLED) {
		/*
		 * A tail call re-enters it in a frame whose return address still names the
		 * first caller's site: only the entry save, which every entry refreshes,
		 * is right then (GDB prints <optimized out> there).
		 */
		if (reg < 32 && !(c->ev_noted & 1u << reg)) {
			c->ev_noted |= 1u << reg;
			gs_strbuf_addf(&c->pr->reads, "    entry value of %s: the entry save only (%s is reached by tail calls)\n",
				       gs_dwexpr_reg_name(reg), f->name);
		}
		return fallback;
	}
	c->ev_cfi_ok = !gs_index_cfi_at(c->mod->idx, c->dw.pc, &c->ev_cfi);
	c->ev_saved_ok = !gs_index_cfi_saved_at(c->mod->idx, c->dw.pc, &c->ev_saved);
	/* the return address: where the CFI row says (x86-64: always CFA - 8) */
	ra = gs_ir_load(c->ir, gs_ir_binop(c->ir, GS_IR_ADD, false, gs_ir_special(c->ir, GS_IR_SP_CFA),
					   gs_ir_const(c->ir, (uint64_t)(int64_t)(
						   c->ev_cfi_ok && c->ev_cfi.ra_rule == GS_CFI_OFFSET ?
						   c->ev_cfi.ra_off : -8))),
			8, false);
	gs_strbuf_init(&sites);
	for (uint32_t i = f->ncallers; i-- > 0;) {
		struct gs_ir_expr *v = call_site_value(c, f->callers[i], reg);

		if (!v)
			continue;
		x = gs_ir_select(c->ir, gs_ir_binop(c->ir, GS_IR_EQ, false, ra,
				 gs_dwexpr_rebase(c->ir, &c->dw, gs_ir_const(c->ir, f->callers[i]))),
				 v, x);
		gs_strbuf_addf(&sites, " 0x%" PRIx64, f->callers[i]);
		n++;
	}
	if (n && reg < 32 && !(c->ev_noted & 1u << reg)) {
		c->ev_noted |= 1u << reg;
		gs_strbuf_addf(&c->pr->reads, "    entry value of %s: from %zu call site%s (return pc%s), else %s\n",
			       gs_dwexpr_reg_name(reg), n, n == 1 ? "" : "s", sites.buf,
			       "the entry save");
	}
	gs_strbuf_deinit(&sites);
	return n ? x : fallback;
}

/*
 * DW_OP_entry_value(DW_OP_regN): at the function's entry the register still holds
 * it. Elsewhere, as GDB does, from the caller's call site when the return address
 * names one whose DW_AT_call_value is known here; failing that, a hidden probe at the
 * entry saves it, keyed by the call's CFA, and this probe reads it back for the same
 * frame (a frame entered before the probes were armed has no save: not available).
 */
struct gs_ir_expr *plan_entry_reg(void *arg, unsigned int reg)
{
	struct pctx *c = arg;
	struct gs_ir_expr *saved = NULL;
	size_t i;

	if (c->retprobe || !c->fn_entry)
		return NULL;
	if (c->dw.pc == c->fn_entry)
		return gs_ir_reg(c->ir, reg);
	if (!c->ir->cfa_valid)
		return NULL;
	for (i = 0; i < c->nev; i++)
		if (c->ev_regs[i] == reg)
			break;
	if (i < c->nev || c->nev < GS_IR_SAVE_MAX) {
		if (i == c->nev)
			c->ev_regs[c->nev++] = reg;
		saved = gs_ir_saved_frame(c->ir, c->pr->trace_id, i,
					  gs_ir_special(c->ir, GS_IR_SP_CFA));
	}
	return entry_from_callers(c, reg, saved);
}

/* The hidden entry probe that saves the registers entry values need. */
static void entry_value_saves(struct pctx *c, struct pending_save *pending)
{
	struct gs_ir_expr *regs[GS_IR_SAVE_MAX];
	struct gs_ir_prog *eir;

	if (!c->nev || !c->ir)
		return;
	eir = gs_ir_prog_new();
	set_cfa(c, eir, c->fn_entry);
	for (size_t i = 0; i < c->nev; i++)
		regs[i] = gs_ir_reg(eir, c->ev_regs[i]);
	eir->body = gs_ir_save_frame(eir, c->pr->trace_id, gs_ir_special(eir, GS_IR_SP_CFA), regs,
				     c->nev);
	pending->mod = c->mod;
	pending->vaddr = c->fn_entry;
	pending->save_key = c->pr->trace_id;
	pending->ir = eir;
}

static void plan_probe(struct pctx *c, const struct gs_trace *tr, struct pending_save *pending)
{
	struct gs_probe *pr = c->pr;
	size_t n = 0;

	c->failed = false;
	c->nlets = 0;
	c->nchain = 0;
	c->retprobe = false;
	c->ret_entry_reject = false;
	c->entry_ir = NULL;
	memset(&c->dw, 0, sizeof(c->dw));
	c->dw.pc = pr->vaddr;
	c->dw.pie = c->mod->info && c->mod->info->elf_type == ET_DYN;
	{
		const struct gs_func *f;

		c->fn_clone = false;
		if (c->mod->idx && !gs_index_func_by_addr(c->mod->idx, pr->vaddr, &f)) {
			c->dw.func_entry = f->entry_pc;
			c->fn_clone = f->flags & GS_FUNC_CLONE;
		}
	}
	c->fn_entry = c->dw.func_entry;
	c->nev = 0;
	c->ev_noted = 0;
	c->dw.entry_reg = plan_entry_reg;
	c->dw.entry_arg = c;
	plan_tls(c, c->mod, &c->dw);
	if (c->mod->idx && !gs_index_scope_chain(c->mod->idx, pr->vaddr, c->chain, MAX_CHAIN, &n)) {
		c->nchain = n;
		c->dw.frame_base = &c->chain[n - 1]->frame_base;
	}
	c->ir = gs_ir_prog_new();
	set_cfa(c, c->ir, pr->vaddr);
	if (tr->pattern.kind == GS_PAT_FUNC_RETURN) {
		pr->retprobe = true;
		begin_retprobe(c);
	}
	if (compile_block(c, &tr->body, &c->ir->body)) {
		gs_ir_prog_free(c->ir);
		c->ir = NULL;
	}
	pr->ir = c->ir;
	memset(pending, 0, sizeof(*pending));
	/*
	 * An entry save only where the return program reads it: a return deletes the
	 * save only when it reads one, and a save nothing reads (the load bias of a PIE,
	 * added up front) would stay in the map for good.
	 */
	if (c->entry_ir && c->ir && c->nsaves && gs_ir_reads_saved(c->ir)) {
		c->entry_ir->body = gs_ir_save(c->entry_ir, pr->trace_id, c->saves, c->nsaves);
		/* at the uretprobe's own pc: skipped for calls the kernel will not report */
		if (c->save_pc == pr->vaddr)
			c->entry_ir->body->len = GS_IR_SAVE_ARMED;
		pending->mod = c->mod;
		pending->vaddr = c->save_pc;
		pending->save_key = pr->trace_id;
		pending->ir = c->entry_ir;
	} else {
		gs_ir_prog_free(c->entry_ir);
		entry_value_saves(c, pending);
	}
	c->entry_ir = NULL;
}

/* Frees what compiling a probe produced, so that it can be planned again. */
static void probe_clear(struct gs_probe *pr)
{
	for (size_t j = 0; j < pr->nprints; j++) {
		for (size_t k = 0; k < pr->prints[j]->nargs; k++)
			if (pr->prints[j]->args[k].how == GS_ARG_TEXT)
				free(pr->prints[j]->args[k].text);
		free(pr->prints[j]->args);
		free(pr->prints[j]);
	}
	for (uint16_t r = 1; r <= pr->nrecs; r++)
		if (pr->recs[r].role == GS_ROLE_EXPR_ERROR)
			free((char *)pr->recs[r].text);
	free(pr->prints);
	free(pr->recs);
	free(pr->error);
	gs_strbuf_deinit(&pr->reads);
	gs_ir_prog_free(pr->ir);
	pr->prints = NULL;
	pr->nprints = 0;
	pr->recs = NULL;
	pr->nrecs = 0;
	pr->error = NULL;
	pr->ir = NULL;
	gs_strbuf_init(&pr->reads);
}

/*
 * How the kernel will handle a hit on the instruction at file offset @off of @path
 * (tracer/insn.h); @what gets its mnemonic.
 */
static enum gs_insn_kind insn_at(struct pctx *c, const char *path, uint64_t off, const char **what)
{
	uint8_t b[16] = { 0 };
	ssize_t n;

	/* One open file per module, not per probe: a pattern may resolve to 1000 pcs. */
	if (c->insn_path != path) {
		if (c->insn_fd >= 0)
			close(c->insn_fd);
		c->insn_fd = open(path, O_RDONLY | O_CLOEXEC);
		c->insn_path = path;
	}
	n = c->insn_fd >= 0 ? pread(c->insn_fd, b, sizeof(b), off) : -1;
	/* a segment's file offset and vaddr share their page offset */
	return gs_insn_classify(b, n > 0 ? (size_t)n : 0, off & 4095, gs_insn_nop5_optimized(), what);
}

/* Cheaper hits rank higher; a 5-byte nop only where this kernel optimizes it. */
static int insn_rank(enum gs_insn_kind k)
{
	if (k == GS_INSN_NOP5 && !gs_insn_nop5_optimized())
		k = GS_INSN_EMULATED;
	return (int)k;
}

/*
 * `trace FUNC` reads after the prologue, where gcc usually has a mov the kernel must
 * single-step. When the function's first instruction is a cheaper hit (emulated, or a
 * 5-byte nop the kernel optimizes: tracer/insn.h) and everything the script reads is
 * exactly as available there (parameters in registers per their location lists,
 * globals), probe the entry instead; the values are the same.
 */
static void choose_entry(struct pctx *c, const struct gs_trace *tr, struct pending_save *pending)
{
	struct gs_probe *pr = c->pr;
	const struct gs_func *f;
	const char *post_insn, *entry_insn;
	enum gs_insn_kind entry_kind;
	uint64_t post = pr->vaddr, post_off = pr->file_offset, entry_off;

	if (tr->pattern.kind != GS_PAT_FUNC || !c->mod->idx || c->opts->after_prologue ||
	    gs_index_func_by_addr(c->mod->idx, post, &f) || post != f->post_prologue_pc ||
	    f->entry_pc == post || gs_index_vaddr_to_offset(c->mod->idx, f->entry_pc, &entry_off))
		return;
	pr->insn_kind = insn_at(c, pr->mod->path, post_off, &post_insn);
	pr->insn = post_insn;
	entry_kind = insn_at(c, pr->mod->path, entry_off, &entry_insn);
	if (insn_rank(entry_kind) <= insn_rank(pr->insn_kind))
		return;
	probe_clear(pr);
	pr->vaddr = f->entry_pc;
	pr->file_offset = entry_off;
	c->entry_check = true;
	c->entry_reject = false;
	plan_probe(c, tr, pending);
	c->entry_check = false;
	if (pr->ir && !c->entry_reject) {
		pr->insn_kind = entry_kind;
		pr->insn = entry_insn;
		free(pr->where);
		pr->where = describe_pc(pr->mod, pr->vaddr);
		return;
	}
	gs_ir_prog_free(pending->ir);
	memset(pending, 0, sizeof(*pending));
	probe_clear(pr);
	pr->vaddr = post;
	pr->file_offset = post_off;
	plan_probe(c, tr, pending);
}

static struct gs_probe *add_probe(struct gs_plan *plan, uint32_t *next_id)
{
	struct gs_probe *np = realloc(plan->probes, (plan->nprobes + 1) * sizeof(*np));

	if (!np)
		return NULL;
	plan->probes = np;
	np = &plan->probes[plan->nprobes++];
	memset(np, 0, sizeof(*np));
	gs_strbuf_init(&np->reads);
	np->plan = plan;
	np->trace_id = (*next_id)++;
	return np;
}

/* Appends the hidden entry probes of return probes (their ids follow the visible ones). */
static int add_hidden(struct gs_plan *plan, struct pending_save *pending, size_t npending,
		      uint32_t *next_id)
{
	for (size_t i = 0; i < npending; i++) {
		struct gs_probe *pr;

		if (!pending[i].ir)
			continue;
		pr = add_probe(plan, next_id);
		if (!pr)
			return -ENOMEM;
		pr->hidden = true;
		pr->trace = plan->probes[pending[i].save_key - 1].trace;
		pr->mod = pending[i].mod;
		pr->vaddr = pending[i].vaddr;
		pr->ir = pending[i].ir;
		pending[i].ir = NULL;
		pr->where = describe_pc(pr->mod, pr->vaddr);
		if (gs_index_vaddr_to_offset(pr->mod->idx, pr->vaddr, &pr->file_offset))
			return -ENOENT;
	}
	return 0;
}

int gs_plan_build(const struct gs_script *script, struct gs_plan_module *mods, size_t nmods,
		  const struct gs_plan_opts *opts, struct gs_plan **plan_ret,
		  struct gs_diag *diag)
{
	struct gs_plan_opts defaults = { .str_cap = 256, .mem_cap = 1024, .dump_cap = 256,
					 .bt_depth = 128 };
	struct gs_plan *plan = calloc(1, sizeof(*plan));
	struct pctx c = { .script = script, .mods = mods, .nmods = nmods, .insn_fd = -1 };
	struct pending_save *pending = NULL;
	size_t npending = 0;
	uint32_t next_id = 1;
	int err = 0;

	if (!plan)
		return -ENOMEM;
	c.elfs = calloc(nmods ? nmods : 1, sizeof(*c.elfs));
	if (!c.elfs) {
		free(plan);
		return -ENOMEM;
	}
	c.opts = opts ? opts : &defaults;
	plan->script = script;
	plan->mods = mods;
	plan->nmods = nmods;
	for (size_t t = 0; t < script->trace_cnt && !err; t++) {
		const struct gs_trace *tr = script->traces[t];
		struct pc_list pcs = { 0 };

		err = resolve(script, &tr->pattern, mods, nmods, &pcs, diag);
		for (size_t i = 0; i < pcs.n && !err; i++) {
			struct gs_probe *pr = add_probe(plan, &next_id);
			struct pending_save *np;

			np = realloc(pending, (npending + 1) * sizeof(*np));
			if (!pr || !np) {
				free(np ? np : pending);
				pending = NULL;
				err = -ENOMEM;
				break;
			}
			pending = np;
			memset(&pending[npending], 0, sizeof(*pending));
			pr->trace = tr;
			pr->mod = pcs.v[i].mod;
			pr->vaddr = pcs.v[i].pc;
			pr->where = describe_pc(pr->mod, pr->vaddr);
			c.pr = pr;
			c.mod = pr->mod;
			if (!pr->mod->idx ||
			    gs_index_vaddr_to_offset(pr->mod->idx, pr->vaddr, &pr->file_offset)) {
				plan_err(&c, &tr->pattern.span, "address 0x%" PRIx64 " is not in a loadable segment of '%s'",
				     pr->vaddr, pr->mod->path);
				npending++;
				continue;
			}
			plan_probe(&c, tr, &pending[npending]);
			if (c.ret_entry_reject) {
				/* a saved parameter is not at hand at the entry: after the prologue */
				gs_ir_prog_free(pending[npending].ir);
				memset(&pending[npending], 0, sizeof(*pending));
				probe_clear(pr);
				c.ret_post = true;
				plan_probe(&c, tr, &pending[npending]);
				c.ret_post = false;
			}
			if (pr->ir)
				choose_entry(&c, tr, &pending[npending]);
			if (!pr->insn)
				pr->insn_kind = insn_at(&c, pr->mod->path, pr->file_offset, &pr->insn);
			npending++;
		}
		free(pcs.v);
	}
	if (c.insn_fd >= 0)
		close(c.insn_fd);
	free(c.elfs);
	if (!err)
		err = add_hidden(plan, pending, npending, &next_id);
	for (size_t i = 0; i < npending; i++)
		gs_ir_prog_free(pending[i].ir);
	free(pending);
	if (err) {
		gs_plan_free(plan);
		return err;
	}
	*plan_ret = plan;
	return 0;
}

void gs_plan_free(struct gs_plan *plan)
{
	if (!plan)
		return;
	for (size_t i = 0; i < plan->nprobes; i++) {
		probe_clear(&plan->probes[i]);
		free(plan->probes[i].where);
	}
	free(plan->probes);
	free(plan->cache_buf);
	free(plan);
}

struct gs_probe *gs_plan_probe(struct gs_plan *plan, uint32_t trace_id)
{
	if (trace_id >= 1 && trace_id <= plan->nprobes)
		return &plan->probes[trace_id - 1];
	return NULL;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The planner's expressions: names (script variables, parameters, locals, globals),
 * types, and typed values at one probe pc (design: plan_internal.h).
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

/* ---- errors ----------------------------------------------------------------------- */

/* Records the first compile error of this pc: "ORIGIN:LINE:COL: message". */
int plan_err(struct pctx *c, const struct gs_span *span, const char *fmt, ...)
{
	struct gs_strbuf sb;
	char msg[768];
	va_list ap;

	if (c->failed)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	gs_strbuf_init(&sb);
	if (span)
		gs_strbuf_addf(&sb, "%s:%u:%u: ", c->script->origin, span->line, span->col);
	gs_strbuf_adds(&sb, msg);
	c->pr->error = gs_strbuf_detach(&sb);
	c->failed = true;
	return -EINVAL;
}

/* ---- types ------------------------------------------------------------------------ */

static const struct gs_type *tstrip(struct gs_index *idx, uint32_t id)
{
	return idx ? gs_render_strip(idx, id) : NULL;
}


enum tclass plan_class(const struct tval *v, const struct gs_type **t_ret)
{
	const struct gs_type *t;

	*t_ret = NULL;
	if (v->is_int)
		return v->is_bool ? C_BOOL : C_INT;
	if (v->extra_ptr)
		return C_PTR;
	t = tstrip(v->idx, v->type);
	*t_ret = t;
	if (!t)
		return C_VOID;
	switch (t->kind) {
	case GS_TYPE_BASE:
		if (t->encoding == DW_ATE_float)
			return C_FLOAT;
		return t->encoding == DW_ATE_boolean ? C_BOOL : C_INT;
	case GS_TYPE_ENUM:
		return C_ENUM;
	case GS_TYPE_POINTER:
	case GS_TYPE_REFERENCE:
	case GS_TYPE_RVALUE_REF:
		return C_PTR;
	case GS_TYPE_ARRAY:
		return v->dim_skip < t->ndims ? C_ARRAY : C_VOID;
	case GS_TYPE_STRUCT:
	case GS_TYPE_CLASS:
	case GS_TYPE_UNION:
		return C_RECORD;
	case GS_TYPE_FUNC:
		return C_FUNC;
	default:
		return C_VOID;
	}
}

/* Byte size of the value @v denotes (sub-arrays included). */
uint64_t plan_size(const struct tval *v)
{
	const struct gs_type *t;

	if (v->is_int)
		return v->int_size;
	if (v->extra_ptr)
		return 8;
	t = tstrip(v->idx, v->type);
	if (!t)
		return 0;
	if (t->kind == GS_TYPE_ARRAY && v->dim_skip) {
		uint64_t size = t->size;

		for (uint32_t i = 0; i < v->dim_skip && i < t->ndims; i++)
			size = t->dims[i] ? size / t->dims[i] : 0;
		return size;
	}
	return t->size;
}

/* Plain `char`: its pointers and arrays are C strings (render.c has the same rule). */
static bool char_like(const struct gs_type *t)
{
	return t && t->kind == GS_TYPE_BASE && t->size == 1 && t->name && !strcmp(t->name, "char");
}

static bool tv_signed(const struct tval *v)
{
	const struct gs_type *t;

	if (v->is_int)
		return v->int_signed;
	if (v->extra_ptr)
		return false;
	t = tstrip(v->idx, v->type);
	if (!t)
		return false;
	if (t->kind == GS_TYPE_ENUM)
		return t->is_signed;
	return t->kind == GS_TYPE_BASE &&
	       (t->encoding == DW_ATE_signed || t->encoding == DW_ATE_signed_char);
}

/* The type a pointer value points to, as (type, extra_ptr); false if not a pointer. */
static bool pointee(const struct tval *v, uint32_t *type_ret, uint8_t *extra_ret)
{
	const struct gs_type *t;

	if (v->extra_ptr) {
		*type_ret = v->type;
		*extra_ret = v->extra_ptr - 1;
		return true;
	}
	t = tstrip(v->idx, v->type);
	if (!t || (t->kind != GS_TYPE_POINTER && t->kind != GS_TYPE_REFERENCE &&
		   t->kind != GS_TYPE_RVALUE_REF))
		return false;
	*type_ret = t->target;
	*extra_ret = 0;
	return true;
}

static uint64_t type_size_of(struct gs_index *idx, uint32_t type, uint8_t extra_ptr)
{
	const struct gs_type *t;

	if (extra_ptr)
		return 8;
	t = tstrip(idx, type);
	return t ? t->size : 0;
}

static void type_name(const struct tval *v, struct gs_strbuf *sb)
{
	if (v->is_int) {
		gs_strbuf_adds(sb, v->is_bool ? "bool" : "integer");
		return;
	}
	if (v->kind == TV_STRLIT) {
		gs_strbuf_adds(sb, "string literal");
		return;
	}
	gs_render_type_name(v->idx, v->type, sb);
	for (int i = 0; i < v->extra_ptr; i++)
		gs_strbuf_addc(sb, '*');
}

/* ---- names ------------------------------------------------------------------------ */

/* Base types of the ABI's INTEGER class (not float, complex, decimal float...). */
static bool abi_integer(unsigned int encoding)
{
	return encoding == DW_ATE_signed || encoding == DW_ATE_unsigned ||
	       encoding == DW_ATE_signed_char || encoding == DW_ATE_unsigned_char ||
	       encoding == DW_ATE_boolean || encoding == DW_ATE_UTF;
}

/*
 * How many argument registers a function's return value takes before its parameters:
 * a struct, union or class over 16 bytes is returned in memory the caller passes in
 * rdi (1). One of 16 bytes or less may be too (C++ types that are not trivially
 * copyable), which DWARF does not say here: -1, uncertain, as for vectors and base
 * types over 16 bytes. Otherwise 0.
 */
static int abi_return_regs(struct pctx *c)
{
	const struct gs_func *f;
	const struct gs_type *t;

	if (!c->fn_entry || gs_index_func_by_addr(c->mod->idx, c->fn_entry, &f))
		return -1;
	if (!f->ret_type)
		return 0;
	t = tstrip(c->mod->idx, f->ret_type);
	if (!t || t->kind == GS_TYPE_ARRAY)	/* a vector type: in memory or in ymm */
		return -1;
	if (t->kind == GS_TYPE_STRUCT || t->kind == GS_TYPE_CLASS || t->kind == GS_TYPE_UNION)
		return t->size > 16 ? 1 : -1;
	/* _Complex long double is in st0/st1, _Complex _Float128 in memory: both 32 bytes */
	return t->size > 16 ? -1 : 0;
}

/*
 * At a function's first instruction the System V ABI says where the arguments are:
 * the first six of class INTEGER (integers, enums, pointers up to 8 bytes) in rdi,
 * rsi, rdx, rcx, r8, r9, in order, after the hidden pointer of a return value passed
 * in memory. Returns the register for parameter @var, or -1 when an earlier or this
 * parameter has another class (struct, float), or the return value may take a
 * register, which would make the count uncertain.
 */
static int abi_entry_reg(struct pctx *c, const struct gs_var *var)
{
	static const unsigned int regs[] = { 5, 4, 1, 2, 8, 9 };	/* DWARF numbers */
	const struct gs_scope *fn = c->nchain ? c->chain[c->nchain - 1] : NULL;
	int ret_regs = abi_return_regs(c);
	unsigned int n;

	if (!fn || fn->kind != GS_SCOPE_FUNC || ret_regs < 0)
		return -1;
	n = (unsigned int)ret_regs;
	for (uint32_t i = 0; i < fn->nvars; i++) {
		const struct gs_var *p = &fn->vars[i];
		const struct gs_type *t;

		if (p->kind != GS_VAR_PARAM)
			continue;
		t = tstrip(c->mod->idx, p->type_id);
		if (!t || t->size == 0 || t->size > 8 ||
		    !(t->kind == GS_TYPE_POINTER || t->kind == GS_TYPE_REFERENCE ||
		      t->kind == GS_TYPE_ENUM || (t->kind == GS_TYPE_BASE && abi_integer(t->encoding))))
			return -1;
		if (p == var)
			return n < 6 ? (int)regs[n] : -1;
		n++;
	}
	return -1;
}

/*
 * At a function's first instruction, where variable @var is, given @loc, its location
 * lowered there. Returns the DWARF number of its argument register when its one
 * location is a stack slot (-O0: the prologue fills it; abi_entry_reg), -2 when @loc
 * holds there (a location list's entry; one register or constant location, which
 * holds for the whole function: the compiler may have dropped or moved arguments of
 * a function it sees every caller of, so that the ABI's count would be wrong), -1
 * when it cannot be had at the entry (a local, or an uncertain register).
 */
static int entry_var_where(struct pctx *c, const struct gs_var *var, const struct gs_dwloc *loc)
{
	if (loc->kind == GS_DWLOC_OPTIMIZED_OUT)
		return -1;
	if (var->loc.kind == GS_LOC_LIST)
		return -2;
	if (var->kind != GS_VAR_PARAM || var->loc.kind != GS_LOC_EXPR || c->fn_clone)
		return -1;
	if (loc->kind == GS_DWLOC_MEMORY)
		return abi_entry_reg(c, var);
	if (loc->kind == GS_DWLOC_BYTES ||
	    (loc->kind == GS_DWLOC_VALUE && loc->ir && loc->ir->kind == GS_IR_REG))
		return -2;
	return -1;
}

static int var_to_tval(struct pctx *c, const struct gs_span *span, const struct gs_var *var,
		       struct gs_plan_module *owner, struct tval *out)
{
	struct gs_dwctx dw = c->dw;
	struct gs_dwloc loc;
	char err[256];
	int ret;

	memset(out, 0, sizeof(*out));
	out->idx = owner->idx;
	out->type = var->type_id;
	out->name = var->name;
	if (owner != c->mod) {
		dw.pie = owner->info && owner->info->elf_type == ET_DYN;
		dw.const_bias = owner->has_bias;
		dw.bias = owner->bias;
		dw.bias_expr = NULL;
		if (dw.pie && !owner->has_bias) {
			/*
			 * -t mode: where this process mapped the other module is found at
			 * run time, from the dynamic loader's list (GS_IR_MOD_BIAS).
			 */
			const struct plan_modelf *me = plan_modelf(c, owner);

			if (!me || !me->has_dyn)
				return plan_err(c, span, "'%s' is in '%s', which has no dynamic section to find its load address by; try -p PID",
					    var->name, owner->path);
			dw.bias_expr = gs_ir_mod_bias(c->ir, me->dyn_vaddr, me->id_vaddr, me->id_word);
		}
		dw.frame_base = NULL;
		dw.entry_reg = NULL;
		plan_tls(c, owner, &dw);
	}
	ret = gs_dwexpr_lower(c->ir, &var->loc, &dw, &loc, err, sizeof(err));
	if (ret)
		return plan_err(c, span, "cannot read '%s' at 0x%" PRIx64 ": %s", var->name, c->dw.pc, err);
	/*
	 * Probing a function's entry: only what holds there will do (entry_var_where);
	 * a parameter in a -O0 stack slot is read from its argument register.
	 */
	if (c->entry_check && (var->kind == GS_VAR_PARAM || var->kind == GS_VAR_LOCAL)) {
		int where = owner == c->mod && c->dw.pc == c->fn_entry ?
			    entry_var_where(c, var, &loc) :
			    (var->loc.kind == GS_LOC_LIST && loc.kind != GS_DWLOC_OPTIMIZED_OUT ? -2 : -1);

		if (where >= 0) {
			out->kind = TV_VAL;
			out->ir = gs_ir_reg(c->ir, (unsigned int)where);
			gs_strbuf_addf(&c->pr->reads, "    %s: reg %s (argument register at entry)\n",
				       var->name, gs_dwexpr_reg_name((unsigned int)where));
			return 0;
		}
		if (where == -1)
			c->entry_reject = true;
	}
	if (owner != c->mod && dw.bias_expr)
		gs_strbuf_addf(&c->pr->reads, "    %s: %s(in '%s', based at its link_map entry)\n",
			       var->name, loc.how, owner->path);
	else
		gs_strbuf_addf(&c->pr->reads, "    %s: %s\n", var->name, loc.how);
	switch (loc.kind) {
	case GS_DWLOC_OPTIMIZED_OUT:
		out->kind = TV_OPTOUT;
		out->unavailable = loc.unavailable;
		break;
	case GS_DWLOC_MEMORY:
		out->kind = TV_MEM;
		out->ir = loc.ir;
		break;
	case GS_DWLOC_VALUE:
		out->kind = TV_VAL;
		out->ir = loc.ir;
		break;
	case GS_DWLOC_BYTES:
		out->kind = TV_BYTES;
		out->bytes = loc.bytes;
		out->len = loc.len;
		break;
	case GS_DWLOC_SYNPTR:
		out->kind = TV_SYNPTR;
		out->bytes = loc.bytes;
		out->len = loc.len;
		out->syn_off = loc.off;
		break;
	}
	return 0;
}

/*
 * A parameter in a return probe: its value as it was when the call began, saved by
 * the hidden entry probe (value i of its S_SAVE; at the function's entry, or after
 * its prologue when c->ret_post: plan.c, begin_retprobe), read here with GS_IR_SAVED.
 */
static int save_param(struct pctx *c, const struct gs_span *span, const struct gs_var *var,
		      struct tval *out)
{
	const struct gs_type *t;
	struct gs_dwloc loc;
	struct gs_ir_expr *x;
	char err[256];
	int ret, where;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->idx = c->mod->idx;
	out->type = var->type_id;
	out->name = var->name;
	for (i = 0; i < c->nsaves; i++)
		if (c->saved_vars[i] == var)
			break;
	if (i == c->nsaves) {
		if (c->nsaves >= GS_IR_SAVE_MAX)
			return plan_err(c, span, "a return probe can save at most %d values", GS_IR_SAVE_MAX);
		ret = gs_dwexpr_lower(c->entry_ir, &var->loc, &c->entry_dw, &loc, err, sizeof(err));
		where = c->ret_entry_abi && !ret ? entry_var_where(c, var, &loc) : -2;
		if (c->ret_entry_abi && (ret || where == -1)) {
			/* not to be had at the entry: planned again, saved after the prologue */
			c->ret_entry_reject = true;
			out->kind = TV_OPTOUT;
			return 0;
		}
		if (ret)
			return plan_err(c, span, "cannot read '%s' at the entry of %s: %s", var->name,
				    c->func->name, err);
		if (where >= 0) {
			/* a -O0 stack slot, filled by the prologue: the argument register */
			x = gs_ir_reg(c->entry_ir, (unsigned int)where);
			gs_strbuf_addf(&c->pr->reads, "    %s: saved at entry: reg %s (argument register)\n",
				       var->name, gs_dwexpr_reg_name((unsigned int)where));
			c->saves[c->nsaves] = x;
			c->saved_vars[c->nsaves++] = var;
			out->kind = TV_VAL;
			out->ir = gs_ir_saved(c->ir, c->nsaves - 1);
			return 0;
		}
		t = tstrip(c->mod->idx, var->type_id);
		if (loc.kind == GS_DWLOC_OPTIMIZED_OUT) {
			out->kind = TV_OPTOUT;
			return 0;
		}
		if (loc.kind == GS_DWLOC_MEMORY && c->save_at_entry)
			return plan_err(c, span, "cannot save '%s' for the return of %s: it is in memory its prologue may fill, and after the prologue the index has no register-based CFA rule (no CFI, or a realigned stack) to tell its calls apart",
				    var->name, c->func->name);
		if (loc.kind == GS_DWLOC_BYTES || loc.kind == GS_DWLOC_SYNPTR) {
			out->kind = loc.kind == GS_DWLOC_BYTES ? TV_BYTES : TV_SYNPTR;
			out->bytes = loc.bytes;
			out->len = loc.len;
			out->syn_off = loc.off;
			return 0;
		}
		if (!t || t->size == 0 || t->size > 8 || t->kind == GS_TYPE_STRUCT ||
		    t->kind == GS_TYPE_UNION || t->kind == GS_TYPE_CLASS)
			return plan_err(c, span, "'%s' is passed by value and larger than 8 bytes; a return probe saves only scalars and pointers",
				    var->name);
		x = loc.kind == GS_DWLOC_MEMORY ? gs_ir_load(c->entry_ir, loc.ir, t->size == 3 ? 4 : t->size, false)
						: loc.ir;
		gs_strbuf_addf(&c->pr->reads, "    %s: saved at entry: %s\n", var->name, loc.how);
		c->saves[c->nsaves] = x;
		c->saved_vars[c->nsaves++] = var;
	}
	out->kind = TV_VAL;
	out->ir = gs_ir_saved(c->ir, i);
	return 0;
}

static void list_visible(struct pctx *c, struct gs_strbuf *sb)
{
	size_t n = 0;

	for (size_t i = 0; i < c->nchain; i++) {
		for (uint32_t j = 0; j < c->chain[i]->nvars; j++) {
			if (n++ > 40) {
				gs_strbuf_adds(sb, ", ...");
				return;
			}
			gs_strbuf_addf(sb, "%s%s", n > 1 ? ", " : "", c->chain[i]->vars[j].name);
		}
	}
	for (size_t i = 0; i < c->nlets; i++)
		gs_strbuf_addf(sb, "%s%s", n++ ? ", " : "", c->lets[i].stmt->name);
	if (!n)
		gs_strbuf_adds(sb, "(none)");
}

static int member_of(struct pctx *c, const struct gs_span *span, const struct gs_span *base_span,
		     struct tval base, const char *name, struct tval *out);
static const struct gs_member *find_member(struct gs_index *idx, const struct gs_type *t,
					   const char *name, uint64_t *bit_base);

/* @e names a member of the class `this` points to: 0, -ENOENT when it does not. */
static int this_member(struct pctx *c, const struct gs_expr *e, struct tval *out)
{
	const struct gs_type *pt, *rt;
	struct tval self;
	uint64_t bits = 0;

	for (size_t i = 0; i < c->nchain; i++) {
		for (uint32_t j = 0; j < c->chain[i]->nvars; j++) {
			const struct gs_var *v = &c->chain[i]->vars[j];

			if (!v->name || strcmp(v->name, "this"))
				continue;
			pt = tstrip(c->mod->idx, v->type_id);
			rt = pt && pt->kind == GS_TYPE_POINTER ? tstrip(c->mod->idx, pt->target) : NULL;
			if (!rt || !find_member(c->mod->idx, rt, e->str, &bits))
				return -ENOENT;
			if (var_to_tval(c, &e->span, v, c->mod, &self) || plan_need_value(c, e, &self))
				return -EINVAL;
			return member_of(c, &e->span, &e->span, self, e->str, out);
		}
	}
	return -ENOENT;
}

static int lookup_ident(struct pctx *c, const struct gs_expr *e, struct tval *out)
{
	const struct gs_var *found = NULL;
	struct gs_plan_module *owner = NULL;
	struct gs_strbuf sb;

	if (e->let) {
		for (size_t i = 0; i < c->nlets; i++) {
			if (c->lets[i].stmt == e->let) {
				*out = c->lets[i].val;
				return 0;
			}
		}
		return plan_err(c, &e->span, "script variable '%s' used before its value is known", e->str);
	}
	if (c->retprobe && c->nchain) {	/* only the parameters, as they were at entry */
		const struct gs_scope *fs = c->chain[c->nchain - 1];

		for (uint32_t j = 0; j < fs->nvars; j++)
			if (fs->vars[j].kind == GS_VAR_PARAM && fs->vars[j].name &&
			    !strcmp(fs->vars[j].name, e->str))
				return save_param(c, &e->span, &fs->vars[j], out);
		for (uint32_t j = 0; j < fs->nvars; j++)
			if (fs->vars[j].kind == GS_VAR_LOCAL && fs->vars[j].name &&
			    !strcmp(fs->vars[j].name, e->str))
				return plan_err(c, &e->span, "'%s' is a local of %s: a return probe sees only parameters, globals and $retval",
					    e->str, c->func->name);
	}
	/* Parameters and locals, innermost scope first. */
	for (size_t i = 0; i < c->nchain && !found && !c->retprobe; i++) {
		const struct gs_scope *s = c->chain[i];

		for (uint32_t j = 0; j < s->nvars; j++) {
			if (s->vars[j].name && !strcmp(s->vars[j].name, e->str)) {
				found = &s->vars[j];
				owner = c->mod;
				break;
			}
		}
	}
	/* C++ methods: a member of *this named without "this.". */
	if (!found && !c->retprobe) {
		int ret = this_member(c, e, out);

		if (ret != -ENOENT)
			return ret;
	}
	/* Globals and statics: the probe's module first, then a unique other one. */
	if (!found && c->mod->idx) {
		const struct gs_var *vars;
		size_t cnt;

		if (!gs_index_globals_by_name(c->mod->idx, e->str, &vars, &cnt) && cnt) {
			found = &vars[0];
			owner = c->mod;
			for (size_t i = 0; i < cnt; i++) {	/* one that was not optimized away */
				if (vars[i].loc.kind != GS_LOC_NONE) {
					found = &vars[i];
					break;
				}
			}
		}
	}
	for (size_t m = 0; m < c->nmods && !found; m++) {
		struct gs_plan_module *pm = &c->mods[m];
		const struct gs_var *vars;
		size_t cnt;

		if (pm == c->mod || !pm->idx)
			continue;
		if (gs_index_globals_by_name(pm->idx, e->str, &vars, &cnt) || !cnt)
			continue;
		for (size_t m2 = m + 1; m2 < c->nmods; m2++) {
			const struct gs_var *v2;
			size_t c2;

			if (&c->mods[m2] != c->mod && c->mods[m2].idx &&
			    !gs_index_globals_by_name(c->mods[m2].idx, e->str, &v2, &c2) && c2)
				return plan_err(c, &e->span, "'%s' is ambiguous: defined in '%s' and '%s'",
					    e->str, pm->path, c->mods[m2].path);
		}
		found = &vars[0];
		owner = pm;
	}
	if (!found) {
		gs_strbuf_init(&sb);
		list_visible(c, &sb);
		plan_err(c, &e->span, "unknown variable '%s' at %s; visible here: %s", e->str,
		     c->pr->where, sb.buf);
		gs_strbuf_deinit(&sb);
		return -ENOENT;
	}
	return var_to_tval(c, &e->span, found, owner, out);
}

/* ---- values ----------------------------------------------------------------------- */


static int need_value_at(struct pctx *c, const struct gs_span *span, const struct tval *v)
{
	if (v->kind == TV_OPTOUT)
		return plan_err(c, span, "'%s' is %s at 0x%" PRIx64 " (%s); try another line",
				v->name ? v->name : "value",
				v->unavailable ? v->unavailable : "optimized out", c->dw.pc, c->pr->where);
	return 0;
}

int plan_need_value(struct pctx *c, const struct gs_expr *e, const struct tval *v)
{
	return need_value_at(c, &e->span, v);
}

/*
 * The number @v denotes, sign- or zero-extended to 64 bits by its own type, with
 * its (promoted) width and signedness.
 */
int plan_rvalue(struct pctx *c, const struct gs_span *span, const struct tval *v,
		  struct gs_ir_expr **ir_ret, unsigned int *size_ret, bool *signed_ret)
{
	const struct gs_type *t;
	enum tclass cls = plan_class(v, &t);
	uint64_t size = plan_size(v);
	bool sgn = tv_signed(v);
	struct gs_ir_expr *x;

	if (need_value_at(c, span, v))
		return -EINVAL;
	if (v->kind == TV_STRLIT)
		return plan_err(c, span, "a string literal is not a number here");
	if (v->kind == TV_SYNPTR)
		return plan_err(c, span, "'%s' is a synthetic pointer at 0x%" PRIx64 " (the compiler folded away what it points at, so it has no address); print it, or read through it with *, [] or ->",
				v->name ? v->name : "value", c->dw.pc);
	if (v->is_int) {
		*ir_ret = v->ir;
		*size_ret = v->int_size;
		*signed_ret = v->int_signed;
		return 0;
	}
	if (cls == C_ARRAY) {
		if (v->kind != TV_MEM)
			return plan_err(c, span, "array '%s' has no address here", v->name ? v->name : "");
		*ir_ret = v->ir;	/* decays to a pointer */
		*size_ret = 8;
		*signed_ret = false;
		return 0;
	}
	if (cls == C_FLOAT)
		return plan_err(c, span, "floating-point values cannot be used in arithmetic or conditions");
	if (cls == C_RECORD || cls == C_VOID || cls == C_FUNC) {
		struct gs_strbuf sb;

		gs_strbuf_init(&sb);
		type_name(v, &sb);
		plan_err(c, span, "'%.*s' has type '%s', which is not a number",
		     (int)(span->end - span->start), c->script->src + span->start, sb.buf);
		gs_strbuf_deinit(&sb);
		return -EINVAL;
	}
	if (size == 0 || size > 8)
		return plan_err(c, span, "values of %" PRIu64 " bytes are not supported", size);
	switch (v->kind) {
	case TV_MEM:
		if (v->bit_size) {
			unsigned int nbytes = (v->bit_off + v->bit_size + 7) / 8;
			unsigned int lsize = nbytes <= 1 ? 1 : nbytes <= 2 ? 2 : nbytes <= 4 ? 4 : 8;

			x = gs_ir_load(c->ir, v->ir, lsize, false);
			if (v->bit_off)
				x = gs_ir_binop(c->ir, GS_IR_SHR, false, x, gs_ir_const(c->ir, v->bit_off));
			x = gs_ir_ext(c->ir, x, v->bit_size, sgn);
			*ir_ret = x;
			*size_ret = 4;
			*signed_ret = sgn;
			return 0;
		}
		x = gs_ir_load(c->ir, v->ir, size == 3 ? 4 : size, sgn);
		break;
	case TV_VAL:
		x = size < 8 ? gs_ir_ext(c->ir, v->ir, size * 8, sgn) : v->ir;
		break;
	case TV_BYTES: {
		uint64_t raw = 0;

		memcpy(&raw, v->bytes, v->len < 8 ? v->len : 8);
		if (size < 8 && sgn && (raw >> (size * 8 - 1)) & 1)
			raw |= ~0ULL << (size * 8);
		x = gs_ir_const(c->ir, raw);
		break;
	}
	default:
		return plan_err(c, span, "no value");
	}
	*ir_ret = x;
	*size_ret = size < 4 && cls != C_PTR ? 4 : size; /* integer promotion */
	*signed_ret = size < 4 && cls != C_PTR ? true : sgn;
	return 0;
}

static struct tval int_val(struct gs_ir_expr *ir, unsigned int size, bool sgn)
{
	struct tval v = { .kind = TV_VAL, .is_int = true, .int_size = size, .int_signed = sgn, .ir = ir };

	return v;
}

/* The address where a string's bytes start: a char pointer's value or an array's base. */
static int string_addr(struct pctx *c, const struct gs_expr *e, const struct tval *v,
		       struct gs_ir_expr **addr_ret)
{
	const struct gs_type *t;
	enum tclass cls = plan_class(v, &t);
	unsigned int size;
	bool sgn;

	if (cls == C_ARRAY || cls == C_PTR)
		return plan_rvalue(c, &e->span, v, addr_ret, &size, &sgn);
	return plan_err(c, &e->span, "expected a string (char pointer or array) here");
}

/*
 * Element @i of what synthetic pointer @v points at: its bytes, known now. A read
 * outside the object is an error (GDB says the same of such a pointer).
 */
static int synptr_at(struct pctx *c, const struct gs_span *span, const struct tval *v, int64_t i,
		     struct tval *out)
{
	uint32_t type;
	uint8_t extra;
	uint64_t size;
	int64_t off;

	pointee(v, &type, &extra);
	size = type_size_of(v->idx, type, extra);
	off = v->syn_off + i * (int64_t)size;
	if (!size || off < 0 || (uint64_t)off + size > v->len)
		return plan_err(c, span, "'%s' points into %u constant bytes; this read at offset %" PRId64 " is outside them",
				v->name ? v->name : "value", v->len, off);
	memset(out, 0, sizeof(*out));
	out->kind = TV_BYTES;
	out->idx = v->idx;
	out->type = type;
	out->extra_ptr = extra;
	out->bytes = v->bytes + off;
	out->len = (uint32_t)size;
	out->name = v->name;
	return 0;
}

/*
 * The first @n bytes a synthetic pointer points at equal @lit: known now, a constant.
 * A difference decides it; running off the object before one is an error.
 */
static int synptr_memeq(struct pctx *c, const struct gs_span *span, const struct tval *v,
			const uint8_t *lit, uint32_t n, struct gs_ir_expr **x_ret)
{
	int64_t avail = (int64_t)v->len - v->syn_off;

	for (uint32_t i = 0; i < n; i++) {
		if (v->syn_off < 0 || (int64_t)i >= avail)
			return plan_err(c, span, "'%s' points into %u constant bytes; this comparison reads outside them",
					v->name ? v->name : "value", v->len);
		if (v->bytes[v->syn_off + i] != lit[i]) {
			*x_ret = gs_ir_const(c->ir, 0);
			return 0;
		}
	}
	*x_ret = gs_ir_const(c->ir, 1);
	return 0;
}

int plan_deref(struct pctx *c, const struct gs_span *span, struct tval *v, struct tval *out)
{
	struct gs_ir_expr *addr;
	unsigned int size;
	uint32_t type;
	uint8_t extra;
	bool sgn;
	const struct gs_type *t;

	if (plan_class(v, &t) == C_ARRAY) {	/* *arr is arr[0] */
		*out = *v;
		out->dim_skip++;
		if (out->dim_skip >= t->ndims) {
			out->type = t->target;
			out->dim_skip = 0;
		}
		return 0;
	}
	if (!pointee(v, &type, &extra))
		return plan_err(c, span, "cannot dereference a value that is not a pointer");
	if (!extra && !tstrip(v->idx, type) && type == 0)
		return plan_err(c, span, "cannot dereference a void pointer");
	if (v->kind == TV_SYNPTR)
		return synptr_at(c, span, v, 0, out);
	if (plan_rvalue(c, span, v, &addr, &size, &sgn))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->kind = TV_MEM;
	out->idx = v->idx;
	out->type = type;
	out->extra_ptr = extra;
	out->ir = addr;
	out->name = v->name;
	return 0;
}

static const struct gs_member *find_member(struct gs_index *idx, const struct gs_type *t,
					   const char *name, uint64_t *bit_base)
{
	for (uint32_t i = 0; i < t->nmembers; i++) {
		const struct gs_member *m = &t->members[i];

		if (m->name && !strcmp(m->name, name))
			return m;
		if (!m->name) {	/* anonymous struct/union: look inside */
			const struct gs_type *mt = tstrip(idx, m->type_id);
			uint64_t inner = 0;
			const struct gs_member *f;

			if (mt && (mt->kind == GS_TYPE_STRUCT || mt->kind == GS_TYPE_UNION ||
				   mt->kind == GS_TYPE_CLASS)) {
				f = find_member(idx, mt, name, &inner);
				if (f) {
					*bit_base += m->bit_offset + inner;
					return f;
				}
			}
		}
	}
	return NULL;
}

/* Member @m, @bits into the constant object @base (an implicit value, a synthetic target). */
static int const_member(struct pctx *c, const struct gs_span *span, const struct tval *base,
			const struct gs_member *m, uint64_t bits, struct tval *out)
{
	uint64_t size = type_size_of(base->idx, m->type_id, 0), raw = 0, nbytes;
	struct tval probe = { .idx = base->idx, .type = m->type_id };

	nbytes = m->bit_size ? ((bits % 8) + m->bit_size + 7) / 8 : size;
	if (!nbytes || bits / 8 + nbytes > base->len || (m->bit_size && nbytes > 8))
		return plan_err(c, span, "member '%s' lies outside the %u constant bytes of '%s'",
				m->name ? m->name : "", base->len, base->name ? base->name : "value");
	memset(out, 0, sizeof(*out));
	out->idx = base->idx;
	out->type = m->type_id;
	out->name = m->name;
	if (!m->bit_size) {
		out->kind = TV_BYTES;
		out->bytes = base->bytes + bits / 8;
		out->len = (uint32_t)size;
		return 0;
	}
	/* a bitfield: extracted now, as its (promoted) integer */
	memcpy(&raw, base->bytes + bits / 8, nbytes);
	raw >>= bits % 8;
	raw &= m->bit_size >= 64 ? ~0ULL : (1ULL << m->bit_size) - 1;
	if (tv_signed(&probe) && m->bit_size < 64 && (raw >> (m->bit_size - 1)) & 1)
		raw |= ~0ULL << m->bit_size;
	*out = int_val(gs_ir_const(c->ir, raw), m->bit_size > 32 ? 8 : 4, tv_signed(&probe));
	out->name = m->name;
	return 0;
}

/*
 * Member @name of @base (a struct, or a pointer or reference to one: dereferenced
 * automatically). @span is the whole expression, @base_span the base's.
 */
static int member_of(struct pctx *c, const struct gs_span *span, const struct gs_span *base_span,
		     struct tval base, const char *name, struct tval *out)
{
	const struct gs_member *m;
	const struct gs_type *t;
	uint64_t bits = 0;

	if (plan_class(&base, &t) == C_PTR) {	/* o.cust.name: auto-dereference */
		struct tval d;

		if (plan_deref(c, span, &base, &d))
			return -EINVAL;
		base = d;
	}
	if (plan_class(&base, &t) != C_RECORD) {
		struct gs_strbuf sb;

		gs_strbuf_init(&sb);
		type_name(&base, &sb);
		plan_err(c, span, "'%.*s' has type '%s', which has no members",
			 (int)(base_span->end - base_span->start), c->script->src + base_span->start, sb.buf);
		gs_strbuf_deinit(&sb);
		return -EINVAL;
	}
	m = find_member(base.idx, t, name, &bits);
	if (!m) {
		struct gs_strbuf sb;

		gs_strbuf_init(&sb);
		for (uint32_t i = 0; i < t->nmembers; i++)
			gs_strbuf_addf(&sb, "%s%s", i ? ", " : "", t->members[i].name ? t->members[i].name : "<anonymous>");
		plan_err(c, span, "'%s' has no member '%s'; members: %s", t->name ? t->name : "struct",
			 name, sb.buf);
		gs_strbuf_deinit(&sb);
		return -ENOENT;
	}
	if (base.kind == TV_BYTES)
		return const_member(c, span, &base, m, bits + m->bit_offset, out);
	if (base.kind != TV_MEM)
		return plan_err(c, span, "'%s' is held in registers; its members cannot be read yet",
				base.name ? base.name : "value");
	bits += m->bit_offset;
	memset(out, 0, sizeof(*out));
	out->kind = TV_MEM;
	out->idx = base.idx;
	out->type = m->type_id;
	out->name = m->name;
	out->ir = bits / 8 ? gs_ir_binop(c->ir, GS_IR_ADD, false, base.ir, gs_ir_const(c->ir, bits / 8))
			   : base.ir;
	if (m->bit_size) {
		out->bit_off = bits % 8;
		out->bit_size = m->bit_size;
	}
	return 0;
}

static int compile_member(struct pctx *c, const struct gs_expr *e, struct tval *out)
{
	struct tval base;

	if (plan_compile(c, e->a, &base) || plan_need_value(c, e->a, &base))
		return -EINVAL;
	return member_of(c, &e->span, &e->a->span, base, e->str, out);
}

static int compile_index(struct pctx *c, const struct gs_expr *e, struct tval *out)
{
	struct gs_ir_expr *iv, *addr;
	const struct gs_type *t;
	struct tval base, index;
	unsigned int isz;
	uint64_t stride;
	bool isg;

	if (plan_compile(c, e->a, &base) || plan_compile(c, e->b, &index))
		return -EINVAL;
	if (plan_need_value(c, e->a, &base) || plan_rvalue(c, &e->b->span, &index, &iv, &isz, &isg))
		return -EINVAL;
	if (base.kind == TV_SYNPTR) {	/* coupon[5]: the bytes are known, so is the index */
		int64_t i;

		if (iv->kind != GS_IR_CONST)
			return plan_err(c, &e->span, "'%s' is a synthetic pointer: index it with a constant",
					base.name ? base.name : "value");
		i = (int64_t)iv->imm;
		if (isz < 8 && isg && (iv->imm >> (isz * 8 - 1)) & 1)
			i = (int64_t)(iv->imm | ~0ULL << (isz * 8));
		return synptr_at(c, &e->span, &base, i, out);
	}
	if (isz < 8)
		iv = gs_ir_ext(c->ir, iv, isz * 8, isg);
	switch (plan_class(&base, &t)) {
	case C_ARRAY:
		if (base.kind != TV_MEM)
			return plan_err(c, &e->span, "array is not in memory");
		*out = base;
		out->dim_skip++;
		if (out->dim_skip >= t->ndims) {
			out->type = t->target;
			out->dim_skip = 0;
		}
		stride = plan_size(out);
		addr = base.ir;
		break;
	case C_PTR: {
		uint32_t type;
		uint8_t extra;
		unsigned int psz;
		bool psg;

		pointee(&base, &type, &extra);
		stride = type_size_of(base.idx, type, extra);
		if (plan_rvalue(c, &e->a->span, &base, &addr, &psz, &psg))
			return -EINVAL;
		memset(out, 0, sizeof(*out));
		out->kind = TV_MEM;
		out->idx = base.idx;
		out->type = type;
		out->extra_ptr = extra;
		out->name = base.name;
		break;
	}
	default:
		return plan_err(c, &e->span, "only arrays and pointers can be indexed");
	}
	if (!stride)
		return plan_err(c, &e->span, "element size is unknown");
	out->ir = gs_ir_binop(c->ir, GS_IR_ADD, false, addr,
			      gs_ir_binop(c->ir, GS_IR_MUL, false, iv, gs_ir_const(c->ir, stride)));
	return 0;
}

bool plan_is_string(const struct tval *v)
{
	const struct gs_type *t;
	enum tclass cls = plan_class(v, &t);
	uint32_t pt;
	uint8_t extra;

	if (cls == C_ARRAY && v->dim_skip + 1 == t->ndims)
		return char_like(tstrip(v->idx, t->target));
	if (cls == C_PTR && pointee(v, &pt, &extra) && !extra)
		return char_like(tstrip(v->idx, pt));
	return false;
}

/* Usual arithmetic conversions of two promoted integers: the common width and sign. */
static void common_type(unsigned int sa, bool ga, unsigned int sb, bool gb, unsigned int *size,
			bool *sgn)
{
	if (sa == sb) {
		*size = sa;
		*sgn = ga && gb;
	} else if (sa > sb) {
		*size = sa;
		*sgn = ga;
	} else {
		*size = sb;
		*sgn = gb;
	}
}

static struct gs_ir_expr *to_width(struct pctx *c, struct gs_ir_expr *x, unsigned int size, bool sgn)
{
	return size < 8 ? gs_ir_ext(c->ir, x, size * 8, sgn) : x;
}

struct gs_ir_expr *plan_truthy(struct pctx *c, struct gs_ir_expr *x)
{
	return gs_ir_binop(c->ir, GS_IR_NE, false, x, gs_ir_const(c->ir, 0));
}

static int compile_string_eq(struct pctx *c, const struct gs_expr *e, const struct tval *s,
			     const struct gs_expr *se, const struct tval *lit, struct tval *out)
{
	struct gs_ir_expr *addr, *x;

	if (lit->len + 1 > 128)
		return plan_err(c, &e->span, "string literal too long to compare (max 127 bytes)");
	if (s->kind == TV_SYNPTR) {	/* its string is known now: compare with the NUL */
		uint8_t buf[128] = { 0 };

		memcpy(buf, lit->bytes, lit->len);
		if (synptr_memeq(c, &e->span, s, buf, lit->len + 1, &x))
			return -EINVAL;
	} else {
		if (string_addr(c, se, s, &addr))
			return -EINVAL;
		x = gs_ir_streq(c->ir, addr, (const char *)lit->bytes);
	}
	if (e->binop == GS_BIN_NE)
		x = gs_ir_unop(c->ir, GS_IR_LNOT, x);
	*out = int_val(x, 4, true);
	out->is_bool = true;
	return 0;
}

/* coupon + 4: still a synthetic pointer, further into the same bytes (by a constant). */
static int synptr_move(struct pctx *c, const struct gs_expr *e, const struct tval *p,
		       const struct gs_expr *ne, const struct tval *n, struct tval *out)
{
	struct gs_ir_expr *x;
	unsigned int size;
	uint32_t type;
	uint8_t extra;
	int64_t i;
	bool sgn;

	if (plan_rvalue(c, &ne->span, n, &x, &size, &sgn))
		return -EINVAL;
	if (x->kind != GS_IR_CONST)
		return plan_err(c, &e->span, "'%s' is a synthetic pointer: move it only by a constant",
				p->name ? p->name : "value");
	i = (int64_t)x->imm;
	if (size < 8 && sgn && (x->imm >> (size * 8 - 1)) & 1)
		i = (int64_t)(x->imm | ~0ULL << (size * 8));
	pointee(p, &type, &extra);
	*out = *p;
	out->syn_off += (e->binop == GS_BIN_SUB ? -i : i) * (int64_t)type_size_of(p->idx, type, extra);
	return 0;
}

static int compile_binary(struct pctx *c, const struct gs_expr *e, struct tval *out)
{
	static const enum gs_ir_binop irop[] = {
		[GS_BIN_BOR] = GS_IR_OR, [GS_BIN_BXOR] = GS_IR_XOR, [GS_BIN_BAND] = GS_IR_AND,
		[GS_BIN_EQ] = GS_IR_EQ, [GS_BIN_NE] = GS_IR_NE, [GS_BIN_LT] = GS_IR_LT,
		[GS_BIN_LE] = GS_IR_LE, [GS_BIN_GT] = GS_IR_GT, [GS_BIN_GE] = GS_IR_GE,
		[GS_BIN_SHL] = GS_IR_SHL, [GS_BIN_SHR] = GS_IR_SHR, [GS_BIN_ADD] = GS_IR_ADD,
		[GS_BIN_SUB] = GS_IR_SUB, [GS_BIN_MUL] = GS_IR_MUL, [GS_BIN_DIV] = GS_IR_DIV,
		[GS_BIN_MOD] = GS_IR_MOD,
	};
	struct tval a, b;
	struct gs_ir_expr *xa, *xb, *x;
	unsigned int sa, sb, size;
	bool ga, gb, sgn, cmp;
	const struct gs_type *ta, *tb;
	enum tclass ca, cb;

	if (plan_compile(c, e->a, &a) || plan_compile(c, e->b, &b))
		return -EINVAL;
	if (plan_need_value(c, e->a, &a) || plan_need_value(c, e->b, &b))
		return -EINVAL;

	/* char* / char[N] == "literal" */
	if ((e->binop == GS_BIN_EQ || e->binop == GS_BIN_NE) &&
	    (a.kind == TV_STRLIT || b.kind == TV_STRLIT)) {
		if (a.kind == TV_STRLIT && b.kind == TV_STRLIT)
			return plan_err(c, &e->span, "comparing two string literals");
		if (a.kind == TV_STRLIT)
			return compile_string_eq(c, e, &b, e->b, &a, out);
		if (!plan_is_string(&a))
			return plan_err(c, &e->span, "only char pointers and arrays compare with a string literal");
		return compile_string_eq(c, e, &a, e->a, &b, out);
	}

	if (e->binop == GS_BIN_LAND || e->binop == GS_BIN_LOR) {
		if (plan_rvalue(c, &e->a->span, &a, &xa, &sa, &ga) || plan_rvalue(c, &e->b->span, &b, &xb, &sb, &gb))
			return -EINVAL;
		x = e->binop == GS_BIN_LAND ? gs_ir_land(c->ir, plan_truthy(c, xa), plan_truthy(c, xb))
					    : gs_ir_lor(c->ir, plan_truthy(c, xa), plan_truthy(c, xb));
		*out = int_val(x, 4, true);
		out->is_bool = true;
		return 0;
	}

	if ((a.kind == TV_SYNPTR && (e->binop == GS_BIN_ADD || e->binop == GS_BIN_SUB)) ||
	    (b.kind == TV_SYNPTR && e->binop == GS_BIN_ADD))
		return synptr_move(c, e, a.kind == TV_SYNPTR ? &a : &b,
				   a.kind == TV_SYNPTR ? e->b : e->a, a.kind == TV_SYNPTR ? &b : &a, out);
	ca = plan_class(&a, &ta);
	cb = plan_class(&b, &tb);
	if (plan_rvalue(c, &e->a->span, &a, &xa, &sa, &ga) || plan_rvalue(c, &e->b->span, &b, &xb, &sb, &gb))
		return -EINVAL;
	cmp = e->binop >= GS_BIN_EQ && e->binop <= GS_BIN_GE;

	/* Pointer arithmetic and comparison. */
	if (ca == C_PTR || cb == C_PTR || ca == C_ARRAY || cb == C_ARRAY) {
		bool pa = ca == C_PTR || ca == C_ARRAY, pb = cb == C_PTR || cb == C_ARRAY;

		if (cmp) {
			if (e->binop != GS_BIN_EQ && e->binop != GS_BIN_NE)
				return plan_err(c, &e->span, "pointers compare only with == and !=");
			*out = int_val(gs_ir_binop(c->ir, irop[e->binop], false, xa, xb), 4, true);
			out->is_bool = true;
			return 0;
		}
		if ((e->binop == GS_BIN_ADD || e->binop == GS_BIN_SUB) && pa && !pb) {
			struct tval ptr = a;
			uint32_t type;
			uint8_t extra;
			uint64_t stride;

			if (ca == C_ARRAY) {	/* decay: pointer to the element */
				ptr.type = ta->target;
				ptr.extra_ptr = 1;
				ptr.dim_skip = 0;
			}
			pointee(&ptr, &type, &extra);
			stride = type_size_of(ptr.idx, type, extra);
			if (!stride)
				stride = 1;	/* void* moves by bytes */
			xb = gs_ir_binop(c->ir, GS_IR_MUL, false, to_width(c, xb, sb, gb),
					 gs_ir_const(c->ir, stride));
			*out = ptr;
			out->kind = TV_VAL;
			out->ir = gs_ir_binop(c->ir, irop[e->binop], false, xa, xb);
			out->bit_size = 0;
			return 0;
		}
		if (e->binop == GS_BIN_ADD && pb && !pa) {
			struct gs_expr swapped = *e;

			swapped.a = e->b;
			swapped.b = e->a;
			return compile_binary(c, &swapped, out);
		}
		return plan_err(c, &e->span, "operator '%s' does not apply to pointers", gs_binop_name(e->binop));
	}

	common_type(sa, ga, sb, gb, &size, &sgn);
	xa = to_width(c, xa, size, sgn);
	xb = to_width(c, xb, size, sgn);
	if (e->binop == GS_BIN_SHL || e->binop == GS_BIN_SHR) {
		/* The count is masked to the (promoted) left operand's width. */
		size = sa;
		sgn = ga;
		xa = to_width(c, xa, size, sgn);
		xb = gs_ir_binop(c->ir, GS_IR_AND, false, xb, gs_ir_const(c->ir, size * 8 - 1));
	}
	x = gs_ir_binop(c->ir, irop[e->binop], sgn, xa, xb);
	if (cmp) {
		*out = int_val(x, 4, true);
		out->is_bool = true;
	} else {
		*out = int_val(to_width(c, x, size, sgn), size, sgn);
	}
	return 0;
}

static int compile_unary(struct pctx *c, const struct gs_expr *e, struct tval *out)
{
	struct gs_ir_expr *x;
	struct tval v;
	unsigned int size;
	bool sgn;

	if (plan_compile(c, e->a, &v))
		return -EINVAL;
	switch (e->unop) {
	case GS_UN_DEREF:
		if (plan_need_value(c, e->a, &v))
			return -EINVAL;
		return plan_deref(c, &e->span, &v, out);
	case GS_UN_ADDR:
		if (v.kind != TV_MEM || v.bit_size)
			return plan_err(c, &e->span, "cannot take the address of '%.*s': it is not in memory here",
				    (int)(e->a->span.end - e->a->span.start), c->script->src + e->a->span.start);
		*out = v;
		out->kind = TV_VAL;
		if (v.dim_skip) {	/* &grid[1]: decays like C; keep it a byte pointer */
			out->dim_skip = 0;
		}
		out->extra_ptr++;
		return 0;
	default:
		break;
	}
	if (plan_rvalue(c, &e->a->span, &v, &x, &size, &sgn))
		return -EINVAL;
	switch (e->unop) {
	case GS_UN_NEG:
		*out = int_val(to_width(c, gs_ir_unop(c->ir, GS_IR_NEG, x), size, sgn), size, sgn);
		break;
	case GS_UN_BNOT:
		*out = int_val(to_width(c, gs_ir_unop(c->ir, GS_IR_NOT, x), size, sgn), size, sgn);
		break;
	default:
		*out = int_val(gs_ir_unop(c->ir, GS_IR_LNOT, x), 4, true);
		out->is_bool = true;
		break;
	}
	return 0;
}

/* A literal string operand of a builtin: a GS_E_STR or a let bound to one. */
static bool literal_bytes(struct pctx *c, const struct gs_expr *e, const uint8_t **bytes,
			  uint32_t *len, bool *is_hex)
{
	struct tval v;

	*is_hex = false;
	if (e->kind == GS_E_STR) {
		*bytes = (const uint8_t *)e->str;
		*len = e->str_len;
		return true;
	}
	if (e->kind == GS_E_HEX) {
		*bytes = e->bytes;
		*len = e->byte_cnt;
		*is_hex = true;
		return true;
	}
	if (e->kind == GS_E_IDENT && e->let) {
		for (size_t i = 0; i < c->nlets; i++) {
			if (c->lets[i].stmt == e->let && c->lets[i].val.kind == TV_STRLIT) {
				v = c->lets[i].val;
				*bytes = v.bytes;
				*len = v.len;
				return true;
			}
		}
	}
	return false;
}

static int const_int(struct pctx *c, const struct gs_expr *e, int64_t *v)
{
	if (e->kind == GS_E_INT) {
		*v = e->ival;
		return 0;
	}
	return plan_err(c, &e->span, "expected an integer literal here");
}

static int compile_call(struct pctx *c, const struct gs_expr *e, struct tval *out)
{
	const uint8_t *lit = NULL;
	uint32_t litlen = 0;
	struct gs_ir_expr *addr, *addr2 = NULL, *x;
	struct tval a, b;
	int64_t n = -1;
	bool hex = false;
	int which = 1;

	switch (e->builtin) {
	case GS_BI_STARTS_WITH:
	case GS_BI_STRNCMP:
		if (e->builtin == GS_BI_STRNCMP && const_int(c, e->args[2], &n))
			return -EINVAL;
		if (!literal_bytes(c, e->args[1], &lit, &litlen, &hex)) {
			which = 0;
			if (!literal_bytes(c, e->args[0], &lit, &litlen, &hex))
				return plan_err(c, &e->span, "%s needs a string literal on one side",
					    gs_builtin_name(e->builtin));
		}
		if (plan_compile(c, e->args[which ? 0 : 1], &a))
			return -EINVAL;
		if (e->builtin == GS_BI_STRNCMP) {
			/* Past the literal's NUL, strncmp compares no further. */
			if (n < 0)
				return plan_err(c, &e->args[2]->span, "negative length");
			if ((uint64_t)n > litlen)
				n = litlen + 1;
		} else {
			n = litlen;
		}
		if (n > 128)
			return plan_err(c, &e->span, "comparison longer than 128 bytes");
		{
			uint8_t buf[129] = { 0 };

			memcpy(buf, lit, litlen < 128 ? litlen : 128);
			if (a.kind == TV_SYNPTR) {
				if (synptr_memeq(c, &e->span, &a, buf, (uint32_t)n, &x))
					return -EINVAL;
				break;
			}
			if (string_addr(c, e->args[which ? 0 : 1], &a, &addr))
				return -EINVAL;
			x = n ? gs_ir_memeq(c->ir, addr, NULL, buf, n) : gs_ir_const(c->ir, 1);
		}
		break;
	case GS_BI_MEMCMP: {
		const struct gs_expr *pa = e->args[0], *pb = e->args[1];
		bool ha = pa->kind == GS_E_HEX, hb = pb->kind == GS_E_HEX;

		if (e->arg_cnt == 3 && const_int(c, e->args[2], &n))
			return -EINVAL;
		if (ha && hb)
			return plan_err(c, &e->span, "memcmp of two hex literals");
		if (ha) {
			const struct gs_expr *t = pa;

			pa = pb;
			pb = t;
		}
		if (plan_compile(c, pa, &a))
			return -EINVAL;
		if (pb->kind == GS_E_HEX) {
			lit = pb->bytes;
			litlen = pb->byte_cnt;
			if (n < 0)
				n = litlen;
			if ((uint64_t)n > litlen)
				return plan_err(c, &e->span, "memcmp length %" PRId64 " exceeds the hex literal's %u bytes",
					    n, litlen);
			if (a.kind == TV_SYNPTR) {
				if (synptr_memeq(c, &e->span, &a, lit, (uint32_t)n, &x))
					return -EINVAL;
				break;
			}
		}
		if (string_addr(c, pa, &a, &addr))
			return -EINVAL;
		if (pb->kind != GS_E_HEX) {
			if (plan_compile(c, pb, &b) || string_addr(c, pb, &b, &addr2))
				return -EINVAL;
			if (n < 0)
				return plan_err(c, &e->span, "memcmp needs a length");
		}
		if (n > 128)
			return plan_err(c, &e->span, "comparison longer than 128 bytes");
		x = n == 0 ? gs_ir_const(c->ir, 1) : gs_ir_memeq(c->ir, addr, addr2, lit, n);
		break;
	}
	default:
		return plan_err(c, &e->span, "unknown builtin");
	}
	*out = int_val(x, 4, true);
	out->is_bool = true;
	return 0;
}

static const char *builtin_type_alias(const char *name)
{
	static const char *const map[][2] = {
		{ "u8", "unsigned char" }, { "u16", "short unsigned int" },
		{ "u32", "unsigned int" }, { "u64", "long unsigned int" },
		{ "i8", "signed char" }, { "s8", "signed char" }, { "i16", "short int" },
		{ "s16", "short int" }, { "i32", "int" }, { "s32", "int" },
		{ "i64", "long int" }, { "s64", "long int" },
		{ "unsigned long", "long unsigned int" }, { "unsigned", "unsigned int" },
		{ "long", "long int" }, { "short", "short int" },
		{ "unsigned short", "short unsigned int" }, { "long long", "long long int" },
		{ "unsigned long long", "long long unsigned int" },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(map[i][0], name))
			return map[i][1];
	return name;
}

static int compile_cast(struct pctx *c, const struct gs_expr *e, struct tval *out)
{
	const struct gs_type_expr *te = e->type;
	const struct gs_type *const *types;
	const struct gs_type *pick = NULL;
	struct gs_index *idx;
	struct tval v;
	size_t cnt = 0;

	if (plan_compile(c, e->a, &v) || plan_need_value(c, e->a, &v))
		return -EINVAL;
	idx = v.idx && !v.is_int ? v.idx : c->mod->idx;
	if (te->dim_cnt)
		return plan_err(c, &e->span, "casts to array types are not supported yet");
	if (!idx || gs_index_types_by_name(idx, builtin_type_alias(te->name), &types, &cnt))
		cnt = 0;
	for (size_t i = 0; i < cnt; i++) {
		uint8_t k = types[i]->kind;
		bool ok = te->tag == GS_TAG_STRUCT ? (k == GS_TYPE_STRUCT || k == GS_TYPE_CLASS) :
			  te->tag == GS_TAG_UNION ? k == GS_TYPE_UNION :
			  te->tag == GS_TAG_ENUM ? k == GS_TYPE_ENUM : true;

		if (!ok)
			continue;
		if (!pick || (pick->declaration && !types[i]->declaration))
			pick = types[i];
	}
	if (!pick)
		return plan_err(c, &e->span, "unknown type '%s' in this module", e->str);
	if (v.kind == TV_MEM && !te->ptr_depth && !v.bit_size) {
		*out = v;		/* reinterpret the object in place */
	} else {
		struct gs_ir_expr *x;
		unsigned int size;
		bool sgn;

		if (plan_rvalue(c, &e->a->span, &v, &x, &size, &sgn))
			return -EINVAL;
		memset(out, 0, sizeof(*out));
		out->kind = TV_VAL;
		out->ir = x;
	}
	out->idx = idx;
	out->type = pick->id;
	out->extra_ptr = te->ptr_depth;
	out->dim_skip = 0;
	out->is_int = false;
	return 0;
}

static int compile_special(struct pctx *c, const struct gs_expr *e, struct tval *out)
{
	switch (e->special) {
	case GS_SP_PID:
		*out = int_val(gs_ir_special(c->ir, GS_IR_SP_PID), 4, true);
		return 0;
	case GS_SP_TID:
		*out = int_val(gs_ir_special(c->ir, GS_IR_SP_TID), 4, true);
		return 0;
	case GS_SP_HOST_PID:
		*out = int_val(gs_ir_special(c->ir, GS_IR_SP_HOST_PID), 4, true);
		return 0;
	case GS_SP_TIMESTAMP:
		*out = int_val(gs_ir_special(c->ir, GS_IR_SP_TIMESTAMP), 8, false);
		return 0;
	case GS_SP_PC:
		c->entry_reject |= c->entry_check;	/* $pc must be after the prologue */
		*out = int_val(gs_ir_special(c->ir, GS_IR_SP_PC), 8, false);
		return 0;
	case GS_SP_SP:
		c->entry_reject |= c->entry_check;
		*out = int_val(gs_ir_special(c->ir, GS_IR_SP_SP), 8, false);
		return 0;
	case GS_SP_COMM:
		return plan_err(c, &e->span, "$comm can only be printed");
	case GS_SP_RETVAL: {
		const struct gs_type *t;

		if (!c->retprobe)
			return plan_err(c, &e->span, "$retval is only known in a return probe (FUNC:return)");
		if (!c->func) {	/* no DWARF: the raw register */
			*out = int_val(gs_ir_reg(c->ir, 0), 8, true);
			return 0;
		}
		if (!c->func->ret_type)
			return plan_err(c, &e->span, "%s returns void", c->func->name);
		t = tstrip(c->mod->idx, c->func->ret_type);
		if (!t || (t->kind == GS_TYPE_BASE && t->encoding == DW_ATE_float))
			return plan_err(c, &e->span, "%s returns a floating-point value in xmm0, which uprobes cannot read",
				    c->func->name);
		if (t->size > 8)
			return plan_err(c, &e->span, "%s returns a %" PRIu64 "-byte value, which is not in rax alone",
				    c->func->name, t->size);
		memset(out, 0, sizeof(*out));
		out->kind = TV_VAL;
		out->idx = c->mod->idx;
		out->type = c->func->ret_type;
		out->ir = gs_ir_reg(c->ir, 0);
		out->name = "$retval";
		return 0;
	}
	}
	return plan_err(c, &e->span, "unknown special variable");
}

int plan_compile(struct pctx *c, const struct gs_expr *e, struct tval *out)
{
	memset(out, 0, sizeof(*out));
	switch (e->kind) {
	case GS_E_INT:
		*out = int_val(gs_ir_const(c->ir, (uint64_t)e->ival), 8, true);
		return 0;
	case GS_E_BOOL:
		*out = int_val(gs_ir_const(c->ir, e->bval), 4, true);
		out->is_bool = true;
		return 0;
	case GS_E_STR:
		out->kind = TV_STRLIT;
		out->bytes = (const uint8_t *)e->str;
		out->len = e->str_len;
		return 0;
	case GS_E_IDENT:
		return lookup_ident(c, e, out);
	case GS_E_SPECIAL:
		return compile_special(c, e, out);
	case GS_E_MEMBER:
		return compile_member(c, e, out);
	case GS_E_INDEX:
		return compile_index(c, e, out);
	case GS_E_UNARY:
		return compile_unary(c, e, out);
	case GS_E_BINARY:
		return compile_binary(c, e, out);
	case GS_E_CALL:
		return compile_call(c, e, out);
	case GS_E_CAST:
		return compile_cast(c, e, out);
	case GS_E_HEX:
		return plan_err(c, &e->span, "hex(...) is only a memcmp operand");
	}
	return plan_err(c, &e->span, "unsupported expression");
}

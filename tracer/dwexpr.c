// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * DWARF location expressions to probe IR.
 *
 * The DWARF stack machine (DWARF 5 section 2.5) is run at plan time, but its stack
 * holds IR expressions instead of numbers: DW_OP_breg7 8 pushes "rsp + 8",
 * DW_OP_deref pops it and pushes "load8(rsp + 8)". What remains at the end says where
 * the object is: on the stack top as an address (a memory location), in a register
 * (DW_OP_regN), or as the value itself (DW_OP_stack_value). Composite locations
 * (DW_OP_piece) of scalars up to 8 bytes are assembled with shifts and masks.
 *
 * Not handled, each with a clear reason instead of a guess: DW_OP_entry_value (needs
 * the caller's call-site values or an entry probe), TLS (needs the thread pointer),
 * DW_OP_call*, typed-stack ops on wide types, and pieces beyond 8 bytes.
 */
#include <dwarf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "shared/errors.h"
#include "tracer/dwexpr.h"

#define STACK_MAX 32

/* x86-64 DWARF register numbers 0..16 (System V psABI, figure 3.36). */
static const char *const reg_names[] = {
	"rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip",
};

const char *gs_dwexpr_reg_name(unsigned int reg)
{
	return reg < sizeof(reg_names) / sizeof(reg_names[0]) ? reg_names[reg] : NULL;
}

const struct gs_locexpr *gs_dwexpr_at(const struct gs_location *loc, uint64_t pc,
				      uint64_t func_entry)
{
	switch (loc->kind) {
	case GS_LOC_EXPR:
		return &loc->expr;
	case GS_LOC_LIST:
		for (uint32_t i = 0; i < loc->nentries; i++) {
			const struct gs_loc_entry *le = &loc->entries[i];

			if (pc >= le->lo && pc < le->hi)
				return &le->expr;
			if (le->lo == le->hi && pc == le->lo && pc == func_entry)
				return &le->expr;
		}
		return NULL;
	default:
		return NULL;
	}
}

struct machine {
	struct gs_ir_prog *prog;
	const struct gs_dwctx *ctx;
	struct gs_ir_expr *stack[STACK_MAX];
	int sp;
	char *err;
	size_t errlen;
	char *how;
	const char *unavailable;	/* set with -ENODATA: why the value cannot be had */
};

static int fail(struct machine *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct machine *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->err, m->errlen, fmt, ap);
	va_end(ap);
	return -GS_ERR_UNSUPPORTED_OP;
}

static int push(struct machine *m, struct gs_ir_expr *e)
{
	if (m->sp >= STACK_MAX)
		return fail(m, "DWARF expression stack overflow");
	m->stack[m->sp++] = e;
	return 0;
}

static struct gs_ir_expr *pop(struct machine *m)
{
	return m->sp > 0 ? m->stack[--m->sp] : NULL;
}

/* Module vaddr @x as a runtime address: plus the module's load bias when it is PIE. */
struct gs_ir_expr *gs_dwexpr_rebase(struct gs_ir_prog *p, const struct gs_dwctx *ctx,
				    struct gs_ir_expr *x)
{
	if (!ctx->pie)
		return x;
	if (ctx->const_bias)
		return gs_ir_binop(p, GS_IR_ADD, false, x, gs_ir_const(p, ctx->bias));
	return gs_ir_binop(p, GS_IR_ADD, false, x, ctx->bias_expr ? ctx->bias_expr :
			   gs_ir_special(p, GS_IR_SP_BIAS));
}

static struct gs_ir_expr *rebase(struct machine *m, struct gs_ir_expr *x)
{
	return gs_dwexpr_rebase(m->prog, m->ctx, x);
}

/*
 * A location in a register the uprobe's pt_regs does not have: the x86-64 DWARF
 * numbers 17-32 are %xmm0-15 (doubles and floats at -O2), 33-40 %st0-7, 41-48 %mm0-7.
 */
static int unreadable_reg(struct machine *m, uint64_t r)
{
	if (r >= 17 && r <= 32)
		return fail(m, "it is in %%xmm%" PRIu64 ", a floating-point/vector register that uprobes do not save; read it where it is in memory",
			    r - 17);
	if (r >= 33 && r <= 48)
		return fail(m, "it is in the x87/MMX register %%%s%" PRIu64 ", which uprobes do not save",
			    r <= 40 ? "st" : "mm", r <= 40 ? r - 33 : r - 41);
	return fail(m, "DWARF register %" PRIu64 " is not readable at a uprobe", r);
}

/* Register @r's value: the probe's, or what ctx->reg_value recovers (NULL: cannot). */
static struct gs_ir_expr *reg_read(struct machine *m, unsigned int r)
{
	return m->ctx->reg_value ? m->ctx->reg_value(m->ctx->reg_arg, r) : gs_ir_reg(m->prog, r);
}

static void how_add(struct machine *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void how_add(struct machine *m, const char *fmt, ...)
{
	size_t used = strlen(m->how);
	va_list ap;

	if (used >= sizeof(((struct gs_dwloc *)0)->how) - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(m->how + used, sizeof(((struct gs_dwloc *)0)->how) - used, fmt, ap);
	va_end(ap);
}

static int binop(struct machine *m, enum gs_ir_binop op, bool is_signed)
{
	struct gs_ir_expr *b = pop(m), *a = pop(m);

	if (!a || !b)
		return fail(m, "DWARF expression stack underflow");
	return push(m, gs_ir_binop(m->prog, op, is_signed, a, b));
}

static int frame_base(struct machine *m, struct gs_ir_expr **fb_ret);

/*
 * Runs @ops; on return the stack holds the result. *@reg_ret is set (>= 0) when the
 * expression ended in a register location (DW_OP_regN), *@value_ret when it ended in
 * DW_OP_stack_value. Stops at the first DW_OP_piece (returns its index in *@stop_ret).
 */
static int run(struct machine *m, const struct gs_op *ops, uint32_t nops, uint32_t *pos,
	       int *reg_ret, bool *value_ret)
{
	struct gs_ir_prog *p = m->prog;
	int err;

	*reg_ret = -1;
	*value_ret = false;
	for (; *pos < nops; (*pos)++) {
		const struct gs_op *op = &ops[*pos];
		uint8_t a = op->atom;
		struct gs_ir_expr *x, *y, *z;

		if (a == DW_OP_piece)
			return 0;
		if (*reg_ret >= 0 || *value_ret)
			return fail(m, "operation 0x%x after a register or stack value", a);

		if (a >= DW_OP_lit0 && a <= DW_OP_lit31) {
			err = push(m, gs_ir_const(p, a - DW_OP_lit0));
		} else if (a >= DW_OP_reg0 && a <= DW_OP_reg31) {
			if (!gs_dwexpr_reg_name(a - DW_OP_reg0))
				return unreadable_reg(m, (uint64_t)(a - DW_OP_reg0));
			*reg_ret = a - DW_OP_reg0;
			how_add(m, "reg %s", gs_dwexpr_reg_name(*reg_ret));
			err = 0;
		} else if (a >= DW_OP_breg0 && a <= DW_OP_breg31) {
			unsigned int r = a - DW_OP_breg0;

			if (!gs_dwexpr_reg_name(r))
				return unreadable_reg(m, r);
			how_add(m, "%s%+" PRId64 " ", gs_dwexpr_reg_name(r), (int64_t)op->n1);
			x = reg_read(m, r);
			if (!x)
				return fail(m, "the caller's %s is not recoverable here", gs_dwexpr_reg_name(r));
			err = push(m, gs_ir_binop(p, GS_IR_ADD, false, x, gs_ir_const(p, op->n1)));
		} else {
			switch (a) {
			case DW_OP_addr:
				how_add(m, "addr 0x%" PRIx64 " ", op->n1);
				err = push(m, rebase(m, gs_ir_const(p, op->n1)));
				break;
			case DW_OP_const1u: case DW_OP_const2u: case DW_OP_const4u:
			case DW_OP_const8u: case DW_OP_constu:
			case DW_OP_const1s: case DW_OP_const2s: case DW_OP_const4s:
			case DW_OP_const8s: case DW_OP_consts:
				err = push(m, gs_ir_const(p, op->n1));
				break;
			case DW_OP_regx:
				if (!gs_dwexpr_reg_name(op->n1))
					return unreadable_reg(m, op->n1);
				*reg_ret = (int)op->n1;
				how_add(m, "reg %s", gs_dwexpr_reg_name(*reg_ret));
				err = 0;
				break;
			case DW_OP_bregx:
				if (!gs_dwexpr_reg_name(op->n1))
					return unreadable_reg(m, op->n1);
				how_add(m, "%s%+" PRId64 " ", gs_dwexpr_reg_name(op->n1), (int64_t)op->n2);
				x = reg_read(m, (unsigned int)op->n1);
				if (!x)
					return fail(m, "the caller's %s is not recoverable here",
						    gs_dwexpr_reg_name(op->n1));
				err = push(m, gs_ir_binop(p, GS_IR_ADD, false, x, gs_ir_const(p, op->n2)));
				break;
			case DW_OP_fbreg:
				err = frame_base(m, &x);
				if (err)
					return err;
				how_add(m, "fbreg%+" PRId64 " ", (int64_t)op->n1);
				err = push(m, gs_ir_binop(p, GS_IR_ADD, false, x, gs_ir_const(p, op->n1)));
				break;
			case DW_OP_call_frame_cfa:
				how_add(m, "cfa ");
				if (m->ctx->reg_value && !m->ctx->cfa_expr)
					return fail(m, "that frame's CFA is not recoverable here");
				err = push(m, m->ctx->reg_value ? m->ctx->cfa_expr :
					      gs_ir_special(p, GS_IR_SP_CFA));
				break;
			case DW_OP_dup:
				if (!m->sp)
					return fail(m, "DWARF expression stack underflow");
				err = push(m, m->stack[m->sp - 1]);
				break;
			case DW_OP_drop:
				if (!pop(m))
					return fail(m, "DWARF expression stack underflow");
				err = 0;
				break;
			case DW_OP_over:
				if (m->sp < 2)
					return fail(m, "DWARF expression stack underflow");
				err = push(m, m->stack[m->sp - 2]);
				break;
			case DW_OP_pick:
				if (op->n1 >= (uint64_t)m->sp)
					return fail(m, "DWARF expression stack underflow");
				err = push(m, m->stack[m->sp - 1 - op->n1]);
				break;
			case DW_OP_swap:
				if (m->sp < 2)
					return fail(m, "DWARF expression stack underflow");
				x = m->stack[m->sp - 1];
				m->stack[m->sp - 1] = m->stack[m->sp - 2];
				m->stack[m->sp - 2] = x;
				err = 0;
				break;
			case DW_OP_rot:
				if (m->sp < 3)
					return fail(m, "DWARF expression stack underflow");
				x = m->stack[m->sp - 1];
				y = m->stack[m->sp - 2];
				z = m->stack[m->sp - 3];
				m->stack[m->sp - 1] = y;
				m->stack[m->sp - 2] = z;
				m->stack[m->sp - 3] = x;
				err = 0;
				break;
			case DW_OP_deref:
				x = pop(m);
				if (!x)
					return fail(m, "DWARF expression stack underflow");
				how_add(m, "deref ");
				err = push(m, gs_ir_load(p, x, 8, false));
				break;
			case DW_OP_deref_size:
				x = pop(m);
				if (!x || !(op->n1 == 1 || op->n1 == 2 || op->n1 == 4 || op->n1 == 8))
					return fail(m, "bad DW_OP_deref_size");
				how_add(m, "deref%" PRIu64 " ", op->n1);
				err = push(m, gs_ir_load(p, x, op->n1, false));
				break;
			case DW_OP_plus_uconst:
				x = pop(m);
				if (!x)
					return fail(m, "DWARF expression stack underflow");
				err = push(m, gs_ir_binop(p, GS_IR_ADD, false, x, gs_ir_const(p, op->n1)));
				break;
			case DW_OP_plus: err = binop(m, GS_IR_ADD, false); break;
			case DW_OP_minus: err = binop(m, GS_IR_SUB, false); break;
			case DW_OP_mul: err = binop(m, GS_IR_MUL, false); break;
			case DW_OP_div: err = binop(m, GS_IR_DIV, true); break;
			case DW_OP_mod: err = binop(m, GS_IR_MOD, false); break;
			case DW_OP_and: err = binop(m, GS_IR_AND, false); break;
			case DW_OP_or: err = binop(m, GS_IR_OR, false); break;
			case DW_OP_xor: err = binop(m, GS_IR_XOR, false); break;
			case DW_OP_shl: err = binop(m, GS_IR_SHL, false); break;
			case DW_OP_shr: err = binop(m, GS_IR_SHR, false); break;
			case DW_OP_shra: err = binop(m, GS_IR_SHR, true); break;
			case DW_OP_eq: err = binop(m, GS_IR_EQ, true); break;
			case DW_OP_ne: err = binop(m, GS_IR_NE, true); break;
			case DW_OP_lt: err = binop(m, GS_IR_LT, true); break;
			case DW_OP_le: err = binop(m, GS_IR_LE, true); break;
			case DW_OP_gt: err = binop(m, GS_IR_GT, true); break;
			case DW_OP_ge: err = binop(m, GS_IR_GE, true); break;
			case DW_OP_neg:
			case DW_OP_not:
				x = pop(m);
				if (!x)
					return fail(m, "DWARF expression stack underflow");
				err = push(m, gs_ir_unop(p, a == DW_OP_neg ? GS_IR_NEG : GS_IR_NOT, x));
				break;
			case DW_OP_abs:
				x = pop(m);
				if (!x)
					return fail(m, "DWARF expression stack underflow");
				err = push(m, gs_ir_select(p,
					gs_ir_binop(p, GS_IR_LT, true, x, gs_ir_const(p, 0)),
					gs_ir_unop(p, GS_IR_NEG, x), x));
				break;
			case DW_OP_nop:
			case DW_OP_convert:	/* integral conversions of <= 64-bit values */
			case DW_OP_GNU_convert:
				err = 0;
				break;
			case DW_OP_stack_value:
				*value_ret = true;
				how_add(m, "value");
				err = 0;
				break;
			case DW_OP_entry_value:
			case DW_OP_GNU_entry_value: {
				/* The common form: a register's value at entry, saved there. */
				const struct gs_op *in = *pos + 1 < nops ? &ops[*pos + 1] : NULL;
				int r = !in || op->n1 != 1 ? -1 :
					in->atom >= DW_OP_reg0 && in->atom <= DW_OP_reg31 ? in->atom - DW_OP_reg0 :
					in->atom == DW_OP_regx ? (int)in->n1 : -1;

				x = r >= 0 && gs_dwexpr_reg_name(r) && m->ctx->entry_reg ?
				    m->ctx->entry_reg(m->ctx->entry_arg, r) : NULL;
				if (x) {
					how_add(m, "entry value of %s ", gs_dwexpr_reg_name(r));
					(*pos)++;	/* the nested op */
					err = push(m, x);
					break;
				}
			}
				/* fall through */
			case DW_OP_GNU_parameter_ref:
				/*
				 * The value the caller passed: GDB recovers it from the caller's
				 * call-site parameters when it can, and prints <optimized out>
				 * when it cannot; so do we, until call sites are followed.
				 */
				m->unavailable = "optimized out (entry value not recovered)";
				return -ENODATA;
			case DW_OP_implicit_pointer:
			case DW_OP_GNU_implicit_pointer:
				m->unavailable = "synthetic pointer";
				return -ENODATA;
			case DW_OP_form_tls_address:
			case DW_OP_GNU_push_tls_address:
				x = pop(m);
				if (!x)
					return fail(m, "DWARF expression stack underflow");
				if (m->ctx->tls_dtv) {
					/* a shared library: its block through the thread's DTV */
					how_add(m, "tls(dtv, id at 0x%" PRIx64 ") ",
						m->ctx->tls_modid_vaddr);
					err = push(m, gs_ir_binop(p, GS_IR_ADD, false, x,
						gs_ir_tls_block(p, rebase(m,
							gs_ir_const(p, m->ctx->tls_modid_vaddr)))));
					break;
				}
				if (!m->ctx->tls_ok)
					return fail(m, "%s", m->ctx->tls_why ? m->ctx->tls_why :
						    "thread-local storage of this module is not readable");
				how_add(m, "tls ");
				err = push(m, gs_ir_binop(p, GS_IR_ADD, false, x,
					gs_ir_binop(p, GS_IR_SUB, false, gs_ir_special(p, GS_IR_SP_TP),
						    gs_ir_const(p, m->ctx->tls_off))));
				break;
			default:
				return fail(m, "DWARF operation 0x%x is not supported", a);
			}
		}
		if (err)
			return err;
	}
	return 0;
}

/* Evaluates the function's DW_AT_frame_base at the pc into an address expression. */
static int frame_base(struct machine *m, struct gs_ir_expr **fb_ret)
{
	const struct gs_locexpr *e;
	struct machine sub;
	uint32_t pos = 0;
	int reg, err;
	bool value;

	if (!m->ctx->frame_base)
		return fail(m, "DW_OP_fbreg without a frame base");
	e = gs_dwexpr_at(m->ctx->frame_base, m->ctx->pc, m->ctx->func_entry);
	if (!e)
		return fail(m, "frame base is not available at this pc");
	sub = *m;
	sub.sp = 0;
	err = run(&sub, e->ops, e->nops, &pos, &reg, &value);
	if (err) {
		m->unavailable = sub.unavailable;
		return err;
	}
	if (reg >= 0) {		/* DW_OP_reg6: the frame base is rbp's value */
		*fb_ret = reg_read(m, (unsigned int)reg);
		return *fb_ret ? 0 : fail(m, "the frame base register is not recoverable here");
	}
	*fb_ret = pop(&sub);
	if (!*fb_ret)
		return fail(m, "empty frame base expression");
	return 0;
}

static uint64_t mask_bits(unsigned int bits)
{
	return bits >= 64 ? ~0ULL : (1ULL << bits) - 1;
}

int gs_dwexpr_lower(struct gs_ir_prog *prog, const struct gs_location *loc,
		    const struct gs_dwctx *ctx, struct gs_dwloc *out, char *err, size_t errlen)
{
	struct machine m = { .prog = prog, .ctx = ctx, .err = err, .errlen = errlen };
	struct gs_ir_expr *acc = NULL;
	const struct gs_locexpr *e;
	unsigned int shift = 0;
	uint32_t pos = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	m.how = out->how;
	if (loc->kind == GS_LOC_CONST) {
		out->kind = loc->cval_len ? GS_DWLOC_BYTES : GS_DWLOC_VALUE;
		out->bytes = loc->cval_bytes;
		out->len = loc->cval_len;
		if (!loc->cval_len)
			out->ir = gs_ir_const(prog, (uint64_t)loc->cval);
		snprintf(out->how, sizeof(out->how), "constant");
		return 0;
	}
	e = gs_dwexpr_at(loc, ctx->pc, ctx->func_entry);
	if (!e || !e->nops) {
		out->kind = GS_DWLOC_OPTIMIZED_OUT;
		snprintf(out->how, sizeof(out->how), "optimized out");
		return 0;
	}
	if (e->nops == 1 && e->ops[0].atom == DW_OP_implicit_value) {
		if (e->ops[0].n2 + e->ops[0].n1 > e->blob_len)
			return fail(&m, "bad DW_OP_implicit_value");
		out->kind = GS_DWLOC_BYTES;
		out->bytes = e->blob + e->ops[0].n2;
		out->len = e->ops[0].n1;
		snprintf(out->how, sizeof(out->how), "implicit value");
		return 0;
	}
	/* the indexer put the pointed-at object's location after the op (loc.c) */
	if (e->nops == 2 && e->ops[0].atom == DW_OP_implicit_pointer && e->ops[0].n1 == 1 &&
	    e->ops[1].atom == DW_OP_implicit_value) {
		if (e->ops[1].n2 + e->ops[1].n1 > e->blob_len)
			return fail(&m, "bad DW_OP_implicit_value");
		out->kind = GS_DWLOC_SYNPTR;
		out->bytes = e->blob + e->ops[1].n2;
		out->len = e->ops[1].n1;
		out->off = (int64_t)e->ops[0].n2;
		snprintf(out->how, sizeof(out->how), "implicit pointer to %u constant bytes%+" PRId64,
			 out->len, out->off);
		return 0;
	}

	for (;;) {
		struct gs_ir_expr *v;
		int reg;
		bool value;

		m.sp = 0;
		ret = run(&m, e->ops, e->nops, &pos, &reg, &value);
		if (ret == -ENODATA) {
			out->kind = GS_DWLOC_OPTIMIZED_OUT;
			out->unavailable = m.unavailable;
			snprintf(out->how, sizeof(out->how), "%s", m.unavailable);
			return 0;
		}
		if (ret)
			return ret;
		if (pos >= e->nops && !acc) {	/* no pieces: the common case */
			if (reg >= 0) {
				out->kind = GS_DWLOC_VALUE;
				out->ir = reg_read(&m, (unsigned int)reg);
				if (!out->ir)
					return fail(&m, "the caller's %s is not recoverable here",
						    gs_dwexpr_reg_name(reg));
			} else if (!m.sp) {
				out->kind = GS_DWLOC_OPTIMIZED_OUT;
			} else {
				out->kind = value ? GS_DWLOC_VALUE : GS_DWLOC_MEMORY;
				out->ir = pop(&m);
			}
			return 0;
		}
		/* A piece: its size in bytes is the op's operand. */
		uint64_t size = pos < e->nops ? e->ops[pos].n1 : 8;

		if (shift + size * 8 > 64)
			return fail(&m, "composite location wider than 8 bytes");
		if (reg >= 0) {
			v = reg_read(&m, (unsigned int)reg);
			if (!v)
				return fail(&m, "the caller's %s is not recoverable here",
					    gs_dwexpr_reg_name(reg));
		} else if (!m.sp) {
			return (out->kind = GS_DWLOC_OPTIMIZED_OUT, 0); /* partly optimized out */
		} else if (value) {
			v = pop(&m);
		} else {
			v = gs_ir_load(prog, pop(&m), size == 3 ? 4 : size, false);
		}
		v = gs_ir_binop(prog, GS_IR_AND, false, v, gs_ir_const(prog, mask_bits(size * 8)));
		if (shift)
			v = gs_ir_binop(prog, GS_IR_SHL, false, v, gs_ir_const(prog, shift));
		acc = acc ? gs_ir_binop(prog, GS_IR_OR, false, acc, v) : v;
		shift += size * 8;
		how_add(&m, "+piece%" PRIu64 " ", size);
		if (pos >= e->nops || ++pos >= e->nops)
			break;
	}
	out->kind = GS_DWLOC_VALUE;
	out->ir = acc;
	return 0;
}

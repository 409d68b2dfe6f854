// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Expression lowering: one IR expression (tracer/ir.h) to an i64 LLVM value in the
 * current block, the half of code generation that reads user memory. Loads, MEMEQ and
 * STREQ go through bpf_probe_read_user(_str) into a small stack scratch and feed the
 * statement's error state (codegen.c's design comment); saved entry values are read
 * from the save maps.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/bpf.h>

#include <llvm-c/Core.h>

#include "tracer/codegen.h"
#include "tracer/codegen_internal.h"
#include "tracer/event.h"


/*
 * Reads @size bytes at @addr with bpf_probe_read_user into the shared i64 scratch.
 * Skipped (yields 0) when the statement already failed a read.
 */
static LLVMValueRef cg_load(struct cg *g, LLVMValueRef addr, unsigned size, bool is_signed)
{
	LLVMBasicBlockRef from = LLVMGetInsertBlock(g->b);
	LLVMBasicBlockRef rd = gs_cg_block(g, "ld"), bad = gs_cg_block(g, "ld.bad");
	LLVMBasicBlockRef ok = gs_cg_block(g, "ld.ok"), join = gs_cg_block(g, "ld.join");
	LLVMValueRef args[3], r, v, phi, vals[3];
	LLVMBasicBlockRef bbs[3];
	LLVMTypeRef t = LLVMIntTypeInContext(g->ctx, size * 8);

	LLVMBuildCondBr(g->b, gs_cg_err_set(g), join, rd);

	LLVMPositionBuilderAtEnd(g->b, rd);
	LLVMBuildStore(g->b, c64(g, 0), g->tmp);
	args[0] = g->tmp;
	args[1] = c64(g, size);
	args[2] = addr;
	r = gs_cg_helper(g, BPF_FUNC_probe_read_user, args, 3);
	LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntSLT, r, c64(g, 0), ""), bad, ok);

	LLVMPositionBuilderAtEnd(g->b, bad);
	gs_cg_err_raise(g, addr);
	LLVMBuildBr(g->b, join);

	LLVMPositionBuilderAtEnd(g->b, ok);
	v = LLVMBuildLoad2(g->b, t, g->tmp, "");
	if (size < 8)
		v = is_signed ? LLVMBuildSExt(g->b, v, g->i64, "") :
				LLVMBuildZExt(g->b, v, g->i64, "");
	LLVMBuildBr(g->b, join);

	LLVMPositionBuilderAtEnd(g->b, join);
	phi = LLVMBuildPhi(g->b, g->i64, "");
	vals[0] = c64(g, 0); bbs[0] = from;
	vals[1] = c64(g, 0); bbs[1] = bad;
	vals[2] = v; bbs[2] = ok;
	LLVMAddIncoming(phi, vals, bbs, 3);
	return phi;
}

/* a / b and a % b with x/0 = 0; signed forms through magnitudes (CPU v3 has no sdiv). */
static LLVMValueRef cg_div(struct cg *g, LLVMValueRef a, LLVMValueRef b, bool is_mod,
			   bool is_signed)
{
	LLVMValueRef zero = c64(g, 0);
	LLVMValueRef bz = LLVMBuildICmp(g->b, LLVMIntEQ, b, zero, "");
	LLVMValueRef bs = LLVMBuildSelect(g->b, bz, c64(g, 1), b, "");
	LLVMValueRef r;

	if (!is_signed) {
		r = is_mod ? LLVMBuildURem(g->b, a, bs, "") : LLVMBuildUDiv(g->b, a, bs, "");
	} else {
		LLVMValueRef na = LLVMBuildICmp(g->b, LLVMIntSLT, a, zero, "");
		LLVMValueRef nb = LLVMBuildICmp(g->b, LLVMIntSLT, bs, zero, "");
		LLVMValueRef ua = LLVMBuildSelect(g->b, na, LLVMBuildNeg(g->b, a, ""), a, "");
		LLVMValueRef ub = LLVMBuildSelect(g->b, nb, LLVMBuildNeg(g->b, bs, ""), bs, "");
		LLVMValueRef neg;

		if (is_mod) {
			r = LLVMBuildURem(g->b, ua, ub, "");
			neg = na;
		} else {
			r = LLVMBuildUDiv(g->b, ua, ub, "");
			neg = LLVMBuildXor(g->b, na, nb, "");
		}
		r = LLVMBuildSelect(g->b, neg, LLVMBuildNeg(g->b, r, ""), r, "");
	}
	return LLVMBuildSelect(g->b, bz, zero, r, "");
}

static LLVMValueRef cg_binop(struct cg *g, const struct gs_ir_expr *e)
{
	static const LLVMIntPredicate upred[] = { LLVMIntEQ, LLVMIntNE, LLVMIntULT, LLVMIntULE,
						  LLVMIntUGT, LLVMIntUGE };
	static const LLVMIntPredicate spred[] = { LLVMIntEQ, LLVMIntNE, LLVMIntSLT, LLVMIntSLE,
						  LLVMIntSGT, LLVMIntSGE };
	LLVMValueRef a = gs_cg_expr(g, e->a), b = gs_cg_expr(g, e->b);

	if (!a || !b)
		return NULL;
	switch (e->op) {
	case GS_IR_ADD: return LLVMBuildAdd(g->b, a, b, "");
	case GS_IR_SUB: return LLVMBuildSub(g->b, a, b, "");
	case GS_IR_MUL: return LLVMBuildMul(g->b, a, b, "");
	case GS_IR_DIV: return cg_div(g, a, b, false, e->is_signed);
	case GS_IR_MOD: return cg_div(g, a, b, true, e->is_signed);
	case GS_IR_AND: return LLVMBuildAnd(g->b, a, b, "");
	case GS_IR_OR: return LLVMBuildOr(g->b, a, b, "");
	case GS_IR_XOR: return LLVMBuildXor(g->b, a, b, "");
	case GS_IR_SHL:
		return LLVMBuildShl(g->b, a, LLVMBuildAnd(g->b, b, c64(g, 63), ""), "");
	case GS_IR_SHR:
		b = LLVMBuildAnd(g->b, b, c64(g, 63), "");
		return e->is_signed ? LLVMBuildAShr(g->b, a, b, "") : LLVMBuildLShr(g->b, a, b, "");
	case GS_IR_EQ: case GS_IR_NE: case GS_IR_LT: case GS_IR_LE: case GS_IR_GT: case GS_IR_GE: {
		unsigned i = e->op - GS_IR_EQ;
		LLVMValueRef c = LLVMBuildICmp(g->b, e->is_signed ? spred[i] : upred[i], a, b, "");

		return LLVMBuildZExt(g->b, c, g->i64, "");
	}
	default:
		gs_cg_fail(g, -EINVAL, "unknown binary operator %u", e->op);
		return NULL;
	}
}

/* a && b, a || b (short-circuit: b's reads do not happen) and a ? b : c. */
static LLVMValueRef cg_branchy(struct cg *g, const struct gs_ir_expr *e)
{
	LLVMBasicBlockRef bb_t = gs_cg_block(g, "sel.t"), bb_f = gs_cg_block(g, "sel.f");
	LLVMBasicBlockRef join = gs_cg_block(g, "sel.j");
	LLVMValueRef c = gs_cg_expr(g, e->a), vt, vf, phi, vals[2];
	LLVMBasicBlockRef bbs[2];

	if (!c)
		return NULL;
	LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntNE, c, c64(g, 0), ""), bb_t, bb_f);
	LLVMPositionBuilderAtEnd(g->b, bb_t);
	if (e->kind == GS_IR_LOR) {
		vt = c64(g, 1);
	} else {
		vt = gs_cg_expr(g, e->b);
		if (!vt)
			return NULL;
		if (e->kind == GS_IR_LAND)
			vt = LLVMBuildZExt(g->b, LLVMBuildICmp(g->b, LLVMIntNE, vt, c64(g, 0), ""),
					   g->i64, "");
	}
	bbs[0] = LLVMGetInsertBlock(g->b);
	LLVMBuildBr(g->b, join);
	LLVMPositionBuilderAtEnd(g->b, bb_f);
	if (e->kind == GS_IR_LAND) {
		vf = c64(g, 0);
	} else {
		vf = gs_cg_expr(g, e->kind == GS_IR_LOR ? e->b : e->c);
		if (!vf)
			return NULL;
		if (e->kind == GS_IR_LOR)
			vf = LLVMBuildZExt(g->b, LLVMBuildICmp(g->b, LLVMIntNE, vf, c64(g, 0), ""),
					   g->i64, "");
	}
	bbs[1] = LLVMGetInsertBlock(g->b);
	LLVMBuildBr(g->b, join);
	LLVMPositionBuilderAtEnd(g->b, join);
	phi = LLVMBuildPhi(g->b, g->i64, "");
	vals[0] = vt;
	vals[1] = vf;
	LLVMAddIncoming(phi, vals, bbs, 2);
	return phi;
}

/*
 * Reads @n bytes at @addr into scratch @buf (zeroed first, so whole-word loads see
 * initialised stack). Returns the i1 "read failed"; @as_str uses read_user_str and
 * also returns its length in *@len_ret.
 */
static LLVMValueRef cg_read_scratch(struct cg *g, LLVMValueRef buf, uint32_t n,
				    LLVMValueRef addr, bool as_str, LLVMValueRef *len_ret)
{
	LLVMValueRef args[3], r;
	uint32_t words = (n + 7) / 8;

	for (uint32_t w = 0; w < words; w++) {
		LLVMValueRef idx = c64(g, w * 8);

		LLVMBuildStore(g->b, c64(g, 0), LLVMBuildGEP2(g->b, g->i8, buf, &idx, 1, ""));
	}
	args[0] = buf;
	args[1] = c64(g, n);
	args[2] = addr;
	r = gs_cg_helper(g, as_str ? BPF_FUNC_probe_read_user_str : BPF_FUNC_probe_read_user, args, 3);
	if (len_ret)
		*len_ret = r;
	return LLVMBuildICmp(g->b, LLVMIntSLT, r, c64(g, 0), "");
}

/* OR of (x ^ y) & mask over the words of the first @n bytes; zero means equal. */
static LLVMValueRef cg_cmp_words(struct cg *g, LLVMValueRef bufa, LLVMValueRef bufb,
				 const uint8_t *lit, uint32_t n)
{
	LLVMValueRef acc = c64(g, 0);

	for (uint32_t w = 0; w * 8 < n; w++) {
		uint32_t nb = n - w * 8 < 8 ? n - w * 8 : 8;
		uint64_t mask = nb == 8 ? ~0ull : (1ull << (nb * 8)) - 1, k = 0;
		LLVMValueRef idx = c64(g, w * 8), x, y;

		x = LLVMBuildLoad2(g->b, g->i64, LLVMBuildGEP2(g->b, g->i8, bufa, &idx, 1, ""), "");
		if (lit) {
			for (uint32_t i = 0; i < nb; i++)
				k |= (uint64_t)lit[w * 8 + i] << (i * 8);
			y = c64(g, k);
		} else {
			y = LLVMBuildLoad2(g->b, g->i64,
					   LLVMBuildGEP2(g->b, g->i8, bufb, &idx, 1, ""), "");
		}
		x = LLVMBuildAnd(g->b, LLVMBuildXor(g->b, x, y, ""), c64(g, mask), "");
		acc = LLVMBuildOr(g->b, acc, x, "");
	}
	return acc;
}

/*
 * MEMEQ / STREQ. A STREQ reads len + 1 bytes as a string: equal exactly when
 * read_user_str copied len bytes (the literal and its NUL) and they match, so a longer
 * string with the literal as prefix is not equal.
 */
static LLVMValueRef cg_memeq(struct cg *g, const struct gs_ir_expr *e)
{
	bool str = e->kind == GS_IR_STREQ;
	LLVMValueRef a, b = NULL, fail, acc, eq, len = NULL, phi, vals[4];
	LLVMBasicBlockRef rd, ok, join, bbs[4];
	unsigned n = 0;

	if (e->len > GS_CODEGEN_MAX_CMP || (str && (!e->len || !e->bytes)) ||
	    (!str && !e->bytes && !e->b)) {
		gs_cg_fail(g, -EINVAL, "comparison of %u bytes unsupported (at most %u)", e->len,
			   GS_CODEGEN_MAX_CMP);
		return NULL;
	}
	if (!e->len)
		return c64(g, 1);
	a = gs_cg_expr(g, e->a);
	if (!a)
		return NULL;
	if (!str && !e->bytes && !(b = gs_cg_expr(g, e->b)))
		return NULL;
	rd = gs_cg_block(g, "cmp");
	ok = gs_cg_block(g, "cmp.ok");
	join = gs_cg_block(g, "cmp.j");
	vals[n] = c64(g, 0);
	bbs[n++] = LLVMGetInsertBlock(g->b);
	LLVMBuildCondBr(g->b, gs_cg_err_set(g), join, rd);

	LLVMPositionBuilderAtEnd(g->b, rd);
	for (int side = 0; side < (b ? 2 : 1); side++) {
		LLVMBasicBlockRef bad = gs_cg_block(g, "cmp.bad");
		LLVMBasicBlockRef next = side == 0 && b ? gs_cg_block(g, "cmp.b") : ok;
		LLVMValueRef addr = side ? b : a;

		if (side == 0)
			fail = cg_read_scratch(g, g->scr_a, str ? e->len + 1 : e->len, a, str, &len);
		else
			fail = cg_read_scratch(g, g->scr_b, e->len, b, false, NULL);
		LLVMBuildCondBr(g->b, fail, bad, next);
		LLVMPositionBuilderAtEnd(g->b, bad);
		gs_cg_err_raise(g, addr);
		LLVMBuildBr(g->b, join);
		vals[n] = c64(g, 0);
		bbs[n++] = bad;
		LLVMPositionBuilderAtEnd(g->b, next);
	}

	acc = cg_cmp_words(g, g->scr_a, g->scr_b, e->bytes, e->len);
	eq = LLVMBuildICmp(g->b, LLVMIntEQ, acc, c64(g, 0), "");
	if (str)
		eq = LLVMBuildAnd(g->b, eq, LLVMBuildICmp(g->b, LLVMIntEQ, len, c64(g, e->len), ""),
				  "");
	vals[n] = LLVMBuildZExt(g->b, eq, g->i64, "");
	bbs[n++] = ok;
	LLVMBuildBr(g->b, join);

	LLVMPositionBuilderAtEnd(g->b, join);
	phi = LLVMBuildPhi(g->b, g->i64, "");
	LLVMAddIncoming(phi, vals, bbs, n);
	return phi;
}

/*
 * @v when @fail is false; else raises the error state at @err_addr and yields 0. For
 * helper calls that report failure beside their value (the thread pointer, a module's
 * load bias).
 */
static LLVMValueRef cg_value_or_raise(struct cg *g, LLVMValueRef fail, LLVMValueRef err_addr,
				      LLVMValueRef v, const char *name)
{
	LLVMBasicBlockRef bad = gs_cg_block(g, "vr.bad"), ok = gs_cg_block(g, "vr.ok");
	LLVMBasicBlockRef join = gs_cg_block(g, "vr.j");
	LLVMValueRef phi, vals[2];
	LLVMBasicBlockRef bbs[2];

	LLVMBuildCondBr(g->b, fail, bad, ok);
	LLVMPositionBuilderAtEnd(g->b, bad);
	gs_cg_err_raise(g, err_addr);
	LLVMBuildBr(g->b, join);
	LLVMPositionBuilderAtEnd(g->b, ok);
	LLVMBuildBr(g->b, join);
	LLVMPositionBuilderAtEnd(g->b, join);
	phi = LLVMBuildPhi(g->b, g->i64, name);
	vals[0] = c64(g, 0); bbs[0] = bad;
	vals[1] = v; bbs[1] = ok;
	LLVMAddIncoming(phi, vals, bbs, 2);
	return phi;
}

/*
 * GS_IR_SP_TP: bpf_probe_read_kernel of current->thread.fsbase; the offset is gs_cfg's
 * fsbase_off (frozen at load, so the verifier sees a constant). A failed read raises
 * the error state at the kernel address and yields 0.
 */
LLVMValueRef gs_cg_read_kernel(struct cg *g, LLVMValueRef addr, unsigned int size,
			       LLVMValueRef *ret)
{
	LLVMValueRef args[3] = { g->tmp, c64(g, size), addr }, r;

	LLVMBuildStore(g->b, c64(g, 0), g->tmp);
	r = gs_cg_helper(g, BPF_FUNC_probe_read_kernel, args, 3);
	if (ret)
		*ret = r;
	return LLVMBuildLoad2(g->b, g->i64, g->tmp, "");
}

static LLVMValueRef cg_thread_pointer(struct cg *g)
{
	LLVMValueRef task, addr, r, v;

	task = gs_cg_helper(g, BPF_FUNC_get_current_task, NULL, 0);
	addr = LLVMBuildAdd(g->b, task, gs_cg_cfg(g, CFG_FSBASE), "");
	v = gs_cg_read_kernel(g, addr, 8, &r);
	return cg_value_or_raise(g, LLVMBuildICmp(g->b, LLVMIntSLT, r, c64(g, 0), ""), addr, v, "tp");
}

/*
 * GS_IR_MOD_BIAS: bpf/helpers.c gs_mod_bias(dyn vaddr, id vaddr, id word, &out)
 * returns 0 with the bias in out, or 1 with the address to report in out (raised
 * as a read error).
 */
static LLVMValueRef cg_mod_bias(struct cg *g, const struct gs_ir_expr *e)
{
	LLVMValueRef args[4], r, v;

	if (!g->fn_modbias) {
		gs_cg_fail(g, -EIO, "the BPF helpers lack gs_mod_bias");
		return NULL;
	}
	if (!e->a || !e->b || e->a->kind != GS_IR_CONST || e->b->kind != GS_IR_CONST) {
		gs_cg_fail(g, -EINVAL, "mod_bias needs constant build-id operands");
		return NULL;
	}
	LLVMBuildStore(g->b, c64(g, 0), g->tmp);
	args[0] = c64(g, e->imm);
	args[1] = c64(g, e->a->imm);
	args[2] = c64(g, e->b->imm);
	args[3] = g->tmp;
	r = LLVMBuildCall2(g->b, LLVMGlobalGetValueType(g->fn_modbias), g->fn_modbias, args, 4, "");
	v = LLVMBuildLoad2(g->b, g->i64, g->tmp, "");
	return cg_value_or_raise(g, LLVMBuildICmp(g->b, LLVMIntNE, r, c64(g, 0), ""), v, v, "bias");
}

/*
 * GS_IR_TLS_BLOCK: dtv = *(tp + 8); id = *a; the id must be 1..dtv[-1].counter and
 * dtv[id].val neither TLS_DTV_UNALLOCATED (-1) nor 0; else a read error at &dtv[id].
 */
static LLVMValueRef cg_tls_block(struct cg *g, const struct gs_ir_expr *e)
{
	LLVMBasicBlockRef bad = gs_cg_block(g, "tls.bad"), rd = gs_cg_block(g, "tls.rd");
	LLVMBasicBlockRef unal = gs_cg_block(g, "tls.unal"), ok = gs_cg_block(g, "tls.ok");
	LLVMBasicBlockRef join = gs_cg_block(g, "tls.j");
	LLVMValueRef a, tp, dtv, id, cnt, slot, out_of_range, v, phi, vals[3];
	LLVMBasicBlockRef bbs[3];

	a = gs_cg_expr(g, e->a);
	if (!a)
		return NULL;
	tp = cg_thread_pointer(g);
	dtv = cg_load(g, LLVMBuildAdd(g->b, tp, c64(g, 8), ""), 8, false);
	id = cg_load(g, a, 8, false);
	cnt = cg_load(g, LLVMBuildSub(g->b, dtv, c64(g, 16), ""), 8, false);
	slot = LLVMBuildAdd(g->b, dtv, LLVMBuildShl(g->b, id, c64(g, 4), ""), "");
	out_of_range = LLVMBuildOr(g->b, LLVMBuildICmp(g->b, LLVMIntEQ, id, c64(g, 0), ""),
				   LLVMBuildICmp(g->b, LLVMIntUGT, id, cnt, ""), "");
	LLVMBuildCondBr(g->b, out_of_range, bad, rd);

	LLVMPositionBuilderAtEnd(g->b, bad);
	gs_cg_err_raise(g, slot);
	LLVMBuildBr(g->b, join);

	LLVMPositionBuilderAtEnd(g->b, rd);
	v = cg_load(g, slot, 8, false);
	/* -1: TLS_DTV_UNALLOCATED; 0: an entry this thread's DTV has not caught up with */
	LLVMBuildCondBr(g->b, LLVMBuildOr(g->b, LLVMBuildICmp(g->b, LLVMIntEQ, v, c64(g, UINT64_MAX), ""),
					  LLVMBuildICmp(g->b, LLVMIntEQ, v, c64(g, 0), ""), ""),
			unal, ok);

	LLVMPositionBuilderAtEnd(g->b, unal);
	gs_cg_err_raise(g, slot);
	LLVMBuildBr(g->b, join);

	LLVMPositionBuilderAtEnd(g->b, ok);
	LLVMBuildBr(g->b, join);

	LLVMPositionBuilderAtEnd(g->b, join);
	phi = LLVMBuildPhi(g->b, g->i64, "tls");
	vals[0] = c64(g, 0); bbs[0] = bad;
	vals[1] = c64(g, 0); bbs[1] = unal;
	vals[2] = v; bbs[2] = ok;
	LLVMAddIncoming(phi, vals, bbs, 3);
	return phi;
}

LLVMValueRef gs_cg_cfa(struct cg *g)
{
	if (!g->prog->cfa_valid || g->prog->cfa_reg > 16) {
		gs_cg_fail(g, -EINVAL, "no CFA rule for $cfa or a return probe's entry save");
		return NULL;
	}
	return LLVMBuildAdd(g->b, gs_cg_reg(g, g->prog->cfa_reg),
			    c64(g, (uint64_t)(int64_t)g->prog->cfa_off), "");
}

static LLVMValueRef cg_special(struct cg *g, const struct gs_ir_expr *e)
{
	switch (e->op) {
	case GS_IR_SP_PID: return g->pid;
	case GS_IR_SP_TID: return g->tid;
	case GS_IR_SP_HOST_PID: return g->host_pid;
	case GS_IR_SP_TIMESTAMP:
		/* Programs without an event (only saves) have no header timestamp. */
		return g->ts ? g->ts : gs_cg_helper(g, BPF_FUNC_ktime_get_ns, NULL, 0);
	case GS_IR_SP_PC: return g->ip;
	case GS_IR_SP_SP: return gs_cg_reg(g, 7);
	case GS_IR_SP_TRACE_ID: return g->trace_key;
	case GS_IR_SP_BIAS: {
		LLVMValueRef args[2] = { g->map_vaddr, g->key }, p, isnull, v, phi, vals[2];
		LLVMBasicBlockRef from, hit = gs_cg_block(g, "bias"), join = gs_cg_block(g, "bias.j");
		LLVMBasicBlockRef bbs[2];

		LLVMBuildStore(g->b, LLVMBuildTrunc(g->b, g->trace_key, g->i32, ""), g->key);
		p = gs_cg_helper_t(g, g->ptr, BPF_FUNC_map_lookup_elem, args, 2);
		isnull = LLVMBuildIsNull(g->b, p, "");
		from = LLVMGetInsertBlock(g->b);
		LLVMBuildCondBr(g->b, isnull, join, hit);
		LLVMPositionBuilderAtEnd(g->b, hit);
		v = LLVMBuildSub(g->b, g->ip, LLVMBuildLoad2(g->b, g->i64, p, ""), "");
		LLVMBuildBr(g->b, join);
		LLVMPositionBuilderAtEnd(g->b, join);
		phi = LLVMBuildPhi(g->b, g->i64, "");
		vals[0] = c64(g, 0); bbs[0] = from;
		vals[1] = v; bbs[1] = hit;
		LLVMAddIncoming(phi, vals, bbs, 2);
		return phi;
	}
	case GS_IR_SP_CFA:
		return gs_cg_cfa(g);
	case GS_IR_SP_TP:
		return cg_thread_pointer(g);
	default:
		gs_cg_fail(g, -EINVAL, "unknown special %u", e->op);
		return NULL;
	}
}

/*
 * Value @index of the save @sv points to (a map value, or null). No save: error
 * NOT_SAVED; a value whose read failed when it was saved: that read error.
 */
static LLVMValueRef cg_save_value(struct cg *g, LLVMValueRef sv, uint64_t index)
{
	LLVMBasicBlockRef from, hit = gs_cg_block(g, "sv"), bad = gs_cg_block(g, "sv.bad");
	LLVMBasicBlockRef miss = gs_cg_block(g, "sv.miss"), join = gs_cg_block(g, "sv.j");
	LLVMValueRef mask, v, failed, phi, vals[3];
	LLVMBasicBlockRef bbs[3];

	LLVMBuildCondBr(g->b, LLVMBuildIsNull(g->b, sv, ""), miss, hit);
	LLVMPositionBuilderAtEnd(g->b, miss);
	gs_cg_err_raise_kind(g, c64(g, 0), ERR_NOT_SAVED);
	LLVMBuildBr(g->b, join);

	LLVMPositionBuilderAtEnd(g->b, hit);
	mask = LLVMBuildLoad2(g->b, g->i64, sv, "");
	v = LLVMBuildLoad2(g->b, g->i64, gs_cg_gep(g, sv, 8 + 8 * index), "");
	failed = LLVMBuildAnd(g->b, LLVMBuildLShr(g->b, mask, c64(g, index), ""), c64(g, 1), "");
	from = LLVMGetInsertBlock(g->b);
	LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntNE, failed, c64(g, 0), ""), bad, join);
	LLVMPositionBuilderAtEnd(g->b, bad);
	gs_cg_err_raise(g, v);
	LLVMBuildBr(g->b, join);

	LLVMPositionBuilderAtEnd(g->b, join);
	phi = LLVMBuildPhi(g->b, g->i64, "");
	vals[0] = c64(g, 0); bbs[0] = miss;
	vals[1] = v; bbs[1] = from;
	vals[2] = c64(g, 0); bbs[2] = bad;
	LLVMAddIncoming(phi, vals, bbs, 3);
	return phi;
}

static bool cg_save_index_ok(struct cg *g, const struct gs_ir_expr *e)
{
	if (e->imm < GS_IR_SAVE_MAX)
		return true;
	gs_cg_fail(g, -EINVAL, "saved entry value %llu (0..%u allowed)", (unsigned long long)e->imm,
		   GS_IR_SAVE_MAX - 1);
	return false;
}

/* GS_IR_SAVED: value @e->imm of the save the function prologue looked up (g->saved). */
static LLVMValueRef cg_saved(struct cg *g, const struct gs_ir_expr *e)
{
	if (!g->prog->retprobe || !g->saved) {
		gs_cg_fail(g, -EINVAL, "saved entry value used outside a return program");
		return NULL;
	}
	if (!cg_save_index_ok(g, e))
		return NULL;
	return cg_save_value(g, g->saved, e->imm);
}

void gs_cg_save_key(struct cg *g, LLVMValueRef dst, LLVMValueRef key, LLVMValueRef frame)
{
	LLVMValueRef k = LLVMBuildShl(g->b, LLVMBuildAnd(g->b, key, c64(g, 0xffffffff), ""),
				      c64(g, 32), "");

	LLVMBuildStore(g->b, LLVMBuildOr(g->b, g->host_tid, k, ""), gs_cg_gep(g, dst, 0));
	LLVMBuildStore(g->b, frame, gs_cg_gep(g, dst, 8));
}


/*
 * GS_IR_SAVED_FRAME: looks the frame's save up and reads value @e->imm in place; the
 * save stays for later probes of the same call.
 */
static LLVMValueRef cg_saved_frame(struct cg *g, const struct gs_ir_expr *e)
{
	LLVMValueRef frame, sv;

	if (!cg_save_index_ok(g, e))
		return NULL;
	frame = gs_cg_expr(g, e->a);
	if (!frame)
		return NULL;
	gs_cg_save_key(g, g->fkey, c64(g, e->save_key), frame);
	sv = gs_cg_map_lookup(g, g->map_fsave, g->fkey);
	return cg_save_value(g, sv, e->imm);
}

/* In a shared body, a leaf's value is what its variant passes in (codegen_lib.h); else NULL. */
static LLVMValueRef cg_leaf(struct cg *g, const struct gs_ir_expr *e)
{
	for (size_t i = 0; g->shape && i < g->shape->n; i++)
		if (g->shape->leaf[i] == e)
			return g->leafv[i];
	return NULL;
}

LLVMValueRef gs_cg_expr(struct cg *g, const struct gs_ir_expr *e)
{
	LLVMValueRef a;

	if (!e) {
		gs_cg_fail(g, -EINVAL, "missing operand");
		return NULL;
	}
	switch (e->kind) {
	case GS_IR_CONST:
		return cg_leaf(g, e) ?: c64(g, e->imm);
	case GS_IR_REG:
		if (e->reg > 16) {
			gs_cg_fail(g, -EINVAL, "DWARF register %u is not readable at a uprobe", e->reg);
			return NULL;
		}
		return cg_leaf(g, e) ?: gs_cg_reg(g, e->reg);
	case GS_IR_SPECIAL:
		return cg_special(g, e);
	case GS_IR_LOAD:
		if (e->size != 1 && e->size != 2 && e->size != 4 && e->size != 8) {
			gs_cg_fail(g, -EINVAL, "load of %u bytes", e->size);
			return NULL;
		}
		a = gs_cg_expr(g, e->a);
		return a ? cg_load(g, a, e->size, e->is_signed) : NULL;
	case GS_IR_BINOP:
		return cg_binop(g, e);
	case GS_IR_UNOP:
		a = gs_cg_expr(g, e->a);
		if (!a)
			return NULL;
		if (e->op == GS_IR_NEG)
			return LLVMBuildNeg(g->b, a, "");
		if (e->op == GS_IR_NOT)
			return LLVMBuildNot(g->b, a, "");
		if (e->op == GS_IR_LNOT)
			return LLVMBuildZExt(g->b, LLVMBuildICmp(g->b, LLVMIntEQ, a, c64(g, 0), ""),
					     g->i64, "");
		gs_cg_fail(g, -EINVAL, "unknown unary operator %u", e->op);
		return NULL;
	case GS_IR_LAND:
	case GS_IR_LOR:
	case GS_IR_SELECT:
		return cg_branchy(g, e);
	case GS_IR_EXT:
		a = gs_cg_expr(g, e->a);
		if (!a || !e->bits || e->bits >= 64)
			return a;
		if (!e->is_signed)
			return LLVMBuildAnd(g->b, a, c64(g, (1ull << e->bits) - 1), "");
		a = LLVMBuildShl(g->b, a, c64(g, 64 - e->bits), "");
		return LLVMBuildAShr(g->b, a, c64(g, 64 - e->bits), "");
	case GS_IR_MEMEQ:
	case GS_IR_STREQ:
		return cg_memeq(g, e);
	case GS_IR_SAVED:
		return cg_saved(g, e);
	case GS_IR_SAVED_FRAME:
		return cg_saved_frame(g, e);
	case GS_IR_MOD_BIAS:
		return cg_mod_bias(g, e);
	case GS_IR_TLS_BLOCK:
		return cg_tls_block(g, e);
	default:
		gs_cg_fail(g, -EINVAL, "unknown expression kind %u", e->kind);
		return NULL;
	}
}

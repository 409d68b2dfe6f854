// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Other modules' load addresses and library TLS: the IR a DWARF location becomes
 * (GS_IR_MOD_BIAS, GS_IR_TLS_BLOCK) and the object it compiles to (the module bias
 * maps only where a program looks a bias up).
 */
#include <dwarf.h>
#include <stdlib.h>

#include <bpf/libbpf.h>

#include "tests/unit/test.h"
#include "tracer/codegen.h"
#include "tracer/dwexpr.h"

extern bool test_modules__tls_dtv_in_other_module(void);
extern bool test_modules__tls_refused_with_reason(void);
extern bool test_modules__emit_mod_bias_and_tls(void);
extern bool test_modules__backtrace_alone_has_no_bias_maps(void);

/* Lowers @ops with @ctx into a one-statement program and returns its dump. */
static char *lower(const struct gs_op *ops, uint32_t nops, struct gs_dwctx *ctx,
		   struct gs_ir_prog *p, bool set_bias)
{
	struct gs_location loc = { .kind = GS_LOC_EXPR, .expr = { .nops = nops, .ops = ops } };
	struct gs_dwloc out;
	char err[256] = "";

	if (set_bias)
		ctx->bias_expr = gs_ir_mod_bias(p, 0x3df8, 0x3a0, 0x1122334455667788ull);
	if (gs_dwexpr_lower(p, &loc, ctx, &out, err, sizeof(err)))
		return strdup(err);
	p->body = gs_ir_stmt_new(p, GS_IR_S_VALUE, 1, out.ir, 8);
	return gs_ir_dump(p);
}

bool test_modules__tls_dtv_in_other_module(void)
{
	struct gs_op ops[] = { { DW_OP_const8u, 0x8, 0 }, { DW_OP_GNU_push_tls_address, 0, 0 } };
	struct gs_dwctx ctx = { .pc = 0x1000, .pie = true, .tls_dtv = true,
				.tls_modid_vaddr = 0x3fb8 };
	struct gs_ir_prog *p = gs_ir_prog_new();
	char *t = lower(ops, 2, &ctx, p, true);
	bool ok = t && !strcmp(t, "value #1 (add 0x8 (tls_block (add 0x3fb8 "
				 "(mod_bias dyn=0x3df8 id 0x3a0 0x1122334455667788))))\n");

	if (!ok)
		T_FAIL("got '%s'", t);
	free(t);
	gs_ir_prog_free(p);
	return ok;
}

bool test_modules__tls_refused_with_reason(void)
{
	struct gs_op ops[] = { { DW_OP_const8u, 0x8, 0 }, { DW_OP_form_tls_address, 0, 0 } };
	struct gs_dwctx ctx = { .pc = 0x1000, .pie = true, .tls_why = "no DTPMOD64 here" };
	struct gs_ir_prog *p = gs_ir_prog_new();
	char *t = lower(ops, 2, &ctx, p, false);
	bool ok = t && !strcmp(t, "no DTPMOD64 here");

	if (!ok)
		T_FAIL("got '%s'", t);
	free(t);
	gs_ir_prog_free(p);
	return ok;
}

/* Whether the object @obj has a map named @name. */
static bool has_map(const void *obj, size_t len, const char *name)
{
	struct bpf_object *o = bpf_object__open_mem(obj, len, NULL);
	bool ret = o && bpf_object__find_map_by_name(o, name);

	bpf_object__close(o);
	return ret;
}

bool test_modules__emit_mod_bias_and_tls(void)
{
	struct gs_ir_prog *a = gs_ir_prog_new();
	const struct gs_ir_prog *progs[1] = { a };
	struct gs_codegen_opts o = { .max_trace_id = 2, .uprobe_multi = true };
	struct gs_ir_expr *bias = gs_ir_mod_bias(a, 0x3df8, 0, 0);
	char err[256] = "";
	void *obj = NULL;
	size_t len = 0;
	bool ok = false;

	gs_ir_append(&a->body, gs_ir_stmt_new(a, GS_IR_S_VALUE, 1,
		gs_ir_load(a, gs_ir_binop(a, GS_IR_ADD, false, bias, gs_ir_const(a, 0x4010)), 4, true), 0));
	gs_ir_append(&a->body, gs_ir_stmt_new(a, GS_IR_S_VALUE, 2,
		gs_ir_tls_block(a, gs_ir_binop(a, GS_IR_ADD, false, gs_ir_special(a, GS_IR_SP_BIAS),
					       gs_ir_const(a, 0x3fb8))), 0));
	ASSERT_GOTO(!gs_codegen_emit(progs, 1, &o, &obj, &len, err, sizeof(err)), out);
	ASSERT_GOTO(has_map(obj, len, GS_IR_MAP_MODCFG), out);
	ASSERT_GOTO(has_map(obj, len, GS_IR_MAP_MODBIAS), out);
	ASSERT_GOTO(!has_map(obj, len, GS_CODEGEN_MAP_UW_RANGES), out);
	ok = true;
out:
	if (!ok)
		T_FAIL("err: %s", err);
	free(obj);
	gs_ir_prog_free(a);
	return ok;
}

bool test_modules__backtrace_alone_has_no_bias_maps(void)
{
	struct gs_ir_prog *a = gs_ir_prog_new();
	const struct gs_ir_prog *progs[1] = { a };
	struct gs_codegen_opts o = { .max_trace_id = 2, .uprobe_multi = true };
	char err[256] = "";
	void *obj = NULL;
	size_t len = 0;
	bool ok = false;

	gs_ir_append(&a->body, gs_ir_stmt_new(a, GS_IR_S_BACKTRACE, 1, NULL, 8));
	ASSERT_GOTO(!gs_codegen_emit(progs, 1, &o, &obj, &len, err, sizeof(err)), out);
	ASSERT_GOTO(has_map(obj, len, GS_CODEGEN_MAP_UW_RANGES), out);
	ASSERT_GOTO(!has_map(obj, len, GS_IR_MAP_MODCFG), out);
	ASSERT_GOTO(!has_map(obj, len, GS_IR_MAP_MODBIAS), out);
	ok = true;
out:
	if (!ok)
		T_FAIL("err: %s", err);
	free(obj);
	gs_ir_prog_free(a);
	return ok;
}

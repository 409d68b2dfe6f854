// SPDX-License-Identifier: GPL-2.0-or-later
/* DWARF location lowering: each case checks the exact IR a location becomes. */
#include <dwarf.h>
#include <stdlib.h>

#include "tests/unit/test.h"
#include "tracer/dwexpr.h"

/* Lowers @ops at pc 0x1000 with frame base @fb and returns the IR text of the result. */
static char *lower(const struct gs_op *ops, uint32_t nops, const struct gs_op *fb, uint32_t nfb,
		   bool pie, int *kind_ret, char *how, size_t howlen)
{
	struct gs_location loc = { .kind = GS_LOC_EXPR, .expr = { .nops = nops, .ops = ops } };
	struct gs_location fbl = { .kind = GS_LOC_EXPR, .expr = { .nops = nfb, .ops = fb } };
	struct gs_dwctx ctx = { .pc = 0x1000, .frame_base = fb ? &fbl : NULL, .pie = pie };
	struct gs_ir_prog *p = gs_ir_prog_new();
	struct gs_dwloc out;
	char err[256] = "";
	char *text = NULL;

	if (gs_dwexpr_lower(p, &loc, &ctx, &out, err, sizeof(err))) {
		text = strdup(err);
	} else {
		*kind_ret = out.kind;
		if (how)
			snprintf(how, howlen, "%s", out.how);
		if (out.ir) {
			p->body = gs_ir_stmt_new(p, GS_IR_S_VALUE, 1, out.ir, 8);
			text = gs_ir_dump(p);
		} else {
			text = strdup("");
		}
	}
	gs_ir_prog_free(p);
	return text;
}

bool test_dwexpr__fbreg_cfa(void)
{
	struct gs_op ops[] = { { DW_OP_fbreg, (uint64_t)-20, 0 } };
	struct gs_op fb[] = { { DW_OP_call_frame_cfa, 0, 0 } };
	int kind = -1;
	char how[96];
	char *t = lower(ops, 1, fb, 1, false, &kind, how, sizeof(how));
	bool ok = t && !strcmp(t, "value #1 (add $cfa 0xffffffffffffffec)\n") && kind == GS_DWLOC_MEMORY;

	if (!ok)
		T_FAIL("got '%s' kind %d", t, kind);
	free(t);
	ASSERT_TRUE(ok);
	ASSERT_STREQ(how, "cfa fbreg-20 ");
	return true;
}

bool test_dwexpr__register_value(void)
{
	struct gs_op ops[] = { { DW_OP_reg5, 0, 0 } };
	int kind = -1;
	char *t = lower(ops, 1, NULL, 0, false, &kind, NULL, 0);
	bool ok = t && !strcmp(t, "value #1 %rdi\n") && kind == GS_DWLOC_VALUE;

	if (!ok)
		T_FAIL("got '%s' kind %d", t, kind);
	free(t);
	return ok;
}

bool test_dwexpr__addr_pie_uses_bias(void)
{
	struct gs_op ops[] = { { DW_OP_addr, 0x4010, 0 } };
	int kind = -1;
	char *t = lower(ops, 1, NULL, 0, true, &kind, NULL, 0);
	bool ok = t && !strcmp(t, "value #1 (add 0x4010 $bias)\n") && kind == GS_DWLOC_MEMORY;

	if (!ok)
		T_FAIL("got '%s' kind %d", t, kind);
	free(t);
	return ok;
}

bool test_dwexpr__stack_value_arith(void)
{
	struct gs_op ops[] = { { DW_OP_breg3, 0, 0 }, { DW_OP_lit1, 0, 0 }, { DW_OP_shl, 0, 0 },
			       { DW_OP_stack_value, 0, 0 } };
	int kind = -1;
	char *t = lower(ops, 4, NULL, 0, false, &kind, NULL, 0);
	bool ok = t && !strcmp(t, "value #1 (shl (add %rbx 0x0) 0x1)\n") && kind == GS_DWLOC_VALUE;

	if (!ok)
		T_FAIL("got '%s' kind %d", t, kind);
	free(t);
	return ok;
}

bool test_dwexpr__pieces_of_registers(void)
{
	struct gs_op ops[] = { { DW_OP_reg0, 0, 0 }, { DW_OP_piece, 4, 0 },
			       { DW_OP_reg1, 0, 0 }, { DW_OP_piece, 4, 0 } };
	int kind = -1;
	char *t = lower(ops, 4, NULL, 0, false, &kind, NULL, 0);
	bool ok = t && kind == GS_DWLOC_VALUE &&
		  !strcmp(t, "value #1 (or (and %rax 0xffffffff) (shl (and %rdx 0xffffffff) 0x20))\n");

	if (!ok)
		T_FAIL("got '%s' kind %d", t, kind);
	free(t);
	return ok;
}

/* As GDB when it cannot use the caller's call sites: optimized out, with the reason. */
bool test_dwexpr__entry_value_is_unavailable(void)
{
	struct gs_op ops[] = { { DW_OP_entry_value, 1, 0 }, { DW_OP_reg5, 0, 0 },
			       { DW_OP_stack_value, 0, 0 } };
	int kind = -1;
	char how[96] = "";
	char *t = lower(ops, 3, NULL, 0, false, &kind, how, sizeof(how));
	bool ok = t && kind == GS_DWLOC_OPTIMIZED_OUT && strstr(how, "entry value");

	if (!ok)
		T_FAIL("got '%s' kind %d how '%s'", t, kind, how);
	free(t);
	return ok;
}

/* gcc's location views: an empty range at the function's entry pc applies there. */
bool test_dwexpr__empty_range_at_function_entry(void)
{
	struct gs_op lit0[] = { { DW_OP_lit0, 0, 0 }, { DW_OP_stack_value, 0, 0 } };
	struct gs_op lit1[] = { { DW_OP_lit1, 0, 0 }, { DW_OP_stack_value, 0, 0 } };
	struct gs_loc_entry ents[] = {
		{ 0x1000, 0x1000, { .nops = 2, .ops = lit0 } },
		{ 0x1000, 0x1010, { .nops = 2, .ops = lit1 } },
	};
	struct gs_location loc = { .kind = GS_LOC_LIST, .nentries = 2, .entries = ents };

	ASSERT_TRUE(gs_dwexpr_at(&loc, 0x1000, 0x1000) == &ents[0].expr);
	ASSERT_TRUE(gs_dwexpr_at(&loc, 0x1000, 0x0f00) == &ents[1].expr);
	ASSERT_TRUE(gs_dwexpr_at(&loc, 0x1004, 0x1000) == &ents[1].expr);
	ASSERT_TRUE(gs_dwexpr_at(&loc, 0x1010, 0x1000) == NULL);
	return true;
}

bool test_dwexpr__empty_is_optimized_out(void)
{
	struct gs_location loc = { .kind = GS_LOC_LIST };
	struct gs_dwctx ctx = { .pc = 0x1000 };
	struct gs_ir_prog *p = gs_ir_prog_new();
	struct gs_dwloc out;
	char err[64];
	int r = gs_dwexpr_lower(p, &loc, &ctx, &out, err, sizeof(err));

	gs_ir_prog_free(p);
	ASSERT_EQ(r, 0);
	ASSERT_EQ(out.kind, GS_DWLOC_OPTIMIZED_OUT);
	return true;
}

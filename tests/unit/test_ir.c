// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for the probe IR: constructors and the canonical dump. */
#include <stdlib.h>

#include "tests/unit/test.h"
#include "tracer/ir.h"

/* Prototypes for -Wmissing-prototypes; "extern" keeps them out of the runner grep. */
extern bool test_ir__dump_canonical(void);
extern bool test_ir__memeq_copies_bytes(void);
extern bool test_ir__free_null(void);
extern bool test_ir__dump_ret_comm_bt(void);
extern bool test_ir__dump_tp_frame_saves(void);

bool test_ir__dump_canonical(void)
{
	struct gs_ir_prog *p = gs_ir_prog_new();
	struct gs_ir_stmt *ifs, *s;
	char *text;
	bool ok = true;

	p->cfa_valid = true;
	p->cfa_reg = 7;
	p->cfa_off = 8;
	gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_VALUE, 1,
		gs_ir_load(p, gs_ir_binop(p, GS_IR_ADD, true, gs_ir_reg(p, 5), gs_ir_const(p, 16)),
			   4, true), 0));
	ifs = gs_ir_stmt_new(p, GS_IR_S_IF, 2, gs_ir_land(p, gs_ir_special(p, GS_IR_SP_PID),
		gs_ir_binop(p, GS_IR_LT, true, gs_ir_reg(p, 0), gs_ir_const(p, 3))), 0);
	gs_ir_append(&ifs->then_body, gs_ir_stmt_new(p, GS_IR_S_STR, 3, gs_ir_reg(p, 4), 64));
	gs_ir_append(&ifs->else_body, gs_ir_stmt_new(p, GS_IR_S_MARK, 4, NULL, 0));
	gs_ir_append(&p->body, ifs);
	s = gs_ir_stmt_new(p, GS_IR_S_MEM_DYN, 5, gs_ir_reg(p, 4), 32);
	s->len_expr = gs_ir_ext(p, gs_ir_reg(p, 1), 32, false);
	gs_ir_append(&p->body, s);
	gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_VALUE, 6,
		gs_ir_select(p, gs_ir_streq(p, gs_ir_reg(p, 4), "a\"b"), gs_ir_const(p, 1),
			     gs_ir_unop(p, GS_IR_NEG, gs_ir_special(p, GS_IR_SP_CFA))), 0));
	gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_RETURN, 0, NULL, 0));
	text = gs_ir_dump(p);
	if (strcmp(text, "cfa %rsp+8\n"
		   "value #1 (load.s4 (add %rdi 0x10))\n"
		   "if #2 (land $pid (lt.s %rax 0x3))\n"
		   "  str #3 len=64 %rsi\n"
		   "else\n"
		   "  mark #4\n"
		   "end\n"
		   "memdyn #5 len=32 %rsi (ext.u32 %rdx)\n"
		   "value #6 (select (streq %rsi \"a\\x22b\") 0x1 (neg $cfa))\n"
		   "return\n")) {
		T_FAIL("dump:\n%s", text);
		ok = false;
	}
	free(text);
	gs_ir_prog_free(p);
	return ok;
}

bool test_ir__memeq_copies_bytes(void)
{
	struct gs_ir_prog *p = gs_ir_prog_new();
	char lit[4] = "abc";
	struct gs_ir_expr *e = gs_ir_memeq(p, gs_ir_reg(p, 5), NULL, lit, 3);
	bool ok;

	lit[0] = 'x';
	ok = e->bytes && !memcmp(e->bytes, "abc", 3) && e->len == 3 && !e->b;
	gs_ir_prog_free(p);
	ASSERT_TRUE(ok);
	return true;
}

bool test_ir__free_null(void)
{
	gs_ir_prog_free(NULL);
	return true;
}

bool test_ir__dump_ret_comm_bt(void)
{
	struct gs_ir_prog *p = gs_ir_prog_new();
	struct gs_ir_expr *vals[2];
	struct gs_ir_stmt *s;
	char *text;
	bool ok = true;

	vals[0] = gs_ir_reg(p, 5);
	vals[1] = gs_ir_load(p, gs_ir_reg(p, 4), 8, false);
	s = gs_ir_save(p, 42, vals, 2);
	vals[0] = NULL;		/* the statement keeps its own copy of the list */
	gs_ir_append(&p->body, s);
	gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_COMM, 1, NULL, 0));
	gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_BACKTRACE, 2, NULL, 64));
	gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_VALUE, 3,
		gs_ir_binop(p, GS_IR_ADD, false, gs_ir_saved(p, 1), gs_ir_reg(p, 0)), 0));
	p->retprobe = true;
	text = gs_ir_dump(p);
	if (strcmp(text, "retprobe\n"
		   "save key=42 %rdi (load.u8 %rsi)\n"
		   "comm #1\n"
		   "bt #2 depth=64\n"
		   "value #3 (add $saved1 %rax)\n")) {
		T_FAIL("dump:\n%s", text);
		ok = false;
	}
	free(text);
	p->save_key = 7;
	text = gs_ir_dump(p);
	if (strncmp(text, "retprobe key=7\n", 15)) {
		T_FAIL("dump:\n%s", text);
		ok = false;
	}
	free(text);
	ok = ok && s->nsave == 2 && s->save_key == 42 && s->id == 0;
	gs_ir_prog_free(p);
	return ok;
}

/* The thread pointer and frame-keyed saves are part of the dump (the cache key). */
bool test_ir__dump_tp_frame_saves(void)
{
	struct gs_ir_prog *p = gs_ir_prog_new();
	struct gs_ir_expr *vals[2];
	struct gs_ir_stmt *s;
	char *text;
	bool ok = true;

	vals[0] = gs_ir_reg(p, 5);
	vals[1] = gs_ir_reg(p, 4);
	s = gs_ir_save_frame(p, 9, gs_ir_special(p, GS_IR_SP_CFA), vals, 2);
	gs_ir_append(&p->body, s);
	gs_ir_append(&p->body, gs_ir_save(p, 9, vals, 1));
	gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_VALUE, 1,
		gs_ir_saved_frame(p, 9, 1, gs_ir_special(p, GS_IR_SP_CFA)), 0));
	gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_VALUE, 2,
		gs_ir_load(p, gs_ir_binop(p, GS_IR_SUB, false, gs_ir_special(p, GS_IR_SP_TP),
					  gs_ir_const(p, 8)), 4, true), 0));
	p->cfa_valid = true;
	p->cfa_reg = 7;
	p->cfa_off = 8;
	text = gs_ir_dump(p);
	if (strcmp(text, "cfa %rsp+8\n"
		   "save key=9 frame=$cfa %rdi %rsi\n"
		   "save key=9 %rdi\n"
		   "value #1 (saved_frame key=9 1 $cfa)\n"
		   "value #2 (load.s4 (sub $tp 0x8))\n")) {
		T_FAIL("dump:\n%s", text);
		ok = false;
	}
	free(text);
	ok = ok && s->frame && s->frame->kind == GS_IR_SPECIAL && s->nsave == 2 && !s->next->frame;
	gs_ir_prog_free(p);
	return ok;
}

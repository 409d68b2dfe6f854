// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for BPF code generation: layout, emission, IR validation, dry-run counts. */
#include <errno.h>
#include <stdlib.h>

#include <linux/bpf.h>
#include <bpf/libbpf.h>

#include "tests/unit/test.h"
#include "tracer/codegen.h"
#include "tracer/codegen_lib.h"
#include "tracer/event.h"

/* Prototypes for -Wmissing-prototypes; "extern" keeps them out of the runner grep. */
extern bool test_codegen__layout_preorder(void);
extern bool test_codegen__emit_and_count(void);
extern bool test_codegen__rejects_bad_ir(void);
extern bool test_codegen__cfa_and_ops_compile(void);
extern bool test_codegen__layout_comm_bt_save(void);
extern bool test_codegen__save_and_saved(void);
extern bool test_codegen__rejects_bad_save(void);
extern bool test_codegen__backtrace_links_helpers(void);
extern bool test_codegen__frame_saves_and_tp(void);
extern bool test_codegen__rejects_bad_saved_frame(void);
extern bool test_codegen__same_shape(void);
extern bool test_codegen__caller_grouping(void);
extern bool test_codegen__pure_helpers(void);

bool test_codegen__layout_preorder(void)
{
	struct gs_ir_prog *p = gs_ir_prog_new();
	struct gs_ir_stmt *ifs = gs_ir_stmt_new(p, GS_IR_S_IF, 2, gs_ir_reg(p, 5), 0);
	struct gs_event_slot *sl = NULL;
	size_t n = 0;
	uint32_t len = 0;
	bool ok = false;

	gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_VALUE, 1, gs_ir_reg(p, 5), 0));
	gs_ir_append(&ifs->then_body, gs_ir_stmt_new(p, GS_IR_S_STR, 3, gs_ir_reg(p, 4), 13));
	gs_ir_append(&ifs->else_body, gs_ir_stmt_new(p, GS_IR_S_MARK, 4, NULL, 0));
	gs_ir_append(&p->body, ifs);
	gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_RETURN, 0, NULL, 0));
	ASSERT_GOTO(!gs_codegen_layout(p, &sl, &n, &len), out);
	ASSERT_GOTO(n == 4, out);
	/* header 40; value 8+8; if 8+8; str 8+16; mark 8 */
	ASSERT_GOTO(sl[0].id == 1 && sl[0].off == 40 && sl[0].cap == 8, out);
	ASSERT_GOTO(sl[1].id == 2 && sl[1].off == 56, out);
	ASSERT_GOTO(sl[2].id == 3 && sl[2].off == 72 && sl[2].cap == 16, out);
	ASSERT_GOTO(sl[3].id == 4 && sl[3].off == 96 && sl[3].cap == 0, out);
	ASSERT_GOTO(len == 104 && sizeof(struct gs_event_hdr) == 40, out);
	ok = true;
out:
	free(sl);
	gs_ir_prog_free(p);
	return ok;
}

bool test_codegen__emit_and_count(void)
{
	struct gs_ir_prog *a = gs_ir_prog_new(), *b = gs_ir_prog_new();
	const struct gs_ir_prog *progs[2] = { a, b };
	struct gs_codegen_opts o = { .max_trace_id = 4, .uprobe_multi = true };
	uint32_t cnt[2] = { 0, 0 };
	char err[256];
	void *obj = NULL;
	size_t len = 0;
	bool ok = false;

	gs_ir_append(&a->body, gs_ir_stmt_new(a, GS_IR_S_VALUE, 1,
		gs_ir_load(a, gs_ir_reg(a, 5), 8, false), 0));
	gs_ir_append(&b->body, gs_ir_stmt_new(b, GS_IR_S_MARK, 1, NULL, 0));
	ASSERT_GOTO(!gs_codegen_emit(progs, 2, &o, &obj, &len, err, sizeof(err)), out);
	ASSERT_GOTO(len > 1000 && !memcmp(obj, "\177ELF", 4), out);
	ASSERT_GOTO(!gs_codegen_insn_counts(obj, len, cnt, 2), out);
	ASSERT_GOTO(cnt[0] > cnt[1] && cnt[1] > 10, out);
	ok = true;
out:
	free(obj);
	gs_ir_prog_free(a);
	gs_ir_prog_free(b);
	return ok;
}

static int emit_one(struct gs_ir_prog *p, char *err, size_t errlen)
{
	const struct gs_ir_prog *progs[1] = { p };
	struct gs_codegen_opts o = { 0 };
	void *obj = NULL;
	size_t len;
	int ret;

	ret = gs_codegen_emit(progs, 1, &o, &obj, &len, err, errlen);
	free(obj);
	return ret;
}

bool test_codegen__rejects_bad_ir(void)
{
	struct gs_ir_prog *p = gs_ir_prog_new();
	char err[256];
	bool ok = false;

	gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_VALUE, 1, gs_ir_reg(p, 17), 0));
	ASSERT_GOTO(emit_one(p, err, sizeof(err)) == -EINVAL, out);
	ASSERT_GOTO(!strcmp(err, "program 0: DWARF register 17 is not readable at a uprobe"), out);
	p->body = NULL;
	gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_VALUE, 1,
					      gs_ir_special(p, GS_IR_SP_CFA), 0));
	ASSERT_GOTO(emit_one(p, err, sizeof(err)) == -EINVAL, out);
	ASSERT_GOTO(strstr(err, "$cfa"), out);
	p->body = NULL;
	gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_VALUE, 0, gs_ir_reg(p, 1), 0));
	ASSERT_GOTO(emit_one(p, err, sizeof(err)) == -EINVAL, out);
	ASSERT_GOTO(!strcmp(err, "program 0: statement with emit id 0"), out);
	p->body = NULL;
	gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_MEM, 1, gs_ir_reg(p, 1), 1 << 20));
	ASSERT_GOTO(emit_one(p, err, sizeof(err)) == -E2BIG, out);
	ok = true;
out:
	if (!ok)
		T_FAIL("err: %s", err);
	gs_ir_prog_free(p);
	return ok;
}

bool test_codegen__cfa_and_ops_compile(void)
{
	struct gs_ir_prog *p = gs_ir_prog_new();
	struct gs_ir_expr *x = gs_ir_reg(p, 5);
	char err[256];
	bool ok;

	p->cfa_valid = true;
	p->cfa_reg = 7;
	p->cfa_off = 8;
	gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_VALUE, 1,
		gs_ir_load(p, gs_ir_special(p, GS_IR_SP_CFA), 8, false), 0));
	for (unsigned op = GS_IR_ADD; op <= GS_IR_GE; op++)
		for (int sg = 0; sg < 2; sg++)
			gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_VALUE, 2 + op * 2 + sg,
				gs_ir_binop(p, op, sg, x, gs_ir_reg(p, 4)), 0));
	gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_VALUE, 100,
		gs_ir_memeq(p, x, gs_ir_reg(p, 4), NULL, 100), 0));
	gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_VALUE, 101,
		gs_ir_lor(p, x, gs_ir_ext(p, x, 12, true)), 0));
	ok = emit_one(p, err, sizeof(err)) == 0;
	if (!ok)
		T_FAIL("err: %s", err);
	gs_ir_prog_free(p);
	return ok;
}

bool test_codegen__layout_comm_bt_save(void)
{
	struct gs_ir_prog *p = gs_ir_prog_new();
	struct gs_ir_expr *v = gs_ir_reg(p, 5);
	struct gs_event_slot *sl = NULL;
	size_t n = 0;
	uint32_t len = 0;
	bool ok = false;

	gs_ir_append(&p->body, gs_ir_save(p, 3, &v, 1));
	gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_COMM, 1, NULL, 0));
	gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_BACKTRACE, 2, NULL, 4));
	ASSERT_GOTO(!gs_codegen_layout(p, &sl, &n, &len), out);
	/* the save has no slot; comm 8+16; bt 8 + (8 + 4*8) */
	ASSERT_GOTO(n == 2, out);
	ASSERT_GOTO(sl[0].id == 1 && sl[0].off == 40 && sl[0].cap == 16, out);
	ASSERT_GOTO(sl[1].id == 2 && sl[1].off == 64 && sl[1].cap == 40, out);
	ASSERT_GOTO(len == 112 && sizeof(struct gs_bt_hdr) == 8, out);
	ok = true;
out:
	free(sl);
	gs_ir_prog_free(p);
	return ok;
}

/* gs_cfg's utask_off in object @obj, or 1 when it has none. */
static uint32_t cfg_utask(const void *obj, size_t len)
{
	struct bpf_object *bo = bpf_object__open_mem(obj, len, NULL);
	const struct gs_codegen_cfg *cfg;
	size_t cfg_len = 0;
	uint32_t v = 1;

	if (!bo)
		return 1;
	cfg = bpf_map__initial_value(bpf_object__find_map_by_name(bo, GS_CODEGEN_CFG_SEC), &cfg_len);
	if (cfg && cfg_len == sizeof(*cfg))
		v = cfg->utask_off;
	bpf_object__close(bo);
	return v;
}

/* An entry program that only saves (no event) and a return program reading saves. */
bool test_codegen__save_and_saved(void)
{
	struct gs_ir_prog *a = gs_ir_prog_new(), *b = gs_ir_prog_new();
	const struct gs_ir_prog *progs[2] = { a, b };
	struct gs_codegen_opts o = { .max_trace_id = 4, .uprobe_multi = true };
	struct gs_ir_expr *vals[GS_IR_SAVE_MAX];
	uint32_t cnt[2] = { 0, 0 };
	char err[256] = "";
	void *obj = NULL;
	size_t len = 0;
	bool ok = false;

	for (unsigned i = 0; i < GS_IR_SAVE_MAX; i++)
		vals[i] = gs_ir_load(a, gs_ir_binop(a, GS_IR_ADD, false, gs_ir_reg(a, 4),
						    gs_ir_const(a, 8 * i)), 8, false);
	gs_ir_append(&a->body, gs_ir_save(a, 2, vals, GS_IR_SAVE_MAX));
	a->cfa_valid = true;	/* the save's key is the call's CFA: rsp + 8 at entry */
	a->cfa_reg = 7;
	a->cfa_off = 8;
	b->retprobe = true;
	gs_ir_append(&b->body, gs_ir_stmt_new(b, GS_IR_S_VALUE, 1, gs_ir_reg(b, 0), 0));
	gs_ir_append(&b->body, gs_ir_stmt_new(b, GS_IR_S_STR, 2,
					      gs_ir_saved(b, GS_IR_SAVE_MAX - 1), 16));
	gs_ir_append(&b->body, gs_ir_stmt_new(b, GS_IR_S_COMM, 3, NULL, 0));
	ASSERT_GOTO(!gs_codegen_emit(progs, 2, &o, &obj, &len, err, sizeof(err)), out);
	ASSERT_GOTO(!gs_codegen_insn_counts(obj, len, cnt, 2), out);
	ASSERT_GOTO(cnt[0] > 50 && cnt[1] > 30, out);
	ASSERT_GOTO(cfg_utask(obj, len) == 0, out);
	/* at the uretprobe's pc: skipped when the kernel will not arm the return */
	a->body->len = GS_IR_SAVE_ARMED;
	free(obj);
	obj = NULL;
	ASSERT_GOTO(!gs_codegen_emit(progs, 2, &o, &obj, &len, err, sizeof(err)), out);
	ASSERT_GOTO(!gs_codegen_insn_counts(obj, len, cnt, 2), out);
	ASSERT_GOTO(cnt[0] > 60, out);
	/* the loader fills in the kernel's offsets where the object says so */
	ASSERT_GOTO(cfg_utask(obj, len) == GS_CODEGEN_FSBASE_UNSET, out);
	ok = true;
out:
	if (!ok)
		T_FAIL("err: %s", err);
	free(obj);
	gs_ir_prog_free(a);
	gs_ir_prog_free(b);
	return ok;
}

bool test_codegen__rejects_bad_save(void)
{
	struct gs_ir_prog *p = gs_ir_prog_new();
	struct gs_ir_expr *vals[GS_IR_SAVE_MAX + 1];
	char err[256] = "";
	bool ok = false;

	gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_VALUE, 1, gs_ir_saved(p, 0), 0));
	ASSERT_GOTO(emit_one(p, err, sizeof(err)) == -EINVAL, out);
	ASSERT_GOTO(!strcmp(err, "program 0: saved entry value used outside a return program"), out);
	p->retprobe = true;
	p->body = NULL;
	gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_VALUE, 1, gs_ir_saved(p, 16), 0));
	ASSERT_GOTO(emit_one(p, err, sizeof(err)) == -EINVAL, out);
	ASSERT_GOTO(!strcmp(err, "program 0: saved entry value 16 (0..15 allowed)"), out);
	for (unsigned i = 0; i <= GS_IR_SAVE_MAX; i++)
		vals[i] = gs_ir_const(p, i);
	p->body = NULL;
	gs_ir_append(&p->body, gs_ir_save(p, 1, vals, GS_IR_SAVE_MAX + 1));
	ASSERT_GOTO(emit_one(p, err, sizeof(err)) == -E2BIG, out);
	/* a call's save is keyed by its CFA: none without a CFA rule */
	p->retprobe = false;
	p->body = NULL;
	gs_ir_append(&p->body, gs_ir_save(p, 1, vals, 1));
	ASSERT_GOTO(emit_one(p, err, sizeof(err)) == -EINVAL, out);
	ASSERT_GOTO(strstr(err, "no CFA rule for $cfa or a return probe's entry save"), out);
	p->body = NULL;
	gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_BACKTRACE, 1, NULL, GS_IR_BT_MAX + 1));
	ASSERT_GOTO(emit_one(p, err, sizeof(err)) == -E2BIG, out);
	ASSERT_GOTO(strstr(err, "backtrace #1 of depth 129"), out);
	ok = true;
out:
	if (!ok)
		T_FAIL("err: %s", err);
	gs_ir_prog_free(p);
	return ok;
}

/* A backtrace links bpf/helpers.c; two programs with one share the one unwinder. */
bool test_codegen__backtrace_links_helpers(void)
{
	struct gs_ir_prog *a = gs_ir_prog_new(), *b = gs_ir_prog_new();
	const struct gs_ir_prog *progs[2] = { a, b };
	struct gs_codegen_opts o = { .max_trace_id = 4, .uprobe_multi = true };
	uint32_t cnt[2] = { 0, 0 };
	char err[256] = "";
	void *obj = NULL;
	size_t len = 0;
	bool ok = false;

	gs_ir_append(&a->body, gs_ir_stmt_new(a, GS_IR_S_BACKTRACE, 1, NULL, GS_IR_BT_MAX));
	gs_ir_append(&b->body, gs_ir_stmt_new(b, GS_IR_S_VALUE, 1, gs_ir_reg(b, 5), 0));
	gs_ir_append(&b->body, gs_ir_stmt_new(b, GS_IR_S_BACKTRACE, 2, NULL, 3));
	ASSERT_GOTO(!gs_codegen_emit(progs, 2, &o, &obj, &len, err, sizeof(err)), out);
	ASSERT_GOTO(!gs_codegen_insn_counts(obj, len, cnt, 2), out);
	ASSERT_GOTO(cnt[0] > 20 && cnt[1] > 20, out);
	ok = true;
out:
	if (!ok)
		T_FAIL("err: %s", err);
	free(obj);
	gs_ir_prog_free(a);
	gs_ir_prog_free(b);
	return ok;
}

/*
 * A frame-keyed save at an entry and a plain program reading it and the thread
 * pointer: gs_fsave and the scratch, no depth maps, and gs_cfg.fsbase_off marked for
 * the loader.
 */
bool test_codegen__frame_saves_and_tp(void)
{
	struct gs_ir_prog *a = gs_ir_prog_new(), *b = gs_ir_prog_new();
	const struct gs_ir_prog *progs[2] = { a, b };
	struct gs_codegen_opts o = { .max_trace_id = 4, .uprobe_multi = true };
	struct gs_ir_expr *vals[2];
	struct bpf_object *bo = NULL;
	const struct gs_codegen_cfg *cfg;
	uint32_t cnt[2] = { 0, 0 };
	char err[256] = "";
	void *obj = NULL;
	size_t len = 0, cfg_len = 0;
	bool ok = false;

	a->cfa_valid = true;
	a->cfa_reg = 7;
	a->cfa_off = 8;
	vals[0] = gs_ir_reg(a, 5);
	vals[1] = gs_ir_load(a, gs_ir_reg(a, 4), 8, false);
	gs_ir_append(&a->body, gs_ir_save_frame(a, 3, gs_ir_special(a, GS_IR_SP_CFA), vals, 2));
	b->cfa_valid = true;
	b->cfa_reg = 6;
	b->cfa_off = 16;
	gs_ir_append(&b->body, gs_ir_stmt_new(b, GS_IR_S_VALUE, 1,
		gs_ir_saved_frame(b, 3, 1, gs_ir_special(b, GS_IR_SP_CFA)), 0));
	gs_ir_append(&b->body, gs_ir_stmt_new(b, GS_IR_S_STR, 2, gs_ir_saved_frame(b, 3, 0,
		gs_ir_special(b, GS_IR_SP_CFA)), 16));
	gs_ir_append(&b->body, gs_ir_stmt_new(b, GS_IR_S_VALUE, 3, gs_ir_load(b,
		gs_ir_binop(b, GS_IR_SUB, false, gs_ir_special(b, GS_IR_SP_TP), gs_ir_const(b, 4)),
		4, true), 0));
	ASSERT_GOTO(!gs_codegen_emit(progs, 2, &o, &obj, &len, err, sizeof(err)), out);
	ASSERT_GOTO(!gs_codegen_insn_counts(obj, len, cnt, 2), out);
	ASSERT_GOTO(cnt[0] > 20 && cnt[1] > 40, out);
	bo = bpf_object__open_mem(obj, len, NULL);
	ASSERT_GOTO(bo, out);
	ASSERT_GOTO(bpf_object__find_map_by_name(bo, GS_CODEGEN_MAP_FSAVE), out);
	ASSERT_GOTO(bpf_object__find_map_by_name(bo, GS_CODEGEN_MAP_SCRATCH), out);
	ASSERT_GOTO(!bpf_object__find_map_by_name(bo, GS_CODEGEN_MAP_SAVE), out);
	cfg = bpf_map__initial_value(bpf_object__find_map_by_name(bo, GS_CODEGEN_CFG_SEC),
				     &cfg_len);
	ASSERT_GOTO(cfg && cfg_len == sizeof(*cfg), out);
	ASSERT_GOTO(cfg->fsbase_off == GS_CODEGEN_FSBASE_UNSET, out);
	ok = true;
out:
	if (!ok)
		T_FAIL("err: %s", err);
	bpf_object__close(bo);
	free(obj);
	gs_ir_prog_free(a);
	gs_ir_prog_free(b);
	return ok;
}

bool test_codegen__rejects_bad_saved_frame(void)
{
	struct gs_ir_prog *p = gs_ir_prog_new();
	struct gs_ir_expr *v;
	char err[256] = "";
	bool ok = false;

	gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_VALUE, 1,
		gs_ir_saved_frame(p, 1, 16, gs_ir_reg(p, 7)), 0));
	ASSERT_GOTO(emit_one(p, err, sizeof(err)) == -EINVAL, out);
	ASSERT_GOTO(!strcmp(err, "program 0: saved entry value 16 (0..15 allowed)"), out);
	/* $cfa as the frame needs the program's CFA rule */
	p->body = NULL;
	v = gs_ir_reg(p, 5);
	gs_ir_append(&p->body, gs_ir_save_frame(p, 1, gs_ir_special(p, GS_IR_SP_CFA), &v, 1));
	ASSERT_GOTO(emit_one(p, err, sizeof(err)) == -EINVAL, out);
	ASSERT_GOTO(!strcmp(err, "program 0: no CFA rule for $cfa or a return probe's entry save"), out);
	ok = true;
out:
	if (!ok)
		T_FAIL("err: %s", err);
	gs_ir_prog_free(p);
	return ok;
}

/*
 * Merged programs: entry and return bodies apart, at most max per BPF program, a
 * backtrace alone; the object then holds exactly the BPF programs the plan names, the
 * merged one as large as its bodies together.
 */
bool test_codegen__merge_groups(void)
{
	struct gs_ir_prog *p[6];
	const struct gs_ir_prog *progs[6];
	uint32_t entry[6], variant[6], cnt[4] = { 0 }, one[1] = { 0 };
	struct gs_codegen_opts o = { .max_trace_id = 8, .uprobe_multi = true, .merge_max = 2 };
	char err[256];
	void *obj = NULL, *obj1 = NULL;
	size_t len = 0, len1 = 0, n;
	bool ok = false;

	for (int i = 0; i < 6; i++) {
		p[i] = gs_ir_prog_new();
		progs[i] = p[i];
		/* 1 has another shape than 0; 4 and 5 differ only in the register they read */
		gs_ir_append(&p[i]->body, gs_ir_stmt_new(p[i], GS_IR_S_VALUE, 1,
			gs_ir_load(p[i], i == 1 ? gs_ir_binop(p[i], GS_IR_ADD, false, gs_ir_reg(p[i], i),
							      gs_ir_const(p[i], 8)) : gs_ir_reg(p[i], i),
				   i == 1 ? 4 : 8, false), 0));
	}
	p[2]->retprobe = true;
	gs_ir_append(&p[3]->body, gs_ir_stmt_new(p[3], GS_IR_S_BACKTRACE, 2, NULL, 8));
	n = gs_codegen_merge(progs, 6, 2, entry, variant);
	/* 0,1: group 0; 2: return group 1; 3: backtrace alone, 2; 4: group 3; 5: group 3 */
	ASSERT_GOTO(n == 4, out);
	ASSERT_GOTO(entry[0] == 0 && variant[0] == 0 && entry[1] == 0 && variant[1] == 1, out);
	ASSERT_GOTO(entry[2] == 1 && variant[2] == 0, out);
	ASSERT_GOTO(entry[3] == 2 && variant[3] == 0, out);
	ASSERT_GOTO(entry[4] == 3 && variant[4] == 0 && entry[5] == 3 && variant[5] == 1, out);
	ASSERT_GOTO(gs_codegen_merge(progs, 6, 1, entry, variant) == 6, out);

	ASSERT_GOTO(!gs_codegen_emit(progs, 6, &o, &obj, &len, err, sizeof(err)), out);
	ASSERT_GOTO(!gs_codegen_insn_counts(obj, len, cnt, 4), out);
	/* no fifth program in the object */
	ASSERT_GOTO(gs_codegen_insn_counts(obj, len, (uint32_t[5]){ 0 }, 5) != 0, out);
	o.merge_max = 0;
	ASSERT_GOTO(!gs_codegen_emit(progs, 1, &o, &obj1, &len1, err, sizeof(err)), out);
	ASSERT_GOTO(!gs_codegen_insn_counts(obj1, len1, one, 1), out);
	/* two shapes behind one entry: two bodies; one shape read from two registers: one */
	ASSERT_GOTO(cnt[0] > one[0] + one[0] / 2, out);
	ASSERT_GOTO(cnt[3] < one[0] + one[0] / 4, out);
	ok = true;
out:
	if (!ok)
		T_FAIL("merge: %s (counts %u %u %u %u, one %u)", err, cnt[0], cnt[1], cnt[2], cnt[3], one[0]);
	free(obj);
	free(obj1);
	for (int i = 0; i < 6; i++)
		gs_ir_prog_free(p[i]);
	return ok;
}

/* Shared bodies: which programs differ only in their registers, and which registers. */
static struct gs_ir_prog *shape_prog(unsigned r1, unsigned r2, uint64_t off, int32_t cfa_off)
{
	struct gs_ir_prog *p = gs_ir_prog_new();
	struct gs_ir_expr *a = gs_ir_reg(p, r1), *b = r1 == r2 ? a : gs_ir_reg(p, r2);

	p->cfa_valid = true;
	p->cfa_reg = 7;
	p->cfa_off = cfa_off;
	gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_VALUE, 1,
		gs_ir_load(p, gs_ir_binop(p, GS_IR_ADD, false, a, gs_ir_const(p, off)), 8, false), 0));
	gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_VALUE, 2, b, 0));
	return p;
}

bool test_codegen__same_shape(void)
{
	/* rep: one rdi node read twice (a DAG) and +8; cfa rsp+8 */
	struct gs_ir_prog *rep = shape_prog(5, 5, 8, 8);
	struct gs_ir_prog *other_reg = shape_prog(4, 4, 8, 16);	/* rsi twice: same shape */
	struct gs_ir_prog *split = shape_prog(4, 1, 8, 8);	/* rsi then rdx: not */
	struct gs_ir_prog *other_off = shape_prog(5, 5, 16, 8);	/* +16: a constant leaf */
	struct gs_ir_prog *cfa = shape_prog(5, 5, 8, 8), *cfa2 = shape_prog(4, 4, 8, 16);
	struct gs_ir_prog *mb = gs_ir_prog_new(), *mb2 = gs_ir_prog_new();
	struct gs_cg_shape sh;
	bool ok = false;

	ASSERT_GOTO(gs_cg_same_shape(rep, rep, &sh) && sh.n == 2, out);
	ASSERT_GOTO(!sh.is_const[0] && sh.reg[0] == 5 && sh.is_const[1] && sh.imm[1] == 8, out);
	/* the CFA rule differs, but nothing reads $cfa */
	ASSERT_GOTO(gs_cg_same_shape(rep, other_reg, &sh) && sh.n == 2 && sh.reg[0] == 4, out);
	ASSERT_GOTO(!gs_cg_same_shape(rep, split, &sh), out);
	ASSERT_GOTO(gs_cg_same_shape(rep, other_off, &sh) && sh.imm[1] == 16 && sh.reg[0] == 5, out);
	ASSERT_GOTO(!gs_cg_same_shape(rep, NULL, &sh), out);
	/* read $cfa: the rule must match too */
	gs_ir_append(&cfa->body, gs_ir_stmt_new(cfa, GS_IR_S_VALUE, 3,
						gs_ir_special(cfa, GS_IR_SP_CFA), 0));
	gs_ir_append(&cfa2->body, gs_ir_stmt_new(cfa2, GS_IR_S_VALUE, 3,
						 gs_ir_special(cfa2, GS_IR_SP_CFA), 0));
	ASSERT_GOTO(!gs_cg_same_shape(cfa, cfa2, &sh), out);
	cfa2->cfa_off = 8;
	ASSERT_GOTO(gs_cg_same_shape(cfa, cfa2, &sh) && sh.reg[0] == 4, out);
	/* GS_IR_MOD_BIAS reads its constants at compile time: they are never leaves */
	gs_ir_append(&mb->body, gs_ir_stmt_new(mb, GS_IR_S_VALUE, 1,
					       gs_ir_mod_bias(mb, 0x3d00, 0x2b0, 1), 0));
	gs_ir_append(&mb2->body, gs_ir_stmt_new(mb2, GS_IR_S_VALUE, 1,
						gs_ir_mod_bias(mb2, 0x3d00, 0x2b0, 2), 0));
	ASSERT_GOTO(gs_cg_same_shape(mb, mb, &sh) && sh.n == 0, out);
	ASSERT_GOTO(!gs_cg_same_shape(mb, mb2, &sh), out);
	ok = true;
out:
	gs_ir_prog_free(rep);
	gs_ir_prog_free(other_reg);
	gs_ir_prog_free(split);
	gs_ir_prog_free(other_off);
	gs_ir_prog_free(cfa);
	gs_ir_prog_free(cfa2);
	gs_ir_prog_free(mb);
	gs_ir_prog_free(mb2);
	return ok;
}

/* The code generator emits the caller's grouping, and refuses one that is not one. */
bool test_codegen__caller_grouping(void)
{
	struct gs_ir_prog *p[3];
	const struct gs_ir_prog *progs[3];
	uint32_t entry[3] = { 0, 1, 0 }, variant[3] = { 0, 0, 1 }, cnt[2] = { 0 };
	uint32_t dup_v[3] = { 0, 0, 0 };
	struct gs_codegen_opts o = { .max_trace_id = 4, .uprobe_multi = true, .merge_max = 16,
				     .entry_of = entry, .variant_of = variant };
	char err[256] = "";
	void *obj = NULL;
	size_t len = 0;
	bool ok = false;

	for (int i = 0; i < 3; i++) {
		p[i] = gs_ir_prog_new();
		progs[i] = p[i];
		gs_ir_append(&p[i]->body, gs_ir_stmt_new(p[i], GS_IR_S_VALUE, 1,
			gs_ir_const(p[i], 100 + i), 0));
	}
	/* gs_codegen_merge would put all three in one program; the caller says two */
	ASSERT_GOTO(!gs_codegen_emit(progs, 3, &o, &obj, &len, err, sizeof(err)), out);
	ASSERT_GOTO(!gs_codegen_insn_counts(obj, len, cnt, 2), out);
	ASSERT_GOTO(gs_codegen_insn_counts(obj, len, (uint32_t[3]){ 0 }, 3) != 0, out);
	free(obj);
	obj = NULL;
	/* two programs as variant 0 of program 0 */
	o.variant_of = dup_v;
	entry[1] = 0;
	ASSERT_GOTO(gs_codegen_emit(progs, 3, &o, &obj, &len, err, sizeof(err)) == -EINVAL, out);
	ASSERT_GOTO(strstr(err, "bad program grouping") != NULL, out);
	ok = true;
out:
	if (!ok)
		T_FAIL("grouping: %s", err);
	free(obj);
	for (int i = 0; i < 3; i++)
		gs_ir_prog_free(p[i]);
	return ok;
}

/* Calls of helper @id in the one program of @obj (opened with libbpf, not loaded). */
static int helper_calls(const void *obj, size_t len, int id)
{
	struct bpf_object *o = bpf_object__open_mem(obj, len, NULL);
	const struct bpf_insn *in;
	struct bpf_program *prog;
	int n = 0;

	if (libbpf_get_error(o))
		return -1;
	prog = bpf_object__next_program(o, NULL);
	if (!prog) {
		bpf_object__close(o);
		return -1;
	}
	in = bpf_program__insns(prog);
	for (size_t i = 0; i < bpf_program__insn_cnt(prog); i++)
		n += in[i].code == (BPF_JMP | BPF_CALL) && in[i].src_reg == 0 && in[i].imm == id;
	bpf_object__close(o);
	return n;
}

/*
 * The cookie, pid and CPU helpers are marked pure: the entry of merged bodies and the
 * inlined body share one cookie call, and a body that reports nothing asks for no pid.
 */
bool test_codegen__pure_helpers(void)
{
	struct gs_ir_prog *mark = gs_ir_prog_new(), *empty = gs_ir_prog_new();
	const struct gs_ir_prog *progs[1] = { mark };
	struct gs_codegen_opts o = { .max_trace_id = 4, .uprobe_multi = true };
	char err[256] = "";
	void *obj = NULL;
	size_t len = 0;
	bool ok = false;

	gs_ir_append(&mark->body, gs_ir_stmt_new(mark, GS_IR_S_MARK, 1, NULL, 0));
	ASSERT_GOTO(!gs_codegen_emit(progs, 1, &o, &obj, &len, err, sizeof(err)), out);
	ASSERT_GOTO(helper_calls(obj, len, BPF_FUNC_get_attach_cookie) == 1, out);
	ASSERT_GOTO(helper_calls(obj, len, BPF_FUNC_get_current_pid_tgid) == 1, out);
	ASSERT_GOTO(helper_calls(obj, len, BPF_FUNC_ringbuf_reserve) == 1, out);
	free(obj);
	obj = NULL;
	progs[0] = empty;
	ASSERT_GOTO(!gs_codegen_emit(progs, 1, &o, &obj, &len, err, sizeof(err)), out);
	ASSERT_GOTO(helper_calls(obj, len, BPF_FUNC_get_current_pid_tgid) == 0, out);
	ASSERT_GOTO(helper_calls(obj, len, BPF_FUNC_ringbuf_reserve) == 0, out);
	/* a program of one variant does not check it: nothing asks for the cookie */
	ASSERT_GOTO(helper_calls(obj, len, BPF_FUNC_get_attach_cookie) == 0, out);
	ok = true;
out:
	if (!ok)
		fprintf(stderr, "    %s\n", err);
	free(obj);
	gs_ir_prog_free(mark);
	gs_ir_prog_free(empty);
	return ok;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for the plan cache's encoding: a plan with every kind of IR node and
 * decoding table comes back equal (the same IR dump, shared nodes still shared, AST
 * references to the same statements), and a damaged payload is refused, never read
 * past its end.
 */
#include <stdlib.h>

#include "tests/unit/test.h"
#include "tracer/parser.h"
#include "tracer/plancache.h"
#include "tracer/wire.h"

extern bool test_plancache__round_trip(void);
extern bool test_plancache__damaged_payloads(void);
extern bool test_plancache__deep_else_if_chain(void);

static const char script_src[] =
	"trace f { print \"{} {}\", a, b; if a > 1 { bt; } }\n"
	"trace g:return { print $retval; }\n";

/* The IR of a probe: shared nodes, bytes, nested branches, saves, every statement kind. */
static struct gs_ir_prog *sample_ir(void)
{
	struct gs_ir_prog *p = gs_ir_prog_new();
	struct gs_ir_expr *shared = gs_ir_load(p, gs_ir_binop(p, GS_IR_ADD, false, gs_ir_reg(p, 5),
							       gs_ir_const(p, 24)), 8, false);
	struct gs_ir_expr *v[2] = { shared, gs_ir_reg(p, 4) };
	struct gs_ir_stmt *ifs, *s;

	p->cfa_valid = true;
	p->cfa_reg = 7;
	p->cfa_off = -8;
	p->save_key = 9;
	gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_VALUE, 1, shared, 0));
	ifs = gs_ir_stmt_new(p, GS_IR_S_IF, 2, gs_ir_lor(p,
		gs_ir_memeq(p, shared, NULL, (const uint8_t *)"ab\0c", 4),
		gs_ir_streq(p, gs_ir_reg(p, 4), "xyz")), 0);
	gs_ir_append(&ifs->then_body, gs_ir_stmt_new(p, GS_IR_S_STR, 3, shared, 64));
	gs_ir_append(&ifs->then_body, gs_ir_stmt_new(p, GS_IR_S_BACKTRACE, 4, NULL, 32));
	gs_ir_append(&ifs->else_body, gs_ir_stmt_new(p, GS_IR_S_COMM, 5, NULL, 0));
	gs_ir_append(&p->body, ifs);
	s = gs_ir_stmt_new(p, GS_IR_S_MEM_DYN, 6, gs_ir_reg(p, 4), 32);
	s->len_expr = gs_ir_ext(p, gs_ir_select(p, gs_ir_special(p, GS_IR_SP_TID), shared,
						gs_ir_unop(p, GS_IR_NEG, gs_ir_const(p, 3))), 32, true);
	gs_ir_append(&p->body, s);
	gs_ir_append(&p->body, gs_ir_save_frame(p, 77, gs_ir_special(p, GS_IR_SP_CFA), v, 2));
	gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_VALUE, 7,
		gs_ir_binop(p, GS_IR_SHR, true, gs_ir_saved_frame(p, 77, 1, gs_ir_special(p, GS_IR_SP_CFA)),
			    gs_ir_mod_bias(p, 0x3d00, 0x2b0, 0x1122334455667788ull)), 0));
	gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_VALUE, 8,
		gs_ir_tls_block(p, gs_ir_const(p, 0x4ff8)), 0));
	gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_RETURN, 0, NULL, 0));
	return p;
}

static struct gs_plan_print *sample_print(const struct gs_stmt *stmt, struct gs_index *idx)
{
	struct gs_plan_print *pp = calloc(1, sizeof(*pp));

	pp->stmt = stmt;
	pp->nargs = 2;
	pp->args = calloc(2, sizeof(*pp->args));
	pp->args[0] = (struct gs_plan_arg){ .how = GS_ARG_OBJECT, .int_signed = true, .extra_ptr = 1,
					    .dim_skip = 2, .conv = 3, .type_id = 4242, .idx = idx,
					    .rec = 2, .rec2 = 3, .nstrs = 2 };
	pp->args[0].strs[0] = (struct gs_plan_str){ 8, 4 };
	pp->args[0].strs[1] = (struct gs_plan_str){ 16, 5 };
	pp->args[1] = (struct gs_plan_arg){ .how = GS_ARG_TEXT, .text = strdup("<optimized out>") };
	return pp;
}

/* Two probes of the first trace (one failed) and a return probe with its hidden save. */
static struct gs_plan *sample_plan(const struct gs_script *sc, struct gs_plan_module *mods)
{
	struct gs_plan *plan = calloc(1, sizeof(*plan));
	const struct gs_block *body = &sc->traces[0]->body;

	plan->script = sc;
	plan->mods = mods;
	plan->nmods = 2;
	plan->nprobes = 4;
	plan->probes = calloc(4, sizeof(*plan->probes));
	for (uint32_t i = 0; i < 4; i++) {
		struct gs_probe *pr = &plan->probes[i];

		pr->plan = plan;
		pr->trace_id = i + 1;
		gs_strbuf_init(&pr->reads);
		pr->trace = sc->traces[i < 2 ? 0 : 1];
		pr->mod = &mods[i & 1];
		pr->vaddr = 0x401000 + i * 0x10;
		pr->file_offset = 0x1000 + i * 0x10;
		pr->insn = "push";
		pr->insn_kind = GS_INSN_EMULATED;
		pr->where = strdup("f+0x4 at shop.c:12");
	}
	plan->probes[0].ir = sample_ir();
	plan->probes[0].nprints = 1;
	plan->probes[0].prints = calloc(1, sizeof(struct gs_plan_print *));
	plan->probes[0].prints[0] = sample_print(body->stmts[0], mods[1].idx);
	plan->probes[0].nrecs = 3;
	plan->probes[0].recs = calloc(4, sizeof(struct gs_plan_rec));
	plan->probes[0].recs[1] = (struct gs_plan_rec){ .role = GS_ROLE_PRINT,
							.print = plan->probes[0].prints[0] };
	plan->probes[0].recs[2] = (struct gs_plan_rec){ .role = GS_ROLE_EXPR_ERROR,
							.text = strdup("a > 1") };
	plan->probes[0].recs[3] = (struct gs_plan_rec){ .role = GS_ROLE_BACKTRACE,
		.stmt = body->stmts[1]->arms[0].body.stmts[0] };
	plan->probes[1].error = strdup("-s:1:21: 'b' is optimized out here");
	plan->probes[1].insn = NULL;
	plan->probes[2].retprobe = true;
	plan->probes[2].ir = sample_ir();
	plan->probes[2].ir->retprobe = true;
	plan->probes[3].hidden = true;
	plan->probes[3].insn_kind = GS_INSN_NOP5;
	plan->probes[3].insn = "nop5";
	plan->probes[3].ir = sample_ir();
	return plan;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool same_ir(const struct gs_ir_prog *a, const struct gs_ir_prog *b)
{
	char *da, *db;
	bool same;

	if (!a || !b)
		return a == b;
	da = gs_ir_dump(a);
	db = gs_ir_dump(b);
	same = !strcmp(da, db) && a->retprobe == b->retprobe && a->save_key == b->save_key &&
	       a->cfa_off == b->cfa_off;
	if (!same)
		fprintf(stderr, "    IR differs:\n%s---\n%s", da, db);
	free(da);
	free(db);
	return same;
}

bool test_plancache__round_trip(void)
{
	struct gs_script *sc = NULL;
	struct gs_diag diag;
	struct gs_plan_module mods[2] = { { .path = "/bin/a" }, { .path = "/lib/b.so" } };
	struct gs_plan *plan = NULL, *back = NULL;
	void *buf = NULL;
	size_t len = 0;
	bool ok = false;

	gs_diag_init(&diag);
	/* any distinct pointers do: the decoder maps positions back to mods[].idx */
	mods[0].idx = (struct gs_index *)&mods[0];
	mods[1].idx = (struct gs_index *)&mods[1];
	ASSERT_TRUE(!gs_script_parse(script_src, strlen(script_src), "-s", &sc, &diag));
	plan = sample_plan(sc, mods);
	ASSERT_GOTO(!gs_plancache_encode(plan, &buf, &len), out);
	ASSERT_GOTO(!gs_plancache_decode(buf, len, sc, mods, 2, &back), out);
	ASSERT_GOTO(back->nprobes == 4 && back->nmods == 2 && back->mods == mods, out);
	for (size_t i = 0; i < 4; i++) {
		const struct gs_probe *a = &plan->probes[i], *b = &back->probes[i];

		ASSERT_GOTO(a->trace_id == b->trace_id && a->retprobe == b->retprobe &&
			    a->hidden == b->hidden && a->insn_kind == b->insn_kind &&
			    a->trace == b->trace && a->mod == b->mod && a->vaddr == b->vaddr &&
			    a->file_offset == b->file_offset && b->plan == back, out);
		ASSERT_GOTO(same_str(a->insn, b->insn) && same_str(a->where, b->where) &&
			    same_str(a->error, b->error), out);
		ASSERT_GOTO(same_ir(a->ir, b->ir), out);
		ASSERT_GOTO(a->nrecs == b->nrecs && a->nprints == b->nprints, out);
	}
	{
		const struct gs_probe *b = &back->probes[0];
		const struct gs_plan_arg *a0 = &b->prints[0]->args[0], *a1 = &b->prints[0]->args[1];
		const struct gs_ir_stmt *s1 = b->ir->body, *ifs = s1->next;

		/* the shared load is one node again, not copies */
		ASSERT_GOTO(s1->expr == ifs->then_body->expr, out);
		ASSERT_GOTO(ifs->expr->a->a == s1->expr, out);
		ASSERT_GOTO(!memcmp(ifs->expr->a->bytes, "ab\0c", 4), out);
		ASSERT_GOTO(b->prints[0]->stmt == sc->traces[0]->body.stmts[0], out);
		ASSERT_GOTO(a0->how == GS_ARG_OBJECT && a0->int_signed && a0->extra_ptr == 1 &&
			    a0->dim_skip == 2 && a0->conv == 3 && a0->type_id == 4242 &&
			    a0->idx == mods[1].idx && a0->rec == 2 && a0->rec2 == 3 &&
			    a0->nstrs == 2 && a0->strs[1].off == 16 && a0->strs[1].rec == 5, out);
		ASSERT_GOTO(a1->how == GS_ARG_TEXT && same_str(a1->text, "<optimized out>"), out);
		ASSERT_GOTO(b->recs[1].role == GS_ROLE_PRINT && b->recs[1].print == b->prints[0], out);
		ASSERT_GOTO(b->recs[2].role == GS_ROLE_EXPR_ERROR &&
			    same_str(b->recs[2].text, "a > 1"), out);
		ASSERT_GOTO(b->recs[3].stmt == sc->traces[0]->body.stmts[1]->arms[0].body.stmts[0], out);
	}
	ok = true;
out:
	gs_plan_free(back);
	gs_plan_free(plan);
	gs_script_free(sc);
	return ok;
}

bool test_plancache__damaged_payloads(void)
{
	struct gs_script *sc = NULL;
	struct gs_diag diag;
	struct gs_plan_module mods[2] = { { .path = "/bin/a" }, { .path = "/lib/b.so" } };
	struct gs_plan *plan = NULL, *back;
	uint8_t *buf = NULL, *copy;
	size_t len = 0, refused = 0;
	bool ok = false;

	gs_diag_init(&diag);
	ASSERT_TRUE(!gs_script_parse(script_src, strlen(script_src), "-s", &sc, &diag));
	plan = sample_plan(sc, mods);
	ASSERT_GOTO(!gs_plancache_encode(plan, (void **)&buf, &len), out);
	/* every truncation is refused (an exact-size copy each: ASan sees any overread) */
	for (size_t cut = 0; cut < len; cut++) {
		copy = malloc(cut ? cut : 1);
		memcpy(copy, buf, cut);
		back = NULL;
		refused += gs_plancache_decode(copy, cut, sc, mods, 2, &back) != 0;
		ASSERT_GOTO(!back, out);
	}
	ASSERT_GOTO(refused == len, out);
	/* a module count that is not the target's, or trailing bytes: refused */
	copy = malloc(len);
	memcpy(copy, buf, len);
	ASSERT_GOTO(gs_plancache_decode(copy, len, sc, mods, 3, &back) != 0, out);
	copy = malloc(len + 1);
	memcpy(copy, buf, len);
	copy[len] = 0;
	ASSERT_GOTO(gs_plancache_decode(copy, len + 1, sc, mods, 2, &back) != 0, out);
	/* what the decoder follows must be there: a print record without its print */
	plan->probes[0].recs[1].print = NULL;
	free(buf);
	buf = NULL;
	ASSERT_GOTO(!gs_plancache_encode(plan, (void **)&copy, &len), out);
	back = NULL;
	ASSERT_GOTO(gs_plancache_decode(copy, len, sc, mods, 2, &back) != 0 && !back, out);
	plan->probes[0].recs[1].print = plan->probes[0].prints[0];
	ASSERT_GOTO(!gs_plancache_encode(plan, (void **)&buf, &len), out);
	/* flipped bytes either decode to some plan or are refused, never crash */
	for (size_t i = 0; i < len; i++) {
		copy = malloc(len);
		memcpy(copy, buf, len);
		copy[i] ^= 0xff;
		back = NULL;
		if (!gs_plancache_decode(copy, len, sc, mods, 2, &back))
			gs_plan_free(back);
	}
	ok = true;
out:
	free(buf);
	gs_plan_free(plan);
	gs_script_free(sc);
	return ok;
}

/* An `else if` chain nests one level per arm: 300 arms encode and decode alike. */
bool test_plancache__deep_else_if_chain(void)
{
	struct gs_ir_prog *p = gs_ir_prog_new(), *back = NULL;
	struct gs_ir_stmt **at = &p->body;
	struct gs_strbuf b;
	struct gs_wire_rd r;
	char *d1 = NULL, *d2 = NULL;
	bool ok = false;

	for (int i = 0; i < 300; i++) {
		struct gs_ir_stmt *ifs = gs_ir_stmt_new(p, GS_IR_S_IF, (uint16_t)(2 * i + 1),
			gs_ir_binop(p, GS_IR_EQ, false, gs_ir_reg(p, 5), gs_ir_const(p, i)), 0);

		gs_ir_append(&ifs->then_body, gs_ir_stmt_new(p, GS_IR_S_MARK, (uint16_t)(2 * i + 2),
							     NULL, 0));
		gs_ir_append(at, ifs);
		at = &ifs->else_body;
	}
	gs_strbuf_init(&b);
	ASSERT_GOTO(!gs_ir_encode(&b, p), out);
	r = (struct gs_wire_rd){ (const uint8_t *)b.buf, (const uint8_t *)b.buf + b.len, false };
	back = gs_ir_decode(&r);
	ASSERT_GOTO(back && !r.bad && r.p == r.end, out);
	d1 = gs_ir_dump(p);
	d2 = gs_ir_dump(back);
	ASSERT_GOTO(!strcmp(d1, d2), out);
	ok = true;
out:
	free(d1);
	free(d2);
	gs_strbuf_deinit(&b);
	gs_ir_prog_free(back);
	gs_ir_prog_free(p);
	return ok;
}

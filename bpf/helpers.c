// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * BPF-side helpers written in C, compiled by clang-16 at build time to LLVM bitcode
 * (build/bpf/helpers.bc), embedded in the tracer and linked into generated modules
 * that need them (codegen.c, LLVMLinkModules2). Currently: the CFI stack unwinder
 * behind GS_IR_S_BACKTRACE.
 *
 * Compiled -ffreestanding: glibc's headers do not apply to the BPF target, but the
 * project headers that only need <stdint.h>/<stdbool.h>/<stddef.h> (clang's own)
 * do, so the layouts shared with user space come from them: shared/index.h (CFI rows
 * and entries), tracer/codegen.h (map names, unwind ranges), tracer/event.h
 * (backtrace record), tracer/ir.h (depth limit).
 *
 * The unwinder. Tables (filled by gs_loader_set_unwind, loader.c):
 *   gs_uw_ranges  ARRAY of struct gs_codegen_uw_range (tracer/codegen.h): runtime
 *                 [start, end) of a module's code, its bias (runtime - vaddr), and
 *                 where its entries and rows start in the two global arrays; end 0
 *                 ends the list.
 *   gs_uw_ents    ARRAY of struct gs_cfi_entry (shared/index.h), each module's slice
 *                 sorted by pc (module vaddrs), gaps as row UINT32_MAX.
 *   gs_uw_rows    ARRAY of struct gs_cfi_row (shared/index.h), module-local row
 *                 indices offset by the range's row_off.
 * One bpf_loop iteration per frame: record the pc, find its module by a linear scan
 * of the ranges, its entry by a bounded binary search, compute the CFA from rsp or
 * rbp, read the return address (and rbp when saved), step. bpf_loop keeps the
 * verifier's work independent of the depth (the callback is verified on its own),
 * where a plain 128-iteration loop around a binary search would not be.
 */

#include "shared/index.h"
#include "tracer/codegen.h"
#include "tracer/event.h"
#include "tracer/ir.h"

#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) __typeof__(val) *name

/* uapi values: <linux/bpf.h> needs <asm/types.h>, which the BPF target lacks. */
enum {
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_FUNC_map_lookup_elem = 1,
	BPF_FUNC_probe_read_user = 112,
	BPF_FUNC_loop = 181,
};

static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)BPF_FUNC_map_lookup_elem;
static long (*bpf_probe_read_user)(void *dst, uint32_t size, const void *src) =
	(void *)BPF_FUNC_probe_read_user;
static long (*bpf_loop)(uint32_t nr, void *cb, void *ctx, uint64_t flags) = (void *)BPF_FUNC_loop;

enum {
	UW_SEARCH_STEPS = 24,	/* binary search steps: 16M entries per module */
	UW_MAX_FRAMES = GS_IR_BT_MAX,
	DWARF_RBP = 6,
	DWARF_RSP = 7,
};
_Static_assert((UW_MAX_FRAMES & (UW_MAX_FRAMES - 1)) == 0, "pc stores are masked");

/* The maps' names are GS_CODEGEN_MAP_UW_*; rows and entries are sized by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GS_CODEGEN_UW_MAX_RANGES);
	__type(key, uint32_t);
	__type(value, struct gs_codegen_uw_range);
} gs_uw_ranges SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, uint32_t);
	__type(value, struct gs_cfi_row);
} gs_uw_rows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, uint32_t);
	__type(value, struct gs_cfi_entry);
} gs_uw_ents SEC(".maps");

struct uw_state {
	uint64_t *out;		/* slot data: [0] the gs_bt_hdr, [1..max] the pcs */
	uint64_t pc, sp, bp;
	uint64_t n, max;	/* frames recorded, requested depth */
	uint64_t status;	/* enum gs_bt_status */
	uint64_t bp_ok;		/* bp holds this frame's rbp */
};

/* The range holding @pc, or NULL. */
static struct gs_codegen_uw_range *uw_find_range(uint64_t pc)
{
	for (uint32_t i = 0; i < GS_CODEGEN_UW_MAX_RANGES; i++) {
		uint32_t key = i;
		struct gs_codegen_uw_range *r = bpf_map_lookup_elem(&gs_uw_ranges, &key);

		if (!r || !r->end)
			return 0;
		if (pc >= r->start && pc < r->end)
			return r;
	}
	return 0;
}

/* The row in effect at module vaddr @pc of range @r, or NULL (gap, no entry). */
static struct gs_cfi_row *uw_find_row(struct gs_codegen_uw_range *r, uint64_t pc)
{
	uint32_t lo = 0, hi = r->ent_cnt, off = r->ent_off, row_off = r->row_off, key;
	struct gs_cfi_entry *e;

	/* first entry with pc > @pc; 24 steps cover 16M entries */
	for (int i = 0; i < UW_SEARCH_STEPS && lo < hi; i++) {
		uint32_t mid = lo + (hi - lo) / 2;

		key = off + mid;
		e = bpf_map_lookup_elem(&gs_uw_ents, &key);
		if (!e)
			return 0;
		if (e->pc <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || lo < hi)
		return 0;
	key = off + lo - 1;
	e = bpf_map_lookup_elem(&gs_uw_ents, &key);
	if (!e || e->row == 0xffffffffu)
		return 0;
	key = row_off + e->row;
	return bpf_map_lookup_elem(&gs_uw_rows, &key);
}

/*
 * Frame @idx; returns 1 to stop the loop with st->status set. The frame number is the
 * loop index, which the verifier sees as unknown, and the pc store is masked to the
 * 128 slots the layout reserves room for (the loop runs at most max <= 128 times): a
 * counter kept in st would be an exact constant in every iteration, so the verifier
 * could never find two iterations alike and would walk all 128.
 */
static long uw_step(uint32_t idx, void *arg)
{
	struct uw_state *st = arg;
	uint64_t pc = st->pc, cfa, ra = 0, bp = 0;
	struct gs_codegen_uw_range *r;
	struct gs_cfi_row *row;

	st->out[1 + (idx & (UW_MAX_FRAMES - 1))] = pc;
	st->n = idx + 1;
	/* A return address may follow a call that ends its function: look up pc - 1. */
	if (idx)
		pc -= 1;
	r = uw_find_range(pc);
	if (!r) {
		uint32_t key = 0;
		struct gs_codegen_uw_range *r0 = bpf_map_lookup_elem(&gs_uw_ranges, &key);

		st->status = r0 && r0->end ? GS_BT_NO_CFI : GS_BT_NO_TABLES;
		return 1;
	}
	row = uw_find_row(r, pc - r->bias);
	if (!row) {
		st->status = GS_BT_NO_CFI;
		return 1;
	}
	if (row->cfa_rule != GS_CFI_CFA_REG || (row->cfa_reg != DWARF_RSP &&
					     (row->cfa_reg != DWARF_RBP || !st->bp_ok))) {
		st->status = GS_BT_UNSUPPORTED;
		return 1;
	}
	cfa = (row->cfa_reg == DWARF_RSP ? st->sp : st->bp) + (int64_t)row->cfa_off;
	if (row->ra_rule == GS_CFI_UNDEFINED) {
		st->status = GS_BT_COMPLETE;	/* the outermost frame */
		return 1;
	}
	if (row->ra_rule != GS_CFI_OFFSET) {
		st->status = GS_BT_UNSUPPORTED;
		return 1;
	}
	if (bpf_probe_read_user(&ra, 8, (void *)(cfa + (int64_t)row->ra_off))) {
		st->status = GS_BT_READ_ERROR;
		return 1;
	}
	switch (row->rbp_rule) {
	case GS_CFI_SAME:
		break;
	case GS_CFI_OFFSET:
		if (bpf_probe_read_user(&bp, 8, (void *)(cfa + (int64_t)row->rbp_off)))
			st->bp_ok = 0;
		else
			st->bp = bp;
		break;
	case GS_CFI_VAL_OFFSET:
		st->bp = cfa + (int64_t)row->rbp_off;
		break;
	default:
		st->bp_ok = 0;	/* only fatal if a caller's CFA needs it */
		break;
	}
	if (!ra) {
		st->status = GS_BT_COMPLETE;
		return 1;
	}
	st->pc = ra;
	st->sp = cfa;
	if (idx + 1 >= st->max) {
		st->status = GS_BT_TRUNCATED;
		return 1;
	}
	return 0;
}

/*
 * Unwinds from (@ip, @sp, @bp) into @out (struct gs_bt_hdr, then up to @max pcs);
 * returns the number of frames. Inlined into every program that has a
 * GS_IR_S_BACKTRACE; @max is 1..128 and @out has room for 128 pcs whatever @max.
 */
uint64_t gs_bt_unwind(uint64_t *out, uint64_t ip, uint64_t sp, uint64_t bp, uint64_t max);

uint64_t gs_bt_unwind(uint64_t *out, uint64_t ip, uint64_t sp, uint64_t bp, uint64_t max)
{
	struct uw_state st = { .out = out, .pc = ip, .sp = sp, .bp = bp, .max = max,
			       .status = GS_BT_TRUNCATED, .bp_ok = 1 };

	bpf_loop(max, uw_step, &st, 0);
	out[0] = (st.n & 0xffffffffu) | (st.status << 32);
	return st.n;
}

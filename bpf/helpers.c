// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * BPF-side helpers written in C, compiled by clang-16 at build time to LLVM bitcode
 * (build/bpf/helpers.bc), embedded in the tracer and linked into generated modules
 * that need them (codegen.c, LLVMLinkModules2): the CFI stack unwinder behind
 * GS_IR_S_BACKTRACE and the module bias lookup behind GS_IR_MOD_BIAS.
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

/*
 * Not `used`: a generated module that links these helpers but calls only one of them
 * makes the other's maps internal, and O2 drops them with it (codegen.c). They are
 * not static because libbpf 1.1 refuses static maps.
 */
#define SEC(name) __attribute__((section(name)))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) __typeof__(val) *name

/* uapi values: <linux/bpf.h> needs <asm/types.h>, which the BPF target lacks. */
enum {
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_LRU_HASH = 9,
	BPF_FUNC_map_lookup_elem = 1,
	BPF_FUNC_map_update_elem = 2,
	BPF_FUNC_get_current_pid_tgid = 14,
	BPF_FUNC_get_current_task = 35,
	BPF_FUNC_probe_read_user = 112,
	BPF_FUNC_probe_read_kernel = 113,
	BPF_FUNC_loop = 181,
};

static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)BPF_FUNC_map_lookup_elem;
static long (*bpf_map_update_elem)(void *map, const void *key, const void *value, uint64_t flags) =
	(void *)BPF_FUNC_map_update_elem;
static uint64_t (*bpf_get_current_pid_tgid)(void) = (void *)BPF_FUNC_get_current_pid_tgid;
static uint64_t (*bpf_get_current_task)(void) = (void *)BPF_FUNC_get_current_task;
static long (*bpf_probe_read_user)(void *dst, uint32_t size, const void *src) =
	(void *)BPF_FUNC_probe_read_user;
static long (*bpf_probe_read_kernel)(void *dst, uint32_t size, const void *src) =
	(void *)BPF_FUNC_probe_read_kernel;
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

/*
 * Module biases (GS_IR_MOD_BIAS). In -t mode a probe knows its own module's bias
 * (ctx->ip - probe vaddr) but not where the process mapped its other modules. The
 * dynamic loader's list says it, through public ABI only (<link.h>, <elf.h>):
 *
 *   mm_struct.saved_auxv   AT_PHDR, AT_PHNUM: the executable's program headers
 *   PT_PHDR, PT_DYNAMIC    executable bias = AT_PHDR - PT_PHDR.p_vaddr; its _DYNAMIC
 *   DT_DEBUG               struct r_debug *, which ld.so stores there at start-up
 *   r_debug.r_map          struct link_map list: l_addr (bias), l_ld (runtime
 *                          _DYNAMIC), l_next at offsets 0, 16, 24
 *
 * The wanted module is the entry with l_ld - l_addr == its PT_DYNAMIC vaddr and, in
 * memory, the first 8 bytes of its GNU build-id where its ELF has them (the planner
 * reads both from the module's file; another module may have the same PT_DYNAMIC
 * vaddr, a rebuilt one the same layout, but not the same build-id). Each loop is a bpf_loop, so the
 * verifier checks one iteration. The result is cached under (tgid, dynamic vaddr)
 * with the process's mm_struct and its leader's start time, which an exec or a
 * reused pid changes; misses are not cached, so a module dlopen'ed later is found.
 * The kernel offsets come from gs_modcfg (the loader reads them from the BTF).
 * Rejected: filling a table from /proc/PID/maps in user space, which cannot see
 * processes that start after the tracer attached.
 */
enum {
	AT_NULL = 0, AT_PHDR = 3, AT_PHNUM = 5,
	PT_DYNAMIC = 2, PT_PHDR = 6,
	DT_NULL = 0, DT_DEBUG = 21,
	MB_AUXV_MAX = 64,	/* mm_struct.saved_auxv has AT_VECTOR_SIZE (<= 64) words */
	MB_PHDR_MAX = 64,
	MB_DYN_MAX = 512,
	MB_LINK_MAX = 1024,	/* loaded modules walked */
	MB_CACHE = 4096,
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, uint32_t);
	__type(value, struct gs_ir_modcfg);
} gs_modcfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MB_CACHE);
	__type(key, struct gs_ir_modkey);
	__type(value, struct gs_ir_modval);
} gs_modbias SEC(".maps");

struct mb_state {
	uint64_t base;		/* what the current loop scans */
	uint64_t n;		/* AT_PHNUM, for the program header loop */
	uint64_t want;		/* the module's PT_DYNAMIC vaddr */
	uint64_t a, b;		/* results: AT_PHDR/PT_PHDR/r_debug/bias, AT_PHNUM/PT_DYNAMIC */
	uint64_t found;		/* bit 0: a, bit 1: b */
	uint64_t fault;		/* address of a failed read */
	uint64_t failed;
	uint64_t id_vaddr, id_word; /* the module's build-id start, when id_vaddr != 0 */
};

static long mb_auxv(uint32_t idx, void *arg)
{
	struct mb_state *st = arg;
	uint64_t av[2];
	uint64_t at = st->base + 16 * (uint64_t)idx;

	if (bpf_probe_read_kernel(av, sizeof(av), (void *)at)) {
		st->fault = at;
		st->failed = 1;
		return 1;
	}
	if (av[0] == AT_NULL)
		return 1;
	if (av[0] == AT_PHDR) {
		st->a = av[1];
		st->found |= 1;
	} else if (av[0] == AT_PHNUM) {
		st->b = av[1];
		st->found |= 2;
	}
	return 0;
}

/* Elf64_Phdr: p_type at 0, p_vaddr at 16, 56 bytes each. */
static long mb_phdr(uint32_t idx, void *arg)
{
	struct mb_state *st = arg;
	uint64_t ph[3];
	uint64_t at = st->base + 56 * (uint64_t)idx;

	if (idx >= st->n)
		return 1;
	if (bpf_probe_read_user(ph, sizeof(ph), (void *)at)) {
		st->fault = at;
		st->failed = 1;
		return 1;
	}
	if ((uint32_t)ph[0] == PT_PHDR) {
		st->a = ph[2];
		st->found |= 1;
	} else if ((uint32_t)ph[0] == PT_DYNAMIC) {
		st->b = ph[2];
		st->found |= 2;
	}
	return 0;
}

static long mb_dyn(uint32_t idx, void *arg)
{
	struct mb_state *st = arg;
	uint64_t d[2];
	uint64_t at = st->base + 16 * (uint64_t)idx;

	if (bpf_probe_read_user(d, sizeof(d), (void *)at)) {
		st->fault = at;
		st->failed = 1;
		return 1;
	}
	if (d[0] == DT_NULL)
		return 1;
	if (d[0] == DT_DEBUG) {
		st->a = d[1];
		st->found |= 1;
		return 1;
	}
	return 0;
}

static long mb_link(uint32_t idx, void *arg)
{
	struct mb_state *st = arg;
	uint64_t lm[4];		/* l_addr, l_name, l_ld, l_next */

	(void)idx;
	if (!st->base)
		return 1;
	if (bpf_probe_read_user(lm, sizeof(lm), (void *)st->base)) {
		st->fault = st->base;
		st->failed = 1;
		return 1;
	}
	if (lm[2] - lm[0] == st->want) {
		uint64_t id = 0;

		/* the same dynamic vaddr in another module: its build-id tells them apart */
		if (!st->id_vaddr ||
		    (!bpf_probe_read_user(&id, 8, (void *)(lm[0] + st->id_vaddr)) && id == st->id_word)) {
			st->a = lm[0];
			st->found |= 1;
			return 1;
		}
	}
	st->base = lm[3];
	return 0;
}

/*
 * The walk for @st->want (and @st->id_*); 0 with the bias in *@out, or 1 with the
 * address to report in *@out.
 */
static uint64_t mb_walk(struct mb_state *st, uint64_t mm, const struct gs_ir_modcfg *cfg,
			uint64_t *out)
{
	uint64_t exe_bias, rdebug;

	st->base = mm + cfg->mm_auxv;
	bpf_loop(MB_AUXV_MAX, mb_auxv, st, 0);
	if (st->failed || st->found != 3 || !st->a)
		goto fail;
	st->base = st->a;
	st->n = st->b;
	st->found = 0;
	bpf_loop(MB_PHDR_MAX, mb_phdr, st, 0);
	if (st->failed || st->found != 3)
		goto fail;
	exe_bias = st->base - st->a;
	st->base = exe_bias + st->b;
	st->found = 0;
	bpf_loop(MB_DYN_MAX, mb_dyn, st, 0);
	if (st->failed || !st->found || !st->a)	/* r_debug not set up yet: before ld.so ran */
		goto fail;
	rdebug = st->a;
	if (bpf_probe_read_user(&st->base, 8, (void *)(rdebug + 8))) {
		st->fault = rdebug + 8;
		st->failed = 1;
		goto fail;
	}
	st->found = 0;
	bpf_loop(MB_LINK_MAX, mb_link, st, 0);
	if (st->failed || !st->found)
		goto fail;
	*out = st->a;
	return 0;
fail:
	*out = st->failed ? st->fault : st->want;
	return 1;
}

/*
 * The load bias of the module whose PT_DYNAMIC is at @dyn_vaddr (and, with @id_vaddr,
 * whose 8 bytes at @id_vaddr are @id_word) in the current process: 0 with the bias
 * in *@out, or 1 with the address whose read failed (or @dyn_vaddr when no loaded
 * module matches) in *@out. Called by programs with a GS_IR_MOD_BIAS (codegen.c).
 */
uint64_t gs_mod_bias(uint64_t dyn_vaddr, uint64_t id_vaddr, uint64_t id_word, uint64_t *out);

uint64_t gs_mod_bias(uint64_t dyn_vaddr, uint64_t id_vaddr, uint64_t id_word, uint64_t *out)
{
	struct gs_ir_modkey key = { .tgid = bpf_get_current_pid_tgid() >> 32, .dyn_vaddr = dyn_vaddr,
				    .id_word = id_word };
	struct gs_ir_modval val = { 0 }, *hit;
	struct mb_state st = { .want = dyn_vaddr, .id_vaddr = id_vaddr, .id_word = id_word };
	struct gs_ir_modcfg *cfg;
	uint64_t task = bpf_get_current_task(), leader = 0, at;
	uint32_t zero = 0;

	cfg = bpf_map_lookup_elem(&gs_modcfg, &zero);
	if (!cfg || !cfg->task_mm || !cfg->mm_auxv) {
		*out = dyn_vaddr;
		return 1;
	}
	at = task + cfg->task_mm;
	if (bpf_probe_read_kernel(&val.mm, 8, (void *)at) || !val.mm)
		goto fail;
	at = task + cfg->task_leader;
	if (bpf_probe_read_kernel(&leader, 8, (void *)at))
		goto fail;
	at = leader + cfg->task_start;
	if (bpf_probe_read_kernel(&val.start, 8, (void *)at))
		goto fail;
	hit = bpf_map_lookup_elem(&gs_modbias, &key);
	if (hit && hit->mm == val.mm && hit->start == val.start) {
		*out = hit->bias;
		return 0;
	}
	if (mb_walk(&st, val.mm, cfg, out))
		return 1;
	val.bias = *out;
	bpf_map_update_elem(&gs_modbias, &key, &val, 0);
	return 0;
fail:
	*out = at;
	return 1;
}

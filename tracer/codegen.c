// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Probe IR -> LLVM IR -> BPF ELF object, through the LLVM C API.
 *
 * Design. Every IR program becomes one function `int gs_pN(struct pt_regs *ctx)` in
 * one module (or, merged, an always-inline body gs_bN that an entry program gs_pM
 * calls by the attach cookie's high 32 bits: cg_merged); the module also defines the
 * BTF-style maps (.maps section, described with DIBuilder exactly as clang describes
 * `struct { __uint(type, ...); ... }`, because libbpf 1.1 only accepts BTF-defined
 * maps) and the license. The function:
 *
 *   cookie = bpf_get_attach_cookie(ctx)            the trace id (low 32 bits)
 *   [pid filter: return unless host tgid matches]
 *   [body is one `if` without else: return unless its condition holds or fails]
 *   ring = gs_events[this CPU]                     per-CPU rings (rings.h)
 *   ev = bpf_ringbuf_reserve(ring, SIZE, 0)        SIZE constant, from the layout
 *   if (!ring || !ev) { gs_lost[trace id] += 1; return 0; }
 *   header; every slot's record header = 0
 *   statements, each writing its slot at a constant offset
 *   bpf_ringbuf_submit(ev, unconsumed data crossed a multiple of wakeup_bytes ?
 *                          FORCE_WAKEUP : NO_WAKEUP)
 *
 * Why this shape: the ring buffer record is written in place (no 512-byte stack
 * limit, no copy), the size is a constant the verifier accepts, and fixed offsets
 * keep every store verifier-trivial. The renderer finds records with
 * gs_codegen_layout(), which is the same function the emitter uses.
 *
 * Values are i64 SSA values; the error state (a flag and the first faulting address)
 * lives in two allocas that mem2reg turns into phis. Loads, MEMEQ and STREQ read user
 * memory into a small shared stack scratch with bpf_probe_read_user(_str); once a
 * statement has failed a read, later loads of that statement are skipped (yield 0),
 * so the first faulting address is the one reported.
 *
 * Return probes: S_SAVE in an entry program stores values in a hash keyed by
 * (tid, save key, CFA of the call); a return program, whose stack pointer is that CFA
 * once the call has returned, looks the save up once before reserving and deletes it
 * on every exit. Frame-keyed saves (S_SAVE with
 * a frame expression) go to another LRU hash keyed by (tid, save key, frame) and are
 * read in place by GS_IR_SAVED_FRAME from any program. GS_IR_SP_TP reads the task's
 * thread.fsbase at an offset the loader puts in gs_cfg. S_BACKTRACE calls the CFI
 * unwinder of bpf/helpers.c, compiled to bitcode at build time and linked into the
 * module (LLVMLinkModules2) only when some program needs it; GS_IR_MOD_BIAS calls
 * its module bias lookup the same way. GS_IR_TLS_BLOCK is plain loads through the
 * thread pointer (the DTV).
 *
 * Rejected: building the event on the stack and bpf_ringbuf_output() (512-byte stack,
 * an extra copy); variable-offset packing (every store would need bounds proofs);
 * legacy "maps" section definitions (gone in libbpf 1.0).
 *
 * LLVM pitfalls handled here (DESIGN.md): every function has a DISubprogram (the
 * asm printer crashes otherwise once the module has debug info), the ctx parameter
 * is a named DILocalVariable (unnamed BTF params make the kernel reject the BTF),
 * functions are nounwind (else .eh_frame), and a diagnostic handler collects backend
 * errors, which by default would exit the process.
 *
 * Expression lowering is in codegen_expr.c; codegen_internal.h holds what the two
 * files share (struct cg and the small IR helpers).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include <linux/bpf.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/BitReader.h>
#include <llvm-c/Core.h>
#include <llvm-c/DebugInfo.h>
#include <llvm-c/Linker.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include "tracer/codegen.h"
#include "tracer/codegen_internal.h"
#include "tracer/codegen_lib.h"
#include "tracer/event.h"

/* struct pt_regs (x86-64 uapi) offsets of DWARF registers 0..16. */
static const uint16_t dwarf_reg_off[17] = {
	80,	/* rax */	96,	/* rdx */	88,	/* rcx */	40,	/* rbx */
	104,	/* rsi */	112,	/* rdi */	32,	/* rbp */	152,	/* rsp */
	72,	/* r8 */	64,	/* r9 */	56,	/* r10 */	48,	/* r11 */
	24,	/* r12 */	16,	/* r13 */	8,	/* r14 */	0,	/* r15 */
	128,	/* rip */
};
enum { NULL_PAGE = 4096 };

/* The save maps' key and value (codegen.h): {tid, key, frame}, {failed mask, vals}. */
enum { SAVE_KEY_BYTES = 16, SAVE_VAL_BYTES = 8 + 8 * GS_IR_SAVE_MAX };

/* ---- failures ------------------------------------------------------------------- */

int gs_cg_fail(struct cg *g, int ret, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (g->failed)
		return g->failed;
	g->failed = ret;
	if (!g->err || !g->errlen)
		return ret;
	if (g->fn)
		n = snprintf(g->err, g->errlen, "program %zu: ", g->prog_idx);
	if (n < 0 || (size_t)n >= g->errlen)
		return ret;
	va_start(ap, fmt);
	vsnprintf(g->err + n, g->errlen - n, fmt, ap);
	va_end(ap);
	return ret;
}

static void cg_diag_handler(LLVMDiagnosticInfoRef di, void *arg)
{
	struct cg *g = arg;
	char *desc;

	if (LLVMGetDiagInfoSeverity(di) != LLVMDSError)
		return;
	desc = LLVMGetDiagInfoDescription(di);
	if (!g->diag[0])
		snprintf(g->diag, sizeof(g->diag), "%s", desc);
	LLVMDisposeMessage(desc);
}

/* ---- BTF-defined maps ------------------------------------------------------------ */

/* `int (*name)[val]`, the member clang's __uint(name, val) declares. */
static LLVMMetadataRef di_uint_member(struct cg *g, const char *name, uint32_t val, unsigned idx)
{
	LLVMMetadataRef sub = LLVMDIBuilderGetOrCreateSubrange(g->di, 0, val);
	LLVMMetadataRef arr = LLVMDIBuilderCreateArrayType(g->di, (uint64_t)val * 32, 32,
							   g->di_int, &sub, 1);
	LLVMMetadataRef p = LLVMDIBuilderCreatePointerType(g->di, arr, 64, 64, 0, NULL, 0);

	return LLVMDIBuilderCreateMemberType(g->di, g->di_file, name, strlen(name), g->di_file,
					     0, 64, 64, idx * 64, 0, p);
}

/* `T *name`, the member clang's __type(name, T) declares. */
static LLVMMetadataRef di_type_member(struct cg *g, const char *name, LLVMMetadataRef t,
				      unsigned idx)
{
	LLVMMetadataRef p = LLVMDIBuilderCreatePointerType(g->di, t, 64, 64, 0, NULL, 0);

	return LLVMDIBuilderCreateMemberType(g->di, g->di_file, name, strlen(name), g->di_file,
					     0, 64, 64, idx * 64, 0, p);
}

/* A BTF type of @bytes: u32, u64, or an array of u64 (keys and values are opaque). */
static LLVMMetadataRef di_bytes_type(struct cg *g, uint32_t bytes)
{
	LLVMMetadataRef u64 = LLVMDIBuilderCreateBasicType(g->di, "unsigned long long", 18, 64,
							   0x08 /* DW_ATE_unsigned */, 0);
	LLVMMetadataRef sub;

	if (bytes == 4)
		return LLVMDIBuilderCreateBasicType(g->di, "unsigned int", 12, 32, 0x08, 0);
	if (bytes == 8)
		return u64;
	sub = LLVMDIBuilderGetOrCreateSubrange(g->di, 0, bytes / 8);
	return LLVMDIBuilderCreateArrayType(g->di, (uint64_t)bytes * 8, 64, u64, &sub, 1);
}

/* A BTF-defined map; key_bytes 0 (ring buffer) declares neither key nor value. */
static LLVMValueRef cg_map(struct cg *g, const char *name, uint32_t type, uint32_t max_entries,
			   uint32_t key_bytes, uint32_t value_bytes)
{
	LLVMMetadataRef members[4], st, expr, gve;
	LLVMTypeRef fields[4];
	unsigned n = 0;
	LLVMTypeRef lt;
	LLVMValueRef gv;

	members[n++] = di_uint_member(g, "type", type, 0);
	members[n++] = di_uint_member(g, "max_entries", max_entries, 1);
	if (key_bytes) {
		members[n++] = di_type_member(g, "key", di_bytes_type(g, key_bytes), 2);
		members[n++] = di_type_member(g, "value", di_bytes_type(g, value_bytes), 3);
	}
	st = LLVMDIBuilderCreateStructType(g->di, g->di_file, "", 0, g->di_file, 0, n * 64, 64,
					   0, NULL, members, n, 0, NULL, NULL, 0);
	for (unsigned i = 0; i < n; i++)
		fields[i] = g->ptr;
	lt = LLVMStructTypeInContext(g->ctx, fields, n, false);
	gv = LLVMAddGlobal(g->mod, lt, name);
	LLVMSetInitializer(gv, LLVMConstNull(lt));
	LLVMSetSection(gv, ".maps");
	LLVMSetAlignment(gv, 8);
	expr = LLVMDIBuilderCreateExpression(g->di, NULL, 0);
	gve = LLVMDIBuilderCreateGlobalVariableExpression(g->di, g->di_cu, name, strlen(name),
							  name, strlen(name), g->di_file, 0, st,
							  false, expr, NULL, 64);
	LLVMGlobalSetMetadata(gv, LLVMGetMDKindIDInContext(g->ctx, "dbg", 3), gve);
	return gv;
}

/*
 * gs_cfg: the per-run settings (codegen.h), alone in its section, with debug info so
 * that the object's BTF describes it like a clang-built `const volatile` global.
 */
static void cg_cfg_global(struct cg *g)
{
	static const char *const names[CFG_NFIELDS] = {
		"pidns_dev", "pidns_ino", "pid_filter", "filter_tgid", "wakeup_bytes", "fsbase_off",
		"utask_off", "utask_depth_off",
	};
	LLVMTypeRef fields[CFG_NFIELDS] = { g->i64, g->i64, g->i32, g->i32, g->i32, g->i32,
					    g->i32, g->i32 };
	LLVMValueRef init[CFG_NFIELDS] = {
		c64(g, g->cfg0.pidns_dev), c64(g, g->cfg0.pidns_ino),
		LLVMConstInt(g->i32, g->cfg0.pid_filter, false),
		LLVMConstInt(g->i32, g->cfg0.filter_tgid, false),
		LLVMConstInt(g->i32, g->cfg0.wakeup_bytes, false),
		LLVMConstInt(g->i32, g->cfg0.fsbase_off, false),
		LLVMConstInt(g->i32, g->cfg0.utask_off, false),
		LLVMConstInt(g->i32, g->cfg0.utask_depth_off, false),
	};
	LLVMMetadataRef members[CFG_NFIELDS], u64, u32, st, cst, expr, gve;
	unsigned off = 0;

	/* no padding: the BTF below describes the same bytes, member by member */
	_Static_assert(sizeof(struct gs_codegen_cfg) == 40, "gs_cfg layout");
	g->cfg_ty = LLVMStructTypeInContext(g->ctx, fields, CFG_NFIELDS, false);
	g->cfg = LLVMAddGlobal(g->mod, g->cfg_ty, GS_CODEGEN_CFG_VAR);
	LLVMSetInitializer(g->cfg, LLVMConstNamedStruct(g->cfg_ty, init, CFG_NFIELDS));
	LLVMSetGlobalConstant(g->cfg, true);
	LLVMSetSection(g->cfg, GS_CODEGEN_CFG_SEC);
	LLVMSetAlignment(g->cfg, 8);
	u64 = LLVMDIBuilderCreateBasicType(g->di, "unsigned long long", 18, 64, 0x08, 0);
	u32 = LLVMDIBuilderCreateBasicType(g->di, "unsigned int", 12, 32, 0x08, 0);
	for (unsigned i = 0; i < CFG_NFIELDS; i++) {
		unsigned bits = i < CFG_PID_FILTER ? 64 : 32;

		members[i] = LLVMDIBuilderCreateMemberType(g->di, g->di_file, names[i],
							   strlen(names[i]), g->di_file, 0, bits,
							   bits, off, 0, bits == 64 ? u64 : u32);
		off += bits;
	}
	st = LLVMDIBuilderCreateStructType(g->di, g->di_file, "gs_codegen_cfg", 14, g->di_file, 0,
					   off, 64, 0, NULL, members, CFG_NFIELDS, 0, NULL, NULL, 0);
	cst = LLVMDIBuilderCreateQualifiedType(g->di, 0x26 /* DW_TAG_const_type */,
					       LLVMDIBuilderCreateQualifiedType(g->di,
						       0x35 /* DW_TAG_volatile_type */, st));
	expr = LLVMDIBuilderCreateExpression(g->di, NULL, 0);
	gve = LLVMDIBuilderCreateGlobalVariableExpression(g->di, g->di_cu, GS_CODEGEN_CFG_VAR, 6,
							  GS_CODEGEN_CFG_VAR, 6, g->di_file, 0, cst,
							  false, expr, NULL, 64);
	LLVMGlobalSetMetadata(g->cfg, LLVMGetMDKindIDInContext(g->ctx, "dbg", 3), gve);
}

/* A per-run setting, as an i64: a volatile load, so LLVM never folds the default. */
LLVMValueRef gs_cg_cfg(struct cg *g, unsigned field)
{
	LLVMValueRef p = LLVMBuildStructGEP2(g->b, g->cfg_ty, g->cfg, field, "");
	bool wide = field < CFG_PID_FILTER;
	LLVMValueRef v = LLVMBuildLoad2(g->b, wide ? g->i64 : g->i32, p, "");

	LLVMSetVolatile(v, true);
	LLVMSetAlignment(v, wide ? 8 : 4);
	return wide ? v : LLVMBuildZExt(g->b, v, g->i64, "");
}

static void cg_module_globals(struct cg *g)
{
	uint32_t entries = g->o->max_trace_id + 1;
	LLVMValueRef lic;

	/* the rings (rings.h) are made and sized by the loader, which adopts this map */
	g->map_events = cg_map(g, GS_CODEGEN_MAP_EVENTS, BPF_MAP_TYPE_ARRAY_OF_MAPS, 1, 4, 4);
	g->map_lost = cg_map(g, GS_CODEGEN_MAP_LOST, BPF_MAP_TYPE_PERCPU_ARRAY, entries, 4, 8);
	g->map_vaddr = cg_map(g, GS_CODEGEN_MAP_VADDR, BPF_MAP_TYPE_ARRAY, entries, 4, 8);
	if (g->uses_save) {
		g->map_save = cg_map(g, GS_CODEGEN_MAP_SAVE, BPF_MAP_TYPE_LRU_HASH, GS_CODEGEN_SAVE_ENTRIES,
				     SAVE_KEY_BYTES, SAVE_VAL_BYTES);
	}
	if (g->uses_fsave)
		g->map_fsave = cg_map(g, GS_CODEGEN_MAP_FSAVE, BPF_MAP_TYPE_LRU_HASH,
				      GS_CODEGEN_SAVE_ENTRIES, SAVE_KEY_BYTES, SAVE_VAL_BYTES);
	if (g->uses_save || g->uses_fsave)
		g->map_scratch = cg_map(g, GS_CODEGEN_MAP_SCRATCH, BPF_MAP_TYPE_PERCPU_ARRAY, 1, 4,
					SAVE_VAL_BYTES);
	cg_cfg_global(g);
	lic = LLVMAddGlobal(g->mod, LLVMArrayType(g->i8, 4), "_license");
	LLVMSetInitializer(lic, LLVMConstStringInContext(g->ctx, "GPL", 3, false));
	LLVMSetSection(lic, "license");
	LLVMSetAlignment(lic, 1);
}

/* ---- small IR helpers --------------------------------------------------------------- */

/*
 * Helpers whose answer cannot change during one run of a program and that touch no
 * memory we can see: the attach cookie, the current task and its ids, the CPU (the
 * program runs with migration disabled).
 */
static bool helper_is_pure(enum bpf_func_id id)
{
	switch (id) {
	case BPF_FUNC_get_attach_cookie:
	case BPF_FUNC_get_current_pid_tgid:
	case BPF_FUNC_get_current_task:
	case BPF_FUNC_get_smp_processor_id:
		return true;
	default:
		return false;
	}
}

/*
 * Calls BPF helper @id: a call through inttoptr(id), how the backend spells helpers.
 * A pure helper's call is marked as one (memory(none), nounwind, willreturn), so that
 * LLVM merges repeated calls (the entry of merged bodies and the inlined body both ask
 * for the cookie) and drops unused ones (a body that reports nothing needs no pid).
 */
LLVMValueRef gs_cg_helper_t(struct cg *g, LLVMTypeRef ret, enum bpf_func_id id,
			    LLVMValueRef *args, unsigned nargs)
{
	static const char *const pure_attrs[] = { "memory", "nounwind", "willreturn" };
	LLVMTypeRef params[5];
	LLVMTypeRef fty;
	LLVMValueRef call;

	for (unsigned i = 0; i < nargs; i++)
		params[i] = LLVMTypeOf(args[i]);
	fty = LLVMFunctionType(ret, params, nargs, false);
	call = LLVMBuildCall2(g->b, fty, LLVMConstIntToPtr(c64(g, id), g->ptr), args, nargs, "");
	if (helper_is_pure(id)) {
		for (size_t i = 0; i < sizeof(pure_attrs) / sizeof(pure_attrs[0]); i++) {
			unsigned kind = LLVMGetEnumAttributeKindForName(pure_attrs[i],
									strlen(pure_attrs[i]));

			/* memory's value 0 is memory(none): no access to any location */
			if (kind)
				LLVMAddCallSiteAttribute(call, LLVMAttributeFunctionIndex,
							 LLVMCreateEnumAttribute(g->ctx, kind, 0));
		}
	}
	return call;
}

LLVMValueRef gs_cg_helper(struct cg *g, enum bpf_func_id id, LLVMValueRef *args,
			  unsigned nargs)
{
	return gs_cg_helper_t(g, g->i64, id, args, nargs);
}

static LLVMValueRef cg_alloca(struct cg *g, LLVMTypeRef t, const char *name)
{
	LLVMBasicBlockRef entry = LLVMGetEntryBasicBlock(g->fn);
	LLVMBuilderRef eb = LLVMCreateBuilderInContext(g->ctx);
	LLVMValueRef first = LLVMGetFirstInstruction(entry);
	LLVMValueRef a;

	if (first)
		LLVMPositionBuilderBefore(eb, first);
	else
		LLVMPositionBuilderAtEnd(eb, entry);
	a = LLVMBuildAlloca(eb, t, name);
	LLVMSetAlignment(a, 8);
	LLVMDisposeBuilder(eb);
	return a;
}

LLVMBasicBlockRef gs_cg_block(struct cg *g, const char *name)
{
	return LLVMAppendBasicBlockInContext(g->ctx, g->fn, name);
}

LLVMValueRef gs_cg_gep(struct cg *g, LLVMValueRef base, uint64_t off)
{
	LLVMValueRef idx = c64(g, off);

	return LLVMBuildGEP2(g->b, g->i8, base, &idx, 1, "");
}

/*
 * Registers are read once, in the entry block: a ctx load repeated in several blocks
 * lets LLVM share the computed address ctx+off in a register, and the verifier
 * refuses loads through a modified ctx pointer.
 */
static void cg_ctx_load_all(struct cg *g)
{
	for (unsigned r = 0; r < 17; r++)
		g->regv[r] = LLVMBuildLoad2(g->b, g->i64, gs_cg_gep(g, g->regs, dwarf_reg_off[r]), "");
}

LLVMValueRef gs_cg_reg(struct cg *g, unsigned dwarf_reg)
{
	return g->regv[dwarf_reg];
}

static void cg_store64(struct cg *g, uint32_t off, LLVMValueRef v)
{
	LLVMValueRef st = LLVMBuildStore(g->b, v, gs_cg_gep(g, g->ev, off));

	LLVMSetAlignment(st, 8);
}

static void cg_store32(struct cg *g, uint32_t off, LLVMValueRef v)
{
	LLVMValueRef st = LLVMBuildStore(g->b, LLVMBuildTrunc(g->b, v, g->i32, ""),
					 gs_cg_gep(g, g->ev, off));

	LLVMSetAlignment(st, 4);
}

/* A record header as one u64: id | status << 16 | len << 32 (event.h, little-endian). */
static LLVMValueRef cg_rec_hdr(struct cg *g, uint16_t id, LLVMValueRef status, LLVMValueRef len)
{
	LLVMValueRef v = c64(g, id);

	v = LLVMBuildOr(g->b, v, LLVMBuildShl(g->b, status, c64(g, 16), ""), "");
	return LLVMBuildOr(g->b, v, LLVMBuildShl(g->b, len, c64(g, 32), ""), "");
}

/* Status for a failed read at @addr: NULL_DEREF near NULL, else READ_ERROR. */
static LLVMValueRef cg_err_status(struct cg *g, LLVMValueRef addr)
{
	LLVMValueRef low = LLVMBuildICmp(g->b, LLVMIntULT, addr, c64(g, NULL_PAGE), "");

	return LLVMBuildSelect(g->b, low, c64(g, GS_REC_NULL_DEREF), c64(g, GS_REC_READ_ERROR), "");
}

/* Writes an error record (status from @addr, data = @addr) into slot @sl. */
static void cg_store_err_rec(struct cg *g, const struct gs_event_slot *sl, LLVMValueRef addr)
{
	cg_store64(g, sl->off, cg_rec_hdr(g, sl->id, cg_err_status(g, addr), c64(g, 8)));
	cg_store64(g, sl->off + 8, addr);
}

static LLVMValueRef cg_err_state_status(struct cg *g)
{
	LLVMValueRef f = LLVMBuildLoad2(g->b, g->i64, g->err_flag, "");
	LLVMValueRef addr = LLVMBuildLoad2(g->b, g->i64, g->err_addr, "");

	return LLVMBuildSelect(g->b, LLVMBuildICmp(g->b, LLVMIntEQ, f, c64(g, ERR_NOT_SAVED), ""),
			       c64(g, GS_REC_NOT_SAVED), cg_err_status(g, addr), "");
}

/* Writes the error record of the current error state into slot @sl. */
static void cg_store_err_state(struct cg *g, const struct gs_event_slot *sl)
{
	cg_store64(g, sl->off, cg_rec_hdr(g, sl->id, cg_err_state_status(g), c64(g, 8)));
	cg_store64(g, sl->off + 8, LLVMBuildLoad2(g->b, g->i64, g->err_addr, ""));
}

LLVMValueRef gs_cg_err_set(struct cg *g)
{
	LLVMValueRef f = LLVMBuildLoad2(g->b, g->i64, g->err_flag, "");

	return LLVMBuildICmp(g->b, LLVMIntNE, f, c64(g, 0), "");
}

static void cg_err_clear(struct cg *g)
{
	LLVMBuildStore(g->b, c64(g, 0), g->err_flag);
	LLVMBuildStore(g->b, c64(g, 0), g->err_addr);
}

/* Records a failure (ERR_*) at @addr unless an earlier one is already recorded. */
void gs_cg_err_raise_kind(struct cg *g, LLVMValueRef addr, unsigned kind)
{
	LLVMValueRef had = gs_cg_err_set(g);
	LLVMValueRef old = LLVMBuildLoad2(g->b, g->i64, g->err_addr, "");
	LLVMValueRef oldf = LLVMBuildLoad2(g->b, g->i64, g->err_flag, "");

	LLVMBuildStore(g->b, LLVMBuildSelect(g->b, had, old, addr, ""), g->err_addr);
	LLVMBuildStore(g->b, LLVMBuildSelect(g->b, had, oldf, c64(g, kind), ""), g->err_flag);
}

void gs_cg_err_raise(struct cg *g, LLVMValueRef addr)
{
	gs_cg_err_raise_kind(g, addr, ERR_READ);
}

/* Hides @v's value range from LLVM so a following mask survives for the verifier. */
static LLVMValueRef cg_opaque(struct cg *g, LLVMValueRef v)
{
	LLVMTypeRef fty = LLVMFunctionType(g->i64, &g->i64, 1, false);
	LLVMValueRef as = LLVMGetInlineAsm(fty, (char *)"", 0, (char *)"=r,0", 4, true, false,
					   LLVMInlineAsmDialectATT, false);

	return LLVMBuildCall2(g->b, fty, as, &v, 1, "");
}

/* ---- statements -------------------------------------------------------------------- */

static int cg_body(struct cg *g, const struct gs_ir_stmt *s);

static const struct gs_event_slot *cg_next_slot(struct cg *g)
{
	return &g->lo.slots[g->slot_next++];
}

static void cg_stmt_value(struct cg *g, const struct gs_ir_stmt *s, const struct gs_event_slot *sl)
{
	LLVMValueRef v, e, addr, status;

	cg_err_clear(g);
	v = gs_cg_expr(g, s->expr);
	if (!v)
		return;
	e = gs_cg_err_set(g);
	addr = LLVMBuildLoad2(g->b, g->i64, g->err_addr, "");
	status = LLVMBuildSelect(g->b, e, cg_err_state_status(g), c64(g, GS_REC_OK), "");
	cg_store64(g, sl->off, cg_rec_hdr(g, sl->id, status, c64(g, 8)));
	cg_store64(g, sl->off + 8, LLVMBuildSelect(g->b, e, addr, v, ""));
}

/* bpf_probe_read_user_str filled the slot; TRUNCATED when the string went on. */
static LLVMValueRef cg_str_status(struct cg *g, const struct gs_ir_stmt *s, LLVMValueRef addr,
				  LLVMValueRef r)
{
	LLVMBasicBlockRef from = LLVMGetInsertBlock(g->b);
	LLVMBasicBlockRef chk = gs_cg_block(g, "str.full"), join = gs_cg_block(g, "str.j");
	LLVMValueRef args[3], rr, byte, t, phi, vals[2];
	LLVMBasicBlockRef bbs[2];

	LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntEQ, r, c64(g, s->len), ""), chk, join);
	LLVMPositionBuilderAtEnd(g->b, chk);
	LLVMBuildStore(g->b, c64(g, 0), g->tmp);
	args[0] = g->tmp;
	args[1] = c64(g, 1);
	args[2] = LLVMBuildAdd(g->b, addr, c64(g, s->len - 1), "");
	rr = gs_cg_helper(g, BPF_FUNC_probe_read_user, args, 3);
	byte = LLVMBuildLoad2(g->b, g->i8, g->tmp, "");
	t = LLVMBuildAnd(g->b, LLVMBuildICmp(g->b, LLVMIntEQ, rr, c64(g, 0), ""),
			 LLVMBuildICmp(g->b, LLVMIntNE, byte, LLVMConstInt(g->i8, 0, false), ""), "");
	t = LLVMBuildSelect(g->b, t, c64(g, GS_REC_TRUNCATED), c64(g, GS_REC_OK), "");
	LLVMBuildBr(g->b, join);
	LLVMPositionBuilderAtEnd(g->b, join);
	phi = LLVMBuildPhi(g->b, g->i64, "");
	vals[0] = c64(g, GS_REC_OK); bbs[0] = from;
	vals[1] = t; bbs[1] = chk;
	LLVMAddIncoming(phi, vals, bbs, 2);
	return phi;
}

/* S_MEM, S_MEM_DYN, S_STR: read user memory straight into the slot's data. */
static void cg_stmt_read(struct cg *g, const struct gs_ir_stmt *s, const struct gs_event_slot *sl)
{
	LLVMBasicBlockRef bad = gs_cg_block(g, "rd.err"), chk = gs_cg_block(g, "rd.chk");
	LLVMBasicBlockRef null = gs_cg_block(g, "rd.null"), rd = gs_cg_block(g, "rd");
	LLVMBasicBlockRef rfail = gs_cg_block(g, "rd.fail"), ok = gs_cg_block(g, "rd.ok");
	LLVMBasicBlockRef done = gs_cg_block(g, "rd.done");
	LLVMValueRef a, n = NULL, args[3], r, status = c64(g, GS_REC_OK), len;

	cg_err_clear(g);
	a = gs_cg_expr(g, s->expr);
	if (a && s->kind == GS_IR_S_MEM_DYN)
		n = gs_cg_expr(g, s->len_expr);
	if (!a || (s->kind == GS_IR_S_MEM_DYN && !n))
		return;
	LLVMBuildCondBr(g->b, gs_cg_err_set(g), bad, chk);

	LLVMPositionBuilderAtEnd(g->b, bad);
	cg_store_err_state(g, sl);
	LLVMBuildBr(g->b, done);

	LLVMPositionBuilderAtEnd(g->b, chk);
	LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntULT, a, c64(g, NULL_PAGE), ""), null, rd);
	LLVMPositionBuilderAtEnd(g->b, null);
	cg_store_err_rec(g, sl, a);
	LLVMBuildBr(g->b, done);

	LLVMPositionBuilderAtEnd(g->b, rd);
	args[0] = gs_cg_gep(g, g->ev, sl->off + sizeof(struct gs_rec_hdr));
	args[1] = len = c64(g, s->len);
	args[2] = a;
	if (s->kind == GS_IR_S_MEM_DYN) {
		/*
		 * Clamp, then mask behind an optimisation barrier: LLVM would drop the mask
		 * as redundant, and the verifier may not connect the clamp's compare to the
		 * register it sees as the size. The layout reserves room up to the mask.
		 */
		LLVMValueRef tr = LLVMBuildICmp(g->b, LLVMIntUGT, n, len, "");

		n = LLVMBuildSelect(g->b, tr, len, n, "");
		n = LLVMBuildAnd(g->b, cg_opaque(g, n), c64(g, gs_cg_pow2_at_least(s->len + 1) - 1), "");
		status = LLVMBuildSelect(g->b, tr, c64(g, GS_REC_TRUNCATED), status, "");
		args[1] = len = n;
	}
	r = gs_cg_helper(g, s->kind == GS_IR_S_STR ? BPF_FUNC_probe_read_user_str :
			 BPF_FUNC_probe_read_user, args, 3);
	LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntSLT, r, c64(g, 0), ""), rfail, ok);
	LLVMPositionBuilderAtEnd(g->b, rfail);
	cg_store_err_rec(g, sl, a);
	LLVMBuildBr(g->b, done);

	LLVMPositionBuilderAtEnd(g->b, ok);
	if (s->kind == GS_IR_S_STR) {
		len = r;
		status = cg_str_status(g, s, a, r);
	}
	cg_store64(g, sl->off, cg_rec_hdr(g, sl->id, status, len));
	LLVMBuildBr(g->b, done);
	LLVMPositionBuilderAtEnd(g->b, done);
}

LLVMValueRef gs_cg_map_lookup(struct cg *g, LLVMValueRef map, LLVMValueRef key)
{
	LLVMValueRef args[2] = { map, key };

	return gs_cg_helper_t(g, g->ptr, BPF_FUNC_map_lookup_elem, args, 2);
}

/*
 * Evaluates the S_SAVE's values into @scratch: vals[i], or the faulting address with
 * bit i of the mask set. False when code generation failed.
 */
static bool cg_save_values(struct cg *g, const struct gs_ir_stmt *s, LLVMValueRef scratch)
{
	LLVMValueRef mask = c64(g, 0);

	for (uint32_t i = 0; i < s->nsave; i++) {
		LLVMValueRef v, e, addr;

		cg_err_clear(g);
		v = gs_cg_expr(g, s->save_exprs[i]);
		if (!v)
			return false;
		e = gs_cg_err_set(g);
		addr = LLVMBuildLoad2(g->b, g->i64, g->err_addr, "");
		LLVMBuildStore(g->b, LLVMBuildSelect(g->b, e, addr, v, ""),
			       gs_cg_gep(g, scratch, 8 + 8 * i));
		mask = LLVMBuildOr(g->b, mask, LLVMBuildShl(g->b, LLVMBuildZExt(g->b, e, g->i64, ""),
							    c64(g, i), ""), "");
	}
	LLVMBuildStore(g->b, mask, scratch);
	return true;
}

/*
 * Frame-keyed S_SAVE: the values go to gs_fsave under (tid, key, frame), replacing
 * the save of an earlier call with the same frame. Nothing consumes it, so no return
 * probe is needed. A frame whose evaluation fails saves nothing.
 */
static void cg_stmt_save_frame(struct cg *g, const struct gs_ir_stmt *s)
{
	LLVMBasicBlockRef have = gs_cg_block(g, "fsave"), store = gs_cg_block(g, "fsave.st");
	LLVMBasicBlockRef done = gs_cg_block(g, "fsave.done");
	LLVMValueRef scratch, frame, args[4];

	LLVMBuildStore(g->b, LLVMConstInt(g->i32, 0, false), g->key);
	scratch = gs_cg_map_lookup(g, g->map_scratch, g->key);
	LLVMBuildCondBr(g->b, LLVMBuildIsNull(g->b, scratch, ""), done, have);

	LLVMPositionBuilderAtEnd(g->b, have);
	cg_err_clear(g);
	frame = gs_cg_expr(g, s->frame);
	if (!frame)
		return;
	LLVMBuildCondBr(g->b, gs_cg_err_set(g), done, store);

	LLVMPositionBuilderAtEnd(g->b, store);
	if (!cg_save_values(g, s, scratch))
		return;
	gs_cg_save_key(g, g->fkey, c64(g, s->save_key), frame);
	args[0] = g->map_fsave;
	args[1] = g->fkey;
	args[2] = scratch;
	args[3] = c64(g, BPF_ANY);
	gs_cg_helper(g, BPF_FUNC_map_update_elem, args, 4);
	LLVMBuildBr(g->b, done);
	LLVMPositionBuilderAtEnd(g->b, done);
	cg_err_clear(g);
}

/*
 * Call-scoped S_SAVE (a return probe's entry side): the values go to gs_save under
 * (tid, key, CFA of this call). The CFA identifies the call: a recursive call has
 * another, and once the call returns the stack pointer is exactly that CFA, which is
 * how the return program finds it (cg_fn_saved_lookup). Before, a per-thread call
 * depth was the key; the kernel does not arm returns deeper than 64 pending calls,
 * so after deeper recursion that count never came back to 0 and every later call of
 * the thread read another call's save or none. A save whose return is never seen
 * (too deep, longjmp) stays until a call with the same frame replaces it, or its
 * thread has ended and the tracer's sweep removes it (gs_loader_sweep_saves).
 */
/*
 * GS_IR_SAVE_ARMED: branches to @skip when the kernel will not arm this call's return:
 * current->utask->depth, the thread's pending return probes, has reached
 * MAX_URETPROBE_DEPTH. Read before prepare_uretprobe() counts this call (the save is a
 * consumer of the same uprobe, whose handlers run first). Offsets from gs_cfg: 0 when
 * the kernel's BTF lacks them, and then no check.
 */
static void cg_save_armed_check(struct cg *g, LLVMBasicBlockRef skip)
{
	LLVMBasicBlockRef rd = gs_cg_block(g, "armed.rd"), ut = gs_cg_block(g, "armed.ut");
	LLVMBasicBlockRef go = gs_cg_block(g, "armed.go");
	LLVMValueRef task, r, utask, depth;

	LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntEQ, gs_cg_cfg(g, CFG_UTASK), c64(g, 0), ""),
			go, rd);
	LLVMPositionBuilderAtEnd(g->b, rd);
	task = gs_cg_helper(g, BPF_FUNC_get_current_task, NULL, 0);
	utask = gs_cg_read_kernel(g, LLVMBuildAdd(g->b, task, gs_cg_cfg(g, CFG_UTASK), ""), 8, NULL);
	/* no uprobe_task yet (or the read failed): nothing pending */
	LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntEQ, utask, c64(g, 0), ""), go, ut);
	LLVMPositionBuilderAtEnd(g->b, ut);
	depth = gs_cg_read_kernel(g, LLVMBuildAdd(g->b, utask, gs_cg_cfg(g, CFG_UTASK_DEPTH), ""), 4,
				  &r);
	depth = LLVMBuildAnd(g->b, depth, c64(g, 0xffffffff), "");
	LLVMBuildCondBr(g->b, LLVMBuildAnd(g->b, LLVMBuildICmp(g->b, LLVMIntEQ, r, c64(g, 0), ""),
					   LLVMBuildICmp(g->b, LLVMIntUGE, depth,
							 c64(g, GS_IR_URETPROBE_DEPTH), ""), ""),
			skip, go);
	LLVMPositionBuilderAtEnd(g->b, go);
}

static void cg_stmt_save(struct cg *g, const struct gs_ir_stmt *s)
{
	LLVMBasicBlockRef have = gs_cg_block(g, "save"), done = gs_cg_block(g, "save.done");
	LLVMValueRef scratch, cfa, args[4];

	if (s->len == GS_IR_SAVE_ARMED)
		cg_save_armed_check(g, done);
	LLVMBuildStore(g->b, LLVMConstInt(g->i32, 0, false), g->key);
	scratch = gs_cg_map_lookup(g, g->map_scratch, g->key);
	LLVMBuildCondBr(g->b, LLVMBuildIsNull(g->b, scratch, ""), done, have);

	LLVMPositionBuilderAtEnd(g->b, have);
	cfa = gs_cg_cfa(g);
	if (!cfa || !cg_save_values(g, s, scratch))
		return;
	gs_cg_save_key(g, g->skey, c64(g, s->save_key), cfa);
	args[0] = g->map_save;
	args[1] = g->skey;
	args[2] = scratch;
	args[3] = c64(g, BPF_ANY);
	gs_cg_helper(g, BPF_FUNC_map_update_elem, args, 4);
	LLVMBuildBr(g->b, done);
	LLVMPositionBuilderAtEnd(g->b, done);
	cg_err_clear(g);
}

/*
 * S_BACKTRACE: bpf/helpers.c gs_bt_unwind() fills the slot's data (gs_bt_hdr + pcs)
 * from rip, rsp and rbp, and returns the frame count for the record length.
 */
static void cg_stmt_backtrace(struct cg *g, const struct gs_ir_stmt *s,
			      const struct gs_event_slot *sl)
{
	LLVMValueRef args[5], n, len;

	args[0] = gs_cg_gep(g, g->ev, sl->off + sizeof(struct gs_rec_hdr));
	args[1] = gs_cg_reg(g, 16);
	args[2] = gs_cg_reg(g, 7);
	args[3] = gs_cg_reg(g, 6);
	args[4] = c64(g, s->len);
	n = LLVMBuildCall2(g->b, LLVMGlobalGetValueType(g->fn_unwind), g->fn_unwind, args, 5, "");
	len = LLVMBuildAdd(g->b, LLVMBuildShl(g->b, n, c64(g, 3), ""),
			   c64(g, sizeof(struct gs_bt_hdr)), "");
	cg_store64(g, sl->off, cg_rec_hdr(g, sl->id, c64(g, GS_REC_OK), len));
}

/* S_COMM: the task name straight into the slot. */
static void cg_stmt_comm(struct cg *g, const struct gs_event_slot *sl)
{
	LLVMValueRef args[2] = { gs_cg_gep(g, g->ev, sl->off + sizeof(struct gs_rec_hdr)), c64(g, 16) };

	gs_cg_helper(g, BPF_FUNC_get_current_comm, args, 2);
	cg_store64(g, sl->off, cg_rec_hdr(g, sl->id, c64(g, GS_REC_OK), c64(g, 16)));
}

static int cg_stmt_if(struct cg *g, const struct gs_ir_stmt *s, const struct gs_event_slot *sl)
{
	LLVMBasicBlockRef bad = gs_cg_block(g, "if.err"), test = gs_cg_block(g, "if.test");
	LLVMBasicBlockRef bt = gs_cg_block(g, "if.then"), bf = gs_cg_block(g, "if.else");
	LLVMBasicBlockRef done = gs_cg_block(g, "if.done");
	LLVMValueRef c;
	int ret;

	cg_err_clear(g);
	c = gs_cg_expr(g, s->expr);
	if (!c)
		return g->failed;
	LLVMBuildCondBr(g->b, gs_cg_err_set(g), bad, test);
	LLVMPositionBuilderAtEnd(g->b, bad);
	cg_store_err_state(g, sl);
	LLVMBuildBr(g->b, done);

	LLVMPositionBuilderAtEnd(g->b, test);
	LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntNE, c, c64(g, 0), ""), bt, bf);
	LLVMPositionBuilderAtEnd(g->b, bt);
	ret = cg_body(g, s->then_body);
	if (ret)
		return ret;
	LLVMBuildBr(g->b, done);
	LLVMPositionBuilderAtEnd(g->b, bf);
	ret = cg_body(g, s->else_body);
	if (ret)
		return ret;
	LLVMBuildBr(g->b, done);
	LLVMPositionBuilderAtEnd(g->b, done);
	return 0;
}

static int cg_body(struct cg *g, const struct gs_ir_stmt *s)
{
	for (; s && !g->failed; s = s->next) {
		const struct gs_event_slot *sl;

		if (s->kind == GS_IR_S_RETURN) {
			/* Code after a return is unreachable; O2 deletes its block. */
			LLVMBuildBr(g->b, g->exit_bb);
			LLVMPositionBuilderAtEnd(g->b, gs_cg_block(g, "dead"));
			continue;
		}
		if (s->kind == GS_IR_S_SAVE) {
			if (s->frame)
				cg_stmt_save_frame(g, s);
			else
				cg_stmt_save(g, s);
			continue;
		}
		sl = cg_next_slot(g);
		switch (s->kind) {
		case GS_IR_S_VALUE:
			cg_stmt_value(g, s, sl);
			break;
		case GS_IR_S_MEM:
		case GS_IR_S_MEM_DYN:
		case GS_IR_S_STR:
			cg_stmt_read(g, s, sl);
			break;
		case GS_IR_S_MARK:
			cg_store64(g, sl->off, c64(g, sl->id));
			break;
		case GS_IR_S_IF:
			cg_stmt_if(g, s, sl);
			break;
		case GS_IR_S_COMM:
			cg_stmt_comm(g, sl);
			break;
		case GS_IR_S_BACKTRACE:
			cg_stmt_backtrace(g, s, sl);
			break;
		}
	}
	return g->failed;
}

/* ---- functions --------------------------------------------------------------------- */

static void cg_fn_debug(struct cg *g, const char *name)
{
	LLVMMetadataRef params[2] = { g->di_int, g->di_ctx_ptr }, fty, sp, loc;

	fty = LLVMDIBuilderCreateSubroutineType(g->di, g->di_file, params, 2, LLVMDIFlagPrototyped);
	sp = LLVMDIBuilderCreateFunction(g->di, g->di_file, name, strlen(name), name, strlen(name),
					 g->di_file, 1, fty, false, true, 1, LLVMDIFlagPrototyped,
					 true);
	/* A named parameter: the kernel rejects BTF with an unnamed one. */
	LLVMDIBuilderCreateParameterVariable(g->di, sp, "ctx", 3, 1, g->di_file, 1, g->di_ctx_ptr,
					     true, 0);
	LLVMSetSubprogram(g->fn, sp);
	loc = LLVMDIBuilderCreateDebugLocation(g->ctx, 1, 1, sp, NULL);
	LLVMSetCurrentDebugLocation2(g->b, loc);
}

/*
 * Fills g->pid/tid/host_pid; the target's namespace view when gs_cfg gives one (a
 * branch the verifier removes when it does not).
 */
static void cg_fn_ids(struct cg *g)
{
	LLVMValueRef pt = gs_cg_helper(g, BPF_FUNC_get_current_pid_tgid, NULL, 0);
	LLVMValueRef args[4], r, ok, ns, dev, ino, use, vals[2];
	LLVMValueRef mask = c64(g, 0xffffffff);
	LLVMBasicBlockRef from, nsb = gs_cg_block(g, "ns"), join = gs_cg_block(g, "ns.j"), bbs[2];

	g->host_pid = LLVMBuildLShr(g->b, pt, c64(g, 32), "");
	g->host_tid = LLVMBuildAnd(g->b, pt, mask, "");
	dev = gs_cg_cfg(g, CFG_DEV);
	ino = gs_cg_cfg(g, CFG_INO);
	use = LLVMBuildICmp(g->b, LLVMIntNE, LLVMBuildOr(g->b, dev, ino, ""), c64(g, 0), "");
	from = LLVMGetInsertBlock(g->b);
	LLVMBuildCondBr(g->b, use, nsb, join);

	LLVMPositionBuilderAtEnd(g->b, nsb);
	LLVMBuildStore(g->b, c64(g, 0), g->tmp);
	args[0] = dev;
	args[1] = ino;
	args[2] = g->tmp;
	args[3] = c64(g, 8);	/* struct bpf_pidns_info { u32 pid; u32 tgid; } */
	r = gs_cg_helper(g, BPF_FUNC_get_ns_current_pid_tgid, args, 4);
	ok = LLVMBuildICmp(g->b, LLVMIntEQ, r, c64(g, 0), "");
	ns = LLVMBuildLoad2(g->b, g->i64, g->tmp, "");
	vals[0] = LLVMBuildSelect(g->b, ok, LLVMBuildLShr(g->b, ns, c64(g, 32), ""), g->host_pid, "");
	vals[1] = LLVMBuildSelect(g->b, ok, LLVMBuildAnd(g->b, ns, mask, ""), g->host_tid, "");
	LLVMBuildBr(g->b, join);

	LLVMPositionBuilderAtEnd(g->b, join);
	bbs[0] = from;
	bbs[1] = nsb;
	g->pid = LLVMBuildPhi(g->b, g->i64, "pid");
	LLVMAddIncoming(g->pid, (LLVMValueRef[]){ g->host_pid, vals[0] }, bbs, 2);
	g->tid = LLVMBuildPhi(g->b, g->i64, "tid");
	LLVMAddIncoming(g->tid, (LLVMValueRef[]){ g->host_tid, vals[1] }, bbs, 2);
}

/*
 * Return programs that read saves: look up the save of this call, keyed by the stack
 * pointer (the caller's, the call's CFA, cg_stmt_save), into g->saved (null when
 * there is none). Runs before the reserve so that a lost event still consumes it.
 */
static void cg_fn_saved_lookup(struct cg *g)
{
	LLVMValueRef key = g->prog->save_key ? c64(g, g->prog->save_key) : g->trace_key;

	gs_cg_save_key(g, g->skey, key, gs_cg_reg(g, 7));
	g->saved = gs_cg_map_lookup(g, g->map_save, g->skey);
}

/* Deletes the save g->saved points to (every exit of a return program that read one). */
static void cg_fn_saved_release(struct cg *g)
{
	LLVMBasicBlockRef del, out;
	LLVMValueRef args[2];

	if (!g->saved)
		return;
	del = gs_cg_block(g, "ret.del");
	out = gs_cg_block(g, "ret.out");
	LLVMBuildCondBr(g->b, LLVMBuildIsNull(g->b, g->saved, ""), out, del);
	LLVMPositionBuilderAtEnd(g->b, del);
	args[0] = g->map_save;
	args[1] = g->skey;
	gs_cg_helper(g, BPF_FUNC_map_delete_elem, args, 2);
	LLVMBuildBr(g->b, out);
	LLVMPositionBuilderAtEnd(g->b, out);
}

/* The reserve failed: count a lost event for this trace id, return 0. */
static void cg_fn_lost(struct cg *g, LLVMBasicBlockRef lost)
{
	LLVMBasicBlockRef add = gs_cg_block(g, "lost.add"), out = gs_cg_block(g, "lost.out");
	LLVMValueRef args[2] = { g->map_lost, g->key }, p;

	LLVMPositionBuilderAtEnd(g->b, lost);
	cg_fn_saved_release(g);
	LLVMBuildStore(g->b, LLVMBuildTrunc(g->b, g->trace_key, g->i32, ""), g->key);
	p = gs_cg_helper_t(g, g->ptr, BPF_FUNC_map_lookup_elem, args, 2);
	LLVMBuildCondBr(g->b, LLVMBuildIsNull(g->b, p, ""), out, add);
	LLVMPositionBuilderAtEnd(g->b, add);
	LLVMBuildAtomicRMW(g->b, LLVMAtomicRMWBinOpAdd, p, c64(g, 1),
			   LLVMAtomicOrderingMonotonic, false);
	LLVMBuildBr(g->b, out);
	LLVMPositionBuilderAtEnd(g->b, out);
	LLVMBuildRet(g->b, LLVMConstInt(g->i32, 0, false));
}

static void cg_fn_header(struct cg *g)
{
	LLVMValueRef hi;

	hi = LLVMBuildShl(g->b, c64(g, g->lo.end), c64(g, 32), "");
	cg_store64(g, 0, LLVMBuildOr(g->b, g->trace_key, hi, ""));
	hi = LLVMBuildShl(g->b, g->tid, c64(g, 32), "");
	cg_store64(g, 8, LLVMBuildOr(g->b, g->pid, hi, ""));
	cg_store64(g, 16, g->ts);
	cg_store64(g, 24, g->ip);
	cg_store32(g, 32, g->host_pid);
	cg_store32(g, 36, c64(g, g->lo.cnt));
	for (size_t i = 0; i < g->lo.cnt; i++)
		cg_store64(g, g->lo.slots[i].off, c64(g, 0));
}

/*
 * Wakeups are batched: the reader is woken only by the submit whose record takes the
 * unconsumed data across a multiple of wakeup_bytes (avail counts this record, which
 * occupies rec bytes of the ring with its 8-byte header), else it finds the data at its
 * poll timeout. Waking on every submit above the threshold instead costs an irq_work
 * (an IPI in a VM) per event for as long as the reader is draining a backlog.
 */
static void cg_fn_submit(struct cg *g)
{
	LLVMValueRef args[2], avail, before, w, force;
	uint64_t rec = (g->lo.reserve + 8 + 7) & ~7ull;

	LLVMPositionBuilderAtEnd(g->b, g->exit_bb);
	args[0] = g->ring;
	args[1] = c64(g, BPF_RB_AVAIL_DATA);
	avail = gs_cg_helper(g, BPF_FUNC_ringbuf_query, args, 2);
	before = LLVMBuildSub(g->b, avail, c64(g, rec), "");
	w = gs_cg_cfg(g, CFG_WAKEUP);
	force = LLVMBuildICmp(g->b, LLVMIntNE, LLVMBuildUDiv(g->b, avail, w, ""),
			      LLVMBuildUDiv(g->b, before, w, ""), "");
	args[0] = g->ev;
	args[1] = LLVMBuildSelect(g->b, force, c64(g, BPF_RB_FORCE_WAKEUP),
				  c64(g, BPF_RB_NO_WAKEUP), "");
	gs_cg_helper_t(g, LLVMVoidTypeInContext(g->ctx), BPF_FUNC_ringbuf_submit, args, 2);
	cg_fn_saved_release(g);
	LLVMBuildRet(g->b, LLVMConstInt(g->i32, 0, false));
}

/* What a program needs from the module: maps, helpers, the prologue's save lookup. */
enum {
	F_SAVE_CALL	= 1u << 0,	/* S_SAVE without frame */
	F_SAVED		= 1u << 1,	/* GS_IR_SAVED */
	F_SAVE_FRAME	= 1u << 2,	/* S_SAVE with frame */
	F_SAVED_FRAME	= 1u << 3,	/* GS_IR_SAVED_FRAME */
	F_BT		= 1u << 4,	/* S_BACKTRACE */
	F_TP		= 1u << 5,	/* GS_IR_SP_TP, GS_IR_TLS_BLOCK */
	F_MODBIAS	= 1u << 6,	/* GS_IR_MOD_BIAS */
	F_SAVE_ARMED	= 1u << 7,	/* S_SAVE with len GS_IR_SAVE_ARMED */
};

static unsigned expr_features(const struct gs_ir_expr *e)
{
	unsigned f = 0;

	for (; e; e = e->c) {
		if (e->kind == GS_IR_SAVED)
			f |= F_SAVED;
		else if (e->kind == GS_IR_SAVED_FRAME)
			f |= F_SAVED_FRAME;
		else if ((e->kind == GS_IR_SPECIAL && e->op == GS_IR_SP_TP) ||
			 e->kind == GS_IR_TLS_BLOCK)
			f |= F_TP;
		else if (e->kind == GS_IR_MOD_BIAS)
			f |= F_MODBIAS;
		f |= expr_features(e->a) | expr_features(e->b);
	}
	return f;
}

/* The features of every statement of @s, nested bodies included. */
static unsigned body_features(const struct gs_ir_stmt *s)
{
	unsigned f = 0;

	for (; s; s = s->next) {
		if (s->kind == GS_IR_S_SAVE)
			f |= s->frame ? F_SAVE_FRAME : F_SAVE_CALL;
		if (s->kind == GS_IR_S_SAVE && !s->frame && s->len == GS_IR_SAVE_ARMED)
			f |= F_SAVE_ARMED;
		if (s->kind == GS_IR_S_BACKTRACE)
			f |= F_BT;
		f |= expr_features(s->expr) | expr_features(s->len_expr) | expr_features(s->frame);
		for (uint32_t i = 0; s->kind == GS_IR_S_SAVE && i < s->nsave && s->save_exprs; i++)
			f |= expr_features(s->save_exprs[i]);
		f |= body_features(s->then_body) | body_features(s->else_body);
	}
	return f;
}

/* A program whose top level is empty or only S_SAVE statements reserves no event. */
static bool body_only_saves(const struct gs_ir_stmt *s)
{
	if (!s)
		return true;	/* an empty body prints nothing either */
	for (; s; s = s->next)
		if (s->kind != GS_IR_S_SAVE)
			return false;
	return true;
}

/*
 * A body that is one `if` without else (a filter) prints nothing when its condition is
 * false: test it before reserving, so that a hit the filter rejects costs no ring
 * buffer traffic, no event for the reader to discard and no wakeup. When it holds, or
 * fails to evaluate (the event must carry the ExprError), the body runs as usual and
 * tests it again.
 */
static bool body_is_filter(const struct gs_ir_stmt *s)
{
	return s && !s->next && s->kind == GS_IR_S_IF && !s->else_body;
}

static int cg_fn_prefilter(struct cg *g, const struct gs_ir_expr *cond)
{
	LLVMBasicBlockRef drop = gs_cg_block(g, "filter.drop"), keep = gs_cg_block(g, "filter.keep");
	LLVMValueRef c, pass;

	cg_err_clear(g);
	c = gs_cg_expr(g, cond);
	if (!c)
		return g->failed;
	pass = LLVMBuildOr(g->b, gs_cg_err_set(g), LLVMBuildICmp(g->b, LLVMIntNE, c, c64(g, 0), ""),
			   "");
	LLVMBuildCondBr(g->b, pass, keep, drop);
	LLVMPositionBuilderAtEnd(g->b, drop);
	cg_fn_saved_release(g);
	LLVMBuildRet(g->b, LLVMConstInt(g->i32, 0, false));
	LLVMPositionBuilderAtEnd(g->b, keep);
	return 0;
}

static int cg_function(struct cg *g, size_t idx, const struct gs_ir_prog *prog, bool as_body,
		       const struct gs_cg_shape *shape);

static void cg_fn_section(struct cg *g, LLVMValueRef fn, bool retprobe)
{
	if (retprobe)
		LLVMSetSection(fn, g->o->uprobe_multi ? "uretprobe.multi" : "uretprobe");
	else
		LLVMSetSection(fn, g->o->uprobe_multi ? "uprobe.multi" : "uprobe");
}

/* How the merged programs of one object share bodies (cg_merged). */
struct cg_share {
	uint32_t *rep_of;		/* the program whose body program i runs (i: its own) */
	bool *shared;			/* program i's body runs for others of its shape too */
	struct gs_cg_shape *shape;	/* program i's registers at its body's REG leaves */
};

/*
 * Program gs_p<@entry>, the entry of merged bodies: the attach cookie's high 32 bits
 * name the variant, whose body it calls (inlined); an unknown variant does nothing. An
 * entry of one body calls it without asking.
 * Variants that share a body (cg_share) branch to one call of it, passing their
 * registers through phis, so that the body is inlined, and verified, once.
 */
static int cg_entry(struct cg *g, size_t entry, bool retprobe, const size_t *members,
		    size_t nmembers, const struct cg_share *sh)
{
	char name[32];
	LLVMTypeRef fty = LLVMFunctionType(g->i32, &g->ptr, 1, false);
	LLVMTypeRef ptys[1 + GS_CG_MAX_LEAVES];
	unsigned nounwind = LLVMGetEnumAttributeKindForName("nounwind", 8);
	LLVMBasicBlockRef none, *join = calloc(nmembers, sizeof(*join));
	LLVMValueRef args[1 + GS_CG_MAX_LEAVES], cookie, variant, sw;
	LLVMValueRef (*phis)[GS_CG_MAX_LEAVES] = calloc(nmembers, sizeof(*phis));

	if (!join || !phis) {
		free(join);
		free(phis);
		return gs_cg_fail(g, -ENOMEM, "out of memory");
	}
	snprintf(name, sizeof(name), GS_CODEGEN_PROG_FMT, entry);
	g->fn = LLVMAddFunction(g->mod, name, fty);
	cg_fn_section(g, g->fn, retprobe);
	LLVMAddAttributeAtIndex(g->fn, LLVMAttributeFunctionIndex,
				LLVMCreateEnumAttribute(g->ctx, nounwind, 0));
	LLVMSetValueName2(LLVMGetParam(g->fn, 0), "ctx", 3);
	LLVMPositionBuilderAtEnd(g->b, gs_cg_block(g, "entry"));
	cg_fn_debug(g, name);
	args[0] = LLVMGetParam(g->fn, 0);
	g->regs = args[0];
	cg_ctx_load_all(g);	/* unused loads go; a shared body's registers come from here */
	if (nmembers == 1 && !sh->shared[sh->rep_of[members[0]]]) {
		/*
		 * One variant, which every cookie of this program names: no check, so a body
		 * that needs no trace id (empty, or a filter that fails) asks for no cookie.
		 */
		LLVMBuildRet(g->b, LLVMBuildCall2(g->b, fty, g->bodies[members[0]], args, 1, ""));
		free(join);
		free(phis);
		return 0;
	}
	cookie = gs_cg_helper(g, BPF_FUNC_get_attach_cookie, args, 1);
	variant = LLVMBuildTrunc(g->b, LLVMBuildLShr(g->b, cookie, c64(g, 32), ""), g->i32, "");
	none = gs_cg_block(g, "none");
	sw = LLVMBuildSwitch(g->b, variant, none, (unsigned)nmembers);
	/* the join block of each shared body, first member first */
	for (size_t v = 0; v < nmembers; v++) {
		uint32_t r = sh->rep_of[members[v]];

		if (!sh->shared[r])
			continue;
		for (size_t w = 0; w < v; w++) {
			if (sh->rep_of[members[w]] == r) {
				join[v] = join[w];
				memcpy(phis[v], phis[w], sizeof(phis[v]));
				break;
			}
		}
		if (join[v])
			continue;
		join[v] = gs_cg_block(g, "shared");
		LLVMPositionBuilderAtEnd(g->b, join[v]);
		for (size_t k = 0; k < sh->shape[r].n; k++)
			phis[v][k] = LLVMBuildPhi(g->b, g->i64, "");
	}
	for (size_t v = 0; v < nmembers; v++) {
		LLVMBasicBlockRef bb = gs_cg_block(g, "variant");
		size_t i = members[v];

		LLVMAddCase(sw, LLVMConstInt(g->i32, v, false), bb);
		LLVMPositionBuilderAtEnd(g->b, bb);
		if (!join[v]) {
			LLVMBuildRet(g->b, LLVMBuildCall2(g->b, fty, g->bodies[i], args, 1, ""));
			continue;
		}
		for (size_t k = 0; k < sh->shape[i].n; k++) {
			LLVMValueRef val = sh->shape[i].is_const[k] ? c64(g, sh->shape[i].imm[k]) :
					   g->regv[sh->shape[i].reg[k]];

			LLVMAddIncoming(phis[v][k], &val, &bb, 1);
		}
		LLVMBuildBr(g->b, join[v]);
	}
	for (size_t v = 0; v < nmembers; v++) {
		uint32_t r = sh->rep_of[members[v]];
		size_t n = sh->shape[r].n;

		if (!join[v] || LLVMGetBasicBlockTerminator(join[v]))
			continue;
		LLVMPositionBuilderAtEnd(g->b, join[v]);
		ptys[0] = g->ptr;
		for (size_t k = 0; k < n; k++) {
			ptys[1 + k] = g->i64;
			args[1 + k] = phis[v][k];
		}
		LLVMBuildRet(g->b, LLVMBuildCall2(g->b, LLVMFunctionType(g->i32, ptys, 1 + n, false),
						  g->bodies[r], args, 1 + n, ""));
	}
	LLVMPositionBuilderAtEnd(g->b, none);
	LLVMBuildRet(g->b, LLVMConstInt(g->i32, 0, false));
	free(join);
	free(phis);
	return 0;
}

/*
 * Which programs of each merged group share a body: a program takes the body of the
 * group's first program of its shape (gs_cg_same_shape), when every register it
 * reads there is one a uprobe saves.
 */
static void cg_share_bodies(const struct gs_ir_prog *const *progs, size_t nprogs,
			    const uint32_t *entry_of, struct cg_share *sh)
{
	for (size_t i = 0; i < nprogs; i++) {
		sh->rep_of[i] = (uint32_t)i;
		for (size_t j = 0; j < i && progs[i]; j++) {
			struct gs_cg_shape s;
			bool ok;

			if (entry_of[j] != entry_of[i] || sh->rep_of[j] != j ||
			    !gs_cg_same_shape(progs[j], progs[i], &s))
				continue;
			ok = true;
			for (size_t k = 0; k < s.n; k++)
				ok &= s.is_const[k] || s.reg[k] <= 16;
			if (!ok)
				continue;
			sh->rep_of[i] = (uint32_t)j;
			sh->shape[i] = s;
			if (!sh->shared[j])
				gs_cg_same_shape(progs[j], progs[j], &sh->shape[j]);
			sh->shared[j] = true;
			break;
		}
	}
}

/* Every IR program as a body, then the entry programs gs_codegen_merge() groups them in. */
static int cg_merged(struct cg *g, const struct gs_ir_prog *const *progs, size_t nprogs)
{
	uint32_t *entry_of = calloc(nprogs, sizeof(*entry_of));
	uint32_t *variant_of = calloc(nprogs, sizeof(*variant_of));
	size_t *members = calloc(nprogs, sizeof(*members)), nentries;
	struct cg_share sh = {
		.rep_of = calloc(nprogs, sizeof(*sh.rep_of)),
		.shared = calloc(nprogs, sizeof(*sh.shared)),
		.shape = calloc(nprogs, sizeof(*sh.shape)),
	};
	int ret = 0;

	g->bodies = calloc(nprogs, sizeof(*g->bodies));
	if (!entry_of || !variant_of || !members || !g->bodies || !sh.rep_of || !sh.shared ||
	    !sh.shape) {
		ret = gs_cg_fail(g, -ENOMEM, "out of memory");
		goto out;
	}
	if (g->o->entry_of && g->o->variant_of) {
		/* the caller's grouping (checked below: each group's variants are 0..n-1) */
		nentries = 0;
		for (size_t i = 0; i < nprogs && !ret; i++) {
			entry_of[i] = g->o->entry_of[i];
			variant_of[i] = g->o->variant_of[i];
			if (entry_of[i] >= nprogs || variant_of[i] >= nprogs)
				ret = gs_cg_fail(g, -EINVAL, "bad program grouping");
			else if (entry_of[i] + 1 > nentries)
				nentries = entry_of[i] + 1;
		}
		if (ret)
			goto out;
	} else {
		nentries = gs_codegen_merge(progs, nprogs, g->o->merge_max, entry_of, variant_of);
	}
	cg_share_bodies(progs, nprogs, entry_of, &sh);
	for (size_t i = 0; i < nprogs && !ret; i++)
		if (sh.rep_of[i] == i)
			ret = cg_function(g, i, progs[i], true, sh.shared[i] ? &sh.shape[i] : NULL);
	for (size_t e = 0; e < nentries && !ret; e++) {
		size_t n = 0;
		bool retprobe = false;

		for (size_t i = 0; i < nprogs; i++)
			members[i] = SIZE_MAX;
		for (size_t i = 0; i < nprogs; i++) {
			if (entry_of[i] != e)
				continue;
			if (members[variant_of[i]] != SIZE_MAX) {
				ret = gs_cg_fail(g, -EINVAL, "bad program grouping");
				break;
			}
			members[variant_of[i]] = i;
			retprobe = progs[i]->retprobe;
			n++;
		}
		for (size_t v = 0; v < n && !ret; v++)
			if (members[v] == SIZE_MAX)
				ret = gs_cg_fail(g, -EINVAL, "bad program grouping");
		if (!n && !ret)
			ret = gs_cg_fail(g, -EINVAL, "bad program grouping");
		if (!ret)
			ret = cg_entry(g, e, retprobe, members, n, &sh);
	}
out:
	free(entry_of);
	free(variant_of);
	free(members);
	free(sh.rep_of);
	free(sh.shared);
	free(sh.shape);
	free(g->bodies);
	g->bodies = NULL;
	return ret;
}

/*
 * IR program @idx as a BPF function. As a body (@as_body: merged programs), it is an
 * internal always-inline function gs_b<idx> that an entry program (cg_entry) calls;
 * otherwise it is program gs_p<idx> itself.
 */
static int cg_function(struct cg *g, size_t idx, const struct gs_ir_prog *prog, bool as_body,
		       const struct gs_cg_shape *shape)
{
	char name[32];
	LLVMTypeRef ptys[1 + GS_CG_MAX_LEAVES];
	LLVMTypeRef fty;
	LLVMBasicBlockRef entry, lost, body, drop;
	LLVMValueRef args[3];
	unsigned nounwind = LLVMGetEnumAttributeKindForName("nounwind", 8);
	int ret;

	if (as_body)
		snprintf(name, sizeof(name), "gs_b%zu", idx);
	else
		snprintf(name, sizeof(name), GS_CODEGEN_PROG_FMT, idx);
	ptys[0] = g->ptr;
	for (size_t k = 0; shape && k < shape->n; k++)
		ptys[1 + k] = g->i64;
	fty = LLVMFunctionType(g->i32, ptys, 1 + (shape ? (unsigned)shape->n : 0), false);
	g->prog_idx = idx;
	g->prog = prog;
	g->shape = shape;
	g->slot_next = 0;
	free(g->lo.slots);
	memset(&g->lo, 0, sizeof(g->lo));
	g->fn = LLVMAddFunction(g->mod, name, fty);
	g->lo.err = g->err;
	g->lo.errlen = g->errlen;
	ret = gs_cg_layout_build(prog, &g->lo);
	if (ret) {
		/* Prefix the layout's message with the program. */
		char msg[256];

		snprintf(msg, sizeof(msg), "%s", g->err && g->errlen ? g->err : "");
		return gs_cg_fail(g, ret, "%s", msg);
	}
	if (as_body) {
		unsigned inl = LLVMGetEnumAttributeKindForName("alwaysinline", 12);

		LLVMSetLinkage(g->fn, LLVMInternalLinkage);
		LLVMAddAttributeAtIndex(g->fn, LLVMAttributeFunctionIndex,
					LLVMCreateEnumAttribute(g->ctx, inl, 0));
		g->bodies[idx] = g->fn;
	} else {
		cg_fn_section(g, g->fn, prog->retprobe);
	}
	LLVMAddAttributeAtIndex(g->fn, LLVMAttributeFunctionIndex,
				LLVMCreateEnumAttribute(g->ctx, nounwind, 0));
	LLVMSetValueName2(LLVMGetParam(g->fn, 0), "ctx", 3);
	entry = gs_cg_block(g, "entry");
	LLVMPositionBuilderAtEnd(g->b, entry);
	cg_fn_debug(g, name);

	g->err_flag = cg_alloca(g, g->i64, "err");
	g->err_addr = cg_alloca(g, g->i64, "err_addr");
	g->tmp = cg_alloca(g, g->i64, "tmp");
	g->scr_a = cg_alloca(g, LLVMArrayType(g->i64, GS_CODEGEN_MAX_CMP / 8 + 1), "scr_a");
	g->scr_b = cg_alloca(g, LLVMArrayType(g->i64, GS_CODEGEN_MAX_CMP / 8 + 1), "scr_b");
	g->key = cg_alloca(g, g->i32, "key");
	g->saved = NULL;
	g->no_event = body_only_saves(prog->body);
	if (g->uses_save) {
		g->skey = cg_alloca(g, LLVMArrayType(g->i64, 2), "skey");
	}
	if (g->uses_fsave)
		g->fkey = cg_alloca(g, LLVMArrayType(g->i64, 2), "fkey");
	g->regs = LLVMGetParam(g->fn, 0);
	for (size_t k = 0; shape && k < shape->n; k++)
		g->leafv[k] = LLVMGetParam(g->fn, 1 + (unsigned)k);

	cg_ctx_load_all(g);
	args[0] = g->regs;
	g->cookie = gs_cg_helper(g, BPF_FUNC_get_attach_cookie, args, 1);
	g->trace_key = LLVMBuildAnd(g->b, g->cookie, c64(g, 0xffffffff), "");
	cg_fn_ids(g);
	{
		/* Per-run pid filter (gs_cfg): drop unless off or the host tgid matches. */
		LLVMBasicBlockRef keep = gs_cg_block(g, "keep");
		LLVMValueRef on = LLVMBuildICmp(g->b, LLVMIntNE, gs_cg_cfg(g, CFG_PID_FILTER),
						c64(g, 0), "");
		LLVMValueRef other = LLVMBuildICmp(g->b, LLVMIntNE, g->host_pid,
						   gs_cg_cfg(g, CFG_TGID), "");

		drop = gs_cg_block(g, "drop");
		LLVMBuildCondBr(g->b, LLVMBuildAnd(g->b, on, other, ""), drop, keep);
		LLVMPositionBuilderAtEnd(g->b, drop);
		LLVMBuildRet(g->b, LLVMConstInt(g->i32, 0, false));
		LLVMPositionBuilderAtEnd(g->b, keep);
	}
	g->ts = NULL;
	g->ip = gs_cg_reg(g, 16);
	if (g->no_event) {
		/* Only saves: nothing to report, so no ring buffer traffic per call. */
		ret = cg_body(g, prog->body);
		if (ret)
			return ret;
		LLVMBuildRet(g->b, LLVMConstInt(g->i32, 0, false));
		return 0;
	}
	if (prog->retprobe && (body_features(prog->body) & F_SAVED))
		cg_fn_saved_lookup(g);
	if (body_is_filter(prog->body)) {
		ret = cg_fn_prefilter(g, prog->body->expr);
		if (ret)
			return ret;
	}
	/* this CPU's ring: the array-of-maps lookup is inlined by the verifier */
	lost = gs_cg_block(g, "lost");
	body = gs_cg_block(g, "reserve");
	LLVMBuildStore(g->b, LLVMBuildTrunc(g->b, gs_cg_helper(g, BPF_FUNC_get_smp_processor_id,
							       NULL, 0), g->i32, ""), g->key);
	args[0] = g->map_events;
	args[1] = g->key;
	g->ring = gs_cg_helper_t(g, g->ptr, BPF_FUNC_map_lookup_elem, args, 2);
	LLVMBuildCondBr(g->b, LLVMBuildIsNull(g->b, g->ring, ""), lost, body);
	LLVMPositionBuilderAtEnd(g->b, body);
	args[0] = g->ring;
	args[1] = c64(g, g->lo.reserve);
	args[2] = c64(g, 0);
	g->ev = gs_cg_helper_t(g, g->ptr, BPF_FUNC_ringbuf_reserve, args, 3);
	body = gs_cg_block(g, "fill");
	LLVMBuildCondBr(g->b, LLVMBuildIsNull(g->b, g->ev, ""), lost, body);
	cg_fn_lost(g, lost);

	LLVMPositionBuilderAtEnd(g->b, body);
	g->ts = gs_cg_helper(g, BPF_FUNC_ktime_get_ns, NULL, 0);
	cg_fn_header(g);
	g->exit_bb = gs_cg_block(g, "submit");
	ret = cg_body(g, prog->body);
	if (ret)
		return ret;
	LLVMBuildBr(g->b, g->exit_bb);
	cg_fn_submit(g);
	return 0;
}

/* ---- module and object -------------------------------------------------------------- */

static pthread_once_t llvm_once = PTHREAD_ONCE_INIT;

static void llvm_init_bpf(void)
{
	LLVMInitializeBPFTargetInfo();
	LLVMInitializeBPFTarget();
	LLVMInitializeBPFTargetMC();
	LLVMInitializeBPFAsmPrinter();
}

static void cg_module_debug(struct cg *g)
{
	LLVMMetadataRef fwd;

	/*
	 * A module linked with the bitcode helpers already has clang's flags, whose
	 * "Dwarf Version" behaviour (Max) the C API cannot spell: adding ours would make
	 * the flags conflict, so only modules without them get them.
	 */
	if (!LLVMGetModuleFlag(g->mod, "Debug Info Version", 18))
		LLVMAddModuleFlag(g->mod, LLVMModuleFlagBehaviorWarning, "Debug Info Version", 18,
				  LLVMValueAsMetadata(LLVMConstInt(g->i32, LLVMDebugMetadataVersion(),
								   false)));
	if (!LLVMGetModuleFlag(g->mod, "Dwarf Version", 13))
		LLVMAddModuleFlag(g->mod, LLVMModuleFlagBehaviorWarning, "Dwarf Version", 13,
				  LLVMValueAsMetadata(LLVMConstInt(g->i32, 5, false)));
	g->di = LLVMCreateDIBuilder(g->mod);
	g->di_file = LLVMDIBuilderCreateFile(g->di, "ghostscope.bpf.c", 16, "/", 1);
	g->di_cu = LLVMDIBuilderCreateCompileUnit(g->di, LLVMDWARFSourceLanguageC, g->di_file,
						  "ghostscope", 10, true, "", 0, 0, "", 0,
						  LLVMDWARFEmissionFull, 0, false, false, "", 0,
						  "", 0);
	g->di_int = LLVMDIBuilderCreateBasicType(g->di, "int", 3, 32, 0x05 /* DW_ATE_signed */, 0);
	fwd = LLVMDIBuilderCreateForwardDecl(g->di, 0x13 /* DW_TAG_structure_type */, "pt_regs", 7,
					     g->di_file, g->di_file, 0, 0, 0, 0, "", 0);
	g->di_ctx_ptr = LLVMDIBuilderCreatePointerType(g->di, fwd, 64, 64, 0, NULL, 0);
}

/* The bitcode of bpf/helpers.c, embedded by the Makefile (BPF_BC_OBJ). */
extern const char gs_bpf_helpers_bc[], gs_bpf_helpers_bc_end[];

/*
 * Links the BPF-side C helpers into the (still empty) module and makes the unwinder
 * and the module bias lookup internal and always inlined, so that they are verified
 * as part of each calling program; the one no program calls is dropped at O2, and
 * with it the (static) maps only it uses.
 */
static const struct {
	const char *name;
	bool for_bt;		/* the unwinder's, else the module bias lookup's */
} helper_maps[] = {
	{ GS_CODEGEN_MAP_UW_RANGES, true }, { GS_CODEGEN_MAP_UW_ROWS, true },
	{ GS_CODEGEN_MAP_UW_ENTS, true }, { GS_IR_MAP_MODCFG, false }, { GS_IR_MAP_MODBIAS, false },
};

static void cg_helper_inline(struct cg *g, LLVMValueRef fn)
{
	LLVMSetLinkage(fn, LLVMInternalLinkage);
	LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
				LLVMCreateEnumAttribute(g->ctx,
					LLVMGetEnumAttributeKindForName("alwaysinline", 12), 0));
}

static int cg_link_helpers(struct cg *g)
{
	LLVMMemoryBufferRef buf;
	LLVMModuleRef src = NULL;

	buf = LLVMCreateMemoryBufferWithMemoryRange(gs_bpf_helpers_bc,
						    gs_bpf_helpers_bc_end - gs_bpf_helpers_bc,
						    "helpers.bc", false);
	if (LLVMParseBitcodeInContext2(g->ctx, buf, &src)) {
		LLVMDisposeMemoryBuffer(buf);
		return gs_cg_fail(g, -EIO, "cannot read the embedded BPF helpers bitcode");
	}
	LLVMDisposeMemoryBuffer(buf);
	if (LLVMLinkModules2(g->mod, src))
		return gs_cg_fail(g, -EIO, "cannot link the BPF helpers: %s", g->diag);
	g->fn_modbias = LLVMGetNamedFunction(g->mod, "gs_mod_bias");
	if (g->fn_modbias)
		cg_helper_inline(g, g->fn_modbias);
	for (size_t i = 0; i < sizeof(helper_maps) / sizeof(helper_maps[0]); i++) {
		LLVMValueRef m = LLVMGetNamedGlobal(g->mod, helper_maps[i].name);

		if (m && !(helper_maps[i].for_bt ? g->uses_bt : g->uses_modbias))
			LLVMSetLinkage(m, LLVMInternalLinkage);	/* unused: dropped at O2 */
	}
	g->fn_unwind = LLVMGetNamedFunction(g->mod, "gs_bt_unwind");
	if (!g->fn_unwind)
		return gs_cg_fail(g, -EIO, "the BPF helpers lack gs_bt_unwind");
	/*
	 * Inlined into each caller: its debug info says "global", so as a BPF subprogram
	 * the verifier would check it alone against its BTF prototype.
	 */
	LLVMSetLinkage(g->fn_unwind, LLVMInternalLinkage);
	LLVMAddAttributeAtIndex(g->fn_unwind, LLVMAttributeFunctionIndex,
				LLVMCreateEnumAttribute(g->ctx,
					LLVMGetEnumAttributeKindForName("alwaysinline", 12), 0));
	return 0;
}

/* O2 and emission; on success *obj_ret is malloc'd. */
static int cg_compile(struct cg *g, void **obj_ret, size_t *len_ret)
{
	LLVMTargetRef target;
	LLVMTargetMachineRef tm = NULL;
	LLVMPassBuilderOptionsRef pbo = NULL;
	LLVMMemoryBufferRef buf = NULL;
	LLVMTargetDataRef td;
	LLVMErrorRef lerr;
	char *msg = NULL;
	int ret = 0;

	if (LLVMVerifyModule(g->mod, LLVMReturnStatusAction, &msg)) {
		ret = gs_cg_fail(g, -EIO, "invalid LLVM IR: %.200s", msg);
		goto out;
	}
	if (LLVMGetTargetFromTriple("bpfel", &target, &msg)) {
		ret = gs_cg_fail(g, -EIO, "no BPF target in LLVM: %s", msg);
		goto out;
	}
	tm = LLVMCreateTargetMachine(target, "bpfel", "v3", "", LLVMCodeGenLevelDefault,
				     LLVMRelocDefault, LLVMCodeModelDefault);
	td = LLVMCreateTargetDataLayout(tm);
	LLVMSetModuleDataLayout(g->mod, td);
	LLVMDisposeTargetData(td);
	LLVMSetTarget(g->mod, "bpfel");
	pbo = LLVMCreatePassBuilderOptions();
	lerr = LLVMRunPasses(g->mod, "default<O2>", tm, pbo);
	if (lerr) {
		char *em = LLVMGetErrorMessage(lerr);

		ret = gs_cg_fail(g, -EIO, "LLVM passes failed: %s", em);
		LLVMDisposeErrorMessage(em);
		goto out;
	}
	if (LLVMTargetMachineEmitToMemoryBuffer(tm, g->mod, LLVMObjectFile, &msg, &buf) ||
	    g->diag[0]) {
		ret = gs_cg_fail(g, -EIO, "BPF emission failed: %s", g->diag[0] ? g->diag : msg);
		goto out;
	}
	*len_ret = LLVMGetBufferSize(buf);
	*obj_ret = malloc(*len_ret);
	if (!*obj_ret) {
		ret = -ENOMEM;
		goto out;
	}
	memcpy(*obj_ret, LLVMGetBufferStart(buf), *len_ret);
out:
	if (msg)
		LLVMDisposeMessage(msg);
	if (buf)
		LLVMDisposeMemoryBuffer(buf);
	if (pbo)
		LLVMDisposePassBuilderOptions(pbo);
	if (tm)
		LLVMDisposeTargetMachine(tm);
	return ret;
}

/* The library's one exported symbol (built with -fvisibility=hidden). */
__attribute__((visibility("default")))
int gs_codegen_llvm_emit(const struct gs_ir_prog *const *progs, size_t nprogs,
			 const struct gs_codegen_opts *opts, void **obj_ret, size_t *len_ret,
			 char *err, size_t errlen)
{
	struct gs_codegen_opts dflt = { 0 };
	struct cg g = { 0 };
	int ret = 0;

	if (err && errlen)
		err[0] = '\0';
	*obj_ret = NULL;
	*len_ret = 0;
	g.o = opts ? opts : &dflt;
	g.err = err;
	g.errlen = errlen;
	g.ringbuf_bytes = gs_codegen_cfg_fill(g.o, &g.cfg0);
	if (!g.ringbuf_bytes)
		return gs_cg_fail(&g, -EINVAL, "ring buffer size %u is not a power of two >= 4096",
				  g.o->ringbuf_bytes);
	if (!nprogs)
		return gs_cg_fail(&g, -EINVAL, "no programs to compile");
	pthread_once(&llvm_once, llvm_init_bpf);

	g.ctx = LLVMContextCreate();
	LLVMContextSetDiagnosticHandler(g.ctx, cg_diag_handler, &g);
	g.mod = LLVMModuleCreateWithNameInContext("ghostscope", g.ctx);
	g.b = LLVMCreateBuilderInContext(g.ctx);
	g.i1 = LLVMInt1TypeInContext(g.ctx);
	g.i8 = LLVMInt8TypeInContext(g.ctx);
	g.i16 = LLVMInt16TypeInContext(g.ctx);
	g.i32 = LLVMInt32TypeInContext(g.ctx);
	g.i64 = LLVMInt64TypeInContext(g.ctx);
	g.ptr = LLVMPointerTypeInContext(g.ctx, 0);
	for (size_t i = 0; i < nprogs; i++) {
		unsigned f = progs[i] ? body_features(progs[i]->body) : 0;

		g.uses_save |= !!(f & (F_SAVE_CALL | F_SAVED));
		g.uses_fsave |= !!(f & (F_SAVE_FRAME | F_SAVED_FRAME));
		g.uses_bt |= !!(f & F_BT);
		g.uses_modbias |= !!(f & F_MODBIAS);
		/* The loader replaces the markers with the running kernel's offsets. */
		if (f & F_TP)
			g.cfg0.fsbase_off = GS_CODEGEN_FSBASE_UNSET;
		if (f & F_SAVE_ARMED)
			g.cfg0.utask_off = g.cfg0.utask_depth_off = GS_CODEGEN_FSBASE_UNSET;
	}
	if (g.uses_bt || g.uses_modbias)
		ret = cg_link_helpers(&g);
	cg_module_debug(&g);
	cg_module_globals(&g);
	for (size_t i = 0; i < nprogs && !ret; i++)
		if (!progs[i])
			ret = gs_cg_fail(&g, -EINVAL, "program %zu is NULL", i);
	if (!ret && g.o->merge_max > 1)
		ret = cg_merged(&g, progs, nprogs);
	for (size_t i = 0; i < nprogs && !ret && g.o->merge_max <= 1; i++)
		ret = cg_function(&g, i, progs[i], false, NULL);
	g.fn = NULL;
	LLVMDIBuilderFinalize(g.di);
	if (!ret)
		ret = cg_compile(&g, obj_ret, len_ret);

	free(g.lo.slots);
	LLVMDisposeDIBuilder(g.di);
	LLVMDisposeBuilder(g.b);
	LLVMDisposeModule(g.mod);
	LLVMContextDispose(g.ctx);
	return ret;
}

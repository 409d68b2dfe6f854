/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Private to the LLVM half of code generation: codegen.c (maps, per-run settings,
 * statements, functions, the module and the object) and codegen_expr.c (expression
 * lowering). Both are linked into the codegen library only; nothing else includes
 * this header.
 *
 * Ownership: one struct cg lives on gs_codegen_llvm_emit()'s stack for one emit and
 * owns the LLVM context, module, builder and DIBuilder (disposed there); every
 * LLVMValueRef, LLVMTypeRef and LLVMBasicBlockRef below belongs to that context and
 * is valid until it is disposed. The IR programs and options are borrowed from the
 * caller for the call.
 *
 * Failure: code generation does not stop at the first error. gs_cg_fail() records the
 * first one (its errno, and the message in the caller's buffer); a lowering function
 * that fails returns NULL (a value) or -errno (a statement), and callers unwind.
 */
#ifndef GS_TRACER_CODEGEN_INTERNAL_H
#define GS_TRACER_CODEGEN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>

#include <llvm-c/Core.h>
#include <llvm-c/DebugInfo.h>

#include "tracer/codegen.h"
#include "tracer/codegen_lib.h"
#include "tracer/ir.h"

/* Code generation state: the module, then the function being emitted. */
struct cg {
	LLVMContextRef ctx;
	LLVMModuleRef mod;
	LLVMBuilderRef b;
	LLVMDIBuilderRef di;
	LLVMMetadataRef di_file, di_cu, di_int, di_ctx_ptr;
	LLVMTypeRef i1, i8, i16, i32, i64, ptr;
	LLVMValueRef map_events, map_lost, map_vaddr;
	LLVMValueRef ring;		/* this CPU's ring, from map_events */
	LLVMValueRef map_save, map_scratch;	/* only when uses_save */
	LLVMValueRef map_fsave;	/* only when uses_fsave; map_scratch too */
	bool uses_save;		/* some program has a call-keyed S_SAVE or SAVED */
	bool uses_fsave;	/* some program has a frame-keyed S_SAVE or SAVED_FRAME */
	bool uses_bt;		/* some program has S_BACKTRACE: helpers linked */
	bool uses_modbias;	/* some program has GS_IR_MOD_BIAS: helpers linked */
	LLVMValueRef fn_unwind;	/* bpf/helpers.c gs_bt_unwind */
	LLVMValueRef fn_modbias; /* bpf/helpers.c gs_mod_bias */
	const struct gs_codegen_opts *o;
	uint32_t ringbuf_bytes;
	struct gs_codegen_cfg cfg0;	/* gs_cfg's initial value */
	LLVMTypeRef cfg_ty;
	LLVMValueRef cfg;		/* the gs_cfg global */
	char *err;
	size_t errlen;
	char diag[512];		/* first LLVM error diagnostic */
	int failed;

	/* per function */
	size_t prog_idx;
	const struct gs_ir_prog *prog;
	LLVMValueRef fn, regs, ev, exit_bb_v;
	LLVMBasicBlockRef exit_bb;
	LLVMValueRef err_flag, err_addr;	/* allocas: i64 */
	LLVMValueRef tmp, scr_a, scr_b, key;	/* allocas: i64, [17 x i64] x2, i32 */
	LLVMValueRef cookie, trace_key, pid, tid, host_pid, host_tid, ts, ip;
	LLVMValueRef *bodies;	/* merged programs: the body function of each IR program */
	LLVMValueRef skey;			/* alloca [2 x i64]: call save key */
	LLVMValueRef fkey;			/* alloca [2 x i64]: frame save key */
	LLVMValueRef saved;			/* return programs: the save, or null */
	bool no_event;				/* top level is S_SAVE only */
	LLVMValueRef regv[17];			/* DWARF registers 0..16, loaded at entry */
	/* a shared body (codegen_lib.h): its REG leaves and the parameters they read */
	const struct gs_cg_shape *shape;
	LLVMValueRef leafv[GS_CG_MAX_LEAVES];
	struct gs_cg_layout lo;
	size_t slot_next;
};

/* Field numbers of struct gs_codegen_cfg in the LLVM struct type. */
enum { CFG_DEV, CFG_INO, CFG_PID_FILTER, CFG_TGID, CFG_WAKEUP, CFG_FSBASE, CFG_UTASK,
       CFG_UTASK_DEPTH, CFG_NFIELDS };

/*
 * The error state's flag says what failed (ERR_*); the status of a record for it is
 * NOT_SAVED for a missing save, else the read error of the recorded address.
 */
enum { ERR_READ = 1, ERR_NOT_SAVED = 2 };

/* The i64 constant @v. */
static inline LLVMValueRef c64(struct cg *g, uint64_t v)
{
	return LLVMConstInt(g->i64, v, false);
}

/* ---- codegen.c ---------------------------------------------------------------------- */

/*
 * Records the first failure: @ret (a negative errno) and the message, prefixed with
 * the program number inside a function. Returns the first failure's errno.
 */
int gs_cg_fail(struct cg *g, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A per-run setting (CFG_*), as an i64: a volatile load, so LLVM never folds the default. */
LLVMValueRef gs_cg_cfg(struct cg *g, unsigned field);
/* Calls BPF helper @id returning @ret (gs_cg_helper: an i64). */
LLVMValueRef gs_cg_helper_t(struct cg *g, LLVMTypeRef ret, enum bpf_func_id id,
			    LLVMValueRef *args, unsigned nargs);
LLVMValueRef gs_cg_helper(struct cg *g, enum bpf_func_id id, LLVMValueRef *args,
			  unsigned nargs);
/* A new basic block at the end of the current function. */
LLVMBasicBlockRef gs_cg_block(struct cg *g, const char *name);
/* @base + @off bytes, as a pointer. */
LLVMValueRef gs_cg_gep(struct cg *g, LLVMValueRef base, uint64_t off);
/* DWARF register @dwarf_reg (0..16), as loaded in the entry block. */
LLVMValueRef gs_cg_reg(struct cg *g, unsigned dwarf_reg);
/* The i1 "the statement has already failed". */
LLVMValueRef gs_cg_err_set(struct cg *g);
/* Records a failure (ERR_*; gs_cg_err_raise: ERR_READ) at @addr unless one is recorded. */
void gs_cg_err_raise_kind(struct cg *g, LLVMValueRef addr, unsigned kind);
void gs_cg_err_raise(struct cg *g, LLVMValueRef addr);
/* bpf_map_lookup_elem(@map, @key): a pointer into the map value, or null. */
LLVMValueRef gs_cg_map_lookup(struct cg *g, LLVMValueRef map, LLVMValueRef key);

/* ---- codegen_expr.c ----------------------------------------------------------------- */

/*
 * The i64 value of @e in the current block, or NULL after gs_cg_fail(). A failed read
 * raises the statement's error state and yields 0.
 */
LLVMValueRef gs_cg_expr(struct cg *g, const struct gs_ir_expr *e);
/*
 * {u32 host tid, u32 @key (i64, low half), u64 @frame} into @dst (an alloca [2 x i64]):
 * the key of gs_save and gs_fsave.
 */
void gs_cg_save_key(struct cg *g, LLVMValueRef dst, LLVMValueRef key, LLVMValueRef frame);
/*
 * bpf_probe_read_kernel of @size (<= 8) bytes at @addr, zero-extended through g->tmp
 * (0 when the read fails); the helper's result in *@ret when @ret is not NULL.
 */
LLVMValueRef gs_cg_read_kernel(struct cg *g, LLVMValueRef addr, unsigned int size,
			       LLVMValueRef *ret);
/* The canonical frame address by the program's CFA rule; fails codegen without one. */
LLVMValueRef gs_cg_cfa(struct cg *g);

#endif

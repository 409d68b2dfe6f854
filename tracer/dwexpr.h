/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Lowers an indexed DWARF location (struct gs_location, shared/index.h) at one probe
 * pc into probe IR (tracer/ir.h): where the variable lives, or its value, computed
 * from registers and user memory at run time.
 *
 * The evaluation is symbolic: the DWARF stack machine runs at plan time over IR
 * expressions, so what reaches BPF is straight-line code with no DWARF left in it.
 */
#ifndef GS_TRACER_DWEXPR_H
#define GS_TRACER_DWEXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/index.h"
#include "tracer/ir.h"

enum gs_dwloc_kind {
	GS_DWLOC_OPTIMIZED_OUT,	/* no location at this pc */
	GS_DWLOC_MEMORY,	/* the object is in user memory at address `ir` */
	GS_DWLOC_VALUE,		/* `ir` computes the value itself (register, stack value) */
	GS_DWLOC_BYTES,		/* the value is the constant bytes `bytes` (implicit value) */
	/*
	 * A pointer with no address to hold (DW_OP_implicit_pointer) to an object of
	 * constant bytes `bytes`, `off` bytes into it: gcc's pointer to a string literal
	 * it folded away.
	 */
	GS_DWLOC_SYNPTR,
};

struct gs_dwloc {
	uint8_t kind;		/* enum gs_dwloc_kind */
	struct gs_ir_expr *ir;
	const uint8_t *bytes;	/* GS_DWLOC_BYTES, _SYNPTR: borrowed from the index */
	uint32_t len;
	int64_t off;		/* GS_DWLOC_SYNPTR */
	/*
	 * GS_DWLOC_OPTIMIZED_OUT for a value that exists but cannot be had here (an entry
	 * value, a synthetic pointer): what to show instead, or NULL for "optimized out".
	 */
	const char *unavailable;
	/* How it will be read, for --dry-run: "reg rdi", "fbreg -20 (cfa)", "addr 0x4010", ... */
	char how[96];
};

struct gs_dwctx {
	uint64_t pc;		/* module vaddr of the probe */
	uint64_t func_entry;	/* entry pc of the function holding pc (0 = unknown) */
	const struct gs_location *frame_base; /* the function's DW_AT_frame_base, or NULL */
	bool pie;		/* ET_DYN: DW_OP_addr needs the load bias */
	/*
	 * With pie: add this constant bias (another module's, from /proc/PID/maps) instead
	 * of GS_IR_SP_BIAS (which only knows the probed module's). The same applies to
	 * the TLS module id's slot (tls_dtv).
	 */
	bool const_bias;
	uint64_t bias;
	/* With pie and no const_bias: this expression instead of GS_IR_SP_BIAS (a return
	 * probe reads the bias its entry probe saved; another module's in -t mode is a
	 * GS_IR_MOD_BIAS). */
	struct gs_ir_expr *bias_expr;
	/*
	 * DW_OP_form_tls_address: the probed module's TLS block starts tls_off bytes
	 * below the thread pointer (x86-64 TLS variant II, static TLS of the executable).
	 */
	bool tls_ok;
	uint64_t tls_off;
	const char *tls_why;	/* without tls_ok or tls_dtv: why TLS is not readable */
	/*
	 * DW_OP_form_tls_address in a shared library: the block is dtv[id] of the
	 * running thread (GS_IR_TLS_BLOCK), with the module id ld.so stores at module
	 * vaddr tls_modid_vaddr (its R_X86_64_DTPMOD64 GOT slot), rebased like
	 * DW_OP_addr.
	 */
	bool tls_dtv;
	uint64_t tls_modid_vaddr;
	/*
	 * DW_OP_entry_value(DW_OP_regN): an expression for register @reg as it was at the
	 * function's entry (saved there by a hidden probe), or NULL when not possible.
	 */
	struct gs_ir_expr *(*entry_reg)(void *arg, unsigned int reg);
	void *entry_arg;
	/*
	 * When set, every register read goes through it: the registers of another frame
	 * (a caller's, for its call-site values), NULL for one that cannot be recovered.
	 */
	struct gs_ir_expr *(*reg_value)(void *arg, unsigned int reg);
	void *reg_arg;
	/*
	 * With reg_value: DW_OP_call_frame_cfa is this (that frame's CFA), or fails when
	 * NULL. Without: GS_IR_SP_CFA, the probed frame's.
	 */
	struct gs_ir_expr *cfa_expr;
};

/*
 * Lowers @loc at @ctx->pc into @out (IR nodes allocated from @prog). A DW_OP_call_frame_cfa
 * uses GS_IR_SP_CFA: the caller must fill prog->cfa_* from the CFI at the pc.
 * Returns 0 (including the optimized-out case), or -GS_ERR_UNSUPPORTED_OP with a
 * one-line reason in @err.
 */
int gs_dwexpr_lower(struct gs_ir_prog *prog, const struct gs_location *loc,
		    const struct gs_dwctx *ctx, struct gs_dwloc *out, char *err, size_t errlen);

/*
 * The expression of @loc in effect at @pc, or NULL (optimized out there). As GDB
 * does, an empty-range entry [x, x) at the function's entry pc @func_entry applies
 * there: gcc's location views put the value a variable has on entry in one.
 */
const struct gs_locexpr *gs_dwexpr_at(const struct gs_location *loc, uint64_t pc,
				      uint64_t func_entry);

/* @x, a module vaddr, as a run-time address: plus the load bias for a PIE (as DW_OP_addr). */
struct gs_ir_expr *gs_dwexpr_rebase(struct gs_ir_prog *p, const struct gs_dwctx *ctx,
				    struct gs_ir_expr *x);

/* Name of DWARF register @reg on x86-64 ("rdi"), or NULL. */
const char *gs_dwexpr_reg_name(unsigned int reg);

#endif /* GS_TRACER_DWEXPR_H */

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Private to the planner (plan.c: statements, patterns, probes; plan_expr.c:
 * names, types and values at one pc).
 *
 * Design. Every expression of the script is compiled, per probe pc, into a typed
 * plan-time value (struct tval) whose `ir` computes, at run time, either the address
 * of the object (TV_MEM: a variable in memory, a struct member, an array element) or
 * the value itself (TV_VAL: a register, a DW_OP_stack_value, an arithmetic result).
 * Types stay index type ids plus two small adjustments that have no id of their own:
 * extra_ptr (levels of & applied) and dim_skip (leading array dimensions indexed
 * away). Only when a number is needed (arithmetic, conditions) is the object loaded,
 * with C's integer promotions applied at that point.
 *
 * print arguments become record slots: whole objects are copied (S_MEM) and rendered
 * in user space with the index types, C strings are read with S_STR, computed numbers
 * travel as 8 bytes. Nothing is formatted in BPF.
 *
 * Rejected: a separate type table for synthetic types (pointer-to-T for &x, casts to
 * builtin spellings). extra_ptr/dim_skip cover what the language can express.
 */
#ifndef GS_TRACER_PLAN_INTERNAL_H
#define GS_TRACER_PLAN_INTERNAL_H

#include "shared/strbuf.h"
#include "tracer/dwexpr.h"
#include "tracer/plan.h"

#define MAX_CHAIN 64
#define MAX_LETS 128
#define MAX_PCS_PER_TRACE 4096

enum tval_kind {
	TV_MEM,			/* object at address ir */
	TV_VAL,			/* value is ir */
	TV_BYTES,		/* constant bytes */
	TV_OPTOUT,		/* optimized out at this pc */
	TV_STRLIT,		/* a string literal */
	TV_SYNPTR,		/* pointer with no address: to constant bytes, syn_off into them */
};

struct tval {
	uint8_t kind;
	struct gs_index *idx;	/* owner of type */
	uint32_t type;
	uint8_t extra_ptr;
	uint32_t dim_skip;
	bool is_int;		/* computed integer: int_size, int_signed; type unused */
	bool int_signed;
	uint8_t int_size;
	bool is_bool;
	uint32_t bit_off, bit_size; /* TV_MEM bitfield, bits from the address */
	struct gs_ir_expr *ir;
	const uint8_t *bytes;
	uint32_t len;
	int64_t syn_off;	/* TV_SYNPTR */
	const char *name;	/* variable name, for messages */
	const char *unavailable; /* TV_OPTOUT: why, when it is not plain "optimized out" */
};

struct let_binding {
	const struct gs_stmt *stmt;
	struct tval val;
};

struct pctx {
	const struct gs_script *script;
	const struct gs_plan_opts *opts;
	struct gs_plan_module *mods;
	size_t nmods;
	struct gs_plan_module *mod;
	struct gs_probe *pr;
	struct gs_ir_prog *ir;
	const struct gs_scope *chain[MAX_CHAIN];
	size_t nchain;
	struct gs_dwctx dw;
	struct let_binding lets[MAX_LETS];
	size_t nlets;
	bool failed;
	/* Return probes: the entry program that saves what the return program reads. */
	bool retprobe;
	const struct gs_func *func;
	struct gs_ir_prog *entry_ir;
	struct gs_dwctx entry_dw;
	uint64_t save_pc;		/* where entry_ir runs */
	bool save_at_entry;		/* no CFA rule after the prologue: save_pc is the entry */
	bool ret_entry_abi;		/* the save runs at the entry: parameters by the ABI */
	bool ret_entry_reject;		/* ... and one of them is not at hand there */
	bool ret_post;			/* plan the save after the prologue */
	struct gs_ir_expr *saves[GS_IR_SAVE_MAX];
	const struct gs_var *saved_vars[GS_IR_SAVE_MAX];
	size_t nsaves;
	/*
	 * Planning at a function's first instruction instead of after its prologue:
	 * entry_reject is set when something the script reads is not yet valid there.
	 */
	bool entry_check;
	bool entry_reject;
	/* Entry values: registers a hidden probe at the function's entry saves by frame. */
	uint64_t fn_entry;		/* entry pc of the out-of-line function, 0 = unknown */
	bool fn_clone;			/* it is a .constprop/.isra/.part clone */
	unsigned int ev_regs[GS_IR_SAVE_MAX];
	size_t nev;
	/* ... and from the callers' call sites: the CFI row at the pc, for their frame */
	struct gs_cfi_row ev_cfi;
	bool ev_cfi_ok;
	struct gs_cfi_saved ev_saved;
	bool ev_saved_ok;
	uint32_t ev_noted;		/* registers whose call sites the dry run listed */
	/* Per module of mods (same index): ELF facts, read on first use. */
	struct plan_modelf *elfs;
	/* The module file the probed instructions are read from (kept open). */
	const char *insn_path;
	int insn_fd;
};

/* Facts from a module's ELF file, read once per planning (plan.c plan_modelf). */
struct plan_modelf {
	bool read;
	bool has_dyn;
	uint64_t dyn_vaddr;		/* PT_DYNAMIC: identifies it among loaded modules */
	uint64_t id_vaddr, id_word;	/* and its build-id's first 8 bytes (id_vaddr 0: none) */
	bool tls_static;		/* an executable: its block is tls_off below tp */
	uint64_t tls_off;
	bool tls_dtv;			/* a library: dtv[id], id at tls_modid_vaddr */
	uint64_t tls_modid_vaddr;
	const char *tls_why;		/* neither: why (static text) */
};

/* @m's ELF facts, or NULL when @m is not one of c->mods. */
struct plan_modelf *plan_modelf(struct pctx *c, struct gs_plan_module *m);
/* Fills @dw's TLS fields for module @m. */
void plan_tls(struct pctx *c, struct gs_plan_module *m, struct gs_dwctx *dw);
/* dwexpr's entry_reg callback: @arg is the struct pctx. */
struct gs_ir_expr *plan_entry_reg(void *arg, unsigned int reg);

enum tclass { C_VOID, C_INT, C_BOOL, C_FLOAT, C_PTR, C_ARRAY, C_RECORD, C_ENUM, C_FUNC };

/* Records the first compile error of this pc ("ORIGIN:LINE:COL: message"); -EINVAL. */
int plan_err(struct pctx *c, const struct gs_span *span, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Compiles @e at the current pc into a plan-time value. 0 or -errno (error recorded). */
int plan_compile(struct pctx *c, const struct gs_expr *e, struct tval *out);
/* The number @v denotes, extended to 64 bits by its type, with its promoted width. */
int plan_rvalue(struct pctx *c, const struct gs_span *span, const struct tval *v,
		struct gs_ir_expr **ir_ret, unsigned int *size_ret, bool *signed_ret);
/* An error when @v is optimized out. */
int plan_need_value(struct pctx *c, const struct gs_expr *e, const struct tval *v);
/* *@v: the object a pointer or reference points to, or an array's first element. */
int plan_deref(struct pctx *c, const struct gs_span *span, struct tval *v, struct tval *out);
enum tclass plan_class(const struct tval *v, const struct gs_type **t_ret);
uint64_t plan_size(const struct tval *v);
bool plan_is_string(const struct tval *v);
struct gs_ir_expr *plan_truthy(struct pctx *c, struct gs_ir_expr *x);

#endif /* GS_TRACER_PLAN_INTERNAL_H */

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The probe IR: what the planner (plan.c) hands the BPF code generator (codegen.c).
 *
 * The planner has already resolved every name, type and DWARF location; the IR only
 * says how to compute 64-bit values from registers and user memory, what to put in
 * the event, and which statements are conditional. The code generator turns one IR
 * program into one BPF program (LLVM IR, O2, BPF object); identical programs may be
 * attached to many pcs, told apart by the attach cookie (the trace id).
 *
 * Evaluation model: every expression yields a u64. A failing user-memory read sets
 * the program's error state (status + faulting address) and yields 0; the
 * statement that evaluates the expression decides what the error means (see
 * GS_IR_S_*). Error state is cleared at the start of every statement.
 *
 * Ownership: nodes are allocated by gs_ir_* constructors from a gs_ir_prog arena and
 * freed all at once by gs_ir_prog_free(). Constructors never fail (abort on OOM).
 */
#ifndef GS_TRACER_IR_H
#define GS_TRACER_IR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum gs_ir_kind {
	GS_IR_CONST,		/* imm */
	GS_IR_REG,		/* DWARF register 0..16 (x86-64 order; 16 = rip) from pt_regs */
	GS_IR_SPECIAL,		/* special: enum gs_ir_special */
	GS_IR_LOAD,		/* *(size bytes at a), zero- or sign-extended to 64 bits */
	GS_IR_BINOP,		/* op(a, b) */
	GS_IR_UNOP,		/* op(a) */
	GS_IR_LAND,		/* a && b, short-circuit, yields 0/1 */
	GS_IR_LOR,		/* a || b, short-circuit, yields 0/1 */
	GS_IR_SELECT,		/* a ? b : c */
	GS_IR_EXT,		/* keep the low `bits` of a, zero/sign-extend (is_signed) */
	GS_IR_MEMEQ,		/* len bytes at a == len bytes at b (b an address) or == bytes; 0/1 */
	GS_IR_STREQ,		/* C string at a == bytes (bytes includes the NUL); 0/1 */
};

enum gs_ir_special {
	GS_IR_SP_PID,		/* tgid as the target's pid namespace sees it */
	GS_IR_SP_TID,
	GS_IR_SP_HOST_PID,
	GS_IR_SP_TIMESTAMP,	/* bpf_ktime_get_ns */
	GS_IR_SP_PC,		/* runtime ctx->ip */
	GS_IR_SP_SP,		/* runtime rsp */
	GS_IR_SP_BIAS,		/* load bias of the probed module: ctx->ip - probe vaddr */
	GS_IR_SP_TRACE_ID,	/* the attach cookie */
	GS_IR_SP_CFA,		/* the frame's canonical frame address, from the planner's
				 * cfa_reg/cfa_off on the program (see gs_ir_prog) */
};

enum gs_ir_binop {
	GS_IR_ADD, GS_IR_SUB, GS_IR_MUL,
	GS_IR_DIV, GS_IR_MOD,	/* signed when is_signed; x/0 yields 0 */
	GS_IR_AND, GS_IR_OR, GS_IR_XOR,
	GS_IR_SHL, GS_IR_SHR,	/* SHR arithmetic when is_signed; count masked to 63 */
	GS_IR_EQ, GS_IR_NE, GS_IR_LT, GS_IR_LE, GS_IR_GT, GS_IR_GE, /* signed when is_signed */
};

enum gs_ir_unop {
	GS_IR_NEG, GS_IR_NOT /* ~ */, GS_IR_LNOT /* ! */,
};

struct gs_ir_expr {
	uint8_t kind;		/* enum gs_ir_kind */
	uint8_t op;		/* binop / unop / special */
	bool is_signed;
	uint8_t size;		/* GS_IR_LOAD: 1, 2, 4, 8 */
	uint8_t bits;		/* GS_IR_EXT: 1..63 */
	uint8_t reg;		/* GS_IR_REG */
	uint64_t imm;		/* GS_IR_CONST */
	struct gs_ir_expr *a, *b, *c;
	uint32_t len;		/* GS_IR_MEMEQ/STREQ: bytes compared */
	const uint8_t *bytes;	/* GS_IR_MEMEQ/STREQ literal, len bytes, arena-owned */
};

enum gs_ir_stmt_kind {
	/*
	 * Emit the value of expr as 8 bytes in slot `id`. On a read failure the record
	 * gets status READ_ERROR (NULL_DEREF when the address is below 4096) and the
	 * address as its data.
	 */
	GS_IR_S_VALUE,
	/*
	 * Read `len` bytes at address expr into slot `id` (bpf_probe_read_user). A failed
	 * address computation or read: status as above. A NULL address: NULL_DEREF.
	 */
	GS_IR_S_MEM,
	/*
	 * Like S_MEM but with a runtime length: reads min(len_expr, len) bytes; status
	 * TRUNCATED when len_expr exceeded len. Data length in the record is what was read.
	 */
	GS_IR_S_MEM_DYN,
	/* Read a NUL-terminated string of at most `len` bytes (bpf_probe_read_user_str). */
	GS_IR_S_STR,
	/* An empty record marking that statement `id` ran (a print without arguments). */
	GS_IR_S_MARK,
	/*
	 * if (expr) then else. When evaluating expr fails, neither branch runs and slot
	 * `id` records the error (status + address); else slot `id` stays unused.
	 */
	GS_IR_S_IF,
	/* Stop the program: the event is submitted with what it has so far. */
	GS_IR_S_RETURN,
};

struct gs_ir_stmt {
	uint8_t kind;		/* enum gs_ir_stmt_kind */
	uint16_t id;		/* emit id (> 0) for slot-writing statements */
	struct gs_ir_expr *expr;
	struct gs_ir_expr *len_expr; /* GS_IR_S_MEM_DYN */
	uint32_t len;		/* S_MEM / S_MEM_DYN / S_STR: maximum bytes */
	struct gs_ir_stmt *then_body, *else_body; /* S_IF: singly linked lists */
	struct gs_ir_stmt *next;
};

struct gs_ir_prog {
	struct gs_ir_stmt *body; /* singly linked list */
	/*
	 * Only for GS_IR_SP_CFA: CFA = reg + off at the probe pc, from the CFI row the
	 * planner looked up; cfa_valid false makes SP_CFA a compile error.
	 */
	bool cfa_valid;
	uint8_t cfa_reg;
	int32_t cfa_off;
	/* private: arena */
	void *arena;
};

struct gs_ir_prog *gs_ir_prog_new(void);
void gs_ir_prog_free(struct gs_ir_prog *prog);

struct gs_ir_expr *gs_ir_const(struct gs_ir_prog *p, uint64_t imm);
struct gs_ir_expr *gs_ir_reg(struct gs_ir_prog *p, unsigned int dwarf_reg);
struct gs_ir_expr *gs_ir_special(struct gs_ir_prog *p, enum gs_ir_special sp);
struct gs_ir_expr *gs_ir_load(struct gs_ir_prog *p, struct gs_ir_expr *addr, unsigned int size,
			      bool is_signed);
struct gs_ir_expr *gs_ir_binop(struct gs_ir_prog *p, enum gs_ir_binop op, bool is_signed,
			       struct gs_ir_expr *a, struct gs_ir_expr *b);
struct gs_ir_expr *gs_ir_unop(struct gs_ir_prog *p, enum gs_ir_unop op, struct gs_ir_expr *a);
struct gs_ir_expr *gs_ir_land(struct gs_ir_prog *p, struct gs_ir_expr *a, struct gs_ir_expr *b);
struct gs_ir_expr *gs_ir_lor(struct gs_ir_prog *p, struct gs_ir_expr *a, struct gs_ir_expr *b);
struct gs_ir_expr *gs_ir_select(struct gs_ir_prog *p, struct gs_ir_expr *c, struct gs_ir_expr *a,
				struct gs_ir_expr *b);
struct gs_ir_expr *gs_ir_ext(struct gs_ir_prog *p, struct gs_ir_expr *a, unsigned int bits,
			     bool is_signed);
/* @bytes is copied into the arena. b may be NULL when bytes is given (MEMEQ). */
struct gs_ir_expr *gs_ir_memeq(struct gs_ir_prog *p, struct gs_ir_expr *a, struct gs_ir_expr *b,
			       const void *bytes, uint32_t len);
struct gs_ir_expr *gs_ir_streq(struct gs_ir_prog *p, struct gs_ir_expr *a, const char *lit);

/* Statement constructors return the statement; the caller links it with gs_ir_append. */
struct gs_ir_stmt *gs_ir_stmt_new(struct gs_ir_prog *p, enum gs_ir_stmt_kind kind, uint16_t id,
				  struct gs_ir_expr *expr, uint32_t len);
/* Appends @s to the list at *@head. */
void gs_ir_append(struct gs_ir_stmt **head, struct gs_ir_stmt *s);

/* Canonical text of a program, for --dry-run and for deduplicating identical plans. */
char *gs_ir_dump(const struct gs_ir_prog *p);	/* malloc'd; caller frees */

#endif /* GS_TRACER_IR_H */

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internal to code generation: what the code generator program (ghostscope-codegen:
 * codegen.c with LLVM, and codegen_main.c) and the LLVM-free part linked into
 * ghostscope (codegen_layout.c, codegen_lib.c, codegen_cache.c) share. Not for other
 * modules: they use codegen.h.
 */
#ifndef GS_TRACER_CODEGEN_LIB_H
#define GS_TRACER_CODEGEN_LIB_H

#include <stddef.h>
#include <stdint.h>

#include "tracer/codegen.h"
#include "tracer/ir.h"

/* File name of the code generator program, looked up next to the executable. */
#define GS_CODEGEN_NAME		"ghostscope-codegen"
/* Environment override of its full path (tests). */
#define GS_CODEGEN_ENV		"GHOSTSCOPE_CODEGEN"
/* The request's and the answer's first 8 bytes (codegen_lib.c, "Protocol"). */
#define GS_CG_REQ_MAGIC		"GSCGRQ1\n"
#define GS_CG_RES_MAGIC		"GSCGRS1\n"

struct gs_strbuf;
/* Appends the request's magic and @o to @b (codegen_main.c reads them back). */
void gs_cg_request_opts(struct gs_strbuf *b, const struct gs_codegen_opts *o);

/*
 * What the code generator program runs: gs_codegen_emit() itself (same contract).
 * Declared weak by codegen_lib.c: a program that links codegen.o directly (test
 * drivers) uses it without running the program.
 */
int gs_codegen_llvm_emit(const struct gs_ir_prog *const *progs, size_t nprogs,
			 const struct gs_codegen_opts *opts, void **obj_ret, size_t *len_ret,
			 char *err, size_t errlen);

/* The event layout of one program, as the emitter needs it (codegen_layout.c). */
struct gs_cg_layout {
	struct gs_event_slot *slots;	/* malloc'd; the caller frees */
	size_t cnt, cap;
	uint32_t end;		/* hdr.len */
	uint32_t reserve;	/* bytes reserved: end, plus masking room for MEM_DYN / bt */
	char *err;		/* may be NULL; set on failure */
	size_t errlen;
};

/* Fills @lo (zeroed by the caller, err/errlen set) for @prog; 0, -EINVAL, -E2BIG, -ENOMEM. */
int gs_cg_layout_build(const struct gs_ir_prog *prog, struct gs_cg_layout *lo);

/*
 * Shared bodies: programs of one merged group that differ only in their leaves (the
 * copies of one inlined function, say: a variable in another register, at another
 * offset, a constant-propagated value) are compiled as one body whose leaves are
 * parameters, fed per variant by the entry program; the verifier then walks one body
 * instead of one per variant. gs_cg_same_shape() says whether @b has the shape of @a:
 * the same statements and expressions, GS_IR_REG leaves and GS_IR_CONST leaves apart
 * (but the constants GS_IR_MOD_BIAS needs at compile time), and the same CFA rule
 * where $cfa is read. It fills @sh with the distinct leaves of @a, in a fixed order,
 * and what @b has at each: a register (is_const false) or a constant.
 */
#define GS_CG_MAX_LEAVES	16
struct gs_cg_shape {
	const struct gs_ir_expr *leaf[GS_CG_MAX_LEAVES];
	bool is_const[GS_CG_MAX_LEAVES];
	uint8_t reg[GS_CG_MAX_LEAVES];		/* !is_const */
	uint64_t imm[GS_CG_MAX_LEAVES];		/* is_const */
	size_t n;
};
bool gs_cg_same_shape(const struct gs_ir_prog *a, const struct gs_ir_prog *b,
		      struct gs_cg_shape *sh);

/* The smallest power of two >= @n (the MEM_DYN length mask is that minus one). */
uint32_t gs_cg_pow2_at_least(uint32_t n);

/*
 * The GNU build-id of the code that generates objects: the code generator program
 * when it is used, else the running executable (codegen linked in). Part of the cache key, so a
 * rebuilt code generator never reuses older objects. Lowercase hex in @hex_ret; 0 or
 * -errno (errors as gs_build_id_of_path).
 */
int gs_cg_generator_id(char hex_ret[41]);

#endif /* GS_TRACER_CODEGEN_LIB_H */

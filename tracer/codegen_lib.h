/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internal to code generation: what the LLVM library (libghostscope-codegen.so, from
 * codegen.c) and the LLVM-free part linked into ghostscope (codegen_layout.c,
 * codegen_lib.c, codegen_cache.c) share. Not for other modules: they use codegen.h.
 *
 * Why a library: linking libLLVM costs ~60-150 ms of loading and relocation on every
 * run, even for --help or a cache hit; the library is dlopen'ed only when an object
 * must really be generated.
 */
#ifndef GS_TRACER_CODEGEN_LIB_H
#define GS_TRACER_CODEGEN_LIB_H

#include <stddef.h>
#include <stdint.h>

#include "tracer/codegen.h"

/* File name of the library, looked up next to the executable. */
#define GS_CODEGEN_LIB_NAME	"libghostscope-codegen.so"
/* Environment override of the library's full path (tests). */
#define GS_CODEGEN_LIB_ENV	"GHOSTSCOPE_CODEGEN_LIB"

/*
 * The library's one exported function: gs_codegen_emit() itself (same contract).
 * Declared weak by codegen_lib.c: a program that links codegen.o directly (test
 * drivers) uses it without loading the library.
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

/* The smallest power of two >= @n (the MEM_DYN length mask is that minus one). */
uint32_t gs_cg_pow2_at_least(uint32_t n);

/*
 * The GNU build-id of the code that generates objects: the library file when it is
 * used, else the running executable (codegen linked in). Part of the cache key, so a
 * rebuilt code generator never reuses older objects. Returns its length (1..cap) or
 * -errno (-ENOENT: no build-id note).
 */
int gs_cg_generator_id(uint8_t *id, size_t cap);

#endif /* GS_TRACER_CODEGEN_LIB_H */

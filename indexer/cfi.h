/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The CFI table: every pc range of a module with the rules an unwinder needs there
 * (CFA, return address, frame pointer), as the fixed-size rows of shared/index.h that
 * load into a BPF array map unchanged.
 *
 * Rows come from .eh_frame of the main file; .debug_frame (of the debug file, else of
 * the main file) only fills pcs that no .eh_frame FDE covers. Registers that no CIE or
 * FDE mentions keep the x86-64 ABI default: the frame pointer "same value", the return
 * address "undefined".
 */
#ifndef GS_INDEXER_CFI_H
#define GS_INDEXER_CFI_H

#include <libelf.h>
#include <stddef.h>

#include "shared/index.h"

/*
 * Builds the table of @elf (and @debug_elf's .debug_frame; NULL when none).
 * *rows_ret: the distinct rows, each stored once (malloc'd, caller frees).
 * *ents_ret: entries sorted by strictly increasing pc (malloc'd, caller frees); an
 * entry's row holds from its pc up to the next entry's pc; row UINT32_MAX marks a gap
 * no FDE covers, and the last entry is always such a gap. Adjacent entries never
 * share a row. A module without CFI gives 0 with NULL arrays and counts 0.
 * Malformed CIEs/FDEs are skipped (their pcs become gaps); an instruction we cannot
 * decode makes the rest of its FDE "CFA unsupported" rather than a guess.
 * Returns 0 or -ENOMEM; on failure nothing is returned and nothing is leaked.
 */
int gs_cfi_build(Elf *elf, Elf *debug_elf, struct gs_cfi_row **rows_ret, size_t *nrows_ret,
		 struct gs_cfi_entry **ents_ret, size_t *nents_ret);

/* The other callee-saved registers' table (struct gs_cfi_saved), built beside the rows. */
struct gs_cfi_saved_table {
	struct gs_cfi_saved *rows;	/* distinct (malloc'd) */
	size_t nrows;
	struct gs_cfi_entry *ents;	/* as gs_cfi_build's: row index, UINT32_MAX a gap */
	size_t nents;
};
/*
 * gs_cfi_build, and with @saved non-NULL also the rules of rbx and r12-r15 (x86-64;
 * .eh_frame and .debug_frame as for the rows). On failure nothing is returned.
 */
int gs_cfi_build_all(Elf *elf, Elf *debug_elf, struct gs_cfi_row **rows_ret, size_t *nrows_ret,
		     struct gs_cfi_entry **ents_ret, size_t *nents_ret,
		     struct gs_cfi_saved_table *saved);

/*
 * Binary search of @ents for the entry in effect at @pc: its row index, or UINT32_MAX
 * when @pc is before the first entry or in a gap.
 */
uint32_t gs_cfi_lookup(const struct gs_cfi_entry *ents, size_t nents, uint64_t pc);

/*
 * Formats @row as "cfa=rsp+16 ra=c-8 rbp=c-16", in readelf --debug-dump=frames-interp
 * notation with x86-64 DWARF register names: "<reg>+<off>" for a CFA, "exp" for an
 * expression rule, and for a register "u" (undefined), "s" (same value), "c-16"
 * (saved at CFA-16), "v+8" (value CFA+8), "<reg>" (in that register). Returns @buf.
 */
const char *gs_cfi_row_str(const struct gs_cfi_row *row, char *buf, size_t len);
/* Formats @sv as "rbx=c-24 r12=s r13=s r14=s r15=s", the same notation. Returns @buf. */
const char *gs_cfi_saved_str(const struct gs_cfi_saved *sv, char *buf, size_t len);
/* x86-64 name of DWARF register @regno ("rax" ... "rip"), "r<N>" beyond. Returns @buf. */
const char *gs_cfi_reg_name(unsigned int regno, char *buf, size_t len);

#endif /* GS_INDEXER_CFI_H */

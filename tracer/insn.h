/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a uprobe costs at an x86-64 instruction, from its first bytes. The kernel
 * handles a hit in one of three ways, and the difference is large on a VM:
 *  - it single-steps a copy of the instruction (a second trap): about 17 us a hit here;
 *  - it emulates it (push, nop, jmp, jcc, call): one trap, about 5 us here;
 *  - a 5-byte nop it rewrites, after the first hit, into a call to its uprobe
 *    trampoline, which enters the kernel by a syscall instead of a trap (Linux 6.18,
 *    "optimized uprobes"): about 1.3 us here. Compilers put one at every function's
 *    entry with gcc -pg -mfentry -mnop-mcount or clang -fpatchable-function-entry=5.
 */
#ifndef GS_TRACER_INSN_H
#define GS_TRACER_INSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Ordered: a higher kind is a cheaper hit. */
enum gs_insn_kind {
	GS_INSN_STEPPED,	/* single-stepped */
	GS_INSN_EMULATED,	/* emulated by the kernel */
	GS_INSN_NOP5,		/* emulated, then optimized into a call */
};

/*
 * Classifies the instruction whose first @n bytes are @b, at an address whose offset
 * in its page is @page_off (the kernel does not optimize a nop that crosses a page).
 * @any_nop: the kernel emulates every nop form (Linux 6.18, which also optimizes nop5:
 * gs_insn_nop5_optimized()); before that only 0x90 and its own multi-byte encodings
 * are emulated and other nops are single-stepped. *@what gets a short name: "push",
 * "nop", "nop5", "jmp", "jcc", "call" or "other".
 */
enum gs_insn_kind gs_insn_classify(const uint8_t *b, size_t n, uint64_t page_off,
				   bool any_nop, const char **what);

/*
 * Whether the running kernel optimizes 5-byte nops: it has the uprobe syscall, which
 * answers ENXIO (EPROTO on some versions) to a caller outside its trampoline, and
 * ENOSYS before Linux 6.18 (a seccomp filter's EPERM is taken as "no"). Asked once
 * per process.
 */
bool gs_insn_nop5_optimized(void);

/* How the kernel handles a hit on @k: "single-stepped", ... for --dry-run. */
const char *gs_insn_kind_text(enum gs_insn_kind k);

#endif /* GS_TRACER_INSN_H */

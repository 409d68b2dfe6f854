// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Just enough x86-64 decoding to tell how the kernel will handle a uprobe: the
 * instruction families its uprobe code emulates (arch/x86/kernel/uprobes.c: push,
 * nop, jmp, jcc, call) and the exact length of a nop, which decides whether the
 * kernel may optimize the probe into a call.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tracer/insn.h"

#ifndef __NR_uprobe
#define __NR_uprobe 336	/* x86-64, Linux 6.18 */
#endif

#define PAGE_BYTES 4096u

static bool is_legacy_prefix(uint8_t b)
{
	/* operand and address size, segment overrides: nops may carry them as padding */
	return b == 0x66 || b == 0x67 || b == 0x2e || b == 0x3e || b == 0x26 || b == 0x36 ||
	       b == 0x64 || b == 0x65;
}

/* Bytes of a ModRM operand starting at @m (the ModRM byte itself included). */
static size_t modrm_len(const uint8_t *m, size_t avail)
{
	unsigned int mod = m[0] >> 6, rm = m[0] & 7;
	size_t len = 1;

	if (mod == 3)
		return 1;
	if (rm == 4) {
		if (avail < 2)
			return 0;
		len++;		/* SIB */
		if (mod == 0 && (m[1] & 7) == 5)
			len += 4;	/* SIB without base: disp32 */
	} else if (mod == 0 && rm == 5) {
		len += 4;	/* rip-relative disp32 */
	}
	if (mod == 1)
		len += 1;
	else if (mod == 2)
		len += 4;
	return len;
}

/*
 * Length of the nop at @b (0 when @b is not a nop): 90 or 0f 1f /0 behind prefixes;
 * *@is90 tells which.
 */
static size_t nop_len(const uint8_t *b, size_t n, bool *is90)
{
	size_t i = 0, m;
	bool rex = false;

	while (i < n && is_legacy_prefix(b[i]))
		i++;
	if (i < n && (b[i] & 0xf0) == 0x40) {
		rex = b[i] & 1;	/* REX.B turns 90 into xchg %r8d, %eax */
		i++;
	}
	*is90 = i < n && b[i] == 0x90;
	if (*is90)
		return rex ? 0 : i + 1;
	if (i + 2 >= n || b[i] != 0x0f || b[i + 1] != 0x1f || ((b[i + 2] >> 3) & 7) != 0)
		return 0;
	m = modrm_len(b + i + 2, n - i - 2);
	return m ? i + 2 + m : 0;
}

/*
 * Whether the @len-byte nop at @b is the kernel's own encoding of that length
 * (x86_nops[], the P6 forms): the only multi-byte nops kernels before 6.18 emulate.
 */
static bool nop_canonical(const uint8_t *b, size_t len)
{
	static const uint8_t p6[9][8] = {
		[1] = { 0x90 },
		[2] = { 0x66, 0x90 },
		[3] = { 0x0f, 0x1f, 0x00 },
		[4] = { 0x0f, 0x1f, 0x40, 0x00 },
		[5] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 },
		[6] = { 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 },
		[7] = { 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00 },
		[8] = { 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
	};

	return len <= 8 && !memcmp(b, p6[len], len);
}

enum gs_insn_kind gs_insn_classify(const uint8_t *b, size_t n, uint64_t page_off,
				   bool any_nop, const char **what)
{
	bool is90 = false;
	size_t nl;

	*what = "other";
	if (n < 1)
		return GS_INSN_STEPPED;
	nl = nop_len(b, n, &is90);
	/* before 6.18: prefixes + 90, or the kernel's own encodings; others single-step */
	if (nl && !any_nop && !is90 && !nop_canonical(b, nl))
		return GS_INSN_STEPPED;
	if (nl == 5 && page_off % PAGE_BYTES <= PAGE_BYTES - 5) {
		*what = "nop5";
		return GS_INSN_NOP5;
	}
	if (nl) {
		*what = "nop";
		return GS_INSN_EMULATED;
	}
	if ((b[0] >= 0x50 && b[0] <= 0x57) || (n > 1 && b[0] == 0x41 && b[1] >= 0x50 && b[1] <= 0x57))
		*what = "push";
	else if (b[0] == 0xe9 || b[0] == 0xeb)
		*what = "jmp";
	else if (b[0] == 0xe8)
		*what = "call";
	else if ((b[0] >= 0x70 && b[0] <= 0x7f) || (n > 1 && b[0] == 0x0f && b[1] >= 0x80 && b[1] <= 0x8f))
		*what = "jcc";
	else
		return GS_INSN_STEPPED;
	return GS_INSN_EMULATED;
}

bool gs_insn_nop5_optimized(void)
{
	static int known = -1;

	if (known < 0)
		known = syscall(__NR_uprobe) < 0 && (errno == ENXIO || errno == EPROTO);
	return known;
}

const char *gs_insn_kind_text(enum gs_insn_kind k)
{
	switch (k) {
	case GS_INSN_NOP5:
		return gs_insn_nop5_optimized() ?
			"a 5-byte nop: after the first hit the kernel makes it a call to its uprobe trampoline, no trap" :
			"emulated by the kernel; this kernel does not optimize 5-byte nops (Linux 6.18 does)";
	case GS_INSN_EMULATED:
		return "emulated by the kernel";
	default:
		return "single-stepped";
	}
}

// SPDX-License-Identifier: GPL-2.0-or-later
/* How the kernel handles a uprobe hit, from an instruction's first bytes. */
#include <stdint.h>

#include "tests/unit/test.h"
#include "tracer/insn.h"

static bool kind_is(const uint8_t *b, size_t n, uint64_t page_off, bool any_nop,
		    enum gs_insn_kind want, const char *want_what)
{
	const char *what;
	enum gs_insn_kind k = gs_insn_classify(b, n, page_off, any_nop, &what);

	if (k != want || strcmp(what, want_what)) {
		T_FAIL("bytes %02x %02x.. at page offset %" PRIu64 ": got %d '%s', want %d '%s'",
		       b[0], n > 1 ? b[1] : 0, page_off, k, what, want, want_what);
		return false;
	}
	return true;
}

/* On a kernel that emulates every nop form (6.18), and on an older one. */
#define KIND_ON(any, off, want, what, ...) \
	kind_is((const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }), off, \
		any, want, what)
#define KIND(off, want, what, ...) KIND_ON(true, off, want, what, __VA_ARGS__)
#define KIND_OLD(off, want, what, ...) KIND_ON(false, off, want, what, __VA_ARGS__)

bool test_insn__nops(void)
{
	/* gcc -mnop-mcount, clang -fpatchable-function-entry=5 */
	ASSERT_TRUE(KIND(0, GS_INSN_NOP5, "nop5", 0x0f, 0x1f, 0x44, 0x00, 0x00, 0x48));
	ASSERT_TRUE(KIND(0x10, GS_INSN_NOP5, "nop5", 0x0f, 0x1f, 0x44, 0x00, 0x08, 0x48));
	/* prefixed forms of the same length */
	ASSERT_TRUE(KIND(0, GS_INSN_NOP5, "nop5", 0x66, 0x0f, 0x1f, 0x40, 0x00, 0x90));
	ASSERT_TRUE(KIND(0, GS_INSN_NOP5, "nop5", 0x66, 0x66, 0x66, 0x66, 0x90, 0xc3));
	/* the last 5 bytes of a page fit; one byte later it would cross */
	ASSERT_TRUE(KIND(4091, GS_INSN_NOP5, "nop5", 0x0f, 0x1f, 0x44, 0x00, 0x00));
	ASSERT_TRUE(KIND(4092, GS_INSN_EMULATED, "nop", 0x0f, 0x1f, 0x44, 0x00, 0x00));
	/* other lengths are emulated nops: 1, 2, 3, 4, 6, 7, 8 bytes */
	ASSERT_TRUE(KIND(0, GS_INSN_EMULATED, "nop", 0x90, 0x48));
	ASSERT_TRUE(KIND(0, GS_INSN_EMULATED, "nop", 0x66, 0x90, 0x48));
	ASSERT_TRUE(KIND(0, GS_INSN_EMULATED, "nop", 0x0f, 0x1f, 0x00, 0x48));
	ASSERT_TRUE(KIND(0, GS_INSN_EMULATED, "nop", 0x0f, 0x1f, 0x40, 0x00, 0x48));
	ASSERT_TRUE(KIND(0, GS_INSN_EMULATED, "nop", 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00));
	ASSERT_TRUE(KIND(0, GS_INSN_EMULATED, "nop", 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00));
	ASSERT_TRUE(KIND(0, GS_INSN_EMULATED, "nop", 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00));
	/* REX.B 90 is xchg %r8d, %eax; 0f 1f with reg != 0 is not a nop; f3 90 is pause */
	ASSERT_TRUE(KIND(0, GS_INSN_STEPPED, "other", 0x41, 0x90, 0x48));
	ASSERT_TRUE(KIND(0, GS_INSN_STEPPED, "other", 0x0f, 0x1f, 0x4c, 0x00, 0x00));
	ASSERT_TRUE(KIND(0, GS_INSN_STEPPED, "other", 0xf3, 0x90));
	/* truncated input is never taken for a nop5 */
	ASSERT_TRUE(KIND(0, GS_INSN_STEPPED, "other", 0x0f, 0x1f));
	return true;
}

/* Before 6.18 the kernel emulates 90 behind prefixes and its own encodings only. */
bool test_insn__nops_before_6_18(void)
{
	ASSERT_TRUE(KIND_OLD(0, GS_INSN_NOP5, "nop5", 0x0f, 0x1f, 0x44, 0x00, 0x00, 0x48));
	ASSERT_TRUE(KIND_OLD(0, GS_INSN_STEPPED, "other", 0x0f, 0x1f, 0x44, 0x00, 0x08, 0x48));
	ASSERT_TRUE(KIND_OLD(0, GS_INSN_NOP5, "nop5", 0x66, 0x66, 0x66, 0x66, 0x90, 0xc3));
	ASSERT_TRUE(KIND_OLD(0, GS_INSN_STEPPED, "other", 0x66, 0x0f, 0x1f, 0x40, 0x00, 0x90));
	ASSERT_TRUE(KIND_OLD(0, GS_INSN_EMULATED, "nop", 0x90, 0x48));
	ASSERT_TRUE(KIND_OLD(0, GS_INSN_EMULATED, "nop", 0x0f, 0x1f, 0x40, 0x00, 0x48));
	ASSERT_TRUE(KIND_OLD(0, GS_INSN_EMULATED, "nop", 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00));
	ASSERT_TRUE(KIND_OLD(0, GS_INSN_STEPPED, "other", 0x0f, 0x1f, 0x40, 0x08, 0x48));
	ASSERT_TRUE(KIND_OLD(0, GS_INSN_EMULATED, "push", 0x55, 0x48, 0x89, 0xe5));
	return true;
}

bool test_insn__emulated_and_stepped(void)
{
	ASSERT_TRUE(KIND(0, GS_INSN_EMULATED, "push", 0x55, 0x48, 0x89, 0xe5));
	ASSERT_TRUE(KIND(0, GS_INSN_EMULATED, "push", 0x41, 0x57, 0x41, 0x56));
	ASSERT_TRUE(KIND(0, GS_INSN_EMULATED, "jmp", 0xe9, 0x00, 0x01, 0x00, 0x00));
	ASSERT_TRUE(KIND(0, GS_INSN_EMULATED, "jmp", 0xeb, 0x10));
	ASSERT_TRUE(KIND(0, GS_INSN_EMULATED, "call", 0xe8, 0x00, 0x01, 0x00, 0x00));
	ASSERT_TRUE(KIND(0, GS_INSN_EMULATED, "jcc", 0x74, 0x05));
	ASSERT_TRUE(KIND(0, GS_INSN_EMULATED, "jcc", 0x0f, 0x85, 0x00, 0x01, 0x00, 0x00));
	/* mov %rsp,%rbp; endbr64; sub $8,%rsp */
	ASSERT_TRUE(KIND(0, GS_INSN_STEPPED, "other", 0x48, 0x89, 0xe5));
	ASSERT_TRUE(KIND(0, GS_INSN_STEPPED, "other", 0xf3, 0x0f, 0x1e, 0xfa));
	ASSERT_TRUE(KIND(0, GS_INSN_STEPPED, "other", 0x48, 0x83, 0xec, 0x08));
	return true;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of indexer/cfi.c: table invariants, lookup, and every row of the test
 * binary's own .eh_frame cross-checked against libdw's dwarf_cfi_addrframe().
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <stdlib.h>

#include "indexer/cfi.h"
#include "shared/elf.h"
#include "tests/unit/test.h"

/* libdw's answer for one register, in our rule terms. */
static void libdw_rule(Dwarf_Frame *frame, int regno, uint8_t *kind, int64_t *off)
{
	Dwarf_Op mem[3], *ops = NULL;
	size_t nops = 0;

	*off = 0;
	if (dwarf_frame_register(frame, regno, mem, &ops, &nops)) {
		*kind = GS_CFI_UNSUPPORTED;
	} else if (nops == 0) {
		/* libdw.h: ops == ops_mem is "undefined", ops == NULL "same value" */
		*kind = ops ? GS_CFI_UNDEFINED : GS_CFI_SAME;
	} else if (ops[0].atom == DW_OP_call_frame_cfa) {
		size_t k = 1;

		if (k < nops && ops[k].atom == DW_OP_plus_uconst)
			*off = (int64_t)ops[k++].number;
		*kind = k < nops && ops[k].atom == DW_OP_stack_value ? GS_CFI_VAL_OFFSET
								    : GS_CFI_OFFSET;
	} else if (nops == 1 && ops[0].atom == DW_OP_bregx) {
		*kind = GS_CFI_REGISTER;
		*off = (int64_t)ops[0].number;
	} else {
		*kind = GS_CFI_UNSUPPORTED;
	}
}

static bool same_as_libdw(Dwarf_CFI *cfi, uint64_t pc, const struct gs_cfi_row *row)
{
	Dwarf_Frame *frame = NULL;
	Dwarf_Op *ops = NULL;
	size_t nops = 0;
	uint8_t kind;
	int64_t off;
	bool ok = false;
	char buf[96];

	if (dwarf_cfi_addrframe(cfi, pc, &frame)) {
		T_FAIL("0x%" PRIx64 ": libdw has no frame: %s", pc, dwarf_errmsg(-1));
		return false;
	}
	if (dwarf_frame_cfa(frame, &ops, &nops))
		goto out;
	if (row->cfa_rule == GS_CFI_CFA_REG) {
		if (nops != 1 || ops[0].atom != DW_OP_bregx || ops[0].number != row->cfa_reg ||
		    (int64_t)ops[0].number2 != row->cfa_off)
			goto out;
	} else if (nops == 1 && ops[0].atom == DW_OP_bregx) {
		goto out;
	}
	libdw_rule(frame, 16, &kind, &off);
	if (kind != row->ra_rule || off != row->ra_off)
		goto out;
	libdw_rule(frame, 6, &kind, &off);
	if (kind != row->rbp_rule || off != row->rbp_off)
		goto out;
	ok = true;
out:
	if (!ok)
		T_FAIL("0x%" PRIx64 ": ours %s differs from libdw", pc,
		       gs_cfi_row_str(row, buf, sizeof(buf)));
	free(frame);
	return ok;
}

bool test_cfi__self_matches_libdw(void)
{
	struct gs_cfi_row *rows = NULL;
	struct gs_cfi_entry *ents = NULL;
	size_t nrows = 0, nents = 0, checked = 0;
	struct gs_elf *elf = NULL;
	Dwarf_CFI *cfi;
	bool ok = false;

	ASSERT_EQ(gs_elf_open("/proc/self/exe", &elf), 0);
	ASSERT_GOTO(gs_cfi_build(gs_elf_handle(elf), NULL, &rows, &nrows, &ents, &nents) == 0, out);
	ASSERT_GOTO(nrows > 5 && nents > 100, out);
	cfi = dwarf_getcfi_elf(gs_elf_handle(elf));
	ASSERT_GOTO(cfi != NULL, out);
	for (size_t i = 0; i < nents; i++) {
		if (ents[i].row == UINT32_MAX)
			continue;
		if (!same_as_libdw(cfi, ents[i].pc, &rows[ents[i].row]))
			goto out_cfi;
		checked++;
	}
	ASSERT_GOTO(checked > 100, out_cfi);
	ok = true;
out_cfi:
	dwarf_cfi_end(cfi);
out:
	free(rows);
	free(ents);
	gs_elf_close(elf);
	return ok;
}

bool test_cfi__table_invariants(void)
{
	struct gs_cfi_row *rows = NULL;
	struct gs_cfi_entry *ents = NULL;
	size_t nrows = 0, nents = 0;
	struct gs_symbol *syms = NULL;
	size_t nsyms = 0;
	struct gs_elf *elf = NULL;
	bool ok = false, found = false;

	_Static_assert(sizeof(struct gs_cfi_row) == 16, "row is 16 bytes");
	_Static_assert(sizeof(struct gs_cfi_entry) == 16, "entry is 16 bytes");
	ASSERT_EQ(gs_elf_open("/proc/self/exe", &elf), 0);
	ASSERT_GOTO(gs_cfi_build(gs_elf_handle(elf), NULL, &rows, &nrows, &ents, &nents) == 0, out);
	ASSERT_GOTO(nents > 0 && ents[nents - 1].row == UINT32_MAX, out);
	for (size_t i = 0; i < nents; i++) {
		ASSERT_GOTO(ents[i].row == UINT32_MAX || ents[i].row < nrows, out);
		ASSERT_GOTO(ents[i].reserved == 0, out);
		if (i) {
			ASSERT_GOTO(ents[i].pc > ents[i - 1].pc, out);
			ASSERT_GOTO(ents[i].row != ents[i - 1].row, out);
		}
	}
	for (size_t i = 0; i < nrows; i++)
		for (size_t j = i + 1; j < nrows; j++)
			ASSERT_GOTO(memcmp(&rows[i], &rows[j], sizeof(rows[i])), out);
	/* Any x86-64 function's entry row: CFA = rsp+8, return address at CFA-8. */
	ASSERT_GOTO(gs_elf_symbols(elf, &syms, &nsyms) == 0, out);
	for (size_t i = 0; i < nsyms; i++) {
		if (!strcmp(syms[i].name, "gs_cfi_build")) {
			uint32_t r = gs_cfi_lookup(ents, nents, syms[i].value);
			char buf[96];

			ASSERT_GOTO(r < nrows, out);
			ASSERT_GOTO(!strcmp(gs_cfi_row_str(&rows[r], buf, sizeof(buf)),
					    "cfa=rsp+8 ra=c-8 rbp=s"), out);
			found = true;
		}
	}
	ASSERT_GOTO(found, out);
	ok = true;
out:
	free(rows);
	free(ents);
	free(syms);
	gs_elf_close(elf);
	return ok;
}

bool test_cfi__lookup(void)
{
	const struct gs_cfi_entry ents[] = {
		{ .pc = 0x1000, .row = 0 }, { .pc = 0x1004, .row = 1 },
		{ .pc = 0x1010, .row = UINT32_MAX }, { .pc = 0x1020, .row = 2 },
		{ .pc = 0x1030, .row = UINT32_MAX },
	};

	ASSERT_EQ(gs_cfi_lookup(ents, 5, 0xfff), UINT32_MAX);
	ASSERT_EQ(gs_cfi_lookup(ents, 5, 0x1000), 0);
	ASSERT_EQ(gs_cfi_lookup(ents, 5, 0x1003), 0);
	ASSERT_EQ(gs_cfi_lookup(ents, 5, 0x1004), 1);
	ASSERT_EQ(gs_cfi_lookup(ents, 5, 0x1015), UINT32_MAX);
	ASSERT_EQ(gs_cfi_lookup(ents, 5, 0x102f), 2);
	ASSERT_EQ(gs_cfi_lookup(ents, 5, 0x1030), UINT32_MAX);
	ASSERT_EQ(gs_cfi_lookup(ents, 0, 0x1000), UINT32_MAX);
	return true;
}

bool test_cfi__row_str(void)
{
	const struct gs_cfi_row a = { GS_CFI_CFA_REG, 7, GS_CFI_OFFSET, GS_CFI_SAME, 8, -8, 0 };
	const struct gs_cfi_row b = { GS_CFI_UNSUPPORTED, 0, GS_CFI_UNDEFINED, GS_CFI_REGISTER,
				      0, 0, 0 };
	const struct gs_cfi_row c = { GS_CFI_CFA_REG, 6, GS_CFI_VAL_OFFSET, GS_CFI_UNSUPPORTED,
				      16, 8, 0 };
	char buf[96];

	ASSERT_STREQ(gs_cfi_row_str(&a, buf, sizeof(buf)), "cfa=rsp+8 ra=c-8 rbp=s");
	ASSERT_STREQ(gs_cfi_row_str(&b, buf, sizeof(buf)), "cfa=exp ra=u rbp=rax");
	ASSERT_STREQ(gs_cfi_row_str(&c, buf, sizeof(buf)), "cfa=rbp+16 ra=v+8 rbp=exp");
	return true;
}

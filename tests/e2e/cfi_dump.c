// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Test tool: prints the CFI table gs_cfi_build() makes for an ELF file, one line per
 * entry ("0x<pc> cfa=rsp+16 ra=c-8 rbp=c-16", or "0x<pc> gap"), after a line
 * "rows N entries M"; then the other callee-saved registers' table, after "saved rows
 * N entries M", one line per entry ("S0x<pc> rbx=c-24 r12=s r13=s r14=s r15=s"). Built by tests/e2e/test_cfi_readelf.sh; also runs
 * gs_debuginfo_open() so the bad-input tests exercise the whole reading path.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "indexer/cfi.h"
#include "indexer/debuginfo.h"
#include "shared/elf.h"
#include "shared/errors.h"

int main(int argc, char **argv)
{
	struct gs_debuginfo *di = NULL;
	struct gs_cfi_row *rows = NULL;
	struct gs_cfi_entry *ents = NULL;
	struct gs_cfi_saved_table sv = { 0 };
	size_t nrows = 0, nents = 0;
	struct gs_elf *elf = NULL;
	char buf[128];
	int err;

	if (argc < 2) {
		fprintf(stderr, "usage: cfi_dump ELF [DEBUG_FILE]\n");
		return 2;
	}
	err = gs_elf_open(argv[1], &elf);
	if (err)
		goto out;
	err = gs_debuginfo_open(argv[1], argc > 2 ? argv[2] : NULL, &di);
	if (err)
		goto out;
	err = gs_cfi_build_all(gs_elf_handle(elf), di->debug_elf, &rows, &nrows, &ents, &nents,
			       &sv);
	if (err)
		goto out;
	printf("source %s\ndwarf %s bytes %" PRIu64 " bias %" PRIu64 "\nrows %zu entries %zu\n",
	       di->source, di->dwarf ? "yes" : "no", di->dwarf_bytes, (uint64_t)di->bias,
	       nrows, nents);
	for (size_t i = 0; i < nents; i++) {
		if (ents[i].row == UINT32_MAX)
			printf("0x%" PRIx64 " gap\n", ents[i].pc);
		else
			printf("0x%" PRIx64 " %s\n", ents[i].pc,
			       gs_cfi_row_str(&rows[ents[i].row], buf, sizeof(buf)));
	}
	printf("saved rows %zu entries %zu\n", sv.nrows, sv.nents);
	for (size_t i = 0; i < sv.nents; i++) {
		if (sv.ents[i].row == UINT32_MAX)
			printf("S0x%" PRIx64 " gap\n", sv.ents[i].pc);
		else
			printf("S0x%" PRIx64 " %s\n", sv.ents[i].pc,
			       gs_cfi_saved_str(&sv.rows[sv.ents[i].row], buf, sizeof(buf)));
	}
out:
	if (err)
		fprintf(stderr, "cfi_dump: '%s': %s\n", argv[1], gs_strerror(err));
	free(rows);
	free(ents);
	free(sv.rows);
	free(sv.ents);
	gs_debuginfo_close(di);
	gs_elf_close(elf);
	return err ? 1 : 0;
}

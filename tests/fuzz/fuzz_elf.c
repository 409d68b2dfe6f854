// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target over the ELF/DWARF reading path: the input bytes become a file
 * (a memfd, reached by its /proc path) that goes through gs_elf_open and every
 * shared/elf.h reader, gs_debuginfo_open (search path pointed at nothing, no
 * debuginfod) and gs_cfi_build, then a walk over the CUs and DIEs libdw hands back.
 * See README.md for building, running and reproducing.
 */
#include <elfutils/libdw.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "indexer/cfi.h"
#include "indexer/debuginfo.h"
#include "shared/elf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	setenv("GHOSTSCOPE_DEBUG_ROOT", "", 1);	/* no debug roots: nothing but the input */
	unsetenv("DEBUGINFOD_URLS");
	return 0;
}

/* Touches every DIE of every CU, bounded, as the indexer's walk would. */
static void walk_dwarf(Dwarf *dw)
{
	Dwarf_Off off = 0, next;
	size_t hsize;
	unsigned int budget = 100000;

	while (budget && dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, die;

		if (dwarf_offdie(dw, off + hsize, &cu) && dwarf_child(&cu, &die) == 0) {
			do {
				Dwarf_Addr lo;

				(void)dwarf_diename(&die);
				(void)dwarf_lowpc(&die, &lo);
			} while (--budget && dwarf_siblingof(&die, &die) == 0);
		}
		off = next;
	}
}

static void run(const char *path)
{
	struct gs_debuginfo *di = NULL;
	struct gs_segment *segs = NULL;
	struct gs_symbol *syms = NULL;
	struct gs_cfi_row *rows = NULL;
	struct gs_cfi_entry *ents = NULL;
	size_t n, nrows, nents;
	struct gs_elf *elf = NULL;
	uint16_t type, mach;
	uint64_t off;
	char id[41];

	if (gs_elf_open(path, &elf))
		return;
	(void)gs_elf_build_id(elf, id);
	(void)gs_elf_type(elf, &type, &mach);
	if (!gs_elf_segments(elf, &segs, &n) && n)
		(void)gs_elf_vaddr_to_offset(segs, n, segs[0].vaddr, &off);
	if (!gs_elf_symbols(elf, &syms, &n)) {
		size_t len = 0;

		for (size_t i = 0; i < n; i++)	/* names must be readable C strings */
			len += strlen(syms[i].name);
		(void)len;
	}
	if (!gs_debuginfo_open(path, NULL, &di) && di->dwarf)
		walk_dwarf(di->dwarf);
	if (!gs_cfi_build(gs_elf_handle(elf), di ? di->debug_elf : NULL, &rows, &nrows, &ents,
			  &nents)) {
		for (size_t i = 0; i < nents; i++)
			if (ents[i].row != UINT32_MAX && ents[i].row >= nrows)
				abort();	/* a row index out of range is a bug */
	}
	free(rows);
	free(ents);
	gs_debuginfo_close(di);
	free(syms);
	free(segs);
	gs_elf_close(elf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	int fd = memfd_create("gs-fuzz", MFD_CLOEXEC);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		run(path);
	}
	close(fd);
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Finds the DWARF for an ELF file and says where it came from.
 *
 * Order: the binary's own .debug_* sections (zlib-compressed ones too, libdw inflates
 * them; zstd needs elfutils 0.189); .gnu_debuglink with its CRC checked, in the
 * binary's directory, its .debug/ and <root>/<dir>; <root>/.build-id/xx/yyyy.debug
 * with the build-id checked; debuginfod when $DEBUGINFOD_URLS is set (through
 * libdwfl's standard callback and libdebuginfod's cache). Or one file named by
 * --debug-file, whose build-id must match the binary's.
 *
 * <root> is /usr/lib/debug, or each entry of the colon-separated $GHOSTSCOPE_DEBUG_ROOT
 * (tests point it at a scratch tree; an empty value means no root).
 */
#ifndef GS_INDEXER_DEBUGINFO_H
#define GS_INDEXER_DEBUGINFO_H

#include <elfutils/libdw.h>
#include <libelf.h>
#include <stdint.h>

struct gs_debuginfo {
	Dwarf *dwarf;		/* NULL when there is no DWARF */
	Elf *debug_elf;		/* the ELF holding the DWARF (may be the main file); NULL
				 * when dwarf is NULL */
	Dwarf_Addr bias;	/* add to DWARF addresses to get main-ELF vaddrs, normally 0 */
	char *source;		/* "embedded", "debuglink:/path", "build-id:/path",
				 * "debuginfod:/path", "debug-file:/path" or "none" */
	uint64_t dwarf_bytes;	/* total (uncompressed) size of the .debug_* sections */
};

/*
 * Opens the DWARF for the ELF at @elf_path, from @debug_file when non-NULL (the
 * --debug-file option), else by the search above. Everything in *@di_ret, including
 * dwarf, debug_elf and source, is owned by it until gs_debuginfo_close().
 * Returns 0 (also when no DWARF exists anywhere: dwarf == NULL, source "none"),
 * -errno / -GS_ERR_NOT_ELF / -GS_ERR_BAD_ELF for @elf_path or @debug_file,
 * -GS_ERR_BUILD_ID_MISMATCH when @debug_file's build-id differs from the binary's,
 * -GS_ERR_BAD_DWARF when DWARF sections exist but libdw cannot read them, -ENOMEM.
 * The detailed reason of a failure is logged once to stderr ("debuginfo: ...").
 */
int gs_debuginfo_open(const char *elf_path, const char *debug_file,
		      struct gs_debuginfo **di_ret);
/* Releases the Dwarf, the ELF handles and the strings. Accepts NULL. */
void gs_debuginfo_close(struct gs_debuginfo *di);

/* The standard .gnu_debuglink CRC-32 (zlib's) of @len bytes, continuing from @crc. */
uint32_t gs_debuglink_crc32(uint32_t crc, const void *buf, size_t len);

#endif /* GS_INDEXER_DEBUGINFO_H */

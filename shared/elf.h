/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An opened ELF file (fd + libelf handle) and the few facts both programs read from it:
 * GNU build-id, type and machine, PT_LOAD segments, symbols, vaddr -> file offset.
 *
 * Inputs are hostile: every reader checks bounds through libelf and returns
 * -GS_ERR_BAD_ELF rather than trusting a header. Logging: failures that carry detail
 * (libelf's message) are logged once to stderr with the "elf: " prefix and the path;
 * -errno from open(2) and -GS_ERR_NOT_ELF are NOT logged, so a directory walk can skip
 * and count non-ELF files quietly.
 */
#ifndef GS_SHARED_ELF_H
#define GS_SHARED_ELF_H

#include <elf.h>
#include <gelf.h>
#include <libelf.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/index.h"

struct gs_elf;

/*
 * Opens @path read-only (mmap'd by libelf). On success *@elf_ret owns the fd and the
 * Elf handle until gs_elf_close().
 * Returns 0, -errno (open/fstat failed, e.g. -ENOENT, -EACCES, -EISDIR),
 * -GS_ERR_NOT_ELF (not an ELF file: a script, an archive, empty), -GS_ERR_BAD_ELF (ELF
 * magic but the headers do not parse). Nothing to clean up after a failure.
 */
int gs_elf_open(const char *path, struct gs_elf **elf_ret);
/* Ends the Elf handle and closes the fd. Accepts NULL. */
void gs_elf_close(struct gs_elf *elf);

/* The libelf handle, owned by @elf (never elf_end() it). */
Elf *gs_elf_handle(struct gs_elf *elf);
/* The path given to gs_elf_open(), owned by @elf. */
const char *gs_elf_path(struct gs_elf *elf);

/*
 * The GNU build-id note (from the program headers, else the sections) as lowercase hex
 * in @hex_ret (NUL-terminated, 2 digits per byte). Returns 0, -GS_ERR_NO_BUILD_ID,
 * -E2BIG for a build-id longer than 20 bytes (the cache names files by at most 40
 * digits), -GS_ERR_BAD_ELF.
 */
int gs_elf_build_id(struct gs_elf *elf, char hex_ret[41]);
/* The same on a raw libelf handle (for debug files opened by libdwfl). */
int gs_elf_build_id_raw(Elf *elf, char hex_ret[41]);
/* Opens @path, reads its build-id, closes it. Errors as gs_elf_open + gs_elf_build_id. */
int gs_build_id_of_path(const char *path, char hex_ret[41]);
/*
 * The running program's build-id (hex), read once: the caches key on it. "" when it
 * has none.
 */
const char *gs_self_build_id(void);

/* The most program headers gs_elf_pread_phdrs reads. */
#define GS_ELF_PHDR_MAX 64

/*
 * The ELF header and program headers of the little-endian ELF64 file open at @fd,
 * with two preads (libelf would map and check the whole file): returns how many
 * headers went to @ph (at most @max), or -ENOENT when the file is not one read this
 * way. Only for the few facts the tracer needs at start-up; the indexer uses libelf.
 */
int gs_elf_pread_phdrs(int fd, Elf64_Ehdr *eh, Elf64_Phdr *ph, size_t max);

/*
 * The GNU build-id in the PT_NOTE segment @ph of the file open at @fd (preads, every
 * size checked): its 1-20 bytes, their count and the vaddr they are loaded at.
 * -ENOENT when @ph is not a note segment holding one.
 */
int gs_elf_pread_build_id(int fd, const Elf64_Phdr *ph, uint8_t id_ret[20], size_t *len_ret,
			  uint64_t *vaddr_ret);

/* e_type (ET_EXEC, ET_DYN, ...) and e_machine (EM_X86_64, ...). 0 or -GS_ERR_BAD_ELF. */
int gs_elf_type(struct gs_elf *elf, uint16_t *type_ret, uint16_t *machine_ret);

/*
 * Every PT_LOAD program header, in file order, as a malloc'd array the caller frees.
 * A file with none gives 0 with *segs_ret = NULL, *cnt_ret = 0.
 * Returns 0, -ENOMEM, -GS_ERR_BAD_ELF.
 */
int gs_elf_segments(struct gs_elf *elf, struct gs_segment **segs_ret, size_t *cnt_ret);

/*
 * The symbols of .symtab, then .dynsym (dynamic = true), as a malloc'd array the
 * caller frees. Kept: named, defined (st_shndx != SHN_UNDEF) symbols of every type
 * except STT_SECTION and STT_FILE. Names point into the ELF data and stay valid until
 * gs_elf_close(). A file with no symbols gives 0 with NULL and 0.
 * Returns 0, -ENOMEM, -GS_ERR_BAD_ELF.
 */
int gs_elf_symbols(struct gs_elf *elf, struct gs_symbol **syms_ret, size_t *cnt_ret);

/*
 * File offset of @vaddr: vaddr - p_vaddr + p_offset of the first PT_LOAD whose file
 * image [p_vaddr, p_vaddr + p_filesz) holds it (a uprobe needs an offset that exists
 * in the file, so .bss addresses have none). Returns 0 or -ENOENT.
 */
int gs_elf_vaddr_to_offset(const struct gs_segment *segs, size_t cnt, uint64_t vaddr,
			   uint64_t *off_ret);

/*
 * The section called @name, or NULL (also when the file has no section headers).
 * The Elf_Scn is owned by @elf.
 */
Elf_Scn *gs_elf_section_by_name(Elf *elf, const char *name);

#endif /* GS_SHARED_ELF_H */

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * On-disk layout of a module index: LMDB named databases, their key and value layouts,
 * magic and schema version. The writer (indexer/writer.c) and the reader
 * (shared/index.c) both follow this file; docs/index-format.md explains it in prose.
 *
 * Keys are big-endian so that LMDB's memcmp order is numeric order: a range scan over
 * "func_addr" visits functions by address. Long names never appear in keys: a name
 * key is XXH3-64(name) followed by the record id, and the record holds the full name,
 * which the reader compares before answering (hash collisions cost one extra get).
 *
 * Values use the varint encoding of shared/enc.h: "u" is ULEB128, "s" SLEB128, "str"
 * is u(len + 1) then len bytes and a NUL (0 encodes NULL), "u8" one byte. Raw arrays
 * (CFI) are little-endian, as the BPF side loads them.
 *
 * A reader refuses a file whose magic differs or whose major version differs from
 * GS_SCHEMA_MAJOR (GS_ERR_SCHEMA: re-index). Minor versions only add databases or
 * append fields at the end of records, which older readers ignore.
 */
#ifndef GS_SHARED_SCHEMA_H
#define GS_SHARED_SCHEMA_H

#include <stdint.h>

#define GS_INDEX_MAGIC		"GSIDX\x1a\x0d\x0a"	/* 8 bytes, in meta/"magic" */
#define GS_SCHEMA_MAJOR		1
#define GS_SCHEMA_MINOR		0
#define GS_INDEX_SUFFIX		".gsidx"

/*
 * The named databases. X(id, "name", key layout, value layout).
 *
 *  meta        "magic" -> 8 bytes; "schema" -> u32le major, u32le minor;
 *              "module" -> module record; "checksums" -> u count, count x (str db, u64le)
 *  sym         id BE32 -> str name, u value, u size, u8 type, u8 bind, u8 dynamic
 *  sym_name    xxh(name) BE64, id BE32 -> empty
 *  sym_addr    value BE64, id BE32 -> empty (STT_FUNC, STT_OBJECT, STT_GNU_IFUNC)
 *  func        id BE32 -> str name, str qual, str linkage, str symbol, u entry,
 *              u post_prologue, u nranges, nranges x (u lo, u hi - lo), u decl_file,
 *              u decl_line, u ret_type, u flags
 *  func_name   xxh(name) BE64, id BE32 -> empty; one key for each of name, qual_name,
 *              linkage, symbol and the symbols at each range start (clones, .cold)
 *  func_addr   lo BE64, id BE32 -> u hi; one key per range
 *  scope       func id BE32 -> scope tree (see below)
 *  inline      seq BE32 -> str name, str qual, u func_id, u entry, ranges, u call_file,
 *              u call_line, u call_column
 *  inline_name xxh(name) BE64, seq BE32 -> empty (name and qual name)
 *  callsite    return_pc BE64 -> u caller, u target, u nparams, nparams x (expr, expr);
 *              only call sites with DW_AT_call_value parameters are stored
 *  file        id BE32 -> str full path
 *  file_base   xxh(basename) BE64, id BE32 -> empty
 *  line_addr   file BE32, line / GS_LINE_BUCKET BE32 -> u nlines, nlines x (u line %
 *              GS_LINE_BUCKET, u n, n x (u addr delta from previous, u func_id))
 *  line        first addr BE64 -> u n, n x (u8 flags, u addr delta, [u file when
 *              flags & GS_LINE_F_FILE], s line delta, u column); file and line start
 *              at 0 in each chunk; chunks of about GS_LINE_CHUNK rows, address-sorted,
 *              split only where the address changes
 *  type        id BE32 -> type record (see below)
 *  type_name   xxh(name) BE64, id BE32 -> empty
 *  global      id BE32 -> str qual name, var record
 *  global_name xxh(name) BE64, id BE32 -> empty (name and qual name)
 *  global_addr addr BE64, id BE32 -> empty (globals at a fixed DW_OP_addr)
 *  cfi         "rows" -> struct gs_cfi_row[] LE; "entries" -> struct gs_cfi_entry[] LE
 *
 * module record: str build_id, str path, u elf_type, u machine, u nseg,
 *   nseg x (u vaddr, u memsz, u offset, u filesz, u flags), u8 has_dwarf,
 *   str debug_source, u dwarf_versions, str producer, u index_time,
 *   u nfuncs, u ninlines, u nvars, u ntypes, u nlines, u ncfi, u nsymbols, u nglobals,
 *   u dwarf_bytes
 * expr: u nops, nops x (u8 atom, s n1, s n2), u blob_len, blob bytes
 * location: u8 kind; EXPR: expr; LIST: u32le n, n x (s lo - previous hi (0 at
 *   first), u hi - lo, expr);
 *   CONST: s cval, u cval_len, bytes
 * var record: str name, u type, u8 kind, u8 flags, u decl_file, u decl_line, location
 * scope tree: u8 kind, str name, u nranges, ranges, u call_file, u call_line,
 *   location frame_base, u32le nvars, vars, u32le nchildren, children (recursive,
 *   depth-limited to GS_SCOPE_MAX_DEPTH on read; fixed-width counts so the writer can
 *   patch them in place)
 * type record: u8 kind, u8 encoding, u8 flags (1 declaration, 2 signed, 4 varargs),
 *   str name, u size, u target, u nmembers, nmembers x (str name, u type, u bit_offset,
 *   u bit_size), u nenum, nenum x (str name, s value), u ndims, ndims x u,
 *   u nparams, nparams x u
 */
#define GS_INDEX_DBS(X)							\
	X(GS_DB_META,		"meta")						\
	X(GS_DB_SYM,		"sym")						\
	X(GS_DB_SYM_NAME,	"sym_name")					\
	X(GS_DB_SYM_ADDR,	"sym_addr")					\
	X(GS_DB_FUNC,		"func")						\
	X(GS_DB_FUNC_NAME,	"func_name")					\
	X(GS_DB_FUNC_ADDR,	"func_addr")					\
	X(GS_DB_SCOPE,		"scope")					\
	X(GS_DB_INLINE,		"inline")					\
	X(GS_DB_INLINE_NAME,	"inline_name")					\
	X(GS_DB_CALLSITE,	"callsite")					\
	X(GS_DB_FILE,		"file")						\
	X(GS_DB_FILE_BASE,	"file_base")					\
	X(GS_DB_LINE_ADDR,	"line_addr")					\
	X(GS_DB_LINE,		"line")						\
	X(GS_DB_TYPE,		"type")						\
	X(GS_DB_TYPE_NAME,	"type_name")					\
	X(GS_DB_GLOBAL,		"global")					\
	X(GS_DB_GLOBAL_NAME,	"global_name")					\
	X(GS_DB_GLOBAL_ADDR,	"global_addr")					\
	X(GS_DB_CFI,		"cfi")

enum gs_db {
#define GS_DB_ENUM(id, name) id,
	GS_INDEX_DBS(GS_DB_ENUM)
#undef GS_DB_ENUM
	GS_DB_COUNT
};

extern const char *const gs_db_names[GS_DB_COUNT];

enum {
	GS_LINE_CHUNK		= 64,	/* rows per "line" chunk */
	GS_LINE_BUCKET		= 16,	/* lines per "line_addr" key */
	GS_LINE_F_FILE		= 0x80,	/* "line" row flag: a file id follows */
	GS_SCOPE_MAX_DEPTH	= 64,
	GS_TYPE_F_DECL		= 1,
	GS_TYPE_F_SIGNED	= 2,
	GS_TYPE_F_VARARGS	= 4,
};

/* Big-endian key helpers. */
static inline void gs_key_put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}
static inline void gs_key_put64(uint8_t *p, uint64_t v)
{
	gs_key_put32(p, v >> 32);
	gs_key_put32(p + 4, (uint32_t)v);
}
static inline uint32_t gs_key_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t gs_key_get64(const uint8_t *p)
{
	return (uint64_t)gs_key_get32(p) << 32 | gs_key_get32(p + 4);
}

/* The hash used for name keys: XXH3-64 of the bytes of @name (no NUL). */
uint64_t gs_name_hash(const char *name);

#endif /* GS_SHARED_SCHEMA_H */

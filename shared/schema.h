/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * On-disk layout of a module index: LMDB named databases, their key and value layouts,
 * magic and schema version. The writer (indexer/writer.c and the files that fill its
 * tables) and the reader (shared/index.c) both follow this file;
 * docs/index-format.md explains it in prose.
 *
 * Keys are big-endian so that LMDB's memcmp order is numeric order: a range scan over
 * "func_addr" visits functions by address. Schema 2 keeps LMDB's per-key overhead
 * (about 20 bytes) off small records: records, names, addresses, call sites and line
 * rows are grouped several to a key, and names are references into one string table.
 *
 * Values use the varint encoding of shared/enc.h: "u" is ULEB128, "s" SLEB128, "zz"
 * zigzag in a ULEB128, "str" is u(len + 1) then len bytes and a NUL (0 encodes NULL),
 * "u8" one byte, "sref" a u string reference: 0 is NULL, else the string's id in "str"
 * + 1. Raw arrays (CFI) are little-endian, as the BPF side loads them.
 *
 * A reader refuses a file whose magic differs or whose major version differs from
 * GS_SCHEMA_MAJOR (GS_ERR_SCHEMA: re-index). Minor versions only add databases or
 * append fields at the end of records, which older readers ignore.
 *
 *  meta        "magic" -> 8 bytes; "schema" -> u32le major, u32le minor;
 *              "module" -> module record; "checksums" -> u count, count x (str db, u64le)
 *  str         chunk BE32 -> GS_STR_CHUNK NUL-terminated strings back to back; string
 *              id k is the (k % GS_STR_CHUNK)-th of chunk k / GS_STR_CHUNK
 *
 *  Record tables (sym, func, inline, global): key (id - 1) / GS_REC_CHUNK BE32 ->
 *  records of ids chunk * GS_REC_CHUNK + 1 ... back to back, each "u len, bytes".
 *  sym         u8 type | dynamic << 4 | twin << 5, [sref name, s value - previous
 *              record's value (0 first), u size: not for a twin, which repeats the
 *              previous record's], u8 bind
 *  func        sref name, sref qual (0: same as name), sref linkage, sref-as symbol,
 *              u entry, s post_prologue - entry, ranges from entry, u decl_file,
 *              u decl_line, u ret_type, u flags, u naliases, naliases x sref-as alias
 *              (alias against symbol); "sref-as": 0 NULL, 1 same as the other, else
 *              the string id + 2; since 3.1: u ncallers, ncallers x s (return pc of a
 *              "callsite" whose target it is - previous, the entry first)
 *  inline      sref name, sref qual (0: same), u func_id, s entry - the function's
 *              entry, ranges from entry, u call_file, u call_line, u call_column
 *  global      var record, u qual: 0 none, 1 the name, 2 then u F for "<qual name of
 *              function F>::<name>" (a static local), else the string id + 3
 *
 *  Name tables (sym_name, func_name, inline_name, global_name, type_name, file_base):
 *  key xxh(name) BE64 of the chunk's first entry -> groups until the value ends, one
 *  per hash in hash order: u8[2] low 16 bits of the hash (little-endian), u n, n x u
 *  (id - previous id); GS_KEY_CHUNK entries or more (a chunk ends only where the hash
 *  changes). The reader seeks to the last chunk <= the hash and confirms the name.
 *  func_name holds name, qual name, linkage, symbol and aliases; inline_name and
 *  global_name name and qual name.
 *
 *  Address tables (sym_addr, func_addr, global_addr): key first address BE64 -> entries
 *  until the value ends: u addr - previous (0 first), s id - previous id (0 first)
 *  [, u len for func_addr]; GS_KEY_CHUNK entries or more (ends where the address
 *  changes). sym_addr: STT_FUNC, STT_OBJECT, STT_GNU_IFUNC; func_addr: one entry per
 *  range; global_addr: globals at a fixed DW_OP_addr.
 *
 *  scope       func id BE32 -> u ntmpl, ntmpl x (sref name, u type, u zz(decl_line -
 *              previous) << 1 | decl_file changed, [u decl_file]), scope tree
 *  callsite    first return_pc BE64 -> u n, n x (u (return pc - previous) << 3 |
 *              min(nparams, 7), [u nparams], s caller - previous (0 first), u target,
 *              nparams x (expr location, expr value)); GS_CALLSITE_CHUNK sites a key;
 *              only call sites with DW_AT_call_value parameters are stored
 *  file        id BE32 -> str full path
 *  line_addr   file BE32, line / GS_LINE_BUCKET BE32 -> u nlines, nlines x (u (line %
 *              GS_LINE_BUCKET - previous line's - 1 (-0 first)) << 3 | min(n, 7),
 *              [u n], n x (u zz(addr - previous addr) << 1 | func changed, [u func]));
 *              addr and func run on across the lines of a bucket from 0
 *  line        first addr BE64 -> u n, n x row; about GS_LINE_CHUNK rows, address-
 *              sorted, split only where the address changes; file and line start at 0
 *              in each chunk. Row: u8 is_stmt | rare << 1 | min(column, 63) << 2,
 *              [u8 rare: GS_LINE_R_*], u8 min(addr delta, 15) | (line delta + 8 if in
 *              -7..7, else 0) << 4, [u addr delta], [s line delta], [u file if
 *              GS_LINE_R_FILE], [u column if 63]
 *  type        id BE32 -> type record (see below)
 *  cfi         "rows" -> struct gs_cfi_row[] LE; "entries" -> struct gs_cfi_entry[] LE,
 *              or since 3.2, when every pc is within 4 GiB of the first,
 *              "base" -> u64le first pc and "entries32" -> (u32le pc - base, u32le row)[];
 *              since 3.2 "saved_rows" -> struct gs_cfi_saved[] LE and "saved_entries32"
 *              (same base and layout) or "saved_entries" (rbx and r12-r15; x86-64)
 *
 * module record: str build_id, str path, u elf_type, u machine, u nseg,
 *   nseg x (u vaddr, u memsz, u offset, u filesz, u flags), u8 has_dwarf,
 *   str debug_source, u dwarf_versions, str producer, u index_time,
 *   u nfuncs, u ninlines, u nvars, u ntypes, u nlines, u ncfi, u nsymbols, u nglobals,
 *   u dwarf_bytes
 * ranges from B: u n, n x (s lo - B, u hi - lo)
 * expr: the first byte says: 0x20 + N a lone DW_OP_bregN 0; 0x40 + N a lone DW_OP_regN;
 *   0x60 + N a lone DW_OP_bregN then s offset; else "u (nops << 1 | has blob)" (a value
 *   from 0x20 to 0x7f written as two bytes), nops x (u8 atom, gs_op_arity() x s
 *   operand), [u blob_len, blob]
 * location: u8 kind; EXPR: expr; LIST: u n, n x (u (hi - lo) << 1 | gap, [s lo -
 *   previous hi (the first entry always, from 0; in scope trees from the function's
 *   first lo)], expr); CONST: s cval, u cval_len, bytes
 * var record: u8 kind | flags << 2 | location kind << 5, sref name, u type,
 *   u decl_file, u decl_line, location without its kind byte; in a scope tree
 *   "u8 the same, u template, location without its kind byte"
 * scope tree: u kind | nranges << 2, [sref name: inlines; the function's name at the
 *   root], nranges x (s lo - parent's first lo (0 at the root), u hi - lo), [u call_file,
 *   u call_line: inlines], [location frame_base: the root], u rest (the bytes of what
 *   follows, to skip the scope), u nvars, vars, u nchildren, children (recursive,
 *   depth-limited to GS_SCOPE_MAX_DEPTH on read)
 * type record: u8 kind, u8 encoding, u8 flags (1 declaration, 2 signed, 4 varargs),
 *   str name, u size, u target, u nmembers, nmembers x (sref name, u type,
 *   u bit_offset, u bit_size), u nenum, nenum x (sref name, s value), u ndims,
 *   ndims x u, u nparams, nparams x u
 */
#ifndef GS_SHARED_SCHEMA_H
#define GS_SHARED_SCHEMA_H

#include <stdint.h>

#define GS_INDEX_MAGIC		"GSIDX\x1a\x0d\x0a"	/* 8 bytes, in meta/"magic" */
#define GS_SCHEMA_MAJOR		3
#define GS_SCHEMA_MINOR		2
#define GS_INDEX_SUFFIX		".gsidx"

/* The named databases: X(id, "name"), layouts above. */
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
	X(GS_DB_CFI,		"cfi")						\
	X(GS_DB_STR,		"str")

enum gs_db {
#define GS_DB_ENUM(id, name) id,
	GS_INDEX_DBS(GS_DB_ENUM)
#undef GS_DB_ENUM
	GS_DB_COUNT
};

extern const char *const gs_db_names[GS_DB_COUNT];

enum {
	GS_LINE_CHUNK		= 256,	/* rows per "line" chunk */
	GS_LINE_BUCKET		= 64,	/* lines per "line_addr" key */
	GS_LINE_COL_ESC		= 63,	/* "line" row: column >= this follows as u */
	GS_LINE_ADDR_ESC	= 15,	/* "line" row: address delta >= this follows as u */
	GS_LINE_R_PROLOGUE	= 1,	/* "line" row, rare byte: prologue_end */
	GS_LINE_R_END		= 2,	/* ... end_sequence */
	GS_LINE_R_FILE		= 4,	/* ... a file id follows */
	GS_CALLSITE_CHUNK	= 32,	/* call sites per "callsite" key */
	GS_KEY_CHUNK		= 64,	/* entries per name or address table key */
	GS_REC_CHUNK		= 16,	/* records per record table key */
	GS_STR_CHUNK		= 32,	/* strings per "str" key */
	GS_EXPR_BREG0		= 0x20,	/* "expr" first byte: a lone DW_OP_breg0 + (byte - this), 0 */
	GS_EXPR_REG		= 0x40,	/* ... a lone DW_OP_reg0 + (byte - this) */
	GS_EXPR_BREG		= 0x60,	/* ... a lone DW_OP_breg0 + (byte - this), s offset */
	GS_SCOPE_MAX_DEPTH	= 64,
	GS_TYPE_F_DECL		= 1,
	GS_TYPE_F_SIGNED	= 2,
	GS_TYPE_F_VARARGS	= 4,
	GS_TYPE_F_CXX		= 8,	/* from a C++ unit: no C tag keyword in its spelling */
	GS_TYPE_F_QUAL		= 16,	/* the record's name is followed by its qualified name */
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

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Read side of one module's index: the queries the tracer plans from.
 *
 * An index is one LMDB file per module, named by GNU build-id (see schema.h for the
 * on-disk layout). gs_index_open() opens it read-only and starts one read transaction
 * that lives until gs_index_close(). Every pointer handed out by a query (names,
 * arrays, records) points either into the LMDB map or into an arena owned by the
 * index, and stays valid until gs_index_close(). Callers never free them.
 *
 * Addresses are module-relative virtual addresses, exactly as in the ELF file
 * (p_vaddr space), never runtime addresses and never file offsets.
 *
 * Errors: 0 or a negative errno; -ENOENT means "no such thing in this module";
 * GS_ERR_* (errors.h) for a stale or damaged index.
 */
#ifndef GS_SHARED_INDEX_H
#define GS_SHARED_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gs_index;

/* ---- cache location --------------------------------------------------------------- */

/*
 * Resolves the cache directory: @opt (from --index-dir) if non-NULL, else
 * $GHOSTSCOPE_INDEX_DIR, else $XDG_CACHE_HOME/ghostscope, else ~/.cache/ghostscope.
 * Writes it to @buf. Returns 0, or -ENAMETOOLONG / -ENOENT (no HOME).
 */
int gs_index_dir_resolve(const char *opt, char *buf, size_t len);

/* <dir>/<bid[0:2]>/<bid[2:]>.gsidx for a lowercase hex build-id. */
int gs_index_path(const char *dir, const char *build_id_hex, char *buf, size_t len);

/*
 * Opens the index file at @path read-only (MDB_RDONLY | MDB_NOLOCK: files are never
 * changed after their rename) and checks magic and schema major version.
 * Returns 0, -ENOENT (no file), GS_ERR_SCHEMA (other major), GS_ERR_CORRUPT.
 */
int gs_index_open(const char *path, struct gs_index **idx_ret);
/* Opens the index for the ELF file at @elf_path by reading its build-id. */
int gs_index_open_for(const char *dir, const char *elf_path, struct gs_index **idx_ret);
void gs_index_close(struct gs_index *idx);

/*
 * Which file an open index is: what a cache of results derived from it (the tracer's
 * plan cache) keys on, since a re-index writes a new file under the same name.
 */
struct gs_index_file_id {
	uint64_t dev, ino, size, mtime_ns;
};
void gs_index_file_id(const struct gs_index *idx, struct gs_index_file_id *id_ret);

/* ---- module ----------------------------------------------------------------------- */

struct gs_segment {		/* one PT_LOAD */
	uint64_t vaddr, memsz, offset, filesz;
	uint32_t flags;		/* PF_R | PF_W | PF_X */
};

struct gs_module_info {
	char build_id[41];	/* lowercase hex, NUL-terminated (may be shorter than 40) */
	const char *path;	/* the path it was indexed from */
	uint16_t elf_type;	/* ET_EXEC or ET_DYN */
	uint16_t machine;	/* EM_X86_64 */
	uint32_t nsegments;
	const struct gs_segment *segments;
	bool has_dwarf;
	const char *debug_source; /* "embedded", "debuglink:/path", "build-id:/path",
				   * "debuginfod:/path", "debug-file:/path", or "none" */
	uint32_t dwarf_versions; /* bit N set when a CU of DWARF version N was seen */
	const char *producer;	/* DW_AT_producer of the first CU, or "" */
	uint64_t index_time;	/* unix seconds */
	uint32_t schema_major, schema_minor;
	/* statistics */
	uint64_t nfuncs, ninlines, nvars, ntypes, nlines, ncfi, nsymbols, nglobals;
	uint64_t dwarf_bytes;	/* size of the .debug_* sections read */
};
int gs_index_module(struct gs_index *idx, const struct gs_module_info **info_ret);

/* Module vaddr -> file offset for a uprobe, through the PT_LOAD holding it. -ENOENT. */
int gs_index_vaddr_to_offset(struct gs_index *idx, uint64_t vaddr, uint64_t *off_ret);

/* ---- ELF symbols ------------------------------------------------------------------ */

struct gs_symbol {
	const char *name;
	uint64_t value, size;
	uint8_t type;		/* STT_* */
	uint8_t bind;		/* STB_* */
	bool dynamic;		/* from .dynsym */
};
/* Every symbol called @name (both tables). */
int gs_index_symbols_by_name(struct gs_index *idx, const char *name,
			     const struct gs_symbol **syms_ret, size_t *cnt_ret);
/* The STT_FUNC/STT_OBJECT symbol whose [value, value+size) holds @addr. */
int gs_index_symbol_by_addr(struct gs_index *idx, uint64_t addr, const struct gs_symbol **sym_ret);

/* ---- functions -------------------------------------------------------------------- */

struct gs_range {
	uint64_t lo, hi;	/* [lo, hi) */
};

enum gs_func_flags {
	GS_FUNC_EXTERNAL	= 1u << 0,
	GS_FUNC_CLONE		= 1u << 1, /* .constprop/.isra/.part/.cold body of a source function */
	GS_FUNC_SYMBOL_ONLY	= 1u << 2, /* from the symbol table, no DWARF */
	GS_FUNC_PROLOGUE_END	= 1u << 3, /* post_prologue_pc came from prologue_end */
	GS_FUNC_PROLOGUE_LINE2	= 1u << 4, /* ... from the function's second line row */
	GS_FUNC_DECLARED_INLINE	= 1u << 5,
	/*
	 * Some call site reaches it by a tail call (DW_AT_call_tail_call): a frame's return
	 * address may then name a caller that did not pass this call's arguments.
	 */
	GS_FUNC_TAIL_CALLED	= 1u << 6,
};

struct gs_func {
	uint32_t id;		/* > 0, stable within this index file */
	const char *name;	/* source name: "checkout", "method" */
	const char *qual_name;	/* "ns::Class::method" in C++, == name in C */
	const char *linkage;	/* mangled name, or NULL */
	const char *symbol;	/* ELF symbol of this body ("foo.constprop.0"), or NULL */
	uint64_t entry_pc;
	uint64_t post_prologue_pc; /* == entry_pc when no rule applied */
	uint32_t nranges;	/* > 1 for hot/cold split bodies */
	const struct gs_range *ranges;
	uint32_t decl_file, decl_line; /* file id (0 = unknown) */
	uint32_t ret_type;	/* type id, 0 = void */
	uint32_t flags;		/* enum gs_func_flags */
	/* return pcs of the call sites with parameter values that call it (sorted) */
	uint32_t ncallers;
	const uint64_t *callers;
};

int gs_index_func_by_id(struct gs_index *idx, uint32_t id, const struct gs_func **func_ret);
/*
 * Every out-of-line function body matching @name: by name, qual_name, linkage name,
 * symbol, and clones by their source function's name. Sorted by entry_pc.
 */
int gs_index_funcs_by_name(struct gs_index *idx, const char *name,
			   const struct gs_func *const **funcs_ret, size_t *cnt_ret);
/* The out-of-line function whose ranges hold @pc. */
int gs_index_func_by_addr(struct gs_index *idx, uint64_t pc, const struct gs_func **func_ret);
/*
 * Distinct names of functions and inlined functions (name or qualified name; ELF
 * function symbols when the module has no DWARF) that match the shell wildcard
 * pattern @glob ('*', '?', '[...]'), sorted. Each is a name gs_index_funcs_by_name and
 * gs_index_inlines_by_name accept. A scan of the function tables: for patterns only.
 * Returns 0 (also with no match: *cnt_ret = 0) or -errno; the array lives with @idx.
 */
int gs_index_func_glob(struct gs_index *idx, const char *glob, const char ***names_ret,
		       size_t *cnt_ret);
/* Function names within edit distance, for "did you mean" (up to @max). */
int gs_index_func_suggest(struct gs_index *idx, const char *name, const char **names_ret,
			  size_t max, size_t *cnt_ret);

struct gs_inline {
	uint32_t func_id;	/* the out-of-line function it was inlined into */
	const char *name;	/* the inlined (origin) function's name */
	const char *qual_name;
	uint64_t entry_pc;
	uint32_t nranges;
	const struct gs_range *ranges;
	uint32_t call_file, call_line, call_column;
};
/* Every inlined instance of the function called @name. */
int gs_index_inlines_by_name(struct gs_index *idx, const char *name,
			     const struct gs_inline **inl_ret, size_t *cnt_ret);

/* ---- files and lines -------------------------------------------------------------- */

/* Full path of file @id, or NULL. */
const char *gs_index_file_name(struct gs_index *idx, uint32_t id);
/*
 * Files matching @query: a full path, a path relative to the compile dir, a basename
 * or a unique suffix on a '/' boundary. Returns all matches (the caller reports
 * ambiguity).
 */
int gs_index_files_match(struct gs_index *idx, const char *query,
			 const uint32_t **ids_ret, size_t *cnt_ret);

struct gs_line_addr {
	uint64_t addr;		/* an is_stmt address of the line */
	uint32_t func_id;	/* out-of-line function holding it (0 = none) */
};
int gs_index_line_addrs(struct gs_index *idx, uint32_t file_id, uint32_t line,
			const struct gs_line_addr **addrs_ret, size_t *cnt_ret);

enum gs_line_flags {
	GS_LINE_IS_STMT		= 1u << 0,
	GS_LINE_PROLOGUE_END	= 1u << 1,
	GS_LINE_END_SEQUENCE	= 1u << 2,
};
struct gs_line_row {
	uint64_t addr;
	uint32_t file_id, line;
	uint16_t column;
	uint8_t flags;		/* enum gs_line_flags */
};
/* The row in effect at @pc (greatest addr <= pc, not past an end_sequence). */
int gs_index_line_at(struct gs_index *idx, uint64_t pc, struct gs_line_row *row_ret);

/* ---- locations -------------------------------------------------------------------- */

/*
 * One DWARF operation, as libdw's Dwarf_Op: atom is DW_OP_*, n1/n2 its operands.
 * The indexer resolves DW_OP_addrx/DW_OP_constx to DW_OP_addr/DW_OP_constu, and
 * DW_OP_GNU_* synonyms to the DWARF 5 forms. DW_OP_entry_value keeps its nested
 * expression as the following n1 ops (n1 = op count, not bytes).
 * DW_OP_implicit_value: n1 = length, n2 = index into the expression's blob.
 * DW_OP_skip/DW_OP_bra: n1 = index of the target op (not a byte offset).
 * DW_OP_addr is already a module vaddr (the debug file's bias is applied).
 * Typed-stack ops keep libdw's operands (a CU-relative DIE offset is meaningless to
 * the tracer: treat them as unsupported unless the type is not needed).
 */
struct gs_op {
	uint8_t atom;
	uint64_t n1, n2;
};
struct gs_locexpr {
	uint32_t nops;
	const struct gs_op *ops;
	uint32_t blob_len;	/* bytes for DW_OP_implicit_value */
	const uint8_t *blob;
};
struct gs_loc_entry {
	uint64_t lo, hi;	/* [lo, hi), module vaddrs */
	struct gs_locexpr expr;
};
enum gs_loc_kind {
	GS_LOC_NONE,		/* optimized out everywhere */
	GS_LOC_EXPR,		/* one expression valid over the whole scope */
	GS_LOC_LIST,		/* location list; a pc in no entry is optimized out */
	GS_LOC_CONST,		/* DW_AT_const_value */
};
struct gs_location {
	uint8_t kind;		/* enum gs_loc_kind */
	struct gs_locexpr expr;	/* GS_LOC_EXPR */
	uint32_t nentries;	/* GS_LOC_LIST */
	const struct gs_loc_entry *entries;
	int64_t cval;		/* GS_LOC_CONST with cval_len == 0: an integer */
	uint32_t cval_len;	/* GS_LOC_CONST as bytes (block forms) */
	const uint8_t *cval_bytes;
};

/* ---- scopes and variables --------------------------------------------------------- */

enum gs_var_kind {
	GS_VAR_PARAM,
	GS_VAR_LOCAL,
	GS_VAR_GLOBAL,		/* file-scope, external or static */
	GS_VAR_STATIC_LOCAL,	/* function-scope static */
};
enum gs_var_flags {
	GS_VAR_EXTERNAL		= 1u << 0,
	GS_VAR_TLS		= 1u << 1, /* location uses DW_OP_form_tls_address */
	GS_VAR_ARTIFICIAL	= 1u << 2,
};
struct gs_var {
	const char *name;
	uint32_t type_id;
	uint8_t kind;		/* enum gs_var_kind */
	uint8_t flags;		/* enum gs_var_flags */
	uint32_t decl_file, decl_line;
	struct gs_location loc;
};

enum gs_scope_kind {
	GS_SCOPE_FUNC,
	GS_SCOPE_BLOCK,
	GS_SCOPE_INLINE,
};
struct gs_scope {
	uint8_t kind;		/* enum gs_scope_kind */
	const char *name;	/* function or inlined function name; NULL for blocks */
	uint32_t nranges;
	const struct gs_range *ranges;
	uint32_t call_file, call_line; /* GS_SCOPE_INLINE */
	struct gs_location frame_base; /* GS_SCOPE_FUNC: DW_AT_frame_base */
	uint32_t nvars;
	const struct gs_var *vars; /* in DWARF order: parameters first */
	uint32_t nchildren;
	const struct gs_scope *children;
	const struct gs_scope *parent; /* NULL at the function */
};

/* The whole scope tree of function @func_id (root kind GS_SCOPE_FUNC). */
int gs_index_scope_tree(struct gs_index *idx, uint32_t func_id, const struct gs_scope **root_ret);
/*
 * The scopes whose ranges hold @pc, innermost first, ending with the function.
 * Fills at most @max; -ENOENT when no function holds @pc.
 */
int gs_index_scope_chain(struct gs_index *idx, uint64_t pc, const struct gs_scope **chain,
			 size_t max, size_t *cnt_ret);

/* Globals and file/function statics named @name (qualified name for C++). */
int gs_index_globals_by_name(struct gs_index *idx, const char *name,
			     const struct gs_var **vars_ret, size_t *cnt_ret);

/* ---- call sites (for DW_OP_entry_value) -------------------------------------------- */

struct gs_call_param {
	struct gs_locexpr location;	/* DW_AT_location: usually DW_OP_regN */
	struct gs_locexpr value;		/* DW_AT_call_value, in the caller's frame */
};
struct gs_call_site {
	uint64_t return_pc;
	uint32_t caller_func_id;
	uint32_t target_func_id;	/* 0 when unknown (indirect call) */
	uint32_t nparams;
	const struct gs_call_param *params;
};
int gs_index_call_site(struct gs_index *idx, uint64_t return_pc,
		       const struct gs_call_site **cs_ret);
/* The call site with the smallest return_pc >= @pc (for walking them all). -ENOENT. */
int gs_index_call_site_from(struct gs_index *idx, uint64_t pc, const struct gs_call_site **cs_ret);

/* ---- types ------------------------------------------------------------------------ */

enum gs_type_kind {
	GS_TYPE_VOID,		/* id 0 only */
	GS_TYPE_BASE,
	GS_TYPE_POINTER,
	GS_TYPE_REFERENCE,
	GS_TYPE_RVALUE_REF,
	GS_TYPE_STRUCT,
	GS_TYPE_CLASS,
	GS_TYPE_UNION,
	GS_TYPE_ENUM,
	GS_TYPE_ARRAY,
	GS_TYPE_TYPEDEF,
	GS_TYPE_CONST,
	GS_TYPE_VOLATILE,
	GS_TYPE_RESTRICT,
	GS_TYPE_ATOMIC,
	GS_TYPE_FUNC,		/* subroutine type */
	GS_TYPE_PTR_TO_MEMBER,
	GS_TYPE_UNSPECIFIED,	/* e.g. decltype(nullptr) */
};

struct gs_member {
	const char *name;	/* NULL for an anonymous struct/union member */
	uint32_t type_id;
	uint64_t bit_offset;	/* from the start of the enclosing object, in bits */
	uint32_t bit_size;	/* 0 unless a bitfield */
};
struct gs_enumerator {
	const char *name;
	int64_t value;		/* as unsigned bits when the enum is unsigned */
};

struct gs_type {
	uint32_t id;		/* 0 = void */
	uint8_t kind;		/* enum gs_type_kind */
	uint8_t encoding;	/* DW_ATE_* for GS_TYPE_BASE (and enum underlying) */
	bool declaration;	/* incomplete (no definition in this module) */
	bool is_signed;		/* enums */
	const char *name;	/* NULL when anonymous; "int", "customer", "size_t" */
	const char *qual_name;	/* C++ scopes: "inventory::Shelf"; NULL when none */
	bool cxx;		/* from a C++ unit: spelled without "struct"/"enum"/... */
	uint64_t size;		/* bytes; pointer 8; array = element size * counts */
	uint32_t target;	/* pointee / typedef'd / qualified / element / return type */
	uint32_t nmembers;
	const struct gs_member *members;
	uint32_t nenumerators;
	const struct gs_enumerator *enumerators;
	uint32_t ndims;		/* arrays: outer first; a dim of 0 means unknown bound */
	const uint64_t *dims;
	uint32_t nparams;	/* GS_TYPE_FUNC */
	const uint32_t *params;
	bool varargs;
};

int gs_index_type(struct gs_index *idx, uint32_t id, const struct gs_type **type_ret);
/* Types named @name (bare name, no "struct " prefix); caller filters by kind. */
int gs_index_types_by_name(struct gs_index *idx, const char *name,
			   const struct gs_type *const **types_ret, size_t *cnt_ret);

/* ---- CFI -------------------------------------------------------------------------- */

enum gs_cfi_rule {
	GS_CFI_UNDEFINED,	/* register not recoverable (RA undefined: outermost frame) */
	GS_CFI_SAME,		/* same value as in the callee */
	GS_CFI_OFFSET,		/* saved at CFA + off */
	GS_CFI_VAL_OFFSET,	/* value is CFA + off */
	GS_CFI_REGISTER,	/* in register off */
	GS_CFI_CFA_REG,		/* CFA = reg + off (cfa rule only) */
	GS_CFI_UNSUPPORTED,	/* an expression rule */
};
/* 16 bytes, loaded into a BPF array map as it is stored: keep it fixed-size. */
struct gs_cfi_row {
	uint8_t cfa_rule;	/* GS_CFI_CFA_REG or GS_CFI_UNSUPPORTED */
	uint8_t cfa_reg;	/* DWARF register number */
	uint8_t ra_rule;
	uint8_t rbp_rule;
	int32_t cfa_off;
	int32_t ra_off;
	int32_t rbp_off;
};
/* 16 bytes: the row in effect from pc up to the next entry's pc. */
struct gs_cfi_entry {
	uint64_t pc;
	uint32_t row;		/* index into the row table, or UINT32_MAX for "no CFI" */
	uint32_t reserved;
};
/*
 * The other callee-saved registers' rules (rbx, r12, r13, r14, r15: slot
 * gs_cfi_saved_slot()), kept apart from the rows above, which load into BPF as they
 * are: the planner reads a caller's registers through them (call-site values).
 */
enum { GS_CFI_NSAVED = 5 };
struct gs_cfi_saved {
	uint8_t rule[GS_CFI_NSAVED];	/* enum gs_cfi_rule: SAME, OFFSET, VAL_OFFSET, ... */
	uint8_t pad[3];
	int32_t off[GS_CFI_NSAVED];
};
/* The slot of x86-64 DWARF register @reg in struct gs_cfi_saved, or -1. */
static inline int gs_cfi_saved_slot(unsigned int reg)
{
	return reg == 3 ? 0 : reg >= 12 && reg <= 15 ? (int)reg - 11 : -1;
}
/* The rules in effect at @pc; -ENOENT when none is known (no FDE, or an older index). */
int gs_index_cfi_saved_at(struct gs_index *idx, uint64_t pc, struct gs_cfi_saved *ret);
/* The distinct rows and the pc-sorted entries, as stored. */
int gs_index_cfi(struct gs_index *idx, const struct gs_cfi_row **rows_ret, size_t *nrows_ret,
		 const struct gs_cfi_entry **ents_ret, size_t *nents_ret);
/* The row in effect at @pc. -ENOENT when no FDE covers it. */
int gs_index_cfi_at(struct gs_index *idx, uint64_t pc, struct gs_cfi_row *row_ret);

/* ---- whole-index access (dump, verify, ls) ---------------------------------------- */

/*
 * Records by their dense ids, 1..count (module info has the counts): -ENOENT past the
 * end. For `ghostscope-index dump` and tests; the tracer plans with the lookups above.
 */
int gs_index_symbol_by_id(struct gs_index *idx, uint32_t id, const struct gs_symbol **sym_ret);
int gs_index_inline_by_id(struct gs_index *idx, uint32_t id, const struct gs_inline **inl_ret);
/* @qual_ret (may be NULL) gets the qualified name ("ns::var", "func::static"). */
int gs_index_global_by_id(struct gs_index *idx, uint32_t id, const struct gs_var **var_ret,
			  const char **qual_ret);
/*
 * Calls @fn for every line row in address order until it returns non-zero (a negative
 * value is returned, a positive one stops the walk with 0). Reads the whole table.
 */
int gs_index_line_foreach(struct gs_index *idx, int (*fn)(const struct gs_line_row *, void *),
			  void *arg);
/*
 * Decodes every record of every table and checks the per-table checksums stored at
 * index time. Returns 0, or -GS_ERR_CORRUPT with a one-line reason in @err.
 */
int gs_index_verify(struct gs_index *idx, char *err, size_t errlen);

#endif /* GS_SHARED_INDEX_H */

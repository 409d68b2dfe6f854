/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Private to the indexer: the in-memory model one indexing run builds before it is
 * written to LMDB, and the helpers the walk files share.
 *
 * Data flow: indexer.c opens the ELF and its debug info, fills a struct ix_model
 * (symbols and segments from shared/elf.c, CFI from cfi.c, everything DWARF from
 * walk.c with the help of lines.c, types.c and loc.c), then writer.c turns the model
 * into sorted key/value tables and one LMDB file. Records are encoded as soon as their
 * content is final; only what needs a whole-module view (line -> function, call-site
 * targets, declaration -> definition for type targets) waits for the end.
 *
 * Ownership: the model owns every buffer in it; strings that come from libdw or libelf
 * are borrowed and stay valid while the debuginfo and the ELF are open, which is until
 * after the write.
 */
#ifndef GS_INDEXER_INTERNAL_H
#define GS_INDEXER_INTERNAL_H

#include <elfutils/libdw.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/enc.h"
#include "shared/index.h"
#include "shared/schema.h"

/* ---- helpers ------------------------------------------------------------------------ */

/* Overflow-checked array growth: makes room for one more element. -ENOMEM. */
int ix_grow(void **arr, size_t *cap, size_t cnt, size_t elem);
/* Appends one element (uninitialized) and returns it, or NULL (-ENOMEM). */
void *ix_push(void **arr, size_t *cnt, size_t *cap, size_t elem);
#define IX_PUSH(arr, cnt, cap) \
	((__typeof__(&(arr)[0]))ix_push((void **)&(arr), &(cnt), &(cap), sizeof(*(arr))))

/* False when GS_INDEX_THREADS=1: a module is then indexed on one thread only. */
bool ix_two_threads(void);

/* u64 -> u64 open-addressing map. Key 0 is allowed. */
struct ix_map {
	uint64_t *keys, *vals;
	uint8_t *used;
	size_t cap, cnt;
};
void ix_map_init(struct ix_map *m);
void ix_map_deinit(struct ix_map *m);
bool ix_map_get(const struct ix_map *m, uint64_t key, uint64_t *val_ret);
int ix_map_put(struct ix_map *m, uint64_t key, uint64_t val);	/* 0 or -ENOMEM */

/* ---- key/value tables ------------------------------------------------------------- */

struct ix_kv {
	size_t off;		/* key bytes, then value bytes, in the table's data */
	uint32_t klen, vlen;
};
/* One entry of a name or address table, before it is chunked (ix_table_seal). */
struct ix_key_ent {
	uint64_t key;		/* name hash or address */
	uint32_t id;
	uint64_t len;		/* "func_addr": the range's length */
};
struct ix_table {
	struct ix_kv *kv;
	size_t n, cap;
	struct gs_enc data;
	struct ix_key_ent *ents;	/* name/address tables: entries until sealed */
	size_t nents, capents;
	bool sealed;		/* chunked: later name/address puts are ignored */
};
/* One key/value; ignored (0) once the table is sealed. -ENOMEM. */
int ix_table_put(struct ix_table *t, const void *key, size_t klen, const void *val, size_t vlen);
/*
 * Record @id (ids 1, 2, 3... in order) of a record table (schema.h "record table":
 * GS_REC_CHUNK records to a key). -EINVAL when ids come out of order.
 */
int ix_table_put_rec(struct ix_table *t, uint32_t id, const void *val, size_t vlen);
/*
 * Name and address tables (schema.h "name table", "address table") are chunked, so
 * their entries are collected first and ix_table_seal() turns them into keys once the
 * table is complete; entries put after that are ignored (the symbol tables are sealed
 * from the model's symbols by ix_funcs_finish, before indexer.c's own puts).
 */
/* A name entry: XXH3-64(name) and @id; NULL or "" names are skipped. -ENOMEM. */
int ix_table_put_name(struct ix_table *t, const char *name, uint32_t id);
/* An address entry; @val must be empty (kept for indexer.c's symbol puts). */
int ix_table_put_addr(struct ix_table *t, uint64_t addr, uint32_t id, const void *val, size_t vlen);
/* An address entry with a length ("func_addr"). */
int ix_table_put_range(struct ix_table *t, uint64_t lo, uint32_t id, uint64_t len);
enum ix_table_kind { IX_TABLE_NAMES, IX_TABLE_ADDRS, IX_TABLE_RANGES };
/* Sorts the collected entries into chunked keys. 0 or -ENOMEM. Idempotent. */
int ix_table_seal(struct ix_table *t, enum ix_table_kind kind);

/* ---- work done ahead on a second thread (ahead.c) ---------------------------------- */

/* A variable's location, encoded ahead: what ix_loc_var and ix_loc_static_addr give. */
struct ix_loc_ahead {
	size_t off, len;	/* ix_loc_var's bytes in data */
	uint64_t static_addr;
	uint8_t what;		/* IX_LOC_* */
	bool is_static;		/* ix_loc_static_addr() was true */
	bool external, artificial;	/* dw_die_flag() of the variable (not call sites) */
	/* What the walk would read through the abstract origin, when it is in the main
	 * file (so the name points into its sections, shared by both handles, and the
	 * type's DIE offset means the same DIE in the walk's handle). */
	bool name_ok, type_ok;
	const char *name;	/* dw_die_name() when name_ok */
	uint64_t type_off;	/* DIE offset of DW_AT_type when type_ok; 0: none (void) */
	uint32_t decl_line;
};

/* One CU's results: type hashes and locations by DIE offset (call-site parameters:
 * the two expressions, location then value, in one entry). */
struct ix_cu_ahead {
	struct ix_map hashes;
	struct ix_map locs;	/* DIE offset -> index in ents */
	struct ix_loc_ahead *ents;
	size_t nents, capents;
	struct gs_enc data;
};

/*
 * Starts the second thread on its own libdw handle of @dwarf's ELF. Units are numbered
 * as ix_walk meets them (type units skipped). get(k) returns unit k's results if they
 * are ready, else NULL (it never waits), valid until release(k); units are got and
 * released in order. stop() joins and frees. Any failure only means no help.
 */
struct ix_ahead;
int ix_ahead_start(Dwarf *dwarf, uint64_t bias, struct ix_ahead **ah_ret);
const struct ix_cu_ahead *ix_ahead_get(struct ix_ahead *ah, size_t k);
void ix_ahead_release(struct ix_ahead *ah, size_t k);
void ix_ahead_stop(struct ix_ahead *ah);
/* The entry of the DIE at @off in @cu, or NULL. */
const struct ix_loc_ahead *ix_ahead_loc(const struct ix_cu_ahead *cu, uint64_t off);

/* ---- model ------------------------------------------------------------------------- */

struct ix_func {
	const char *name, *qual, *linkage, *symbol;
	char *qual_owned;	/* when qual was built by the walk */
	uint64_t entry, post_prologue;
	struct gs_range *ranges;
	uint32_t nranges;
	uint32_t decl_file, decl_line, ret_type, flags;
	const char **aliases;	/* ELF symbols at other range starts ("f.cold") */
	uint32_t naliases;
};

struct ix_line {
	uint64_t addr;
	uint32_t file, line, seq;
	uint16_t column;
	uint8_t flags;
};

struct ix_stmt {		/* an is_stmt (file, line) -> addr */
	uint32_t file, line;
	uint64_t addr;
};

struct ix_callsite {
	uint64_t return_pc;
	uint32_t caller;
	uint64_t target_off;	/* DIE offset of the callee (0 = unknown) */
	size_t params_off, params_len;	/* encoded "u n, params" in model->cs_data */
};

struct ix_type {
	uint8_t kind, encoding, flags;
	const char *name;
	const char *qual;		/* C++ "ns::Class::name" from the walk, or NULL */
	uint64_t die;			/* DIE offset of the DIE it was encoded from */
	uint64_t size;
	uint32_t target;
	size_t rest_off, rest_len;	/* members.., enumerators.., dims.., params.. */
};

struct ix_model {
	struct ix_table tables[GS_DB_COUNT];

	const char **strs;		/* the module's string table: strs[i] has id i */
	size_t nstrs, capstrs;
	struct ix_map str_by_hash;
	char **strs_owned;		/* copies made by ix_enc_sref_as */
	size_t nstrs_owned, capstrs_owned;

	struct ix_func *funcs;		/* funcs[i] has id i + 1 */
	size_t nfuncs, capfuncs;
	struct ix_map func_by_die;	/* DIE offset (concrete, abstract, decl) -> func id */

	struct ix_line *lines;
	size_t nlines, caplines;
	struct ix_stmt *stmts;
	size_t nstmts, capstmts;
	uint32_t nseq;

	char **files;			/* files[i] has id i + 1 */
	size_t nfiles, capfiles;
	struct ix_map file_by_hash, file_by_ptr;

	struct ix_callsite *cs;
	size_t ncs, capcs;
	uint64_t *tail_targets;		/* DIE offsets of functions some tail call reaches */
	size_t ntail, captail;
	struct gs_enc cs_data;

	struct ix_type *types;		/* types[i] has id i + 1 */
	size_t ntypes, captypes;
	struct gs_enc type_data;
	struct ix_map type_by_die, type_by_hash, hash_by_die;
	const struct ix_cu_ahead *ahead;	/* the current CU's, from ahead.c (or NULL) */

	struct ix_map qual_by_die;	/* DIE offset -> index in quals */
	struct ix_map static_done;	/* DIE offset of a static local's location -> 1 */
	char **quals;
	size_t nquals, capquals;

	const struct gs_symbol *syms;	/* sorted by value; borrowed */
	size_t nsyms;

	uint64_t ninlines, nvars, nglobals;
	uint32_t dwarf_versions;
	const char *producer;
	Dwarf_Addr bias;
	uint64_t min_exec;		/* lowest executable vaddr: rows below are discarded code */
};

void ix_model_init(struct ix_model *m);
void ix_model_deinit(struct ix_model *m);

/*
 * A string reference (schema.h "sref"): u 0 for NULL, else its id in the module's
 * string table + 1, the string added if new. Callers on the walk's thread only; @s
 * must live until the write (libdw, libelf or model memory). -ENOMEM.
 */
int ix_enc_sref(struct ix_model *m, struct gs_enc *out, const char *s);
/* The reference ix_enc_sref would write for @s, without writing it. -ENOMEM. */
int ix_sref(struct ix_model *m, const char *s, uint64_t *ref_ret);
/* The same, copying a new @s (so it may be short-lived). */
int ix_sref_dup(struct ix_model *m, const char *s, uint64_t *ref_ret);
/* "u 1" when @s equals @ref (both non-NULL), else ix_enc_sref's value + 1; a new @s is
 * copied, so it may be short-lived. */
int ix_enc_sref_as(struct ix_model *m, struct gs_enc *out, const char *s, const char *ref);
/* The "str" table, GS_STR_CHUNK strings to a key; after the last ix_enc_sref. */
int ix_strs_finish(struct ix_model *m);

/* Id of the file at full path @path (made absolute against @comp_dir), added if new. */
uint32_t ix_file_id(struct ix_model *m, const char *path, const char *comp_dir);

/* lines.c: reads the CU's line table into the model. */
int ix_lines_cu(struct ix_model *m, Dwarf_Die *cu, const char *comp_dir);
/* The perf probe rule over the CU's line table (flags get GS_FUNC_PROLOGUE_*). */
uint64_t ix_post_prologue(Dwarf_Die *cu, Dwarf_Addr bias, uint64_t entry, uint64_t hi,
			  uint32_t *flags);
/*
 * After the walk and ix_funcs_add_symbols: (file, line) buckets and address chunks
 * into the line and file tables. Reads funcs and files, writes only its own tables
 * and line arrays, so it may run beside ix_funcs_finish and ix_types_finish.
 */
int ix_lines_finish(struct ix_model *m);

/* types.c: id of the type DIE (0 for void / none), encoding it when new. */
uint32_t ix_type_id(struct ix_model *m, Dwarf_Die *die);
/* The DW_AT_type of @die as an id (0 = void). */
uint32_t ix_type_of(struct ix_model *m, Dwarf_Die *die);
/* After the walk: declaration targets -> definitions, records into the tables. */
int ix_types_finish(struct ix_model *m);

/* The structural hash of a type DIE; @memo is written, @pre (may be NULL) only read. */
uint64_t ix_type_hash(struct ix_map *memo, const struct ix_map *pre, Dwarf_Die *die);

/* loc.c */
enum { IX_LOC_TLS = 1, IX_LOC_ADDR = 2 };	/* what the expression used */
/* Location of @die (DW_AT_location / DW_AT_const_value) into @out; *what |= IX_LOC_*. */
int ix_loc_var(struct ix_model *m, Dwarf_Die *die, struct gs_enc *out, unsigned int *what);
/* A location attribute (frame base) into @out; GS_LOC_NONE when @attr is NULL. */
int ix_loc_attr(struct ix_model *m, Dwarf_Attribute *attr, struct gs_enc *out, unsigned int *what);
/* One expression attribute (call-site values) into @out as "expr"; empty when NULL. */
int ix_loc_expr_attr(struct ix_model *m, Dwarf_Attribute *attr, struct gs_enc *out);
/* The first DW_OP_addr of a single-expression location, for "global_addr". */
bool ix_loc_static_addr(struct ix_model *m, Dwarf_Die *die, uint64_t *addr_ret);

/* walk.c: every CU of @dwarf into the model. */
int ix_walk(struct ix_model *m, Dwarf *dwarf);
/* After the walk: functions for the ELF symbols no DWARF function covers. */
int ix_funcs_add_symbols(struct ix_model *m);
/* Then: the func tables and call sites (reads funcs, writes only those tables). */
int ix_funcs_finish(struct ix_model *m, bool have_dwarf);

/* dw.c: the thin libdw helper layer. */
const char *dw_die_name(Dwarf_Die *die);		/* integrates origins */
const char *dw_die_linkage(Dwarf_Die *die);
bool dw_die_flag(Dwarf_Die *die, unsigned int at);	/* integrates origins */
bool dw_die_udata(Dwarf_Die *die, unsigned int at, uint64_t *v);	/* integrates */
bool dw_die_ref(Dwarf_Die *die, unsigned int at, Dwarf_Die *ret);	/* no integrate */
bool dw_die_has_pc(Dwarf_Die *die);
/* Ranges of @die plus @bias into a malloc'd array (*cnt_ret may be 0). -ENOMEM. */
int dw_die_ranges(Dwarf_Die *die, Dwarf_Addr bias, struct gs_range **r_ret, uint32_t *cnt_ret);
/* Entry pc: DW_AT_entry_pc, DW_AT_low_pc, else the first range. */
bool dw_die_entry(Dwarf_Die *die, const struct gs_range *r, uint32_t nr, Dwarf_Addr bias,
		  uint64_t *pc_ret);

/* indexer.c: at the start of an indexing thread, huge pages for its malloc arena. */
void ix_heap_advise_thread(void);

#endif /* GS_INDEXER_INTERNAL_H */

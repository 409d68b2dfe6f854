/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Private to the index reader: index.c (open/close and the keyed lookups),
 * index_decode.c (record decoders) and index_scan.c (whole-table scans: glob,
 * "did you mean", verify). Everything else uses shared/index.h.
 *
 * Ownership: struct gs_index owns the LMDB environment and its one read-only
 * transaction, the arena every decoded array lives in, and the id caches. Everything
 * these helpers return (arena memory, strings, MDB_val data) is owned by the index and
 * valid until gs_index_close(): arena memory is never freed before, and LMDB values
 * stay mapped while the transaction lives. Nothing here is freed by the caller except
 * gs_idx_addr_chunk()'s array.
 *
 * Errors: 0 or a negative errno; a damaged record is -GS_ERR_CORRUPT and nothing is
 * read outside the value LMDB returned. Decoders leave their output half-filled on
 * failure (arena memory, nothing to free).
 */
#ifndef GS_SHARED_INDEX_INTERNAL_H
#define GS_SHARED_INDEX_INTERNAL_H

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/enc.h"
#include "shared/index.h"
#include "shared/schema.h"

struct arena_blk;

/* id -> pointer cache (open addressing), index.c's idcache_*(). */
struct idcache {
	uint64_t *keys;		/* key + 1; 0 = empty */
	void **vals;
	size_t cap, cnt;
};

enum { GS_STR_CACHE = 64 };	/* string chunks remembered */
struct str_slot {
	uint32_t chunk;
	const char *data;	/* NULL: empty slot */
	size_t len;
	uint32_t nstr;		/* strings found in data */
	uint32_t off[GS_STR_CHUNK]; /* where each starts: no strlen walk per lookup */
};

struct gs_index {
	MDB_env *env;
	struct str_slot strc[GS_STR_CACHE];
	MDB_txn *txn;
	MDB_dbi dbi[GS_DB_COUNT];
	bool have[GS_DB_COUNT];
	struct arena_blk *arena;
	struct gs_module_info info;
	struct gs_index_file_id file_id;
	struct idcache funcs, scopes, types;
	struct idcache scope_dicts, scope_paths; /* by func id; by pc */
	const struct gs_cfi_row *cfi_rows;
	const struct gs_cfi_entry *cfi_ents;
	size_t cfi_nrows, cfi_nents;
	bool cfi_loaded;
	uint64_t cs_first;		/* the call-site chunk decoded last */
	struct gs_call_site *cs_v;
	size_t cs_n;
};

/* A scope record's dictionary: strings and variable templates. */
struct scope_dict {
	/*
	 * type_id, decl_file, decl_line filled; the name only once a scope on a decoded
	 * path uses the template (name_refs[i] is its string reference until then): a
	 * big LTO function has thousands of templates over hundreds of string chunks,
	 * and a probe needs the names of a few.
	 */
	struct gs_var *tmpls;
	uint64_t *name_refs;
	uint32_t ntmpls;
	uint64_t loc_base;	/* the function's first lo, once its ranges are read */
	const char *func_name;	/* the root's name */
	const uint8_t *tree, *end; /* the tree's bytes, after the dictionary */
};

/* One entry of an address table chunk (schema.h "address table"). */
struct addr_ent {
	uint64_t lo, len;
	uint32_t id;
};

/* ---- index.c ------------------------------------------------------------------------ */

/* An LMDB return code as 0 or a negative errno (MDB_NOTFOUND: -ENOENT). */
int gs_idx_lmdb_err(int rc);
/* @len zeroed bytes of the index's arena (16-aligned), or NULL. */
void *gs_idx_alloc(struct gs_index *idx, size_t len);
/* One get in table @db: 0, -ENOENT (no such table or key), or a negative errno. */
int gs_idx_get(struct gs_index *idx, enum gs_db db, const void *key, size_t klen, MDB_val *val);
/* Whether @db's keys hold GS_REC_CHUNK records each (schema.h "record table"). */
bool gs_idx_rec_table(enum gs_db db);
/* The next record of a record-table chunk into @rec; false at the end or on damage. */
bool gs_idx_next_rec(struct gs_dec *chunk, MDB_val *rec);
/* A string reference in a record (NULL for reference 0; @d->err set when damaged). */
const char *gs_idx_dec_sref(struct gs_index *idx, struct gs_dec *d);
/* The string of reference @ref (0: NULL); sets *@bad when it names none. */
const char *gs_idx_str(struct gs_index *idx, uint64_t ref, bool *bad);
/*
 * The next record of a "sym" chunk over *@s, the previous one (zeroed at the chunk's
 * start). -ENOENT at the chunk's end.
 */
int gs_idx_sym_next(struct gs_index *idx, struct gs_dec *chunk, struct gs_symbol *s);
/* One address chunk (key @k, value @v) into a malloc'd array the caller frees. */
int gs_idx_addr_chunk(MDB_val *k, MDB_val *v, bool with_len, struct addr_ent **ents_ret,
		      size_t *cnt_ret);

/* ---- index_decode.c ----------------------------------------------------------------- */

/* Address ranges relative to @base, into the arena. */
int gs_idx_dec_ranges(struct gs_index *idx, struct gs_dec *d, uint64_t base, uint32_t *n_ret,
		      const struct gs_range **r_ret);
/* A location expression (schema.h "expr"); ops in the arena, the blob in the map. */
int gs_idx_dec_expr(struct gs_index *idx, struct gs_dec *d, struct gs_locexpr *e);
/* A var record (schema.h "var"): a global's or a scope variable's head and location. */
int gs_idx_dec_var(struct gs_index *idx, struct gs_dec *d, struct gs_var *v);
/* A scope record's dictionary into @sd (tmpls in the arena; tree/end left to the caller). */
int gs_idx_dec_dict(struct gs_index *idx, struct gs_dec *d, struct scope_dict *sd);
/*
 * Scope @s and its children (the whole tree, or with @pc only the path to *@pc).
 * Returns 0, a negative errno, or 1 for a child scope skipped because its ranges miss
 * *@pc (never for the root).
 */
int gs_idx_dec_scope(struct gs_index *idx, struct gs_dec *d, struct scope_dict *sd,
		     struct gs_scope *s, const struct gs_scope *parent, int depth,
		     const uint64_t *pc);
/* The meta "module" record into idx->info (strings point into the map). */
int gs_idx_dec_module(struct gs_index *idx, struct gs_dec *d);
/* Whether @pc falls in one of the @n ranges @r. */
bool gs_idx_in_ranges(const struct gs_range *r, uint32_t n, uint64_t pc);

#endif

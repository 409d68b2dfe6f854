// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Read side of a module index (see index.h for the contract, schema.h for the layout).
 *
 * One read-only LMDB transaction lives from gs_index_open() to gs_index_close(), so
 * strings can point straight into the map. Everything that must be an aligned C
 * array (ranges, ops, members, scope trees) is decoded into an arena owned by the
 * index; hot records (functions, types, scope trees) are decoded once and cached by
 * id, so the tracer may ask again for free and gets the same pointers.
 *
 * Every record is hostile input: a decode failure anywhere answers -GS_ERR_CORRUPT
 * and never reads outside the value LMDB returned.
 *
 * The record decoders are in index_decode.c, the queries that read whole tables
 * (glob, suggestions, verify) in index_scan.c; index_internal.h is what they share.
 */
#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shared/elf.h"
#include "shared/enc.h"
#include "shared/errors.h"
#include "shared/index.h"
#include "shared/index_internal.h"
#include "shared/schema.h"
#include "shared/sort.h"

/* ---- arena ------------------------------------------------------------------------- */

struct arena_blk {
	struct arena_blk *next;
	size_t used, cap;
	max_align_t data[];
};

/*
 * Blocks are mapped whole and pre-faulted (MAP_POPULATE): a page fault costs a trap
 * each, several microseconds in a virtual machine, and planning release python3.11's
 * 14 probes touched 1.4 MB of fresh arena one fault at a time (a third of the plan).
 * A fresh mapping is zeroed by the kernel and the arena never reuses memory, so
 * allocations need no memset either.
 */
enum { ARENA_BLOCK = 256 << 10 };

static void *arena_alloc_raw(struct arena_blk **head, size_t len)
{
	struct arena_blk *b = *head;

	len = (len + 15) & ~(size_t)15;
	if (!b || b->cap - b->used < len) {
		size_t map = sizeof(*b) + (len > ARENA_BLOCK ? len : ARENA_BLOCK);
		void *p;

		map = (map + 4095) & ~(size_t)4095;
		p = mmap(NULL, map, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
			 -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		b = p;
		b->next = *head;
		b->used = 0;
		b->cap = map - sizeof(*b);
		*head = b;
	}
	b->used += len;
	return (char *)b->data + b->used - len;
}

/* Zeroed: fresh anonymous memory, never handed out twice. */
static void *arena_alloc(struct arena_blk **head, size_t len)
{
	return arena_alloc_raw(head, len);
}

static void arena_free(struct arena_blk *b)
{
	while (b) {
		struct arena_blk *n = b->next;

		munmap(b, sizeof(*b) + b->cap);
		b = n;
	}
}

/* ---- id -> pointer cache (open addressing) ----------------------------------------- */

static void *idcache_get(const struct idcache *c, uint64_t key)
{
	if (!c->cap)
		return NULL;
	for (size_t i = (key * 0x9e3779b97f4a7c15ull) & (c->cap - 1);; i = (i + 1) & (c->cap - 1)) {
		if (!c->keys[i])
			return NULL;
		if (c->keys[i] == key + 1)
			return c->vals[i];
	}
}

static void idcache_put(struct idcache *c, uint64_t key, void *val)
{
	if ((c->cnt + 1) * 2 > c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 64;
		struct idcache n = { calloc(ncap, 8), calloc(ncap, sizeof(void *)), ncap, 0 };

		if (!n.keys || !n.vals) {
			free(n.keys);
			free(n.vals);
			return;		/* a cache miss next time, not an error */
		}
		for (size_t i = 0; i < c->cap; i++)
			if (c->keys[i])
				idcache_put(&n, c->keys[i] - 1, c->vals[i]);
		free(c->keys);
		free(c->vals);
		*c = n;
	}
	for (size_t i = (key * 0x9e3779b97f4a7c15ull) & (c->cap - 1);; i = (i + 1) & (c->cap - 1)) {
		if (!c->keys[i]) {
			c->keys[i] = key + 1;
			c->vals[i] = val;
			c->cnt++;
			return;
		}
		if (c->keys[i] == key + 1)
			return;
	}
}

static void idcache_deinit(struct idcache *c)
{
	free(c->keys);
	free(c->vals);
	memset(c, 0, sizeof(*c));
}

/* ---- the index --------------------------------------------------------------------- */

int gs_idx_lmdb_err(int rc)
{
	if (rc == 0)
		return 0;
	if (rc == MDB_NOTFOUND)
		return -ENOENT;
	if (rc == MDB_INVALID || rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND ||
	    rc == MDB_VERSION_MISMATCH || rc == MDB_INCOMPATIBLE)
		return -GS_ERR_CORRUPT;
	if (rc > 0)
		return -rc;
	return -GS_ERR_LMDB;
}

void *gs_idx_alloc(struct gs_index *idx, size_t len)
{
	return arena_alloc(&idx->arena, len);
}

int gs_idx_get(struct gs_index *idx, enum gs_db db, const void *key, size_t klen, MDB_val *val)
{
	MDB_val k = { klen, (void *)key };

	if (!idx->have[db])
		return -ENOENT;
	return gs_idx_lmdb_err(mdb_get(idx->txn, idx->dbi[db], &k, val));
}

/* Tables whose keys hold GS_REC_CHUNK records each (schema.h "record table"). */
bool gs_idx_rec_table(enum gs_db db)
{
	return db == GS_DB_SYM || db == GS_DB_FUNC || db == GS_DB_INLINE || db == GS_DB_GLOBAL;
}

/* The next record of a record-table chunk ("u len, bytes" until the value ends). */
bool gs_idx_next_rec(struct gs_dec *chunk, MDB_val *rec)
{
	if (chunk->p >= chunk->end || chunk->err)
		return false;
	rec->mv_size = gs_dec_count(chunk, 1);
	rec->mv_data = (void *)gs_dec_bytes(chunk, rec->mv_size);
	return !chunk->err && rec->mv_size;
}

/* Record @id of @db: one get, and for record tables a skip over up to 15 records. */
static int get_id(struct gs_index *idx, enum gs_db db, uint32_t id, MDB_val *val)
{
	uint8_t key[4];
	struct gs_dec d;
	MDB_val chunk;
	int ret;

	if (!gs_idx_rec_table(db)) {
		gs_key_put32(key, id);
		return gs_idx_get(idx, db, key, 4, val);
	}
	if (!id)
		return -ENOENT;
	gs_key_put32(key, (id - 1) / GS_REC_CHUNK);
	ret = gs_idx_get(idx, db, key, 4, &chunk);
	if (ret)
		return ret;
	gs_dec_init(&d, chunk.mv_data, chunk.mv_size);
	for (uint32_t i = 0; i <= (id - 1) % GS_REC_CHUNK; i++)
		if (!gs_idx_next_rec(&d, val))
			return d.err ? -GS_ERR_CORRUPT : -ENOENT;
	return 0;
}

/*
 * String @ref of the module's string table (schema.h "sref": 0 is NULL, else id + 1):
 * one get of its chunk (the last few chunks are remembered) and a scan to the string.
 * NULL with *@bad set when the reference or the table is damaged.
 */
static const char *str_at(struct gs_index *idx, uint64_t ref, bool *bad)
{
	uint32_t chunk, k;
	struct str_slot *slot;
	const char *p, *end;

	if (!ref)
		return NULL;
	if (ref - 1 > UINT32_MAX) {
		*bad = true;
		return NULL;
	}
	chunk = (uint32_t)((ref - 1) / GS_STR_CHUNK);
	k = (uint32_t)((ref - 1) % GS_STR_CHUNK);
	slot = &idx->strc[chunk % GS_STR_CACHE];
	if (!slot->data || slot->chunk != chunk) {
		uint8_t key[4];
		MDB_val v;

		gs_key_put32(key, chunk);
		if (gs_idx_get(idx, GS_DB_STR, key, 4, &v) || !v.mv_size ||
		    ((const char *)v.mv_data)[v.mv_size - 1]) {
			*bad = true;
			return NULL;
		}
		slot->chunk = chunk;
		slot->data = v.mv_data;
		slot->len = v.mv_size;
		slot->nstr = 0;
		for (p = slot->data, end = p + slot->len; p < end && slot->nstr < GS_STR_CHUNK;
		     p += strlen(p) + 1)
			slot->off[slot->nstr++] = (uint32_t)(p - slot->data);
	}
	if (k >= slot->nstr) {
		*bad = true;
		return NULL;
	}
	return slot->data + slot->off[k];
}

const char *gs_idx_str(struct gs_index *idx, uint64_t ref, bool *bad)
{
	return str_at(idx, ref, bad);
}

/* A string reference in a record. */
const char *gs_idx_dec_sref(struct gs_index *idx, struct gs_dec *d)
{
	bool bad = false;
	const char *s = str_at(idx, gs_dec_u(d), &bad);

	d->err |= bad;
	return d->err ? NULL : s;
}

/* ix_enc_sref_as's reference: u 0 NULL, u 1 @same, else the string id + 2. */
static const char *dec_sref_as(struct gs_index *idx, struct gs_dec *d, const char *same)
{
	uint64_t r = gs_dec_u(d);
	bool bad = false;
	const char *s = r < 2 ? (r ? same : NULL) : str_at(idx, r - 1, &bad);

	d->err |= bad;
	return d->err ? NULL : s;
}

/*
 * Positions a new cursor on the chunk of @db whose first key is the greatest <= @key.
 * Returns 0 (@cur_ret open, @k/@v the chunk), -ENOENT (no such chunk, no cursor), or
 * a negative errno.
 */
static int chunk_at(struct gs_index *idx, enum gs_db db, uint64_t key, MDB_cursor **cur_ret,
		    MDB_val *k, MDB_val *v)
{
	uint8_t kb[8];
	MDB_cursor *cur;
	int rc;

	if (!idx->have[db])
		return -ENOENT;
	gs_key_put64(kb, key);
	k->mv_size = 8;
	k->mv_data = kb;
	rc = mdb_cursor_open(idx->txn, idx->dbi[db], &cur);
	if (rc)
		return gs_idx_lmdb_err(rc);
	rc = mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
	if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(cur, k, v, MDB_LAST);
	else if (rc == 0 && (k->mv_size != 8 || gs_key_get64(k->mv_data) != key))
		rc = mdb_cursor_get(cur, k, v, MDB_PREV);
	if (rc == 0 && (k->mv_size != 8 || gs_key_get64(k->mv_data) > key))
		rc = MDB_NOTFOUND;	/* every chunk starts after @key */
	if (rc) {
		mdb_cursor_close(cur);
		return rc == MDB_NOTFOUND ? -ENOENT : gs_idx_lmdb_err(rc);
	}
	*cur_ret = cur;
	return 0;
}

/*
 * Ids named @name in name table @db (schema.h "name table"): one seek and one chunk.
 * Fills a malloc'd array the caller frees.
 */
static int name_ids(struct gs_index *idx, enum gs_db db, const char *name, uint32_t **ids_ret,
		    size_t *cnt_ret)
{
	uint64_t h = gs_name_hash(name);
	MDB_cursor *cur;
	MDB_val k, v;
	struct gs_dec d;
	uint32_t *ids = NULL;
	size_t cnt = 0;
	int ret;

	*ids_ret = NULL;
	*cnt_ret = 0;
	ret = chunk_at(idx, db, h, &cur, &k, &v);
	if (ret)
		return ret == -ENOENT ? 0 : ret;
	gs_dec_init(&d, v.mv_data, v.mv_size);
	/* Only 16 bits of each hash are stored: a (rare) other group with the same bits is
	 * also taken, and the caller's name compare drops it. */
	while (d.p < d.end && !d.err) {
		const uint8_t *lo = gs_dec_bytes(&d, 2);
		bool want = lo && (lo[0] | lo[1] << 8) == (uint16_t)h;
		uint32_t n = gs_dec_count(&d, 1), id = 0;

		if (want && n) {
			uint32_t *nids = reallocarray(ids, cnt + n, sizeof(*ids));

			if (!nids) {
				ret = -ENOMEM;
				break;
			}
			ids = nids;
		}
		for (uint32_t i = 0; i < n; i++) {
			id += gs_dec_u32(&d);
			if (want && !d.err)
				ids[cnt++] = id;
		}
	}
	mdb_cursor_close(cur);
	if (!ret && d.err)
		ret = -GS_ERR_CORRUPT;
	if (ret) {
		free(ids);
		return ret;
	}
	*ids_ret = ids;
	*cnt_ret = cnt;
	return 0;
}

/*
 * Decodes record @id into @slot (an element of the output array) and says whether
 * it is really called @name: name keys are hashes, so every hit is confirmed.
 */
typedef int (*name_dec_fn)(struct gs_index *idx, uint32_t id, void *slot, const char *name,
			   bool *match);

/*
 * The records named @name through name table @db: an arena array of @elem_size
 * elements filled by @dec, each id once. Returns 0, -ENOENT (outputs untouched), or
 * a negative errno.
 */
static int by_name(struct gs_index *idx, enum gs_db db, const char *name, size_t elem_size,
		   name_dec_fn dec, void **out_ret, size_t *cnt_ret)
{
	uint32_t *ids;
	size_t n, cnt = 0;
	char *out;
	int ret = name_ids(idx, db, name, &ids, &n);

	if (ret)
		return ret;
	out = n ? gs_idx_alloc(idx, n * elem_size) : NULL;
	if (n && !out) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		bool dup = false, match = false;

		for (size_t j = 0; j < i; j++)
			dup |= ids[j] == ids[i];
		if (dup)
			continue;
		ret = dec(idx, ids[i], out + cnt * elem_size, name, &match);
		if (ret)
			goto out;
		cnt += match;
	}
	if (cnt) {
		*out_ret = out;
		*cnt_ret = cnt;
	}
	ret = cnt ? 0 : -ENOENT;
out:
	free(ids);
	return ret;
}

/* ---- open / close ------------------------------------------------------------------ */

static int check_meta(struct gs_index *idx)
{
	MDB_val v;
	struct gs_dec d;
	int ret;

	ret = gs_idx_get(idx, GS_DB_META, "magic", 5, &v);
	if (ret || v.mv_size != 8 || memcmp(v.mv_data, GS_INDEX_MAGIC, 8))
		return ret == -ENOENT || !ret ? -GS_ERR_CORRUPT : ret;
	ret = gs_idx_get(idx, GS_DB_META, "schema", 6, &v);
	if (ret)
		return ret == -ENOENT ? -GS_ERR_CORRUPT : ret;
	gs_dec_init(&d, v.mv_data, v.mv_size);
	idx->info.schema_major = gs_dec_u32le(&d);
	idx->info.schema_minor = gs_dec_u32le(&d);
	if (d.err)
		return -GS_ERR_CORRUPT;
	if (idx->info.schema_major != GS_SCHEMA_MAJOR)
		return -GS_ERR_SCHEMA;
	ret = gs_idx_get(idx, GS_DB_META, "module", 6, &v);
	if (ret)
		return ret == -ENOENT ? -GS_ERR_CORRUPT : ret;
	gs_dec_init(&d, v.mv_data, v.mv_size);
	return gs_idx_dec_module(idx, &d);
}

int gs_index_open(const char *path, struct gs_index **idx_ret)
{
	struct gs_index *idx;
	/*
	 * No lock file: an index file is written once under a temporary name and renamed
	 * into place (indexer/writer.c), never changed in place, so a reader has no writer
	 * to coordinate with. That also spares each start the lock file's open, locks and
	 * mapping, and leaves no "-lock" files in a cache that is copied between machines.
	 */
	unsigned int flags = MDB_NOSUBDIR | MDB_RDONLY | MDB_NOTLS | MDB_NOLOCK;
	struct stat st;
	int rc, ret;

	*idx_ret = NULL;
	if (stat(path, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -GS_ERR_CORRUPT;
	idx = calloc(1, sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	rc = mdb_env_create(&idx->env);
	if (rc) {
		ret = gs_idx_lmdb_err(rc);
		goto err_free;
	}
	mdb_env_set_maxdbs(idx->env, GS_DB_COUNT + 4);
	rc = mdb_env_open(idx->env, path, flags, 0644);
	if (rc) {
		ret = rc == ENOENT ? -ENOENT : rc > 0 ? -rc : -GS_ERR_CORRUPT;
		goto err_env;
	}
	rc = mdb_txn_begin(idx->env, NULL, MDB_RDONLY, &idx->txn);
	if (rc) {
		ret = gs_idx_lmdb_err(rc);
		goto err_env;
	}
	for (int i = 0; i < GS_DB_COUNT; i++) {
		rc = mdb_dbi_open(idx->txn, gs_db_names[i], 0, &idx->dbi[i]);
		if (rc == 0)
			idx->have[i] = true;
		else if (rc != MDB_NOTFOUND) {
			ret = gs_idx_lmdb_err(rc);
			goto err_txn;
		}
	}
	if (!idx->have[GS_DB_META]) {
		ret = -GS_ERR_CORRUPT;
		goto err_txn;
	}
	ret = check_meta(idx);
	if (ret)
		goto err_txn;
	/* the file now mapped, not the path's: a rename may have replaced it since the stat */
	{
		mdb_filehandle_t fd;

		if (!mdb_env_get_fd(idx->env, &fd) && !fstat(fd, &st))
			idx->file_id = (struct gs_index_file_id){ st.st_dev, st.st_ino, st.st_size,
				(uint64_t)st.st_mtim.tv_sec * 1000000000u + st.st_mtim.tv_nsec };
	}
	*idx_ret = idx;
	return 0;
err_txn:
	mdb_txn_abort(idx->txn);
err_env:
	mdb_env_close(idx->env);
err_free:
	arena_free(idx->arena);
	free(idx);
	return ret;
}

void gs_index_file_id(const struct gs_index *idx, struct gs_index_file_id *id_ret)
{
	*id_ret = idx->file_id;
}

int gs_index_open_for(const char *dir, const char *elf_path, struct gs_index **idx_ret)
{
	char bid[41], path[4096];
	int ret;

	*idx_ret = NULL;
	ret = gs_build_id_of_path(elf_path, bid);
	if (ret)
		return ret;
	ret = gs_index_path(dir, bid, path, sizeof(path));
	if (ret)
		return ret;
	ret = gs_index_open(path, idx_ret);
	return ret == -ENOENT ? -GS_ERR_NOT_INDEXED : ret;
}

void gs_index_close(struct gs_index *idx)
{
	if (!idx)
		return;
	if (idx->txn)
		mdb_txn_abort(idx->txn);
	if (idx->env)
		mdb_env_close(idx->env);
	idcache_deinit(&idx->funcs);
	idcache_deinit(&idx->scopes);
	idcache_deinit(&idx->scope_dicts);
	idcache_deinit(&idx->scope_paths);
	idcache_deinit(&idx->types);
	arena_free(idx->arena);
	free(idx);
}

/* ---- module ------------------------------------------------------------------------ */

int gs_index_module(struct gs_index *idx, const struct gs_module_info **info_ret)
{
	*info_ret = &idx->info;
	return 0;
}

int gs_index_vaddr_to_offset(struct gs_index *idx, uint64_t vaddr, uint64_t *off_ret)
{
	return gs_elf_vaddr_to_offset(idx->info.segments, idx->info.nsegments, vaddr, off_ret);
}

/* ---- symbols ----------------------------------------------------------------------- */

/*
 * The next record of a "sym" chunk over *@s, the previous one (zeroed at the chunk's
 * start): "u8 type | dynamic << 4 | twin << 5, [str name, s value - previous, u size
 * unless a twin], u8 bind"; a twin repeats the previous name, value and size.
 */
int gs_idx_sym_next(struct gs_index *idx, struct gs_dec *chunk, struct gs_symbol *s)
{
	MDB_val r;
	struct gs_dec d;
	uint8_t head;

	if (!gs_idx_next_rec(chunk, &r))
		return chunk->err ? -GS_ERR_CORRUPT : -ENOENT;
	gs_dec_init(&d, r.mv_data, r.mv_size);
	head = gs_dec_u8(&d);
	s->type = head & 0xf;
	s->dynamic = head & 0x10;
	if (head & 0x20) {
		if (!s->name)
			return -GS_ERR_CORRUPT;
	} else {
		s->name = gs_idx_dec_sref(idx, &d);
		s->value += (uint64_t)gs_dec_s(&d);
		s->size = gs_dec_u(&d);
	}
	s->bind = gs_dec_u8(&d);
	return d.err || !s->name || head & 0xc0 ? -GS_ERR_CORRUPT : 0;
}

static int dec_symbol(struct gs_index *idx, uint32_t id, struct gs_symbol *s)
{
	struct gs_dec d;
	uint8_t key[4];
	MDB_val v;
	int ret;

	if (!id)
		return -ENOENT;
	gs_key_put32(key, (id - 1) / GS_REC_CHUNK);
	ret = gs_idx_get(idx, GS_DB_SYM, key, 4, &v);
	if (ret)
		return ret;
	memset(s, 0, sizeof(*s));
	gs_dec_init(&d, v.mv_data, v.mv_size);
	for (uint32_t i = 0; i <= (id - 1) % GS_REC_CHUNK && !ret; i++)
		ret = gs_idx_sym_next(idx, &d, s);
	return ret;
}

int gs_index_symbol_by_id(struct gs_index *idx, uint32_t id, const struct gs_symbol **sym_ret)
{
	struct gs_symbol *s = gs_idx_alloc(idx, sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	ret = dec_symbol(idx, id, s);
	if (ret)
		return ret;
	*sym_ret = s;
	return 0;
}

static int sym_named(struct gs_index *idx, uint32_t id, void *slot, const char *name, bool *match)
{
	struct gs_symbol *s = slot;
	int ret = dec_symbol(idx, id, s);

	*match = !ret && !strcmp(s->name, name);
	return ret;
}

int gs_index_symbols_by_name(struct gs_index *idx, const char *name,
			     const struct gs_symbol **syms_ret, size_t *cnt_ret)
{
	return by_name(idx, GS_DB_SYM_NAME, name, sizeof(struct gs_symbol), sym_named,
		       (void **)syms_ret, cnt_ret);
}

/* One address chunk (schema.h "address table") into a malloc'd array. */
int gs_idx_addr_chunk(MDB_val *k, MDB_val *v, bool with_len, struct addr_ent **ents_ret,
		      size_t *cnt_ret)
{
	struct addr_ent *e = NULL;
	size_t n = 0, cap = 0;
	struct gs_dec d;
	uint64_t lo = gs_key_get64(k->mv_data);

	gs_dec_init(&d, v->mv_data, v->mv_size);
	while (d.p < d.end && !d.err) {
		if (n == cap) {
			struct addr_ent *ne = reallocarray(e, cap ? cap * 2 : 64, sizeof(*e));

			if (!ne) {
				free(e);
				return -ENOMEM;
			}
			e = ne;
			cap = cap ? cap * 2 : 64;
		}
		lo += gs_dec_u(&d);
		e[n].lo = lo;
		e[n].id = (n ? e[n - 1].id : 0) + (uint32_t)gs_dec_s(&d);
		e[n].len = with_len ? gs_dec_u(&d) : 0;
		n++;
	}
	if (d.err) {
		free(e);
		return -GS_ERR_CORRUPT;
	}
	*ents_ret = e;
	*cnt_ret = n;
	return 0;
}

/*
 * Calls @fn on the entries of address table @db with lo <= @pc, greatest first, at
 * most @limit of them, until it returns non-zero (1: found, stop with 0; negative:
 * that error). -ENOENT when none answered.
 */
static int scan_back(struct gs_index *idx, enum gs_db db, uint64_t pc, int limit,
		     int (*fn)(struct gs_index *, uint64_t lo, uint32_t id, uint64_t len, void *),
		     void *arg)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, ret = chunk_at(idx, db, pc, &cur, &k, &v);

	if (ret)
		return ret;
	ret = -ENOENT;
	for (rc = 0; rc == 0 && limit > 0; rc = mdb_cursor_get(cur, &k, &v, MDB_PREV)) {
		struct addr_ent *e;
		size_t n;
		int r = k.mv_size == 8 ? gs_idx_addr_chunk(&k, &v, db == GS_DB_FUNC_ADDR, &e, &n)
				       : -GS_ERR_CORRUPT;

		if (r) {
			ret = r;
			break;
		}
		for (size_t i = n; i > 0 && limit > 0 && !r; i--) {
			if (e[i - 1].lo > pc)
				continue;
			limit--;
			r = fn(idx, e[i - 1].lo, e[i - 1].id, e[i - 1].len, arg);
		}
		free(e);
		if (r) {
			ret = r > 0 ? 0 : r;
			break;
		}
	}
	if (rc && rc != MDB_NOTFOUND)
		ret = gs_idx_lmdb_err(rc);
	mdb_cursor_close(cur);
	return ret;
}

struct sym_at {
	uint64_t pc;
	struct gs_symbol sym;
};

static int sym_at_fn(struct gs_index *idx, uint64_t lo, uint32_t id, uint64_t len, void *arg)
{
	struct sym_at *a = arg;
	int ret = dec_symbol(idx, id, &a->sym);

	if (ret)
		return ret;
	if (a->pc >= a->sym.value && (a->pc < a->sym.value + a->sym.size ||
				       (a->sym.size == 0 && a->pc == a->sym.value)))
		return 1;
	return 0;
}

int gs_index_symbol_by_addr(struct gs_index *idx, uint64_t addr, const struct gs_symbol **sym_ret)
{
	struct sym_at a = { .pc = addr };
	struct gs_symbol *s;
	int ret = scan_back(idx, GS_DB_SYM_ADDR, addr, 64, sym_at_fn, &a);

	if (ret)
		return ret;
	s = gs_idx_alloc(idx, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*s = a.sym;
	*sym_ret = s;
	return 0;
}

/* ---- functions --------------------------------------------------------------------- */

struct func_rec {
	struct gs_func f;
	uint32_t naliases;
	const char **aliases;
};

static int dec_func(struct gs_index *idx, uint32_t id, struct func_rec **fr_ret)
{
	struct func_rec *fr = idcache_get(&idx->funcs, id);
	struct gs_dec d;
	MDB_val v;
	int ret;

	if (fr) {
		*fr_ret = fr;
		return 0;
	}
	ret = get_id(idx, GS_DB_FUNC, id, &v);
	if (ret)
		return ret;
	fr = gs_idx_alloc(idx, sizeof(*fr));
	if (!fr)
		return -ENOMEM;
	gs_dec_init(&d, v.mv_data, v.mv_size);
	fr->f.id = id;
	fr->f.name = gs_idx_dec_sref(idx, &d);
	fr->f.qual_name = gs_idx_dec_sref(idx, &d);
	fr->f.linkage = gs_idx_dec_sref(idx, &d);
	fr->f.symbol = dec_sref_as(idx, &d, fr->f.name);
	fr->f.entry_pc = gs_dec_u(&d);
	fr->f.post_prologue_pc = fr->f.entry_pc + (uint64_t)gs_dec_s(&d);
	ret = gs_idx_dec_ranges(idx, &d, fr->f.entry_pc, &fr->f.nranges, &fr->f.ranges);
	if (ret)
		return ret;
	fr->f.decl_file = gs_dec_u32(&d);
	fr->f.decl_line = gs_dec_u32(&d);
	fr->f.ret_type = gs_dec_u32(&d);
	fr->f.flags = gs_dec_u32(&d);
	fr->naliases = gs_dec_count(&d, 1);
	fr->aliases = fr->naliases ? gs_idx_alloc(idx, fr->naliases * sizeof(char *)) : NULL;
	if (fr->naliases && !fr->aliases)
		return -ENOMEM;
	for (uint32_t i = 0; i < fr->naliases; i++)
		fr->aliases[i] = dec_sref_as(idx, &d, fr->f.symbol);
	fr->f.ncallers = 0;
	fr->f.callers = NULL;
	if (d.p < d.end) {	/* 3.1: its callers' call sites */
		uint64_t *pcs, pc = fr->f.entry_pc;

		fr->f.ncallers = gs_dec_count(&d, 1);
		pcs = fr->f.ncallers ? gs_idx_alloc(idx, fr->f.ncallers * sizeof(*pcs)) : NULL;
		if (fr->f.ncallers && !pcs)
			return -ENOMEM;
		for (uint32_t i = 0; i < fr->f.ncallers; i++)
			pcs[i] = pc += (uint64_t)gs_dec_s(&d);
		fr->f.callers = pcs;
	}
	if (d.err || !fr->f.name)
		return -GS_ERR_CORRUPT;
	if (!fr->f.qual_name)
		fr->f.qual_name = fr->f.name;
	idcache_put(&idx->funcs, id, fr);
	*fr_ret = fr;
	return 0;
}

int gs_index_func_by_id(struct gs_index *idx, uint32_t id, const struct gs_func **func_ret)
{
	struct func_rec *fr;
	int ret = dec_func(idx, id, &fr);

	if (ret)
		return ret;
	*func_ret = &fr->f;
	return 0;
}

static bool eq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

static bool func_matches(const struct func_rec *fr, const char *name)
{
	if (eq(fr->f.name, name) || eq(fr->f.qual_name, name) || eq(fr->f.linkage, name) ||
	    eq(fr->f.symbol, name))
		return true;
	for (uint32_t i = 0; i < fr->naliases; i++)
		if (eq(fr->aliases[i], name))
			return true;
	return false;
}

static int cmp_func_entry(const void *a, const void *b)
{
	const struct gs_func *x = *(const struct gs_func *const *)a;
	const struct gs_func *y = *(const struct gs_func *const *)b;

	if (x->entry_pc != y->entry_pc)
		return x->entry_pc < y->entry_pc ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

int gs_index_funcs_by_name(struct gs_index *idx, const char *name,
			   const struct gs_func *const **funcs_ret, size_t *cnt_ret)
{
	uint32_t *ids;
	size_t n, cnt = 0;
	const struct gs_func **out;
	int ret = name_ids(idx, GS_DB_FUNC_NAME, name, &ids, &n);

	if (ret)
		return ret;
	out = n ? gs_idx_alloc(idx, n * sizeof(*out)) : NULL;
	if (n && !out) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct func_rec *fr;
		bool dup = false;

		ret = dec_func(idx, ids[i], &fr);
		if (ret)
			goto out;
		for (size_t j = 0; j < cnt; j++)
			dup |= out[j]->id == fr->f.id;
		if (!dup && func_matches(fr, name))
			out[cnt++] = &fr->f;
	}
	gs_qsort(out, cnt, sizeof(*out), cmp_func_entry);
	if (cnt) {	/* outputs are untouched on failure */
		*funcs_ret = out;
		*cnt_ret = cnt;
	}
	ret = cnt ? 0 : -ENOENT;
out:
	free(ids);
	return ret;
}

struct func_at {
	uint64_t pc;
	uint32_t id;
};

static int func_at_fn(struct gs_index *idx, uint64_t lo, uint32_t id, uint64_t len, void *arg)
{
	struct func_at *a = arg;

	if (a->pc >= lo && a->pc - lo < len) {
		a->id = id;
		return 1;
	}
	return 0;
}

int gs_index_func_by_addr(struct gs_index *idx, uint64_t pc, const struct gs_func **func_ret)
{
	struct func_at a = { .pc = pc };
	int ret = scan_back(idx, GS_DB_FUNC_ADDR, pc, 16, func_at_fn, &a);

	if (ret)
		return ret;
	return gs_index_func_by_id(idx, a.id, func_ret);
}

static int dec_inline(struct gs_index *idx, uint32_t seq, struct gs_inline *in)
{
	const struct gs_func *f;
	struct gs_dec d;
	MDB_val v;
	int ret = get_id(idx, GS_DB_INLINE, seq, &v);

	if (ret)
		return ret;
	gs_dec_init(&d, v.mv_data, v.mv_size);
	in->name = gs_idx_dec_sref(idx, &d);
	in->qual_name = gs_idx_dec_sref(idx, &d);
	in->func_id = gs_dec_u32(&d);
	ret = d.err ? -GS_ERR_CORRUPT : gs_index_func_by_id(idx, in->func_id, &f);
	if (ret)
		return ret == -ENOENT ? -GS_ERR_CORRUPT : ret;
	in->entry_pc = f->entry_pc + (uint64_t)gs_dec_s(&d);
	ret = gs_idx_dec_ranges(idx, &d, in->entry_pc, &in->nranges, &in->ranges);
	if (ret)
		return ret;
	in->call_file = gs_dec_u32(&d);
	in->call_line = gs_dec_u32(&d);
	in->call_column = gs_dec_u32(&d);
	if (d.err || !in->name)
		return -GS_ERR_CORRUPT;
	if (!in->qual_name)
		in->qual_name = in->name;
	return 0;
}

int gs_index_inline_by_id(struct gs_index *idx, uint32_t seq, const struct gs_inline **inl_ret)
{
	struct gs_inline *in = gs_idx_alloc(idx, sizeof(*in));
	int ret;

	if (!in)
		return -ENOMEM;
	ret = dec_inline(idx, seq, in);
	if (ret)
		return ret;
	*inl_ret = in;
	return 0;
}

static int inline_named(struct gs_index *idx, uint32_t id, void *slot, const char *name,
			bool *match)
{
	struct gs_inline *in = slot;
	int ret = dec_inline(idx, id, in);

	*match = !ret && (eq(in->name, name) || eq(in->qual_name, name));
	return ret;
}

int gs_index_inlines_by_name(struct gs_index *idx, const char *name,
			     const struct gs_inline **inl_ret, size_t *cnt_ret)
{
	return by_name(idx, GS_DB_INLINE_NAME, name, sizeof(struct gs_inline), inline_named,
		       (void **)inl_ret, cnt_ret);
}

/* ---- files and lines --------------------------------------------------------------- */

const char *gs_index_file_name(struct gs_index *idx, uint32_t id)
{
	struct gs_dec d;
	MDB_val v;
	const char *s;

	if (!id || get_id(idx, GS_DB_FILE, id, &v))
		return NULL;
	gs_dec_init(&d, v.mv_data, v.mv_size);
	s = gs_dec_str(&d);
	return d.err ? NULL : s;
}

static bool path_matches(const char *path, const char *query)
{
	size_t lp = strlen(path), lq = strlen(query);

	if (!strcmp(path, query))
		return true;
	return lq < lp && path[lp - lq - 1] == '/' && !strcmp(path + lp - lq, query);
}

int gs_index_files_match(struct gs_index *idx, const char *query,
			 const uint32_t **ids_ret, size_t *cnt_ret)
{
	const char *base;
	uint32_t *ids, *out;
	size_t n, cnt = 0;
	int ret;

	while (!strncmp(query, "./", 2))
		query += 2;
	base = strrchr(query, '/');
	base = base ? base + 1 : query;
	if (!*base)
		return -ENOENT;
	ret = name_ids(idx, GS_DB_FILE_BASE, base, &ids, &n);
	if (ret)
		return ret;
	out = n ? gs_idx_alloc(idx, n * sizeof(*out)) : NULL;
	if (n && !out) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *p = gs_index_file_name(idx, ids[i]);

		if (p && path_matches(p, query))
			out[cnt++] = ids[i];
	}
	if (cnt) {	/* outputs are untouched on failure */
		*ids_ret = out;
		*cnt_ret = cnt;
	}
	ret = cnt ? 0 : -ENOENT;
out:
	free(ids);
	return ret;
}

int gs_index_line_addrs(struct gs_index *idx, uint32_t file_id, uint32_t line,
			const struct gs_line_addr **addrs_ret, size_t *cnt_ret)
{
	uint8_t key[8];
	struct gs_line_addr *out;
	struct gs_dec d;
	MDB_val v;
	uint32_t nlines, func = 0, l = 0;
	uint64_t addr = 0;	/* these run on across the lines of a bucket */
	int ret;

	gs_key_put32(key, file_id);
	gs_key_put32(key + 4, line / GS_LINE_BUCKET);
	ret = gs_idx_get(idx, GS_DB_LINE_ADDR, key, 8, &v);
	if (ret)
		return ret;
	gs_dec_init(&d, v.mv_data, v.mv_size);
	nlines = gs_dec_count(&d, 2);
	for (uint32_t i = 0; i < nlines && !d.err; i++) {
		uint32_t h = gs_dec_u32(&d), n = h & 7 ? h & 7 : 0;
		bool want;

		if ((h & 7) == 7)
			n = gs_dec_count(&d, 1);
		l += h >> 3;
		want = l == line % GS_LINE_BUCKET;
		l++;

		out = want && n ? gs_idx_alloc(idx, n * sizeof(*out)) : NULL;
		if (want && n && !out)
			return -ENOMEM;
		for (uint32_t j = 0; j < n; j++) {
			uint64_t w = gs_dec_u(&d), zz = w >> 1;

			addr += (uint64_t)((int64_t)(zz >> 1) ^ -(int64_t)(zz & 1));
			if (w & 1)
				func = gs_dec_u32(&d);
			if (want) {
				out[j].addr = addr;
				out[j].func_id = func;
			}
		}
		if (!want)
			continue;
		if (d.err)
			return -GS_ERR_CORRUPT;
		*addrs_ret = out;
		*cnt_ret = n;
		return n ? 0 : -ENOENT;
	}
	return d.err ? -GS_ERR_CORRUPT : -ENOENT;
}

/* Decodes one "line" chunk; calls @fn per row until it returns non-zero. */
static int line_chunk(MDB_val *k, MDB_val *v,
		      int (*fn)(const struct gs_line_row *, void *), void *arg)
{
	struct gs_dec d;
	struct gs_line_row row = { 0 };
	uint64_t addr;
	uint32_t n;

	if (k->mv_size != 8)
		return -GS_ERR_CORRUPT;
	addr = gs_key_get64(k->mv_data);
	gs_dec_init(&d, v->mv_data, v->mv_size);
	n = gs_dec_count(&d, 2);
	for (uint32_t i = 0; i < n; i++) {
		uint8_t h = gs_dec_u8(&d), rare = h & 2 ? gs_dec_u8(&d) : 0, al = gs_dec_u8(&d);
		int r;

		addr += (al & 15) == GS_LINE_ADDR_ESC ? gs_dec_u(&d) : (al & 15);
		row.addr = addr;
		row.line += al >> 4 ? (uint32_t)((al >> 4) - 8) : (uint32_t)gs_dec_s(&d);
		if (rare & GS_LINE_R_FILE)
			row.file_id = gs_dec_u32(&d);
		row.column = (uint16_t)(h >> 2 == GS_LINE_COL_ESC ? gs_dec_u32(&d) : h >> 2);
		row.flags = (h & 1 ? GS_LINE_IS_STMT : 0) |
			    (rare & GS_LINE_R_PROLOGUE ? GS_LINE_PROLOGUE_END : 0) |
			    (rare & GS_LINE_R_END ? GS_LINE_END_SEQUENCE : 0);
		if (d.err)
			return -GS_ERR_CORRUPT;
		r = fn(&row, arg);
		if (r)
			return r;
	}
	return d.err ? -GS_ERR_CORRUPT : 0;
}

struct line_at {
	uint64_t pc;
	struct gs_line_row best;
	bool found;
};

static int line_at_fn(const struct gs_line_row *row, void *arg)
{
	struct line_at *a = arg;

	if (row->addr > a->pc)
		return 1;
	a->best = *row;
	a->found = true;
	return 0;
}

int gs_index_line_at(struct gs_index *idx, uint64_t pc, struct gs_line_row *row_ret)
{
	uint8_t key[8];
	MDB_val k = { 8, key }, v;
	MDB_cursor *cur;
	struct line_at a = { .pc = pc };
	int rc, ret;

	if (!idx->have[GS_DB_LINE])
		return -ENOENT;
	gs_key_put64(key, pc);
	rc = mdb_cursor_open(idx->txn, idx->dbi[GS_DB_LINE], &cur);
	if (rc)
		return gs_idx_lmdb_err(rc);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	else if (rc == 0 && gs_key_get64(k.mv_data) > pc)
		rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
	if (rc) {
		mdb_cursor_close(cur);
		return gs_idx_lmdb_err(rc);
	}
	ret = line_chunk(&k, &v, line_at_fn, &a);
	mdb_cursor_close(cur);
	if (ret < 0)
		return ret;
	if (!a.found || (a.best.flags & GS_LINE_END_SEQUENCE))
		return -ENOENT;
	*row_ret = a.best;
	return 0;
}

int gs_index_line_foreach(struct gs_index *idx, int (*fn)(const struct gs_line_row *, void *),
			  void *arg)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, ret = 0;

	if (!idx->have[GS_DB_LINE])
		return 0;
	rc = mdb_cursor_open(idx->txn, idx->dbi[GS_DB_LINE], &cur);
	if (rc)
		return gs_idx_lmdb_err(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && !ret;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		ret = line_chunk(&k, &v, fn, arg);
	mdb_cursor_close(cur);
	if (ret)
		return ret < 0 ? ret : 0;
	return rc == MDB_NOTFOUND ? 0 : gs_idx_lmdb_err(rc);
}

/* ---- scopes ------------------------------------------------------------------------ */

/* Function @func_id's scope dictionary, decoded once (the record stays mapped). */
static int scope_dict_get(struct gs_index *idx, uint32_t func_id, struct scope_dict **sd_ret)
{
	struct scope_dict *sd = idcache_get(&idx->scope_dicts, func_id);
	const struct gs_func *f;
	struct gs_dec d;
	MDB_val v;
	int ret;

	if (sd) {
		*sd_ret = sd;
		return 0;
	}
	ret = gs_index_func_by_id(idx, func_id, &f);
	if (!ret)
		ret = get_id(idx, GS_DB_SCOPE, func_id, &v);
	if (ret)
		return ret;
	sd = gs_idx_alloc(idx, sizeof(*sd));
	if (!sd)
		return -ENOMEM;
	memset(sd, 0, sizeof(*sd));
	sd->func_name = f->name;
	gs_dec_init(&d, v.mv_data, v.mv_size);
	ret = gs_idx_dec_dict(idx, &d, sd);
	if (ret)
		return ret;
	sd->tree = d.p;
	sd->end = d.end;
	idcache_put(&idx->scope_dicts, func_id, sd);
	*sd_ret = sd;
	return 0;
}

/* The whole tree (@pc NULL) or the path to *@pc of function @func_id. */
static int scope_decode(struct gs_index *idx, uint32_t func_id, const uint64_t *pc,
			struct gs_scope **root_ret)
{
	struct scope_dict *sd;
	struct gs_scope *root;
	struct gs_dec d;
	int ret;

	ret = scope_dict_get(idx, func_id, &sd);
	if (ret)
		return ret;
	root = gs_idx_alloc(idx, sizeof(*root));
	if (!root)
		return -ENOMEM;
	gs_dec_init(&d, sd->tree, (size_t)(sd->end - sd->tree));
	ret = gs_idx_dec_scope(idx, &d, sd, root, NULL, 0, pc);
	if (ret)
		return ret < 0 ? ret : -GS_ERR_CORRUPT;
	*root_ret = root;
	return 0;
}

int gs_index_scope_tree(struct gs_index *idx, uint32_t func_id, const struct gs_scope **root_ret)
{
	struct gs_scope *root = idcache_get(&idx->scopes, func_id);
	int ret;

	if (!root) {
		ret = scope_decode(idx, func_id, NULL, &root);
		if (ret)
			return ret;
		idcache_put(&idx->scopes, func_id, root);
	}
	*root_ret = root;
	return 0;
}

int gs_index_scope_chain(struct gs_index *idx, uint64_t pc, const struct gs_scope **chain,
			 size_t max, size_t *cnt_ret)
{
	const struct gs_func *f;
	const struct gs_scope *s, *path[GS_SCOPE_MAX_DEPTH + 1];
	struct gs_scope *root;
	size_t depth = 0;
	int ret;

	*cnt_ret = 0;
	ret = gs_index_func_by_addr(idx, pc, &f);
	if (ret)
		return ret;
	/*
	 * A whole tree already decoded serves; else only the path to @pc, cached by pc
	 * (backtraces ask again for the same return addresses).
	 */
	s = idcache_get(&idx->scopes, f->id);
	if (!s && !(s = idcache_get(&idx->scope_paths, pc))) {
		ret = scope_decode(idx, f->id, &pc, &root);
		if (ret)
			return ret;
		idcache_put(&idx->scope_paths, pc, root);
		s = root;
	}
	path[depth++] = s;
	while (depth <= GS_SCOPE_MAX_DEPTH) {
		const struct gs_scope *next = NULL;

		for (uint32_t i = 0; i < s->nchildren && !next; i++)
			if (gs_idx_in_ranges(s->children[i].ranges, s->children[i].nranges, pc))
				next = &s->children[i];
		if (!next)
			break;
		path[depth++] = s = next;
	}
	for (size_t i = 0; i < depth && i < max; i++)
		chain[i] = path[depth - 1 - i];
	*cnt_ret = depth < max ? depth : max;
	return 0;
}

/* ---- globals ----------------------------------------------------------------------- */

/* schema.h "global" qualified name: 0 none, 1 @name, 2 + u F "F's qual::@name", id + 3 */
static const char *dec_global_qual(struct gs_index *idx, struct gs_dec *d, const char *name)
{
	uint64_t r = gs_dec_u(d);
	const struct gs_func *f;
	bool bad = false;
	const char *s;
	char *q;

	if (r < 2 || d->err)
		return r == 1 ? name : NULL;
	if (r > 2) {
		s = str_at(idx, r - 2, &bad);
		d->err |= bad;
		return s;
	}
	if (gs_index_func_by_id(idx, gs_dec_u32(d), &f) || !name) {
		d->err = true;
		return NULL;
	}
	q = gs_idx_alloc(idx, strlen(f->qual_name) + 2 + strlen(name) + 1);
	if (!q) {
		d->err = true;
		return NULL;
	}
	sprintf(q, "%s::%s", f->qual_name, name);
	return q;
}

static int dec_global(struct gs_index *idx, uint32_t id, struct gs_var *var,
		      const char **qual_ret)
{
	struct gs_dec d;
	MDB_val v;
	int ret = get_id(idx, GS_DB_GLOBAL, id, &v);

	if (ret)
		return ret;
	gs_dec_init(&d, v.mv_data, v.mv_size);
	ret = gs_idx_dec_var(idx, &d, var);
	if (ret)
		return ret;
	*qual_ret = dec_global_qual(idx, &d, var->name);
	return var->name && !d.err ? 0 : -GS_ERR_CORRUPT;
}

int gs_index_global_by_id(struct gs_index *idx, uint32_t id, const struct gs_var **var_ret,
			  const char **qual_ret)
{
	struct gs_var *v = gs_idx_alloc(idx, sizeof(*v));
	const char *qual;
	int ret;

	if (!v)
		return -ENOMEM;
	ret = dec_global(idx, id, v, &qual);
	if (ret)
		return ret;
	*var_ret = v;
	if (qual_ret)
		*qual_ret = qual ? qual : v->name;
	return 0;
}

static int global_named(struct gs_index *idx, uint32_t id, void *slot, const char *name,
			bool *match)
{
	struct gs_var *v = slot;
	const char *qual;
	int ret = dec_global(idx, id, v, &qual);

	*match = !ret && (eq(v->name, name) || eq(qual, name));
	return ret;
}

int gs_index_globals_by_name(struct gs_index *idx, const char *name,
			     const struct gs_var **vars_ret, size_t *cnt_ret)
{
	return by_name(idx, GS_DB_GLOBAL_NAME, name, sizeof(struct gs_var), global_named,
		       (void **)vars_ret, cnt_ret);
}

/* ---- call sites -------------------------------------------------------------------- */

/*
 * Decodes the call-site chunk whose first return pc is the greatest <= @pc (or, when
 * none is, the first chunk; with @after, the first chunk starting after @pc), caching
 * it: a dump walks the chunks in order and decodes each once. -ENOENT when there is
 * no such chunk.
 */
static int cs_chunk(struct gs_index *idx, uint64_t pc, bool after)
{
	uint8_t key[8];
	MDB_val k = { 8, key }, v;
	MDB_cursor *cur;
	struct gs_call_site *sites;
	struct gs_dec d;
	uint64_t first, prev;
	uint32_t n, caller = 0;
	int rc, ret = 0;

	if (!idx->have[GS_DB_CALLSITE])
		return -ENOENT;
	if (after && pc == UINT64_MAX)
		return -ENOENT;
	gs_key_put64(key, after ? pc + 1 : pc);
	rc = mdb_cursor_open(idx->txn, idx->dbi[GS_DB_CALLSITE], &cur);
	if (rc)
		return gs_idx_lmdb_err(rc);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	/* with @after the key SET_RANGE found is the one; else step back to <= @pc */
	if (!after && (rc == MDB_NOTFOUND ||
		       (rc == 0 && (k.mv_size != 8 || gs_key_get64(k.mv_data) != pc)))) {
		int r2 = mdb_cursor_get(cur, &k, &v, rc == MDB_NOTFOUND ? MDB_LAST : MDB_PREV);

		if (r2 == MDB_NOTFOUND && rc == 0)	/* before the first chunk */
			r2 = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
		rc = r2;
	}
	mdb_cursor_close(cur);
	if (rc)
		return gs_idx_lmdb_err(rc);
	if (k.mv_size != 8)
		return -GS_ERR_CORRUPT;
	first = gs_key_get64(k.mv_data);
	if (idx->cs_n && idx->cs_first == first)
		return 0;
	gs_dec_init(&d, v.mv_data, v.mv_size);
	n = gs_dec_count(&d, 4);
	sites = n ? gs_idx_alloc(idx, n * sizeof(*sites)) : NULL;
	if (!n || !sites)
		return n ? -ENOMEM : -GS_ERR_CORRUPT;
	prev = first;
	for (uint32_t i = 0; i < n && !ret; i++) {
		struct gs_call_site *cs = &sites[i];
		struct gs_call_param *ps;

		uint64_t h = gs_dec_u(&d);

		cs->return_pc = prev + (h >> 3);
		prev = cs->return_pc;
		cs->nparams = (h & 7) == 7 ? gs_dec_count(&d, 2) : (uint32_t)(h & 7);
		caller += (uint32_t)gs_dec_s(&d);
		cs->caller_func_id = caller;
		cs->target_func_id = gs_dec_u32(&d);
		if (cs->nparams > (size_t)(d.end - d.p) / 2)
			return -GS_ERR_CORRUPT;
		ps = cs->nparams ? gs_idx_alloc(idx, cs->nparams * sizeof(*ps)) : NULL;
		if (cs->nparams && !ps)
			return -ENOMEM;
		for (uint32_t j = 0; j < cs->nparams && !ret; j++) {
			ret = gs_idx_dec_expr(idx, &d, &ps[j].location);
			if (!ret)
				ret = gs_idx_dec_expr(idx, &d, &ps[j].value);
		}
		cs->params = ps;
	}
	if (ret)
		return ret;
	if (d.err)
		return -GS_ERR_CORRUPT;
	idx->cs_first = first;
	idx->cs_v = sites;
	idx->cs_n = n;
	return 0;
}

int gs_index_call_site(struct gs_index *idx, uint64_t return_pc,
		       const struct gs_call_site **cs_ret)
{
	int ret = cs_chunk(idx, return_pc, false);

	if (ret)
		return ret;
	for (size_t i = 0; i < idx->cs_n; i++)
		if (idx->cs_v[i].return_pc == return_pc) {
			*cs_ret = &idx->cs_v[i];
			return 0;
		}
	return -ENOENT;
}

int gs_index_call_site_from(struct gs_index *idx, uint64_t pc, const struct gs_call_site **cs_ret)
{
	uint64_t last;
	int ret = cs_chunk(idx, pc, false);

	if (ret)
		return ret;
	for (size_t i = 0; i < idx->cs_n; i++)
		if (idx->cs_v[i].return_pc >= pc) {
			*cs_ret = &idx->cs_v[i];
			return 0;
		}
	/* past this chunk's last site: the next chunk starts after it */
	last = idx->cs_v[idx->cs_n - 1].return_pc;
	ret = cs_chunk(idx, last, true);
	if (ret)
		return ret;
	*cs_ret = &idx->cs_v[0];
	return 0;
}

/* ---- types ------------------------------------------------------------------------- */

static const struct gs_type void_type = { .id = 0, .kind = GS_TYPE_VOID, .name = "void" };

int gs_index_type(struct gs_index *idx, uint32_t id, const struct gs_type **type_ret)
{
	struct gs_type *t;
	struct gs_member *mem;
	struct gs_enumerator *en;
	uint64_t *dims;
	uint32_t *params;
	struct gs_dec d;
	MDB_val v;
	uint8_t fl;
	int ret;

	if (id == 0) {
		*type_ret = &void_type;
		return 0;
	}
	t = idcache_get(&idx->types, id);
	if (t) {
		*type_ret = t;
		return 0;
	}
	ret = get_id(idx, GS_DB_TYPE, id, &v);
	if (ret)
		return ret;
	t = gs_idx_alloc(idx, sizeof(*t));
	if (!t)
		return -ENOMEM;
	gs_dec_init(&d, v.mv_data, v.mv_size);
	t->id = id;
	t->kind = gs_dec_u8(&d);
	t->encoding = gs_dec_u8(&d);
	fl = gs_dec_u8(&d);
	t->declaration = fl & GS_TYPE_F_DECL;
	t->is_signed = fl & GS_TYPE_F_SIGNED;
	t->varargs = fl & GS_TYPE_F_VARARGS;
	t->cxx = fl & GS_TYPE_F_CXX;
	t->name = gs_dec_str(&d);
	t->qual_name = (fl & GS_TYPE_F_QUAL) ? gs_dec_str(&d) : NULL;
	t->size = gs_dec_u(&d);
	t->target = gs_dec_u32(&d);
	t->nmembers = gs_dec_count(&d, 4);
	mem = t->nmembers ? gs_idx_alloc(idx, t->nmembers * sizeof(*mem)) : NULL;
	if (t->nmembers && !mem)
		return -ENOMEM;
	for (uint32_t i = 0; i < t->nmembers; i++) {
		mem[i].name = gs_idx_dec_sref(idx, &d);
		mem[i].type_id = gs_dec_u32(&d);
		mem[i].bit_offset = gs_dec_u(&d);
		mem[i].bit_size = gs_dec_u32(&d);
	}
	t->members = mem;
	t->nenumerators = gs_dec_count(&d, 2);
	en = t->nenumerators ? gs_idx_alloc(idx, t->nenumerators * sizeof(*en)) : NULL;
	if (t->nenumerators && !en)
		return -ENOMEM;
	for (uint32_t i = 0; i < t->nenumerators; i++) {
		en[i].name = gs_idx_dec_sref(idx, &d);
		en[i].value = gs_dec_s(&d);
	}
	t->enumerators = en;
	t->ndims = gs_dec_count(&d, 1);
	dims = t->ndims ? gs_idx_alloc(idx, t->ndims * sizeof(*dims)) : NULL;
	if (t->ndims && !dims)
		return -ENOMEM;
	for (uint32_t i = 0; i < t->ndims; i++)
		dims[i] = gs_dec_u(&d);
	t->dims = dims;
	t->nparams = gs_dec_count(&d, 1);
	params = t->nparams ? gs_idx_alloc(idx, t->nparams * sizeof(*params)) : NULL;
	if (t->nparams && !params)
		return -ENOMEM;
	for (uint32_t i = 0; i < t->nparams; i++)
		params[i] = gs_dec_u32(&d);
	t->params = params;
	if (d.err || t->kind == GS_TYPE_VOID || t->kind > GS_TYPE_UNSPECIFIED)
		return -GS_ERR_CORRUPT;
	idcache_put(&idx->types, id, t);
	*type_ret = t;
	return 0;
}

static int type_named(struct gs_index *idx, uint32_t id, void *slot, const char *name,
		      bool *match)
{
	const struct gs_type **t = slot;
	int ret = gs_index_type(idx, id, t);

	*match = !ret && (eq((*t)->name, name) || eq((*t)->qual_name, name));
	return ret;
}

int gs_index_types_by_name(struct gs_index *idx, const char *name,
			   const struct gs_type *const **types_ret, size_t *cnt_ret)
{
	return by_name(idx, GS_DB_TYPE_NAME, name, sizeof(struct gs_type *), type_named,
		       (void **)types_ret, cnt_ret);
}

/* ---- CFI --------------------------------------------------------------------------- */

/*
 * A CFI entry table as stored: struct gs_cfi_entry[] under @key, or since schema 3.2
 * (u32le pc - base, u32le row)[] under @key32 with the u64le "base". Read in place:
 * LMDB values are only 2-aligned, so entries are assembled byte by byte.
 */
struct cfi_tab {
	const uint8_t *p;
	size_t n;
	bool narrow;
	uint64_t base;
};

static uint64_t le_get(const uint8_t *p, int bytes)
{
	uint64_t v = 0;

	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static int cfi_tab_get(struct gs_index *idx, const char *key, const char *key32,
		       struct cfi_tab *t)
{
	MDB_val v, b;
	int ret = gs_idx_get(idx, GS_DB_CFI, key32, strlen(key32), &v);

	memset(t, 0, sizeof(*t));
	if (!ret) {
		ret = gs_idx_get(idx, GS_DB_CFI, "base", 4, &b);
		if (ret)
			return ret == -ENOENT ? -GS_ERR_CORRUPT : ret;
		if (b.mv_size != 8 || v.mv_size % 8)
			return -GS_ERR_CORRUPT;
		t->base = le_get(b.mv_data, 8);
		t->narrow = true;
		t->p = v.mv_data;
		t->n = v.mv_size / 8;
		return 0;
	}
	if (ret != -ENOENT)
		return ret;
	ret = gs_idx_get(idx, GS_DB_CFI, key, strlen(key), &v);
	if (ret)
		return ret;
	if (v.mv_size % sizeof(struct gs_cfi_entry))
		return -GS_ERR_CORRUPT;
	t->p = v.mv_data;
	t->n = v.mv_size / sizeof(struct gs_cfi_entry);
	return 0;
}

static struct gs_cfi_entry cfi_tab_ent(const struct cfi_tab *t, size_t i)
{
	struct gs_cfi_entry e;

	memset(&e, 0, sizeof(e));
	if (t->narrow) {
		e.pc = t->base + le_get(t->p + 8 * i, 4);
		e.row = (uint32_t)le_get(t->p + 8 * i + 4, 4);
	} else {
		memcpy(&e, t->p + i * sizeof(e), sizeof(e));
	}
	return e;
}

/* The entry in effect at @pc (the last with pc <= @pc); -ENOENT before the first. */
static int cfi_tab_find(const struct cfi_tab *t, uint64_t pc, struct gs_cfi_entry *e)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {		/* first entry with pc > @pc */
		size_t mid = lo + (hi - lo) / 2;

		if (cfi_tab_ent(t, mid).pc <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return -ENOENT;
	*e = cfi_tab_ent(t, lo - 1);
	return 0;
}

static int load_cfi(struct gs_index *idx)
{
	struct gs_cfi_entry *ents;
	struct cfi_tab t;
	MDB_val v;
	void *p;
	int ret;

	if (idx->cfi_loaded)
		return 0;
	ret = gs_idx_get(idx, GS_DB_CFI, "rows", 4, &v);
	if (ret == 0) {
		if (v.mv_size % sizeof(struct gs_cfi_row))
			return -GS_ERR_CORRUPT;
		p = v.mv_size ? arena_alloc_raw(&idx->arena, v.mv_size) : NULL;
		if (v.mv_size && !p)
			return -ENOMEM;
		if (v.mv_size)
			memcpy(p, v.mv_data, v.mv_size);	/* LMDB values are only 2-aligned */
		idx->cfi_rows = p;
		idx->cfi_nrows = v.mv_size / sizeof(struct gs_cfi_row);
		ret = cfi_tab_get(idx, "entries", "entries32", &t);
		if (ret)
			return ret == -ENOENT ? -GS_ERR_CORRUPT : ret;
		ents = t.n ? arena_alloc_raw(&idx->arena, t.n * sizeof(*ents)) : NULL;
		if (t.n && !ents)
			return -ENOMEM;
		for (size_t i = 0; i < t.n; i++) {
			ents[i] = cfi_tab_ent(&t, i);
			if (ents[i].row != UINT32_MAX && ents[i].row >= idx->cfi_nrows)
				return -GS_ERR_CORRUPT;
		}
		idx->cfi_ents = ents;
		idx->cfi_nents = t.n;
	} else if (ret != -ENOENT) {
		return ret;
	}
	idx->cfi_loaded = true;
	return 0;
}

int gs_index_cfi(struct gs_index *idx, const struct gs_cfi_row **rows_ret, size_t *nrows_ret,
		 const struct gs_cfi_entry **ents_ret, size_t *nents_ret)
{
	int ret = load_cfi(idx);

	if (ret)
		return ret;
	*rows_ret = idx->cfi_rows;
	*nrows_ret = idx->cfi_nrows;
	*ents_ret = idx->cfi_ents;
	*nents_ret = idx->cfi_nents;
	return 0;
}

/*
 * One pc's row, searched where LMDB keeps the tables: the planner asks for a few pcs,
 * and copying (and zeroing) the whole table first cost more than the search (0.7 MB on
 * python3.11d).
 */
int gs_index_cfi_at(struct gs_index *idx, uint64_t pc, struct gs_cfi_row *row_ret)
{
	struct gs_cfi_entry e;
	struct cfi_tab t;
	MDB_val rows;
	int ret;

	if (idx->cfi_loaded) {
		rows.mv_data = (void *)idx->cfi_rows;
		rows.mv_size = idx->cfi_nrows * sizeof(struct gs_cfi_row);
		t = (struct cfi_tab){ .p = (const uint8_t *)idx->cfi_ents, .n = idx->cfi_nents };
	} else {
		ret = gs_idx_get(idx, GS_DB_CFI, "rows", 4, &rows);
		if (ret)
			return ret;
		ret = cfi_tab_get(idx, "entries", "entries32", &t);
		if (ret)
			return ret == -ENOENT ? -GS_ERR_CORRUPT : ret;
		if (rows.mv_size % sizeof(struct gs_cfi_row))
			return -GS_ERR_CORRUPT;
	}
	ret = cfi_tab_find(&t, pc, &e);
	if (ret)
		return ret;
	if (e.row == UINT32_MAX)
		return -ENOENT;
	if ((uint64_t)e.row >= rows.mv_size / sizeof(*row_ret))
		return -GS_ERR_CORRUPT;
	memcpy(row_ret, (const char *)rows.mv_data + (size_t)e.row * sizeof(*row_ret),
	       sizeof(*row_ret));
	return 0;
}

int gs_index_cfi_saved_at(struct gs_index *idx, uint64_t pc, struct gs_cfi_saved *ret)
{
	struct gs_cfi_entry e;
	struct cfi_tab t;
	MDB_val rows;
	int rc;

	rc = cfi_tab_get(idx, "saved_entries", "saved_entries32", &t);
	if (!rc)
		rc = gs_idx_get(idx, GS_DB_CFI, "saved_rows", 10, &rows);
	if (!rc)
		rc = cfi_tab_find(&t, pc, &e);
	if (rc)
		return rc;
	if (rows.mv_size % sizeof(*ret))
		return -GS_ERR_CORRUPT;
	if (e.row == UINT32_MAX)
		return -ENOENT;
	if ((uint64_t)e.row >= rows.mv_size / sizeof(*ret))
		return -GS_ERR_CORRUPT;
	memcpy(ret, (const char *)rows.mv_data + (size_t)e.row * sizeof(*ret), sizeof(*ret));
	return 0;
}

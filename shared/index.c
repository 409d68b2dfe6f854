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
 */
#include <errno.h>
#include <fnmatch.h>
#include <gelf.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "shared/elf.h"
#include "shared/enc.h"
#include "shared/errors.h"
#include "shared/index.h"
#include "shared/schema.h"

/* ---- arena ------------------------------------------------------------------------- */

struct arena_blk {
	struct arena_blk *next;
	size_t used, cap;
	max_align_t data[];
};

static void *arena_alloc(struct arena_blk **head, size_t len)
{
	struct arena_blk *b = *head;

	len = (len + 15) & ~(size_t)15;
	if (!b || b->cap - b->used < len) {
		size_t cap = len > 65536 ? len : 65536;

		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->next = *head;
		b->used = 0;
		b->cap = cap;
		*head = b;
	}
	b->used += len;
	return memset((char *)b->data + b->used - len, 0, len);
}

static void arena_free(struct arena_blk *b)
{
	while (b) {
		struct arena_blk *n = b->next;

		free(b);
		b = n;
	}
}

/* ---- id -> pointer cache (open addressing) ----------------------------------------- */

struct idcache {
	uint64_t *keys;		/* key + 1; 0 = empty */
	void **vals;
	size_t cap, cnt;
};

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

struct gs_index {
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi[GS_DB_COUNT];
	bool have[GS_DB_COUNT];
	struct arena_blk *arena;
	struct gs_module_info info;
	struct idcache funcs, scopes, types;
	const struct gs_cfi_row *cfi_rows;
	const struct gs_cfi_entry *cfi_ents;
	size_t cfi_nrows, cfi_nents;
	bool cfi_loaded;
};

static int lmdb_err(int rc)
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

static void *alloc(struct gs_index *idx, size_t len)
{
	return arena_alloc(&idx->arena, len);
}

static int get(struct gs_index *idx, enum gs_db db, const void *key, size_t klen, MDB_val *val)
{
	MDB_val k = { klen, (void *)key };

	if (!idx->have[db])
		return -ENOENT;
	return lmdb_err(mdb_get(idx->txn, idx->dbi[db], &k, val));
}

static int get_id(struct gs_index *idx, enum gs_db db, uint32_t id, MDB_val *val)
{
	uint8_t key[4];

	gs_key_put32(key, id);
	return get(idx, db, key, 4, val);
}

/*
 * Ids of the keys "xxh(name) BE64, id BE32" in @db: a short range scan. Fills a
 * malloc'd array the caller frees.
 */
static int name_ids(struct gs_index *idx, enum gs_db db, const char *name, uint32_t **ids_ret,
		    size_t *cnt_ret)
{
	uint8_t prefix[12];
	MDB_cursor *cur = NULL;
	MDB_val k = { sizeof(prefix), prefix }, v;
	uint32_t *ids = NULL;
	size_t cnt = 0, cap = 0;
	int rc, ret = 0;

	*ids_ret = NULL;
	*cnt_ret = 0;
	if (!idx->have[db])
		return 0;
	gs_key_put64(prefix, gs_name_hash(name));
	gs_key_put32(prefix + 8, 0);
	rc = mdb_cursor_open(idx->txn, idx->dbi[db], &cur);
	if (rc)
		return lmdb_err(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 12 || memcmp(k.mv_data, prefix, 8))
			break;
		if (cnt == cap) {
			uint32_t *n = reallocarray(ids, cap ? cap * 2 : 8, sizeof(*ids));

			if (!n) {
				ret = -ENOMEM;
				goto err_free;
			}
			ids = n;
			cap = cap ? cap * 2 : 8;
		}
		ids[cnt++] = gs_key_get32((const uint8_t *)k.mv_data + 8);
	}
	if (rc && rc != MDB_NOTFOUND) {
		ret = lmdb_err(rc);
		goto err_free;
	}
	mdb_cursor_close(cur);
	*ids_ret = ids;
	*cnt_ret = cnt;
	return 0;
err_free:
	free(ids);
	mdb_cursor_close(cur);
	return ret;
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
	out = n ? alloc(idx, n * elem_size) : NULL;
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

/* ---- decoders ---------------------------------------------------------------------- */

static int dec_ranges(struct gs_index *idx, struct gs_dec *d, uint32_t *n_ret,
		      const struct gs_range **r_ret)
{
	uint32_t n = gs_dec_count(d, 2);
	struct gs_range *r = n ? alloc(idx, n * sizeof(*r)) : NULL;

	if (n && !r)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		r[i].lo = gs_dec_u(d);
		r[i].hi = r[i].lo + gs_dec_u(d);
	}
	*n_ret = n;
	*r_ret = r;
	return d->err ? -GS_ERR_CORRUPT : 0;
}

static int dec_expr(struct gs_index *idx, struct gs_dec *d, struct gs_locexpr *e)
{
	uint32_t n = gs_dec_count(d, 3);
	struct gs_op *ops = n ? alloc(idx, n * sizeof(*ops)) : NULL;

	if (n && !ops)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		ops[i].atom = gs_dec_u8(d);
		ops[i].n1 = (uint64_t)gs_dec_s(d);
		ops[i].n2 = (uint64_t)gs_dec_s(d);
	}
	e->nops = n;
	e->ops = ops;
	e->blob_len = gs_dec_count(d, 1);
	e->blob = e->blob_len ? gs_dec_bytes(d, e->blob_len) : NULL;
	return d->err ? -GS_ERR_CORRUPT : 0;
}

static int dec_loc(struct gs_index *idx, struct gs_dec *d, struct gs_location *loc)
{
	struct gs_loc_entry *ents;
	int ret = 0;

	memset(loc, 0, sizeof(*loc));
	loc->kind = gs_dec_u8(d);
	switch (loc->kind) {
	case GS_LOC_NONE:
		break;
	case GS_LOC_EXPR:
		ret = dec_expr(idx, d, &loc->expr);
		break;
	case GS_LOC_LIST: {
		uint64_t prev = 0;

		loc->nentries = gs_dec_u32le(d);
		if (loc->nentries > (size_t)(d->end - d->p) / 4)
			return -GS_ERR_CORRUPT;
		ents = loc->nentries ? alloc(idx, loc->nentries * sizeof(*ents)) : NULL;
		if (loc->nentries && !ents)
			return -ENOMEM;
		for (uint32_t i = 0; i < loc->nentries && !ret; i++) {
			ents[i].lo = prev + (uint64_t)gs_dec_s(d);
			ents[i].hi = ents[i].lo + gs_dec_u(d);
			prev = ents[i].hi;
			ret = dec_expr(idx, d, &ents[i].expr);
		}
		loc->entries = ents;
		break;
	}
	case GS_LOC_CONST:
		loc->cval = gs_dec_s(d);
		loc->cval_len = gs_dec_count(d, 1);
		loc->cval_bytes = loc->cval_len ? gs_dec_bytes(d, loc->cval_len) : NULL;
		break;
	default:
		return -GS_ERR_CORRUPT;
	}
	if (ret)
		return ret;
	return d->err ? -GS_ERR_CORRUPT : 0;
}

static int dec_var(struct gs_index *idx, struct gs_dec *d, struct gs_var *v)
{
	v->name = gs_dec_str(d);
	v->type_id = gs_dec_u32(d);
	v->kind = gs_dec_u8(d);
	v->flags = gs_dec_u8(d);
	v->decl_file = gs_dec_u32(d);
	v->decl_line = gs_dec_u32(d);
	if (d->err || v->kind > GS_VAR_STATIC_LOCAL)
		return -GS_ERR_CORRUPT;
	return dec_loc(idx, d, &v->loc);
}

static int dec_scope(struct gs_index *idx, struct gs_dec *d, struct gs_scope *s,
		     const struct gs_scope *parent, int depth)
{
	struct gs_var *vars;
	struct gs_scope *kids;
	int ret;

	if (depth > GS_SCOPE_MAX_DEPTH)
		return -GS_ERR_CORRUPT;
	s->parent = parent;
	s->kind = gs_dec_u8(d);
	s->name = gs_dec_str(d);
	if (s->kind > GS_SCOPE_INLINE)
		return -GS_ERR_CORRUPT;
	ret = dec_ranges(idx, d, &s->nranges, &s->ranges);
	if (ret)
		return ret;
	s->call_file = gs_dec_u32(d);
	s->call_line = gs_dec_u32(d);
	ret = dec_loc(idx, d, &s->frame_base);
	if (ret)
		return ret;
	s->nvars = gs_dec_u32le(d);
	if (s->nvars > (size_t)(d->end - d->p) / 8)
		return -GS_ERR_CORRUPT;
	vars = s->nvars ? alloc(idx, s->nvars * sizeof(*vars)) : NULL;
	if (s->nvars && !vars)
		return -ENOMEM;
	for (uint32_t i = 0; i < s->nvars; i++)
		if ((ret = dec_var(idx, d, &vars[i])))
			return ret;
	s->vars = vars;
	s->nchildren = gs_dec_u32le(d);
	if (s->nchildren > (size_t)(d->end - d->p) / 8)
		return -GS_ERR_CORRUPT;
	kids = s->nchildren ? alloc(idx, s->nchildren * sizeof(*kids)) : NULL;
	if (s->nchildren && !kids)
		return -ENOMEM;
	for (uint32_t i = 0; i < s->nchildren; i++)
		if ((ret = dec_scope(idx, d, &kids[i], s, depth + 1)))
			return ret;
	s->children = kids;
	return d->err ? -GS_ERR_CORRUPT : 0;
}

static int dec_module(struct gs_index *idx, struct gs_dec *d)
{
	struct gs_module_info *m = &idx->info;
	struct gs_segment *segs;
	const char *bid = gs_dec_str(d);

	if (!bid || strlen(bid) > 40)
		return -GS_ERR_CORRUPT;
	strcpy(m->build_id, bid);
	m->path = gs_dec_str(d);
	m->elf_type = gs_dec_u32(d);
	m->machine = gs_dec_u32(d);
	m->nsegments = gs_dec_count(d, 5);
	segs = m->nsegments ? alloc(idx, m->nsegments * sizeof(*segs)) : NULL;
	if (m->nsegments && !segs)
		return -ENOMEM;
	for (uint32_t i = 0; i < m->nsegments; i++) {
		segs[i].vaddr = gs_dec_u(d);
		segs[i].memsz = gs_dec_u(d);
		segs[i].offset = gs_dec_u(d);
		segs[i].filesz = gs_dec_u(d);
		segs[i].flags = gs_dec_u32(d);
	}
	m->segments = segs;
	m->has_dwarf = gs_dec_u8(d);
	m->debug_source = gs_dec_str(d);
	m->dwarf_versions = gs_dec_u32(d);
	m->producer = gs_dec_str(d);
	m->index_time = gs_dec_u(d);
	m->nfuncs = gs_dec_u(d);
	m->ninlines = gs_dec_u(d);
	m->nvars = gs_dec_u(d);
	m->ntypes = gs_dec_u(d);
	m->nlines = gs_dec_u(d);
	m->ncfi = gs_dec_u(d);
	m->nsymbols = gs_dec_u(d);
	m->nglobals = gs_dec_u(d);
	m->dwarf_bytes = gs_dec_u(d);
	if (!m->path)
		m->path = "";
	if (!m->debug_source)
		m->debug_source = "none";
	if (!m->producer)
		m->producer = "";
	return d->err ? -GS_ERR_CORRUPT : 0;
}

/* ---- open / close ------------------------------------------------------------------ */

static int check_meta(struct gs_index *idx)
{
	MDB_val v;
	struct gs_dec d;
	int ret;

	ret = get(idx, GS_DB_META, "magic", 5, &v);
	if (ret || v.mv_size != 8 || memcmp(v.mv_data, GS_INDEX_MAGIC, 8))
		return ret == -ENOENT || !ret ? -GS_ERR_CORRUPT : ret;
	ret = get(idx, GS_DB_META, "schema", 6, &v);
	if (ret)
		return ret == -ENOENT ? -GS_ERR_CORRUPT : ret;
	gs_dec_init(&d, v.mv_data, v.mv_size);
	idx->info.schema_major = gs_dec_u32le(&d);
	idx->info.schema_minor = gs_dec_u32le(&d);
	if (d.err)
		return -GS_ERR_CORRUPT;
	if (idx->info.schema_major != GS_SCHEMA_MAJOR)
		return -GS_ERR_SCHEMA;
	ret = get(idx, GS_DB_META, "module", 6, &v);
	if (ret)
		return ret == -ENOENT ? -GS_ERR_CORRUPT : ret;
	gs_dec_init(&d, v.mv_data, v.mv_size);
	return dec_module(idx, &d);
}

static bool dir_writable(const char *path)
{
	char dir[4096];
	char *slash;

	if (strlen(path) >= sizeof(dir))
		return false;
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	return access(dir, W_OK) == 0;
}

int gs_index_open(const char *path, struct gs_index **idx_ret)
{
	struct gs_index *idx;
	unsigned int flags = MDB_NOSUBDIR | MDB_RDONLY | MDB_NOTLS;
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
	if (!dir_writable(path))
		flags |= MDB_NOLOCK;
	rc = mdb_env_create(&idx->env);
	if (rc) {
		ret = lmdb_err(rc);
		goto err_free;
	}
	mdb_env_set_maxdbs(idx->env, GS_DB_COUNT + 4);
	rc = mdb_env_open(idx->env, path, flags, 0644);
	if (rc == EACCES && !(flags & MDB_NOLOCK))	/* lock file not creatable */
		rc = mdb_env_open(idx->env, path, flags | MDB_NOLOCK, 0644);
	if (rc) {
		ret = rc == ENOENT ? -ENOENT : rc > 0 ? -rc : -GS_ERR_CORRUPT;
		goto err_env;
	}
	rc = mdb_txn_begin(idx->env, NULL, MDB_RDONLY, &idx->txn);
	if (rc) {
		ret = lmdb_err(rc);
		goto err_env;
	}
	for (int i = 0; i < GS_DB_COUNT; i++) {
		rc = mdb_dbi_open(idx->txn, gs_db_names[i], 0, &idx->dbi[i]);
		if (rc == 0)
			idx->have[i] = true;
		else if (rc != MDB_NOTFOUND) {
			ret = lmdb_err(rc);
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

static int dec_symbol(struct gs_index *idx, uint32_t id, struct gs_symbol *s)
{
	struct gs_dec d;
	MDB_val v;
	int ret = get_id(idx, GS_DB_SYM, id, &v);

	if (ret)
		return ret == -ENOENT ? -GS_ERR_CORRUPT : ret;
	gs_dec_init(&d, v.mv_data, v.mv_size);
	s->name = gs_dec_str(&d);
	s->value = gs_dec_u(&d);
	s->size = gs_dec_u(&d);
	s->type = gs_dec_u8(&d);
	s->bind = gs_dec_u8(&d);
	s->dynamic = gs_dec_u8(&d);
	return d.err || !s->name ? -GS_ERR_CORRUPT : 0;
}

int gs_index_symbol_by_id(struct gs_index *idx, uint32_t id, const struct gs_symbol **sym_ret)
{
	struct gs_symbol *s = alloc(idx, sizeof(*s));
	uint8_t key[4];
	MDB_val k = { 4, key }, v;
	int ret;

	if (!s)
		return -ENOMEM;
	gs_key_put32(key, id);
	if (!idx->have[GS_DB_SYM] || mdb_get(idx->txn, idx->dbi[GS_DB_SYM], &k, &v))
		return -ENOENT;
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

/*
 * Walks keys "addr BE64, id BE32" of @db backwards from the last one with addr <= @pc,
 * at most @limit keys, calling @fn until it returns non-zero (1 = found).
 */
static int scan_back(struct gs_index *idx, enum gs_db db, uint64_t pc, int limit,
		     int (*fn)(struct gs_index *, uint64_t lo, uint32_t id, MDB_val *v, void *),
		     void *arg)
{
	uint8_t key[12];
	MDB_val k = { 12, key }, v;
	MDB_cursor *cur;
	int rc, ret = -ENOENT;

	if (!idx->have[db])
		return -ENOENT;
	gs_key_put64(key, pc);
	gs_key_put32(key + 8, UINT32_MAX);
	rc = mdb_cursor_open(idx->txn, idx->dbi[db], &cur);
	if (rc)
		return lmdb_err(rc);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	else if (rc == 0 && gs_key_get64(k.mv_data) > pc)
		rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
	for (; rc == 0 && limit-- > 0; rc = mdb_cursor_get(cur, &k, &v, MDB_PREV)) {
		int r;

		if (k.mv_size != 12) {
			ret = -GS_ERR_CORRUPT;
			break;
		}
		r = fn(idx, gs_key_get64(k.mv_data), gs_key_get32((uint8_t *)k.mv_data + 8), &v, arg);
		if (r) {
			ret = r > 0 ? 0 : r;
			break;
		}
	}
	if (rc && rc != MDB_NOTFOUND)
		ret = lmdb_err(rc);
	mdb_cursor_close(cur);
	return ret;
}

struct sym_at {
	uint64_t pc;
	struct gs_symbol sym;
};

static int sym_at_fn(struct gs_index *idx, uint64_t lo, uint32_t id, MDB_val *v, void *arg)
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
	s = alloc(idx, sizeof(*s));
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
	fr = alloc(idx, sizeof(*fr));
	if (!fr)
		return -ENOMEM;
	gs_dec_init(&d, v.mv_data, v.mv_size);
	fr->f.id = id;
	fr->f.name = gs_dec_str(&d);
	fr->f.qual_name = gs_dec_str(&d);
	fr->f.linkage = gs_dec_str(&d);
	fr->f.symbol = gs_dec_str(&d);
	fr->f.entry_pc = gs_dec_u(&d);
	fr->f.post_prologue_pc = gs_dec_u(&d);
	ret = dec_ranges(idx, &d, &fr->f.nranges, &fr->f.ranges);
	if (ret)
		return ret;
	fr->f.decl_file = gs_dec_u32(&d);
	fr->f.decl_line = gs_dec_u32(&d);
	fr->f.ret_type = gs_dec_u32(&d);
	fr->f.flags = gs_dec_u32(&d);
	fr->naliases = gs_dec_count(&d, 1);
	fr->aliases = fr->naliases ? alloc(idx, fr->naliases * sizeof(char *)) : NULL;
	if (fr->naliases && !fr->aliases)
		return -ENOMEM;
	for (uint32_t i = 0; i < fr->naliases; i++)
		fr->aliases[i] = gs_dec_str(&d);
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
	out = n ? alloc(idx, n * sizeof(*out)) : NULL;
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
	qsort(out, cnt, sizeof(*out), cmp_func_entry);
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

static int func_at_fn(struct gs_index *idx, uint64_t lo, uint32_t id, MDB_val *v, void *arg)
{
	struct func_at *a = arg;
	struct gs_dec d;
	uint64_t hi;

	gs_dec_init(&d, v->mv_data, v->mv_size);
	hi = gs_dec_u(&d);
	if (d.err)
		return -GS_ERR_CORRUPT;
	if (a->pc >= lo && a->pc < hi) {
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

static size_t edit_distance(const char *a, const char *b, size_t cap)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[65];

	if (la > 64 || lb > 64)
		return cap + 1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0], best;

		row[0] = i;
		best = row[0];
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t sub = prev + (a[i - 1] != b[j - 1]);
			size_t v = row[j] + 1 < row[j - 1] + 1 ? row[j] + 1 : row[j - 1] + 1;

			row[j] = sub < v ? sub : v;
			prev = cur;
			if (row[j] < best)
				best = row[j];
		}
		if (best > cap)
			return cap + 1;
	}
	return row[lb];
}

/* Error path only ("did you mean"): this one reads every function record. */
struct glob_names {
	const char **v;
	size_t n, cap;
};

static int glob_add(struct glob_names *g, const char *name)
{
	if (g->n == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 64;
		const char **v = realloc(g->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		g->v = v;
		g->cap = cap;
	}
	g->v[g->n++] = name;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every record of @db starts with its name; two names for FUNC and INLINE. */
static int glob_scan(struct gs_index *idx, enum gs_db db, const char *glob, struct glob_names *g)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, ret = 0;

	if (!idx->have[db])
		return 0;
	rc = mdb_cursor_open(idx->txn, idx->dbi[db], &cur);
	if (rc)
		return lmdb_err(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && !ret;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct gs_dec d;
		const char *name, *qual = NULL;

		gs_dec_init(&d, v.mv_data, v.mv_size);
		name = gs_dec_str(&d);
		if (db == GS_DB_SYM) {
			gs_dec_u(&d);
			gs_dec_u(&d);
			if (gs_dec_u8(&d) != STT_FUNC)
				continue;
		} else {
			qual = gs_dec_str(&d);
		}
		if (name && !fnmatch(glob, name, 0))
			ret = glob_add(g, name);
		else if (qual && !fnmatch(glob, qual, 0))
			ret = glob_add(g, qual);
	}
	mdb_cursor_close(cur);
	if (!ret && rc != MDB_NOTFOUND)
		ret = lmdb_err(rc);
	return ret;
}

int gs_index_func_glob(struct gs_index *idx, const char *glob, const char ***names_ret,
		       size_t *cnt_ret)
{
	struct glob_names g = { 0 };
	const struct gs_module_info *mi;
	const char **out = NULL;
	size_t n = 0;
	int ret;

	*names_ret = NULL;
	*cnt_ret = 0;
	ret = glob_scan(idx, GS_DB_FUNC, glob, &g);
	if (!ret)
		ret = glob_scan(idx, GS_DB_INLINE, glob, &g);
	if (!ret && !gs_index_module(idx, &mi) && !mi->has_dwarf)
		ret = glob_scan(idx, GS_DB_SYM, glob, &g);
	if (ret || !g.n)
		goto out;
	qsort(g.v, g.n, sizeof(*g.v), cmp_str);
	out = alloc(idx, g.n * sizeof(*out));
	if (!out) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < g.n; i++)
		if (!n || strcmp(out[n - 1], g.v[i]))
			out[n++] = g.v[i];
	*names_ret = out;
	*cnt_ret = n;
out:
	free(g.v);
	return ret;
}

int gs_index_func_suggest(struct gs_index *idx, const char *name, const char **names_ret,
			  size_t max, size_t *cnt_ret)
{
	size_t cap = strlen(name) / 3 + 1, cnt = 0;
	size_t dist[16];
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	*cnt_ret = 0;
	if (max > 16)
		max = 16;
	if (!idx->have[GS_DB_FUNC])
		return 0;
	rc = mdb_cursor_open(idx->txn, idx->dbi[GS_DB_FUNC], &cur);
	if (rc)
		return lmdb_err(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct gs_dec d;
		const char *fn;
		size_t dd, pos;
		bool dup = false;

		gs_dec_init(&d, v.mv_data, v.mv_size);
		fn = gs_dec_str(&d);
		if (!fn)
			continue;
		dd = edit_distance(name, fn, cap);
		if (dd > cap)
			continue;
		for (size_t i = 0; i < cnt; i++)
			dup |= !strcmp(names_ret[i], fn);
		if (dup)
			continue;
		for (pos = cnt; pos > 0 && dist[pos - 1] > dd; pos--)
			;
		if (pos >= max)
			continue;
		if (cnt < max)
			cnt++;
		memmove(&names_ret[pos + 1], &names_ret[pos], (cnt - 1 - pos) * sizeof(char *));
		memmove(&dist[pos + 1], &dist[pos], (cnt - 1 - pos) * sizeof(size_t));
		names_ret[pos] = fn;
		dist[pos] = dd;
	}
	mdb_cursor_close(cur);
	*cnt_ret = cnt;
	return rc == MDB_NOTFOUND ? 0 : lmdb_err(rc);
}

static int dec_inline(struct gs_index *idx, uint32_t seq, struct gs_inline *in)
{
	struct gs_dec d;
	MDB_val v;
	int ret = get_id(idx, GS_DB_INLINE, seq, &v);

	if (ret)
		return ret;
	gs_dec_init(&d, v.mv_data, v.mv_size);
	in->name = gs_dec_str(&d);
	in->qual_name = gs_dec_str(&d);
	in->func_id = gs_dec_u32(&d);
	in->entry_pc = gs_dec_u(&d);
	ret = dec_ranges(idx, &d, &in->nranges, &in->ranges);
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
	struct gs_inline *in = alloc(idx, sizeof(*in));
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
	out = n ? alloc(idx, n * sizeof(*out)) : NULL;
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
	uint32_t nlines;
	int ret;

	gs_key_put32(key, file_id);
	gs_key_put32(key + 4, line / GS_LINE_BUCKET);
	ret = get(idx, GS_DB_LINE_ADDR, key, 8, &v);
	if (ret)
		return ret;
	gs_dec_init(&d, v.mv_data, v.mv_size);
	nlines = gs_dec_count(&d, 2);
	for (uint32_t i = 0; i < nlines && !d.err; i++) {
		uint32_t l = gs_dec_u32(&d), n = gs_dec_count(&d, 2);
		uint64_t addr = 0;

		if (l != line % GS_LINE_BUCKET) {
			for (uint32_t j = 0; j < n; j++) {
				gs_dec_u(&d);
				gs_dec_u(&d);
			}
			continue;
		}
		out = n ? alloc(idx, n * sizeof(*out)) : NULL;
		if (n && !out)
			return -ENOMEM;
		for (uint32_t j = 0; j < n; j++) {
			addr += gs_dec_u(&d);
			out[j].addr = addr;
			out[j].func_id = gs_dec_u32(&d);
		}
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
	n = gs_dec_count(&d, 4);
	for (uint32_t i = 0; i < n; i++) {
		uint8_t fl = gs_dec_u8(&d);
		int r;

		addr += gs_dec_u(&d);
		row.addr = addr;
		if (fl & GS_LINE_F_FILE)
			row.file_id = gs_dec_u32(&d);
		row.line += (uint32_t)gs_dec_s(&d);
		row.column = (uint16_t)gs_dec_u32(&d);
		row.flags = fl & ~GS_LINE_F_FILE;
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
		return lmdb_err(rc);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	else if (rc == 0 && gs_key_get64(k.mv_data) > pc)
		rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
	if (rc) {
		mdb_cursor_close(cur);
		return lmdb_err(rc);
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
		return lmdb_err(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && !ret;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		ret = line_chunk(&k, &v, fn, arg);
	mdb_cursor_close(cur);
	if (ret)
		return ret < 0 ? ret : 0;
	return rc == MDB_NOTFOUND ? 0 : lmdb_err(rc);
}

/* ---- scopes ------------------------------------------------------------------------ */

int gs_index_scope_tree(struct gs_index *idx, uint32_t func_id, const struct gs_scope **root_ret)
{
	struct gs_scope *root = idcache_get(&idx->scopes, func_id);
	struct gs_dec d;
	MDB_val v;
	int ret;

	if (root) {
		*root_ret = root;
		return 0;
	}
	ret = get_id(idx, GS_DB_SCOPE, func_id, &v);
	if (ret)
		return ret;
	root = alloc(idx, sizeof(*root));
	if (!root)
		return -ENOMEM;
	gs_dec_init(&d, v.mv_data, v.mv_size);
	ret = dec_scope(idx, &d, root, NULL, 0);
	if (ret)
		return ret;
	idcache_put(&idx->scopes, func_id, root);
	*root_ret = root;
	return 0;
}

static bool in_ranges(const struct gs_range *r, uint32_t n, uint64_t pc)
{
	for (uint32_t i = 0; i < n; i++)
		if (pc >= r[i].lo && pc < r[i].hi)
			return true;
	return false;
}

int gs_index_scope_chain(struct gs_index *idx, uint64_t pc, const struct gs_scope **chain,
			 size_t max, size_t *cnt_ret)
{
	const struct gs_func *f;
	const struct gs_scope *s, *path[GS_SCOPE_MAX_DEPTH + 1];
	size_t depth = 0;
	int ret;

	*cnt_ret = 0;
	ret = gs_index_func_by_addr(idx, pc, &f);
	if (ret)
		return ret;
	ret = gs_index_scope_tree(idx, f->id, &s);
	if (ret)
		return ret;
	path[depth++] = s;
	while (depth <= GS_SCOPE_MAX_DEPTH) {
		const struct gs_scope *next = NULL;

		for (uint32_t i = 0; i < s->nchildren && !next; i++)
			if (in_ranges(s->children[i].ranges, s->children[i].nranges, pc))
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

static int dec_global(struct gs_index *idx, uint32_t id, struct gs_var *var,
		      const char **qual_ret)
{
	struct gs_dec d;
	MDB_val v;
	int ret = get_id(idx, GS_DB_GLOBAL, id, &v);

	if (ret)
		return ret;
	gs_dec_init(&d, v.mv_data, v.mv_size);
	*qual_ret = gs_dec_str(&d);
	ret = dec_var(idx, &d, var);
	if (ret)
		return ret;
	return var->name ? 0 : -GS_ERR_CORRUPT;
}

int gs_index_global_by_id(struct gs_index *idx, uint32_t id, const struct gs_var **var_ret,
			  const char **qual_ret)
{
	struct gs_var *v = alloc(idx, sizeof(*v));
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

int gs_index_call_site(struct gs_index *idx, uint64_t return_pc,
		       const struct gs_call_site **cs_ret)
{
	struct gs_call_site *cs;
	struct gs_call_param *ps;
	struct gs_dec d;
	uint8_t key[8];
	MDB_val v;
	int ret;

	gs_key_put64(key, return_pc);
	ret = get(idx, GS_DB_CALLSITE, key, 8, &v);
	if (ret)
		return ret;
	cs = alloc(idx, sizeof(*cs));
	if (!cs)
		return -ENOMEM;
	gs_dec_init(&d, v.mv_data, v.mv_size);
	cs->return_pc = return_pc;
	cs->caller_func_id = gs_dec_u32(&d);
	cs->target_func_id = gs_dec_u32(&d);
	cs->nparams = gs_dec_count(&d, 4);
	ps = cs->nparams ? alloc(idx, cs->nparams * sizeof(*ps)) : NULL;
	if (cs->nparams && !ps)
		return -ENOMEM;
	for (uint32_t i = 0; i < cs->nparams; i++) {
		ret = dec_expr(idx, &d, &ps[i].location);
		if (!ret)
			ret = dec_expr(idx, &d, &ps[i].value);
		if (ret)
			return ret;
	}
	cs->params = ps;
	if (d.err)
		return -GS_ERR_CORRUPT;
	*cs_ret = cs;
	return 0;
}

int gs_index_call_site_from(struct gs_index *idx, uint64_t pc, const struct gs_call_site **cs_ret)
{
	uint8_t key[8];
	MDB_val k = { 8, key }, v;
	MDB_cursor *cur;
	int rc;

	if (!idx->have[GS_DB_CALLSITE])
		return -ENOENT;
	gs_key_put64(key, pc);
	rc = mdb_cursor_open(idx->txn, idx->dbi[GS_DB_CALLSITE], &cur);
	if (rc)
		return lmdb_err(rc);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	mdb_cursor_close(cur);
	if (rc)
		return lmdb_err(rc);
	if (k.mv_size != 8)
		return -GS_ERR_CORRUPT;
	return gs_index_call_site(idx, gs_key_get64(k.mv_data), cs_ret);
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
	t = alloc(idx, sizeof(*t));
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
	t->name = gs_dec_str(&d);
	t->size = gs_dec_u(&d);
	t->target = gs_dec_u32(&d);
	t->nmembers = gs_dec_count(&d, 4);
	mem = t->nmembers ? alloc(idx, t->nmembers * sizeof(*mem)) : NULL;
	if (t->nmembers && !mem)
		return -ENOMEM;
	for (uint32_t i = 0; i < t->nmembers; i++) {
		mem[i].name = gs_dec_str(&d);
		mem[i].type_id = gs_dec_u32(&d);
		mem[i].bit_offset = gs_dec_u(&d);
		mem[i].bit_size = gs_dec_u32(&d);
	}
	t->members = mem;
	t->nenumerators = gs_dec_count(&d, 2);
	en = t->nenumerators ? alloc(idx, t->nenumerators * sizeof(*en)) : NULL;
	if (t->nenumerators && !en)
		return -ENOMEM;
	for (uint32_t i = 0; i < t->nenumerators; i++) {
		en[i].name = gs_dec_str(&d);
		en[i].value = gs_dec_s(&d);
	}
	t->enumerators = en;
	t->ndims = gs_dec_count(&d, 1);
	dims = t->ndims ? alloc(idx, t->ndims * sizeof(*dims)) : NULL;
	if (t->ndims && !dims)
		return -ENOMEM;
	for (uint32_t i = 0; i < t->ndims; i++)
		dims[i] = gs_dec_u(&d);
	t->dims = dims;
	t->nparams = gs_dec_count(&d, 1);
	params = t->nparams ? alloc(idx, t->nparams * sizeof(*params)) : NULL;
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

	*match = !ret && eq((*t)->name, name);
	return ret;
}

int gs_index_types_by_name(struct gs_index *idx, const char *name,
			   const struct gs_type *const **types_ret, size_t *cnt_ret)
{
	return by_name(idx, GS_DB_TYPE_NAME, name, sizeof(struct gs_type *), type_named,
		       (void **)types_ret, cnt_ret);
}

/* ---- CFI --------------------------------------------------------------------------- */

static int load_cfi(struct gs_index *idx)
{
	MDB_val v;
	void *p;
	int ret;

	if (idx->cfi_loaded)
		return 0;
	ret = get(idx, GS_DB_CFI, "rows", 4, &v);
	if (ret == 0) {
		if (v.mv_size % sizeof(struct gs_cfi_row))
			return -GS_ERR_CORRUPT;
		p = v.mv_size ? alloc(idx, v.mv_size) : NULL;
		if (v.mv_size && !p)
			return -ENOMEM;
		if (v.mv_size)
			memcpy(p, v.mv_data, v.mv_size);	/* LMDB values are only 2-aligned */
		idx->cfi_rows = p;
		idx->cfi_nrows = v.mv_size / sizeof(struct gs_cfi_row);
		ret = get(idx, GS_DB_CFI, "entries", 7, &v);
		if (ret)
			return ret == -ENOENT ? -GS_ERR_CORRUPT : ret;
		if (v.mv_size % sizeof(struct gs_cfi_entry))
			return -GS_ERR_CORRUPT;
		p = v.mv_size ? alloc(idx, v.mv_size) : NULL;
		if (v.mv_size && !p)
			return -ENOMEM;
		if (v.mv_size)
			memcpy(p, v.mv_data, v.mv_size);
		idx->cfi_ents = p;
		idx->cfi_nents = v.mv_size / sizeof(struct gs_cfi_entry);
		for (size_t i = 0; i < idx->cfi_nents; i++)
			if (idx->cfi_ents[i].row != UINT32_MAX &&
			    idx->cfi_ents[i].row >= idx->cfi_nrows)
				return -GS_ERR_CORRUPT;
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

int gs_index_cfi_at(struct gs_index *idx, uint64_t pc, struct gs_cfi_row *row_ret)
{
	size_t lo = 0, hi;
	int ret = load_cfi(idx);

	if (ret)
		return ret;
	hi = idx->cfi_nents;
	while (lo < hi) {		/* first entry with pc > @pc */
		size_t mid = lo + (hi - lo) / 2;

		if (idx->cfi_ents[mid].pc <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || idx->cfi_ents[lo - 1].row == UINT32_MAX)
		return -ENOENT;
	*row_ret = idx->cfi_rows[idx->cfi_ents[lo - 1].row];
	return 0;
}

/* ---- verify ------------------------------------------------------------------------ */

/* XXH3-64 over every key and value of @db in key order, as the writer computes it. */
static int db_checksum(struct gs_index *idx, enum gs_db db, uint64_t *sum_ret, size_t *cnt_ret)
{
	XXH3_state_t *st = XXH3_createState();
	MDB_cursor *cur;
	MDB_val k, v;
	size_t cnt = 0;
	int rc;

	if (!st)
		return -ENOMEM;
	XXH3_64bits_reset(st);
	rc = mdb_cursor_open(idx->txn, idx->dbi[db], &cur);
	if (rc) {
		XXH3_freeState(st);
		return lmdb_err(rc);
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		uint32_t kl = k.mv_size, vl = v.mv_size;

		XXH3_64bits_update(st, &kl, 4);
		XXH3_64bits_update(st, k.mv_data, k.mv_size);
		XXH3_64bits_update(st, &vl, 4);
		XXH3_64bits_update(st, v.mv_data, v.mv_size);
		cnt++;
	}
	mdb_cursor_close(cur);
	*sum_ret = XXH3_64bits_digest(st);
	*cnt_ret = cnt;
	XXH3_freeState(st);
	return rc == MDB_NOTFOUND ? 0 : lmdb_err(rc);
}

static int verify_records(struct gs_index *idx, enum gs_db db, char *err, size_t errlen)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, ret = 0;

	rc = mdb_cursor_open(idx->txn, idx->dbi[db], &cur);
	if (rc)
		return lmdb_err(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && !ret;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		uint32_t id = k.mv_size == 4 ? gs_key_get32(k.mv_data) : 0;
		const struct gs_func *f;
		const struct gs_scope *s;
		const struct gs_type *t;
		const struct gs_inline *in;
		const struct gs_var *var;
		const struct gs_symbol *sym;
		const struct gs_call_site *cs;

		switch (db) {
		case GS_DB_FUNC: ret = gs_index_func_by_id(idx, id, &f); break;
		case GS_DB_SCOPE: ret = gs_index_scope_tree(idx, id, &s); break;
		case GS_DB_TYPE: ret = gs_index_type(idx, id, &t); break;
		case GS_DB_INLINE: ret = gs_index_inline_by_id(idx, id, &in); break;
		case GS_DB_GLOBAL: ret = gs_index_global_by_id(idx, id, &var, NULL); break;
		case GS_DB_SYM: ret = gs_index_symbol_by_id(idx, id, &sym); break;
		case GS_DB_FILE: ret = gs_index_file_name(idx, id) ? 0 : -GS_ERR_CORRUPT; break;
		case GS_DB_CALLSITE:
			ret = k.mv_size == 8 ? gs_index_call_site(idx, gs_key_get64(k.mv_data), &cs)
					     : -GS_ERR_CORRUPT;
			break;
		case GS_DB_LINE_ADDR: {
			struct gs_dec d;
			uint32_t nl;

			gs_dec_init(&d, v.mv_data, v.mv_size);
			nl = gs_dec_count(&d, 2);
			for (uint32_t i = 0; i < nl && !d.err; i++) {
				uint32_t l = gs_dec_u32(&d), n = gs_dec_count(&d, 2);

				for (uint32_t j = 0; j < n; j++) {
					gs_dec_u(&d);
					gs_dec_u32(&d);
				}
				d.err |= l >= GS_LINE_BUCKET;
			}
			ret = d.err || k.mv_size != 8 || d.p != d.end ? -GS_ERR_CORRUPT : 0;
			break;
		}
		default:
			break;
		}
		if (ret)
			snprintf(err, errlen, "record %u of '%s': %s", id, gs_db_names[db],
				 gs_strerror(ret));
	}
	mdb_cursor_close(cur);
	if (ret)
		return ret;
	return rc == MDB_NOTFOUND ? 0 : lmdb_err(rc);
}

static int line_nop(const struct gs_line_row *row, void *arg)
{
	return 0;
}

int gs_index_verify(struct gs_index *idx, char *err, size_t errlen)
{
	MDB_val v;
	struct gs_dec d;
	const struct gs_cfi_row *r;
	const struct gs_cfi_entry *e;
	size_t nr, ne;
	uint32_t n;
	int ret = get(idx, GS_DB_META, "checksums", 9, &v);

	snprintf(err, errlen, "ok");
	if (ret) {
		snprintf(err, errlen, "no checksums in meta");
		return ret == -ENOENT ? -GS_ERR_CORRUPT : ret;
	}
	gs_dec_init(&d, v.mv_data, v.mv_size);
	n = gs_dec_count(&d, 9);
	for (uint32_t i = 0; i < n; i++) {
		const char *name = gs_dec_str(&d);
		uint64_t want = gs_dec_u64le(&d), got = 0;
		size_t cnt = 0;
		int db = -1;

		for (int j = 0; j < GS_DB_COUNT && name; j++)
			if (!strcmp(gs_db_names[j], name))
				db = j;
		if (d.err || db < 0 || !idx->have[db]) {
			snprintf(err, errlen, "checksum table names an unknown table");
			return -GS_ERR_CORRUPT;
		}
		ret = db_checksum(idx, db, &got, &cnt);
		if (ret)
			return ret;
		if (got != want) {
			snprintf(err, errlen, "checksum mismatch in table '%s'", name);
			return -GS_ERR_CORRUPT;
		}
		ret = verify_records(idx, db, err, errlen);
		if (ret)
			return ret;
	}
	ret = gs_index_line_foreach(idx, line_nop, NULL);
	if (!ret)
		ret = gs_index_cfi(idx, &r, &nr, &e, &ne);
	if (ret)
		snprintf(err, errlen, "%s", gs_strerror(ret));
	return ret;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/* The indexer's in-memory model: growable arrays, a u64 map, key/value tables, files. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "indexer/internal.h"
#include "shared/sort.h"

int ix_grow(void **arr, size_t *cap, size_t cnt, size_t elem)
{
	size_t ncap;
	void *n;

	if (cnt < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	if (ncap < *cap || ncap > SIZE_MAX / elem)
		return -ENOMEM;
	n = realloc(*arr, ncap * elem);
	if (!n)
		return -ENOMEM;
	*arr = n;
	*cap = ncap;
	return 0;
}

void *ix_push(void **arr, size_t *cnt, size_t *cap, size_t elem)
{
	if (ix_grow(arr, cap, *cnt, elem))
		return NULL;
	return (char *)*arr + (*cnt)++ * elem;
}

/* ---- map --------------------------------------------------------------------------- */

void ix_map_init(struct ix_map *m)
{
	memset(m, 0, sizeof(*m));
}

void ix_map_deinit(struct ix_map *m)
{
	free(m->keys);
	free(m->vals);
	free(m->used);
	ix_map_init(m);
}

static size_t slot(uint64_t key, size_t cap)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdull;
	key ^= key >> 33;
	return key & (cap - 1);
}

bool ix_map_get(const struct ix_map *m, uint64_t key, uint64_t *val_ret)
{
	if (!m->cap)
		return false;
	for (size_t i = slot(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (!m->used[i])
			return false;
		if (m->keys[i] == key) {
			*val_ret = m->vals[i];
			return true;
		}
	}
}

int ix_map_put(struct ix_map *m, uint64_t key, uint64_t val)
{
	if ((m->cnt + 1) * 4 > m->cap * 3) {
		struct ix_map n;
		size_t ncap = m->cap ? m->cap * 2 : 256;

		n.keys = malloc(ncap * 8);
		n.vals = malloc(ncap * 8);
		n.used = calloc(ncap, 1);
		n.cap = ncap;
		n.cnt = 0;
		if (!n.keys || !n.vals || !n.used) {
			ix_map_deinit(&n);
			return -ENOMEM;
		}
		for (size_t i = 0; i < m->cap; i++)
			if (m->used[i])
				ix_map_put(&n, m->keys[i], m->vals[i]);
		ix_map_deinit(m);
		*m = n;
	}
	for (size_t i = slot(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (!m->used[i]) {
			m->used[i] = 1;
			m->keys[i] = key;
			m->vals[i] = val;
			m->cnt++;
			return 0;
		}
		if (m->keys[i] == key) {
			m->vals[i] = val;
			return 0;
		}
	}
}

/* ---- tables ------------------------------------------------------------------------ */

static int put_kv(struct ix_table *t, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct ix_kv *kv = IX_PUSH(t->kv, t->n, t->cap);

	if (!kv)
		return -ENOMEM;
	kv->off = t->data.len;
	kv->klen = klen;
	kv->vlen = vlen;
	gs_enc_bytes(&t->data, key, klen);
	gs_enc_bytes(&t->data, val, vlen);
	return 0;
}

int ix_table_put(struct ix_table *t, const void *key, size_t klen, const void *val, size_t vlen)
{
	return t->sealed ? 0 : put_kv(t, key, klen, val, vlen);
}

int ix_table_put_rec(struct ix_table *t, uint32_t id, const void *val, size_t vlen)
{
	uint32_t chunk = (id - 1) / GS_REC_CHUNK;
	struct gs_enc len;
	uint8_t key[4];
	int ret;

	if (t->sealed)
		return 0;
	gs_key_put32(key, chunk);
	gs_enc_init(&len);
	gs_enc_u(&len, vlen);
	if ((id - 1) % GS_REC_CHUNK == 0) {
		ret = id ? put_kv(t, key, 4, len.buf, len.len) : -EINVAL;
	} else if (!t->n || t->kv[t->n - 1].klen != 4 ||
		   memcmp(t->data.buf + t->kv[t->n - 1].off, key, 4) ||
		   t->kv[t->n - 1].off + 4 + t->kv[t->n - 1].vlen != t->data.len) {
		ret = -EINVAL;	/* ids must come in order, each table written here only */
	} else {
		gs_enc_bytes(&t->data, len.buf, len.len);
		t->kv[t->n - 1].vlen += (uint32_t)len.len;
		ret = 0;
	}
	gs_enc_deinit(&len);
	if (!ret) {
		gs_enc_bytes(&t->data, val, vlen);
		t->kv[t->n - 1].vlen += (uint32_t)vlen;
	}
	return ret;
}

static int put_ent(struct ix_table *t, uint64_t key, uint32_t id, uint64_t len)
{
	struct ix_key_ent *e;

	if (t->sealed)
		return 0;
	e = IX_PUSH(t->ents, t->nents, t->capents);
	if (!e)
		return -ENOMEM;
	e->key = key;
	e->id = id;
	e->len = len;
	return 0;
}

int ix_table_put_name(struct ix_table *t, const char *name, uint32_t id)
{
	if (!name || !*name)
		return 0;
	return put_ent(t, gs_name_hash(name), id, 0);
}

int ix_table_put_addr(struct ix_table *t, uint64_t addr, uint32_t id, const void *val, size_t vlen)
{
	if (vlen)
		return -EINVAL;
	return put_ent(t, addr, id, 0);
}

int ix_table_put_range(struct ix_table *t, uint64_t lo, uint32_t id, uint64_t len)
{
	return put_ent(t, lo, id, len);
}

static int cmp_key_ent(const void *a, const void *b)
{
	const struct ix_key_ent *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * Name chunk: groups of one hash until the value ends, "u16le low 16 bits of the hash,
 * u n, n x u (id - previous id)"; a chunk ends only where the hash changes, so every
 * id of a hash is in the chunk a seek lands on (and the reader confirms the name).
 */
static size_t name_chunk(const struct ix_key_ent *e, size_t n, struct gs_enc *v)
{
	size_t i = 0;

	while (i < n && (i < GS_KEY_CHUNK || e[i].key == e[i - 1].key)) {
		size_t j = i;
		uint32_t prev = 0;

		while (j < n && e[j].key == e[i].key)
			j++;
		gs_enc_u8(v, (uint8_t)e[i].key);
		gs_enc_u8(v, (uint8_t)(e[i].key >> 8));
		gs_enc_u(v, j - i);
		for (size_t k = i; k < j; k++) {
			gs_enc_u(v, e[k].id - prev);
			prev = e[k].id;
		}
		i = j;
	}
	return i;
}

/*
 * Address chunk: entries until the value ends, "u addr - previous, s id - previous
 * (0 first), u id[, u len]"; a chunk ends only where the address changes, so keys stay
 * unique. Ids mostly rise with addresses: their deltas are small.
 */
static size_t addr_chunk(const struct ix_key_ent *e, size_t n, struct gs_enc *v, bool len)
{
	size_t i;

	for (i = 0; i < n && (i < GS_KEY_CHUNK || e[i].key == e[i - 1].key); i++) {
		gs_enc_u(v, e[i].key - (i ? e[i - 1].key : e[0].key));
		gs_enc_s(v, (int64_t)e[i].id - (i ? e[i - 1].id : 0));
		if (len)
			gs_enc_u(v, e[i].len);
	}
	return i;
}

int ix_table_seal(struct ix_table *t, enum ix_table_kind kind)
{
	struct gs_enc v;
	size_t n = 0;
	int ret = 0;

	if (t->sealed)
		return 0;
	t->sealed = true;
	/* drop exact duplicates (a name that is both the name and the symbol) */
	gs_qsort(t->ents, t->nents, sizeof(*t->ents), cmp_key_ent);
	for (size_t i = 0; i < t->nents; i++)
		if (!n || cmp_key_ent(&t->ents[n - 1], &t->ents[i]))
			t->ents[n++] = t->ents[i];
	gs_enc_init(&v);
	for (size_t i = 0; i < n && !ret;) {
		uint8_t key[8];
		size_t used;

		gs_enc_reset(&v);
		if (kind == IX_TABLE_NAMES)
			used = name_chunk(t->ents + i, n - i, &v);
		else
			used = addr_chunk(t->ents + i, n - i, &v, kind == IX_TABLE_RANGES);
		gs_key_put64(key, t->ents[i].key);
		ret = put_kv(t, key, 8, v.buf, v.len);
		i += used;
	}
	gs_enc_deinit(&v);
	free(t->ents);
	t->ents = NULL;
	t->nents = t->capents = 0;
	return ret;
}

/* ---- strings ---------------------------------------------------------------------- */

/* Id + 1 of @s in the string table (0 for NULL), added (copied with @copy) if new. */
static int str_ref(struct ix_model *m, const char *s, bool copy, uint64_t *ref_ret)
{
	uint64_t h, id;
	const char **slot;

	*ref_ret = 0;
	if (!s)
		return 0;
	h = gs_name_hash(s);
	if (ix_map_get(&m->str_by_hash, h, &id) && !strcmp(m->strs[id], s)) {
		*ref_ret = id + 1;
		return 0;
	}
	if (copy) {
		char **own = IX_PUSH(m->strs_owned, m->nstrs_owned, m->capstrs_owned);

		if (!own || !(*own = strdup(s))) {
			if (own)
				m->nstrs_owned--;
			return -ENOMEM;
		}
		s = *own;
	}
	slot = IX_PUSH(m->strs, m->nstrs, m->capstrs);
	if (!slot)
		return -ENOMEM;
	*slot = s;
	*ref_ret = m->nstrs;
	/* a (rare) hash collision only loses the sharing */
	return ix_map_get(&m->str_by_hash, h, &id) ? 0 : ix_map_put(&m->str_by_hash, h, m->nstrs - 1);
}

int ix_sref(struct ix_model *m, const char *s, uint64_t *ref_ret)
{
	return str_ref(m, s, false, ref_ret);
}

int ix_sref_dup(struct ix_model *m, const char *s, uint64_t *ref_ret)
{
	return str_ref(m, s, true, ref_ret);
}

int ix_enc_sref(struct ix_model *m, struct gs_enc *out, const char *s)
{
	uint64_t ref;
	int ret = str_ref(m, s, false, &ref);

	if (!ret)
		gs_enc_u(out, ref);
	return ret;
}

int ix_enc_sref_as(struct ix_model *m, struct gs_enc *out, const char *s, const char *ref)
{
	uint64_t r;
	int ret;

	if (s && ref && (s == ref || !strcmp(s, ref))) {
		gs_enc_u(out, 1);
		return 0;
	}
	ret = str_ref(m, s, true, &r);
	if (!ret)
		gs_enc_u(out, r ? r + 1 : 0);
	return ret;
}

int ix_strs_finish(struct ix_model *m)
{
	struct gs_enc v;
	int ret = 0;

	gs_enc_init(&v);
	for (size_t i = 0; i < m->nstrs && !ret; i += GS_STR_CHUNK) {
		uint8_t key[4];

		gs_enc_reset(&v);
		for (size_t j = i; j < m->nstrs && j < i + GS_STR_CHUNK; j++)
			gs_enc_bytes(&v, m->strs[j], strlen(m->strs[j]) + 1);
		gs_key_put32(key, (uint32_t)(i / GS_STR_CHUNK));
		ret = ix_table_put(&m->tables[GS_DB_STR], key, 4, v.buf, v.len);
	}
	gs_enc_deinit(&v);
	return ret;
}

/* ---- files ------------------------------------------------------------------------- */

/* Drops "/./" and "x/../" segments so one file has one name. */
static void normalize(char *p)
{
	char *out = p, *s = p;

	while (*s) {
		if (s[0] == '/' && s[1] == '.' && s[2] == '/') {
			s += 2;
			continue;
		}
		if (s[0] == '/' && s[1] == '/') {
			s++;
			continue;
		}
		if (s[0] == '/' && s[1] == '.' && s[2] == '.' && (s[3] == '/' || !s[3]) && out > p) {
			char *prev = out - 1;

			while (prev > p && *prev != '/')
				prev--;
			if (!(prev[0] == '/' && prev[1] == '.' && prev[2] == '.')) {
				out = prev;
				s += 3;
				continue;
			}
		}
		*out++ = *s++;
	}
	*out = '\0';
}

uint32_t ix_file_id(struct ix_model *m, const char *path, const char *comp_dir)
{
	char *full;
	uint64_t h, id;
	size_t len;

	if (!path || !*path)
		return 0;
	/* libdw hands out one string per file table entry: its address is a fast key */
	if (ix_map_get(&m->file_by_ptr, (uintptr_t)path, &id))
		return (uint32_t)id;
	if (path[0] != '/' && comp_dir && *comp_dir) {
		len = strlen(comp_dir) + strlen(path) + 2;
		full = malloc(len);
		if (!full)
			return 0;
		strcpy(full, comp_dir);
		strcat(full, "/");
		strcat(full, path);
	} else {
		full = strdup(path);
		if (!full)
			return 0;
	}
	normalize(full);
	h = gs_name_hash(full);
	if (ix_map_get(&m->file_by_hash, h, &id)) {
		free(full);
		ix_map_put(&m->file_by_ptr, (uintptr_t)path, id);
		return (uint32_t)id;
	}
	if (!IX_PUSH(m->files, m->nfiles, m->capfiles)) {
		free(full);
		return 0;
	}
	m->files[m->nfiles - 1] = full;
	if (ix_map_put(&m->file_by_hash, h, m->nfiles) ||
	    ix_map_put(&m->file_by_ptr, (uintptr_t)path, m->nfiles))
		return 0;
	return (uint32_t)m->nfiles;
}

/* ---- lifecycle --------------------------------------------------------------------- */

void ix_model_init(struct ix_model *m)
{
	memset(m, 0, sizeof(*m));
	for (int i = 0; i < GS_DB_COUNT; i++)
		gs_enc_init(&m->tables[i].data);
	gs_enc_init(&m->cs_data);
	gs_enc_init(&m->type_data);
}

void ix_model_deinit(struct ix_model *m)
{
	if (!m)
		return;
	for (int i = 0; i < GS_DB_COUNT; i++) {
		free(m->tables[i].kv);
		free(m->tables[i].ents);
		gs_enc_deinit(&m->tables[i].data);
	}
	for (size_t i = 0; i < m->nfuncs; i++) {
		free(m->funcs[i].ranges);
		free(m->funcs[i].aliases);
		free(m->funcs[i].qual_owned);
	}
	free(m->funcs);
	free(m->strs);
	for (size_t i = 0; i < m->nstrs_owned; i++)
		free(m->strs_owned[i]);
	free(m->strs_owned);
	ix_map_deinit(&m->str_by_hash);
	for (size_t i = 0; i < m->nfiles; i++)
		free(m->files[i]);
	free(m->files);
	for (size_t i = 0; i < m->nquals; i++)
		free(m->quals[i]);
	free(m->quals);
	free(m->lines);
	free(m->stmts);
	free(m->cs);
	free(m->tail_targets);
	free(m->types);
	gs_enc_deinit(&m->cs_data);
	gs_enc_deinit(&m->type_data);
	ix_map_deinit(&m->func_by_die);
	ix_map_deinit(&m->file_by_hash);
	ix_map_deinit(&m->file_by_ptr);
	ix_map_deinit(&m->type_by_die);
	ix_map_deinit(&m->type_by_hash);
	ix_map_deinit(&m->hash_by_die);
	ix_map_deinit(&m->qual_by_die);
	ix_map_deinit(&m->static_done);
	memset(m, 0, sizeof(*m));
}

bool ix_two_threads(void)
{
	const char *v = getenv("GS_INDEX_THREADS");

	return !v || atoi(v) > 1;
}

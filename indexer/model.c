// SPDX-License-Identifier: GPL-2.0-or-later
/* The indexer's in-memory model: growable arrays, a u64 map, key/value tables, files. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "indexer/internal.h"

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

int ix_table_put(struct ix_table *t, const void *key, size_t klen, const void *val, size_t vlen)
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

int ix_table_put_name(struct ix_table *t, const char *name, uint32_t id)
{
	uint8_t key[12];

	if (!name || !*name)
		return 0;
	gs_key_put64(key, gs_name_hash(name));
	gs_key_put32(key + 8, id);
	return ix_table_put(t, key, sizeof(key), NULL, 0);
}

int ix_table_put_addr(struct ix_table *t, uint64_t addr, uint32_t id, const void *val, size_t vlen)
{
	uint8_t key[12];

	gs_key_put64(key, addr);
	gs_key_put32(key + 8, id);
	return ix_table_put(t, key, sizeof(key), val, vlen);
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
		gs_enc_deinit(&m->tables[i].data);
	}
	for (size_t i = 0; i < m->nfuncs; i++) {
		free(m->funcs[i].ranges);
		free(m->funcs[i].aliases);
		free(m->funcs[i].qual_owned);
	}
	free(m->funcs);
	for (size_t i = 0; i < m->nfiles; i++)
		free(m->files[i]);
	free(m->files);
	for (size_t i = 0; i < m->nquals; i++)
		free(m->quals[i]);
	free(m->quals);
	free(m->lines);
	free(m->stmts);
	free(m->cs);
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

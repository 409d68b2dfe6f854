// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Queries of the index reader that read whole tables instead of one key: function
 * name globs, "did you mean" suggestions (both error or listing paths), and
 * gs_index_verify(), which checksums every table and decodes every record.
 */
#include <elf.h>
#include <errno.h>
#include <fnmatch.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "shared/enc.h"
#include "shared/errors.h"
#include "shared/index.h"
#include "shared/index_internal.h"
#include "shared/schema.h"
#include "shared/sort.h"

/* ---- function names ---------------------------------------------------------------- */

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
/* One record of the func or inline table against @glob. */
static int glob_rec(struct gs_index *idx, const MDB_val *v, const char *glob,
		    struct glob_names *g)
{
	struct gs_dec d;
	const char *name, *qual;

	gs_dec_init(&d, v->mv_data, v->mv_size);
	name = gs_idx_dec_sref(idx, &d);
	qual = gs_idx_dec_sref(idx, &d);
	if (name && !fnmatch(glob, name, 0))
		return glob_add(g, name);
	if (qual && !fnmatch(glob, qual, 0))
		return glob_add(g, qual);
	return 0;
}

static int glob_scan(struct gs_index *idx, enum gs_db db, const char *glob, struct glob_names *g)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, ret = 0;

	if (!idx->have[db])
		return 0;
	rc = mdb_cursor_open(idx->txn, idx->dbi[db], &cur);
	if (rc)
		return gs_idx_lmdb_err(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && !ret;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct gs_dec chunk;
		MDB_val r;

		gs_dec_init(&chunk, v.mv_data, v.mv_size);
		if (db == GS_DB_SYM) {
			struct gs_symbol sym = { 0 };
			const char *last = NULL;

			while (!ret && !gs_idx_sym_next(idx, &chunk, &sym))
				if (sym.type == STT_FUNC && sym.name != last && !fnmatch(glob, sym.name, 0))
					ret = glob_add(g, last = sym.name);
			continue;
		}
		while (!ret && gs_idx_next_rec(&chunk, &r))
			ret = glob_rec(idx, &r, glob, g);
	}
	mdb_cursor_close(cur);
	if (!ret && rc != MDB_NOTFOUND)
		ret = gs_idx_lmdb_err(rc);
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
	gs_qsort(g.v, g.n, sizeof(*g.v), cmp_str);
	out = gs_idx_alloc(idx, g.n * sizeof(*out));
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

/* Ranks one func record's name into the "did you mean" list; returns the new count. */
static size_t suggest_add(struct gs_index *idx, const char *name, const MDB_val *v, size_t cap,
			  const char **names_ret, size_t *dist, size_t max, size_t cnt)
{
	struct gs_dec d;
	const char *fn;
	size_t dd, pos;

	gs_dec_init(&d, v->mv_data, v->mv_size);
	fn = gs_idx_dec_sref(idx, &d);
	if (!fn)
		return cnt;
	dd = edit_distance(name, fn, cap);
	if (dd > cap)
		return cnt;
	for (size_t i = 0; i < cnt; i++)
		if (!strcmp(names_ret[i], fn))
			return cnt;
	for (pos = cnt; pos > 0 && dist[pos - 1] > dd; pos--)
		;
	if (pos >= max)
		return cnt;
	if (cnt < max)
		cnt++;
	memmove(&names_ret[pos + 1], &names_ret[pos], (cnt - 1 - pos) * sizeof(char *));
	memmove(&dist[pos + 1], &dist[pos], (cnt - 1 - pos) * sizeof(size_t));
	names_ret[pos] = fn;
	dist[pos] = dd;
	return cnt;
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
		return gs_idx_lmdb_err(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct gs_dec chunk;
		MDB_val r;

		gs_dec_init(&chunk, v.mv_data, v.mv_size);
		while (gs_idx_next_rec(&chunk, &r))
			cnt = suggest_add(idx, name, &r, cap, names_ret, dist, max, cnt);
	}
	mdb_cursor_close(cur);
	*cnt_ret = cnt;
	return rc == MDB_NOTFOUND ? 0 : gs_idx_lmdb_err(rc);
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
		return gs_idx_lmdb_err(rc);
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
	return rc == MDB_NOTFOUND ? 0 : gs_idx_lmdb_err(rc);
}

/* Decodes one key of @db (every record of a record-table chunk). */
static int verify_one(struct gs_index *idx, enum gs_db db, MDB_val *k, MDB_val *v,
		      uint32_t *id_ret)
{
	uint32_t id = k->mv_size == 4 ? gs_key_get32(k->mv_data) : 0;
	const struct gs_scope *s;
	const struct gs_type *t;
	const struct gs_call_site *cs;
	struct addr_ent *e;
	struct gs_dec d;
	size_t n;
	int ret = 0;

	*id_ret = id;
	if (gs_idx_rec_table(db)) {
		MDB_val r;
		uint32_t first = id * GS_REC_CHUNK + 1, cnt = 0;

		if (k->mv_size != 4 || id >= UINT32_MAX / GS_REC_CHUNK)
			return -GS_ERR_CORRUPT;
		gs_dec_init(&d, v->mv_data, v->mv_size);
		while (gs_idx_next_rec(&d, &r))
			cnt++;
		if (d.err || d.p != d.end || !cnt || cnt > GS_REC_CHUNK)
			return -GS_ERR_CORRUPT;
		for (uint32_t i = 0; i < cnt && !ret; i++) {
			const struct gs_func *f;
			const struct gs_inline *in;
			const struct gs_var *var;
			const struct gs_symbol *sym;

			*id_ret = first + i;
			switch (db) {
			case GS_DB_FUNC: ret = gs_index_func_by_id(idx, first + i, &f); break;
			case GS_DB_INLINE: ret = gs_index_inline_by_id(idx, first + i, &in); break;
			case GS_DB_GLOBAL:
				ret = gs_index_global_by_id(idx, first + i, &var, NULL);
				break;
			default: ret = gs_index_symbol_by_id(idx, first + i, &sym); break;
			}
		}
		return ret;
	}
	switch (db) {
	case GS_DB_SCOPE: return gs_index_scope_tree(idx, id, &s);
	case GS_DB_TYPE: return gs_index_type(idx, id, &t);
	case GS_DB_FILE: return gs_index_file_name(idx, id) ? 0 : -GS_ERR_CORRUPT;
	case GS_DB_CALLSITE:
		return k->mv_size == 8 ? gs_index_call_site(idx, gs_key_get64(k->mv_data), &cs)
				       : -GS_ERR_CORRUPT;
	case GS_DB_SYM_ADDR:
	case GS_DB_FUNC_ADDR:
	case GS_DB_GLOBAL_ADDR:
		if (k->mv_size != 8)
			return -GS_ERR_CORRUPT;
		ret = gs_idx_addr_chunk(k, v, db == GS_DB_FUNC_ADDR, &e, &n);
		if (!ret)
			free(e);
		return ret;
	case GS_DB_SYM_NAME:
	case GS_DB_FUNC_NAME:
	case GS_DB_INLINE_NAME:
	case GS_DB_GLOBAL_NAME:
	case GS_DB_TYPE_NAME:
	case GS_DB_FILE_BASE:
		gs_dec_init(&d, v->mv_data, v->mv_size);
		while (d.p < d.end && !d.err) {
			gs_dec_bytes(&d, 2);
			n = gs_dec_count(&d, 1);
			for (size_t j = 0; j < n; j++)
				gs_dec_u32(&d);
		}
		return d.err || k->mv_size != 8 ? -GS_ERR_CORRUPT : 0;
	case GS_DB_STR: {
		const char *p = v->mv_data, *end = p + v->mv_size;
		size_t cnt = 0;

		if (k->mv_size != 4 || !v->mv_size || end[-1])
			return -GS_ERR_CORRUPT;
		for (; p < end; cnt++)
			p += strlen(p) + 1;
		return cnt > GS_STR_CHUNK ? -GS_ERR_CORRUPT : 0;
	}
	case GS_DB_LINE_ADDR: {
		uint32_t nl;

		gs_dec_init(&d, v->mv_data, v->mv_size);
		nl = gs_dec_count(&d, 2);
		for (uint32_t i = 0, l = 0; i < nl && !d.err; i++) {
			uint32_t h = gs_dec_u32(&d);

			n = (h & 7) == 7 ? gs_dec_count(&d, 1) : (h & 7);
			for (size_t j = 0; j < n; j++)
				if (gs_dec_u(&d) & 1)
					gs_dec_u32(&d);
			l += (h >> 3) + 1;
			d.err |= l > GS_LINE_BUCKET;
		}
		return d.err || k->mv_size != 8 || d.p != d.end ? -GS_ERR_CORRUPT : 0;
	}
	default:
		return 0;
	}
}

static int verify_records(struct gs_index *idx, enum gs_db db, char *err, size_t errlen)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, ret = 0;

	rc = mdb_cursor_open(idx->txn, idx->dbi[db], &cur);
	if (rc)
		return gs_idx_lmdb_err(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && !ret;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		uint32_t id;

		ret = verify_one(idx, db, &k, &v, &id);
		if (ret)
			snprintf(err, errlen, "record %u of '%s': %s", id, gs_db_names[db],
				 gs_strerror(ret));
	}
	mdb_cursor_close(cur);
	if (ret)
		return ret;
	return rc == MDB_NOTFOUND ? 0 : gs_idx_lmdb_err(rc);
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
	int ret = gs_idx_get(idx, GS_DB_META, "checksums", 9, &v);

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

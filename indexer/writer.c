// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The model's tables into one LMDB file, atomically.
 *
 * Each table is sorted in LMDB's key order and appended (MDB_APPEND keeps pages full)
 * into a temporary environment next to the final file, in one write transaction.
 * One write transaction into an empty environment frees no page, so the file is as
 * compact as mdb_env_copy's MDB_CP_COMPACT would make it and needs no copy. Only the
 * final data is synced, once (fdatasync via mdb_env_sync), and the file is then
 * renamed over the final name: readers see the old module or the new one, never half
 * of one, and two indexers of one module each finish their own file and the last
 * rename wins. The directory is not synced: after a crash the rename may be lost,
 * which costs a re-index, never a torn module. No MDB_WRITEMAP: it would grow a huge
 * sparse file; no lock file: nobody else opens the temporary file.
 */
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "indexer/internal.h"
#include "indexer/writer.h"
#include "shared/errors.h"

/* LMDB's default order: memcmp over the common length, then the shorter first. */
static int cmp_kv(const void *a, const void *b, void *base)
{
	const struct ix_kv *x = a, *y = b;
	const uint8_t *data = base;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int c = memcmp(data + x->off, data + y->off, n);

	if (c)
		return c;
	if (x->klen != y->klen)
		return x->klen < y->klen ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;	/* first put wins */
}

static void sort_table(struct ix_table *t)
{
	bool sorted = true;

	for (size_t i = 1; i < t->n && sorted; i++)	/* tables keyed by id are */
		sorted = cmp_kv(&t->kv[i - 1], &t->kv[i], t->data.buf) < 0;
	if (!sorted)
		qsort_r(t->kv, t->n, sizeof(*t->kv), cmp_kv, t->data.buf);
}

static bool same_key(const struct ix_table *t, size_t i)
{
	const struct ix_kv *a = &t->kv[i - 1], *b = &t->kv[i];

	return a->klen == b->klen && !memcmp(t->data.buf + a->off, t->data.buf + b->off, a->klen);
}

/* Sorts one table and hashes it as meta "checksums" says. */
static uint64_t seal_table(struct ix_table *t)
{
	XXH3_state_t st;

	sort_table(t);
	XXH3_INITSTATE(&st);
	XXH3_64bits_reset(&st);
	for (size_t i = 0; i < t->n; i++) {
		const struct ix_kv *kv = &t->kv[i];

		if (i && same_key(t, i))
			continue;
		XXH3_64bits_update(&st, &kv->klen, 4);
		XXH3_64bits_update(&st, t->data.buf + kv->off, kv->klen);
		XXH3_64bits_update(&st, &kv->vlen, 4);
		XXH3_64bits_update(&st, t->data.buf + kv->off + kv->klen, kv->vlen);
	}
	return XXH3_64bits_digest(&st);
}

/* Two threads take the tables in turn: sorting and hashing are most of the write. */
struct seal_job {
	struct ix_model *m;
	uint64_t sums[GS_DB_COUNT];
	pthread_mutex_t lock;
	int next;
};

static void *seal_worker(void *arg)
{
	struct seal_job *j = arg;

	for (;;) {
		int db;

		pthread_mutex_lock(&j->lock);
		db = j->next++;
		pthread_mutex_unlock(&j->lock);
		if (db >= GS_DB_COUNT)
			return NULL;
		if (db != GS_DB_META)
			j->sums[db] = seal_table(&j->m->tables[db]);
	}
}

/* Sorts every table and stores the per-table checksums in meta ("checksums"). */
static int seal(struct ix_model *m, size_t *bytes_ret)
{
	struct seal_job j = { .m = m, .lock = PTHREAD_MUTEX_INITIALIZER };
	struct gs_enc sums;
	size_t bytes = 0;
	pthread_t th;
	bool two;
	int ret;

	two = ix_two_threads() && pthread_create(&th, NULL, seal_worker, &j) == 0;
	seal_worker(&j);
	if (two)
		pthread_join(th, NULL);
	gs_enc_init(&sums);
	gs_enc_u(&sums, GS_DB_COUNT - 1);
	for (int db = 0; db < GS_DB_COUNT; db++) {
		bytes += m->tables[db].data.len + m->tables[db].n * 16;
		if (db == GS_DB_META)
			continue;
		gs_enc_str(&sums, gs_db_names[db]);
		gs_enc_u64le(&sums, j.sums[db]);
	}
	ret = ix_table_put(&m->tables[GS_DB_META], "checksums", 9, sums.buf, sums.len);
	gs_enc_deinit(&sums);
	if (!ret)
		sort_table(&m->tables[GS_DB_META]);
	*bytes_ret = bytes;
	return ret;
}

static int fill_env(struct ix_model *m, MDB_env *env)
{
	MDB_txn *txn;
	int rc;

	rc = mdb_txn_begin(env, NULL, 0, &txn);
	if (rc)
		return rc;
	for (int db = 0; db < GS_DB_COUNT && !rc; db++) {
		struct ix_table *t = &m->tables[db];
		MDB_cursor *cur = NULL;
		MDB_dbi dbi;

		rc = mdb_dbi_open(txn, gs_db_names[db], MDB_CREATE, &dbi);
		if (!rc)
			rc = mdb_cursor_open(txn, dbi, &cur);
		for (size_t i = 0; i < t->n && !rc; i++) {
			MDB_val k = { t->kv[i].klen, t->data.buf + t->kv[i].off };
			MDB_val v = { t->kv[i].vlen, t->data.buf + t->kv[i].off + t->kv[i].klen };

			if (i && same_key(t, i))
				continue;
			if (k.mv_size == 0 || k.mv_size > 511) {
				rc = EINVAL;
				break;
			}
			rc = mdb_cursor_put(cur, &k, &v, MDB_APPEND);
		}
		if (cur)
			mdb_cursor_close(cur);
	}
	if (rc) {
		mdb_txn_abort(txn);
		return rc;
	}
	return mdb_txn_commit(txn);
}

static int mkdir_p(const char *dir)
{
	char buf[4096];
	size_t len = strlen(dir);

	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, dir);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

static int lmdb_ret(int rc)
{
	if (rc > 0)
		return -rc;
	if (rc == MDB_MAP_FULL)
		return -ENOSPC;
	return rc ? -GS_ERR_LMDB : 0;
}

int ix_write(struct ix_model *m, const char *path, uint64_t *size_ret)
{
	char dir[4096], tmp[4200];
	const char *slash = strrchr(path, '/');
	MDB_env *env = NULL;
	size_t bytes;
	struct stat st;
	int rc, ret;

	if (!slash || (size_t)(slash - path) >= sizeof(dir))
		return -EINVAL;
	memcpy(dir, path, slash - path);
	dir[slash - path] = '\0';
	ret = mkdir_p(dir);
	if (ret) {
		fprintf(stderr, "indexer: cannot create index directory '%s': %s\n", dir,
			gs_strerror(ret));
		return ret;
	}
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp.%d.%lx", dir, slash + 1, getpid(),
		 (unsigned long)pthread_self());
	ret = seal(m, &bytes);
	if (ret)
		return ret;
	rc = mdb_env_create(&env);
	if (!rc)
		rc = mdb_env_set_maxdbs(env, GS_DB_COUNT + 4);
	if (!rc)
		rc = mdb_env_set_mapsize(env, ((bytes * 2 + (64u << 20)) + 4095) & ~(size_t)4095);
	if (!rc)
		rc = mdb_env_open(env, tmp, MDB_NOSUBDIR | MDB_NOSYNC | MDB_NOMETASYNC |
				  MDB_NOLOCK, 0644);
	if (!rc)
		rc = fill_env(m, env);
	/* the one sync: the data must be on disk before the name makes it visible */
	if (!rc)
		rc = mdb_env_sync(env, 1);
	if (rc) {
		ret = lmdb_ret(rc);
		fprintf(stderr, "indexer: cannot write '%s': %s\n", tmp, mdb_strerror(rc));
		goto err;
	}
	if (stat(tmp, &st) == 0 && size_ret)
		*size_ret = st.st_size;
	mdb_env_close(env);
	env = NULL;
	if (rename(tmp, path)) {
		ret = -errno;
		fprintf(stderr, "indexer: cannot rename '%s' to '%s': %s\n", tmp, path,
			strerror(errno));
		goto err;
	}
	return 0;
err:
	if (env)
		mdb_env_close(env);
	unlink(tmp);
	return ret;
}

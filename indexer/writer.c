// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The model's tables into one LMDB file, atomically.
 *
 * Each table is sorted in LMDB's key order and appended (MDB_APPEND keeps pages full)
 * into a temporary environment next to the final file, in one write transaction;
 * sorting the next tables on a second thread overlaps appending the previous ones.
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

/*
 * Sealing (sort + checksum) and appending overlap: a helper thread seals tables in
 * order while this thread appends each one as soon as it is sealed (sealing the next
 * one itself when the helper is busy), then frees it, so that LMDB's dirty pages
 * reuse the table's memory instead of fresh pages. meta goes last: it holds the
 * checksums of all the others. The order is the same with one thread or two, so the
 * file is too.
 */
struct seal_job {
	struct ix_model *m;
	uint64_t sums[GS_DB_COUNT];
	bool sealed[GS_DB_COUNT];
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int next;		/* the next table nobody seals yet (meta is not one) */
};

/* Claims and seals the next unclaimed table. False when none is left. */
static bool seal_next(struct seal_job *j)
{
	int db;

	if (j->next >= GS_DB_COUNT)
		return false;
	db = j->next++;
	pthread_mutex_unlock(&j->lock);
	j->sums[db] = seal_table(&j->m->tables[db]);
	pthread_mutex_lock(&j->lock);
	j->sealed[db] = true;
	pthread_cond_broadcast(&j->cond);
	return true;
}

static void *seal_worker(void *arg)
{
	struct seal_job *j = arg;

	ix_heap_advise_thread();
	pthread_mutex_lock(&j->lock);
	while (seal_next(j))
		;
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

/* Waits until table @db is sealed, sealing tables meanwhile when some are left. */
static void seal_wait(struct seal_job *j, int db)
{
	pthread_mutex_lock(&j->lock);
	while (!j->sealed[db])
		if (!seal_next(j))
			pthread_cond_wait(&j->cond, &j->lock);
	pthread_mutex_unlock(&j->lock);
}

/* Stores the per-table checksums in meta ("checksums") and sorts meta. */
static int seal_meta(struct ix_model *m, const struct seal_job *j)
{
	struct gs_enc sums;
	int ret;

	gs_enc_init(&sums);
	gs_enc_u(&sums, GS_DB_COUNT - 1);
	for (int db = 0; db < GS_DB_COUNT; db++) {
		if (db == GS_DB_META)
			continue;
		gs_enc_str(&sums, gs_db_names[db]);
		gs_enc_u64le(&sums, j->sums[db]);
	}
	ret = ix_table_put(&m->tables[GS_DB_META], "checksums", 9, sums.buf, sums.len);
	gs_enc_deinit(&sums);
	if (!ret)
		sort_table(&m->tables[GS_DB_META]);
	return ret;
}

/* Appends one sorted table into @txn. An LMDB error code. */
static int append_table(MDB_txn *txn, int db, const struct ix_table *t)
{
	MDB_cursor *cur = NULL;
	MDB_dbi dbi;
	int rc;

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
	return rc;
}

/* A written table's records are not needed again: their memory goes to LMDB's pages. */
static void table_drop(struct ix_table *t)
{
	free(t->kv);
	t->kv = NULL;
	t->n = t->cap = 0;
	gs_enc_deinit(&t->data);
}

/* Every table but meta (sealed by @j, in order), then meta, in one transaction. */
static int fill_env(struct ix_model *m, struct seal_job *j, MDB_env *env)
{
	MDB_txn *txn;
	int rc, ret;

	rc = mdb_txn_begin(env, NULL, 0, &txn);
	if (rc)
		return rc;
	for (int db = 0; db < GS_DB_COUNT && !rc; db++) {
		if (db == GS_DB_META)
			continue;
		seal_wait(j, db);
		rc = append_table(txn, db, &m->tables[db]);
		table_drop(&m->tables[db]);
	}
	if (!rc) {
		ret = seal_meta(m, j);
		rc = ret == -ENOMEM ? ENOMEM : ret ? EINVAL : 0;
	}
	if (!rc)
		rc = append_table(txn, GS_DB_META, &m->tables[GS_DB_META]);
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
	struct seal_job j = { .m = m, .lock = PTHREAD_MUTEX_INITIALIZER,
			      .cond = PTHREAD_COND_INITIALIZER, .next = 1 };
	MDB_env *env = NULL;
	size_t bytes = 4096;
	struct stat st;
	pthread_t th;
	bool helper = false;
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
	_Static_assert(GS_DB_META == 0, "meta is table 0: the helper starts at 1");
	for (int db = 0; db < GS_DB_COUNT; db++)
		bytes += m->tables[db].data.len + m->tables[db].n * 16;
	if (ix_two_threads() && pthread_create(&th, NULL, seal_worker, &j) == 0)
		helper = true;
	rc = mdb_env_create(&env);
	if (!rc)
		rc = mdb_env_set_maxdbs(env, GS_DB_COUNT + 4);
	if (!rc)
		rc = mdb_env_set_mapsize(env, ((bytes * 2 + (64u << 20)) + 4095) & ~(size_t)4095);
	if (!rc)
		rc = mdb_env_open(env, tmp, MDB_NOSUBDIR | MDB_NOSYNC | MDB_NOMETASYNC |
				  MDB_NOLOCK, 0644);
	if (!rc)
		rc = fill_env(m, &j, env);
	if (helper) {	/* before any return: it may still be sealing after a failure */
		pthread_join(th, NULL);
		helper = false;
	}
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

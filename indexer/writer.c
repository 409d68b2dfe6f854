// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The model's tables into one LMDB file, atomically.
 *
 * Each table is sorted in LMDB's key order and appended (MDB_APPEND keeps pages full)
 * into a scratch environment next to the final file, in one write transaction with
 * no syncs (a crash only leaves a scratch file behind, never a visible index). The
 * scratch is then compacted with mdb_env_copyfd2(MDB_CP_COMPACT) into a temporary
 * file, fsync'd, and renamed over the final name: readers see the old module or the
 * new one, never half of one, and two indexers of one module each finish their own
 * copy and the last rename wins. No MDB_WRITEMAP: it would grow a huge sparse file.
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
#include <xxhash.h>

#include "indexer/internal.h"
#include "indexer/writer.h"
#include "shared/errors.h"

static const uint8_t *sort_base;

/* LMDB's default order: memcmp over the common length, then the shorter first. */
static int cmp_kv(const void *a, const void *b)
{
	const struct ix_kv *x = a, *y = b;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int c = memcmp(sort_base + x->off, sort_base + y->off, n);

	if (c)
		return c;
	if (x->klen != y->klen)
		return x->klen < y->klen ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;	/* first put wins */
}

static pthread_mutex_t sort_lock = PTHREAD_MUTEX_INITIALIZER;

static void sort_table(struct ix_table *t)
{
	bool sorted = true;

	pthread_mutex_lock(&sort_lock);	/* qsort has no context argument */
	sort_base = t->data.buf;
	for (size_t i = 1; i < t->n && sorted; i++)	/* tables keyed by id are */
		sorted = cmp_kv(&t->kv[i - 1], &t->kv[i]) < 0;
	if (!sorted)
		qsort(t->kv, t->n, sizeof(*t->kv), cmp_kv);
	pthread_mutex_unlock(&sort_lock);
}

static bool same_key(const struct ix_table *t, size_t i)
{
	const struct ix_kv *a = &t->kv[i - 1], *b = &t->kv[i];

	return a->klen == b->klen && !memcmp(t->data.buf + a->off, t->data.buf + b->off, a->klen);
}

/* Sorts every table and stores the per-table checksums in meta ("checksums"). */
static int seal(struct ix_model *m, size_t *bytes_ret)
{
	struct gs_enc sums;
	size_t bytes = 0;
	int ret;

	gs_enc_init(&sums);
	gs_enc_u(&sums, GS_DB_COUNT - 1);
	for (int db = 0; db < GS_DB_COUNT; db++) {
		struct ix_table *t = &m->tables[db];
		XXH3_state_t *st;

		sort_table(t);
		bytes += t->data.len + t->n * 16;
		if (db == GS_DB_META)
			continue;
		st = XXH3_createState();
		if (!st) {
			gs_enc_deinit(&sums);
			return -ENOMEM;
		}
		XXH3_64bits_reset(st);
		for (size_t i = 0; i < t->n; i++) {
			const struct ix_kv *kv = &t->kv[i];

			if (i && same_key(t, i))
				continue;
			XXH3_64bits_update(st, &kv->klen, 4);
			XXH3_64bits_update(st, t->data.buf + kv->off, kv->klen);
			XXH3_64bits_update(st, &kv->vlen, 4);
			XXH3_64bits_update(st, t->data.buf + kv->off + kv->klen, kv->vlen);
		}
		gs_enc_str(&sums, gs_db_names[db]);
		gs_enc_u64le(&sums, XXH3_64bits_digest(st));
		XXH3_freeState(st);
	}
	ret = ix_table_put(&m->tables[GS_DB_META], "checksums", 9, sums.buf, sums.len);
	gs_enc_deinit(&sums);
	if (!ret)
		sort_table(&m->tables[GS_DB_META]);
	*bytes_ret = bytes;
	return ret;
}

static int fill_env(struct ix_model *m, MDB_env *env, const char *scratch)
{
	MDB_txn *txn;
	int rc;

	rc = mdb_txn_begin(env, NULL, 0, &txn);
	if (rc)
		return rc;
	for (int db = 0; db < GS_DB_COUNT && !rc; db++) {
		struct ix_table *t = &m->tables[db];
		MDB_dbi dbi;

		rc = mdb_dbi_open(txn, gs_db_names[db], MDB_CREATE, &dbi);
		for (size_t i = 0; i < t->n && !rc; i++) {
			MDB_val k = { t->kv[i].klen, t->data.buf + t->kv[i].off };
			MDB_val v = { t->kv[i].vlen, t->data.buf + t->kv[i].off + t->kv[i].klen };

			if (i && same_key(t, i))
				continue;
			if (k.mv_size == 0 || k.mv_size > 511) {
				rc = EINVAL;
				break;
			}
			rc = mdb_put(txn, dbi, &k, &v, MDB_APPEND);
		}
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

static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);

	if (fd < 0)
		return -errno;
	fsync(fd);
	close(fd);
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
	char dir[4096], scratch[4200], tmp[4200];
	const char *slash = strrchr(path, '/');
	MDB_env *env = NULL;
	size_t bytes;
	struct stat st;
	int fd = -1, rc, ret;

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
	snprintf(scratch, sizeof(scratch), "%s/.%s.scratch.%d.%lx", dir, slash + 1, getpid(),
		 (unsigned long)pthread_self());
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp.%d.%lx", dir, slash + 1, getpid(),
		 (unsigned long)pthread_self());
	ret = seal(m, &bytes);
	if (ret)
		return ret;
	rc = mdb_env_create(&env);
	if (!rc)
		rc = mdb_env_set_maxdbs(env, GS_DB_COUNT + 4);
	if (!rc)
		rc = mdb_env_set_mapsize(env, ((bytes * 4 + (64u << 20)) + 4095) & ~(size_t)4095);
	if (!rc)
		rc = mdb_env_open(env, scratch, MDB_NOSUBDIR | MDB_NOSYNC | MDB_NOMETASYNC |
				  MDB_NOLOCK, 0644);
	if (!rc)
		rc = fill_env(m, env, scratch);
	if (rc) {
		ret = lmdb_ret(rc);
		fprintf(stderr, "indexer: cannot write '%s': %s\n", scratch, mdb_strerror(rc));
		goto err_scratch;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
		fprintf(stderr, "indexer: cannot create '%s': %s\n", tmp, strerror(errno));
		goto err_scratch;
	}
	rc = mdb_env_copyfd2(env, fd, MDB_CP_COMPACT);
	if (rc || fsync(fd)) {
		ret = rc ? lmdb_ret(rc) : -errno;
		fprintf(stderr, "indexer: cannot write '%s': %s\n", tmp,
			rc ? mdb_strerror(rc) : strerror(errno));
		goto err_tmp;
	}
	if (fstat(fd, &st) == 0 && size_ret)
		*size_ret = st.st_size;
	close(fd);
	fd = -1;
	if (rename(tmp, path)) {
		ret = -errno;
		fprintf(stderr, "indexer: cannot rename '%s' to '%s': %s\n", tmp, path,
			strerror(errno));
		goto err_tmp;
	}
	sync_dir(dir);
	mdb_env_close(env);
	unlink(scratch);
	return 0;
err_tmp:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
err_scratch:
	if (env)
		mdb_env_close(env);
	unlink(scratch);
	return ret;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Keyed, checksummed cache files beside the indexes (filecache.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "shared/sort.h"
#include "tracer/fdio.h"
#include "tracer/filecache.h"

struct trailer {
	char magic[8];
	uint64_t len;		/* payload bytes before the trailer */
	uint8_t sum[16];	/* XXH3-128 of the payload, canonical (big-endian) form */
	uint8_t key[16];
};
_Static_assert(sizeof(struct trailer) == 48, "cache trailer layout");

/* Cache files larger than this are not ours. */
#define FILECACHE_MAX	(64 << 20)
/* A hit older than this marks its file used; a temporary file this old is a dead writer's. */
#define FILECACHE_STALE_S	3600

static bool stored;

void gs_filecache_hash_field(XXH3_state_t *st, const void *p, size_t len)
{
	uint64_t l = len;

	XXH3_128bits_update(st, &l, sizeof(l));
	XXH3_128bits_update(st, p, len);
}

static void canon128(XXH128_hash_t h, uint8_t out[16])
{
	XXH128_canonical_t c;

	XXH128_canonicalFromHash(&c, h);
	memcpy(out, c.digest, 16);
}

void gs_filecache_key(XXH3_state_t *st, uint8_t key[16])
{
	canon128(XXH3_128bits_digest(st), key);
}

int gs_filecache_paths(const char *dir, const char *sub, const uint8_t key[16], const char *ext,
		       char *d, char *f, size_t len)
{
	char hex[33];

	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", key[i]);
	if (snprintf(d, len, "%s/%s/%.2s", dir, sub, hex) >= (int)len ||
	    snprintf(f, len, "%s/%s%s", d, hex, ext) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

void *gs_filecache_read(const char *path, const char magic[8], const uint8_t key[16],
			size_t *len_ret)
{
	struct trailer t;
	struct stat sb;
	uint8_t sum[16];
	char *buf = NULL;
	size_t size;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &sb) || sb.st_size <= (off_t)sizeof(t) || sb.st_size > FILECACHE_MAX)
		goto miss;
	size = sb.st_size;
	buf = malloc(size);
	if (!buf || read(fd, buf, size) != (ssize_t)size)
		goto miss;
	memcpy(&t, buf + size - sizeof(t), sizeof(t));
	if (memcmp(t.magic, magic, 8) || t.len != size - sizeof(t) || memcmp(t.key, key, 16))
		goto miss;
	canon128(XXH3_128bits(buf, t.len), sum);
	if (memcmp(sum, t.sum, 16))
		goto miss;
	/* LRU mark for gs_filecache_prune; a read-only shared cache just stays unmarked */
	if (sb.st_mtime < time(NULL) - FILECACHE_STALE_S)
		(void)futimens(fd, NULL);
	close(fd);
	*len_ret = t.len;
	return buf;
miss:
	free(buf);
	close(fd);
	return NULL;
}

static int mkdir_one(const char *path)
{
	return mkdir(path, 0755) && errno != EEXIST ? -errno : 0;
}

int gs_filecache_write(const char *dir, const char *sub, const char *d, const char *path,
		       const char magic[8], const uint8_t key[16], const void *data, size_t len)
{
	char subdir[PATH_MAX], tmp[PATH_MAX + 32];
	struct trailer t = { .len = len };
	int fd, ret;

	if (len > FILECACHE_MAX - sizeof(t))
		return -EFBIG;
	if (snprintf(subdir, sizeof(subdir), "%s/%s", dir, sub) >= (int)sizeof(subdir))
		return -ENAMETOOLONG;
	ret = mkdir_one(subdir);
	if (!ret)
		ret = mkdir_one(d);
	if (ret)
		return ret;
	memcpy(t.magic, magic, 8);
	canon128(XXH3_128bits(data, len), t.sum);
	memcpy(t.key, key, 16);
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	ret = gs_fd_write_all(fd, data, len);
	if (!ret)
		ret = gs_fd_write_all(fd, &t, sizeof(t));
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	else
		stored = true;
	return ret;
}

bool gs_filecache_stored(void)
{
	return stored;
}

struct cfile {
	struct timespec mtime;
	uint64_t size;
	char bucket[3];		/* the key's first two hex digits: <dir>/<sub>/<bucket>/ */
	char *name;
};

static int ts_cmp(const struct timespec *a, const struct timespec *b)
{
	if (a->tv_sec != b->tv_sec)
		return a->tv_sec < b->tv_sec ? -1 : 1;
	if (a->tv_nsec != b->tv_nsec)
		return a->tv_nsec < b->tv_nsec ? -1 : 1;
	return 0;
}

static int cfile_cmp(const void *a, const void *b)
{
	const struct cfile *x = a, *y = b;
	int c = ts_cmp(&x->mtime, &y->mtime);

	return c ? c : strcmp(x->name, y->name);
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && !strcmp(s + n - m, suffix);
}

/*
 * Opens directory @name under @dirfd without following a symlink: whoever can write
 * the cache must not make a root run list or remove files elsewhere.
 */
static int open_dir_at(int dirfd, const char *name)
{
	return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* Adds the files of bucket @bucket (open as @bfd, which this closes) to *@files. */
static int scan_bucket(int bfd, const char *bucket, const char *ext, time_t now,
		       struct cfile **files, size_t *n, size_t *cap, uint64_t *total)
{
	DIR *d = fdopendir(bfd);
	struct dirent *de;
	int ret = 0;

	if (!d) {
		close(bfd);
		return 0;
	}
	while (!ret && (de = readdir(d))) {
		struct stat sb;

		if (de->d_name[0] == '.' ||
		    fstatat(bfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) || !S_ISREG(sb.st_mode))
			continue;
		if (has_suffix(de->d_name, ".tmp")) {
			if (sb.st_mtime < now - FILECACHE_STALE_S)
				unlinkat(bfd, de->d_name, 0);
			continue;
		}
		if (!has_suffix(de->d_name, ext))
			continue;
		if (*n == *cap) {
			size_t c = *cap ? 2 * *cap : 256;
			struct cfile *f = realloc(*files, c * sizeof(*f));

			if (!f) {
				ret = -ENOMEM;
				break;
			}
			*files = f;
			*cap = c;
		}
		(*files)[*n].name = strdup(de->d_name);
		if (!(*files)[*n].name) {
			ret = -ENOMEM;
			break;
		}
		memcpy((*files)[*n].bucket, bucket, 3);
		(*files)[*n].mtime = sb.st_mtim;
		(*files)[*n].size = (uint64_t)sb.st_size;
		*total += (uint64_t)sb.st_size;
		(*n)++;
	}
	closedir(d);
	return ret;
}

/*
 * Removes @f (in bucket f->bucket of @topfd): 0, or -errno. -ENOENT: another run
 * removed it first.
 */
static int remove_file(int topfd, const struct cfile *f)
{
	int bfd = open_dir_at(topfd, f->bucket), ret = 0;

	if (bfd < 0)
		return -errno;
	if (unlinkat(bfd, f->name, 0))
		ret = -errno;
	close(bfd);
	return ret;
}

int gs_filecache_prune(const char *dir, const char *sub, const char *ext, uint64_t limit,
		       const struct timespec *keep_since)
{
	struct cfile *files = NULL;
	size_t n = 0, cap = 0;
	uint64_t total = 0;
	time_t now = time(NULL);
	struct dirent *de;
	int ret = 0, topfd, dfd;
	DIR *d;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	topfd = open_dir_at(dfd, sub);
	close(dfd);
	if (topfd < 0)
		return -errno;
	d = fdopendir(dup(topfd));
	if (!d) {
		ret = -errno;
		close(topfd);
		return ret;
	}
	while (!ret && (de = readdir(d))) {
		int bfd;

		/* buckets are the key's first two hex digits (gs_filecache_paths) */
		if (strlen(de->d_name) != 2 || de->d_name[0] == '.')
			continue;
		bfd = open_dir_at(topfd, de->d_name);
		if (bfd >= 0)
			ret = scan_bucket(bfd, de->d_name, ext, now, &files, &n, &cap, &total);
	}
	closedir(d);
	if (!ret && total > limit) {
		uint64_t target = limit - limit / 4;

		gs_qsort(files, n, sizeof(*files), cfile_cmp);
		for (size_t i = 0; i < n && total > target; i++) {
			int e;

			/* what this run (or one beside it) just stored stays, whatever its size */
			if (ts_cmp(&files[i].mtime, keep_since) >= 0)
				break;
			e = remove_file(topfd, &files[i]);
			if (e && e != -ENOENT)
				break;	/* a read-only cache, say: the others would fail alike */
			total -= files[i].size;
			ret += !e;
		}
	}
	close(topfd);
	for (size_t i = 0; i < n; i++)
		free(files[i].name);
	free(files);
	return ret;
}

int gs_filecache_parse_limit(const char *s, uint64_t *bytes)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || !v)
		return -EINVAL;
	switch (*end) {
	case 'K': case 'k': shift = 10; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	default: break;
	}
	if (*end || v > (UINT64_MAX >> shift))
		return -EINVAL;
	*bytes = (uint64_t)v << shift;
	return 0;
}

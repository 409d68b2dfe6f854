// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Keyed, checksummed cache files beside the indexes (filecache.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

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
	return ret;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The compiled-object cache: gs_codegen_emit_cached() returns the object of the same
 * programs compiled before, from <dir>/bpf/<key[0:2]>/<key>.o, and only loads LLVM
 * on a miss. A second run of a script on the same binaries thus costs a file read
 * instead of ~50-100 ms of dlopen and compilation.
 *
 * Key (XXH3-128): a format tag, the code generator's build-id (any rebuild of it
 * invalidates everything), the tool version, the options that shape the code
 * (uprobe_multi: the section names; merge_max: the grouping), and each program's
 * canonical dump with its length. The per-run options are load-time settings (codegen.h) and stay out, so
 * different pids, namespaces and ring sizes share one object.
 *
 * File: the ELF object, then a 48-byte trailer {magic, payload length, XXH3-128 of
 * the payload, key}; readers of the .o see a plain ELF (trailing bytes are ignored
 * by ELF tools), and a short, corrupt or misplaced file fails the trailer check and
 * is recompiled and replaced. Writes go to a temp name then rename(2), so
 * concurrent runs never see half a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <xxhash.h>

#include "tracer/codegen.h"
#include "tracer/codegen_lib.h"
#include "tracer/ir.h"

/* Bump when the generated code changes in a way the generator's build-id misses. */
#define CACHE_FORMAT	"ghostscope-bpf-cache-1"
#define TRAILER_MAGIC	"GSBPFC1\n"

struct trailer {
	char magic[8];
	uint64_t len;		/* payload bytes before the trailer */
	uint8_t sum[16];	/* XXH3-128 of the payload, canonical (big-endian) form */
	uint8_t key[16];
};
_Static_assert(sizeof(struct trailer) == 48, "cache trailer layout");

static void hash_field(XXH3_state_t *st, const void *p, size_t len)
{
	uint64_t l = len;

	/* Length-prefixed, so that adjacent fields cannot trade bytes. */
	XXH3_128bits_update(st, &l, sizeof(l));
	XXH3_128bits_update(st, p, len);
}

static void canon128(XXH128_hash_t h, uint8_t out[16])
{
	XXH128_canonical_t c;

	XXH128_canonicalFromHash(&c, h);
	memcpy(out, c.digest, 16);
}

int gs_codegen_cache_key(const struct gs_ir_prog *const *progs, size_t nprogs,
			 const struct gs_codegen_opts *o, uint8_t key[16])
{
	const struct gs_codegen_opts dflt = { 0 };
	XXH3_state_t *st;
	uint8_t id[64];
	int idlen, ret = 0;
	uint8_t multi;

	if (!o)
		o = &dflt;
	st = XXH3_createState();
	if (!st)
		return -ENOMEM;
	XXH3_128bits_reset(st);
	hash_field(st, CACHE_FORMAT, sizeof(CACHE_FORMAT));
	idlen = gs_cg_generator_id(id, sizeof(id));
	hash_field(st, id, idlen > 0 ? (size_t)idlen : 0);
	hash_field(st, o->version ? o->version : "", o->version ? strlen(o->version) : 0);
	multi = o->uprobe_multi;
	hash_field(st, &multi, 1);
	hash_field(st, &o->merge_max, sizeof(o->merge_max));
	hash_field(st, &nprogs, sizeof(nprogs));
	for (size_t i = 0; i < nprogs; i++) {
		char *dump;

		if (!progs[i]) {
			ret = -EINVAL;
			goto out;
		}
		dump = gs_ir_dump(progs[i]);
		if (!dump) {
			ret = -ENOMEM;
			goto out;
		}
		hash_field(st, dump, strlen(dump));
		free(dump);
	}
	canon128(XXH3_128bits_digest(st), key);
out:
	XXH3_freeState(st);
	return ret;
}

/* <dir>/bpf/<hex[0:2]> into @d and <that>/<hex>.o into @f. */
static int cache_paths(const char *dir, const uint8_t key[16], char *d, char *f, size_t len)
{
	char hex[33];

	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", key[i]);
	if (snprintf(d, len, "%s/bpf/%.2s", dir, hex) >= (int)len ||
	    snprintf(f, len, "%s/%s.o", d, hex) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

/* A valid cached object, malloc'd, or NULL (absent, short, corrupt: all a miss). */
static void *cache_read(const char *path, const uint8_t key[16], size_t *len_ret)
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
	if (fstat(fd, &sb) || sb.st_size <= (off_t)sizeof(t) || sb.st_size > (64 << 20))
		goto miss;
	size = sb.st_size;
	buf = malloc(size);
	if (!buf || read(fd, buf, size) != (ssize_t)size)
		goto miss;
	memcpy(&t, buf + size - sizeof(t), sizeof(t));
	if (memcmp(t.magic, TRAILER_MAGIC, 8) || t.len != size - sizeof(t) ||
	    memcmp(t.key, key, 16))
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

static int write_all(int fd, const void *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p = (const char *)p + n;
		len -= n;
	}
	return 0;
}

static int mkdir_one(const char *path)
{
	return mkdir(path, 0755) && errno != EEXIST ? -errno : 0;
}

/* Stores @obj under @path (directory @d), atomically; 0 or -errno. */
static int cache_write(const char *dir, const char *d, const char *path, const uint8_t key[16],
		       const void *obj, size_t len)
{
	char bpfdir[PATH_MAX], tmp[PATH_MAX + 32];
	struct trailer t = { .len = len };
	int fd, ret;

	snprintf(bpfdir, sizeof(bpfdir), "%s/bpf", dir);
	ret = mkdir_one(bpfdir);
	if (!ret)
		ret = mkdir_one(d);
	if (ret)
		return ret;
	memcpy(t.magic, TRAILER_MAGIC, 8);
	canon128(XXH3_128bits(obj, len), t.sum);
	memcpy(t.key, key, 16);
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	ret = write_all(fd, obj, len);
	if (!ret)
		ret = write_all(fd, &t, sizeof(t));
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

int gs_codegen_emit_cached(const struct gs_ir_prog *const *progs, size_t nprogs,
			   const struct gs_codegen_opts *o, const char *cache_dir,
			   void **obj_ret, size_t *len_ret, bool *hit_ret, char *err,
			   size_t errlen)
{
	struct gs_codegen_opts co = { 0 };
	char d[PATH_MAX], path[PATH_MAX];
	uint8_t key[16];
	int ret;

	*obj_ret = NULL;
	*len_ret = 0;
	if (hit_ret)
		*hit_ret = false;
	if (err && errlen)
		err[0] = '\0';
	/* Only what shapes the code: the per-run fields take their defaults. */
	if (o) {
		co.uprobe_multi = o->uprobe_multi;
		co.version = o->version;
		co.merge_max = o->merge_max;
	}
	if (cache_dir && nprogs && !gs_codegen_cache_key(progs, nprogs, &co, key) &&
	    !cache_paths(cache_dir, key, d, path, sizeof(path))) {
		*obj_ret = cache_read(path, key, len_ret);
		if (*obj_ret) {
			if (hit_ret)
				*hit_ret = true;
			return 0;
		}
	} else {
		cache_dir = NULL;
	}
	ret = gs_codegen_emit(progs, nprogs, &co, obj_ret, len_ret, err, errlen);
	if (!ret && cache_dir)
		cache_write(cache_dir, d, path, key, *obj_ret, *len_ret);
	return ret;
}

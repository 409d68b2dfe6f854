// SPDX-License-Identifier: GPL-2.0-or-later
/* Kernel facts cached on disk per kernel build (see kcache.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "tracer/kcache.h"

static char *kc_dir;

void gs_kcache_set_dir(const char *dir)
{
	free(kc_dir);
	kc_dir = dir ? strdup(dir) : NULL;
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	while (n--)
		h = (h ^ *s++) * 0x100000001b3ULL;
	return h;
}

/* "<dir>/kernel/<what>-<hash of this kernel>"; -ENOENT when the cache is off. */
static int kc_path(const char *what, char *buf, size_t len)
{
	struct utsname u;
	struct stat st;
	uint64_t h = 0xcbf29ce484222325ULL;

	if (!kc_dir || uname(&u) || stat("/sys/kernel/btf/vmlinux", &st))
		return -ENOENT;
	h = fnv1a(h, u.release, strlen(u.release) + 1);
	h = fnv1a(h, u.version, strlen(u.version) + 1);
	h = fnv1a(h, u.machine, strlen(u.machine) + 1);
	h = fnv1a(h, &st.st_size, sizeof(st.st_size));
	if ((size_t)snprintf(buf, len, "%s/kernel/%s-%016" PRIx64, kc_dir, what, h) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int gs_kcache_get(const char *what, void *buf, size_t len)
{
	char path[4096];
	ssize_t n;
	int fd;

	if (kc_path(what, path, sizeof(path)))
		return -ENOENT;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	n = read(fd, buf, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -ENOENT;
}

void gs_kcache_put(const char *what, const void *buf, size_t len)
{
	char path[4096], tmp[4096 + 32];
	bool ok;
	int fd;

	if (kc_path(what, path, sizeof(path)))
		return;
	snprintf(tmp, sizeof(tmp), "%s/kernel", kc_dir);
	mkdir(kc_dir, 0755);
	mkdir(tmp, 0755);
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	ok = write(fd, buf, len) == (ssize_t)len;
	if (close(fd) || !ok || rename(tmp, path))
		unlink(tmp);
}

// SPDX-License-Identifier: GPL-2.0-or-later
/* Whole reads and writes on file descriptors (fdio.h). */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "tracer/fdio.h"

int gs_fd_write_all(int fd, const void *p, size_t len)
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

void *gs_fd_read_all(int fd, size_t *len_ret)
{
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap), *nb;

	while (buf) {
		ssize_t n;

		if (len == cap) {
			nb = realloc(buf, cap *= 2);
			if (!nb)
				break;
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (n == 0) {
			*len_ret = len;
			return buf;
		}
		len += n;
	}
	free(buf);	/* errno: read's, or ENOMEM from malloc/realloc */
	return NULL;
}

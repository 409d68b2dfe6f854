/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Whole reads and writes on file descriptors: pipes to the helper programs, cache files. */
#ifndef GS_TRACER_FDIO_H
#define GS_TRACER_FDIO_H

#include <stddef.h>

/* Writes all @len bytes (EINTR retried); 0 or -errno (-EIO for a zero-byte write). */
int gs_fd_write_all(int fd, const void *p, size_t len);
/* Everything @fd gives until EOF, malloc'd, and its length; NULL with errno set on failure. */
void *gs_fd_read_all(int fd, size_t *len_ret);

#endif /* GS_TRACER_FDIO_H */

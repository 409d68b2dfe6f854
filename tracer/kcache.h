/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Facts about the running kernel (struct member offsets read from its BTF) kept on disk,
 * one small file per fact and kernel build, so that only the first run on a kernel pays
 * for parsing /sys/kernel/btf/vmlinux (60-170 ms here).
 *
 * A kernel build is named by a hash of uname(2) (release, version, machine) and the
 * size of the kernel's BTF: a new kernel is a new name, and a stale file is never read.
 * The cache is an optimisation only: every failure (no directory set, unreadable,
 * unwritable, short file) behaves as a miss and is silent.
 */
#ifndef GS_TRACER_KCACHE_H
#define GS_TRACER_KCACHE_H

#include <stddef.h>

/* Where the files go: "<dir>/kernel/"; NULL (the default) turns the cache off. */
void gs_kcache_set_dir(const char *dir);

/* Fills @buf with the @len bytes stored as @what for this kernel: 0, or -ENOENT. */
int gs_kcache_get(const char *what, void *buf, size_t len);

/* Stores @len bytes as @what for this kernel (atomically: a temp file renamed). */
void gs_kcache_put(const char *what, const void *buf, size_t len);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The helper programs ghostscope runs: ghostscope-index (auto-indexing) and
 * ghostscope-codegen (compiling on an object cache miss). ghostscope is linked
 * static-pie and keeps libdw and LLVM out of its own process: a static program cannot
 * load LLVM, and libdw's debuginfod client loads a shared library on its own.
 */
#ifndef GS_TRACER_PROC_H
#define GS_TRACER_PROC_H

#include <stddef.h>
#include <sys/types.h>

/*
 * The path of helper @name: $@env when set, else @name in the directory of the
 * running executable (a build tree and an install alike). 0 or -errno.
 */
int gs_proc_sibling(const char *env, const char *name, char *buf, size_t len);

/*
 * Starts @path with @argv and the environment; @in_fd/@out_fd become its stdin and
 * stdout (-1: inherited; out_fd -2: /dev/null); stderr is inherited. 0 and *@pid_ret,
 * or -errno.
 */
int gs_proc_start(const char *path, char *const argv[], int in_fd, int out_fd, pid_t *pid_ret);

/* Waits for @pid (EINTR retried); its wait status in *@status_ret. 0 or -errno. */
int gs_proc_wait(pid_t pid, int *status_ret);

#endif /* GS_TRACER_PROC_H */

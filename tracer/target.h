/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a trace session targets: one process (-p), every process of a file (-t), or a
 * program the tracer launches (-- PROG ARGS). Lists the modules (executable and
 * shared libraries) to resolve probes in, with their load bias where it is known.
 */
#ifndef GS_TRACER_TARGET_H
#define GS_TRACER_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct gs_target_module {
	char *path;		/* as mapped (/proc/PID/maps) or as named */
	/*
	 * The mapping with the lowest file offset, in -p mode: the load bias is
	 * map_start - (vaddr of the PT_LOAD at file offset map_off), page-aligned.
	 */
	uint64_t map_start, map_off;
	bool has_map;
	/* The executable mapping (-p mode), for unwinding and symbolizing backtraces. */
	uint64_t exec_start, exec_end, exec_off;
	bool has_exec;
	bool is_main;		/* the executable */
};

/* The inode of the initial pid namespace, fixed by the kernel (PROC_PID_INIT_INO). */
#define GS_PROC_PID_INIT_INO	0xEFFFFFFCU

struct gs_target {
	pid_t pid;		/* -p / launched child; 0 with -t alone */
	bool file_mode;		/* -t: every process mapping the file */
	/* the target's pid namespace; 0 if unknown or the initial one (its view is the host's) */
	uint64_t pidns_dev, pidns_ino;
	size_t nmodules;
	struct gs_target_module *modules; /* main executable first */
	/* launch mode */
	pid_t child;
	int gate_fd;		/* write end: the child execs once it is closed */
};

/* Fills @t for process @pid from /proc/PID/maps. -ESRCH when no such process. */
int gs_target_init_pid(struct gs_target *t, pid_t pid);
/*
 * Fills @t for file @path (-t). The application libraries @path needs (DT_NEEDED
 * found through its DT_RUNPATH/DT_RPATH or $LD_LIBRARY_PATH, not the system's
 * default directories) come too, by path and without a load address. -ENOENT when
 * the file does not exist.
 */
int gs_target_init_file(struct gs_target *t, const char *path);
/*
 * Forks @argv[0] (looked up in PATH) stopped before exec: the child waits on a pipe
 * until gs_target_release(). Modules are the program and the libraries the dynamic
 * loader would map (LD_TRACE_LOADED_OBJECTS), all by path (uprobes on a file apply to
 * every process that maps it later). Unless @keep_aslr, the program runs without
 * address randomization, as under GDB, and the libraries' load addresses are known
 * in advance (so are their globals).
 */
int gs_target_init_launch(struct gs_target *t, char *const argv[], bool keep_aslr);
/* Lets a launched child exec. */
void gs_target_release(struct gs_target *t);
void gs_target_deinit(struct gs_target *t);

/* Adds a module by path (no mapping). */
int gs_target_add_module(struct gs_target *t, const char *path, bool is_main);

/* Load bias of @m given its PT_LOAD segments; false when unknown (-t mode). */
struct gs_segment;
bool gs_target_bias(const struct gs_target_module *m, const struct gs_segment *segs,
		    size_t nsegs, uint64_t *bias_ret);

#endif /* GS_TRACER_TARGET_H */

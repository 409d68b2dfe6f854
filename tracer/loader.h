/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The BPF loader: loads an object from gs_codegen_emit() (with our own
 * minimal ELF loader, or libbpf for objects it does not handle), attaches its
 * programs to uprobes (one uprobe_multi link per program and file where the kernel
 * has them, else one perf-event uprobe per pc), streams events from the ring buffer
 * and reads the per-trace-id lost counters. docs/codegen.md has the details.
 *
 * Not thread-safe: use one loader from one thread (gs_loader_warm_up's and
 * gs_loader_detach's threads are internal). gs_loader_open() swaps libbpf's global
 * print callback while libbpf loads, then restores it.
 */
#ifndef GS_TRACER_LOADER_H
#define GS_TRACER_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/index.h"
#include "tracer/codegen.h"
#include "tracer/event.h"

struct gs_loader;

struct gs_loader_opts {
	/*
	 * Fail (-EINVAL) when the kernel rejects the object's BTF; libbpf itself would
	 * only warn "BTF is optional, ignoring" and load without it. Tests set this.
	 */
	bool strict_btf;
	/* Use single uprobes even when uprobe_multi is available (for comparison). */
	bool force_single;
	/* Copy libbpf's warnings to stderr (they are always captured for errors). */
	bool verbose;
	/*
	 * Capacity of the unwind tables of objects with a backtrace, summed over the
	 * modules given to gs_loader_set_unwind (preallocated kernel memory, 16 bytes
	 * each); 0 means 4096 rows and 262144 entries.
	 */
	uint32_t unwind_rows, unwind_entries;
	/*
	 * The per-run settings (the "per run" fields of gs_codegen_opts: ring buffer size,
	 * wakeup threshold, pid filter, pid namespace, max_trace_id) to load the object
	 * with, replacing the defaults it was compiled with; NULL keeps those. Needed for
	 * objects from gs_codegen_emit_cached, which are compiled without them.
	 */
	const struct gs_codegen_opts *run;
	/* Load with libbpf's bpf_object path even when our own loader could (tests). */
	bool use_libbpf;
};

/* One pc to probe. */
struct gs_attach_point {
	const char *path;	/* file holding the code; borrowed for the call */
	uint64_t file_off;	/* uprobe offset in that file */
	uint64_t vaddr;		/* module-relative vaddr, for GS_IR_SP_BIAS */
	uint32_t trace_id;	/* the attach cookie; <= gs_codegen_opts.max_trace_id */
	uint32_t prog;		/* the BPF program: gs_p<prog> in the object */
	int pid;		/* only this process; -1 for every process */
	/*
	 * A return probe (file_off is the function's entry): runs as the function
	 * returns, with the caller's pc in ctx->ip. Its program should be one built
	 * with gs_ir_prog.retprobe; the loader does not check.
	 */
	bool retprobe;
	uint32_t variant;	/* the body of a merged program (gs_codegen_merge); 0 if not */
};

/*
 * Called for each event, in ring order. @ev points into the ring buffer and is only
 * valid during the call; @size is the record size (>= ev->len). Return 0 to go on, a
 * negative errno to stop gs_loader_poll(), which then returns it.
 */
typedef int (*gs_event_fn)(void *ctx, const struct gs_event_hdr *ev, size_t size);

/*
 * True when the running kernel supports uprobe_multi links (kernel 6.6+); probed
 * once (loads a two-instruction program) and cached.
 */
bool gs_loader_has_uprobe_multi(void);

/*
 * Starts, on a thread, what the next gs_loader_open() would otherwise wait for: the
 * event rings of @ring_bytes in all (0: the 8 MiB default; rings.h), the slowest maps
 * to create (0.5-3 ms here), and their mapping for reading (1-4 ms).
 * Call it early, before parsing and planning. gs_loader_open() adopts the rings when
 * they have the size its run options ask, else frees them; it waits for their
 * creation only, and the first gs_loader_poll() for the mapping.
 * Returns 0, -EINVAL for a bad size, -EALREADY when called twice, or the error of
 * pthread_create; a failure only means no head start.
 */
int gs_loader_warm_up(uint32_t ring_bytes);

/*
 * Loads @obj (@len bytes, from gs_codegen_emit with @nprogs programs) into the
 * kernel. The loader does not keep @obj. Returns 0 and *@ret, or a negative errno:
 * -EACCES/-EINVAL... from the kernel; when the verifier rejected a program, @err holds
 * "program N: verifier rejected: <the verifier's last lines>" and *@bad_prog_ret
 * (may be NULL) is N, else -1. -EINVAL with "kernel rejected the BTF" under
 * strict_btf, or for a bad ring buffer size in opts->run. Objects that read the thread
 * pointer get this kernel's fsbase offset in gs_cfg (gs_loader_fsbase_offset; its
 * errors fail the open). Nothing is left loaded after a failure.
 */
int gs_loader_open(const void *obj, size_t len, size_t nprogs, const struct gs_loader_opts *opts,
		   struct gs_loader **ret, int *bad_prog_ret, char *err, size_t errlen);
/* Detaches everything, unloads, frees. Accepts NULL and half-built loaders. */
void gs_loader_close(struct gs_loader *l);

/*
 * Attaches @n points. Points of one program, path, pid and kind (entry or return)
 * share one uprobe_multi link with a cookie per pc (BPF_F_UPROBE_MULTI_RETURN for
 * return probes); without uprobe_multi each point is one uprobe. Also
 * records each point's vaddr for $bias. May be called more than once. Returns 0, or a
 * negative errno with @err naming the point ('path' +0xoff); links made before a
 * failure stay attached (gs_loader_detach/close removes them).
 */
int gs_loader_attach(struct gs_loader *l, const struct gs_attach_point *pts, size_t n,
		     char *err, size_t errlen);
/*
 * Removes every link (fast with uprobe_multi), closing up to 17 at once on threads
 * so that the kernel's per-link grace-period waits overlap. Idempotent; returns 0.
 */
int gs_loader_detach(struct gs_loader *l);
/* Number of links / single uprobes currently attached, and whether multi is used. */
size_t gs_loader_link_count(const struct gs_loader *l);
bool gs_loader_uses_multi(const struct gs_loader *l);

/*
 * Waits up to @timeout_ms for a wakeup, then delivers what the rings hold, in the
 * order the events happened (rings.h; events are submitted without wakeups most of
 * the time, so a wait that times out still delivers what is there), at most
 * GS_RINGS_BATCH events a call. Calls @cb for each event. Returns the number of
 * events delivered, or a negative errno (from epoll or from @cb, or from mapping the
 * rings on the first call when gs_loader_warm_up made them). -EINTR is returned as 0.
 */
int gs_loader_poll(struct gs_loader *l, int timeout_ms, gs_event_fn cb, void *ctx);
/* How many event rings the programs write (one per CPU), and the bytes of each. */
size_t gs_loader_rings(const struct gs_loader *l, uint32_t *bytes_ret);

/* A module's code as mapped: runtime [start, end), bias = runtime - module vaddr. */
struct gs_unwind_range {
	uint64_t start, end, bias;
};

/* One module's CFI (shared/index.h gs_index_cfi, as stored) and where it is mapped. */
struct gs_unwind_module {
	const struct gs_cfi_row *rows;
	size_t nrows;
	const struct gs_cfi_entry *ents;	/* pc-sorted module vaddrs */
	size_t nents;
	const struct gs_unwind_range *ranges;
	size_t nranges;
};

/*
 * Installs the unwind tables GS_IR_S_BACKTRACE uses, replacing earlier ones: @n
 * modules, at most GS_CODEGEN_UW_MAX_RANGES ranges in all, rows and entries within
 * the opts' capacities. The ranges are runtime addresses, so they describe one
 * process (-p); in every-process mode only modules mapped at the same address
 * everywhere (non-PIE executables) unwind right. Returns 0 (also for an object
 * without a backtrace, which has no tables), -E2BIG over a capacity, or -errno from
 * the map updates, with @err set.
 */
int gs_loader_set_unwind(struct gs_loader *l, const struct gs_unwind_module *mods, size_t n,
			 char *err, size_t errlen);

/*
 * Offset in bytes of task_struct.thread.fsbase in the running kernel, from
 * /sys/kernel/btf/vmlinux (kbtf.h: found or not, the answer is kept for the kernel
 * build). gs_loader_open() puts it in gs_cfg of objects that read the thread pointer
 * (GS_IR_SP_TP). Returns 0, -ENOENT/-ERANGE when the kernel's BTF lacks the member, or
 * the error reading the BTF, with @err set.
 */
int gs_loader_fsbase_offset(uint32_t *off_ret, char *err, size_t errlen);

/*
 * Removes the return probes' saves (gs_save) of threads that have ended: a thread or
 * process that ends inside a traced call (exit() in it, a kill) never returns through
 * it, and the map does not evict. @alive says whether a host thread id still exists.
 * Sets @seen_ret to the saves looked at. Returns the number removed (0 without a
 * save map) or -errno. Saves left by longjmp in a live thread stay (see loader.c).
 */
int gs_loader_sweep_saves(struct gs_loader *l, bool (*alive)(uint32_t tid, void *ctx),
			  void *ctx, size_t *seen_ret);

/* Events of @trace_id dropped because the ring was full, summed over CPUs. */
int gs_loader_lost(struct gs_loader *l, uint32_t trace_id, uint64_t *lost_ret);

#endif /* GS_TRACER_LOADER_H */

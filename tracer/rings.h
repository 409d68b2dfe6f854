/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The event rings: one BPF ring buffer per CPU, found by the programs through an
 * array of maps indexed by CPU number (GS_CODEGEN_MAP_EVENTS), and read here in the
 * order the events happened.
 *
 * Why per CPU: a ring buffer reserve takes the ring's spinlock and writes its producer
 * position, so CPUs printing into one ring wait on each other; with two threads
 * printing three integers, that doubled each program's run time here (416 -> 887 ns).
 *
 * Order: each event carries bpf_ktime_get_ns(), taken after its reserve, and the reader
 * merges the rings by it, keeping each ring's own order: a thread's events come out in
 * the order it made them even when it moves between CPUs, and events of different
 * threads by their stamps, as concurrent as they were. Events stamped within
 * GS_RINGS_SKEW_NS of the reader's clock, and those that a reserved but not yet
 * submitted record could precede, wait for a later pass (rings.c says why that is
 * enough).
 */
#ifndef GS_TRACER_RINGS_H
#define GS_TRACER_RINGS_H

#include <stddef.h>
#include <stdint.h>

enum {
	GS_RINGS_MAX = 64,		/* more CPUs share rings (CPU i uses ring i % n) */
	GS_RINGS_SKEW_NS = 20000,	/* stamps this close to the pass wait for the next */
	GS_RINGS_BATCH = 65536,		/* events one gs_rings_poll() delivers at most */
};

struct gs_rings;

/*
 * Called for each event in order, with the record in the ring itself (valid until the
 * call returns); a negative return stops the poll and is returned.
 */
typedef int (*gs_rings_fn)(void *ctx, const void *data, size_t size);

/*
 * Creates one ring per online CPU (at most GS_RINGS_MAX) of @total_bytes / n bytes each
 * (rounded down to a power of two, at least a page), and the array of maps with one
 * slot per possible CPU. @total_bytes must be a power of two >= 4096. Returns 0 and
 * *@ret, or -errno. Nothing is mapped yet.
 */
int gs_rings_new(uint32_t total_bytes, struct gs_rings **ret);
/* Unmaps and closes everything; accepts NULL and half-built rings. */
void gs_rings_free(struct gs_rings *r);

/* The array of maps the programs use (owned by @r). */
int gs_rings_outer_fd(const struct gs_rings *r);
size_t gs_rings_count(const struct gs_rings *r);
uint32_t gs_rings_bytes(const struct gs_rings *r);	/* of each ring */

/*
 * Maps every ring for reading and sets up the wait for them; milliseconds for large
 * rings (page tables of twice their size). Idempotent. Returns 0 or -errno.
 */
int gs_rings_map(struct gs_rings *r);

/*
 * Waits up to @timeout_ms (0: not at all, -1: forever) for a wakeup, then delivers
 * what the rings hold, in order, at most GS_RINGS_BATCH events. Returns the number
 * delivered, or -errno (the callback's, or a wait's failure; EINTR is 0).
 */
int gs_rings_poll(struct gs_rings *r, int timeout_ms, gs_rings_fn cb, void *ctx);

#endif /* GS_TRACER_RINGS_H */

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for the per-CPU event rings (rings.h), in the running kernel: the array
 * of maps gives every possible CPU a ring, the sizes split the total, and the reader
 * merges the rings by the events' stamps, keeps a ring's own order (and lets a ring
 * whose later record has an earlier stamp go first), holds events stamped too
 * recently, and what they may precede, until a later poll, and stops where its
 * callback says. A reserved but unsubmitted record cannot be made from a test run (the
 * verifier wants every reserve released): test_trace_rings.sh runs that path.
 *
 * Records are written by a small raw tracepoint program, never attached, run with
 * BPF_PROG_TEST_RUN (syscall programs, which would be the natural kind, must be
 * sleepable, and sleepable programs may not use an array of maps): it looks up the
 * ring of a given slot in the array of maps, as the generated programs do for their
 * CPU, and outputs a 40-byte event header given in its context, so each test picks
 * the ring and the stamp of every record.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <bpf/bpf.h>

#include "tests/unit/test.h"
#include "tracer/event.h"
#include "tracer/rings.h"

extern bool test_rings__layout(void);
extern bool test_rings__order(void);

/* A raw tracepoint's context: u64 arguments, the only width it may be read at. */
struct writer_ctx {
	uint64_t slot;
	struct gs_event_hdr ev;
};

#define INSN(c, d, s, o, i) \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

/* The writer program for the array of maps @outer_fd, or -errno. */
static int writer_load(int outer_fd)
{
	struct bpf_insn p[40];
	int n = 0, jmp;

	p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_1, 0, 0);
	p[n++] = INSN(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_1, BPF_REG_6, 0, 0);
	p[n++] = INSN(BPF_STX | BPF_MEM | BPF_W, BPF_REG_10, BPF_REG_1, -4, 0);
	for (int i = 0; i < 5; i++) {	/* the header to the stack: helpers take no ctx memory */
		p[n++] = INSN(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_1, BPF_REG_6, 8 + 8 * i, 0);
		p[n++] = INSN(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_10, BPF_REG_1, -48 + 8 * i, 0);
	}
	p[n++] = INSN(BPF_LD | BPF_IMM | BPF_DW, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, outer_fd);
	p[n++] = INSN(0, 0, 0, 0, 0);
	p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0);
	p[n++] = INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -4);
	p[n++] = INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem);
	jmp = n;
	p[n++] = INSN(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 0, 0);
	p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_0, 0, 0);
	p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0);
	p[n++] = INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -48);
	p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, sizeof(struct gs_event_hdr));
	p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_4, 0, 0, 0);
	p[n++] = INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_ringbuf_output);
	p[jmp].off = n - jmp - 1;
	p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
	p[n++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	return bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, "gs_test_ring", "GPL", p, n, NULL);
}

/* Writes one event (trace id @id, stamp @ts) into the ring of slot @slot. */
static bool writer_put(int prog_fd, uint32_t slot, uint32_t id, uint64_t ts)
{
	struct writer_ctx c = { .slot = slot };
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = &c, .ctx_size_in = sizeof(c));

	c.ev.trace_id = id;
	c.ev.len = sizeof(c.ev);
	c.ev.ts_ns = ts;
	return !bpf_prog_test_run_opts(prog_fd, &o) && !o.retval;
}

struct seen {
	uint32_t ids[64];
	int n;
	int stop_at;		/* return -ECANCELED at this many (0: never) */
};

static int collect(void *ctx, const void *data, size_t size)
{
	struct seen *s = ctx;
	const struct gs_event_hdr *ev = data;

	if (size != sizeof(*ev) || s->n >= 64)
		return -EINVAL;
	s->ids[s->n++] = ev->trace_id;
	return s->stop_at && s->n == s->stop_at ? -ECANCELED : 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static bool have_bpf(void)
{
	if (geteuid() == 0)
		return true;
	fprintf(stderr, "    skipped: needs root for BPF maps\n");
	return false;
}

bool test_rings__layout(void)
{
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	size_t want = online > GS_RINGS_MAX ? GS_RINGS_MAX : (size_t)online;
	uint32_t ring_ids[GS_RINGS_MAX] = { 0 }, id, key;
	size_t page = sysconf(_SC_PAGESIZE), bytes;
	struct gs_rings *r;
	size_t used = 0;
	bool ok = false;

	if (!have_bpf())
		return true;
	ASSERT_EQ(gs_rings_new(3000, &r), -EINVAL);
	ASSERT_EQ(gs_rings_new(12288, &r), -EINVAL);
	ASSERT_EQ(gs_rings_new(64 << 10, &r), 0);
	ASSERT_GOTO(gs_rings_count(r) == want, out);
	/* the largest power of two that fits n times in the total, a page at least */
	for (bytes = 64u << 10; bytes < page; bytes *= 2)
		;
	while (bytes / 2 >= page && bytes * want > (64u << 10))
		bytes /= 2;
	ASSERT_GOTO(gs_rings_bytes(r) == bytes, out);
	/* every slot holds a ring; the first `want` slots (CPUs 0.. when all are online) differ */
	for (key = 0; bpf_map_lookup_elem(gs_rings_outer_fd(r), &key, &id) == 0; key++) {
		size_t i;

		ASSERT_GOTO(id != 0, out);
		for (i = 0; i < used && ring_ids[i] != id; i++)
			;
		if (i == used) {
			ASSERT_GOTO(used < want, out);
			ring_ids[used++] = id;
		}
	}
	ASSERT_GOTO(key >= want, out);
	ASSERT_GOTO(used == want, out);
	ok = true;
out:
	gs_rings_free(r);
	return ok;
}

bool test_rings__order(void)
{
	struct seen s = { 0 };
	struct gs_rings *r;
	int prog = -1;
	uint64_t now;
	bool ok = false;

	if (!have_bpf())
		return true;
	ASSERT_EQ(gs_rings_new(16 << 10, &r), 0);
	if (gs_rings_count(r) < 2) {
		fprintf(stderr, "    skipped: one online CPU, one ring\n");
		gs_rings_free(r);
		return true;
	}
	prog = writer_load(gs_rings_outer_fd(r));
	ASSERT_GOTO(prog >= 0, out);
	ASSERT_GOTO(gs_rings_map(r) == 0, out);
	ASSERT_GOTO(gs_rings_poll(r, 0, collect, &s) == 0, out);

	/*
	 * Ring 0 holds 100, 300; ring 1 holds 200, 400: merged by stamp, 1 3 2 4.
	 */
	ASSERT_GOTO(writer_put(prog, 0, 1, 100) && writer_put(prog, 0, 2, 300), out);
	ASSERT_GOTO(writer_put(prog, 1, 3, 200) && writer_put(prog, 1, 4, 400), out);
	ASSERT_GOTO(gs_rings_poll(r, 0, collect, &s) == 4, out);
	ASSERT_GOTO(s.ids[0] == 1 && s.ids[1] == 3 && s.ids[2] == 2 && s.ids[3] == 4, out);

	/*
	 * Ring 0 holds 300, then 100 (a program preempted between its reserve and its stamp
	 * leaves them so); ring 1 holds 200, 400. The thread that stamped 100 may have
	 * stamped 200 after it, so ring 0 goes first, in its own order: 300 100 200 400.
	 */
	s.n = 0;
	ASSERT_GOTO(writer_put(prog, 0, 1, 300) && writer_put(prog, 0, 2, 100), out);
	ASSERT_GOTO(writer_put(prog, 1, 3, 200) && writer_put(prog, 1, 4, 400), out);
	ASSERT_GOTO(gs_rings_poll(r, 0, collect, &s) == 4, out);
	ASSERT_GOTO(s.ids[0] == 1 && s.ids[1] == 2 && s.ids[2] == 3 && s.ids[3] == 4, out);

	/* An event stamped 300 ms from now waits; the other ring's older event goes now. */
	s.n = 0;
	now = mono_ns();
	ASSERT_GOTO(writer_put(prog, 0, 5, now + 300000000), out);
	ASSERT_GOTO(writer_put(prog, 1, 6, now - 1000000), out);
	ASSERT_GOTO(gs_rings_poll(r, 0, collect, &s) == 1 && s.ids[0] == 6, out);
	/*
	 * Behind it, an event stamped 500: it may precede the other ring's newer event in
	 * that one's thread, so both wait until the late one can go; then 5 7 8 in order.
	 */
	ASSERT_GOTO(writer_put(prog, 0, 7, 500) && writer_put(prog, 1, 8, now), out);
	ASSERT_GOTO(gs_rings_poll(r, 0, collect, &s) == 0, out);
	usleep(350000);
	ASSERT_GOTO(gs_rings_poll(r, 0, collect, &s) == 3, out);
	ASSERT_GOTO(s.ids[1] == 5 && s.ids[2] == 7 && s.ids[3] == 8, out);

	/* a callback's error stops the poll; the event it saw is consumed */
	s.n = 0;
	s.stop_at = 2;
	ASSERT_GOTO(writer_put(prog, 0, 8, 10) && writer_put(prog, 1, 9, 20), out);
	ASSERT_GOTO(writer_put(prog, 0, 10, 30), out);
	ASSERT_GOTO(gs_rings_poll(r, 0, collect, &s) == -ECANCELED && s.n == 2, out);
	s.stop_at = 0;
	ASSERT_GOTO(gs_rings_poll(r, 0, collect, &s) == 1 && s.n == 3, out);
	ASSERT_GOTO(s.ids[0] == 8 && s.ids[1] == 9 && s.ids[2] == 10, out);
	ok = true;
out:
	if (prog >= 0)
		close(prog);
	gs_rings_free(r);
	return ok;
}

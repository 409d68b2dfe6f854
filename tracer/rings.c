// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Per-CPU event rings and their ordered reader (rings.h).
 *
 * Each ring is read through our own mappings rather than libbpf's ring_buffer, which
 * delivers one ring's records at a time and cannot look at every ring before choosing.
 * The layout is the kernel's (kernel/bpf/ringbuf.c): a consumer page we write, then a
 * producer page and the data pages mapped twice in a row, so a record that wraps is
 * contiguous; each record starts with an 8-byte header whose first word is its length
 * with a busy bit (reserved, not yet submitted) and a discard bit.
 *
 * A pass (drain) reads the clock, then every producer position, then scans each ring's
 * submitted records into a list: stamp, size, and the least stamp from there to the
 * ring's visible end (smin). The cutoff C starts at the clock minus GS_RINGS_SKEW_NS
 * and only comes down:
 *  - to below a busy record's bound: what follows it was reserved after it, and it was
 *    reserved after the last pass whose producer position did not include it (that
 *    pass's clock, kept in a short history per ring; 0 when unknown, which holds
 *    everything until the record is submitted, as one shared ring would);
 *  - to a ring's smin at its first record stamped at or after C: a stamp can be
 *    smaller than the one before it in the same ring (a program preempted between its
 *    reserve and its stamp), and such a record waits behind that one.
 * The records before each ring's first one stamped at or after C go out, the ring with
 * the least smin first. A thread's earlier event is either delivered before, or holds C
 * below, its later ones: it is in this pass's lists (then its ring's smin is at most its
 * stamp, and the later event's ring's smin is more: what follows the later event was
 * reserved after it), or behind a busy or late record (then C is below it), or was
 * submitted after the pass read its ring (then the later event is stamped after the
 * clock, above C).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tracer/codegen.h"
#include "tracer/event.h"
#include "tracer/rings.h"

enum { HISTORY = 4 };	/* passes whose (producer position, clock) a ring remembers */

/* One submitted record found by a pass. */
struct rec {
	uint64_t ts, smin;	/* its stamp; the least stamp from it to the list's end */
	uint32_t skip;		/* bytes of discarded records just before it */
	uint32_t size;		/* bytes it takes in the ring, header and padding included */
};

struct ring {
	int fd;
	void *cons_page;	/* the consumer position, ours to write */
	void *prod_map;		/* the producer position's page, then the data twice */
	uint64_t cons;		/* our copy of the consumer position */
	uint64_t published;	/* the consumer position as the kernel last saw it */
	uint64_t prod;		/* read at the start of this pass */
	struct {		/* earlier passes, newest first: position and the clock before it */
		uint64_t prod, clock;
	} hist[HISTORY];
	struct rec *recs;	/* this pass's list */
	size_t nrecs, cap, next, lim;	/* list length, room, next to deliver, end of this pass */
	uint32_t tail_skip;	/* discarded bytes after the last listed record */
	/*
	 * When the list ends at a record not yet submitted: what follows that record is
	 * stamped after this; UINT64_MAX when it ends at the producer position.
	 */
	uint64_t busy_bound;
};

struct gs_rings {
	int outer_fd;
	int epfd;
	size_t n;
	uint32_t bytes;
	size_t page;
	int64_t timens_ns;	/* our CLOCK_MONOTONIC minus the kernel's (a time namespace) */
	bool more;		/* the last poll stopped at a full batch */
	struct ring *r;
};

static int sys_bpf(int cmd, union bpf_attr *a)
{
	int fd = syscall(__NR_bpf, cmd, a, sizeof(*a));

	return fd < 0 ? -errno : fd;
}

static int ring_create(uint32_t bytes)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_RINGBUF;
	a.max_entries = bytes;
	snprintf(a.map_name, sizeof(a.map_name), "gs_ring");
	return sys_bpf(BPF_MAP_CREATE, &a);
}

static int outer_create(uint32_t slots, int inner_fd)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY_OF_MAPS;
	a.key_size = 4;
	a.value_size = 4;
	a.max_entries = slots;
	a.inner_map_fd = inner_fd;
	snprintf(a.map_name, sizeof(a.map_name), "%s", GS_CODEGEN_MAP_EVENTS);
	return sys_bpf(BPF_MAP_CREATE, &a);
}

/*
 * Fills the array of maps: slot i gets the fd vals[i]. One batch where the kernel has
 * them (5.6), so a machine with many CPUs makes one syscall, not one per CPU.
 */
static int outer_fill(int outer_fd, uint32_t *keys, const uint32_t *vals, uint32_t n)
{
	uint32_t cnt = n;
	union bpf_attr a;

	if (!bpf_map_update_batch(outer_fd, keys, vals, &cnt, NULL) && cnt == n)
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		memset(&a, 0, sizeof(a));
		a.map_fd = outer_fd;
		a.key = (uintptr_t)&keys[i];
		a.value = (uintptr_t)&vals[i];
		a.flags = BPF_ANY;
		if (sys_bpf(BPF_MAP_UPDATE_ELEM, &a) < 0)
			return -errno;
	}
	return 0;
}

/*
 * Which CPUs are online ("0-3,6,8-9" in sysfs), as a flag per possible CPU; all of
 * them when the file cannot be read.
 */
static void cpus_online(bool *on, size_t ncpus)
{
	char buf[4096];
	const char *p = buf;
	FILE *f = fopen("/sys/devices/system/cpu/online", "re");
	size_t len = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[len] = '\0';
	memset(on, !len, ncpus);
	while (*p >= '0' && *p <= '9') {
		char *end;
		unsigned long lo = strtoul(p, &end, 10), hi = lo;

		if (*end == '-')
			hi = strtoul(end + 1, &end, 10);
		for (unsigned long c = lo; c <= hi && c < ncpus; c++)
			on[c] = true;
		p = *end == ',' ? end + 1 : end;
	}
}

/*
 * The monotonic offset of our time namespace, which bpf_ktime_get_ns() does not see
 * (0 outside one, or when the kernel has no time namespaces).
 */
static int64_t timens_offset(void)
{
	char line[128];
	long long sec, nsec;
	int64_t off = 0;
	FILE *f = fopen("/proc/self/timens_offsets", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "monotonic %lld %lld", &sec, &nsec) == 2)
			off = (int64_t)sec * 1000000000 + nsec;
	fclose(f);
	return off;
}

int gs_rings_new(uint32_t total_bytes, struct gs_rings **ret)
{
	int possible = libbpf_num_possible_cpus();
	struct gs_rings *r;
	size_t online = 0, k = 0;
	uint32_t *slots = NULL;
	bool *on;
	int err;

	*ret = NULL;
	if (total_bytes < 4096 || (total_bytes & (total_bytes - 1)))
		return -EINVAL;
	if (possible <= 0)
		return possible ? possible : -EINVAL;
	on = calloc(possible, sizeof(*on));
	r = calloc(1, sizeof(*r));
	if (!on || !r) {
		free(on);
		free(r);
		return -ENOMEM;
	}
	r->outer_fd = r->epfd = -1;
	r->page = sysconf(_SC_PAGESIZE);
	r->timens_ns = timens_offset();
	cpus_online(on, possible);
	for (int c = 0; c < possible; c++)
		online += on[c];
	r->n = online ? online : 1;
	if (r->n > GS_RINGS_MAX)
		r->n = GS_RINGS_MAX;
	/* a ring is a power of two of at least a page */
	r->bytes = total_bytes > r->page ? total_bytes : r->page;
	while (r->bytes / 2 >= r->page && (uint64_t)r->bytes * r->n > total_bytes)
		r->bytes /= 2;
	r->r = calloc(r->n, sizeof(*r->r));
	if (!r->r) {
		err = -ENOMEM;
		goto err_free;
	}
	for (size_t i = 0; i < r->n; i++)
		r->r[i].fd = -1;
	for (size_t i = 0; i < r->n; i++) {
		r->r[i].fd = ring_create(r->bytes);
		if (r->r[i].fd < 0) {
			err = r->r[i].fd;
			goto err_free;
		}
	}
	r->outer_fd = outer_create(possible, r->r[0].fd);
	if (r->outer_fd < 0) {
		err = r->outer_fd;
		goto err_free;
	}
	/* The k-th online CPU writes ring k % n, so that no two share one below n CPUs. */
	slots = calloc(2 * (size_t)possible, sizeof(*slots));
	if (!slots) {
		err = -ENOMEM;
		goto err_free;
	}
	for (int c = 0; c < possible; c++) {
		slots[c] = c;
		slots[possible + c] = r->r[on[c] ? k++ % r->n : c % r->n].fd;
	}
	err = outer_fill(r->outer_fd, slots, slots + possible, possible);
	if (err)
		goto err_free;
	free(slots);
	free(on);
	*ret = r;
	return 0;
err_free:
	free(slots);
	free(on);
	gs_rings_free(r);
	return err;
}

void gs_rings_free(struct gs_rings *r)
{
	if (!r)
		return;
	for (size_t i = 0; r->r && i < r->n; i++) {
		if (r->r[i].cons_page)
			munmap(r->r[i].cons_page, r->page);
		if (r->r[i].prod_map)
			munmap(r->r[i].prod_map, r->page + 2 * (size_t)r->bytes);
		if (r->r[i].fd >= 0)
			close(r->r[i].fd);
		free(r->r[i].recs);
	}
	if (r->epfd >= 0)
		close(r->epfd);
	if (r->outer_fd >= 0)
		close(r->outer_fd);
	free(r->r);
	free(r);
}

int gs_rings_outer_fd(const struct gs_rings *r)
{
	return r->outer_fd;
}

size_t gs_rings_count(const struct gs_rings *r)
{
	return r->n;
}

uint32_t gs_rings_bytes(const struct gs_rings *r)
{
	return r->bytes;
}

int gs_rings_map(struct gs_rings *r)
{
	/*
	 * Edge-triggered: a wait ends at a program's wakeup only, not because events are
	 * left in a ring (the newest wait for a later pass; level-triggered, every wait
	 * would end at once and the reader would spin while events keep coming).
	 */
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	int err;

	if (r->epfd >= 0)
		return 0;
	for (size_t i = 0; i < r->n; i++) {
		struct ring *g = &r->r[i];
		void *p;

		if (g->prod_map)	/* mapped by an earlier, failed call */
			continue;
		p = mmap(NULL, r->page, PROT_READ | PROT_WRITE, MAP_SHARED, g->fd, 0);
		if (p == MAP_FAILED)
			return -errno;
		g->cons_page = p;
		p = mmap(NULL, r->page + 2 * (size_t)r->bytes, PROT_READ, MAP_SHARED, g->fd,
			 r->page);
		if (p == MAP_FAILED) {
			err = -errno;
			munmap(g->cons_page, r->page);
			g->cons_page = NULL;
			return err;
		}
		g->prod_map = p;
		g->cons = g->published = __atomic_load_n((uint64_t *)g->cons_page,
							 __ATOMIC_ACQUIRE);
	}
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (r->epfd < 0)
		return -errno;
	for (size_t i = 0; i < r->n; i++) {
		if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->r[i].fd, &ev)) {
			err = -errno;
			close(r->epfd);
			r->epfd = -1;
			return err;
		}
	}
	return 0;
}

/* The clock bpf_ktime_get_ns() reads. */
static uint64_t now_ns(const struct gs_rings *r)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec - r->timens_ns;
}

static uint64_t less_skew(uint64_t t)
{
	return t > GS_RINGS_SKEW_NS ? t - GS_RINGS_SKEW_NS : 0;
}

/* Lists @g's submitted records from its consumer position to this pass's producer's. */
static int ring_scan(const struct gs_rings *r, struct ring *g)
{
	const uint8_t *data = (const uint8_t *)g->prod_map + r->page;
	uint64_t pos = g->cons;
	uint32_t skip = 0;

	g->nrecs = g->next = 0;
	g->busy_bound = UINT64_MAX;
	while (pos < g->prod) {
		const uint8_t *rec = data + (pos & (r->bytes - 1));
		uint32_t len = __atomic_load_n((const uint32_t *)rec, __ATOMIC_ACQUIRE);
		uint32_t size = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
		struct rec *e;

		if (len & BPF_RINGBUF_BUSY_BIT) {
			/* the newest remembered pass whose position did not include it */
			g->busy_bound = 0;
			for (size_t h = 0; h < HISTORY; h++)
				if (g->hist[h].prod <= pos && g->hist[h].clock) {
					g->busy_bound = g->hist[h].clock;
					break;
				}
			break;
		}
		size = (size + BPF_RINGBUF_HDR_SZ + 7) & ~7u;
		pos += size;
		if (len & BPF_RINGBUF_DISCARD_BIT) {
			skip += size;
			continue;
		}
		if (g->nrecs == g->cap) {
			size_t cap = g->cap ? 2 * g->cap : 256;
			void *p = realloc(g->recs, cap * sizeof(*g->recs));

			if (!p)
				return -ENOMEM;
			g->recs = p;
			g->cap = cap;
		}
		e = &g->recs[g->nrecs++];
		e->ts = 0;	/* a record too short to be an event goes at once: the caller skips it */
		if (size - BPF_RINGBUF_HDR_SZ >= sizeof(struct gs_event_hdr))
			memcpy(&e->ts, rec + BPF_RINGBUF_HDR_SZ + offsetof(struct gs_event_hdr, ts_ns),
			       sizeof(e->ts));
		e->skip = skip;
		e->size = size;
		skip = 0;
	}
	g->tail_skip = skip;
	for (size_t i = g->nrecs; i-- > 0;) {
		uint64_t after = i + 1 < g->nrecs ? g->recs[i + 1].smin : UINT64_MAX;

		g->recs[i].smin = g->recs[i].ts < after ? g->recs[i].ts : after;
	}
	return 0;
}

/* Sets each ring's end for this pass (lim) under the cutoff @c, lowered as needed. */
static void pass_limits(struct gs_rings *r, uint64_t c)
{
	bool lowered;

	for (size_t i = 0; i < r->n; i++)
		if (less_skew(r->r[i].busy_bound) < c)
			c = less_skew(r->r[i].busy_bound);
	do {
		lowered = false;
		for (size_t i = 0; i < r->n; i++) {
			struct ring *g = &r->r[i];

			for (g->lim = 0; g->lim < g->nrecs && g->recs[g->lim].ts < c; g->lim++)
				;
			if (g->lim < g->nrecs && g->recs[g->lim].smin < c) {
				c = g->recs[g->lim].smin;
				lowered = true;
			}
		}
	} while (lowered);
}

/* Stores the positions that moved: every reserve reads that cache line. */
static void publish(struct gs_rings *r)
{
	for (size_t i = 0; i < r->n; i++) {
		struct ring *g = &r->r[i];

		if (g->published == g->cons)
			continue;
		__atomic_store_n((uint64_t *)g->cons_page, g->cons, __ATOMIC_RELEASE);
		g->published = g->cons;
	}
}

/*
 * One pass: delivers up to @room events. *@held_ret says whether events stamped before
 * @since were left for a later pass (stamped too recently, or behind such a record or
 * a busy one: a pass a few microseconds later usually delivers them).
 */
static int drain_pass(struct gs_rings *r, int room, uint64_t since, gs_rings_fn cb, void *ctx,
		      bool *held_ret)
{
	uint64_t clock = now_ns(r);
	const uint8_t *data;
	int n = 0, err;

	/* the clock first: see the top of this file for why the order matters */
	for (size_t i = 0; i < r->n; i++)
		r->r[i].prod = __atomic_load_n((uint64_t *)r->r[i].prod_map, __ATOMIC_ACQUIRE);
	for (size_t i = 0; i < r->n; i++) {
		struct ring *g = &r->r[i];

		err = ring_scan(r, g);
		if (err)
			return err;
		/* an unchanged position gets the later clock: a tighter bound for what follows */
		if (g->hist[0].prod != g->prod)
			memmove(&g->hist[1], &g->hist[0], sizeof(g->hist[0]) * (HISTORY - 1));
		g->hist[0].prod = g->prod;
		g->hist[0].clock = clock;
	}
	pass_limits(r, less_skew(clock));
	*held_ret = false;
	for (size_t i = 0; i < r->n; i++)
		*held_ret |= r->r[i].lim < r->r[i].nrecs && r->r[i].recs[r->r[i].lim].smin < since;
	while (n < room) {
		struct ring *best = NULL;
		struct rec *e;

		for (size_t i = 0; i < r->n; i++) {
			struct ring *g = &r->r[i];

			if (g->next < g->lim && (!best || g->recs[g->next].smin < best->recs[best->next].smin))
				best = g;
		}
		if (!best)
			break;
		e = &best->recs[best->next++];
		best->cons += e->skip;
		data = (const uint8_t *)best->prod_map + r->page + (best->cons & (r->bytes - 1));
		best->cons += e->size;
		n++;
		err = cb(ctx, data + BPF_RINGBUF_HDR_SZ,
			 *(const uint32_t *)data & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT));
		if (err < 0) {
			publish(r);
			return err;
		}
		/* the producers see the room before the pass ends */
		if (!(n & 255))
			publish(r);
	}
	/* a ring delivered to its list's end passes the discarded records after it */
	for (size_t i = 0; i < r->n; i++)
		if (r->r[i].next == r->r[i].nrecs)
			r->r[i].cons += r->r[i].tail_skip;
	publish(r);
	return n;
}

/*
 * Passes until the events stamped before the drain began are delivered (those stamped
 * later wait for the next wakeup or poll timeout: chasing them would keep the reader
 * spinning while events keep coming), or the batch is full, or what is left has not
 * moved for a millisecond past the slack (a program preempted before its submit: the
 * events go in a later call, and none overtakes them).
 */
static int drain(struct gs_rings *r, gs_rings_fn cb, void *ctx)
{
	uint64_t since = now_ns(r), moved = since;
	int total = 0;

	r->more = false;
	for (;;) {
		bool held;
		int n = drain_pass(r, GS_RINGS_BATCH - total, since, cb, ctx, &held);

		if (n < 0)
			return n;
		total += n;
		if (total >= GS_RINGS_BATCH) {
			r->more = true;
			return total;
		}
		if (!held)
			return total;
		if (n)
			moved = now_ns(r);
		else if (now_ns(r) - moved > 1000000 + GS_RINGS_SKEW_NS)
			return total;
	}
}

int gs_rings_poll(struct gs_rings *r, int timeout_ms, gs_rings_fn cb, void *ctx)
{
	struct epoll_event evs[8];
	int err;

	if (r->epfd < 0) {
		err = gs_rings_map(r);
		if (err)
			return err;
	}
	/*
	 * Submits mostly skip the wakeup (codegen.c): whatever is there is read anyway,
	 * and at once after a full batch.
	 */
	if (timeout_ms && !r->more && epoll_wait(r->epfd, evs, 8, timeout_ms) < 0 &&
	    errno != EINTR)
		return -errno;
	return drain(r, cb, ctx);
}

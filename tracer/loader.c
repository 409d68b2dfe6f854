// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Loads generated BPF objects, attaches uprobes, polls the event rings (rings.h).
 *
 * Loading: objects go through our own minimal ELF loader (bpfobj.c: create the maps
 * the object declares, relocate, one BPF_PROG_LOAD per program), which skips
 * libbpf's object parsing and kernel feature probes; an object it does not
 * understand falls back to libbpf 1.1's bpf_object path. Either way the object's
 * GS_CODEGEN_MAP_EVENTS is the rings' array of maps, made by us (an array of maps
 * needs its inner map at creation). The rings, the slowest maps to create (the
 * kernel allocates all their pages), can be created ahead, on a thread started by
 * gs_loader_warm_up() while the caller parses and plans.
 *
 * uprobe_multi (kernel 6.6, attach type 48) is newer than libbpf 1.1 and Debian 12's
 * uapi headers, so the link is created with a raw bpf(BPF_LINK_CREATE) using our own
 * copy of the attr layout (checked against the kernel's union bpf_attr, link_create:
 * prog_fd@0 target_fd@4 attach_type@8 flags@12, then uprobe_multi path@16
 * offsets@24 ref_ctr_offsets@32 cookies@40 cnt@48 flags@52 pid@56). Programs must be
 * loaded with that expected attach type, so the choice is made at open time. Single
 * uprobes are perf events of the "uprobe" PMU with a BPF_PERF_EVENT link.
 *
 * Why multi: detaching a perf-event uprobe costs ~125 ms here (serialised), so 200 of
 * them take 25 s to remove; one multi link per (program, file, pid) detaches in
 * ~20-40 ms whatever the count. Each link's removal waits for RCU grace periods in
 * the kernel, so gs_loader_detach() closes links on several threads at once: the
 * waits overlap instead of adding up.
 *
 * Objects that read the thread pointer (GS_IR_SP_TP) get the offset of
 * task_struct.thread.fsbase in gs_cfg at load time, from the running kernel's BTF
 * (kbtf.h, as the other kernel offsets), so the compiled object does not depend on
 * the kernel it was compiled under.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tracer/codegen.h"
#include "tracer/kbtf.h"
#include "tracer/kcache.h"
#include "tracer/loader.h"
#include "tracer/loader_internal.h"
#include "tracer/rings.h"

enum {
	GS_BPF_TRACE_UPROBE_MULTI = 48,
	GS_BPF_F_UPROBE_MULTI_RETURN = 1,	/* link_create.uprobe_multi.flags */
	GS_DETACH_THREADS = 16,			/* links closed at once by gs_loader_detach */
	GS_THREAD_STACK = 64 << 10,		/* our threads only make syscalls */
};

/* link_create for uprobe_multi, as the kernel lays it out (see the top comment). */
struct gs_link_create_umulti {
	uint32_t prog_fd;
	uint32_t target_fd;
	uint32_t attach_type;
	uint32_t flags;
	uint64_t path;
	uint64_t offsets;
	uint64_t ref_ctr_offsets;
	uint64_t cookies;
	uint32_t cnt;
	uint32_t umulti_flags;
	uint32_t pid;
	uint32_t pad;
};
_Static_assert(sizeof(struct gs_link_create_umulti) == 64, "link_create layout");

/* One attachment: a link fd, plus the perf event fd of a single uprobe (else -1). */
struct gs_link {
	int fd, pfd;
};

struct gs_loader {
	struct gs_bpfobj *fobj;		/* our loader, or */
	struct bpf_object *obj;		/* libbpf's (fallback) */
	int *prog_fds;			/* borrowed from the object */
	size_t nprogs;
	bool multi;
	struct gs_link *links;
	size_t nlinks, cap_links;
	int lost_fd, vaddr_fd;
	int uw_ranges_fd, uw_rows_fd, uw_ents_fd;	/* -1 without a backtrace */
	uint32_t uw_rows_cap, uw_ents_cap;
	uint32_t lost_entries;
	struct gs_rings *rings;
	bool warm_rings;		/* the warm-up thread may still be mapping them */
	int ncpus;
};

/*
 * Starts a joinable thread with a small stack: the default 8 MiB mapping costs more
 * to set up and tear down than the few syscalls our threads make.
 */
int gs_loader_thread_start(pthread_t *th, void *(*fn)(void *), void *arg)
{
	pthread_attr_t at;
	int ret;

	if (pthread_attr_init(&at))
		return -ENOMEM;
	pthread_attr_setstacksize(&at, GS_THREAD_STACK);
	ret = -pthread_create(th, &at, fn, arg);
	pthread_attr_destroy(&at);
	return ret;
}

/* ---- libbpf print capture ------------------------------------------------------- */

static struct {
	char *buf;
	size_t len, cap;
	bool verbose;
} capture;

static int capture_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	if (level == LIBBPF_DEBUG)
		return 0;
	/* One message may be a whole verifier log: size it first. */
	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n <= 0)
		return 0;
	if (capture.len + n + 1 > capture.cap) {
		size_t cap = (capture.len + n + 1) * 2;
		char *p = realloc(capture.buf, cap);

		if (!p)
			return 0;
		capture.buf = p;
		capture.cap = cap;
	}
	vsnprintf(capture.buf + capture.len, n + 1, fmt, ap);
	if (capture.verbose)
		fputs(capture.buf + capture.len, stderr);
	capture.len += n;
	return n;
}

/* The verifier's last lines, joined by " | ", from libbpf's "PROG LOAD LOG" block. */
static void verifier_tail(const char *log, char *out, size_t outlen)
{
	const char *beg = strstr(log, "-- BEGIN PROG LOAD LOG --");
	const char *end = beg ? strstr(beg, "-- END PROG LOAD LOG --") : NULL;

	out[0] = '\0';
	if (!beg || !end)
		return;
	beg = strchr(beg, '\n');
	if (beg && beg < end)
		gs_bpfobj_verifier_tail(beg, end, out, outlen);
}

/* "prog 'gs_pN': ..." in libbpf's failure message names the program. */
static int failed_prog(const char *log)
{
	const char *p = strstr(log, "prog '" "gs_p");
	int n;

	if (p && sscanf(p + 10, "%d", &n) == 1)
		return n;
	return -1;
}

/* The trace id, and in the high half the body of a merged program (gs_codegen_merge). */
static uint64_t attach_cookie(const struct gs_attach_point *pt)
{
	return pt->trace_id | (uint64_t)pt->variant << 32;
}

/* ---- uprobe_multi support ------------------------------------------------------------ */

static int sys_link_create(struct gs_link_create_umulti *attr)
{
	return syscall(__NR_bpf, BPF_LINK_CREATE, attr, sizeof(*attr));
}

/* 1: supported, 0: not, -1: unknown (the probe itself failed: no privilege, no memory). */
static int probe_multi(void)
{
	/* r0 = 0; exit */
	struct bpf_insn insns[2] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, po,
		    .expected_attach_type = (enum bpf_attach_type)GS_BPF_TRACE_UPROBE_MULTI);
	struct gs_link_create_umulti attr = { 0 };
	uint64_t off = 0;
	int fd, link, err;

	fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, NULL, "GPL", insns, 2, &po);
	if (fd < 0)
		return errno == EINVAL ? 0 : -1;	/* EINVAL: no such attach type */
	attr.prog_fd = fd;
	attr.target_fd = 0;
	attr.attach_type = GS_BPF_TRACE_UPROBE_MULTI;
	attr.path = (uintptr_t)"/";
	attr.offsets = (uintptr_t)&off;
	attr.cnt = 1;
	/* A kernel with uprobe_multi fails to open "/" as a binary: -EBADF. */
	link = sys_link_create(&attr);
	err = errno;
	close(fd);
	if (link >= 0) {
		close(link);
		return 1;
	}
	return err == EBADF ? 1 : err == EINVAL ? 0 : -1;
}

static struct {
	pthread_once_t once;
	bool yes;
} has_multi = { .once = PTHREAD_ONCE_INIT };

/*
 * The answer is a fact of the kernel build: kept in the kernel-facts cache, so that
 * only the first run on a kernel pays for the probe's two loads (0.3-0.5 ms here).
 */
static void has_multi_probe(void)
{
	uint8_t yes;
	int ret;

	if (gs_kcache_get("uprobe_multi", &yes, 1) == 0 && yes <= 1) {
		has_multi.yes = yes;
		return;
	}
	ret = probe_multi();
	has_multi.yes = ret > 0;
	yes = has_multi.yes;
	if (ret >= 0)	/* only a definite answer outlives this run */
		gs_kcache_put("uprobe_multi", &yes, 1);
}

bool gs_loader_has_uprobe_multi(void)
{
	pthread_once(&has_multi.once, has_multi_probe);
	return has_multi.yes;
}

/* ---- kernel facts ------------------------------------------------------------------------ */

int gs_loader_fsbase_offset(uint32_t *off_ret, char *err, size_t errlen)
{
	static const struct gs_kbtf_field f = { "task_struct.thread.fsbase", 8, false };
	uint32_t off;
	int ret = gs_kbtf_offsets("fsbase", &f, 1, &off);

	if (!ret && off >= GS_CODEGEN_FSBASE_UNSET)
		ret = -ERANGE;
	if (ret == -ENOENT || ret == -ERANGE)
		snprintf(err, errlen, "loader: no task_struct.thread.fsbase in the kernel BTF, "
			 "cannot read the thread pointer");
	else if (ret)
		snprintf(err, errlen, "loader: cannot read the kernel BTF "
			 "('/sys/kernel/btf/vmlinux') for the thread pointer: %s", strerror(-ret));
	else
		*off_ret = off;
	return ret;
}

/* ---- ring warm-up ----------------------------------------------------------------------- */

/*
 * The warm-up thread creates the rings, publishes them, then maps them for reading
 * (the data twice over: two times their size of page table entries, milliseconds).
 * gs_loader_open needs only the array of maps, to load the programs; the mapping is
 * waited for at the first poll, after the probes are armed (what they write
 * meanwhile waits in the rings).
 *
 * The mapping waits until the probes are attached (warm_go): the kernel fills those
 * page tables holding the process's mmap lock for writing, which stalls every page
 * fault of the other threads meanwhile (measured: 4-5 ms of a 17 ms start-up on
 * release python3.11, whose plan faults in much of its index; mapping it during the
 * program loads instead cost 1-2 ms there).
 */
static struct {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool started, made, joined, go, cancel;
	uint32_t bytes;
	struct gs_rings *rings;	/* NULL when they could not be made */
} warm = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static void *warm_main(void *arg)
{
	struct gs_rings *r;
	bool cancel;

	(void)arg;
	/* The rings first: they are on the critical path when planning is quick. */
	if (gs_rings_new(warm.bytes, &r))
		r = NULL;
	pthread_mutex_lock(&warm.lock);
	warm.rings = r;
	warm.made = true;
	pthread_cond_broadcast(&warm.cond);
	while (!warm.go)
		pthread_cond_wait(&warm.cond, &warm.lock);
	cancel = warm.cancel;
	pthread_mutex_unlock(&warm.lock);
	/* a failure is reported by the first poll, which maps them again */
	if (r && !cancel)
		gs_rings_map(r);
	return NULL;
}

int gs_loader_warm_up(uint32_t ring_bytes)
{
	int ret;

	if (warm.started)
		return -EALREADY;
	if (!ring_bytes)
		ring_bytes = GS_CODEGEN_DEFAULT_RING;
	if (ring_bytes < 4096 || (ring_bytes & (ring_bytes - 1)))
		return -EINVAL;
	warm.bytes = ring_bytes;
	ret = gs_loader_thread_start(&warm.thread, warm_main, NULL);
	warm.started = !ret;
	return ret;
}

/* Lets the warm-up thread map the rings: the probes are armed, or the rings are wanted now. */
static void warm_go(void)
{
	if (!warm.started)
		return;
	pthread_mutex_lock(&warm.lock);
	warm.go = true;
	pthread_cond_broadcast(&warm.cond);
	pthread_mutex_unlock(&warm.lock);
}

/* Waits for the thread to end: the rings it made are then the caller's alone. Once. */
static void warm_join(void)
{
	if (!warm.started || warm.joined)
		return;
	warm_go();
	pthread_join(warm.thread, NULL);
	warm.joined = true;
}

/*
 * Ends the thread without its mapping, for rings that will not be read: that mapping
 * costs milliseconds holding the mmap lock for nothing.
 */
static void warm_cancel(void)
{
	if (!warm.started || warm.joined)
		return;
	pthread_mutex_lock(&warm.lock);
	warm.cancel = true;
	pthread_mutex_unlock(&warm.lock);
	warm_join();
}

/*
 * The warmed-up rings when they have @bytes in all: waits only until they exist; the
 * caller then owns them and must call warm_join() before reading or freeing them.
 * Otherwise NULL, and the thread's rings are freed.
 */
static struct gs_rings *warm_take(uint32_t bytes)
{
	struct gs_rings *r;

	if (!warm.started || warm.joined)
		return NULL;
	pthread_mutex_lock(&warm.lock);
	while (!warm.made)
		pthread_cond_wait(&warm.cond, &warm.lock);
	r = warm.rings;
	warm.rings = NULL;
	pthread_mutex_unlock(&warm.lock);
	if (r && warm.bytes == bytes)
		return r;
	warm_cancel();
	gs_rings_free(r);
	return NULL;
}

/* ---- the object, either kind ------------------------------------------------------------ */

/* A map of the object being set up: ours (fm) or libbpf's (bm). */
struct lmap {
	struct gs_bpfobj_map *fm;
	struct bpf_map *bm;
};

static bool lmap_find(struct gs_loader *l, const char *name, struct lmap *m)
{
	m->fm = l->fobj ? gs_bpfobj_map(l->fobj, name) : NULL;
	m->bm = l->obj ? bpf_object__find_map_by_name(l->obj, name) : NULL;
	return m->fm || m->bm;
}

static int lmap_set_max(struct lmap *m, uint32_t n)
{
	if (m->fm) {
		m->fm->max_entries = n;
		return 0;
	}
	return bpf_map__set_max_entries(m->bm, n);
}

static uint32_t lmap_max(const struct lmap *m)
{
	return m->fm ? m->fm->max_entries : bpf_map__max_entries(m->bm);
}

/* A data section map's initial value (NULL for other maps). */
static const void *lmap_value(struct lmap *m, size_t *len_ret)
{
	if (m->fm) {
		*len_ret = m->fm->value_size;
		return m->fm->data;
	}
	return bpf_map__initial_value(m->bm, len_ret);
}

static int loader_map_fd(struct gs_loader *l, const char *name)
{
	struct gs_bpfobj_map *fm;

	if (l->fobj) {
		fm = gs_bpfobj_map(l->fobj, name);
		return fm ? fm->fd : -1;
	}
	return bpf_object__find_map_fd_by_name(l->obj, name);
}

/* ---- stale saves ------------------------------------------------------------------------ */

enum { SWEEP_BATCH = 256 };	/* saves read per bpf(MAP_LOOKUP_BATCH) */

int gs_loader_sweep_saves(struct gs_loader *l, bool (*alive)(uint32_t tid, void *ctx),
			  void *ctx, size_t *seen_ret)
{
	/* gs_save's key: host tid | save key << 32, then the call's CFA (codegen_expr.c) */
	struct save_key {
		uint64_t tid_key;
		uint64_t cfa;
	} keys[SWEEP_BATCH];
	uint64_t in[2], out[2];		/* the batch position (a bucket index for hashes) */
	struct bpf_map_info info;
	uint32_t info_len = sizeof(info), count;
	int fd = loader_map_fd(l, GS_CODEGEN_MAP_SAVE), removed = 0, ret = 0;
	bool first = true;
	void *vals;

	*seen_ret = 0;
	if (fd < 0)
		return 0;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &info_len))
		return -errno;
	if (info.key_size != sizeof(keys[0]) || !info.value_size)
		return -EINVAL;
	vals = malloc((size_t)info.value_size * SWEEP_BATCH);
	if (!vals)
		return -ENOMEM;
	/*
	 * Batches walk the hash bucket by bucket: inserts and deletes by the programs
	 * meanwhile do not restart the walk, as GET_NEXT_KEY would after its key went.
	 * A key is deleted only if its thread is still gone just before: a thread id
	 * reused since is a live thread, whose save must stay.
	 */
	do {
		count = SWEEP_BATCH;
		ret = bpf_map_lookup_batch(fd, first ? NULL : in, out, keys, vals, &count, NULL);
		if (ret && ret != -ENOENT)
			break;
		for (uint32_t i = 0; i < count && i < SWEEP_BATCH; i++) {
			if (!alive((uint32_t)keys[i].tid_key, ctx) && !bpf_map_delete_elem(fd, &keys[i]))
				removed++;
		}
		*seen_ret += count;
		memcpy(in, out, sizeof(in));
		first = false;
	} while (!ret);
	free(vals);
	return ret && ret != -ENOENT ? ret : removed;
}

/* ---- open / close ---------------------------------------------------------------------- */


/*
 * task_struct.utask and uprobe_task.depth, for saves skipped when the kernel will not
 * arm a return (GS_IR_SAVE_ARMED); both 0 when the BTF lacks them: the saves are
 * then made for every call, which only leaves more of them to replace.
 */
static void utask_offsets(uint32_t *utask_ret, uint32_t *depth_ret)
{
	static const struct gs_kbtf_field f[] = {
		{ "task_struct.utask", 8, true },
		{ "uprobe_task.depth", 4, false },
	};
	uint32_t offs[2];

	if (gs_kbtf_offsets("utask", f, 2, offs) || offs[0] % 8 || offs[1] % 4)
		offs[0] = offs[1] = 0;
	*utask_ret = offs[0];
	*depth_ret = offs[1];
}

/*
 * Writes gs_cfg before the object is loaded: the per-run settings (when @run is
 * given) and, when the object reads the thread pointer or skips saves, this kernel's
 * offsets.
 */
static int loader_cfg(struct gs_loader *l, const struct gs_codegen_opts *run, char *err,
		      size_t errlen)
{
	struct gs_codegen_cfg cfg;
	uint32_t fsbase, utask;
	struct lmap m, mm;
	const void *cur;
	size_t cur_len = 0;
	int ret = 0;

	cur = lmap_find(l, GS_CODEGEN_CFG_SEC, &m) ? lmap_value(&m, &cur_len) : NULL;
	if (!cur || cur_len != sizeof(cfg)) {
		snprintf(err, errlen, "loader: object lacks '%s'", GS_CODEGEN_CFG_SEC);
		return -EINVAL;
	}
	memcpy(&cfg, cur, sizeof(cfg));
	fsbase = cfg.fsbase_off;
	utask = cfg.utask_off;
	if (run) {
		if (!gs_codegen_cfg_fill(run, &cfg)) {
			snprintf(err, errlen, "loader: ring buffer size %u is not a power of two "
				 ">= 4096", run->ringbuf_bytes);
			return -EINVAL;
		}
	}
	if (!run || !run->wakeup_bytes)	/* each ring wakes the reader on its own */
		cfg.wakeup_bytes = gs_rings_bytes(l->rings) / 8;
	/* the kernel's offsets are the object's markers, not per-run settings */
	cfg.fsbase_off = fsbase;
	cfg.utask_off = cfg.utask_depth_off = utask;
	if (fsbase == GS_CODEGEN_FSBASE_UNSET) {
		ret = gs_loader_fsbase_offset(&cfg.fsbase_off, err, errlen);
		if (ret)
			return ret;
	}
	if (cfg.utask_off == GS_CODEGEN_FSBASE_UNSET)
		utask_offsets(&cfg.utask_off, &cfg.utask_depth_off);
	if (m.fm)
		memcpy(m.fm->data, &cfg, sizeof(cfg));
	else
		ret = bpf_map__set_initial_value(m.bm, &cfg, sizeof(cfg));
	if (ret || !run)
		goto out;
	if (lmap_find(l, GS_CODEGEN_MAP_LOST, &mm))
		ret = lmap_set_max(&mm, run->max_trace_id + 1);
	if (!ret && lmap_find(l, GS_CODEGEN_MAP_VADDR, &mm))
		ret = lmap_set_max(&mm, run->max_trace_id + 1);
out:
	if (ret)
		snprintf(err, errlen, "loader: cannot apply the run settings: %s", strerror(-ret));
	return ret;
}

/* Finds the programs and sets their type; libbpf's object or ours. */
static int loader_progs(struct gs_loader *l, size_t nprogs, char *err, size_t errlen)
{
	uint32_t at = l->multi ? GS_BPF_TRACE_UPROBE_MULTI : 0;

	l->prog_fds = calloc(nprogs ? nprogs : 1, sizeof(*l->prog_fds));
	if (!l->prog_fds)
		return -ENOMEM;
	l->nprogs = nprogs;
	if (l->fobj)
		gs_bpfobj_set_prog_type(l->fobj, BPF_PROG_TYPE_KPROBE, at);
	for (size_t i = 0; i < nprogs; i++) {
		struct bpf_program *p = NULL;
		char name[32];

		snprintf(name, sizeof(name), GS_CODEGEN_PROG_FMT, i);
		if (l->obj)
			p = bpf_object__find_program_by_name(l->obj, name);
		if (l->fobj ? gs_bpfobj_prog(l->fobj, name) < 0 : !p) {
			snprintf(err, errlen, "loader: object lacks program '%s'", name);
			return -EINVAL;
		}
		if (p) {
			bpf_program__set_type(p, BPF_PROG_TYPE_KPROBE);
			bpf_program__set_expected_attach_type(p, (enum bpf_attach_type)at);
		}
	}
	return 0;
}

/*
 * The call-scoped map: gs_save holds the calls in progress (a return deletes its
 * save), and an LRU hash is always preallocated: 16384 elements made and linked at
 * creation cost 12-16 ms of kernel time here, most of a return probe's start. Since
 * Linux 6.1 (bpf_mem_alloc) hashes that allocate on insert are safe in tracing
 * programs; before, the verifier called them unsafe (and refused them under
 * PREEMPT_RT), so there it stays LRU (as emitted).
 * A hash does not evict: saves whose return never comes (longjmp; a thread ended
 * mid-call until gs_loader_sweep_saves removes it; calls deeper than the kernel's 64
 * pending returns are not saved, see GS_IR_SAVE_ARMED) stay until a call of the same
 * thread and frame replaces them. So the dynamic map gets SAVE_DYNAMIC_ENTRIES, four
 * times the LRU's: memory is taken per save, only its bucket array (16 bytes a
 * bucket) up front. If stale saves ever fill it, new calls read NOT_SAVED, never
 * another call's values.
 */
#define SAVE_DYNAMIC_ENTRIES	65536

static bool kernel_allows_dynamic_hash(void)
{
	static int allowed = -1;
	struct utsname u;
	unsigned int major = 0, minor = 0;

	if (allowed < 0)
		allowed = !uname(&u) && sscanf(u.release, "%u.%u", &major, &minor) == 2 &&
			  (major > 6 || (major == 6 && minor >= 1));
	return allowed;
}

static int lmap_make_dynamic(struct lmap *m)
{
	if (m->fm) {
		if (m->fm->type != BPF_MAP_TYPE_LRU_HASH)
			return 0;
		m->fm->type = BPF_MAP_TYPE_HASH;
		m->fm->flags |= BPF_F_NO_PREALLOC;
		return 0;
	}
	if (bpf_map__type(m->bm) != BPF_MAP_TYPE_LRU_HASH)
		return 0;
	return bpf_map__set_type(m->bm, BPF_MAP_TYPE_HASH) ?:
	       bpf_map__set_map_flags(m->bm, bpf_map__map_flags(m->bm) | BPF_F_NO_PREALLOC);
}

/*
 * The rings (the warm-up thread's when they have the size asked, else new ones) and
 * their array of maps as the object's GS_CODEGEN_MAP_EVENTS, for either loader.
 */
static int loader_events(struct gs_loader *l, struct lmap *ev, const struct gs_codegen_opts *run,
			 char *err, size_t errlen)
{
	uint32_t bytes = run && run->ringbuf_bytes ? run->ringbuf_bytes : GS_CODEGEN_DEFAULT_RING;
	int fd, ret;

	if ((ev->fm ? ev->fm->type : bpf_map__type(ev->bm)) != BPF_MAP_TYPE_ARRAY_OF_MAPS) {
		snprintf(err, errlen, "loader: '%s' is not an array of maps", GS_CODEGEN_MAP_EVENTS);
		return -EINVAL;
	}
	l->rings = warm_take(bytes);
	l->warm_rings = l->rings != NULL;
	if (!l->rings) {
		ret = gs_rings_new(bytes, &l->rings);
		if (ret) {
			snprintf(err, errlen, "loader: cannot create the event rings (%u bytes): %s",
				 bytes, strerror(-ret));
			return ret;
		}
	}
	if (ev->bm) {	/* libbpf duplicates the fd */
		ret = bpf_map__reuse_fd(ev->bm, gs_rings_outer_fd(l->rings));
	} else {
		fd = fcntl(gs_rings_outer_fd(l->rings), F_DUPFD_CLOEXEC, 0);
		ret = fd < 0 ? -errno : gs_bpfobj_map_adopt(ev->fm, fd);
	}
	if (ret)
		snprintf(err, errlen, "loader: cannot use the event rings: %s", strerror(-ret));
	return ret;
}

static int loader_setup(struct gs_loader *l, size_t nprogs, const struct gs_codegen_opts *run,
			char *err, size_t errlen)
{
	struct lmap m, ev, va;
	int ret;

	ret = loader_progs(l, nprogs, err, errlen);
	if (ret)
		return ret;
	if (lmap_find(l, GS_CODEGEN_MAP_UW_ROWS, &m) && lmap_set_max(&m, l->uw_rows_cap))
		return -EINVAL;
	if (lmap_find(l, GS_CODEGEN_MAP_UW_ENTS, &m) && lmap_set_max(&m, l->uw_ents_cap))
		return -EINVAL;
	if (kernel_allows_dynamic_hash() && lmap_find(l, GS_CODEGEN_MAP_SAVE, &m) &&
	    (lmap_make_dynamic(&m) || lmap_set_max(&m, SAVE_DYNAMIC_ENTRIES))) {
		snprintf(err, errlen, "loader: cannot set up the save map");
		return -EINVAL;
	}
	if (!lmap_find(l, GS_CODEGEN_MAP_LOST, &m) || !lmap_find(l, GS_CODEGEN_MAP_EVENTS, &ev) ||
	    !lmap_find(l, GS_CODEGEN_MAP_VADDR, &va)) {
		snprintf(err, errlen, "loader: object lacks the ghostscope maps");
		return -EINVAL;
	}
	ret = loader_events(l, &ev, run, err, errlen);
	if (ret)
		return ret;
	ret = loader_cfg(l, run, err, errlen);
	if (ret)
		return ret;
	l->lost_entries = lmap_max(&m);
	return 0;
}

static int loader_load_libbpf(struct gs_loader *l, bool strict_btf, int *bad_prog_ret,
			      char *err, size_t errlen)
{
	libbpf_print_fn_t old = libbpf_set_print(capture_print);
	int ret;

	capture.len = 0;
	if (capture.buf)
		capture.buf[0] = '\0';
	ret = bpf_object__load(l->obj);
	libbpf_set_print(old);
	if (ret) {
		char tail[512];
		int bad = capture.buf ? failed_prog(capture.buf) : -1;

		tail[0] = '\0';
		if (capture.buf)
			verifier_tail(capture.buf, tail, sizeof(tail));
		if (bad_prog_ret)
			*bad_prog_ret = bad;
		if (tail[0])
			snprintf(err, errlen, "program %d: verifier rejected: %s", bad, tail);
		else
			snprintf(err, errlen, "loader: load failed: %s", strerror(-ret));
		return ret;
	}
	if (strict_btf && capture.buf && strstr(capture.buf, "BTF is optional")) {
		snprintf(err, errlen, "loader: kernel rejected the BTF of the object");
		return -EINVAL;
	}
	for (size_t i = 0; i < l->nprogs; i++) {
		char name[32];

		snprintf(name, sizeof(name), GS_CODEGEN_PROG_FMT, i);
		l->prog_fds[i] = bpf_program__fd(bpf_object__find_program_by_name(l->obj, name));
	}
	return 0;
}

static int loader_load(struct gs_loader *l, bool strict_btf, int *bad_prog_ret, char *err,
		       size_t errlen)
{
	int ret;

	if (!l->fobj)
		return loader_load_libbpf(l, strict_btf, bad_prog_ret, err, errlen);
	ret = gs_bpfobj_load(l->fobj, strict_btf, bad_prog_ret, err, errlen);
	if (ret)
		return ret;
	for (size_t i = 0; i < l->nprogs; i++) {
		char name[32];

		snprintf(name, sizeof(name), GS_CODEGEN_PROG_FMT, i);
		l->prog_fds[i] = gs_bpfobj_prog_fd(l->fobj, gs_bpfobj_prog(l->fobj, name));
	}
	return 0;
}

/* Parses @obj with our loader, else (an object it does not handle) with libbpf. */
static int loader_parse(struct gs_loader *l, const void *obj, size_t len,
			const struct gs_loader_opts *opts, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = "ghostscope");
	libbpf_print_fn_t old;
	int rc = -EOPNOTSUPP;

	if (!opts->use_libbpf) {
		rc = gs_bpfobj_open(obj, len, &l->fobj, err, errlen);
		if (rc != -EOPNOTSUPP)
			return rc;
		if (opts->verbose)
			fprintf(stderr, "ghostscope: %s; loading with libbpf\n", err);
		err[0] = '\0';
	}
	capture.verbose = opts->verbose;
	old = libbpf_set_print(capture_print);
	l->obj = bpf_object__open_mem(obj, len, &oo);
	libbpf_set_print(old);
	if (!l->obj) {
		rc = -errno;
		snprintf(err, errlen, "loader: cannot open the BPF object: %s", strerror(-rc));
		return rc;
	}
	return 0;
}

/*
 * GS_IR_MOD_BIAS's kernel offsets (ir.h, struct gs_ir_modcfg): the helper reads the
 * task's mm, its saved auxiliary vector and its group leader's start time. Written
 * into the object's gs_modcfg map when it has one; from the kernel's BTF once per
 * kernel build (kbtf.h).
 */
static int loader_modcfg(struct gs_loader *l, char *err, size_t errlen)
{
	static const struct gs_kbtf_field f[] = {
		{ "task_struct.mm", 8, true },
		{ "mm_struct.saved_auxv", 0, false },
		{ "task_struct.group_leader", 8, true },
		{ "task_struct.start_time", 8, false },
	};
	int fd = loader_map_fd(l, GS_IR_MAP_MODCFG);
	uint32_t offs[4], zero = 0;
	struct gs_ir_modcfg cfg;
	int ret;

	if (fd < 0)
		return 0;
	ret = gs_kbtf_offsets("modcfg", f, 4, offs);
	if (ret == -ENOENT) {
		snprintf(err, errlen, "loader: no task_struct.mm, mm_struct.saved_auxv, task_struct.group_leader or start_time in the kernel BTF, cannot find module load addresses");
		return ret;
	}
	if (ret) {
		snprintf(err, errlen, "loader: cannot read the kernel BTF ('/sys/kernel/btf/vmlinux') for module load addresses: %s",
			 strerror(-ret));
		return ret;
	}
	cfg = (struct gs_ir_modcfg){ offs[0], offs[1], offs[2], offs[3] };
	if (bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY)) {
		snprintf(err, errlen, "loader: cannot write '%s': %s", GS_IR_MAP_MODCFG, strerror(errno));
		return -errno;
	}
	return 0;
}

/* Maps the rings for reading, once the warm-up thread (which may be mapping them) is done. */
static int loader_ring(struct gs_loader *l, char *err, size_t errlen)
{
	int rc;

	if (l->warm_rings) {
		warm_join();
		l->warm_rings = false;
	}
	rc = gs_rings_map(l->rings);
	if (rc)
		snprintf(err, errlen, "loader: cannot map the event rings: %s", strerror(-rc));
	return rc;
}

int gs_loader_open(const void *obj, size_t len, size_t nprogs, const struct gs_loader_opts *opts,
		   struct gs_loader **ret, int *bad_prog_ret, char *err, size_t errlen)
{
	struct gs_loader_opts dflt = { 0 };
	char dummy[1];
	struct gs_loader *l;
	int rc;

	if (!opts)
		opts = &dflt;
	if (!err || !errlen) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (bad_prog_ret)
		*bad_prog_ret = -1;
	*ret = NULL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->lost_fd = l->vaddr_fd = -1;
	l->uw_ranges_fd = l->uw_rows_fd = l->uw_ents_fd = -1;
	l->uw_rows_cap = opts->unwind_rows ? opts->unwind_rows : 4096;
	l->uw_ents_cap = opts->unwind_entries ? opts->unwind_entries : 262144;
	l->multi = !opts->force_single && gs_loader_has_uprobe_multi();
	rc = loader_parse(l, obj, len, opts, err, errlen);
	if (rc)
		goto err_free;
	rc = loader_setup(l, nprogs, opts->run, err, errlen);
	if (rc)
		goto err_free;
	rc = loader_load(l, opts->strict_btf, bad_prog_ret, err, errlen);
	if (rc)
		goto err_free;
	l->lost_fd = loader_map_fd(l, GS_CODEGEN_MAP_LOST);
	l->vaddr_fd = loader_map_fd(l, GS_CODEGEN_MAP_VADDR);
	l->uw_ranges_fd = loader_map_fd(l, GS_CODEGEN_MAP_UW_RANGES);
	l->uw_rows_fd = loader_map_fd(l, GS_CODEGEN_MAP_UW_ROWS);
	l->uw_ents_fd = loader_map_fd(l, GS_CODEGEN_MAP_UW_ENTS);
	rc = loader_modcfg(l, err, errlen);
	gs_kbtf_release();
	if (rc)
		goto err_free;
	/* Warmed-up rings are mapped by the time of the first poll. */
	rc = l->warm_rings ? 0 : loader_ring(l, err, errlen);
	if (rc)
		goto err_free;
	l->ncpus = libbpf_num_possible_cpus();
	if (l->ncpus <= 0) {
		rc = l->ncpus ? l->ncpus : -EINVAL;
		goto err_free;
	}
	*ret = l;
	return 0;
err_free:
	gs_kbtf_release();
	gs_loader_close(l);
	return rc;
}

void gs_loader_close(struct gs_loader *l)
{
	if (!l)
		return;
	gs_loader_detach(l);
	gs_bpfobj_close(l->fobj);
	bpf_object__close(l->obj);
	if (l->warm_rings)	/* the thread must be done with the rings before they go */
		warm_cancel();
	gs_rings_free(l->rings);
	free(l->links);
	free(l->prog_fds);
	free(l);
}

/* ---- attach / detach ------------------------------------------------------------------ */

static int push_link(struct gs_loader *l, int fd, int pfd)
{
	if (l->nlinks == l->cap_links) {
		size_t cap = l->cap_links ? l->cap_links * 2 : 16;
		struct gs_link *p = reallocarray(l->links, cap, sizeof(*p));

		if (!p)
			return -ENOMEM;
		l->links = p;
		l->cap_links = cap;
	}
	l->links[l->nlinks++] = (struct gs_link){ .fd = fd, .pfd = pfd };
	return 0;
}

static bool same_group(const struct gs_attach_point *a, const struct gs_attach_point *b)
{
	return a->prog == b->prog && a->pid == b->pid && a->retprobe == b->retprobe &&
	       !strcmp(a->path, b->path);
}

/* One link for every point of @pts that shares the program, file and pid of pts[first]. */
static int attach_multi_group(struct gs_loader *l, const struct gs_attach_point *pts, size_t n,
			      size_t first, bool *done, char *err, size_t errlen)
{
	const struct gs_attach_point *p0 = &pts[first];
	struct gs_link_create_umulti attr = { 0 };
	uint64_t *offs, *cookies;
	size_t cnt = 0;
	int fd, ret;

	offs = calloc(n - first, sizeof(*offs));
	cookies = calloc(n - first, sizeof(*cookies));
	if (!offs || !cookies) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = first; i < n; i++) {
		if (done[i] || !same_group(p0, &pts[i]))
			continue;
		done[i] = true;
		offs[cnt] = pts[i].file_off;
		cookies[cnt++] = attach_cookie(&pts[i]);
	}
	attr.prog_fd = l->prog_fds[p0->prog];
	attr.attach_type = GS_BPF_TRACE_UPROBE_MULTI;
	attr.path = (uintptr_t)p0->path;
	attr.offsets = (uintptr_t)offs;
	attr.cookies = (uintptr_t)cookies;
	attr.cnt = cnt;
	attr.pid = p0->pid > 0 ? (uint32_t)p0->pid : 0;
	attr.umulti_flags = p0->retprobe ? GS_BPF_F_UPROBE_MULTI_RETURN : 0;
	fd = sys_link_create(&attr);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "attach: cannot probe '%s' +0x%llx%s (%zu pcs): %s", p0->path,
			 (unsigned long long)p0->file_off, p0->retprobe ? " (return)" : "", cnt,
			 strerror(-ret));
		goto out;
	}
	ret = push_link(l, fd, -1);
	if (ret)
		close(fd);
out:
	free(offs);
	free(cookies);
	return ret;
}

/* The "uprobe" PMU's type and its retprobe config bit, from sysfs (read once). */
static int uprobe_pmu(int *type_ret, int *bit_ret)
{
	static int type = -1, bit = -1;
	FILE *f;

	if (type < 0) {
		f = fopen("/sys/bus/event_source/devices/uprobe/type", "re");
		if (!f)
			return -errno;
		if (fscanf(f, "%d", &type) != 1)
			type = -1;
		fclose(f);
		f = fopen("/sys/bus/event_source/devices/uprobe/format/retprobe", "re");
		if (f) {
			if (fscanf(f, "config:%d", &bit) != 1)
				bit = -1;
			fclose(f);
		}
		if (type < 0 || bit < 0 || bit > 63) {
			type = -1;
			return -ENOENT;
		}
	}
	*type_ret = type;
	*bit_ret = bit;
	return 0;
}

/* A perf-event uprobe at @pt with a BPF_PERF_EVENT link carrying the trace id cookie. */
static int attach_single(struct gs_loader *l, const struct gs_attach_point *pt, char *err,
			 size_t errlen)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo, .perf_event.bpf_cookie = attach_cookie(pt));
	struct perf_event_attr pa;
	int type = 0, bit = 0, pfd, fd, ret;

	ret = uprobe_pmu(&type, &bit);
	if (ret) {
		snprintf(err, errlen, "attach: no uprobe PMU in '/sys/bus/event_source/devices'");
		return ret;
	}
	memset(&pa, 0, sizeof(pa));
	pa.size = sizeof(pa);
	pa.type = type;
	pa.config = pt->retprobe ? 1ull << bit : 0;
	pa.config1 = (uintptr_t)pt->path;
	pa.config2 = pt->file_off;
	pfd = syscall(__NR_perf_event_open, &pa, pt->pid > 0 ? pt->pid : -1, pt->pid > 0 ? -1 : 0,
		      -1, PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0) {
		ret = -errno;
		goto err;
	}
	fd = bpf_link_create(l->prog_fds[pt->prog], pfd, BPF_PERF_EVENT, &lo);
	if (fd < 0) {
		ret = fd;
		close(pfd);
		goto err;
	}
	ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0);
	ret = push_link(l, fd, pfd);
	if (ret) {
		close(fd);
		close(pfd);
	}
	return ret;
err:
	snprintf(err, errlen, "attach: cannot probe '%s' +0x%llx%s: %s", pt->path,
		 (unsigned long long)pt->file_off, pt->retprobe ? " (return)" : "", strerror(-ret));
	return ret;
}

int gs_loader_attach(struct gs_loader *l, const struct gs_attach_point *pts, size_t n,
		     char *err, size_t errlen)
{
	char dummy[1];
	bool *done;
	int ret = 0;

	if (!err || !errlen) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		uint32_t key = pts[i].trace_id;
		uint64_t vaddr = pts[i].vaddr;

		if (pts[i].prog >= l->nprogs || !pts[i].path || key >= l->lost_entries) {
			snprintf(err, errlen, "attach: point %zu has a bad program, path or trace id", i);
			return -EINVAL;
		}
		ret = bpf_map_update_elem(l->vaddr_fd, &key, &vaddr, BPF_ANY);
		if (ret) {
			snprintf(err, errlen, "attach: cannot record vaddr of trace id %u", key);
			return ret;
		}
	}
	done = calloc(n ? n : 1, sizeof(*done));
	if (!done)
		return -ENOMEM;
	for (size_t i = 0; i < n && !ret; i++) {
		if (done[i])
			continue;
		if (l->multi) {
			ret = attach_multi_group(l, pts, n, i, done, err, errlen);
		} else {
			done[i] = true;
			ret = attach_single(l, &pts[i], err, errlen);
		}
	}
	free(done);
	if (l->warm_rings)
		warm_go();
	return ret;
}

struct detach_job {
	struct gs_link *links;
	size_t n, next;
};

static void *detach_worker(void *arg)
{
	struct detach_job *j = arg;
	size_t i;

	while ((i = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED)) < j->n) {
		close(j->links[i].fd);
		if (j->links[i].pfd >= 0)
			close(j->links[i].pfd);
	}
	return NULL;
}

int gs_loader_detach(struct gs_loader *l)
{
	struct detach_job job;
	pthread_t th[GS_DETACH_THREADS];
	size_t nth = 0;

	if (!l || !l->nlinks)
		return 0;
	/* Each close waits for grace periods in the kernel: wait for them side by side. */
	job = (struct detach_job){ .links = l->links, .n = l->nlinks };
	while (nth + 1 < l->nlinks && nth < GS_DETACH_THREADS &&
	       !gs_loader_thread_start(&th[nth], detach_worker, &job))
		nth++;
	detach_worker(&job);
	for (size_t i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	l->nlinks = 0;
	return 0;
}

size_t gs_loader_link_count(const struct gs_loader *l)
{
	return l->nlinks;
}

bool gs_loader_uses_multi(const struct gs_loader *l)
{
	return l->multi;
}

/* ---- unwind tables ------------------------------------------------------------------------ */


/*
 * Writes @n elements of @size bytes at keys @first.. of array map @fd: one batch
 * syscall where the kernel has them, element by element otherwise.
 */
static int uw_write(int fd, uint32_t first, const void *vals, size_t n, size_t size)
{
	uint32_t *keys;
	uint32_t cnt = n;
	int ret;

	if (!n)
		return 0;
	keys = calloc(n, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		keys[i] = first + i;
	ret = bpf_map_update_batch(fd, keys, vals, &cnt, NULL);
	if (ret == -EINVAL || ret == -EOPNOTSUPP || ret == -524 /* kernel ENOTSUPP */) {
		ret = 0;
		for (size_t i = 0; i < n && !ret; i++)
			ret = bpf_map_update_elem(fd, &keys[i], (const char *)vals + i * size, BPF_ANY);
	}
	free(keys);
	return ret;
}

int gs_loader_set_unwind(struct gs_loader *l, const struct gs_unwind_module *mods, size_t n,
			 char *err, size_t errlen)
{
	struct gs_codegen_uw_range rg[GS_CODEGEN_UW_MAX_RANGES];
	size_t nrg = 0, rows = 0, ents = 0;
	char dummy[1];
	int ret = 0;

	if (!err || !errlen) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (l->uw_ranges_fd < 0 || l->uw_rows_fd < 0 || l->uw_ents_fd < 0)
		return 0;
	memset(rg, 0, sizeof(rg));
	for (size_t m = 0; m < n; m++) {
		const struct gs_unwind_module *md = &mods[m];

		if (rows + md->nrows > l->uw_rows_cap || ents + md->nents > l->uw_ents_cap ||
		    nrg + md->nranges > GS_CODEGEN_UW_MAX_RANGES) {
			snprintf(err, errlen, "unwind: tables exceed %u rows, %u entries or %u ranges",
				 l->uw_rows_cap, l->uw_ents_cap, GS_CODEGEN_UW_MAX_RANGES);
			return -E2BIG;
		}
		ret = uw_write(l->uw_rows_fd, rows, md->rows, md->nrows, sizeof(*md->rows));
		if (!ret)
			ret = uw_write(l->uw_ents_fd, ents, md->ents, md->nents, sizeof(*md->ents));
		if (ret) {
			snprintf(err, errlen, "unwind: cannot write the tables of module %zu: %s", m,
				 strerror(-ret));
			return ret;
		}
		for (size_t r = 0; r < md->nranges; r++) {
			if (md->ranges[r].end <= md->ranges[r].start)
				continue;
			rg[nrg++] = (struct gs_codegen_uw_range){
				.start = md->ranges[r].start, .end = md->ranges[r].end,
				.bias = md->ranges[r].bias, .ent_off = ents,
				.ent_cnt = md->nents, .row_off = rows,
			};
		}
		rows += md->nrows;
		ents += md->nents;
	}
	/* Every slot, so that a shorter list ends at its first end == 0. */
	ret = uw_write(l->uw_ranges_fd, 0, rg, GS_CODEGEN_UW_MAX_RANGES, sizeof(rg[0]));
	if (ret)
		snprintf(err, errlen, "unwind: cannot write the module ranges: %s", strerror(-ret));
	return ret;
}

/* ---- events ----------------------------------------------------------------------------- */

struct poll_sink {
	gs_event_fn cb;
	void *ctx;
};

static int poll_sample(void *ctx, const void *data, size_t size)
{
	struct poll_sink *sink = ctx;

	if (size < sizeof(struct gs_event_hdr))
		return 0;
	return sink->cb ? sink->cb(sink->ctx, data, size) : 0;
}

int gs_loader_poll(struct gs_loader *l, int timeout_ms, gs_event_fn cb, void *ctx)
{
	struct poll_sink sink = { cb, ctx };
	int n;

	if (l->warm_rings) {
		char err[128];

		n = loader_ring(l, err, sizeof(err));
		if (n)
			return n;
	}
	n = gs_rings_poll(l->rings, timeout_ms, poll_sample, &sink);
	return n == -EINTR ? 0 : n;
}

size_t gs_loader_rings(const struct gs_loader *l, uint32_t *bytes_ret)
{
	*bytes_ret = gs_rings_bytes(l->rings);
	return gs_rings_count(l->rings);
}

int gs_loader_lost(struct gs_loader *l, uint32_t trace_id, uint64_t *lost_ret)
{
	uint64_t *vals;
	int ret;

	*lost_ret = 0;
	if (trace_id >= l->lost_entries)
		return -ENOENT;
	vals = calloc(l->ncpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	ret = bpf_map_lookup_elem(l->lost_fd, &trace_id, vals);
	if (!ret)
		for (int i = 0; i < l->ncpus; i++)
			*lost_ret += vals[i];
	free(vals);
	return ret;	/* libbpf 1.x returns -errno itself */
}

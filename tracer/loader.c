// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Loads generated BPF objects with libbpf 1.1, attaches uprobes, polls the ring buffer.
 *
 * uprobe_multi (kernel 6.6, attach type 48) is newer than libbpf 1.1 and Debian 12's
 * uapi headers, so the link is created with a raw bpf(BPF_LINK_CREATE) using our own
 * copy of the attr layout (checked against the kernel's union bpf_attr, link_create:
 * prog_fd@0 target_fd@4 attach_type@8 flags@12, then uprobe_multi path@16
 * offsets@24 ref_ctr_offsets@32 cookies@40 cnt@48 flags@52 pid@56). Programs must be
 * loaded with that expected attach type, so the choice is made at open time.
 *
 * Why multi: detaching a perf-event uprobe costs ~125 ms here (serialised), so 200 of
 * them take 25 s to remove; one multi link per (program, file, pid) detaches in
 * ~40 ms whatever the count.
 *
 * Objects that read the thread pointer (GS_IR_SP_TP) get the offset of
 * task_struct.thread.fsbase in gs_cfg at load time, from the running kernel's BTF,
 * so the compiled object does not depend on the kernel it was compiled under.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "tracer/codegen.h"
#include "tracer/loader.h"

enum {
	GS_BPF_TRACE_UPROBE_MULTI = 48,
	GS_BPF_F_UPROBE_MULTI_RETURN = 1,	/* link_create.uprobe_multi.flags */
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

struct gs_loader {
	struct bpf_object *obj;
	struct bpf_program **progs;
	size_t nprogs;
	bool multi;
	int *link_fds;			/* uprobe_multi links */
	struct bpf_link **links;	/* single uprobes */
	size_t nlink_fds, nlinks, cap_fds, cap_links;
	int lost_fd, vaddr_fd;
	int uw_ranges_fd, uw_rows_fd, uw_ents_fd;	/* -1 without a backtrace */
	uint32_t uw_rows_cap, uw_ents_cap;
	uint32_t lost_entries;
	struct ring_buffer *rb;
	gs_event_fn cb;
	void *cb_ctx;
	int ncpus;
};

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
	const char *lines[4];
	size_t nl = 0, len[4];

	out[0] = '\0';
	if (!beg || !end)
		return;
	beg = strchr(beg, '\n');
	/* Walk back from the end over up to 3 non-empty lines. */
	for (const char *p = end; p > beg && nl < 3;) {
		const char *e = p, *s;

		while (e > beg && (e[-1] == '\n' || e[-1] == ' '))
			e--;
		s = e;
		while (s > beg && s[-1] != '\n')
			s--;
		if (e <= s)
			break;
		/* libbpf's own summary line is not the verifier's. */
		if (strncmp(s, "processed ", 10) || nl)
			lines[nl] = s, len[nl++] = e - s;
		p = s;
	}
	for (size_t i = nl; i-- > 0;) {
		size_t used = strlen(out);

		snprintf(out + used, outlen - used, "%s%.*s", used ? " | " : "", (int)len[i],
			 lines[i]);
	}
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

/* ---- uprobe_multi support ------------------------------------------------------------ */

static int sys_link_create(struct gs_link_create_umulti *attr)
{
	return syscall(__NR_bpf, BPF_LINK_CREATE, attr, sizeof(*attr));
}

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
		return 0;
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
	return err == EBADF;
}

bool gs_loader_has_uprobe_multi(void)
{
	static int cached = -1;

	if (cached < 0)
		cached = probe_multi();
	return cached;
}

/* ---- kernel facts ------------------------------------------------------------------------ */

/*
 * Bit offset and type of member @name in the struct or union @type_id, looking into
 * anonymous struct/union members too; 0 or -ENOENT.
 */
static int btf_member_find(const struct btf *btf, uint32_t type_id, const char *name,
			   uint32_t *bits_ret, uint32_t *type_ret)
{
	const struct btf_type *t = btf__type_by_id(btf, btf__resolve_type(btf, type_id));
	const struct btf_member *m;

	if (!t || !btf_is_composite(t))
		return -ENOENT;
	m = btf_members(t);
	for (uint16_t i = 0; i < btf_vlen(t); i++, m++) {
		const char *mname = btf__name_by_offset(btf, m->name_off);
		uint32_t inner;

		if (mname && !strcmp(mname, name)) {
			*bits_ret = btf_member_bit_offset(t, i);
			*type_ret = m->type;
			return 0;
		}
		if ((!mname || !*mname) &&
		    !btf_member_find(btf, m->type, name, &inner, type_ret)) {
			*bits_ret = btf_member_bit_offset(t, i) + inner;
			return 0;
		}
	}
	return -ENOENT;
}

int gs_loader_fsbase_offset(uint32_t *off_ret, char *err, size_t errlen)
{
	/* Parsing the kernel's BTF takes tens of milliseconds: once per process. */
	static int cached_ret = 1;
	static uint32_t cached_off;
	uint32_t thread_bits = 0, fsbase_bits = 0, type = 0;
	struct btf *btf;
	int32_t task;
	int ret;

	if (cached_ret <= 0)
		goto out;
	btf = btf__load_vmlinux_btf();
	ret = libbpf_get_error(btf);
	if (ret) {
		snprintf(err, errlen, "loader: cannot read the kernel BTF "
			 "('/sys/kernel/btf/vmlinux') for the thread pointer: %s", strerror(-ret));
		return ret;	/* not cached: the file may appear later (module load) */
	}
	task = btf__find_by_name_kind(btf, "task_struct", BTF_KIND_STRUCT);
	ret = task < 0 ? -ENOENT : btf_member_find(btf, task, "thread", &thread_bits, &type);
	if (!ret)
		ret = btf_member_find(btf, type, "fsbase", &fsbase_bits, &type);
	if (!ret && ((thread_bits + fsbase_bits) % 8 ||
		     (thread_bits + fsbase_bits) / 8 >= GS_CODEGEN_FSBASE_UNSET))
		ret = -ERANGE;
	btf__free(btf);
	cached_ret = ret;
	cached_off = (thread_bits + fsbase_bits) / 8;
out:
	if (cached_ret)
		snprintf(err, errlen, "loader: no task_struct.thread.fsbase in the kernel BTF, "
			 "cannot read the thread pointer");
	else
		*off_ret = cached_off;
	return cached_ret;
}

/* ---- open / close ---------------------------------------------------------------------- */

static int rb_sample(void *ctx, void *data, size_t size)
{
	struct gs_loader *l = ctx;

	if (size < sizeof(struct gs_event_hdr))
		return 0;
	return l->cb ? l->cb(l->cb_ctx, data, size) : 0;
}

/*
 * Writes gs_cfg before the object is loaded: the per-run settings (when @run is
 * given) and, when the object reads the thread pointer, this kernel's fsbase offset.
 */
static int loader_cfg(struct gs_loader *l, const struct gs_codegen_opts *run, char *err,
		      size_t errlen)
{
	struct gs_codegen_cfg cfg;
	uint32_t ring = 0, fsbase;
	struct bpf_map *m;
	const void *cur;
	size_t cur_len = 0;
	int ret = 0;

	m = bpf_object__find_map_by_name(l->obj, GS_CODEGEN_CFG_SEC);
	cur = m ? bpf_map__initial_value(m, &cur_len) : NULL;
	if (!cur || cur_len != sizeof(cfg)) {
		snprintf(err, errlen, "loader: object lacks '%s'", GS_CODEGEN_CFG_SEC);
		return -EINVAL;
	}
	memcpy(&cfg, cur, sizeof(cfg));
	fsbase = cfg.fsbase_off;
	if (run) {
		ring = gs_codegen_cfg_fill(run, &cfg);
		if (!ring) {
			snprintf(err, errlen, "loader: ring buffer size %u is not a power of two "
				 ">= 4096", run->ringbuf_bytes);
			return -EINVAL;
		}
	}
	cfg.fsbase_off = fsbase;
	if (fsbase == GS_CODEGEN_FSBASE_UNSET) {
		ret = gs_loader_fsbase_offset(&cfg.fsbase_off, err, errlen);
		if (ret)
			return ret;
	}
	if (!run && fsbase != GS_CODEGEN_FSBASE_UNSET)
		return 0;
	ret = bpf_map__set_initial_value(m, &cfg, sizeof(cfg));
	if (ret || !run)
		goto out;
	ret = bpf_map__set_max_entries(bpf_object__find_map_by_name(l->obj,
						GS_CODEGEN_MAP_EVENTS), ring);
	if (!ret)
		ret = bpf_map__set_max_entries(bpf_object__find_map_by_name(l->obj,
							GS_CODEGEN_MAP_LOST), run->max_trace_id + 1);
	if (!ret)
		ret = bpf_map__set_max_entries(bpf_object__find_map_by_name(l->obj,
							GS_CODEGEN_MAP_VADDR), run->max_trace_id + 1);
out:
	if (ret)
		snprintf(err, errlen, "loader: cannot apply the run settings: %s", strerror(-ret));
	return ret;
}

static int loader_setup(struct gs_loader *l, size_t nprogs, const struct gs_codegen_opts *run,
			char *err, size_t errlen)
{
	struct bpf_map *m;
	int ret;

	l->progs = calloc(nprogs ? nprogs : 1, sizeof(*l->progs));
	if (!l->progs)
		return -ENOMEM;
	l->nprogs = nprogs;
	for (size_t i = 0; i < nprogs; i++) {
		char name[32];

		snprintf(name, sizeof(name), GS_CODEGEN_PROG_FMT, i);
		l->progs[i] = bpf_object__find_program_by_name(l->obj, name);
		if (!l->progs[i]) {
			snprintf(err, errlen, "loader: object lacks program '%s'", name);
			return -EINVAL;
		}
		bpf_program__set_type(l->progs[i], BPF_PROG_TYPE_KPROBE);
		bpf_program__set_expected_attach_type(l->progs[i], l->multi ?
			(enum bpf_attach_type)GS_BPF_TRACE_UPROBE_MULTI : (enum bpf_attach_type)0);
	}
	m = bpf_object__find_map_by_name(l->obj, GS_CODEGEN_MAP_UW_ROWS);
	if (m && bpf_map__set_max_entries(m, l->uw_rows_cap))
		return -EINVAL;
	m = bpf_object__find_map_by_name(l->obj, GS_CODEGEN_MAP_UW_ENTS);
	if (m && bpf_map__set_max_entries(m, l->uw_ents_cap))
		return -EINVAL;
	m = bpf_object__find_map_by_name(l->obj, GS_CODEGEN_MAP_LOST);
	if (!m || !bpf_object__find_map_by_name(l->obj, GS_CODEGEN_MAP_EVENTS) ||
	    !bpf_object__find_map_by_name(l->obj, GS_CODEGEN_MAP_VADDR)) {
		snprintf(err, errlen, "loader: object lacks the ghostscope maps");
		return -EINVAL;
	}
	ret = loader_cfg(l, run, err, errlen);
	if (ret)
		return ret;
	l->lost_entries = bpf_map__max_entries(m);
	return 0;
}

static int loader_load(struct gs_loader *l, bool strict_btf, int *bad_prog_ret, char *err,
		       size_t errlen)
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
	return 0;
}

int gs_loader_open(const void *obj, size_t len, size_t nprogs, const struct gs_loader_opts *opts,
		   struct gs_loader **ret, int *bad_prog_ret, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = "ghostscope");
	struct gs_loader_opts dflt = { 0 };
	char dummy[1];
	struct gs_loader *l;
	libbpf_print_fn_t old;
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
	capture.verbose = opts->verbose;
	old = libbpf_set_print(capture_print);
	l->obj = bpf_object__open_mem(obj, len, &oo);
	libbpf_set_print(old);
	if (!l->obj) {
		rc = -errno;
		snprintf(err, errlen, "loader: cannot open the BPF object: %s", strerror(-rc));
		goto err_free;
	}
	rc = loader_setup(l, nprogs, opts->run, err, errlen);
	if (rc)
		goto err_free;
	rc = loader_load(l, opts->strict_btf, bad_prog_ret, err, errlen);
	if (rc)
		goto err_free;
	l->lost_fd = bpf_object__find_map_fd_by_name(l->obj, GS_CODEGEN_MAP_LOST);
	l->vaddr_fd = bpf_object__find_map_fd_by_name(l->obj, GS_CODEGEN_MAP_VADDR);
	l->uw_ranges_fd = bpf_object__find_map_fd_by_name(l->obj, GS_CODEGEN_MAP_UW_RANGES);
	l->uw_rows_fd = bpf_object__find_map_fd_by_name(l->obj, GS_CODEGEN_MAP_UW_ROWS);
	l->uw_ents_fd = bpf_object__find_map_fd_by_name(l->obj, GS_CODEGEN_MAP_UW_ENTS);
	l->rb = ring_buffer__new(bpf_object__find_map_fd_by_name(l->obj, GS_CODEGEN_MAP_EVENTS),
				 rb_sample, l, NULL);
	if (!l->rb) {
		rc = -errno;
		snprintf(err, errlen, "loader: cannot map the ring buffer: %s", strerror(-rc));
		goto err_free;
	}
	l->ncpus = libbpf_num_possible_cpus();
	if (l->ncpus <= 0) {
		rc = l->ncpus ? l->ncpus : -EINVAL;
		goto err_free;
	}
	*ret = l;
	return 0;
err_free:
	gs_loader_close(l);
	return rc;
}

void gs_loader_close(struct gs_loader *l)
{
	if (!l)
		return;
	gs_loader_detach(l);
	ring_buffer__free(l->rb);
	bpf_object__close(l->obj);
	free(l->link_fds);
	free(l->links);
	free(l->progs);
	free(l);
}

/* ---- attach / detach ------------------------------------------------------------------ */

static int push_fd(struct gs_loader *l, int fd)
{
	if (l->nlink_fds == l->cap_fds) {
		size_t cap = l->cap_fds ? l->cap_fds * 2 : 8;
		int *p = reallocarray(l->link_fds, cap, sizeof(*p));

		if (!p)
			return -ENOMEM;
		l->link_fds = p;
		l->cap_fds = cap;
	}
	l->link_fds[l->nlink_fds++] = fd;
	return 0;
}

static int push_link(struct gs_loader *l, struct bpf_link *link)
{
	if (l->nlinks == l->cap_links) {
		size_t cap = l->cap_links ? l->cap_links * 2 : 16;
		struct bpf_link **p = reallocarray(l->links, cap, sizeof(*p));

		if (!p)
			return -ENOMEM;
		l->links = p;
		l->cap_links = cap;
	}
	l->links[l->nlinks++] = link;
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
		cookies[cnt++] = pts[i].trace_id;
	}
	attr.prog_fd = bpf_program__fd(l->progs[p0->prog]);
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
	ret = push_fd(l, fd);
	if (ret)
		close(fd);
out:
	free(offs);
	free(cookies);
	return ret;
}

static int attach_single(struct gs_loader *l, const struct gs_attach_point *pt, char *err,
			 size_t errlen)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .bpf_cookie = pt->trace_id, .retprobe = pt->retprobe);
	struct bpf_link *link;
	int ret;

	link = bpf_program__attach_uprobe_opts(l->progs[pt->prog], pt->pid > 0 ? pt->pid : -1,
					       pt->path, pt->file_off, &uo);
	if (!link) {
		ret = -errno;
		snprintf(err, errlen, "attach: cannot probe '%s' +0x%llx%s: %s", pt->path,
			 (unsigned long long)pt->file_off, pt->retprobe ? " (return)" : "",
			 strerror(-ret));
		return ret;
	}
	ret = push_link(l, link);
	if (ret)
		bpf_link__destroy(link);
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
	return ret;
}

int gs_loader_detach(struct gs_loader *l)
{
	if (!l)
		return 0;
	for (size_t i = 0; i < l->nlink_fds; i++)
		close(l->link_fds[i]);
	l->nlink_fds = 0;
	for (size_t i = 0; i < l->nlinks; i++)
		bpf_link__destroy(l->links[i]);
	l->nlinks = 0;
	return 0;
}

size_t gs_loader_link_count(const struct gs_loader *l)
{
	return l->nlink_fds + l->nlinks;
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

int gs_loader_poll(struct gs_loader *l, int timeout_ms, gs_event_fn cb, void *ctx)
{
	int n, m;

	l->cb = cb;
	l->cb_ctx = ctx;
	n = ring_buffer__poll(l->rb, timeout_ms);
	if (n == -EINTR)
		n = 0;
	if (n < 0)
		return n;
	/* Submits mostly skip the wakeup: drain whatever arrived without one. */
	m = ring_buffer__consume(l->rb);
	if (m < 0)
		return m == -EINTR ? n : m;
	return n + m;
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

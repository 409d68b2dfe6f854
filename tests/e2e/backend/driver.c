// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Test driver for the BPF back end (codegen.c + loader.c) without the planner: builds
 * probe IR by hand for tests/e2e/backend/target.c, loads, attaches, and prints what the
 * BPF side recorded as canonical lines for the shell tests to compare.
 *
 *   driver values TARGET PID        one event of probe_me, every record printed
 *   driver many TARGET PREFIX N [single]   N functions PREFIX0..: attach/detach timing
 *   driver lost TARGET              tiny ring, no reader for a while: lost > 0
 *   driver dry                      codegen only: object size, instruction counts
 *   driver ret TARGET [single]      return probes of probe_me and rec with saved
 *                                   arguments, $comm, a return without its entry
 *   driver tls TARGET [run]         tls_target.c: `v` through the thread pointer in
 *                                   the main thread and in a second thread (run: load
 *                                   with per-run settings)
 *   driver frame TARGET LATER_VADDR frame_target.c: frec's n saved at entry keyed by
 *                                   the CFA, read back at LATER_VADDR (after the call)
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "tracer/codegen.h"
#include "tracer/event.h"
#include "tracer/ir.h"
#include "tracer/loader.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* vaddr and file offset of symbol @name in @path (PT_LOAD translation). */
static int sym_offset(const char *path, const char *name, uint64_t *vaddr, uint64_t *off)
{
	int fd = open(path, O_RDONLY), ret = -ENOENT;
	Elf *e;
	Elf_Scn *scn = NULL;
	size_t nph;

	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	while (e && (scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB)
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym s;

			if (!gelf_getsym(d, i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC)
				continue;
			if (strcmp(elf_strptr(e, sh.sh_link, s.st_name), name))
				continue;
			*vaddr = s.st_value;
			ret = 0;
		}
	}
	if (!ret && e && !elf_getphdrnum(e, &nph)) {
		ret = -ERANGE;
		for (size_t i = 0; i < nph; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(e, i, &ph) && ph.p_type == PT_LOAD &&
			    *vaddr >= ph.p_vaddr && *vaddr < ph.p_vaddr + ph.p_filesz) {
				*off = *vaddr - ph.p_vaddr + ph.p_offset;
				ret = 0;
			}
		}
	}
	if (e)
		elf_end(e);
	close(fd);
	return ret;
}

/* File offset of module vaddr @vaddr in @path (PT_LOAD translation). */
static int vaddr_offset(const char *path, uint64_t vaddr, uint64_t *off)
{
	int fd = open(path, O_RDONLY), ret = -ERANGE;
	size_t nph;
	Elf *e;

	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	for (size_t i = 0; e && !elf_getphdrnum(e, &nph) && i < nph; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(e, i, &ph) && ph.p_type == PT_LOAD && vaddr >= ph.p_vaddr &&
		    vaddr < ph.p_vaddr + ph.p_filesz) {
			*off = vaddr - ph.p_vaddr + ph.p_offset;
			ret = 0;
		}
	}
	if (e)
		elf_end(e);
	close(fd);
	return ret;
}

/*
 * Offset below the thread pointer of TLS symbol @name of executable @path (x86-64
 * TLS variant II: the executable's block ends at the thread pointer):
 * round_up(PT_TLS p_memsz, p_align) - st_value.
 */
static int tls_offset(const char *path, const char *name, uint64_t *below)
{
	int fd = open(path, O_RDONLY), ret = -ENOENT;
	uint64_t value = 0, memsz = 0, align = 1;
	Elf_Scn *scn = NULL;
	bool have_seg = false;
	size_t nph;
	Elf *e;

	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	while (e && (scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB)
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;

			if (gelf_getsym(d, i, &sym) && GELF_ST_TYPE(sym.st_info) == STT_TLS &&
			    !strcmp(elf_strptr(e, sh.sh_link, sym.st_name), name)) {
				value = sym.st_value;
				ret = 0;
			}
		}
	}
	for (size_t i = 0; e && !elf_getphdrnum(e, &nph) && i < nph; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(e, i, &ph) && ph.p_type == PT_TLS) {
			memsz = ph.p_memsz;
			align = ph.p_align ? ph.p_align : 1;
			have_seg = true;
		}
	}
	if (!ret && !have_seg)
		ret = -ENOENT;
	*below = (memsz + align - 1) / align * align - value;
	if (e)
		elf_end(e);
	close(fd);
	return ret;
}

/* ---- values ---------------------------------------------------------------------------- */

struct values_ctx {
	struct gs_event_slot *slots;
	size_t nslots;
	int got;
	uint64_t vaddr;
};

static void print_bytes(const uint8_t *p, uint32_t n)
{
	putchar('"');
	for (uint32_t i = 0; i < n; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
			putchar(p[i]);
		else
			printf("\\x%02x", p[i]);
	}
	putchar('"');
}

static int values_event(void *arg, const struct gs_event_hdr *ev, size_t size)
{
	struct values_ctx *c = arg;
	const uint8_t *base = (const uint8_t *)ev;

	if (c->got++)
		return 0;
	printf("hdr trace_id=%u nslots=%u len_ok=%d pid_ok=%d ip_ok=%d\n", ev->trace_id, ev->nslots,
	       ev->len <= size, ev->pid == ev->host_pid && ev->pid == ev->tid, ev->ip != 0);
	for (size_t i = 0; i < c->nslots; i++) {
		const struct gs_event_slot *sl = &c->slots[i];
		const struct gs_rec_hdr *r = (const void *)(base + sl->off);
		const uint8_t *data = base + sl->off + sizeof(*r);

		if (!r->id) {
			printf("#%u unused\n", sl->id);
			continue;
		}
		printf("#%u status=%u len=%u ", r->id, r->status, r->len);
		if (r->status == GS_REC_READ_ERROR || r->status == GS_REC_NULL_DEREF ||
		    (sl->kind == GS_IR_S_VALUE && r->len == 8))
			printf("0x%" PRIx64, *(const uint64_t *)data);
		else
			print_bytes(data, r->len);
		putchar('\n');
	}
	return 0;
}

/*
 * probe_me(long a = 1000, struct item *it, const char *s = "hello", long *nullp = NULL)
 * at entry: rdi, rsi, rdx, rcx.
 */
static struct gs_ir_prog *values_prog(uint64_t vaddr)
{
	struct gs_ir_prog *p = gs_ir_prog_new();
	struct gs_ir_stmt *s, *ifs;
	struct gs_ir_expr *rsi = gs_ir_reg(p, 4), *count, *label;

#define ADD(st) gs_ir_append(&p->body, (st))
	count = gs_ir_load(p, gs_ir_binop(p, GS_IR_ADD, false, rsi, gs_ir_const(p, 8)), 4, true);
	label = gs_ir_load(p, gs_ir_binop(p, GS_IR_ADD, false, rsi, gs_ir_const(p, 32)), 8, false);
	ADD(gs_ir_stmt_new(p, GS_IR_S_VALUE, 1, gs_ir_reg(p, 5), 0));
	ADD(gs_ir_stmt_new(p, GS_IR_S_VALUE, 2, count, 0));
	ADD(gs_ir_stmt_new(p, GS_IR_S_STR, 3, gs_ir_reg(p, 1), 32));
	ADD(gs_ir_stmt_new(p, GS_IR_S_VALUE, 4, gs_ir_load(p, gs_ir_reg(p, 2), 8, false), 0));
	/* if (nullp[2] > 0) mark: the condition faults at 0x10 */
	ifs = gs_ir_stmt_new(p, GS_IR_S_IF, 5, gs_ir_binop(p, GS_IR_GT, true,
		gs_ir_load(p, gs_ir_binop(p, GS_IR_ADD, false, gs_ir_reg(p, 2), gs_ir_const(p, 16)),
			   8, false), gs_ir_const(p, 0)), 0);
	gs_ir_append(&ifs->then_body, gs_ir_stmt_new(p, GS_IR_S_MARK, 6, NULL, 0));
	ADD(ifs);
	/* if (it->count == 5) $pid == host pid check else 0 */
	ifs = gs_ir_stmt_new(p, GS_IR_S_IF, 7, gs_ir_binop(p, GS_IR_EQ, true, count,
							   gs_ir_const(p, 5)), 0);
	gs_ir_append(&ifs->then_body, gs_ir_stmt_new(p, GS_IR_S_VALUE, 8,
		gs_ir_binop(p, GS_IR_EQ, false, gs_ir_special(p, GS_IR_SP_PID),
			    gs_ir_special(p, GS_IR_SP_HOST_PID)), 0));
	gs_ir_append(&ifs->else_body, gs_ir_stmt_new(p, GS_IR_S_VALUE, 9, gs_ir_const(p, 0), 0));
	ADD(ifs);
	ADD(gs_ir_stmt_new(p, GS_IR_S_MEM, 10,
			   gs_ir_binop(p, GS_IR_ADD, false, rsi, gs_ir_const(p, 12)), 8));
	ADD(gs_ir_stmt_new(p, GS_IR_S_STR, 11, label, 8));
	ADD(gs_ir_stmt_new(p, GS_IR_S_VALUE, 12, gs_ir_streq(p, gs_ir_reg(p, 1), "hello"), 0));
	ADD(gs_ir_stmt_new(p, GS_IR_S_VALUE, 13, gs_ir_streq(p, label, "hello"), 0));
	s = gs_ir_stmt_new(p, GS_IR_S_MEM_DYN, 14, gs_ir_reg(p, 1), 32);
	s->len_expr = gs_ir_const(p, 3);
	ADD(s);
	s = gs_ir_stmt_new(p, GS_IR_S_MEM_DYN, 15, gs_ir_reg(p, 1), 4);
	s->len_expr = gs_ir_binop(p, GS_IR_MUL, false, count, gs_ir_const(p, 20));
	ADD(s);
	ADD(gs_ir_stmt_new(p, GS_IR_S_VALUE, 16, gs_ir_binop(p, GS_IR_DIV, true,
		gs_ir_unop(p, GS_IR_NEG, gs_ir_const(p, 7)), gs_ir_const(p, 2)), 0));
	ADD(gs_ir_stmt_new(p, GS_IR_S_VALUE, 17, gs_ir_binop(p, GS_IR_MOD, true,
		gs_ir_unop(p, GS_IR_NEG, gs_ir_const(p, 7)), gs_ir_const(p, 2)), 0));
	/* $pc - $bias is the probe's vaddr */
	ADD(gs_ir_stmt_new(p, GS_IR_S_VALUE, 18, gs_ir_binop(p, GS_IR_EQ, false,
		gs_ir_binop(p, GS_IR_SUB, false, gs_ir_special(p, GS_IR_SP_PC),
			    gs_ir_special(p, GS_IR_SP_BIAS)), gs_ir_const(p, vaddr)), 0));
	ADD(gs_ir_stmt_new(p, GS_IR_S_VALUE, 19, gs_ir_select(p,
		gs_ir_memeq(p, gs_ir_binop(p, GS_IR_ADD, false, rsi, gs_ir_const(p, 12)), NULL,
			    "widget", 7), gs_ir_const(p, 0xaa), gs_ir_const(p, 0xbb)), 0));
	ADD(gs_ir_stmt_new(p, GS_IR_S_VALUE, 20, gs_ir_ext(p, gs_ir_const(p, 0x1ff), 8, true), 0));
	ADD(gs_ir_stmt_new(p, GS_IR_S_RETURN, 0, NULL, 0));
	ADD(gs_ir_stmt_new(p, GS_IR_S_MARK, 21, NULL, 0));
#undef ADD
	return p;
}

/*
 * dev/ino of @pid's pid namespace, set even for the initial one (where ghostscope
 * leaves them 0): the programs then take the bpf_get_ns_current_pid_tgid() path.
 */
static int pidns_of(int pid, uint64_t *dev_ret, uint64_t *ino_ret)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", pid);
	if (stat(path, &st))
		return -errno;
	*dev_ret = st.st_dev;
	*ino_ret = st.st_ino;
	return 0;
}

static int run_values(const char *target, int pid)
{
	struct gs_codegen_opts o = { .max_trace_id = 8, .uprobe_multi = true };
	struct gs_loader_opts lo = { .strict_btf = true };
	struct values_ctx c = { 0 };
	struct gs_attach_point pt = { .path = target, .trace_id = 7, .pid = -1 };
	struct gs_loader *l = NULL;
	struct gs_ir_prog *p;
	const struct gs_ir_prog *progs[1];
	uint32_t evlen;
	char err[512];
	void *obj = NULL;
	size_t len;
	int ret, bad;

	if (sym_offset(target, "probe_me", &pt.vaddr, &pt.file_off))
		return fprintf(stderr, "no probe_me in '%s'\n", target), 1;
	p = values_prog(pt.vaddr);
	char *dump = gs_ir_dump(p);

	fputs(dump, stderr);
	free(dump);
	progs[0] = p;
	o.uprobe_multi = gs_loader_has_uprobe_multi();
	ret = pidns_of(pid, &o.pidns_dev, &o.pidns_ino);
	if (!ret)
		ret = gs_codegen_emit(progs, 1, &o, &obj, &len, err, sizeof(err));
	if (!ret)
		ret = gs_codegen_layout(p, &c.slots, &c.nslots, &evlen);
	if (!ret)
		ret = gs_loader_open(obj, len, 1, &lo, &l, &bad, err, sizeof(err));
	if (!ret)
		ret = gs_loader_attach(l, &pt, 1, err, sizeof(err));
	for (int i = 0; !ret && i < 100 && !c.got; i++)
		ret = gs_loader_poll(l, 50, values_event, &c) < 0;
	if (ret)
		fprintf(stderr, "error %d: %s\n", ret, err);
	else if (!c.got)
		fprintf(stderr, "no event\n"), ret = 1;
	gs_loader_close(l);
	free(c.slots);
	free(obj);
	gs_ir_prog_free(p);
	return ret ? 1 : 0;
}

/* ---- many ------------------------------------------------------------------------------- */

struct many_ctx {
	unsigned char *seen;
	size_t n, distinct, events;
};

static int many_event(void *arg, const struct gs_event_hdr *ev, size_t size)
{
	struct many_ctx *c = arg;

	c->events++;
	if (ev->trace_id >= 1 && ev->trace_id <= c->n && !c->seen[ev->trace_id]++)
		c->distinct++;
	return 0;
}

static int run_many(const char *target, const char *prefix, size_t n, bool single)
{
	struct gs_codegen_opts o = { .max_trace_id = n };
	struct gs_loader_opts lo = { .strict_btf = true, .force_single = single };
	struct gs_attach_point *pts = calloc(n, sizeof(*pts));
	struct many_ctx c = { .seen = calloc(n + 1, 1), .n = n };
	struct gs_ir_prog *p = gs_ir_prog_new();
	const struct gs_ir_prog *progs[1] = { p };
	struct gs_loader *l = NULL;
	double t0, t_attach, t_detach;
	char err[512], name[64];
	void *obj = NULL;
	size_t len;
	int ret = 0;

	gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_VALUE, 1,
					      gs_ir_special(p, GS_IR_SP_TRACE_ID), 0));
	gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_VALUE, 2, gs_ir_reg(p, 5), 0));
	for (size_t i = 0; i < n && !ret; i++) {
		snprintf(name, sizeof(name), "%s%zu", prefix, i);
		pts[i] = (struct gs_attach_point){ .path = target, .trace_id = i + 1, .pid = -1 };
		ret = sym_offset(target, name, &pts[i].vaddr, &pts[i].file_off);
	}
	if (ret)
		return fprintf(stderr, "symbols missing in '%s'\n", target), 1;
	o.uprobe_multi = !single && gs_loader_has_uprobe_multi();
	ret = gs_codegen_emit(progs, 1, &o, &obj, &len, err, sizeof(err));
	if (!ret)
		ret = gs_loader_open(obj, len, 1, &lo, &l, NULL, err, sizeof(err));
	if (ret)
		return fprintf(stderr, "error %d: %s\n", ret, err), 1;
	t0 = now_ms();
	ret = gs_loader_attach(l, pts, n, err, sizeof(err));
	t_attach = now_ms() - t0;
	if (ret)
		return fprintf(stderr, "error %d: %s\n", ret, err), 1;
	for (int i = 0; i < 100 && c.distinct < n; i++)
		gs_loader_poll(l, 20, many_event, &c);
	t0 = now_ms();
	gs_loader_detach(l);
	t_detach = now_ms() - t0;
	printf("mode=%s links=%s probes=%zu distinct=%zu\n", gs_loader_uses_multi(l) ? "multi" : "single",
	       gs_loader_uses_multi(l) ? "1" : "n", n, c.distinct);
	fprintf(stderr, "attach %zu probes: %.1f ms, detach: %.1f ms, events %zu\n", n, t_attach,
		t_detach, c.events);
	gs_loader_close(l);
	free(obj);
	free(pts);
	free(c.seen);
	gs_ir_prog_free(p);
	return 0;
}

/* ---- lost ------------------------------------------------------------------------------- */

static int count_event(void *arg, const struct gs_event_hdr *ev, size_t size)
{
	(*(size_t *)arg)++;
	return 0;
}

static int run_lost(const char *target)
{
	struct gs_codegen_opts o = { .max_trace_id = 3, .ringbuf_bytes = 4096 };
	struct gs_loader_opts lo = { .strict_btf = true };
	struct gs_attach_point pt = { .path = target, .trace_id = 3, .pid = -1 };
	struct gs_ir_prog *p = gs_ir_prog_new();
	const struct gs_ir_prog *progs[1] = { p };
	struct gs_loader *l = NULL;
	uint64_t lost = 0, lost_other = 0;
	size_t events = 0;
	char err[512];
	void *obj = NULL;
	size_t len;
	int ret;

	gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_MEM, 1, gs_ir_reg(p, 4), 512));
	if (sym_offset(target, "probe_me", &pt.vaddr, &pt.file_off))
		return 1;
	o.uprobe_multi = gs_loader_has_uprobe_multi();
	ret = gs_codegen_emit(progs, 1, &o, &obj, &len, err, sizeof(err));
	if (!ret)
		ret = gs_loader_open(obj, len, 1, &lo, &l, NULL, err, sizeof(err));
	if (!ret)
		ret = gs_loader_attach(l, &pt, 1, err, sizeof(err));
	if (ret)
		return fprintf(stderr, "error %d: %s\n", ret, err), 1;
	usleep(300 * 1000);	/* no reader: the 4 KiB ring overflows */
	gs_loader_poll(l, 0, count_event, &events);
	gs_loader_lost(l, 3, &lost);
	gs_loader_lost(l, 2, &lost_other);
	printf("events>0=%d lost>0=%d lost_other=%" PRIu64 "\n", events > 0, lost > 0, lost_other);
	fprintf(stderr, "events %zu lost %" PRIu64 "\n", events, lost);
	gs_loader_close(l);
	free(obj);
	gs_ir_prog_free(p);
	return 0;
}

static int run_dry(void)
{
	struct gs_ir_prog *a = values_prog(0x1000), *b = gs_ir_prog_new();
	const struct gs_ir_prog *progs[2] = { a, b };
	struct gs_codegen_opts o = { .max_trace_id = 2 };
	uint32_t cnt[2];
	char err[256];
	void *obj;
	size_t len;
	double t0 = now_ms();
	int ret;

	gs_ir_append(&b->body, gs_ir_stmt_new(b, GS_IR_S_MARK, 1, NULL, 0));
	ret = gs_codegen_emit(progs, 2, &o, &obj, &len, err, sizeof(err));
	if (ret)
		return fprintf(stderr, "error %d: %s\n", ret, err), 1;
	fprintf(stderr, "codegen %.1f ms\n", now_ms() - t0);
	ret = gs_codegen_insn_counts(obj, len, cnt, 2);
	printf("object=%d insns0>100=%d insns1<120=%d\n", len > 1000, cnt[0] > 100, cnt[1] < 120);
	fprintf(stderr, "object %zu bytes, insns %u %u\n", len, cnt[0], cnt[1]);
	free(obj);
	gs_ir_prog_free(a);
	gs_ir_prog_free(b);
	return ret ? 1 : 0;
}

/* ---- ret --------------------------------------------------------------------------------- */

struct ret_ctx {
	int probe_me, rec_started, rec_done, orphan, entry_events;
	char rec_lines[4][96];
};

static const struct gs_rec_hdr *rec_at(const struct gs_event_hdr *ev, uint32_t off)
{
	return (const void *)((const uint8_t *)ev + off);
}

static uint64_t rec_u64(const struct gs_event_hdr *ev, uint32_t off)
{
	return *(const uint64_t *)((const uint8_t *)ev + off + 8);
}

/* Slots of every program here are VALUE/COMM records at 40, 56, 72, ... */
static int ret_event(void *arg, const struct gs_event_hdr *ev, size_t size)
{
	struct ret_ctx *c = arg;

	if (ev->trace_id == 10 || ev->trace_id == 20) {
		c->entry_events++;
		return 0;
	}
	if (ev->trace_id == 11 && !c->probe_me++) {
		printf("probe_me return: nslots=%u\n", ev->nslots);
		for (uint32_t i = 0; i < 5; i++) {
			const struct gs_rec_hdr *r = rec_at(ev, 40 + 16 * i);

			printf("  #%u status=%u 0x%" PRIx64 "\n", r->id, r->status,
			       rec_u64(ev, 40 + 16 * i));
		}
		printf("  #%u comm=\"%.16s\" len=%u\n", rec_at(ev, 120)->id,
		       (const char *)ev + 128, rec_at(ev, 120)->len);
	}
	if (ev->trace_id == 12 && c->rec_done < 4) {
		const struct gs_rec_hdr *r = rec_at(ev, 40);

		/* Start at the innermost return whose entry was seen (attach is mid-loop). */
		if (!c->rec_started && r->status == 0 && rec_u64(ev, 40) == 0)
			c->rec_started = 1;
		if (c->rec_started)
			snprintf(c->rec_lines[c->rec_done++], sizeof(c->rec_lines[0]),
				 "rec return: n=%" PRIu64 " status=%u retval=%" PRIu64,
				 rec_u64(ev, 40), r->status, rec_u64(ev, 56));
	}
	if (ev->trace_id == 13 && !c->orphan++)
		printf("orphan return: status=%u data=0x%" PRIx64 "\n", rec_at(ev, 40)->status,
		       rec_u64(ev, 40));
	return 0;
}

/* At a function's first instruction the call has just pushed the return address. */
static void set_entry_cfa(struct gs_ir_prog *p)
{
	p->cfa_valid = true;
	p->cfa_reg = 7;	/* rsp */
	p->cfa_off = 8;
}

static int run_ret(const char *target, bool single)
{
	struct gs_codegen_opts o = { .max_trace_id = 20 };
	struct gs_loader_opts lo = { .strict_btf = true, .force_single = single };
	struct gs_ir_prog *p[5];
	const struct gs_ir_prog *progs[5];
	struct gs_attach_point pts[5];
	struct gs_ir_expr *sv[4];
	struct ret_ctx c = { 0 };
	struct gs_loader *l = NULL;
	uint64_t pm_vaddr, pm_off, rec_vaddr, rec_off;
	char err[512];
	void *obj = NULL;
	size_t len;
	int ret, bad = -1;

	if (sym_offset(target, "probe_me", &pm_vaddr, &pm_off) ||
	    sym_offset(target, "rec", &rec_vaddr, &rec_off))
		return fprintf(stderr, "symbols missing in '%s'\n", target), 1;
	for (int i = 0; i < 5; i++)
		progs[i] = p[i] = gs_ir_prog_new();
	/* 0: probe_me entry saves a, it, it->count and *nullp (faults) for trace 11 */
	sv[0] = gs_ir_reg(p[0], 5);
	sv[1] = gs_ir_reg(p[0], 4);
	sv[2] = gs_ir_load(p[0], gs_ir_binop(p[0], GS_IR_ADD, false, sv[1], gs_ir_const(p[0], 8)),
			   4, true);
	sv[3] = gs_ir_load(p[0], gs_ir_reg(p[0], 2), 8, false);
	gs_ir_append(&p[0]->body, gs_ir_save(p[0], 11, sv, 4));
	set_entry_cfa(p[0]);
	/* 1: probe_me return: $retval, a, it->count read now, it->count saved, *nullp, $comm */
	p[1]->retprobe = true;
	gs_ir_append(&p[1]->body, gs_ir_stmt_new(p[1], GS_IR_S_VALUE, 1, gs_ir_reg(p[1], 0), 0));
	gs_ir_append(&p[1]->body, gs_ir_stmt_new(p[1], GS_IR_S_VALUE, 2, gs_ir_saved(p[1], 0), 0));
	gs_ir_append(&p[1]->body, gs_ir_stmt_new(p[1], GS_IR_S_VALUE, 3, gs_ir_load(p[1],
		gs_ir_binop(p[1], GS_IR_ADD, false, gs_ir_saved(p[1], 1), gs_ir_const(p[1], 8)),
		4, true), 0));
	gs_ir_append(&p[1]->body, gs_ir_stmt_new(p[1], GS_IR_S_VALUE, 4, gs_ir_saved(p[1], 2), 0));
	gs_ir_append(&p[1]->body, gs_ir_stmt_new(p[1], GS_IR_S_VALUE, 5, gs_ir_saved(p[1], 3), 0));
	gs_ir_append(&p[1]->body, gs_ir_stmt_new(p[1], GS_IR_S_COMM, 6, NULL, 0));
	/* 2, 3: rec entry saves n under key 12; its return prints n and $retval */
	sv[0] = gs_ir_reg(p[2], 5);
	gs_ir_append(&p[2]->body, gs_ir_save(p[2], 12, sv, 1));
	set_entry_cfa(p[2]);
	p[3]->retprobe = true;
	p[3]->save_key = 12;
	gs_ir_append(&p[3]->body, gs_ir_stmt_new(p[3], GS_IR_S_VALUE, 1, gs_ir_saved(p[3], 0), 0));
	gs_ir_append(&p[3]->body, gs_ir_stmt_new(p[3], GS_IR_S_VALUE, 2, gs_ir_reg(p[3], 0), 0));
	/* 4: a return probe whose key no entry saves under */
	p[4]->retprobe = true;
	gs_ir_append(&p[4]->body, gs_ir_stmt_new(p[4], GS_IR_S_VALUE, 1, gs_ir_saved(p[4], 0), 0));

	/* program i: on probe_me (0, 1) or rec (2-4), its trace id, on return or not */
	static const struct { bool rec; uint32_t trace_id; bool retprobe; } at[5] = {
		{ false, 10, false }, { false, 11, true }, { true, 20, false },
		{ true, 12, true }, { true, 13, true },
	};
	for (uint32_t i = 0; i < 5; i++)
		pts[i] = (struct gs_attach_point){
			.path = target, .file_off = at[i].rec ? rec_off : pm_off,
			.vaddr = at[i].rec ? rec_vaddr : pm_vaddr, .trace_id = at[i].trace_id,
			.prog = i, .pid = -1, .retprobe = at[i].retprobe };
	for (int i = 0; i < 5; i++) {
		char *d = gs_ir_dump(p[i]);

		fprintf(stderr, "prog %d:\n%s", i, d);
		free(d);
	}
	o.uprobe_multi = !single && gs_loader_has_uprobe_multi();
	ret = gs_codegen_emit(progs, 5, &o, &obj, &len, err, sizeof(err));
	if (!ret)
		ret = gs_loader_open(obj, len, 5, &lo, &l, &bad, err, sizeof(err));
	if (!ret)
		ret = gs_loader_attach(l, pts, 5, err, sizeof(err));
	for (int i = 0; !ret && i < 200 && (!c.probe_me || c.rec_done < 4 || !c.orphan); i++)
		ret = gs_loader_poll(l, 20, ret_event, &c) < 0;
	if (ret) {
		fprintf(stderr, "error %d (program %d): %s\n", ret, bad, err);
	} else {
		for (int i = 0; i < c.rec_done; i++)
			printf("%s\n", c.rec_lines[i]);
		printf("entry events=%d mode=%s\n", c.entry_events,
		       gs_loader_uses_multi(l) ? "multi" : "single");
	}
	gs_loader_close(l);
	free(obj);
	for (int i = 0; i < 5; i++)
		gs_ir_prog_free(p[i]);
	return ret ? 1 : 0;
}

/* ---- tls --------------------------------------------------------------------------------- */

struct tls_ctx {
	uint32_t main_tid;
	char main_line[96], thread_line[96];
};

/* Records: #1 v, #2 $tp == the tp argument (%rdi), at 40 and 56. */
static int tls_event(void *arg, const struct gs_event_hdr *ev, size_t size)
{
	struct tls_ctx *c = arg;
	bool is_main = ev->tid == ev->pid;
	char *line = is_main ? c->main_line : c->thread_line;

	if (line[0])
		return 0;
	snprintf(line, sizeof(c->main_line), "%s v=%" PRId64 " status=%u tp_ok=%" PRIu64 " status=%u",
		 is_main ? "main" : "thread", (int64_t)rec_u64(ev, 40), rec_at(ev, 40)->status,
		 rec_u64(ev, 56), rec_at(ev, 56)->status);
	return 0;
}

static int run_tls(const char *target, bool with_run)
{
	struct gs_codegen_opts o = { .max_trace_id = 1 };
	struct gs_loader_opts lo = { .strict_btf = true };
	struct gs_attach_point pt = { .path = target, .trace_id = 1, .pid = -1 };
	struct gs_ir_prog *p = gs_ir_prog_new();
	const struct gs_ir_prog *progs[1] = { p };
	struct tls_ctx c = { 0 };
	struct gs_loader *l = NULL;
	uint64_t below = 0;
	uint32_t fsbase = 0;
	char err[512], *dump;
	void *obj = NULL;
	size_t len;
	int ret;

	if (sym_offset(target, "read_v", &pt.vaddr, &pt.file_off) ||
	    tls_offset(target, "v", &below))
		return fprintf(stderr, "read_v or TLS v missing in '%s'\n", target), 1;
	gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_VALUE, 1, gs_ir_load(p,
		gs_ir_binop(p, GS_IR_SUB, false, gs_ir_special(p, GS_IR_SP_TP),
			    gs_ir_const(p, below)), 4, true), 0));
	gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_VALUE, 2, gs_ir_binop(p, GS_IR_EQ, false,
		gs_ir_special(p, GS_IR_SP_TP), gs_ir_reg(p, 5)), 0));
	dump = gs_ir_dump(p);
	fprintf(stderr, "v at $tp - %" PRIu64 "\n%s", below, dump);
	free(dump);
	o.uprobe_multi = gs_loader_has_uprobe_multi();
	if (with_run)
		lo.run = &o;	/* per-run settings replace gs_cfg: fsbase_off must survive */
	ret = gs_loader_fsbase_offset(&fsbase, err, sizeof(err));
	if (!ret)
		fprintf(stderr, "task_struct.thread.fsbase at %u\n", fsbase);
	if (!ret)
		ret = gs_codegen_emit(progs, 1, &o, &obj, &len, err, sizeof(err));
	if (!ret)
		ret = gs_loader_open(obj, len, 1, &lo, &l, NULL, err, sizeof(err));
	if (!ret)
		ret = gs_loader_attach(l, &pt, 1, err, sizeof(err));
	for (int i = 0; !ret && i < 200 && (!c.main_line[0] || !c.thread_line[0]); i++)
		ret = gs_loader_poll(l, 20, tls_event, &c) < 0;
	if (ret)
		fprintf(stderr, "error %d: %s\n", ret, err);
	else
		printf("%s\n%s\n", c.main_line, c.thread_line);
	gs_loader_close(l);
	free(obj);
	gs_ir_prog_free(p);
	return ret ? 1 : 0;
}

/* ---- frame ------------------------------------------------------------------------------- */

struct frame_ctx {
	int started, done, orphan;
	uint64_t last_cfa;
	bool cfa_up;
	char lines[3][96];
};

/* Trace 2: #1 saved n, #2 %rdi now, #3 $cfa; trace 3: #1 a key nothing saved under. */
static int frame_event(void *arg, const struct gs_event_hdr *ev, size_t size)
{
	struct frame_ctx *c = arg;
	uint64_t n = rec_u64(ev, 40), cfa = rec_u64(ev, 72);

	if (ev->trace_id == 3 && !c->orphan++)
		printf("other key: status=%u\n", rec_at(ev, 40)->status);
	if (ev->trace_id != 2 || c->done >= 3)
		return 0;
	/* Start at the innermost level whose entry was seen (attach is mid-loop). */
	if (!c->started && rec_at(ev, 40)->status == 0 && n == 1) {
		c->started = 1;
		c->cfa_up = true;
	} else if (c->started) {
		c->cfa_up = c->cfa_up && cfa > c->last_cfa;
	}
	if (!c->started)
		return 0;
	c->last_cfa = cfa;
	snprintf(c->lines[c->done++], sizeof(c->lines[0]), "after call: n=%" PRIu64
		 " status=%u rdi=%" PRIu64, n, rec_at(ev, 40)->status, rec_u64(ev, 56));
	return 0;
}

static int run_frame(const char *target, uint64_t later_vaddr)
{
	struct gs_codegen_opts o = { .max_trace_id = 3 };
	struct gs_loader_opts lo = { .strict_btf = true };
	struct gs_ir_prog *p[3];
	const struct gs_ir_prog *progs[3];
	struct gs_attach_point pts[3];
	struct frame_ctx c = { 0 };
	struct gs_loader *l = NULL;
	uint64_t entry_vaddr = 0, entry_off = 0, later_off = 0;
	struct gs_ir_expr *v;
	char err[512];
	void *obj = NULL;
	size_t len;
	int ret, bad = -1;

	if (sym_offset(target, "frec", &entry_vaddr, &entry_off) ||
	    vaddr_offset(target, later_vaddr, &later_off))
		return fprintf(stderr, "frec or 0x%" PRIx64 " missing in '%s'\n", later_vaddr,
			       target), 1;
	for (int i = 0; i < 3; i++)
		progs[i] = p[i] = gs_ir_prog_new();
	/* 0: at entry, CFA = rsp + 8: save n (%rdi) under key 7 */
	p[0]->cfa_valid = true;
	p[0]->cfa_reg = 7;
	p[0]->cfa_off = 8;
	v = gs_ir_reg(p[0], 5);
	gs_ir_append(&p[0]->body, gs_ir_save_frame(p[0], 7, gs_ir_special(p[0], GS_IR_SP_CFA),
						   &v, 1));
	/* 1: after the inner call, CFA = rbp + 16: the saved n, %rdi now, the CFA */
	p[1]->cfa_valid = true;
	p[1]->cfa_reg = 6;
	p[1]->cfa_off = 16;
	gs_ir_append(&p[1]->body, gs_ir_stmt_new(p[1], GS_IR_S_VALUE, 1,
		gs_ir_saved_frame(p[1], 7, 0, gs_ir_special(p[1], GS_IR_SP_CFA)), 0));
	gs_ir_append(&p[1]->body, gs_ir_stmt_new(p[1], GS_IR_S_VALUE, 2, gs_ir_reg(p[1], 5), 0));
	gs_ir_append(&p[1]->body, gs_ir_stmt_new(p[1], GS_IR_S_VALUE, 3,
						 gs_ir_special(p[1], GS_IR_SP_CFA), 0));
	/* 2: same place, a key nothing saves under */
	p[2]->cfa_valid = true;
	p[2]->cfa_reg = 6;
	p[2]->cfa_off = 16;
	gs_ir_append(&p[2]->body, gs_ir_stmt_new(p[2], GS_IR_S_VALUE, 1,
		gs_ir_saved_frame(p[2], 8, 0, gs_ir_special(p[2], GS_IR_SP_CFA)), 0));
	pts[0] = (struct gs_attach_point){
		.path = target, .file_off = entry_off, .vaddr = entry_vaddr, .trace_id = 1,
		.prog = 0, .pid = -1, .retprobe = false };
	pts[1] = (struct gs_attach_point){
		.path = target, .file_off = later_off, .vaddr = later_vaddr, .trace_id = 2,
		.prog = 1, .pid = -1, .retprobe = false };
	pts[2] = (struct gs_attach_point){
		.path = target, .file_off = later_off, .vaddr = later_vaddr, .trace_id = 3,
		.prog = 2, .pid = -1, .retprobe = false };
	for (int i = 0; i < 3; i++) {
		char *d = gs_ir_dump(p[i]);

		fprintf(stderr, "prog %d:\n%s", i, d);
		free(d);
	}
	o.uprobe_multi = gs_loader_has_uprobe_multi();
	ret = gs_codegen_emit(progs, 3, &o, &obj, &len, err, sizeof(err));
	if (!ret)
		ret = gs_loader_open(obj, len, 3, &lo, &l, &bad, err, sizeof(err));
	if (!ret)
		ret = gs_loader_attach(l, pts, 3, err, sizeof(err));
	for (int i = 0; !ret && i < 200 && (c.done < 3 || !c.orphan); i++)
		ret = gs_loader_poll(l, 20, frame_event, &c) < 0;
	if (ret) {
		fprintf(stderr, "error %d (program %d): %s\n", ret, bad, err);
	} else {
		for (int i = 0; i < c.done; i++)
			printf("%s\n", c.lines[i]);
		printf("cfa grows outward=%d\n", c.cfa_up);
	}
	gs_loader_close(l);
	free(obj);
	for (int i = 0; i < 3; i++)
		gs_ir_prog_free(p[i]);
	return ret ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "values"))
		return run_values(argv[2], atoi(argv[3]));
	if (argc >= 5 && !strcmp(argv[1], "many"))
		return run_many(argv[2], argv[3], strtoul(argv[4], NULL, 0),
				argc > 5 && !strcmp(argv[5], "single"));
	if (argc >= 3 && !strcmp(argv[1], "lost"))
		return run_lost(argv[2]);
	if (argc >= 2 && !strcmp(argv[1], "dry"))
		return run_dry();
	if (argc >= 3 && !strcmp(argv[1], "ret"))
		return run_ret(argv[2], argc > 3 && !strcmp(argv[3], "single"));
	if (argc >= 3 && !strcmp(argv[1], "tls"))
		return run_tls(argv[2], argc > 3 && !strcmp(argv[3], "run"));
	if (argc >= 4 && !strcmp(argv[1], "frame"))
		return run_frame(argv[2], strtoull(argv[3], NULL, 0));
	fprintf(stderr, "usage: driver values|many|lost|dry|ret|tls|frame ...\n");
	return 2;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Test driver for GS_IR_S_BACKTRACE without the planner: builds the CFI tables of
 * every module mapped executable in the target process with the indexer's table
 * builder (gs_cfi_build, the rows the index stores), installs them with
 * gs_loader_set_unwind, probes f3's entry and prints what the BPF unwinder recorded:
 *
 *   bt_driver TARGET PID DEPTH [notables|exeonly]   (exeonly: TARGET's tables only)
 *   status=<n> frames=<n>
 *   <module basename>+0x<module vaddr>      one line per frame, frame 0 first
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "indexer/cfi.h"
#include "shared/elf.h"
#include "tracer/codegen.h"
#include "tracer/event.h"
#include "tracer/ir.h"
#include "tracer/loader.h"

enum { MAX_MODS = 16 };

struct mod {
	char path[256];
	struct gs_cfi_row *rows;
	struct gs_cfi_entry *ents;
	size_t nrows, nents, nranges;
	struct gs_unwind_range ranges[4];
};

static struct mod mods[MAX_MODS];
static size_t nmods;

/* Module vaddr of the file offset @pgoff through its PT_LOAD. */
static int pgoff_vaddr(const char *path, uint64_t pgoff, uint64_t *vaddr)
{
	struct gs_elf *elf = NULL;
	struct gs_segment *segs = NULL;
	size_t n = 0;
	int ret = gs_elf_open(path, &elf);

	if (!ret)
		ret = gs_elf_segments(elf, &segs, &n);
	if (!ret)
		ret = -ENOENT;
	for (size_t i = 0; i < n && ret; i++) {
		if (pgoff >= (segs[i].offset & ~0xfffull) && pgoff < segs[i].offset + segs[i].filesz) {
			*vaddr = segs[i].vaddr - segs[i].offset + pgoff;
			ret = 0;
		}
	}
	free(segs);
	gs_elf_close(elf);
	return ret;
}

/* Every executable file mapping of @pid, with its CFI. */
static int load_modules(int pid)
{
	char line[512], maps[64];
	FILE *f;

	snprintf(maps, sizeof(maps), "/proc/%d/maps", pid);
	f = fopen(maps, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		uint64_t start, end, pgoff, vaddr = 0;
		char perms[8], path[256] = "";
		struct mod *m = NULL;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %*s %*s %255s", &start, &end,
			   perms, &pgoff, path) < 4 || perms[2] != 'x' || path[0] != '/')
			continue;
		for (size_t i = 0; i < nmods; i++)
			if (!strcmp(mods[i].path, path))
				m = &mods[i];
		if (!m) {
			struct gs_elf *elf = NULL;

			if (nmods == MAX_MODS || gs_elf_open(path, &elf))
				continue;
			m = &mods[nmods];
			snprintf(m->path, sizeof(m->path), "%s", path);
			if (gs_cfi_build(gs_elf_handle(elf), NULL, &m->rows, &m->nrows, &m->ents,
					 &m->nents)) {
				gs_elf_close(elf);
				continue;
			}
			gs_elf_close(elf);
			nmods++;
		}
		if (m->nranges < 4 && !pgoff_vaddr(path, pgoff, &vaddr))
			m->ranges[m->nranges++] = (struct gs_unwind_range){ start, end, start - vaddr };
	}
	fclose(f);
	return 0;
}

/* "basename+0xvaddr" of runtime @pc, or "?+0xpc". */
static void print_pc(uint64_t pc)
{
	for (size_t i = 0; i < nmods; i++) {
		for (size_t r = 0; r < mods[i].nranges; r++) {
			const struct gs_unwind_range *rg = &mods[i].ranges[r];
			const char *base = strrchr(mods[i].path, '/') + 1;

			if (pc >= rg->start && pc < rg->end) {
				printf("%s+0x%" PRIx64 "\n", base, pc - rg->bias);
				return;
			}
		}
	}
	printf("?+0x%" PRIx64 "\n", pc);
}

static int bt_event(void *arg, const struct gs_event_hdr *ev, size_t size)
{
	const uint8_t *base = (const uint8_t *)ev;
	const struct gs_rec_hdr *r = (const void *)(base + sizeof(*ev));
	const struct gs_bt_hdr *bh = (const void *)(r + 1);
	const uint64_t *pcs = (const void *)(bh + 1);
	int *got = arg;

	if ((*got)++)
		return 0;
	printf("status=%u frames=%u len_ok=%d\n", bh->status, bh->nframes,
	       r->len == sizeof(*bh) + 8 * bh->nframes && r->status == GS_REC_OK);
	for (uint32_t i = 0; i < bh->nframes; i++)
		print_pc(pcs[i]);
	return 0;
}

/* vaddr and file offset of function @name in @path. */
static int func_offset(const char *path, const char *name, uint64_t *vaddr, uint64_t *off)
{
	struct gs_elf *elf = NULL;
	struct gs_symbol *syms = NULL;
	struct gs_segment *segs = NULL;
	size_t nsyms = 0, nsegs = 0;
	int ret = gs_elf_open(path, &elf);

	if (!ret)
		ret = gs_elf_symbols(elf, &syms, &nsyms);
	if (!ret)
		ret = gs_elf_segments(elf, &segs, &nsegs);
	if (!ret)
		ret = -ENOENT;
	for (size_t i = 0; i < nsyms && ret; i++)
		if (!strcmp(syms[i].name, name) && syms[i].type == 2 /* STT_FUNC */) {
			*vaddr = syms[i].value;
			ret = gs_elf_vaddr_to_offset(segs, nsegs, *vaddr, off);
		}
	free(syms);
	free(segs);
	gs_elf_close(elf);
	return ret;
}

int main(int argc, char **argv)
{
	struct gs_codegen_opts o = { .max_trace_id = 1 };
	struct gs_loader_opts lo = { .strict_btf = true };
	struct gs_attach_point pt = { .trace_id = 1 };
	struct gs_unwind_module um[MAX_MODS];
	struct gs_ir_prog *p = gs_ir_prog_new();
	const struct gs_ir_prog *progs[1] = { p };
	struct gs_loader *l = NULL;
	char err[512] = "";
	void *obj = NULL;
	size_t len;
	int ret, got = 0, bad = -1;

	if (argc < 4) {
		fprintf(stderr, "usage: bt_driver TARGET PID DEPTH [notables|exeonly]\n");
		return 2;
	}
	pt.path = argv[1];
	pt.pid = atoi(argv[2]);
	ret = func_offset(pt.path, "f3", &pt.vaddr, &pt.file_off);
	if (!ret)
		ret = load_modules(pt.pid);
	if (ret)
		return fprintf(stderr, "cannot read the target: %s\n", strerror(-ret)), 1;
	for (size_t i = 0; i < nmods; i++) {
		um[i] = (struct gs_unwind_module){ mods[i].rows, mods[i].nrows, mods[i].ents,
						   mods[i].nents, mods[i].ranges, mods[i].nranges };
		fprintf(stderr, "%s: %zu rows %zu entries %zu ranges\n", mods[i].path, mods[i].nrows,
			mods[i].nents, mods[i].nranges);
	}
	gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_BACKTRACE, 1, NULL, atoi(argv[3])));
	o.uprobe_multi = gs_loader_has_uprobe_multi();
	ret = gs_codegen_emit(progs, 1, &o, &obj, &len, err, sizeof(err));
	if (!ret)
		ret = gs_loader_open(obj, len, 1, &lo, &l, &bad, err, sizeof(err));
	/* load_modules() meets TARGET first: /proc/PID/maps is in address order. */
	if (!ret && !(argc > 4 && !strcmp(argv[4], "notables")))
		ret = gs_loader_set_unwind(l, um, argc > 4 && !strcmp(argv[4], "exeonly") ? 1 : nmods,
					   err, sizeof(err));
	if (!ret)
		ret = gs_loader_attach(l, &pt, 1, err, sizeof(err));
	for (int i = 0; !ret && i < 100 && !got; i++)
		ret = gs_loader_poll(l, 50, bt_event, &got) < 0;
	if (ret)
		fprintf(stderr, "error %d: %s\n", ret, err);
	else if (!got)
		fprintf(stderr, "no event\n"), ret = 1;
	gs_loader_close(l);
	free(obj);
	gs_ir_prog_free(p);
	for (size_t i = 0; i < nmods; i++) {
		free(mods[i].rows);
		free(mods[i].ents);
	}
	return ret ? 1 : 0;
}

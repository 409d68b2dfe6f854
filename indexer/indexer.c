// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One module, end to end: open the ELF, reuse an existing index, find the debug info,
 * fill the model (symbols, segments, CFI, DWARF), write it (see internal.h).
 */
#include <dwarf.h>
#include <errno.h>
#include <gelf.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "indexer/cfi.h"
#include "indexer/debuginfo.h"
#include "indexer/indexer.h"
#include "indexer/internal.h"
#include "indexer/writer.h"
#include "shared/elf.h"
#include "shared/errors.h"
#include "shared/index.h"
#include "shared/sort.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* GS_INDEX_TIMING=1 prints how long each phase took, wall and this thread's CPU. */
static void phase(const char *what)
{
	static double last, last_cpu;
	static int on = -1;
	double t = now(), c = thread_cpu();

	if (on < 0)
		on = getenv("GS_INDEX_TIMING") != NULL;
	if (on && last)
		fprintf(stderr, "indexer: %-12s %.3f s (cpu %.3f s)\n", what, t - last, c - last_cpu);
	last = t;
	last_cpu = c;
}

/*
 * Page faults were a third of the indexer's CPU time: the model, libdw's caches and
 * LMDB's dirty pages take about ten bytes of fresh heap per DWARF byte (170 MB,
 * 42,000 faults of 4 KiB for python3.11d), and a fault costs several microseconds in
 * a virtual machine (a trap, then clearing a page the host may not have backed yet;
 * an arena of one for all threads instead was slower: the malloc lock). With huge
 * pages the traps mostly go, the clearing stays (about a tenth of the CPU time).
 * So, once the DWARF size is known, the heap grows in one step by
 * an estimate of what the run needs, that stretch asks for transparent huge pages
 * (MADV_HUGEPAGE: no effect where THP is off), big arrays stay on the heap instead
 * of fresh mmaps, and free() does not give the stretch back. Only the brk heap of
 * the calling thread's arena is prepared (the single-module case: the main thread);
 * anything else keeps malloc's defaults. Re-called after each phase, it extends the
 * advice to what the heap has grown since.
 */
static void heap_prepare(uint64_t dwarf_bytes)
{
	static char *advised;	/* end of the advised stretch */
	const uintptr_t huge = 2u << 20;
	uintptr_t lo, hi;
	char *start, *end;

	if (SANITIZED)
		return;
	if (dwarf_bytes) {
		uint64_t want = dwarf_bytes * 10;
		size_t grab;
		bool brk_heap;
		char *p;

		if (want < (16u << 20))
			want = 16u << 20;
		if (want > (2ull << 30))
			want = 2ull << 30;
		grab = 16u << 20;	/* under the mmap threshold: from the heap */
		mallopt(M_MMAP_THRESHOLD, 32 << 20);	/* glibc's largest */
		mallopt(M_TRIM_THRESHOLD, INT_MAX);
		mallopt(M_TOP_PAD, (int)(want - grab));
		start = sbrk(0);
		p = malloc(grab);	/* grows the heap by @want at once */
		end = sbrk(0);
		brk_heap = p && end > start && (char *)p < end;
		free(p);
		if (!brk_heap)
			return;		/* not the brk heap (another thread's arena) */
		if (!advised || advised < start)
			advised = start;
	}
	if (!advised)
		return;
	end = sbrk(0);
	lo = ((uintptr_t)advised + huge - 1) & ~(huge - 1);
	hi = (uintptr_t)end & ~(huge - 1);
	if (hi > lo && !madvise((void *)lo, hi - lo, MADV_HUGEPAGE))
		advised = (char *)hi;
}

/*
 * The other threads of a run (ahead.c's, the CFI and line-table ones) allocate from
 * glibc arenas of their own: heaps of 64 MiB, aligned to their size, reused by the
 * next thread once one exits. Their pages get the same advice, found from the
 * address of a small block. Advice only: a wrong guess of the heap's bounds changes
 * nothing but page sizes.
 */
void ix_heap_advise_thread(void)
{
	const uintptr_t heap_max = 64u << 20;
	void *p;

	if (SANITIZED)
		return;
	p = malloc(64);
	if (p)
		madvise((void *)((uintptr_t)p & ~(heap_max - 1)), heap_max, MADV_HUGEPAGE);
	free(p);
}

/*
 * Room for the line rows before the walk: grown by doubling, the row arrays were
 * copied a dozen times, each copy onto fresh pages (a tenth of the walk's time on
 * python3.11d). gcc and clang emit about one row per four bytes of .debug_line
 * (nginx 0.245, python3.11d 0.234); a third of the bytes is room enough, and pages
 * that are never used are never touched. Only a hint: doubling takes over past it.
 */
static void reserve_lines(struct ix_model *m, Elf *debug_elf)
{
	Elf_Scn *scn = debug_elf ? gs_elf_section_by_name(debug_elf, ".debug_line") : NULL;
	GElf_Shdr sh;
	size_t rows;
	void *p;

	if (!scn || !gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS || m->caplines)
		return;
	rows = sh.sh_size / 3;
	if (sh.sh_flags & SHF_COMPRESSED)
		rows *= 4;	/* zlib: about a quarter of the size */
	if (rows < 1024 || rows > (SIZE_MAX >> 6))
		return;
	p = malloc(rows * sizeof(*m->lines));
	if (p) {
		m->lines = p;
		m->caplines = rows;
	}
	p = malloc(rows * sizeof(*m->stmts));
	if (p) {
		m->stmts = p;
		m->capstmts = rows;
	}
}

static int cmp_sym(const void *a, const void *b)
{
	const struct gs_symbol *x = a, *y = b;

	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	if (x->dynamic != y->dynamic)
		return x->dynamic - y->dynamic;
	return strcmp(x->name, y->name);
}

static void stats_from_info(const struct gs_module_info *mi, struct gs_indexer_stats *st)
{
	st->nfuncs = mi->nfuncs;
	st->ninlines = mi->ninlines;
	st->nvars = mi->nvars;
	st->ntypes = mi->ntypes;
	st->nlines = mi->nlines;
	st->ncfi = mi->ncfi;
	st->nsymbols = mi->nsymbols;
	st->nglobals = mi->nglobals;
	st->dwarf_bytes = mi->dwarf_bytes;
	st->has_dwarf = mi->has_dwarf;
}

/* An index of this build-id that opens and has our schema: nothing to do. */
static bool try_reuse(const char *path, struct gs_indexer_stats *st)
{
	struct gs_index *idx;
	const struct gs_module_info *mi;
	struct stat sb;

	if (gs_index_open(path, &idx))
		return false;
	gs_index_module(idx, &mi);
	stats_from_info(mi, st);
	gs_index_close(idx);
	if (stat(path, &sb) == 0)
		st->index_bytes = sb.st_size;
	st->reused = true;
	return true;
}

/*
 * A cut-off file still has headers that parse, and libelf would quietly give fewer
 * sections; an index of it would look valid and be wrong. Every PT_LOAD's file image
 * and the section header table must lie inside the file.
 */
static int check_truncated(struct gs_elf *elf, const char *path, const struct gs_segment *segs,
			   size_t nsegs)
{
	GElf_Ehdr eh;
	struct stat sb;
	uint64_t need = 0;

	if (stat(path, &sb))
		return -errno;
	for (size_t i = 0; i < nsegs; i++)
		if (segs[i].offset + segs[i].filesz > need)
			need = segs[i].offset + segs[i].filesz;
	if (gelf_getehdr(gs_elf_handle(elf), &eh) && eh.e_shoff &&
	    eh.e_shoff + (uint64_t)eh.e_shnum * eh.e_shentsize > need)
		need = eh.e_shoff + (uint64_t)eh.e_shnum * eh.e_shentsize;
	if (need > (uint64_t)sb.st_size) {
		fprintf(stderr, "indexer: '%s' is truncated: %" PRIu64 " bytes needed, %" PRIu64
			" present\n", path, need, (uint64_t)sb.st_size);
		return -GS_ERR_BAD_ELF;
	}
	return 0;
}

struct module_facts {
	const char *build_id, *path, *debug_source;
	uint16_t type, machine;
	const struct gs_segment *segs;
	size_t nsegs;
	bool has_dwarf;
	uint64_t dwarf_bytes, ncfi;
};

static int put_meta(struct ix_model *m, const struct module_facts *f)
{
	struct ix_table *t = &m->tables[GS_DB_META];
	struct gs_enc v;
	int ret;

	gs_enc_init(&v);
	gs_enc_u32le(&v, GS_SCHEMA_MAJOR);
	gs_enc_u32le(&v, GS_SCHEMA_MINOR);
	ret = ix_table_put(t, "magic", 5, GS_INDEX_MAGIC, 8);
	if (!ret)
		ret = ix_table_put(t, "schema", 6, v.buf, v.len);
	gs_enc_reset(&v);
	gs_enc_str(&v, f->build_id);
	gs_enc_str(&v, f->path);
	gs_enc_u(&v, f->type);
	gs_enc_u(&v, f->machine);
	gs_enc_u(&v, f->nsegs);
	for (size_t i = 0; i < f->nsegs; i++) {
		gs_enc_u(&v, f->segs[i].vaddr);
		gs_enc_u(&v, f->segs[i].memsz);
		gs_enc_u(&v, f->segs[i].offset);
		gs_enc_u(&v, f->segs[i].filesz);
		gs_enc_u(&v, f->segs[i].flags);
	}
	gs_enc_u8(&v, f->has_dwarf);
	gs_enc_str(&v, f->debug_source);
	gs_enc_u(&v, m->dwarf_versions);
	gs_enc_str(&v, m->producer ? m->producer : "");
	gs_enc_u(&v, (uint64_t)time(NULL));
	gs_enc_u(&v, m->nfuncs);
	gs_enc_u(&v, m->ninlines);
	gs_enc_u(&v, m->nvars);
	gs_enc_u(&v, m->ntypes);
	gs_enc_u(&v, m->nlines);
	gs_enc_u(&v, f->ncfi);
	gs_enc_u(&v, m->nsyms);
	gs_enc_u(&v, m->nglobals);
	gs_enc_u(&v, f->dwarf_bytes);
	if (!ret)
		ret = ix_table_put(t, "module", 6, v.buf, v.len);
	gs_enc_deinit(&v);
	return ret;
}

/*
 * The CFI tables depend on nothing the DWARF walk does, so they are built on a thread
 * of their own beside it. libelf is not thread-safe and the walk's libdw and the
 * look-ahead thread (ahead.c) read the same Elf handles, so this thread opens its own
 * handles of the same files.
 */
struct cfi_job {
	const char *elf_path, *debug_path;	/* debug_path: NULL none, else may be elf_path */
	Elf *elf, *debug_elf;	/* when set: build from these handles, not the paths */
	struct gs_cfi_row *rows;
	struct gs_cfi_entry *ents;
	size_t nrows, nents;
	struct gs_cfi_saved_table saved;	/* rbx, r12-r15, for the planner */
	int ret;
	pthread_t th;
	bool threaded;
};

static void *cfi_main(void *arg)
{
	struct cfi_job *j = arg;
	struct gs_elf *e = NULL, *d = NULL;
	Elf *debug = NULL;

	if (j->elf) {
		j->ret = gs_cfi_build_all(j->elf, j->debug_elf, &j->rows, &j->nrows, &j->ents,
					  &j->nents, &j->saved);
		return NULL;
	}
	j->ret = gs_elf_open(j->elf_path, &e);
	if (!j->ret && j->debug_path && strcmp(j->debug_path, j->elf_path))
		j->ret = gs_elf_open(j->debug_path, &d);
	if (!j->ret && j->debug_path)
		debug = d ? gs_elf_handle(d) : gs_elf_handle(e);
	if (!j->ret)
		j->ret = gs_cfi_build_all(gs_elf_handle(e), debug, &j->rows, &j->nrows, &j->ents,
					  &j->nents, &j->saved);
	gs_elf_close(d);
	gs_elf_close(e);
	return NULL;
}

static void *cfi_thread(void *arg)
{
	ix_heap_advise_thread();
	return cfi_main(arg);
}

/* Starts the CFI job, on a thread when two are allowed and paths are known, else here. */
static void cfi_start(struct cfi_job *j)
{
	j->threaded = !j->elf && ix_two_threads() &&
		      pthread_create(&j->th, NULL, cfi_thread, j) == 0;
	if (!j->threaded)
		cfi_main(j);
}

/*
 * Puts CFI entries under @key32 as (u32 pc - base, u32 row) when every pc fits (half
 * the bytes: python3.11d's 89,000 entries take 0.7 MB, not 1.4), else under @key as
 * struct gs_cfi_entry. *@base is the first pc of the first table put (UINT64_MAX
 * before), stored under "base" once.
 */
static int put_cfi_entries(struct ix_model *m, const struct gs_cfi_entry *ents, size_t n,
			   const char *key, const char *key32, uint64_t *base)
{
	uint8_t *pk;
	bool fits = n > 0;
	int ret;

	if (*base == UINT64_MAX && n)
		*base = ents[0].pc;
	for (size_t i = 0; i < n && fits; i++)
		fits = ents[i].pc >= *base && ents[i].pc - *base <= UINT32_MAX;
	if (!fits)
		return ix_table_put(&m->tables[GS_DB_CFI], key, strlen(key), ents, n * sizeof(*ents));
	pk = malloc(n * 8);
	if (!pk)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		uint32_t off = (uint32_t)(ents[i].pc - *base), row = ents[i].row;

		for (int k = 0; k < 4; k++) {
			pk[8 * i + k] = (uint8_t)(off >> (8 * k));
			pk[8 * i + 4 + k] = (uint8_t)(row >> (8 * k));
		}
	}
	ret = ix_table_put(&m->tables[GS_DB_CFI], key32, strlen(key32), pk, n * 8);
	free(pk);
	return ret;
}

/* Waits for the job and puts its tables into the model. */
static int put_cfi(struct ix_model *m, struct cfi_job *j, uint64_t *ncfi)
{
	uint64_t base = UINT64_MAX;
	int ret;

	if (j->threaded)
		pthread_join(j->th, NULL);
	j->threaded = false;
	*ncfi = 0;
	if (j->ret) {	/* unwinding is lost, not the module: keep going */
		fprintf(stderr, "indexer: no CFI: %s\n", gs_strerror(j->ret));
		return 0;
	}
	ret = ix_table_put(&m->tables[GS_DB_CFI], "rows", 4, j->rows, j->nrows * sizeof(*j->rows));
	if (!ret)
		ret = put_cfi_entries(m, j->ents, j->nents, "entries", "entries32", &base);
	/* schema 3.2 */
	if (!ret && j->saved.nents)
		ret = ix_table_put(&m->tables[GS_DB_CFI], "saved_rows", 10, j->saved.rows,
				   j->saved.nrows * sizeof(*j->saved.rows));
	if (!ret && j->saved.nents)
		ret = put_cfi_entries(m, j->saved.ents, j->saved.nents, "saved_entries",
				      "saved_entries32", &base);
	if (!ret && base != UINT64_MAX) {
		uint8_t b[8];

		for (int i = 0; i < 8; i++)
			b[i] = (uint8_t)(base >> (8 * i));
		ret = ix_table_put(&m->tables[GS_DB_CFI], "base", 4, b, sizeof(b));
	}
	*ncfi = j->nents;
	free(j->rows);
	free(j->ents);
	free(j->saved.rows);
	free(j->saved.ents);
	j->rows = NULL;
	j->ents = NULL;
	memset(&j->saved, 0, sizeof(j->saved));
	return ret;
}

/*
 * A stripped binary keeps only .dynsym; its separate debug file keeps the full
 * .symtab (static functions, .cold parts). Adds the debug file's symbols that the
 * binary lacks (same value and name), so that addresses in static code have names.
 * @syms is sorted by cmp_sym; the result is too. The names stay in @dbg's memory.
 */
static int merge_debug_symbols(struct gs_elf *dbg, struct gs_symbol **syms, size_t *nsyms)
{
	struct gs_symbol *more = NULL, *all;
	size_t nmore = 0, n = *nsyms;
	int ret = gs_elf_symbols(dbg, &more, &nmore);

	if (ret || !nmore)
		goto out;
	all = realloc(*syms, (n + nmore) * sizeof(*all));
	if (!all) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nmore; i++) {
		size_t lo = 0, hi = *nsyms;
		bool dup = false;

		while (lo < hi) {	/* first of the binary's symbols at this value */
			size_t mid = lo + (hi - lo) / 2;

			if (all[mid].value < more[i].value)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < *nsyms && all[lo].value == more[i].value && !dup; lo++)
			dup = !strcmp(all[lo].name, more[i].name);
		if (!dup)
			all[n++] = more[i];
	}
	gs_qsort(all, n, sizeof(*all), cmp_sym);
	*syms = all;
	*nsyms = n;
out:
	free(more);
	return ret;
}

static void *lines_main(void *arg)
{
	ix_heap_advise_thread();
	return (void *)(intptr_t)ix_lines_finish(arg);
}

static int build(struct ix_model *m, struct gs_elf *elf, const char *elf_path,
		 const char *debug_file, bool exiting, const char *bid, const char *out_path,
		 struct gs_indexer_stats *st)
{
	struct module_facts f = { .build_id = bid, .path = elf_path };
	struct gs_debuginfo *di = NULL;
	struct gs_segment *segs = NULL;
	struct gs_symbol *syms = NULL;
	struct gs_elf *dbg_elf = NULL;	/* a separate debug file's .symtab */
	struct cfi_job cfi = { .elf_path = elf_path };
	const char *dbg_path;
	size_t nsyms = 0;
	char real[PATH_MAX];
	pthread_t lines_th;
	bool lines_started = false;
	int ret;

	phase(NULL);
	if (realpath(elf_path, real))
		f.path = real;
	ret = gs_elf_type(elf, &f.type, &f.machine);
	if (!ret && f.type != ET_EXEC && f.type != ET_DYN)
		ret = -GS_ERR_NOT_ELF;
	if (!ret)
		ret = gs_elf_segments(elf, &segs, &f.nsegs);
	if (!ret)
		ret = check_truncated(elf, elf_path, segs, f.nsegs);
	if (!ret)
		ret = gs_elf_symbols(elf, &syms, &nsyms);
	if (ret)
		goto out;
	f.segs = segs;
	gs_qsort(syms, nsyms, sizeof(*syms), cmp_sym);
	m->syms = syms;
	m->nsyms = nsyms;
	m->min_exec = UINT64_MAX;
	for (size_t i = 0; i < f.nsegs; i++)
		if ((segs[i].flags & PF_X) && segs[i].vaddr < m->min_exec)
			m->min_exec = segs[i].vaddr;
	if (m->min_exec == UINT64_MAX)
		m->min_exec = 0;
	ret = gs_debuginfo_open(elf_path, debug_file, &di);
	if (ret)
		goto out;
	f.has_dwarf = di->dwarf != NULL;
	f.debug_source = di->source;
	dbg_path = strchr(di->source, ':');
	if (dbg_path && di->debug_elf != gs_elf_handle(elf) && !gs_elf_open(dbg_path + 1, &dbg_elf)) {
		ret = merge_debug_symbols(dbg_elf, &syms, &nsyms);
		if (ret)
			goto out;
		m->syms = syms;
		m->nsyms = nsyms;
	}
	f.dwarf_bytes = di->dwarf_bytes;
	m->bias = di->bias;
	heap_prepare(f.dwarf_bytes);
	reserve_lines(m, di->debug_elf);
	phase("debuginfo");
	if (di->debug_elf == gs_elf_handle(elf)) {
		cfi.debug_path = elf_path;
	} else if (di->debug_elf && dbg_path) {
		cfi.debug_path = dbg_path + 1;
	} else if (di->debug_elf) {	/* a debug file without a path: its own handle */
		cfi.elf = gs_elf_handle(elf);
		cfi.debug_elf = di->debug_elf;
	}
	cfi_start(&cfi);
	if (di->dwarf)
		ret = ix_walk(m, di->dwarf);
	phase("walk");
	if (!ret)
		ret = put_cfi(m, &cfi, &f.ncfi);
	heap_prepare(0);
	if (!ret)
		ret = ix_funcs_add_symbols(m);
	/* the line tables on a second thread, beside the function, type and symbol ones */
	if (!ret && ix_two_threads() && pthread_create(&lines_th, NULL, lines_main, m) == 0)
		lines_started = true;
	if (!ret)
		ret = ix_funcs_finish(m, f.has_dwarf);
	if (!ret)
		ret = ix_types_finish(m);	/* the symbol tables: ix_funcs_finish */
	if (lines_started) {
		void *lr;

		pthread_join(lines_th, &lr);
		if (!ret)
			ret = (int)(intptr_t)lr;
	} else if (!ret) {
		ret = ix_lines_finish(m);
	}
	phase("finish");
	heap_prepare(0);
	if (!ret)
		ret = put_meta(m, &f);
	if (!ret)
		ret = ix_write(m, out_path, &st->index_bytes);
	phase("write");
	if (!ret) {
		st->nfuncs = m->nfuncs;
		st->ninlines = m->ninlines;
		st->nvars = m->nvars;
		st->ntypes = m->ntypes;
		st->nlines = m->nlines;
		st->ncfi = f.ncfi;
		st->nsymbols = m->nsyms;
		st->nglobals = m->nglobals;
		st->dwarf_bytes = f.dwarf_bytes;
		st->has_dwarf = f.has_dwarf;
	}
out:
	if (cfi.threaded)
		pthread_join(cfi.th, NULL);
	free(cfi.rows);
	free(cfi.ents);
	free(cfi.saved.rows);
	free(cfi.saved.ents);
	if (!ret && exiting && !SANITIZED) {
		free(segs);
		return 0;	/* syms, model and libdw go with the process */
	}
	/* the model borrows libdw strings: free it before closing the debug info */
	ix_model_deinit(m);
	gs_debuginfo_close(di);
	gs_elf_close(dbg_elf);
	free(segs);
	free(syms);
	return ret;
}

int gs_indexer_index_path(const struct gs_indexer_opts *o, const char *elf_path,
			  char build_id_ret[41], struct gs_indexer_stats *st)
{
	struct gs_indexer_stats local;
	struct ix_model m;
	struct gs_elf *elf = NULL;
	char dir[4096], path[4200], bid[41];
	double t0 = now();
	int ret;

	if (!st)
		st = &local;
	memset(st, 0, sizeof(*st));
	ret = gs_elf_open(elf_path, &elf);
	if (ret)
		return ret;
	ret = gs_elf_build_id(elf, bid);
	if (ret) {
		if (ret == -GS_ERR_NO_BUILD_ID)
			fprintf(stderr, "indexer: '%s' has no GNU build-id (link with -Wl,--build-id)\n",
				elf_path);
		goto out;
	}
	if (build_id_ret)
		strcpy(build_id_ret, bid);
	ret = gs_index_dir_resolve(o ? o->index_dir : NULL, dir, sizeof(dir));
	if (!ret)
		ret = gs_index_path(dir, bid, path, sizeof(path));
	if (ret) {
		fprintf(stderr, "indexer: no index directory: %s\n", gs_strerror(ret));
		goto out;
	}
	if (!(o && o->force) && try_reuse(path, st))
		goto out;
	ix_model_init(&m);
	ret = build(&m, elf, elf_path, o ? o->debug_file : NULL, o && o->exiting, bid, path, st);
out:
	gs_elf_close(elf);
	st->seconds = now() - t0;
	return ret;
}

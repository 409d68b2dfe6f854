// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ghostscope-index: index ELF files into the cache, and inspect the cache (ls, show,
 * rm, verify, query, dump). Commands are matched by unique prefix from a table; each
 * has its own --help. Exit codes are in cli.h and docs/indexer.md.
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "indexer/cli.h"
#include "indexer/indexer.h"
#include "shared/elf.h"
#include "shared/errors.h"
#include "shared/index.h"

static const char *opt_index_dir;

static const char exit_codes[] =
	"Exit codes: 0 success; 1 error (unreadable or malformed input, corrupt index, write\n"
	"failure); 2 usage error; 3 not found (module not indexed, or nothing matched).\n";

/* ---- resolving BUILDID|PATH -------------------------------------------------------- */

static int cache_dir(char *buf, size_t len)
{
	int ret = gs_index_dir_resolve(opt_index_dir, buf, len);

	if (ret)
		fprintf(stderr, "ghostscope-index: no index directory: %s\n", gs_strerror(ret));
	return ret;
}

static bool is_hex(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!strchr("0123456789abcdef", *s))
			return false;
	return true;
}

/* An index file path for a build-id (or unique prefix of one) or an ELF path. */
static int resolve_module(const char *arg, char *path, size_t len)
{
	char dir[4096], bid[41];
	struct stat st;
	int ret = cache_dir(dir, sizeof(dir));

	if (ret)
		return GSI_EXIT_FAIL;
	if (stat(arg, &st) == 0 && S_ISREG(st.st_mode)) {
		ret = gs_build_id_of_path(arg, bid);
		if (ret) {
			fprintf(stderr, "ghostscope-index: cannot read build-id of '%s': %s\n", arg,
				gs_strerror(ret));
			return GSI_EXIT_FAIL;
		}
	} else if (is_hex(arg) && strlen(arg) >= 3 && strlen(arg) <= 40) {
		snprintf(bid, sizeof(bid), "%s", arg);
		if (strlen(arg) < 40) {	/* a prefix: must name one file */
			char sub[4200], found[64] = "";
			int hits = 0;
			DIR *d;
			struct dirent *de;

			snprintf(sub, sizeof(sub), "%s/%.2s", dir, arg);
			d = opendir(sub);
			while (d && (de = readdir(d))) {
				size_t n = strlen(de->d_name);

				if (n > 6 && !strcmp(de->d_name + n - 6, ".gsidx") &&
				    !strncmp(de->d_name, arg + 2, strlen(arg + 2)) && n - 6 <= 38) {
					snprintf(found, sizeof(found), "%.2s%.*s", arg, (int)(n - 6),
						 de->d_name);
					hits++;
				}
			}
			if (d)
				closedir(d);
			if (hits > 1) {
				fprintf(stderr, "ghostscope-index: build-id prefix '%s' is ambiguous\n", arg);
				return GSI_EXIT_USAGE;
			}
			if (hits == 1)
				snprintf(bid, sizeof(bid), "%s", found);
		}
	} else {
		fprintf(stderr, "ghostscope-index: '%s' is neither a file nor a build-id\n", arg);
		return GSI_EXIT_USAGE;
	}
	if (gs_index_path(dir, bid, path, len))
		return GSI_EXIT_USAGE;
	if (stat(path, &st)) {
		fprintf(stderr, "ghostscope-index: '%s' is not indexed (run 'ghostscope-index %s')\n",
			arg, stat(arg, &st) == 0 ? arg : "PATH");
		return GSI_EXIT_NOT_FOUND;
	}
	return GSI_EXIT_OK;
}

static int open_module(const char *arg, struct gs_index **idx)
{
	char path[4200];
	int ret = resolve_module(arg, path, sizeof(path));

	if (ret)
		return ret;
	ret = gs_index_open(path, idx);
	if (ret) {
		fprintf(stderr, "ghostscope-index: cannot open index '%s': %s%s\n", path,
			gs_strerror(ret), ret == -GS_ERR_SCHEMA || ret == -GS_ERR_CORRUPT ?
			" (re-index with --force)" : "");
		return GSI_EXIT_FAIL;
	}
	return GSI_EXIT_OK;
}

/* ---- index ------------------------------------------------------------------------- */

struct job {
	char **paths;
	size_t npaths, next, done;
	struct gs_indexer_opts opts;
	pthread_mutex_t lock;
	bool tty;
	/* totals */
	size_t modules, reused, skipped, failed;
	struct gs_indexer_stats sum;
};

static int add_path(struct job *j, const char *p)
{
	char **n;

	if (j->npaths % 64 == 0) {
		n = reallocarray(j->paths, j->npaths + 64, sizeof(*n));
		if (!n)
			return -ENOMEM;
		j->paths = n;
	}
	j->paths[j->npaths] = strdup(p);
	if (!j->paths[j->npaths])
		return -ENOMEM;
	j->npaths++;
	return 0;
}

static struct job *walk_job;

static int walk_fn(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
	if (type == FTW_F && S_ISREG(st->st_mode) && st->st_size >= 64)
		return add_path(walk_job, p) ? FTW_STOP : FTW_CONTINUE;
	if (type == FTW_F)
		walk_job->skipped++;	/* too small to be ELF */
	return FTW_CONTINUE;
}

static void *worker(void *arg)
{
	struct job *j = arg;

	for (;;) {
		struct gs_indexer_stats st;
		const char *p;
		char bid[41];
		int ret;

		pthread_mutex_lock(&j->lock);
		if (j->next >= j->npaths) {
			pthread_mutex_unlock(&j->lock);
			return NULL;
		}
		p = j->paths[j->next++];
		pthread_mutex_unlock(&j->lock);
		ret = gs_indexer_index_path(&j->opts, p, bid, &st);
		pthread_mutex_lock(&j->lock);
		j->done++;
		if (ret == -GS_ERR_NOT_ELF) {
			j->skipped++;
		} else if (ret) {
			if (ret != -GS_ERR_BAD_ELF && ret != -GS_ERR_NO_BUILD_ID &&
			    ret != -GS_ERR_BUILD_ID_MISMATCH && ret != -GS_ERR_BAD_DWARF &&
			    ret != -GS_ERR_NO_DWARF)	/* those were logged where they happened */
				fprintf(stderr, "%sghostscope-index: cannot index '%s': %s\n",
					j->tty ? "\r\033[K" : "", p, gs_strerror(ret));
			j->failed++;
		} else {
			j->modules++;
			j->reused += st.reused;
			j->sum.nfuncs += st.nfuncs;
			j->sum.nvars += st.nvars;
			j->sum.ntypes += st.ntypes;
			j->sum.nlines += st.nlines;
			j->sum.ncfi += st.ncfi;
			if (!st.reused) {
				j->sum.dwarf_bytes += st.dwarf_bytes;
				j->sum.index_bytes += st.index_bytes;
			}
		}
		if (j->tty)
			fprintf(stderr, "\r\033[K[%zu/%zu] %s", j->done, j->npaths, p);
		pthread_mutex_unlock(&j->lock);
	}
}

static void help_index(FILE *f)
{
	fprintf(f,
		"usage: ghostscope-index [--index-dir DIR] [-j N] [--force] [--debug-file FILE] PATH...\n"
		"       ghostscope-index COMMAND [ARGS] (ls, show, rm, verify, query, dump; COMMAND --help)\n"
		"\n"
		"Indexes ELF executables and shared objects (their DWARF, symbols, segments and CFI)\n"
		"into the cache, one file per GNU build-id. A directory is walked recursively; files\n"
		"that are not ELF executables or shared objects are skipped and counted. A module\n"
		"already indexed is left alone unless --force.\n"
		"\n"
		"  --index-dir DIR   cache directory (else $GHOSTSCOPE_INDEX_DIR, else\n"
		"                    $XDG_CACHE_HOME/ghostscope, else ~/.cache/ghostscope)\n"
		"  -j, --jobs N      index N files at a time (default: 1)\n"
		"  --force           rebuild indexes that already exist\n"
		"  --debug-file FILE the separate debug file of the (single) PATH\n"
		"  -h, --help        this help\n\n%s", exit_codes);
}

static int cmd_index(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "index-dir", required_argument, NULL, 'd' }, { "jobs", required_argument, NULL, 'j' },
		{ "force", no_argument, NULL, 'f' }, { "debug-file", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	struct job j = { .lock = PTHREAD_MUTEX_INITIALIZER };
	pthread_t th[64];
	int c, jobs = 1, nth;
	double t0;
	struct timespec ts;

	optind = 1;
	while ((c = getopt_long(argc, argv, "j:h", lo, NULL)) != -1) {
		switch (c) {
		case 'd': opt_index_dir = optarg; break;
		case 'j': jobs = atoi(optarg); break;
		case 'f': j.opts.force = true; break;
		case 'g': j.opts.debug_file = optarg; break;
		case 'h': help_index(stdout); return GSI_EXIT_OK;
		default: help_index(stderr); return GSI_EXIT_USAGE;
		}
	}
	if (optind >= argc || jobs < 1 || jobs > 64) {
		help_index(stderr);
		return GSI_EXIT_USAGE;
	}
	if (j.opts.debug_file && argc - optind != 1) {
		fprintf(stderr, "ghostscope-index: --debug-file needs exactly one PATH\n");
		return GSI_EXIT_USAGE;
	}
	j.opts.index_dir = opt_index_dir;
	j.opts.jobs = jobs;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = ts.tv_sec + ts.tv_nsec / 1e9;
	for (int i = optind; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st)) {
			fprintf(stderr, "ghostscope-index: cannot read '%s': %s\n", argv[i],
				strerror(errno));
			j.failed++;
		} else if (S_ISDIR(st.st_mode)) {
			walk_job = &j;
			nftw(argv[i], walk_fn, 32, FTW_PHYS | FTW_ACTIONRETVAL);
		} else if (add_path(&j, argv[i])) {
			return GSI_EXIT_FAIL;
		}
	}
	j.tty = isatty(STDERR_FILENO) && j.npaths > 1;
	j.opts.exiting = j.npaths == 1;	/* nothing follows the one module */
	nth = jobs < (int)j.npaths ? jobs : (int)j.npaths;
	for (int i = 1; i < nth; i++)
		if (pthread_create(&th[i], NULL, worker, &j))
			nth = i;
	worker(&j);
	for (int i = 1; i < nth; i++)
		pthread_join(th[i], NULL);
	if (j.tty)
		fputs("\r\033[K", stderr);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	printf("%zu modules (%zu reused, %zu skipped, %zu failed), %" PRIu64 " functions, %" PRIu64
	       " variables, %" PRIu64 " types, %" PRIu64 " lines, %" PRIu64 " CFI rows, "
	       "%.1f MB DWARF read, %.1f MB index written, %.3f s\n",
	       j.modules, j.reused, j.skipped, j.failed, j.sum.nfuncs, j.sum.nvars, j.sum.ntypes,
	       j.sum.nlines, j.sum.ncfi, j.sum.dwarf_bytes / 1e6, j.sum.index_bytes / 1e6,
	       ts.tv_sec + ts.tv_nsec / 1e9 - t0);
	for (size_t i = 0; i < j.npaths; i++)
		free(j.paths[i]);
	free(j.paths);
	if (j.failed)
		return GSI_EXIT_FAIL;
	/* naming a single non-ELF file is an error; skipping inside a directory is not */
	if (!j.modules && j.skipped && argc - optind == 1) {
		struct stat st;

		if (stat(argv[optind], &st) == 0 && !S_ISDIR(st.st_mode)) {
			fprintf(stderr, "ghostscope-index: '%s' is not an ELF executable or shared "
				"object\n", argv[optind]);
			return GSI_EXIT_FAIL;
		}
	}
	return GSI_EXIT_OK;
}

/* ---- ls / show / rm / verify ------------------------------------------------------- */

typedef int (*module_fn)(const char *path, void *arg);

/* Calls @fn for every index file in the cache. */
static int for_each_module(module_fn fn, void *arg)
{
	char dir[4096], sub[4200], path[4500];
	DIR *d, *s;
	struct dirent *de, *fe;
	int ret = 0;

	if (cache_dir(dir, sizeof(dir)))
		return GSI_EXIT_FAIL;
	d = opendir(dir);
	if (!d)
		return GSI_EXIT_OK;	/* an empty cache */
	while (!ret && (de = readdir(d))) {
		if (strlen(de->d_name) != 2 || !is_hex(de->d_name))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
		s = opendir(sub);
		while (s && !ret && (fe = readdir(s))) {
			size_t n = strlen(fe->d_name);

			if (fe->d_name[0] == '.' || n < 7 || strcmp(fe->d_name + n - 6, ".gsidx"))
				continue;
			snprintf(path, sizeof(path), "%s/%s", sub, fe->d_name);
			ret = fn(path, arg);
		}
		if (s)
			closedir(s);
	}
	closedir(d);
	return ret;
}

static int ls_one(const char *path, void *arg)
{
	struct gs_index *idx;
	const struct gs_module_info *mi;
	struct stat st;
	int ret = gs_index_open(path, &idx);

	stat(path, &st);
	if (ret) {
		printf("%-40s  %8.1f KB  (unreadable: %s)\n", path, st.st_size / 1e3, gs_strerror(ret));
		return 0;
	}
	gs_index_module(idx, &mi);
	printf("%-40s  %8.1f KB  %6" PRIu64 " funcs  %s  %s\n", mi->build_id, st.st_size / 1e3,
	       mi->nfuncs, mi->has_dwarf ? "dwarf   " : "no-dwarf", mi->path);
	gs_index_close(idx);
	return 0;
}

static void help_simple(FILE *f, const char *cmd)
{
	if (!strcmp(cmd, "ls"))
		fprintf(f, "usage: ghostscope-index ls [--index-dir DIR]\n\nLists the indexed "
			"modules: build-id, index size, functions, DWARF or not, path.\n\n");
	else if (!strcmp(cmd, "show"))
		fprintf(f, "usage: ghostscope-index show [--index-dir DIR] BUILDID|PATH\n\nPrints "
			"what the index of one module holds: counts, sizes, segments, debug source.\n\n");
	else if (!strcmp(cmd, "rm"))
		fprintf(f, "usage: ghostscope-index rm [--index-dir DIR] BUILDID|PATH...\n\nDeletes "
			"the index of each module.\n\n");
	else if (!strcmp(cmd, "verify"))
		fprintf(f, "usage: ghostscope-index verify [--index-dir DIR] [BUILDID|PATH...]\n\n"
			"Decodes every record of each index (all of the cache by default) and checks\n"
			"the per-table checksums; prints one line per module.\n\n");
	else if (!strcmp(cmd, "dump"))
		fprintf(f, "usage: ghostscope-index dump [--index-dir DIR] BUILDID|PATH\n\nPrints "
			"the whole index as canonical text: module, files, symbols, functions with\n"
			"their scope trees, inlines, globals, types, call sites, line rows, CFI.\n\n");
	fputs(exit_codes, f);
}

/* Parses [--index-dir DIR] [--help] for the simple commands; returns -1 to go on. */
static int simple_opts(int argc, char **argv, const char *cmd)
{
	static const struct option lo[] = {
		{ "index-dir", required_argument, NULL, 'd' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (c == 'd') {
			opt_index_dir = optarg;
		} else if (c == 'h') {
			help_simple(stdout, cmd);
			return GSI_EXIT_OK;
		} else {
			help_simple(stderr, cmd);
			return GSI_EXIT_USAGE;
		}
	}
	return -1;
}

static int cmd_ls(int argc, char **argv)
{
	int ret = simple_opts(argc, argv, "ls");

	if (ret >= 0)
		return ret;
	if (optind != argc) {
		help_simple(stderr, "ls");
		return GSI_EXIT_USAGE;
	}
	return for_each_module(ls_one, NULL);
}

static int cmd_show(int argc, char **argv)
{
	struct gs_index *idx;
	const struct gs_module_info *mi;
	char path[4200];
	struct stat st;
	int ret = simple_opts(argc, argv, "show");

	if (ret >= 0)
		return ret;
	if (optind != argc - 1) {
		help_simple(stderr, "show");
		return GSI_EXIT_USAGE;
	}
	ret = resolve_module(argv[optind], path, sizeof(path));
	if (ret)
		return ret;
	ret = open_module(argv[optind], &idx);
	if (ret)
		return ret;
	gs_index_module(idx, &mi);
	stat(path, &st);
	printf("build-id:     %s\nindex:        %s (%.1f KB)\npath:         %s\n"
	       "elf type:     %s, machine %u\ndebug info:   %s\n",
	       mi->build_id, path, st.st_size / 1e3, mi->path,
	       mi->elf_type == 2 ? "EXEC" : mi->elf_type == 3 ? "DYN" : "?", mi->machine,
	       mi->has_dwarf ? mi->debug_source : "none (symbols and CFI only)");
	if (mi->has_dwarf) {
		printf("dwarf:        versions");
		for (int v = 2; v <= 5; v++)
			if (mi->dwarf_versions & (1u << v))
				printf(" %d", v);
		printf(", %.1f KB read (index is %.0f%% of it)\nproducer:     %s\n",
		       mi->dwarf_bytes / 1e3, mi->dwarf_bytes ? 100.0 * st.st_size / mi->dwarf_bytes : 0,
		       mi->producer);
	}
	printf("schema:       %u.%u\nindexed at:   %" PRIu64 "\n", mi->schema_major, mi->schema_minor,
	       mi->index_time);
	printf("functions:    %" PRIu64 "\ninlines:      %" PRIu64 "\nvariables:    %" PRIu64
	       "\nglobals:      %" PRIu64 "\ntypes:        %" PRIu64 "\nline rows:    %" PRIu64
	       "\ncfi entries:  %" PRIu64 "\nsymbols:      %" PRIu64 "\n", mi->nfuncs, mi->ninlines,
	       mi->nvars, mi->nglobals, mi->ntypes, mi->nlines, mi->ncfi, mi->nsymbols);
	for (uint32_t i = 0; i < mi->nsegments; i++) {
		const struct gs_segment *s = &mi->segments[i];

		printf("segment:      vaddr 0x%" PRIx64 " memsz 0x%" PRIx64 " offset 0x%" PRIx64
		       " filesz 0x%" PRIx64 " %c%c%c\n", s->vaddr, s->memsz, s->offset, s->filesz,
		       s->flags & 4 ? 'r' : '-', s->flags & 2 ? 'w' : '-', s->flags & 1 ? 'x' : '-');
	}
	gs_index_close(idx);
	return GSI_EXIT_OK;
}

static int cmd_rm(int argc, char **argv)
{
	int ret = simple_opts(argc, argv, "rm"), worst = GSI_EXIT_OK;

	if (ret >= 0)
		return ret;
	if (optind >= argc) {
		help_simple(stderr, "rm");
		return GSI_EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++) {
		char path[4200], lock[4300];

		ret = resolve_module(argv[i], path, sizeof(path));
		if (ret) {
			worst = ret;
			continue;
		}
		if (unlink(path)) {
			fprintf(stderr, "ghostscope-index: cannot remove '%s': %s\n", path,
				strerror(errno));
			worst = GSI_EXIT_FAIL;
			continue;
		}
		snprintf(lock, sizeof(lock), "%s-lock", path);
		unlink(lock);
		printf("removed %s\n", path);
	}
	return worst;
}

static int verify_one(const char *path, void *arg)
{
	int *worst = arg;
	struct gs_index *idx;
	char err[256];
	int ret = gs_index_open(path, &idx);

	if (!ret) {
		ret = gs_index_verify(idx, err, sizeof(err));
		gs_index_close(idx);
	} else {
		snprintf(err, sizeof(err), "%s", gs_strerror(ret));
	}
	printf("%s: %s\n", path, ret ? err : "ok");
	if (ret)
		*worst = GSI_EXIT_FAIL;
	return 0;
}

static int cmd_verify(int argc, char **argv)
{
	int ret = simple_opts(argc, argv, "verify"), worst = GSI_EXIT_OK;

	if (ret >= 0)
		return ret;
	if (optind == argc) {
		ret = for_each_module(verify_one, &worst);
		return ret ? ret : worst;
	}
	for (int i = optind; i < argc; i++) {
		char path[4200];

		ret = resolve_module(argv[i], path, sizeof(path));
		if (ret)
			worst = ret;
		else
			verify_one(path, &worst);
	}
	return worst;
}

static int cmd_dump(int argc, char **argv)
{
	struct gs_index *idx;
	int ret = simple_opts(argc, argv, "dump");

	if (ret >= 0)
		return ret;
	if (optind != argc - 1) {
		help_simple(stderr, "dump");
		return GSI_EXIT_USAGE;
	}
	ret = open_module(argv[optind], &idx);
	if (ret)
		return ret;
	ret = gsi_dump(idx, stdout);
	gs_index_close(idx);
	return ret;
}

/* ---- query ------------------------------------------------------------------------- */

static void help_query(FILE *f)
{
	fprintf(f,
		"usage: ghostscope-index query [--index-dir DIR] BUILDID|PATH QUERY [--json]\n"
		"\n"
		"Prints what the tracer reads from a module's index. QUERY is one of:\n"
		"  --func NAME        functions (name, C++ qualified or mangled name, ELF symbol,\n"
		"                     clone source name) and inlined instances: entry, post-prologue\n"
		"                     pc and the rule that gave it, ranges, uprobe file offset\n"
		"  --line FILE:LINE   is_stmt addresses of a source line (FILE: full path, relative\n"
		"                     path, basename or unique suffix)\n"
		"  --addr 0xADDR      function, line, and the scope chain with visible variables\n"
		"                     and their locations at that module address\n"
		"  --type NAME        type definitions called NAME (\"struct \" optional)\n"
		"  --global NAME      globals and statics (C++: qualified name; statics: func::name)\n"
		"  --cfi 0xADDR       the CFI row in effect at that address\n"
		"  --json             JSON instead of text\n\n%s", exit_codes);
}

static int cmd_query(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "index-dir", required_argument, NULL, 'd' }, { "func", required_argument, NULL, 'F' },
		{ "line", required_argument, NULL, 'L' }, { "addr", required_argument, NULL, 'A' },
		{ "type", required_argument, NULL, 'T' }, { "global", required_argument, NULL, 'G' },
		{ "cfi", required_argument, NULL, 'C' }, { "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	enum gsi_query_kind kind = GSI_Q_FUNC;
	const char *arg = NULL;
	struct gs_index *idx;
	bool json = false;
	int c, ret, nq = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'd': opt_index_dir = optarg; break;
		case 'F': kind = GSI_Q_FUNC; arg = optarg; nq++; break;
		case 'L': kind = GSI_Q_LINE; arg = optarg; nq++; break;
		case 'A': kind = GSI_Q_ADDR; arg = optarg; nq++; break;
		case 'T': kind = GSI_Q_TYPE; arg = optarg; nq++; break;
		case 'G': kind = GSI_Q_GLOBAL; arg = optarg; nq++; break;
		case 'C': kind = GSI_Q_CFI; arg = optarg; nq++; break;
		case 'J': json = true; break;
		case 'h': help_query(stdout); return GSI_EXIT_OK;
		default: help_query(stderr); return GSI_EXIT_USAGE;
		}
	}
	if (nq != 1 || optind != argc - 1) {
		help_query(stderr);
		return GSI_EXIT_USAGE;
	}
	ret = open_module(argv[optind], &idx);
	if (ret)
		return ret;
	ret = gsi_query(idx, kind, arg, json, stdout);
	gs_index_close(idx);
	return ret;
}

/* ---- dispatch ---------------------------------------------------------------------- */

static const struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
} cmds[] = {
	{ "ls", cmd_ls }, { "show", cmd_show }, { "rm", cmd_rm }, { "verify", cmd_verify },
	{ "query", cmd_query }, { "dump", cmd_dump }, { "index", cmd_index },
};

/* Options that take a value, for finding the command after leading options. */
static bool takes_value(const char *opt)
{
	static const char *const with_arg[] = { "--index-dir", "--jobs", "-j", "--debug-file" };

	for (size_t i = 0; i < sizeof(with_arg) / sizeof(with_arg[0]); i++)
		if (!strcmp(opt, with_arg[i]))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	const struct cmd *hit = NULL;
	int nhits = 0, at = 1;
	struct stat st;

	if (argc < 2) {
		help_index(stderr);
		return GSI_EXIT_USAGE;
	}
	/* Global options (--index-dir DIR) may come before the command: skip them. */
	while (at < argc && argv[at][0] == '-' && argv[at][1] && strcmp(argv[at], "--"))
		at += takes_value(argv[at]) ? 2 : 1;
	/* An argument that names a file or directory is always something to index. */
	if (at < argc && stat(argv[at], &st) != 0) {
		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
			if (!strncmp(cmds[i].name, argv[at], strlen(argv[at]))) {
				hit = &cmds[i];
				nhits++;
			}
		if (nhits > 1) {
			fprintf(stderr, "ghostscope-index: command '%s' is ambiguous\n", argv[at]);
			return GSI_EXIT_USAGE;
		}
		if (hit) {
			/* the command first, the options before it next: its parser sees them all */
			char *cmd = argv[at];

			memmove(argv + 2, argv + 1, (at - 1) * sizeof(*argv));
			argv[1] = cmd;
			return hit->fn(argc - 1, argv + 1);
		}
	}
	return cmd_index(argc, argv);
}

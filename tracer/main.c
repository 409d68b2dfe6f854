// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ghostscope: attach a script to a live process, a file, or a program it launches,
 * and print what the probes see. The flow is short on purpose: parse, open indexes
 * (indexing what is missing), plan, compile, load, attach, poll, detach.
 */
#include <errno.h>
#include <getopt.h>
#include <elf.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shared/errors.h"
#include "shared/index.h"
#include "tracer/codegen.h"
#include "tracer/decode.h"
#include "tracer/filecache.h"
#include "tracer/kcache.h"
#include "tracer/loader.h"
#include "tracer/output.h"
#include "tracer/parser.h"
#include "tracer/plan.h"
#include "tracer/plancache.h"
#include "tracer/proc.h"
#include "tracer/target.h"

#define GS_VERSION "0.1.0"

enum exit_code {
	EXIT_OK = 0,
	EXIT_RUNTIME = 1,	/* could not attach, target vanished before attach, ... */
	EXIT_USAGE = 2,		/* bad options or script */
};

struct options {
	pid_t pid;
	const char *target_path;
	char *const *launch_argv;
	const char *script_text;
	const char *script_file;
	enum gs_output_fmt fmt;
	long max_events;	/* 0 = unlimited */
	double timeout;		/* < 0 = none */
	bool dry_run;
	const char *index_dir;
	const char *debug_file;
	bool no_auto_index;
	const char *ready_marker;
	bool verbose;
	bool force_single;
	bool no_bpf_cache;
	bool no_plan_cache;
	uint32_t ringbuf_bytes;
	uint32_t bt_depth;
	bool after_prologue;
	bool keep_aslr;
	uint32_t dump_cap;
};

struct session {
	struct options *o;
	struct gs_plan *plan;
	struct gs_event_slot **slots;	/* per probe */
	size_t *nslots;
	struct gs_decode_lines lines;	/* reused for every event */
	long events;
	bool stop;
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/*
 * Return probes save entry values per call; a thread that ends inside a traced call
 * leaves its save behind (gs_loader_sweep_saves). The event loop removes those every
 * SWEEP_SECONDS, or every SWEEP_SECONDS_BUSY after a walk saw more than SWEEP_BUSY.
 */
enum { SWEEP_SECONDS = 1, SWEEP_SECONDS_BUSY = 10, SWEEP_BUSY = 4096 };

/* Whether host thread @tid exists: kill(2) finds any thread id, not only a process's. */
static bool tid_alive(uint32_t tid, void *ctx)
{
	(void)ctx;
	return kill((pid_t)tid, 0) == 0 || errno == EPERM;
}

/*
 * Saves are keyed by host thread ids: they can be checked only from the initial pid
 * namespace, whose inode is fixed (GS_PROC_PID_INIT_INO). Anywhere else (a container's
 * own namespace: kill() would not find host ids) no sweep, rather than removing a
 * live thread's save.
 */
static bool sweep_wanted(const struct gs_plan *plan)
{
	struct stat st;
	bool retprobe = false;

	for (size_t i = 0; i < plan->nprobes; i++)
		retprobe |= plan->probes[i].retprobe;
	return retprobe && !stat("/proc/self/ns/pid", &st) && st.st_ino == GS_PROC_PID_INIT_INO;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ghostscope [OPTIONS] (-p PID | -t PATH | -- PROGRAM [ARGS...])\n"
"\n"
"Attach a script to a running C/C++ program and print what its probes see.\n"
"\n"
"Target:\n"
"  -p, --pid PID             one process: its executable and every library it maps\n"
"  -t, --target PATH         every process running PATH (executable or library),\n"
"                            including ones started later; with -p, only that PID\n"
"  -- PROGRAM [ARGS...]      launch PROGRAM with the probes armed before it runs;\n"
"                            exit when it exits. As under GDB it runs without\n"
"                            address randomization (--keep-aslr keeps it; globals\n"
"                            of its libraries are then unknown)\n"
"Script:\n"
"  -s, --script TEXT         the script text\n"
"      --script-file FILE    read the script from FILE\n"
"Output:\n"
"      --script-output FMT   pretty (default), plain or json; events go to stdout,\n"
"                            status and errors to stderr\n"
"      --max-events N        stop after N events\n"
"      --timeout SECONDS     stop after SECONDS (0: attach, then detach at once)\n"
"      --ready-marker TEXT   print TEXT on stderr once every probe is armed\n"
"      --dry-run             resolve, plan and compile; load nothing; print the plan\n"
"Index:\n"
"      --index-dir DIR       index cache (default $GHOSTSCOPE_INDEX_DIR,\n"
"                            $XDG_CACHE_HOME/ghostscope, ~/.cache/ghostscope)\n"
"      --debug-file FILE     debug info for the main module when auto-indexing\n"
"      --no-auto-index       a module missing from the index is an error\n"
"Other:\n"
"      --ringbuf-size BYTES  bytes of all event rings, one per CPU (power of two,\n"
"                            default 8 MiB)\n"
"      --single-uprobes      do not use uprobe_multi links\n"
"      --no-bpf-cache        compile the BPF programs even when the index holds them\n"
"      --no-plan-cache       plan the script even when the same plan is saved\n"
"      --backtrace-depth N   frames per bt (1-128, default 128)\n"
"      --mem-dump-cap BYTES  most bytes one {:x.N}/{:s.N} dump reads (default 256)\n"
"      --after-prologue      always probe a function after its prologue (as GDB's\n"
"                            'break FUNC'), even where its first instruction would\n"
"                            avoid a single-step for the same values\n"
"  -v, --verbose             more status on stderr\n"
"  -h, --help                this help\n"
"      --version             print the version\n"
"\n"
"Environment: GHOSTSCOPE_CACHE_LIMIT=BYTES (such as 64M, the default) bounds each of\n"
"the index directory's bpf/ and plan/ caches; the least recently used files go.\n"
"\n"
"Exit status: 0 success (also on --timeout, --max-events, Ctrl-C), 1 runtime\n"
"failure (loading, attaching, no usable probe), 2 bad options or script.\n"
"The script language: docs/scripting.md.\n");
}

static int parse_options(int argc, char **argv, struct options *o)
{
	enum { O_SCRIPT_FILE = 256, O_OUTPUT, O_MAX, O_TIMEOUT, O_DRY, O_INDEX_DIR, O_DEBUG_FILE,
	       O_NO_AUTO, O_READY, O_RING, O_SINGLE, O_VERSION, O_BTDEPTH, O_AFTER_PROLOGUE, O_KEEP_ASLR, O_DUMP_CAP, O_NO_CACHE,
	       O_NO_PLAN_CACHE };
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "target", required_argument, NULL, 't' },
		{ "script", required_argument, NULL, 's' },
		{ "script-file", required_argument, NULL, O_SCRIPT_FILE },
		{ "script-output", required_argument, NULL, O_OUTPUT },
		{ "max-events", required_argument, NULL, O_MAX },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "dry-run", no_argument, NULL, O_DRY },
		{ "index-dir", required_argument, NULL, O_INDEX_DIR },
		{ "debug-file", required_argument, NULL, O_DEBUG_FILE },
		{ "no-auto-index", no_argument, NULL, O_NO_AUTO },
		{ "ready-marker", required_argument, NULL, O_READY },
		{ "ringbuf-size", required_argument, NULL, O_RING },
		{ "single-uprobes", no_argument, NULL, O_SINGLE },
		{ "no-bpf-cache", no_argument, NULL, O_NO_CACHE },
		{ "no-plan-cache", no_argument, NULL, O_NO_PLAN_CACHE },
		{ "backtrace-depth", required_argument, NULL, O_BTDEPTH },
		{ "after-prologue", no_argument, NULL, O_AFTER_PROLOGUE },
		{ "keep-aslr", no_argument, NULL, O_KEEP_ASLR },
		{ "mem-dump-cap", required_argument, NULL, O_DUMP_CAP },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	o->timeout = -1;
	while ((c = getopt_long(argc, argv, "+p:t:s:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			o->pid = strtol(optarg, &end, 10);
			if (*end || o->pid <= 0) {
				fprintf(stderr, "ghostscope: bad PID '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case 't': o->target_path = optarg; break;
		case 's': o->script_text = optarg; break;
		case O_SCRIPT_FILE: o->script_file = optarg; break;
		case O_OUTPUT:
			if (gs_output_parse(optarg, &o->fmt)) {
				fprintf(stderr, "ghostscope: unknown output format '%s' (pretty, plain or json)\n", optarg);
				return -EINVAL;
			}
			break;
		case O_MAX:
			o->max_events = strtol(optarg, &end, 10);
			if (*end || o->max_events <= 0) {
				fprintf(stderr, "ghostscope: bad --max-events '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case O_TIMEOUT:
			o->timeout = strtod(optarg, &end);
			if (*end || o->timeout < 0) {
				fprintf(stderr, "ghostscope: bad --timeout '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case O_DRY: o->dry_run = true; break;
		case O_INDEX_DIR: o->index_dir = optarg; break;
		case O_DEBUG_FILE: o->debug_file = optarg; break;
		case O_NO_AUTO: o->no_auto_index = true; break;
		case O_READY: o->ready_marker = optarg; break;
		case O_RING:
			o->ringbuf_bytes = strtoul(optarg, &end, 0);
			if (*end || o->ringbuf_bytes < 4096 || (o->ringbuf_bytes & (o->ringbuf_bytes - 1))) {
				fprintf(stderr, "ghostscope: --ringbuf-size must be a power of two >= 4096\n");
				return -EINVAL;
			}
			break;
		case O_SINGLE: o->force_single = true; break;
		case O_AFTER_PROLOGUE: o->after_prologue = true; break;
		case O_KEEP_ASLR: o->keep_aslr = true; break;
		case O_DUMP_CAP: {
			long cap = strtol(optarg, &end, 0);

			if (*end || cap < 1 || cap > 8192) {
				fprintf(stderr, "ghostscope: --mem-dump-cap must be 1 to 8192 bytes\n");
				return -EINVAL;
			}
			o->dump_cap = cap;
			break;
		}
		case O_NO_CACHE: o->no_bpf_cache = true; break;
		case O_NO_PLAN_CACHE: o->no_plan_cache = true; break;
		case O_BTDEPTH: {
			long d = strtol(optarg, &end, 10);

			if (*end || d < 1 || d > 128) {
				fprintf(stderr, "ghostscope: --backtrace-depth must be 1 to 128\n");
				return -EINVAL;
			}
			o->bt_depth = d;
			break;
		}
		case 'v': o->verbose = true; break;
		case 'h': usage(stdout); exit(EXIT_OK);
		case O_VERSION: printf("ghostscope %s\n", GS_VERSION); exit(EXIT_OK);
		default:
			fprintf(stderr, "Try 'ghostscope --help'.\n");
			return -EINVAL;
		}
	}
	if (optind < argc)
		o->launch_argv = &argv[optind];
	if (!o->script_text == !o->script_file) {
		fprintf(stderr, "ghostscope: give the script with exactly one of -s or --script-file\n");
		return -EINVAL;
	}
	if (!o->pid && !o->target_path && !o->launch_argv) {
		fprintf(stderr, "ghostscope: no target: use -p PID, -t PATH or -- PROGRAM\n");
		return -EINVAL;
	}
	if (o->launch_argv && (o->pid || o->target_path)) {
		fprintf(stderr, "ghostscope: -- PROGRAM cannot be combined with -p or -t\n");
		return -EINVAL;
	}
	return 0;
}

static char *read_file(const char *path, size_t *len_ret)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0, len = 0, n;

	if (!f)
		return NULL;
	do {
		if (len + 4096 > cap) {
			char *nb = realloc(buf, cap = cap * 2 + 8192);

			if (!nb) {
				free(buf);
				fclose(f);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	*len_ret = len;
	return buf;
}

/*
 * After a run that stored a plan or an object: keeps <dir>/bpf/ and <dir>/plan/ each
 * under the limit (filecache.h). At exit, off the path to "ready".
 */
static void prune_caches(const char *dir, uint64_t limit, const struct timespec *started,
			 bool verbose)
{
	static const char *const subs[][2] = { { "bpf", ".o" }, { "plan", ".plan" } };

	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		int n = gs_filecache_prune(dir, subs[i][0], subs[i][1], limit, started);

		if (verbose && n > 0)
			fprintf(stderr, "ghostscope: cache: removed %d least recently used files from %s/%s/\n",
				n, dir, subs[i][0]);
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Where the time to "ready" goes, printed under -v: milliseconds from main() to the
 * ready marker, and the share of each phase. Exec and dynamic linking come before
 * main(): time `ghostscope --version` for those.
 */
enum phase { PH_PARSE, PH_TARGET, PH_INDEX, PH_PLAN, PH_OBJECT, PH_LOAD, PH_ATTACH, PH_CNT };
static const char *const phase_names[PH_CNT] = {
	"parse", "target", "index", "plan", "object", "load", "attach",
};
static struct {
	double start, last, ms[PH_CNT];
	double cpu0;		/* thread CPU ms at main(): exec and the parent's fork count too */
	long faults0, faults_last, faults[PH_CNT];
} phases;

/*
 * On-CPU time and page faults tell computing from waiting. A fault costs 15-30 us in
 * a VM that traps page-table updates: a cold start's time is mostly its faults.
 * (Pages populated by MAP_POPULATE or madvise count one fault each, at ~0.3-1 us.)
 */
static double thread_cpu_ms(long *faults)
{
	struct timespec cpu;
	struct rusage ru;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
	getrusage(RUSAGE_THREAD, &ru);
	*faults = ru.ru_minflt + ru.ru_majflt;
	return cpu.tv_sec * 1e3 + cpu.tv_nsec / 1e6;
}

static void phase_start(void)
{
	phases.start = phases.last = now_s();
	phases.cpu0 = thread_cpu_ms(&phases.faults0);
	phases.faults_last = phases.faults0;
}

static void phase_end(enum phase p)
{
	double t = now_s();
	long f;

	thread_cpu_ms(&f);
	phases.ms[p] += (t - phases.last) * 1e3;
	phases.faults[p] += f - phases.faults_last;
	phases.last = t;
	phases.faults_last = f;
}

static void phase_print(void)
{
	char buf[384];
	size_t len = 0;
	long faults;
	double cpu = thread_cpu_ms(&faults) - phases.cpu0;

	for (int i = 0; i < PH_CNT && len < sizeof(buf); i++)
		len += snprintf(buf + len, sizeof(buf) - len, ", %s %.1f/%ld", phase_names[i],
				phases.ms[i], phases.faults[i]);
	fprintf(stderr, "ghostscope: ready %.1f ms after main() (on CPU %.1f ms, %ld page faults); phase ms/faults%s\n",
		(now_s() - phases.start) * 1e3, cpu, faults - phases.faults0, buf);
}

/*
 * Indexes @path with ghostscope-index (its own messages go to our stderr): in this
 * process, libdw's debuginfod client would load a shared library into a static
 * program. 0, or -errno with @why saying what failed.
 */
static int run_indexer(const char *dir, const char *path, const char *debug_file, bool force,
		       char *why, size_t whylen)
{
	char exe[PATH_MAX];
	char *argv[9];
	int n = 0, status = 0, e;
	pid_t pid;

	e = gs_proc_sibling("GHOSTSCOPE_INDEXER", "ghostscope-index", exe, sizeof(exe));
	if (e) {
		snprintf(why, whylen, "cannot locate ghostscope-index: %s", strerror(-e));
		return e;
	}
	argv[n++] = (char *)"ghostscope-index";
	argv[n++] = (char *)"--index-dir";
	argv[n++] = (char *)dir;
	if (force)
		argv[n++] = (char *)"--force";
	if (debug_file) {
		argv[n++] = (char *)"--debug-file";
		argv[n++] = (char *)debug_file;
	}
	argv[n++] = (char *)"--";	/* a path may begin with '-' */
	argv[n++] = (char *)path;
	argv[n] = NULL;
	e = gs_proc_start(exe, argv, -1, -2, &pid);
	if (!e)
		e = gs_proc_wait(pid, &status);
	if (e) {
		snprintf(why, whylen, "cannot run '%s': %s", exe, strerror(-e));
		return e;
	}
	if (WIFSIGNALED(status)) {
		snprintf(why, whylen, "ghostscope-index died of signal %d", WTERMSIG(status));
		return -ECHILD;
	}
	if (WEXITSTATUS(status)) {
		snprintf(why, whylen, "ghostscope-index exited with status %d", WEXITSTATUS(status));
		return -GS_ERR_NOT_INDEXED;
	}
	return 0;
}

/* Opens (and if needed builds) the index of every target module. */
static int open_indexes(struct options *o, struct gs_target *t, struct gs_plan_module *mods,
			const char *dir)
{
	for (size_t i = 0; i < t->nmodules; i++) {
		struct gs_target_module *tm = &t->modules[i];
		struct gs_plan_module *pm = &mods[i];
		int err;

		pm->path = tm->path;
		pm->is_main = tm->is_main;
		err = gs_index_open_for(dir, tm->path, &pm->idx);
		if (err == -ENOENT || err == -GS_ERR_NOT_INDEXED || err == -GS_ERR_SCHEMA) {
			char why[PATH_MAX + 64];
			double t0 = now_s();

			if (o->no_auto_index) {
				fprintf(stderr, "ghostscope: %s'%s' is not indexed (run 'ghostscope-index %s')\n",
					tm->is_main ? "" : "note: ", tm->path, tm->path);
				if (tm->is_main)
					return -GS_ERR_NOT_INDEXED;
				pm->idx = NULL;	/* a library: no probes or globals in it */
				continue;
			}
			err = run_indexer(dir, tm->path, tm->is_main ? o->debug_file : NULL,
					  err == -GS_ERR_SCHEMA, why, sizeof(why));
			if (err) {
				fprintf(stderr, "ghostscope: cannot index '%s': %s\n", tm->path, why);
				if (tm->is_main)
					return err;
				continue;	/* a library we cannot index: no probes in it */
			}
			fprintf(stderr, "ghostscope: indexed '%s' in %.0f ms\n", tm->path,
				(now_s() - t0) * 1000);
			err = gs_index_open_for(dir, tm->path, &pm->idx);
		}
		if (err) {
			fprintf(stderr, "ghostscope: cannot open the index of '%s': %s\n", tm->path,
				gs_strerror(err));
			if (tm->is_main)
				return err;
			pm->idx = NULL;
			continue;
		}
		gs_index_module(pm->idx, &pm->info);
		if (pm->info)
			pm->has_bias = gs_target_bias(tm, pm->info->segments, pm->info->nsegments, &pm->bias);
		pm->has_exec = tm->has_exec;
		pm->exec_start = tm->exec_start;
		pm->exec_end = tm->exec_end;
	}
	return 0;
}

static size_t visible_probes(const struct gs_plan *plan)
{
	size_t n = 0;

	for (size_t i = 0; i < plan->nprobes; i++)
		n += !plan->probes[i].hidden;
	return n;
}

/*
 * Backtraces unwind in BPF with the modules' CFI tables, installed once with the
 * runtime ranges of their code (known with -p; a non-PIE executable anywhere).
 */
static int install_unwind(struct gs_loader *l, struct gs_plan *plan)
{
	struct gs_unwind_module *um;
	struct gs_unwind_range *ur;
	bool any = false;
	size_t n = 0;
	char err[256];
	int e = 0;

	for (size_t i = 0; i < plan->nprobes && !any; i++)
		for (uint16_t r = 1; r <= plan->probes[i].nrecs && !any; r++)
			any = plan->probes[i].recs[r].role == GS_ROLE_BACKTRACE;
	if (!any)
		return 0;
	um = calloc(plan->nmods, sizeof(*um));
	ur = calloc(plan->nmods, sizeof(*ur));
	if (!um || !ur) {
		free(um);
		free(ur);
		return -ENOMEM;
	}
	for (size_t i = 0; i < plan->nmods; i++) {
		struct gs_plan_module *m = &plan->mods[i];

		if (!m->idx || gs_index_cfi(m->idx, &um[n].rows, &um[n].nrows, &um[n].ents, &um[n].nents))
			continue;
		if (m->has_exec && m->has_bias) {
			ur[n] = (struct gs_unwind_range){ m->exec_start, m->exec_end, m->bias };
		} else if (m->info && m->info->elf_type == ET_EXEC) {
			ur[n] = (struct gs_unwind_range){ 0, 0, 0 };
			for (uint32_t s = 0; s < m->info->nsegments; s++) {
				const struct gs_segment *seg = &m->info->segments[s];

				if (seg->flags & PF_X)
					ur[n] = (struct gs_unwind_range){ seg->vaddr, seg->vaddr + seg->memsz, 0 };
			}
			if (!ur[n].end)
				continue;
		} else {
			continue;
		}
		um[n].ranges = &ur[n];
		um[n].nranges = 1;
		n++;
	}
	e = gs_loader_set_unwind(l, um, n, err, sizeof(err));
	if (e)
		fprintf(stderr, "ghostscope: cannot install unwind tables: %s\n", err);
	free(um);
	free(ur);
	return e;
}

static void print_dry_run(struct gs_plan *plan, const uint32_t *prog_of, const uint32_t *insns)
{
	for (size_t i = 0; i < plan->nprobes; i++) {
		struct gs_probe *pr = &plan->probes[i];

		if (pr->hidden)
			printf("probe %u: entry save for '%s' at %s\n", pr->trace_id,
			       pr->trace->pattern.text, pr->where);
		else
			printf("probe %u: trace '%s' at %s%s\n", pr->trace_id, pr->trace->pattern.text,
			       pr->where, pr->retprobe ? " (on return)" : "");
		printf("  module %s\n  pc 0x%" PRIx64 ", file offset 0x%" PRIx64 "\n", pr->mod->path,
		       pr->vaddr, pr->file_offset);
		if (pr->insn)
			printf("  instruction: %s (%s)\n", pr->insn, gs_insn_kind_text(pr->insn_kind));
		if (pr->error) {
			printf("  error: %s\n", pr->error);
			continue;
		}
		if (pr->reads.len)
			printf("  reads:\n%s", pr->reads.buf);
		printf("  program %u: %u BPF instructions\n", prog_of[i], insns ? insns[prog_of[i]] : 0);
	}
}

static int on_event(void *ctx, const struct gs_event_hdr *ev, size_t size)
{
	struct session *s = ctx;
	struct gs_probe *pr = gs_plan_probe(s->plan, ev->trace_id);
	struct gs_output_event out;

	if (!pr || !pr->ir)
		return 0;
	if (gs_decode_event(pr, s->slots[ev->trace_id - 1], s->nslots[ev->trace_id - 1], ev,
			    ev->len <= size ? ev->len : size, &s->lines))
		return 0;
	if (!s->lines.cnt)	/* every print was behind a false condition */
		return 0;
	out = (struct gs_output_event){
		.trace_id = ev->trace_id, .probe = pr->trace->pattern.text, .module = pr->mod->path,
		.pc = pr->vaddr, .pid = ev->pid, .tid = ev->tid, .ts_ns = ev->ts_ns,
		.lines = (const char *const *)s->lines.lines, .nlines = s->lines.cnt,
	};
	gs_output_write(stdout, s->o->fmt, &out);
	s->events++;
	if (s->o->max_events && s->events >= s->o->max_events) {
		s->stop = true;
		return -ECANCELED;
	}
	return 0;
}

/* Delivers everything the rings hold (a poll delivers a batch at most), or until stopped. */
static void drain_all(struct gs_loader *loader, struct session *s)
{
	while (!s->stop && gs_loader_poll(loader, 0, on_event, s) > 0)
		fflush(stdout);
}

/* Groups probes whose IR is identical into one BPF program each. */
static int group_programs(struct gs_plan *plan, const struct gs_ir_prog ***progs_ret,
			  size_t *nprogs_ret, uint32_t *prog_of)
{
	const struct gs_ir_prog **progs = calloc(plan->nprobes + 1, sizeof(*progs));
	char **dumps = calloc(plan->nprobes + 1, sizeof(*dumps));
	size_t n = 0;

	if (!progs || !dumps) {
		free(progs);
		free(dumps);
		return -ENOMEM;
	}
	for (size_t i = 0; i < plan->nprobes; i++) {
		struct gs_probe *pr = &plan->probes[i];
		char *d;
		size_t j;

		prog_of[i] = UINT32_MAX;
		if (!pr->ir)
			continue;
		d = gs_ir_dump(pr->ir);
		for (j = 0; j < n; j++)
			if (d && dumps[j] && !strcmp(d, dumps[j]))
				break;
		if (j == n) {
			progs[n] = pr->ir;
			dumps[n++] = d;
		} else {
			free(d);
		}
		prog_of[i] = j;
	}
	for (size_t j = 0; j < n; j++)
		free(dumps[j]);
	free(dumps);
	*progs_ret = progs;
	*nprogs_ret = n;
	return 0;
}

/*
 * Probe IR programs that differ (another register, another offset) still share BPF
 * programs: up to this many bodies behind one entry, told apart by the attach cookie.
 * Each BPF program costs a load (verifier, JIT, text patching: 0.2 ms here) and a link
 * (0.1 ms); a function inlined 14 times in release python3.11 has 14 plans. Bounded so
 * that one program stays far below the verifier's limits whatever the bodies hold.
 */
#define MERGE_MAX 16

/*
 * Renumbers @prog_of (probe -> IR program) to probe -> BPF program, as the object
 * groups the @nir IR programs (up to @max a program), and fills *@variant_ret (probe
 * -> body). Returns the
 * number of BPF programs, 0 when out of memory.
 */
static size_t merge_programs(const struct gs_plan *plan, const struct gs_ir_prog **progs,
			     size_t nir, uint32_t max, uint32_t *prog_of, uint32_t **variant_ret)
{
	uint32_t *entry = calloc(nir, sizeof(*entry)), *variant = calloc(nir, sizeof(*variant));
	uint32_t *pv = calloc(plan->nprobes + 1, sizeof(*pv));
	size_t n = 0;

	if (entry && variant && pv) {
		n = gs_codegen_merge(progs, nir, max, entry, variant);
		for (size_t i = 0; i < plan->nprobes; i++) {
			if (prog_of[i] == UINT32_MAX)
				continue;
			pv[i] = variant[prog_of[i]];
			prog_of[i] = entry[prog_of[i]];
		}
		*variant_ret = pv;
		pv = NULL;
	}
	free(entry);
	free(variant);
	free(pv);
	return n;
}

/*
 * A launched program outlives neither a timeout nor Ctrl-C: like a debugger ending
 * its inferior, it gets SIGTERM, then SIGKILL if it is still there a second later.
 */
static void stop_child(pid_t child)
{
	int status;

	if (waitpid(child, &status, WNOHANG) != 0)
		return;
	kill(child, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(child, &status, WNOHANG) != 0)
			return;
		usleep(10000);
	}
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
}

static bool target_alive(const struct gs_target *t)
{
	if (t->child) {
		int status;

		return waitpid(t->child, &status, WNOHANG) == 0;
	}
	if (t->pid && !t->file_mode)
		return kill(t->pid, 0) == 0 || errno == EPERM;
	return true;
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct gs_target target = { .gate_fd = -1 };
	struct gs_plan_module *mods = NULL;
	struct gs_plan *plan = NULL;
	struct gs_script *script = NULL;
	struct gs_loader *loader = NULL;
	struct gs_diag diag;
	struct session sess = { 0 };
	size_t swept = 0;
	const struct gs_ir_prog **progs = NULL;
	struct gs_attach_point *pts = NULL;
	uint32_t *prog_of = NULL, *insns = NULL;
	char dir[PATH_MAX] = "", err[1024];
	uint64_t cache_limit = GS_FILECACHE_DEFAULT_LIMIT;
	struct timespec started;
	const char *env;
	struct gs_codegen_opts co;
	size_t nprogs = 0, nir = 0, srclen = 0, npts = 0, nbad = 0;
	uint32_t *variant_of = NULL, *ir_of = NULL;
	char *src = NULL;
	void *obj = NULL;
	size_t objlen = 0;
	int ret = EXIT_RUNTIME, e;

	/*
	 * Into a file or pipe, events are flushed after each poll (a batch), not per line:
	 * no write per event. A terminal stays line-buffered, in step with a launched
	 * program's own output.
	 */
	setvbuf(stdout, NULL, isatty(STDOUT_FILENO) ? _IOLBF : _IOFBF, 1 << 16);
	/*
	 * An ignored SIGCHLD survives exec and would have our helpers (ghostscope-index,
	 * ghostscope-codegen) reaped unseen: waitpid() then fails though they worked.
	 */
	signal(SIGCHLD, SIG_DFL);
	gs_diag_init(&diag);
	phase_start();
	if (parse_options(argc, argv, &o))
		return EXIT_USAGE;
	/* the clock of file times: what this run stores is not older (prune_caches) */
	clock_gettime(CLOCK_REALTIME_COARSE, &started);
	env = getenv("GHOSTSCOPE_CACHE_LIMIT");
	if (env && gs_filecache_parse_limit(env, &cache_limit)) {
		fprintf(stderr, "ghostscope: GHOSTSCOPE_CACHE_LIMIT '%s' is not a byte count (such as 500K, 64M or 1G)\n",
			env);
		return EXIT_USAGE;
	}
	/*
	 * The ring buffer map takes milliseconds to create: start it now, beside parsing
	 * and planning (a script error or a missing privilege just ends the thread).
	 */
	if (!o.dry_run && geteuid() == 0)
		gs_loader_warm_up(o.ringbuf_bytes);

	/* Script first: a typo costs nothing else. */
	if (o.script_file) {
		src = read_file(o.script_file, &srclen);
		if (!src) {
			fprintf(stderr, "ghostscope: cannot read script '%s': %s\n", o.script_file, strerror(errno));
			return EXIT_USAGE;
		}
	}
	e = gs_script_parse(o.script_file ? src : o.script_text,
			    o.script_file ? srclen : strlen(o.script_text),
			    o.script_file ? o.script_file : "-s", &script, &diag);
	free(src);
	if (e) {
		if (diag.set)
			gs_diag_print(&diag, stderr);
		else
			fprintf(stderr, "ghostscope: cannot parse the script: %s\n", strerror(-e));
		ret = EXIT_USAGE;
		goto out;
	}
	phase_end(PH_PARSE);
	if (!o.dry_run && geteuid() != 0) {
		fprintf(stderr, "ghostscope: must run as root (loading BPF programs and attaching uprobes needs CAP_BPF and CAP_PERFMON)\n");
		goto out;
	}

	/* Target. */
	if (o.launch_argv)
		e = gs_target_init_launch(&target, o.launch_argv, o.keep_aslr);
	else if (o.target_path)
		e = gs_target_init_file(&target, o.target_path);
	else
		e = gs_target_init_pid(&target, o.pid);
	if (!e && o.target_path && o.pid) {
		target.pid = o.pid;
		target.file_mode = false;
	}
	if (e) {
		if (o.launch_argv)
			fprintf(stderr, "ghostscope: cannot launch '%s': %s\n", o.launch_argv[0], strerror(-e));
		else if (o.target_path)
			fprintf(stderr, "ghostscope: cannot open target '%s': %s\n", o.target_path, strerror(-e));
		else
			fprintf(stderr, "ghostscope: no process with PID %d\n", (int)o.pid);
		goto out;
	}

	phase_end(PH_TARGET);

	/* Indexes, then the plan. */
	e = gs_index_dir_resolve(o.index_dir, dir, sizeof(dir));
	if (e) {
		fprintf(stderr, "ghostscope: no index directory: %s\n", strerror(-e));
		goto out;
	}
	gs_kcache_set_dir(dir);	/* kernel struct offsets, beside the indexes */
	mods = calloc(target.nmodules, sizeof(*mods));
	if (!mods || open_indexes(&o, &target, mods, dir))
		goto out;
	phase_end(PH_INDEX);
	{
		struct gs_plan_opts po = { .str_cap = 256, .mem_cap = 1024,
					   .dump_cap = o.dump_cap ? o.dump_cap : 256,
					   .bt_depth = o.bt_depth ? o.bt_depth : 128,
					   .after_prologue = o.after_prologue };

		uint8_t pkey[16];
		/* --dry-run prints what the planner read, which a saved plan does not hold */
		bool pcache = !o.dry_run && !o.no_plan_cache &&
			      !gs_plancache_key(script, mods, target.nmodules, &po, pkey);

		e = pcache ? gs_plancache_load(dir, pkey, script, mods, target.nmodules, &plan) : -ENOENT;
		if (o.verbose && pcache)
			fprintf(stderr, "ghostscope: plan: %s\n", e ? "cache miss, planned" : "cache hit");
		if (e) {
			e = gs_plan_build(script, mods, target.nmodules, &po, &plan, &diag);
			if (!e && pcache)
				gs_plancache_store(dir, pkey, plan);
		}
	}
	if (e) {
		if (diag.set)
			gs_diag_print(&diag, stderr);
		else
			fprintf(stderr, "ghostscope: cannot plan the script: %s\n", gs_strerror(e));
		ret = EXIT_USAGE;
		goto out;
	}
	for (size_t i = 0; i < plan->nprobes; i++) {
		if (plan->probes[i].hidden)
			continue;
		if (plan->probes[i].error) {
			nbad++;
			fprintf(stderr, "ghostscope: probe %u (%s at %s): %s\n", plan->probes[i].trace_id,
				plan->probes[i].trace->pattern.text, plan->probes[i].where,
				plan->probes[i].error);
		}
	}

	phase_end(PH_PLAN);

	/* Code generation: one BPF program per distinct probe IR. */
	prog_of = calloc(plan->nprobes + 1, sizeof(*prog_of));
	if (!prog_of || group_programs(plan, &progs, &nprogs, prog_of))
		goto out;
	nir = nprogs;
	ir_of = malloc((plan->nprobes + 1) * sizeof(*ir_of));
	if (!ir_of)
		goto out;
	memcpy(ir_of, prog_of, (plan->nprobes + 1) * sizeof(*ir_of));
	/*
	 * The per-run fields of co are load-time settings (gs_loader_opts.run), so the
	 * object cached in the index directory serves any pid, namespace and ring size.
	 */
	co = (struct gs_codegen_opts){
		.ringbuf_bytes = o.ringbuf_bytes,
		.pid_filter = target.pid && !target.file_mode,
		.filter_tgid = target.pid,
		.pidns_dev = target.pidns_dev,
		.pidns_ino = target.pidns_ino,
		.max_trace_id = plan->nprobes,
		.uprobe_multi = !o.force_single && gs_loader_has_uprobe_multi(),
		.version = GS_VERSION,
		.merge_max = MERGE_MAX,
	};
retry:
	if (nir) {
		double t0 = now_s();
		bool hit = false;

		e = gs_codegen_emit_cached(progs, nir, &co, o.no_bpf_cache ? NULL : dir, &obj,
					   &objlen, &hit, err, sizeof(err));
		if (e && co.merge_max > 1) {
			/* a limit that merged bodies meet together (e.g. stack): apart, then */
			if (o.verbose)
				fprintf(stderr, "ghostscope: merged programs failed to compile (%s); compiling them apart\n", err);
			co.merge_max = 0;
			goto retry;
		}
		if (e) {
			fprintf(stderr, "ghostscope: code generation failed: %s\n", err);
			goto out;
		}
		memcpy(prog_of, ir_of, (plan->nprobes + 1) * sizeof(*prog_of));
		nprogs = merge_programs(plan, progs, nir, co.merge_max, prog_of, &variant_of);
		if (!nprogs)
			goto out;
		if (o.verbose)
			fprintf(stderr, "ghostscope: BPF object: %s, %zu programs (%zu probe bodies), %zu bytes, %.1f ms\n",
				o.no_bpf_cache ? "compiled (cache off)" : hit ? "cache hit" : "cache miss, compiled",
				nprogs, nir, objlen, (now_s() - t0) * 1e3);
	}
	phase_end(PH_OBJECT);
	if (o.dry_run) {
		insns = calloc(nprogs + 1, sizeof(*insns));
		if (insns && nprogs)
			gs_codegen_insn_counts(obj, objlen, insns, nprogs);
		print_dry_run(plan, prog_of, insns);
		printf("%zu probes, %zu failed, %zu BPF programs, object %zu bytes\n",
		       visible_probes(plan), nbad, nprogs, objlen);
		ret = nbad == visible_probes(plan) ? EXIT_RUNTIME : EXIT_OK;
		goto out;
	}
	if (!nprogs) {
		fprintf(stderr, "ghostscope: no probe could be compiled\n");
		goto out;
	}

	/* Load and attach. */
	{
		struct gs_loader_opts lo = { .force_single = o.force_single, .verbose = o.verbose,
					     .run = &co };
		int bad = -1;

		e = gs_loader_open(obj, objlen, nprogs, &lo, &loader, &bad, err, sizeof(err));
		if (e && bad >= 0 && nprogs < nir) {
			/*
			 * The verifier rejected a merged program. Its bodies may fit the
			 * verifier's limits one by one where together they do not, and an
			 * error must name the one probe that does not fit: load them apart.
			 * (Other failures, privileges or memory, would only fail again.)
			 */
			if (o.verbose)
				fprintf(stderr, "ghostscope: merged programs rejected (%s); loading them apart\n", err);
			free(obj);
			obj = NULL;
			free(variant_of);
			variant_of = NULL;
			co.merge_max = 0;
			goto retry;
		}
		if (e) {
			/* name the probe(s) the rejected program serves, not just its number */
			struct gs_strbuf who;

			gs_strbuf_init(&who);
			for (size_t i = 0; bad >= 0 && i < plan->nprobes; i++) {
				const struct gs_probe *pr = &plan->probes[i];

				if (prog_of[i] == (uint32_t)bad && !pr->hidden)
					gs_strbuf_addf(&who, "%strace '%s' at %s", who.len ? ", " : " (",
						       pr->trace->pattern.text, pr->where);
			}
			fprintf(stderr, "ghostscope: cannot load the BPF programs%s%s: %s\n",
				who.len ? who.buf : "", who.len ? ")" : "", err);
			gs_strbuf_deinit(&who);
			goto out;
		}
	}
	phase_end(PH_LOAD);
	sess.o = &o;
	sess.plan = plan;
	sess.slots = calloc(plan->nprobes, sizeof(*sess.slots));
	sess.nslots = calloc(plan->nprobes, sizeof(*sess.nslots));
	pts = calloc(plan->nprobes, sizeof(*pts));
	if (!sess.slots || !sess.nslots || !pts)
		goto out;
	/*
	 * Return probes' entry saves are armed before the returns: a call that enters
	 * between the two then has its save, never a return without one.
	 */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < plan->nprobes; i++) {
			struct gs_probe *pr = &plan->probes[i];
			uint32_t evlen;

			if (!pr->ir || pr->hidden != (pass == 0))
				continue;
			if (gs_codegen_layout(pr->ir, &sess.slots[i], &sess.nslots[i], &evlen))
				continue;
			pts[npts++] = (struct gs_attach_point){
				.path = pr->mod->path, .file_off = pr->file_offset, .vaddr = pr->vaddr,
				.trace_id = pr->trace_id, .prog = prog_of[i], .variant = variant_of[i],
				.pid = target.pid && !target.file_mode ? target.pid : -1,
				.retprobe = pr->retprobe,
			};
		}
	}
	if (install_unwind(loader, plan))
		goto out;
	e = gs_loader_attach(loader, pts, npts, err, sizeof(err));
	if (e) {
		fprintf(stderr, "ghostscope: cannot attach: %s\n", err);
		goto out;
	}
	phase_end(PH_ATTACH);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (o.verbose) {
		size_t emulated = 0, nop5 = 0, known = 0;

		for (size_t i = 0; i < plan->nprobes; i++) {
			const struct gs_probe *pr = &plan->probes[i];

			known += pr->insn != NULL;
			emulated += pr->insn && pr->insn_kind >= GS_INSN_EMULATED;
			nop5 += pr->insn && pr->insn_kind == GS_INSN_NOP5 && gs_insn_nop5_optimized();
		}
		fprintf(stderr, "ghostscope: %zu probes armed (%zu links, %s); function probes on emulated instructions: %zu of %zu",
			npts, gs_loader_link_count(loader),
			gs_loader_uses_multi(loader) ? "uprobe_multi" : "single uprobes", emulated, known);
		if (nop5)
			fprintf(stderr, ", %zu of them 5-byte nops the kernel optimizes (no trap)", nop5);
		fputc('\n', stderr);
		{
			uint32_t bytes;
			size_t n = gs_loader_rings(loader, &bytes);

			fprintf(stderr, "ghostscope: events: %zu ring%s of %u KiB (one per CPU)\n", n,
				n == 1 ? "" : "s", bytes >> 10);
		}
	}
	if (o.verbose)
		phase_print();
	if (o.ready_marker) {
		fprintf(stderr, "%s\n", o.ready_marker);
		fflush(stderr);
	}
	gs_target_release(&target);

	/* Stream events. */
	{
		double deadline = o.timeout >= 0 ? now_s() + o.timeout : 0;
		double next_sweep = now_s() + SWEEP_SECONDS;
		bool sweep = sweep_wanted(plan);

		while (!stop_signal && !sess.stop) {
			int wait_ms = 100;

			if (sweep && now_s() >= next_sweep) {
				size_t seen = 0;
				int n = gs_loader_sweep_saves(loader, tid_alive, NULL, &seen);

				if (n > 0)
					swept += (size_t)n;
				if (n < 0) {	/* not again: it would fail each second */
					sweep = false;
					if (o.verbose)
						fprintf(stderr, "ghostscope: cannot remove the saves of ended threads: %s\n",
							strerror(-n));
				}
				/* a full map is 65,536 kill() checks a walk: then seldom */
				next_sweep = now_s() + (seen > SWEEP_BUSY ? SWEEP_SECONDS_BUSY : SWEEP_SECONDS);
			}

			if (o.timeout >= 0) {
				double left = deadline - now_s();

				if (left <= 0)
					break;
				if (left * 1000 < wait_ms)
					wait_ms = (int)(left * 1000) + 1;
			}
			e = gs_loader_poll(loader, wait_ms, on_event, &sess);
			fflush(stdout);
			if (e < 0 && e != -ECANCELED) {
				fprintf(stderr, "ghostscope: reading events failed: %s\n", strerror(-e));
				break;
			}
			if (!target_alive(&target)) {
				/* what is left, unless --max-events is reached */
				drain_all(loader, &sess);
				if (o.verbose || target.child)
					fprintf(stderr, "ghostscope: target exited\n");
				target.child = 0;
				break;
			}
		}
	}
	ret = EXIT_OK;
	gs_loader_detach(loader);
	/* Detached: what is still in the rings is delivered, so delivered + lost = hits. */
	drain_all(loader, &sess);
	fflush(stdout);
	{
		uint64_t total_lost = 0;

		for (size_t i = 0; i < plan->nprobes; i++) {
			uint64_t lost = 0;

			if (plan->probes[i].ir && !gs_loader_lost(loader, plan->probes[i].trace_id, &lost) && lost) {
				fprintf(stderr, "ghostscope: probe %u (%s): %" PRIu64 " events lost\n",
					plan->probes[i].trace_id, plan->probes[i].where, lost);
				total_lost += lost;
			}
		}
		if (stop_signal || o.verbose)
			fprintf(stderr, "ghostscope: %ld events, %" PRIu64 " lost\n", sess.events, total_lost);
		if (o.verbose && swept)
			fprintf(stderr, "ghostscope: %zu return-probe saves of ended threads removed\n", swept);
	}
out:
	gs_loader_close(loader);
	if (target.child && target.gate_fd < 0)	/* launched and still running */
		stop_child(target.child);
	if (*dir && gs_filecache_stored())
		prune_caches(dir, cache_limit, &started, o.verbose);
	for (size_t i = 0; mods && i < target.nmodules; i++)
		gs_index_close(mods[i].idx);
	gs_target_deinit(&target);
	if (sess.slots)
		for (size_t i = 0; i < plan->nprobes; i++)
			free(sess.slots[i]);
	free(sess.slots);
	free(sess.nslots);
	gs_decode_lines_deinit(&sess.lines);
	free(pts);
	free(obj);
	free(progs);
	free(prog_of);
	free(ir_of);
	free(variant_of);
	free(insns);
	gs_plan_free(plan);
	free(mods);
	gs_script_free(script);
	gs_diag_deinit(&diag);
	return ret;
}

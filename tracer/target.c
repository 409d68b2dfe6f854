// SPDX-License-Identifier: GPL-2.0-or-later
/* Trace targets: a process, a file, or a launched program (see target.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shared/index.h"
#include "tracer/target.h"

static struct gs_target_module *find_module(struct gs_target *t, const char *path)
{
	for (size_t i = 0; i < t->nmodules; i++)
		if (!strcmp(t->modules[i].path, path))
			return &t->modules[i];
	return NULL;
}

int gs_target_add_module(struct gs_target *t, const char *path, bool is_main)
{
	struct gs_target_module *m;

	if (find_module(t, path))
		return 0;
	m = realloc(t->modules, (t->nmodules + 1) * sizeof(*m));
	if (!m)
		return -ENOMEM;
	t->modules = m;
	m = &t->modules[t->nmodules];
	memset(m, 0, sizeof(*m));
	m->path = strdup(path);
	if (!m->path)
		return -ENOMEM;
	m->is_main = is_main;
	t->nmodules++;
	return 0;
}

/*
 * The target's pid namespace, for events to show its pids as it sees them. The initial
 * namespace is left unset (0): there the view is the host's, and an unset namespace
 * spares every hit a bpf_get_ns_current_pid_tgid() call (the verifier drops it).
 */
static void read_pidns(struct gs_target *t, pid_t pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
	if (stat(path, &st) == 0 && st.st_ino != GS_PROC_PID_INIT_INO) {
		t->pidns_dev = st.st_dev;
		t->pidns_ino = st.st_ino;
	}
}

int gs_target_init_pid(struct gs_target *t, pid_t pid)
{
	char path[64], exe[PATH_MAX], line[PATH_MAX + 128];
	ssize_t n;
	FILE *f;
	int err;

	memset(t, 0, sizeof(*t));
	t->gate_fd = -1;
	t->pid = pid;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	exe[n] = '\0';
	err = gs_target_add_module(t, exe, true);
	if (err)
		return err;
	read_pidns(t, pid);

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (fgets(line, sizeof(line), f)) {
		uint64_t start, end, off;
		char perms[8], file[PATH_MAX];
		struct gs_target_module *m;

		file[0] = '\0';
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %*s %*s %4095[^\n]",
			   &start, &end, perms, &off, file) < 4 || file[0] != '/')
			continue;
		if (strstr(file, " (deleted)"))
			continue;
		m = find_module(t, file);
		if (!m) {
			/* Only ELF files: skip data files mapped by the program. */
			int fd = open(file, O_RDONLY | O_CLOEXEC);
			char magic[4] = { 0 };

			if (fd < 0)
				continue;
			n = read(fd, magic, 4);
			close(fd);
			if (n != 4 || memcmp(magic, "\177ELF", 4))
				continue;
			err = gs_target_add_module(t, file, false);
			if (err)
				goto out;
			m = &t->modules[t->nmodules - 1];
		}
		if (perms[2] == 'x' && !m->has_exec) {
			m->exec_start = start;
			m->exec_end = end;
			m->exec_off = off;
			m->has_exec = true;
		}
		if (!m->has_map || off < m->map_off) {
			m->map_start = start;
			m->map_off = off;
			m->has_map = true;
		}
	}
	err = 0;
out:
	fclose(f);
	return err;
}


/* Resolves @name through PATH like execvp would. */
static int find_program(const char *name, char *buf, size_t len)
{
	const char *path = getenv("PATH");

	if (strchr(name, '/')) {
		if (!realpath(name, buf))
			return -errno;
		return access(buf, X_OK) ? -errno : 0;
	}
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path; *p;) {
		const char *colon = strchr(p, ':');
		size_t dl = colon ? (size_t)(colon - p) : strlen(p);
		char cand[PATH_MAX];

		snprintf(cand, sizeof(cand), "%.*s/%s", (int)dl, dl ? p : ".", name);
		if (access(cand, X_OK) == 0 && realpath(cand, buf))
			return 0;
		p += dl + (colon ? 1 : 0);
	}
	(void)len;
	return -ENOENT;
}

/* Turns address randomization off for this process's children (as GDB's run does). */
static void no_aslr(void)
{
	int pers = personality(0xffffffff);

	if (pers != -1)
		personality(pers | ADDR_NO_RANDOMIZE);
}

static bool aslr_off(void)
{
	int pers = personality(0xffffffff);

	return pers != -1 && (pers & ADDR_NO_RANDOMIZE);
}

/*
 * Asks the dynamic loader which libraries @prog maps (what ldd does). Without address
 * randomization it also says where: the same place the real run will map them, so
 * their globals have known addresses before the program starts.
 */
static int add_loader_libs(struct gs_target *t, const char *prog, bool fixed)
{
	int pfd[2], status, err = 0;
	char line[PATH_MAX + 64];
	pid_t pid;
	FILE *f;

	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		if (fixed)
			no_aslr();
		setenv("LD_TRACE_LOADED_OBJECTS", "1", 1);
		execl(prog, prog, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	f = fdopen(pfd[0], "r");
	while (f && fgets(line, sizeof(line), f)) {
		char *arrow = strstr(line, "=> "), *p, *paren, real[PATH_MAX];
		unsigned long long base = 0;

		p = arrow ? arrow + 3 : line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '/')
			continue;
		paren = strstr(p, "(0x");
		if (paren)
			base = strtoull(paren + 1, NULL, 16);
		p[strcspn(p, " (\n")] = '\0';
		if (!realpath(p, real) || err)
			continue;
		err = gs_target_add_module(t, real, false);
		if (!err && fixed && base) {	/* l_addr: the load bias of a library */
			struct gs_target_module *m = find_module(t, real);

			m->map_start = base;
			m->map_off = 0;
			m->has_map = true;
		}
	}
	if (f)
		fclose(f);
	waitpid(pid, &status, 0);
	return err;
}

/*
 * -t PATH: application libraries. The program's DT_NEEDED names that its
 * DT_RUNPATH/DT_RPATH (with $ORIGIN) or the tracer's LD_LIBRARY_PATH finds, and
 * theirs in turn, become modules without a load address: their globals can be named
 * (their addresses are found at run time, in each process) and their functions
 * probed by name. System libraries, found through the loader's default paths, are
 * left out: indexing libc on the first -t run costs seconds, and running the loader
 * in list mode (ldd) to learn the exact set costs tens of milliseconds on every run.
 * The file is parsed by hand (a few preads): no libelf for four tables.
 */
enum { NEEDED_MAX = 64, NEEDED_DEPTH = 4, DYNSTR_MAX = 1 << 20 };

struct dyninfo {
	char *strtab;
	size_t strsz;
	uint64_t needed[NEEDED_MAX];
	size_t nneeded;
	uint64_t runpath, rpath;	/* strtab offsets, UINT64_MAX when absent */
};

/* Reads @path's dynamic section into @di (strtab malloc'd). 0 or -errno. */
static int read_dynamic(const char *path, struct dyninfo *di)
{
	unsigned char eh[64], ph[56], dyn[16];
	uint64_t phoff, dyn_off = 0, dyn_size = 0, strvaddr = 0, stroff = UINT64_MAX;
	uint16_t phnum, phentsize;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = -ENOEXEC;

	memset(di, 0, sizeof(*di));
	di->runpath = di->rpath = UINT64_MAX;
	if (fd < 0)
		return -errno;
	if (pread(fd, eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) || memcmp(eh, "\177ELF", 4) ||
	    eh[4] != 2 /* ELFCLASS64 */ || eh[5] != 1 /* little endian */)
		goto out;
	memcpy(&phoff, eh + 32, 8);
	memcpy(&phentsize, eh + 54, 2);
	memcpy(&phnum, eh + 56, 2);
	for (int pass = 0; pass < 2; pass++) {
		for (uint16_t i = 0; i < phnum && phentsize >= sizeof(ph); i++) {
			uint32_t type;
			uint64_t off, vaddr, filesz;

			if (pread(fd, ph, sizeof(ph), (off_t)(phoff + (uint64_t)i * phentsize)) !=
			    (ssize_t)sizeof(ph))
				goto out;
			memcpy(&type, ph, 4);
			memcpy(&off, ph + 8, 8);
			memcpy(&vaddr, ph + 16, 8);
			memcpy(&filesz, ph + 32, 8);
			if (pass == 0 && type == 2 /* PT_DYNAMIC */) {
				dyn_off = off;
				dyn_size = filesz;
			}
			if (pass == 1 && type == 1 /* PT_LOAD */ && strvaddr >= vaddr &&
			    strvaddr - vaddr < filesz)
				stroff = off + (strvaddr - vaddr);
		}
		for (uint64_t o = 0; pass == 0 && o + sizeof(dyn) <= dyn_size; o += sizeof(dyn)) {
			uint64_t tag, val;

			if (pread(fd, dyn, sizeof(dyn), (off_t)(dyn_off + o)) != (ssize_t)sizeof(dyn))
				goto out;
			memcpy(&tag, dyn, 8);
			memcpy(&val, dyn + 8, 8);
			if (tag == 0)
				break;
			if (tag == 1 /* DT_NEEDED */ && di->nneeded < NEEDED_MAX)
				di->needed[di->nneeded++] = val;
			else if (tag == 5 /* DT_STRTAB */)
				strvaddr = val;
			else if (tag == 10 /* DT_STRSZ */)
				di->strsz = val;
			else if (tag == 29 /* DT_RUNPATH */)
				di->runpath = val;
			else if (tag == 15 /* DT_RPATH */)
				di->rpath = val;
		}
	}
	err = 0;
	if (!di->nneeded || stroff == UINT64_MAX || !di->strsz || di->strsz > DYNSTR_MAX)
		goto out;
	di->strtab = calloc(1, di->strsz + 1);
	if (!di->strtab || pread(fd, di->strtab, di->strsz, (off_t)stroff) != (ssize_t)di->strsz) {
		free(di->strtab);
		di->strtab = NULL;
	}
out:
	close(fd);
	return err;
}

/* The string at strtab offset @off, or NULL. */
static const char *dynstr(const struct dyninfo *di, uint64_t off)
{
	return di->strtab && off < di->strsz ? di->strtab + off : NULL;
}

/* Looks @name up in the ':'-separated @dirs ($ORIGIN = @origin); realpath in @out. */
static bool find_in_dirs(const char *dirs, const char *origin, const char *name, char *out)
{
	for (const char *p = dirs; p && *p;) {
		size_t dl = strcspn(p, ":");
		char dir[PATH_MAX], cand[PATH_MAX];
		int n;

		if (dl >= 7 && !strncmp(p, "$ORIGIN", 7))
			n = snprintf(dir, sizeof(dir), "%s%.*s", origin, (int)(dl - 7), p + 7);
		else if (dl >= 9 && !strncmp(p, "${ORIGIN}", 9))
			n = snprintf(dir, sizeof(dir), "%s%.*s", origin, (int)(dl - 9), p + 9);
		else
			n = snprintf(dir, sizeof(dir), "%.*s", (int)dl, p);
		if (n > 0 && (size_t)n < sizeof(dir) && dl &&
		    snprintf(cand, sizeof(cand), "%s/%s", dir, name) < (int)sizeof(cand) &&
		    !access(cand, R_OK) && realpath(cand, out))
			return true;
		p += dl + (p[dl] == ':');
	}
	return false;
}

static void add_app_libs(struct gs_target *t, const char *path, int depth)
{
	char origin[PATH_MAX], real[PATH_MAX];
	const char *runpath, *rpath, *slash;
	struct dyninfo di;

	if (depth > NEEDED_DEPTH || read_dynamic(path, &di))
		return;
	slash = strrchr(path, '/');
	snprintf(origin, sizeof(origin), "%.*s", slash ? (int)(slash - path) : 1,
		 slash ? path : ".");
	runpath = dynstr(&di, di.runpath);
	rpath = runpath ? NULL : dynstr(&di, di.rpath);	/* RUNPATH hides RPATH */
	for (size_t i = 0; i < di.nneeded; i++) {
		const char *name = dynstr(&di, di.needed[i]);

		if (!name || strchr(name, '/'))
			continue;
		if (!find_in_dirs(rpath, origin, name, real) &&
		    !find_in_dirs(getenv("LD_LIBRARY_PATH"), origin, name, real) &&
		    !find_in_dirs(runpath, origin, name, real))
			continue;
		if (find_module(t, real) || gs_target_add_module(t, real, false))
			continue;
		add_app_libs(t, real, depth + 1);
	}
	free(di.strtab);
}

int gs_target_init_file(struct gs_target *t, const char *path)
{
	char real[PATH_MAX];
	int err;

	memset(t, 0, sizeof(*t));
	t->gate_fd = -1;
	t->file_mode = true;
	if (!realpath(path, real))
		return -errno;
	err = gs_target_add_module(t, real, true);
	if (!err)
		add_app_libs(t, real, 0);	/* best effort */
	return err;
}

int gs_target_init_launch(struct gs_target *t, char *const argv[], bool keep_aslr)
{
	bool fixed = !keep_aslr || aslr_off();

	char prog[PATH_MAX];
	int gate[2], err;
	pid_t pid;

	memset(t, 0, sizeof(*t));
	t->gate_fd = -1;
	err = find_program(argv[0], prog, sizeof(prog));
	if (err)
		return err;
	err = gs_target_add_module(t, prog, true);
	if (!err)
		err = add_loader_libs(t, prog, fixed);
	if (err)
		return err;
	if (pipe2(gate, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(gate[0]);
		close(gate[1]);
		return err;
	}
	if (pid == 0) {
		char c;

		close(gate[1]);
		/* Blocks until the tracer has armed every probe (or died). */
		if (read(gate[0], &c, 1) != 0)
			_exit(127);
		if (fixed)
			no_aslr();
		execv(prog, argv);
		fprintf(stderr, "ghostscope: cannot run '%s': %s\n", prog, strerror(errno));
		_exit(127);
	}
	close(gate[0]);
	t->child = pid;
	t->pid = pid;
	t->gate_fd = gate[1];
	read_pidns(t, pid);
	return 0;
}

void gs_target_release(struct gs_target *t)
{
	if (t->gate_fd >= 0) {
		close(t->gate_fd);
		t->gate_fd = -1;
	}
}

void gs_target_deinit(struct gs_target *t)
{
	if (!t)
		return;
	if (t->gate_fd >= 0) {	/* never released: the child must not run */
		kill(t->child, SIGKILL);
		close(t->gate_fd);
		waitpid(t->child, NULL, 0);
	}
	for (size_t i = 0; i < t->nmodules; i++)
		free(t->modules[i].path);
	free(t->modules);
	memset(t, 0, sizeof(*t));
	t->gate_fd = -1;
}

bool gs_target_bias(const struct gs_target_module *m, const struct gs_segment *segs,
		    size_t nsegs, uint64_t *bias_ret)
{
	const uint64_t page = 4096;

	if (!m->has_map)
		return false;
	for (size_t i = 0; i < nsegs; i++) {
		if ((segs[i].offset & ~(page - 1)) == m->map_off) {
			*bias_ret = m->map_start - (segs[i].vaddr & ~(page - 1));
			return true;
		}
	}
	return false;
}

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

static void read_pidns(struct gs_target *t, pid_t pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
	if (stat(path, &st) == 0) {
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

int gs_target_init_file(struct gs_target *t, const char *path)
{
	char real[PATH_MAX];

	memset(t, 0, sizeof(*t));
	t->gate_fd = -1;
	t->file_mode = true;
	if (!realpath(path, real))
		return -errno;
	return gs_target_add_module(t, real, true);
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

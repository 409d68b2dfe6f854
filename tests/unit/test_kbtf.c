// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for kernel struct member offsets (kbtf.h), against the running kernel's
 * BTF: a nested path agrees with its parts looked up apart, sizes and pointer kinds are
 * checked, bad paths are refused, and answers come back from the on-disk cache (a
 * forged cache file is believed, so the BTF was not parsed for it; a file of another
 * size is not), one file per question, and from the process's own memory once the
 * files are gone.
 */
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>

#include "tests/unit/test.h"
#include "tracer/kbtf.h"
#include "tracer/kcache.h"

extern bool test_kbtf__offsets(void);
extern bool test_kbtf__cache(void);

static bool have_btf(void)
{
	if (access("/sys/kernel/btf/vmlinux", R_OK) == 0)
		return true;
	fprintf(stderr, "    skipped: this kernel has no readable /sys/kernel/btf/vmlinux\n");
	return false;
}

bool test_kbtf__offsets(void)
{
	const struct gs_kbtf_field nested = { "task_struct.thread.fsbase", 8, false };
	const struct gs_kbtf_field parts[] = {
		{ "task_struct.thread", 0, false },
		{ "thread_struct.fsbase", 8, false },
		{ "task_struct.mm", 8, true },
		{ "task_struct.pid", 4, false },
	};
	const struct gs_kbtf_field bad_size = { "task_struct.pid", 8, false };
	const struct gs_kbtf_field not_ptr = { "task_struct.pid", 0, true };
	const struct gs_kbtf_field missing = { "task_struct.no_such_member", 0, false };
	const struct gs_kbtf_field no_struct = { "no_such_struct_gs.x", 0, false };
	const struct gs_kbtf_field bare = { "task_struct", 0, false };
	uint32_t off = 0, offs[4] = { 0 };

	if (!have_btf())
		return true;
	gs_kcache_set_dir(NULL);	/* the BTF itself, not a cache */
	gs_kbtf_forget();
	ASSERT_EQ(gs_kbtf_offsets("t_nested", &nested, 1, &off), 0);
	ASSERT_EQ(gs_kbtf_offsets("t_parts", parts, 4, offs), 0);
	ASSERT_TRUE(off > 0);
	ASSERT_EQ(off, offs[0] + offs[1]);
	ASSERT_TRUE(offs[2] > 0 && offs[2] % 8 == 0);
	ASSERT_TRUE(offs[3] > 0 && offs[3] % 4 == 0);
	ASSERT_EQ(gs_kbtf_offsets("t_bad_size", &bad_size, 1, &off), -ENOENT);
	ASSERT_EQ(gs_kbtf_offsets("t_not_ptr", &not_ptr, 1, &off), -ENOENT);
	ASSERT_EQ(gs_kbtf_offsets("t_missing", &missing, 1, &off), -ENOENT);
	ASSERT_EQ(gs_kbtf_offsets("t_no_struct", &no_struct, 1, &off), -ENOENT);
	ASSERT_EQ(gs_kbtf_offsets("t_bare", &bare, 1, &off), -EINVAL);
	ASSERT_EQ(gs_kbtf_offsets("bad/key", &nested, 1, &off), -EINVAL);
	ASSERT_EQ(gs_kbtf_offsets("t_none", &nested, 0, &off), -EINVAL);
	ASSERT_EQ(gs_kbtf_offsets("t.dot", &nested, 1, &off), -EINVAL);
	gs_kbtf_release();
	return true;
}

/* The kcache files of @what under @dir: how many, and the first in @path. */
static size_t files_of(const char *dir, const char *what, char *path, size_t len)
{
	char pat[256];
	glob_t g;
	size_t n;

	snprintf(pat, sizeof(pat), "%s/kernel/kbtf-%s-*", dir, what);
	if (glob(pat, 0, NULL, &g))
		return 0;
	n = g.gl_pathc;
	snprintf(path, len, "%s", g.gl_pathv[0]);
	globfree(&g);
	return n;
}

static bool put_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "we");
	bool ok = f && fwrite(buf, 1, len, f) == len;

	return f && !fclose(f) && ok;
}

bool test_kbtf__cache(void)
{
	const struct gs_kbtf_field pid = { "task_struct.pid", 4, false };
	const struct gs_kbtf_field tgid = { "task_struct.tgid", 4, false };
	/* the file layout of kbtf.h: status, count, offsets */
	const uint32_t forged[3] = { 0, 1, 1234 }, forged_missing[3] = { ENOENT, 1, 0 };
	char dir[] = "/tmp/gs-kbtf-XXXXXX", cmd[128], path[512], other[512];
	uint32_t off = 0, real = 0, real_tgid = 0;
	struct stat st;
	bool ok = false;

	if (!have_btf())
		return true;
	ASSERT_TRUE(mkdtemp(dir));
	gs_kcache_set_dir(dir);
	gs_kbtf_forget();
	/* an answer is stored in one file, named by the question */
	ASSERT_GOTO(gs_kbtf_offsets("t_pid", &pid, 1, &real) == 0 && real > 0, out);
	ASSERT_GOTO(files_of(dir, "t_pid", path, sizeof(path)) == 1, out);
	ASSERT_GOTO(!stat(path, &st) && st.st_size == 12, out);
	/* a file is believed: its offset, not the BTF's */
	gs_kbtf_release();
	ASSERT_GOTO(put_file(path, forged, sizeof(forged)), out);
	gs_kbtf_forget();
	ASSERT_GOTO(gs_kbtf_offsets("t_pid", &pid, 1, &off) == 0, out);
	ASSERT_GOTO(off == 1234, out);
	ASSERT_GOTO(put_file(path, forged_missing, sizeof(forged_missing)), out);
	gs_kbtf_forget();
	ASSERT_GOTO(gs_kbtf_offsets("t_pid", &pid, 1, &off) == -ENOENT, out);
	/* a file of another size (an older format) is a miss: parsed again, rewritten */
	ASSERT_GOTO(put_file(path, forged, 4), out);
	gs_kbtf_forget();
	ASSERT_GOTO(gs_kbtf_offsets("t_pid", &pid, 1, &off) == 0 && off == real, out);
	ASSERT_GOTO(!stat(path, &st) && st.st_size == 12, out);
	/* other fields under the same name: another file, another answer */
	ASSERT_GOTO(gs_kbtf_offsets("t_pid", &tgid, 1, &real_tgid) == 0, out);
	ASSERT_GOTO(real_tgid != real, out);
	ASSERT_GOTO(files_of(dir, "t_pid", other, sizeof(other)) == 2, out);
	/* the process keeps its answers once the files are gone */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ASSERT_GOTO(system(cmd) == 0, out);
	ASSERT_GOTO(gs_kbtf_offsets("t_pid", &pid, 1, &off) == 0 && off == real, out);
	ASSERT_GOTO(gs_kbtf_offsets("t_pid", &tgid, 1, &off) == 0 && off == real_tgid, out);
	ok = true;
out:
	gs_kbtf_release();
	gs_kbtf_forget();
	gs_kcache_set_dir(NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		ok = false;
	return ok;
}

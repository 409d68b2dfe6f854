// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for kernel struct member offsets (kbtf.h), against the running kernel's
 * BTF: a nested path agrees with its parts looked up apart, sizes and pointer kinds are
 * checked, bad paths are refused, and answers come back from the on-disk cache (a
 * forged cache file is believed, so the BTF was not parsed for it) and from the
 * process's own memory once the file is gone.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

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
	/* a missing member stays missing for the process (its answer is kept) */
	ASSERT_EQ(gs_kbtf_offsets("t_missing", &missing, 1, &off), -ENOENT);
	gs_kbtf_release();
	return true;
}

bool test_kbtf__cache(void)
{
	const struct gs_kbtf_field pid = { "task_struct.pid", 4, false };
	/* the file layout of kbtf.c: status, count, offsets */
	const uint32_t forged[3] = { 0, 1, 1234 }, forged_missing[3] = { ENOENT, 1, 0 };
	char dir[] = "/tmp/gs-kbtf-XXXXXX", cmd[128];
	uint32_t off = 0, real = 0;
	bool ok = false;

	if (!have_btf())
		return true;
	ASSERT_TRUE(mkdtemp(dir));
	gs_kcache_set_dir(dir);
	/* a real answer is stored, then read back the same */
	ASSERT_GOTO(gs_kbtf_offsets("t_pid", &pid, 1, &real) == 0 && real > 0, out);
	gs_kbtf_release();
	ASSERT_GOTO(gs_kbtf_offsets("t_pid", &pid, 1, &off) == 0 && off == real, out);
	/* a cache file is believed: its offset, not the BTF's */
	gs_kcache_put("t_forged", forged, sizeof(forged));
	ASSERT_GOTO(gs_kbtf_offsets("t_forged", &pid, 1, &off) == 0, out);
	ASSERT_GOTO(off == 1234, out);
	gs_kcache_put("t_forged_missing", forged_missing, sizeof(forged_missing));
	ASSERT_GOTO(gs_kbtf_offsets("t_forged_missing", &pid, 1, &off) == -ENOENT, out);
	/* a file for another field count is a miss: the BTF answers */
	gs_kcache_put("t_short", forged, sizeof(forged) - 4);
	ASSERT_GOTO(gs_kbtf_offsets("t_short", &pid, 1, &off) == 0 && off == real, out);
	/* the process keeps its answers once the files are gone */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ASSERT_GOTO(system(cmd) == 0, out);
	ASSERT_GOTO(gs_kbtf_offsets("t_forged", &pid, 1, &off) == 0 && off == 1234, out);
	ok = true;
out:
	gs_kbtf_release();
	gs_kcache_set_dir(NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		ok = false;
	return ok;
}

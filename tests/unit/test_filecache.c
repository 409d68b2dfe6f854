// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for the cache files' pruning (filecache.h): over the limit, the least
 * recently used files go until 3/4 of it is left; under it nothing goes; a hit marks
 * an old file used; a dead writer's temporary file goes; other names stay. And the
 * limit's parser.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/test.h"
#include "tracer/filecache.h"

extern bool test_filecache__prune_lru(void);
extern bool test_filecache__hit_marks_used(void);
extern bool test_filecache__parse_limit(void);

static const char magic[8] = "GSTEST1\n";

/* Stores a file of @len payload bytes under key @k (its first byte) aged @age seconds. */
static bool put(const char *dir, uint8_t k, size_t len, time_t age, char *path, size_t plen)
{
	uint8_t key[16] = { k };
	char d[512], *data = calloc(1, len);
	struct timespec ts[2];
	bool ok;

	ok = data && !gs_filecache_paths(dir, "c", key, ".x", d, path, plen) &&
	     !gs_filecache_write(dir, "c", d, path, magic, key, data, len);
	free(data);
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - age;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	return ok && !utimensat(AT_FDCWD, path, ts, 0);
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static void rm_tree(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		T_FAIL("cannot remove %s", dir);
}

bool test_filecache__prune_lru(void)
{
	char dir[] = "/tmp/gs-unit-fc.XXXXXX", p[6][512], tmp[600], other[600];
	struct timespec start = { time(NULL), 0 }, later = { time(NULL) - 5, 0 };
	bool ok = false;
	int fd;

	if (!mkdtemp(dir))
		return false;
	/* six files of 952 + 48 bytes, aged 60..10 s: 6000 bytes */
	for (int i = 0; i < 6; i++)
		ASSERT_GOTO(put(dir, (uint8_t)(i * 0x20), 952, 60 - 10 * i, p[i], sizeof(p[i])), out);
	ASSERT_GOTO(gs_filecache_stored(), out);
	/* a dead writer's temporary file (2 hours old) and a file of another name */
	snprintf(tmp, sizeof(tmp), "%s.123.tmp", p[0]);
	snprintf(other, sizeof(other), "%s.keep", p[0]);
	for (int i = 0; i < 2; i++) {
		struct timespec ts[2] = { { time(NULL) - 7200, 0 }, { time(NULL) - 7200, 0 } };
		const char *f = i ? other : tmp;

		fd = open(f, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		ASSERT_GOTO(fd >= 0 && !close(fd) && !utimensat(AT_FDCWD, f, ts, 0), out);
	}

	/* under the limit: nothing goes but the dead writer's file */
	ASSERT_GOTO(gs_filecache_prune(dir, "c", ".x", 6000, &start) == 0, out);
	ASSERT_GOTO(!exists(tmp) && exists(other), out);
	for (int i = 0; i < 6; i++)
		ASSERT_GOTO(exists(p[i]), out);

	/* 6000 bytes over a limit of 5000: down to 3750, the three oldest go */
	ASSERT_GOTO(gs_filecache_prune(dir, "c", ".x", 5000, &start) == 3, out);
	for (int i = 0; i < 6; i++)
		ASSERT_GOTO(exists(p[i]) == (i >= 3), out);
	ASSERT_GOTO(exists(other), out);

	/* what the caller stored since it started stays, even over the limit */
	ASSERT_GOTO(put(dir, 0xe0, 4952, 0, p[0], sizeof(p[0])), out);
	ASSERT_GOTO(gs_filecache_prune(dir, "c", ".x", 4000, &later) == 3, out);
	for (int i = 1; i < 6; i++)
		ASSERT_GOTO(!exists(p[i]), out);
	ASSERT_GOTO(exists(p[0]), out);

	/* a symlinked bucket is not followed: the file behind it stays */
	{
		char elsewhere[600], link[600];

		snprintf(elsewhere, sizeof(elsewhere), "%s/elsewhere", dir);
		snprintf(link, sizeof(link), "%s/c/ff", dir);
		ASSERT_GOTO(!mkdir(elsewhere, 0755) && !symlink(elsewhere, link), out);
		snprintf(elsewhere, sizeof(elsewhere), "%s/elsewhere/victim.x", dir);
		fd = open(elsewhere, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		ASSERT_GOTO(fd >= 0 && write(fd, "0123456789", 10) == 10 && !close(fd), out);
		ASSERT_GOTO(!utimensat(AT_FDCWD, elsewhere, (struct timespec[2]){ { 1, 0 }, { 1, 0 } }, 0), out);
		ASSERT_GOTO(gs_filecache_prune(dir, "c", ".x", 100, &later) == 0, out);
		ASSERT_GOTO(exists(elsewhere), out);
	}

	ASSERT_GOTO(gs_filecache_prune(dir, "none", ".x", 5000, &start) == -ENOENT, out);
	ok = true;
out:
	rm_tree(dir);
	return ok;
}

/* A hit on a file unused for over an hour makes it the most recently used. */
bool test_filecache__hit_marks_used(void)
{
	char dir[] = "/tmp/gs-unit-fc.XXXXXX", old[512], newer[512];
	struct timespec since = { time(NULL) - 30, 0 };
	uint8_t key[16] = { 0x10 };
	struct stat sb;
	size_t len = 0;
	void *data;
	bool ok = false;

	if (!mkdtemp(dir))
		return false;
	ASSERT_GOTO(put(dir, 0x10, 100, 7200, old, sizeof(old)), out);
	ASSERT_GOTO(put(dir, 0x20, 100, 600, newer, sizeof(newer)), out);
	data = gs_filecache_read(old, magic, key, &len);
	free(data);
	ASSERT_GOTO(data && len == 100, out);
	ASSERT_GOTO(!stat(old, &sb) && sb.st_mtime >= time(NULL) - 60, out);
	/* 296 bytes over 200: the file not used for 10 minutes goes, the one just read stays */
	ASSERT_GOTO(gs_filecache_prune(dir, "c", ".x", 200, &since) == 1, out);
	ASSERT_GOTO(exists(old) && !exists(newer), out);
	ok = true;
out:
	rm_tree(dir);
	return ok;
}

bool test_filecache__parse_limit(void)
{
	uint64_t v = 0;

	ASSERT_TRUE(!gs_filecache_parse_limit("4096", &v) && v == 4096);
	ASSERT_TRUE(!gs_filecache_parse_limit("500K", &v) && v == 500 << 10);
	ASSERT_TRUE(!gs_filecache_parse_limit("64M", &v) && v == 64 << 20);
	ASSERT_TRUE(!gs_filecache_parse_limit("2g", &v) && v == 2ull << 30);
	ASSERT_EQ(gs_filecache_parse_limit("", &v), -EINVAL);
	ASSERT_EQ(gs_filecache_parse_limit("0", &v), -EINVAL);
	ASSERT_EQ(gs_filecache_parse_limit("-5", &v), -EINVAL);
	ASSERT_EQ(gs_filecache_parse_limit("12x", &v), -EINVAL);
	ASSERT_EQ(gs_filecache_parse_limit("64MB", &v), -EINVAL);
	ASSERT_EQ(gs_filecache_parse_limit("99999999999999999999", &v), -EINVAL);
	ASSERT_EQ(gs_filecache_parse_limit("17179869184G", &v), -EINVAL);
	return true;
}

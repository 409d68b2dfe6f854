// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of shared/elf.c on the test binary itself and on broken copies of it. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shared/elf.h"
#include "shared/errors.h"
#include "tests/unit/test.h"

/* Writes @len bytes of the file at @src to a new temp file; returns its path (static). */
static const char *copy_prefix(const char *src, off_t len, char *path, size_t path_len)
{
	int in = -1, out = -1;
	char buf[65536];
	ssize_t n;

	snprintf(path, path_len, "/tmp/gs-unit-elf.XXXXXX");
	out = mkstemp(path);
	in = open(src, O_RDONLY);
	if (out < 0 || in < 0)
		goto fail;
	while (len > 0 && (n = read(in, buf, len < (off_t)sizeof(buf) ? (size_t)len : sizeof(buf))) > 0) {
		if (write(out, buf, (size_t)n) != n)
			goto fail;
		len -= n;
	}
	close(in);
	close(out);
	return path;
fail:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return NULL;
}

bool test_elf__open_errors(void)
{
	struct gs_elf *elf = (struct gs_elf *)1;
	char path[64];
	int fd;

	ASSERT_EQ(gs_elf_open("/nonexistent/gs-unit", &elf), -ENOENT);
	ASSERT_TRUE(elf == NULL);
	ASSERT_EQ(gs_elf_open("/", &elf), -EISDIR);
	ASSERT_EQ(gs_elf_open("/etc/passwd", &elf), -GS_ERR_NOT_ELF);
	snprintf(path, sizeof(path), "/tmp/gs-unit-empty.XXXXXX");
	fd = mkstemp(path);
	ASSERT_TRUE(fd >= 0);
	close(fd);
	ASSERT_EQ(gs_elf_open(path, &elf), -GS_ERR_NOT_ELF);
	unlink(path);
	gs_elf_close(NULL);
	return true;
}

bool test_elf__self(void)
{
	struct gs_segment *segs = NULL;
	struct gs_symbol *syms = NULL;
	const struct gs_symbol *me = NULL;
	size_t nsegs = 0, nsyms = 0;
	struct gs_elf *elf = NULL;
	char id[41], id2[41];
	uint16_t type, mach;
	uint8_t file_bytes[16];
	uint64_t off;
	bool ok = false, have_x = false;
	int fd = -1;

	ASSERT_EQ(gs_elf_open("/proc/self/exe", &elf), 0);
	ASSERT_GOTO(gs_elf_type(elf, &type, &mach) == 0, out);
	ASSERT_GOTO(type == ET_DYN || type == ET_EXEC, out);
	ASSERT_GOTO(mach == EM_X86_64, out);
	ASSERT_GOTO(gs_elf_build_id(elf, id) == 0, out);
	ASSERT_GOTO(strlen(id) == 40 && strspn(id, "0123456789abcdef") == 40, out);
	ASSERT_GOTO(gs_build_id_of_path("/proc/self/exe", id2) == 0 && !strcmp(id, id2), out);

	ASSERT_GOTO(gs_elf_segments(elf, &segs, &nsegs) == 0 && nsegs >= 2, out);
	for (size_t i = 0; i < nsegs; i++)
		have_x |= (segs[i].flags & PF_X) != 0;
	ASSERT_GOTO(have_x, out);

	ASSERT_GOTO(gs_elf_symbols(elf, &syms, &nsyms) == 0 && nsyms > 0, out);
	for (size_t i = 0; i < nsyms; i++) {
		ASSERT_GOTO(syms[i].name && syms[i].name[0], out);
		if (!strcmp(syms[i].name, "gs_elf_open") && !syms[i].dynamic)
			me = &syms[i];
	}
	ASSERT_GOTO(me && me->type == STT_FUNC && me->bind == STB_GLOBAL && me->size > 16, out);

	/* The file bytes at the uprobe offset are the code we are running. */
	ASSERT_GOTO(gs_elf_vaddr_to_offset(segs, nsegs, me->value, &off) == 0, out);
	fd = open("/proc/self/exe", O_RDONLY);
	ASSERT_GOTO(fd >= 0 && pread(fd, file_bytes, 16, (off_t)off) == 16, out);
	ASSERT_GOTO(!memcmp(file_bytes, (const void *)(uintptr_t)gs_elf_open, 16), out);
	ok = true;
out:
	if (fd >= 0)
		close(fd);
	free(segs);
	free(syms);
	gs_elf_close(elf);
	return ok;
}

bool test_elf__vaddr_to_offset(void)
{
	const struct gs_segment segs[] = {
		{ .vaddr = 0, .memsz = 0x600, .offset = 0, .filesz = 0x600, .flags = PF_R },
		{ .vaddr = 0x1000, .memsz = 0x200, .offset = 0x1000, .filesz = 0x200, .flags = PF_R | PF_X },
		{ .vaddr = 0x3df0, .memsz = 0x300, .offset = 0x2df0, .filesz = 0x100, .flags = PF_R | PF_W },
	};
	uint64_t off = 0;

	ASSERT_EQ(gs_elf_vaddr_to_offset(segs, 3, 0x1040, &off), 0);
	ASSERT_EQ(off, 0x1040);
	ASSERT_EQ(gs_elf_vaddr_to_offset(segs, 3, 0x3e00, &off), 0);
	ASSERT_EQ(off, 0x2e00);
	ASSERT_EQ(gs_elf_vaddr_to_offset(segs, 3, 0x3f00, &off), -ENOENT);	/* .bss */
	ASSERT_EQ(gs_elf_vaddr_to_offset(segs, 3, 0x1200, &off), -ENOENT);
	ASSERT_EQ(gs_elf_vaddr_to_offset(segs, 0, 0x1040, &off), -ENOENT);
	return true;
}

/* Every prefix length class of the test binary: clean errors or partial success. */
bool test_elf__truncated(void)
{
	static const off_t lens[] = { 1, 16, 63, 64, 65, 200, 1000, 4096, 10000, 50000 };
	char path[64], id[41];
	struct stat st;

	ASSERT_EQ(stat("/proc/self/exe", &st), 0);
	for (size_t i = 0; i <= sizeof(lens) / sizeof(lens[0]); i++) {
		off_t len = i < sizeof(lens) / sizeof(lens[0]) ? lens[i] : st.st_size - 100;
		struct gs_segment *segs = NULL;
		struct gs_symbol *syms = NULL;
		struct gs_elf *elf = NULL;
		size_t n;
		int err;

		ASSERT_TRUE(copy_prefix("/proc/self/exe", len, path, sizeof(path)));
		err = gs_elf_open(path, &elf);
		if (err) {
			unlink(path);
			if (err != -GS_ERR_NOT_ELF && err != -GS_ERR_BAD_ELF) {
				T_FAIL("len %lld: unexpected error %d", (long long)len, err);
				return false;
			}
			continue;
		}
		(void)gs_elf_build_id(elf, id);
		if (!gs_elf_segments(elf, &segs, &n))
			free(segs);
		if (!gs_elf_symbols(elf, &syms, &n))
			free(syms);
		gs_elf_close(elf);
		unlink(path);
	}
	return true;
}

/*
 * The build-id read from the program headers with a few preads agrees with libelf's,
 * and a truncated copy either gives the same id or an error, never another id.
 */
bool test_elf__build_id_fast_path(void)
{
	static const off_t lens[] = { 16, 64, 100, 300, 700, 1000, 4096 };
	char path[64], whole[41], got[41];
	struct gs_elf *elf;

	ASSERT_EQ(gs_elf_open("/proc/self/exe", &elf), 0);
	ASSERT_EQ(gs_elf_build_id(elf, whole), 0);
	gs_elf_close(elf);
	ASSERT_EQ(gs_build_id_of_path("/proc/self/exe", got), 0);
	ASSERT_STREQ(got, whole);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		int err;

		ASSERT_TRUE(copy_prefix("/proc/self/exe", lens[i], path, sizeof(path)));
		err = gs_build_id_of_path(path, got);
		unlink(path);
		if (!err && strcmp(got, whole)) {
			T_FAIL("prefix %lld: id %s, the whole file's is %s", (long long)lens[i], got, whole);
			return false;
		}
	}
	return true;
}

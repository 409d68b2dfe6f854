// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of indexer/debuginfo.c that need no compiler: the test binary itself. */
#include <errno.h>
#include <stdlib.h>

#include "indexer/debuginfo.h"
#include "shared/elf.h"
#include "shared/errors.h"
#include "tests/unit/test.h"

bool test_debuginfo__crc32(void)
{
	/* The standard check value of CRC-32/ISO-HDLC, as zlib computes it. */
	ASSERT_EQ(gs_debuglink_crc32(0, "123456789", 9), 0xcbf43926u);
	ASSERT_EQ(gs_debuglink_crc32(gs_debuglink_crc32(0, "1234", 4), "56789", 5), 0xcbf43926u);
	ASSERT_EQ(gs_debuglink_crc32(0, "", 0), 0);
	return true;
}

/* The unit tests are built with -g: their DWARF is in the binary. */
bool test_debuginfo__embedded(void)
{
	struct gs_debuginfo *di = NULL;

	ASSERT_EQ(gs_debuginfo_open("/proc/self/exe", NULL, &di), 0);
	ASSERT_TRUE(di->dwarf && di->debug_elf);
	ASSERT_STREQ(di->source, "embedded");
	ASSERT_EQ(di->bias, 0);
	ASSERT_TRUE(di->dwarf_bytes > 1000);
	gs_debuginfo_close(di);
	gs_debuginfo_close(NULL);
	return true;
}

/* Itself as its own --debug-file matches; any other ELF does not. */
bool test_debuginfo__debug_file(void)
{
	struct gs_debuginfo *di = NULL;
	char other[41];

	ASSERT_EQ(gs_debuginfo_open("/proc/self/exe", "/proc/self/exe", &di), 0);
	ASSERT_TRUE(di->dwarf != NULL);
	ASSERT_TRUE(!strncmp(di->source, "debug-file:/", 12));
	gs_debuginfo_close(di);

	ASSERT_EQ(gs_build_id_of_path("/bin/sh", other), 0);
	ASSERT_EQ(gs_debuginfo_open("/proc/self/exe", "/bin/sh", &di), -GS_ERR_BUILD_ID_MISMATCH);
	ASSERT_TRUE(di == NULL);
	ASSERT_EQ(gs_debuginfo_open("/proc/self/exe", "/etc/passwd", &di), -GS_ERR_NOT_ELF);
	ASSERT_EQ(gs_debuginfo_open("/proc/self/exe", "/nonexistent", &di), -ENOENT);
	ASSERT_EQ(gs_debuginfo_open("/nonexistent", NULL, &di), -ENOENT);
	return true;
}

/* /bin/sh ships stripped: no DWARF is fine, not an error (searched in an empty root). */
bool test_debuginfo__none(void)
{
	struct gs_debuginfo *di = NULL;
	const char *old = getenv("GHOSTSCOPE_DEBUG_ROOT");
	char *saved = old ? strdup(old) : NULL;
	int err;

	setenv("GHOSTSCOPE_DEBUG_ROOT", "/nonexistent-gs-root", 1);
	err = gs_debuginfo_open("/bin/sh", NULL, &di);
	if (saved)
		setenv("GHOSTSCOPE_DEBUG_ROOT", saved, 1);
	else
		unsetenv("GHOSTSCOPE_DEBUG_ROOT");
	free(saved);
	ASSERT_EQ(err, 0);
	ASSERT_TRUE(di->dwarf == NULL && di->debug_elf == NULL);
	ASSERT_STREQ(di->source, "none");
	gs_debuginfo_close(di);
	return true;
}

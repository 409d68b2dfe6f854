// SPDX-License-Identifier: GPL-2.0-or-later
/* Where index files live: the cache directory and a module's path inside it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/index.h"
#include "shared/schema.h"

static int put(char *buf, size_t len, const char *fmt, const char *a, const char *b)
{
	int n = snprintf(buf, len, fmt, a, b);

	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

int gs_index_dir_resolve(const char *opt, char *buf, size_t len)
{
	const char *env;

	if (opt && *opt)
		return put(buf, len, "%s%s", opt, "");
	env = getenv("GHOSTSCOPE_INDEX_DIR");
	if (env && *env)
		return put(buf, len, "%s%s", env, "");
	env = getenv("XDG_CACHE_HOME");
	if (env && *env)
		return put(buf, len, "%s%s", env, "/ghostscope");
	env = getenv("HOME");
	if (env && *env)
		return put(buf, len, "%s%s", env, "/.cache/ghostscope");
	return -ENOENT;
}

int gs_index_path(const char *dir, const char *build_id_hex, char *buf, size_t len)
{
	size_t n = strlen(build_id_hex);
	char head[3];
	int ret;

	if (n < 3)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdef", build_id_hex[i]))
			return -EINVAL;
	head[0] = build_id_hex[0];
	head[1] = build_id_hex[1];
	head[2] = '\0';
	ret = snprintf(buf, len, "%s/%s/%s%s", dir, head, build_id_hex + 2, GS_INDEX_SUFFIX);
	if (ret < 0 || (size_t)ret >= len)
		return -ENAMETOOLONG;
	return 0;
}

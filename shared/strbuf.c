// SPDX-License-Identifier: GPL-2.0-or-later
/* Growable strings for rendering and messages. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/strbuf.h"

static char empty[1];

void gs_strbuf_init(struct gs_strbuf *sb)
{
	sb->buf = empty;
	sb->len = 0;
	sb->cap = 0;
}

void gs_strbuf_deinit(struct gs_strbuf *sb)
{
	if (sb->cap)
		free(sb->buf);
	gs_strbuf_init(sb);
}

void gs_strbuf_reset(struct gs_strbuf *sb)
{
	sb->len = 0;
	if (sb->cap)
		sb->buf[0] = '\0';
}

static void grow(struct gs_strbuf *sb, size_t extra)
{
	size_t need = sb->len + extra + 1, cap = sb->cap ? sb->cap : 64;
	char *nbuf;

	if (need <= sb->cap)
		return;
	if (need < sb->len)	/* overflow */
		abort();
	while (cap < need)
		cap *= 2;
	nbuf = realloc(sb->cap ? sb->buf : NULL, cap);
	if (!nbuf)
		abort();
	if (!sb->cap)
		nbuf[0] = '\0';
	sb->buf = nbuf;
	sb->cap = cap;
}

void gs_strbuf_add(struct gs_strbuf *sb, const void *data, size_t len)
{
	grow(sb, len);
	if (len)	/* memcpy from NULL is undefined even for 0 bytes (UBSan says so) */
		memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

void gs_strbuf_adds(struct gs_strbuf *sb, const char *s)
{
	gs_strbuf_add(sb, s, strlen(s));
}

void gs_strbuf_addc(struct gs_strbuf *sb, char c)
{
	gs_strbuf_add(sb, &c, 1);
}

void gs_strbuf_addf(struct gs_strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	grow(sb, n);
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, n + 1, fmt, ap);
	va_end(ap);
	sb->len += n;
}

char *gs_strbuf_detach(struct gs_strbuf *sb)
{
	char *s = sb->cap ? sb->buf : strdup("");

	if (!s)
		abort();
	gs_strbuf_init(sb);
	return s;
}

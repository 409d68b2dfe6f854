/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A growable NUL-terminated string. Caller-provided storage: gs_strbuf_init() before
 * use, gs_strbuf_deinit() after (accepts a zeroed or half-used buffer). Allocation
 * failure aborts: strings here are small and an OOM mid-render has no better answer.
 */
#ifndef GS_SHARED_STRBUF_H
#define GS_SHARED_STRBUF_H

#include <stddef.h>

struct gs_strbuf {
	char *buf;		/* always NUL-terminated after init */
	size_t len;
	size_t cap;
};

void gs_strbuf_init(struct gs_strbuf *sb);
void gs_strbuf_deinit(struct gs_strbuf *sb);
void gs_strbuf_reset(struct gs_strbuf *sb);	/* len = 0, keeps the memory */
void gs_strbuf_add(struct gs_strbuf *sb, const void *data, size_t len);
void gs_strbuf_adds(struct gs_strbuf *sb, const char *s);
void gs_strbuf_addc(struct gs_strbuf *sb, char c);
void gs_strbuf_addf(struct gs_strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Hands the string to the caller (who frees it) and re-inits @sb. */
char *gs_strbuf_detach(struct gs_strbuf *sb);

#endif /* GS_SHARED_STRBUF_H */

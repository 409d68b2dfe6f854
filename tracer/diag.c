// SPDX-License-Identifier: GPL-2.0-or-later
/* Script diagnostics: one error with its position and source line, printed on demand. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tracer/diag.h"

void gs_diag_init(struct gs_diag *d)
{
	memset(d, 0, sizeof(*d));
}

void gs_diag_deinit(struct gs_diag *d)
{
	if (!d)
		return;
	free(d->origin);
	free(d->message);
	free(d->source_line);
	gs_diag_init(d);
}

int gs_diag_set(struct gs_diag *d, const char *origin, const char *src, size_t len,
		size_t start, size_t end, const char *fmt, ...)
{
	size_t line_start = 0, line_end, i;
	unsigned int line = 1;
	char *msg = NULL;
	va_list ap;
	int n;

	if (!d || d->set)
		return 0;
	if (start > len)
		start = len;
	for (i = 0; i < start; i++) {
		if (src[i] == '\n') {
			line++;
			line_start = i + 1;
		}
	}
	for (line_end = start; line_end < len && src[line_end] != '\n'; line_end++)
		;
	/* CRLF sources: the '\r' belongs to the line break, not to the text shown. */
	if (line_end > line_start && line_end > start && src[line_end - 1] == '\r')
		line_end--;
	if (end > line_end)
		end = line_end;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	d->origin = strdup(origin ? origin : "-s");
	d->source_line = strndup(src + line_start, line_end - line_start);
	if (!d->origin || !d->source_line) {
		free(msg);
		gs_diag_deinit(d);
		return -ENOMEM;
	}
	d->message = msg;
	d->line = line;
	d->col = (unsigned int)(start - line_start) + 1;
	d->width = end > start ? (unsigned int)(end - start) : 1;
	d->set = true;
	return 0;
}

char *gs_diag_format(const struct gs_diag *d)
{
	char *out = NULL;
	size_t out_len = 0, i, src_len;
	FILE *f;

	if (!d || !d->set) {
		errno = EINVAL;
		return NULL;
	}
	f = open_memstream(&out, &out_len);
	if (!f)
		return NULL;
	fprintf(f, "error: %s:%u:%u: %s\n%s\n", d->origin, d->line, d->col, d->message,
		d->source_line);
	/* Copy tabs so the caret sits under the same character in a terminal. */
	src_len = strlen(d->source_line);
	for (i = 0; i + 1 < d->col; i++)
		fputc(i < src_len && d->source_line[i] == '\t' ? '\t' : ' ', f);
	fputc('^', f);
	for (i = 1; i < d->width; i++)
		fputc('~', f);
	fputc('\n', f);
	if (fclose(f)) {
		free(out);
		errno = ENOMEM;
		return NULL;
	}
	return out;
}

int gs_diag_print(const struct gs_diag *d, FILE *f)
{
	char *text = gs_diag_format(d);

	if (!text)
		return -errno;
	fputs(text, f);
	free(text);
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Script diagnostics: one error kept as data (origin, line, column, message, the
 * source line) that the caller prints, compiler style:
 *
 *   error: -s:2:11: unknown keyword 'prnt', did you mean 'print'?
 *       prnt x;
 *       ^~~~
 *
 * Columns count bytes from 1; a tab counts as one column, and the caret line copies
 * the tabs of the source line so the caret lands under the right character.
 *
 * The parser, the planner and anyone else who points at script text fill a gs_diag
 * through gs_diag_set(). The first error wins: setting a diag that is already set
 * does nothing, so the innermost (earliest) cause is what the user sees.
 */
#ifndef GS_TRACER_DIAG_H
#define GS_TRACER_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct gs_diag {
	bool set;		/* false until gs_diag_set() succeeds */
	char *origin;		/* script file name, or "-s" for --script text */
	unsigned int line;	/* 1-based */
	unsigned int col;	/* 1-based byte column */
	unsigned int width;	/* columns underlined, >= 1 (caret + '~'s) */
	char *message;		/* lowercase, no final period */
	char *source_line;	/* the text of that line without its newline */
};

/* Caller-provided storage: init before use, deinit to free the strings. */
void gs_diag_init(struct gs_diag *d);
/* Frees what the diag owns and re-inits it; accepts NULL and never-set diags. */
void gs_diag_deinit(struct gs_diag *d);

/*
 * Records an error at byte range [@start, @end) of @src (@len bytes) from @origin.
 * @end <= @start underlines one column; a range crossing a newline is underlined to
 * the end of its first line; @start == @len points just past the last character.
 * Does nothing and returns 0 when @d is NULL or already set.
 * Returns 0, or -ENOMEM (the diag then stays unset).
 */
int gs_diag_set(struct gs_diag *d, const char *origin, const char *src, size_t len,
		size_t start, size_t end, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

/*
 * The three lines "error: ORIGIN:LINE:COL: MESSAGE\nSOURCE\nCARET\n", malloc'd (the
 * caller frees), or NULL with errno set (EINVAL when @d is not set, ENOMEM).
 */
char *gs_diag_format(const struct gs_diag *d);
/* Writes gs_diag_format() to @f. Returns 0 or -errno. */
int gs_diag_print(const struct gs_diag *d, FILE *f);

#endif /* GS_TRACER_DIAG_H */

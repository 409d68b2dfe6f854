/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Backtrace frames as text: a runtime pc -> module, function with its parameter
 * list, inlined frames, file:line:column and [module+0xvaddr], from the indexes only.
 */
#ifndef GS_TRACER_SYMBOLIZE_H
#define GS_TRACER_SYMBOLIZE_H

#include <stdbool.h>
#include <stdint.h>

#include "shared/strbuf.h"
#include "tracer/plan.h"

struct gs_frame_opts {
	bool noinline;		/* hide inlined frames */
	bool raw;		/* also print the raw runtime address */
};

/*
 * Appends one line per frame at runtime pc @pc (more than one when inlined calls
 * are shown), each "#N ...", numbering from *@frame_no (advanced). @is_return: @pc is
 * a return address, so it is looked up as pc - 1 (the call). Lines are added with
 * @emit(@ctx, line) and then belong to the callee.
 */
void gs_symbolize_pc(const struct gs_plan *plan, uint64_t pc, bool is_return,
		     const struct gs_frame_opts *o, unsigned int *frame_no,
		     void (*emit)(void *ctx, char *line), void *ctx);

#endif /* GS_TRACER_SYMBOLIZE_H */

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Turns one ring-buffer event back into the text lines its probe's print statements
 * and failed conditions produce, using the plan's record tables and the index types.
 */
#ifndef GS_TRACER_DECODE_H
#define GS_TRACER_DECODE_H

#include <stddef.h>

#include "tracer/codegen.h"
#include "tracer/plan.h"

struct gs_decode_lines {
	char **lines;		/* malloc'd strings */
	size_t cnt;
	size_t cap;
};

/*
 * Renders the event @ev (@len bytes) of probe @pr, whose slot layout is @slots, into
 * @out (appended; the caller frees with gs_decode_lines_deinit). Returns 0, or
 * -EINVAL for an event shorter than its header or its slots.
 */
int gs_decode_event(const struct gs_probe *pr, const struct gs_event_slot *slots, size_t nslots,
		    const void *ev, size_t len, struct gs_decode_lines *out);
void gs_decode_lines_deinit(struct gs_decode_lines *l);

#endif /* GS_TRACER_DECODE_H */

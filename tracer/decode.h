/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Turns one ring-buffer event back into the text lines its probe's print statements
 * and failed conditions produce, using the plan's record tables and the index types.
 */
#ifndef GS_TRACER_DECODE_H
#define GS_TRACER_DECODE_H

#include <stddef.h>

#include "shared/strbuf.h"
#include "tracer/codegen.h"
#include "tracer/plan.h"

/*
 * The lines of one event. Storage is reused from one gs_decode_event to the next, so a
 * reader that keeps one of these for its whole run allocates nothing per event once the
 * buffers have grown to the largest event seen. Zero-initialise before first use; free
 * with gs_decode_lines_deinit (accepts a zeroed or half-used object).
 */
struct gs_decode_lines {
	char **lines;		/* cnt lines, pointers into text: valid until the next
				   gs_decode_event on this object or the deinit */
	size_t cnt;
	size_t cap;
	struct gs_strbuf text;	/* every line, each NUL-terminated */
	size_t *offs;		/* where each line starts in text, while decoding */
	void *recs;		/* scratch: the record table of the event */
	size_t recs_cap;
};

/*
 * Renders the event @ev (@len bytes) of probe @pr, whose slot layout is @slots, into
 * @out, replacing the lines of the previous call. Returns 0 (out->cnt may be 0: every
 * print was behind a false condition), or -EINVAL for an event shorter than its header;
 * a slot that is damaged or runs past @len is skipped.
 */
int gs_decode_event(const struct gs_probe *pr, const struct gs_event_slot *slots, size_t nslots,
		    const void *ev, size_t len, struct gs_decode_lines *out);
void gs_decode_lines_deinit(struct gs_decode_lines *l);

#endif /* GS_TRACER_DECODE_H */

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writes rendered events to stdout in one of the three formats of LANGUAGE.md:
 * pretty (a header line, payload indented two spaces), plain (payload only) and json
 * (one object per event). Status and errors never go through here.
 */
#ifndef GS_TRACER_OUTPUT_H
#define GS_TRACER_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum gs_output_fmt {
	GS_OUT_PRETTY,
	GS_OUT_PLAIN,
	GS_OUT_JSON,
};

struct gs_output_event {
	uint32_t trace_id;
	const char *probe;	/* the trace pattern as written */
	const char *module;	/* module path */
	uint64_t pc;		/* module vaddr of the probe */
	uint32_t pid, tid;
	uint64_t ts_ns;		/* CLOCK_MONOTONIC, as bpf_ktime_get_ns */
	const char *const *lines;
	size_t nlines;
};

/* Parses "pretty" / "plain" / "json"; -EINVAL otherwise. */
int gs_output_parse(const char *name, enum gs_output_fmt *fmt_ret);
void gs_output_write(FILE *f, enum gs_output_fmt fmt, const struct gs_output_event *ev);

#endif /* GS_TRACER_OUTPUT_H */

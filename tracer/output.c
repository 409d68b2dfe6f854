// SPDX-License-Identifier: GPL-2.0-or-later
/* Event output formats (see output.h). */
#include <errno.h>
#include <stdio.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "tracer/output.h"

int gs_output_parse(const char *name, enum gs_output_fmt *fmt_ret)
{
	if (!strcmp(name, "pretty"))
		*fmt_ret = GS_OUT_PRETTY;
	else if (!strcmp(name, "plain"))
		*fmt_ret = GS_OUT_PLAIN;
	else if (!strcmp(name, "json"))
		*fmt_ret = GS_OUT_JSON;
	else
		return -EINVAL;
	return 0;
}

/*
 * Monotonic event time to local wall-clock time, HH:MM:SS.mmm. The offset between the
 * clocks is read per event (two vDSO calls), the broken-down time only once per second
 * of event time: localtime_r is the slow part and events come in bursts.
 */
static void wall_time(uint64_t ts_ns, char *buf, size_t len)
{
	static time_t last_secs = -1;
	static struct tm last_tm;
	struct timespec mono, real;
	int64_t delta;
	time_t secs;
	int64_t ns;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	delta = (int64_t)(mono.tv_sec * 1000000000LL + mono.tv_nsec) - (int64_t)ts_ns;
	ns = (int64_t)(real.tv_sec * 1000000000LL + real.tv_nsec) - delta;
	secs = ns / 1000000000LL;
	if (secs != last_secs) {
		localtime_r(&secs, &last_tm);
		last_secs = secs;
	}
	snprintf(buf, len, "%02d:%02d:%02d.%03d", last_tm.tm_hour, last_tm.tm_min, last_tm.tm_sec,
		 (int)((ns / 1000000) % 1000));
}

static void put_str(FILE *f, const char *s)
{
	fwrite_unlocked(s, 1, strlen(s), f);
}

/* A JSON string literal straight to @f: runs of plain bytes in one fwrite. */
static void put_json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *run = p;
	char esc[8];

	putc_unlocked('"', f);
	for (;; p++) {
		if (*p >= 0x20 && *p != '"' && *p != '\\')
			continue;
		fwrite_unlocked(run, 1, (size_t)(p - run), f);
		if (!*p)
			break;
		switch (*p) {
		case '"': put_str(f, "\\\""); break;
		case '\\': put_str(f, "\\\\"); break;
		case '\n': put_str(f, "\\n"); break;
		case '\t': put_str(f, "\\t"); break;
		case '\r': put_str(f, "\\r"); break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			put_str(f, esc);
		}
		run = p + 1;
	}
	putc_unlocked('"', f);
}

/*
 * Straight into @f's stdio buffer, without locking or a staging string: the reader calls
 * this once per event, and with a fully buffered @f it costs no system call per event.
 */
void gs_output_write(FILE *f, enum gs_output_fmt fmt, const struct gs_output_event *ev)
{
	char when[32];

	switch (fmt) {
	case GS_OUT_PRETTY:
		wall_time(ev->ts_ns, when, sizeof(when));
		fprintf(f, "[%s] TraceID:%u PID:%u TID:%u\n", when, ev->trace_id, ev->pid, ev->tid);
		for (size_t i = 0; i < ev->nlines; i++) {
			put_str(f, "  ");
			put_str(f, ev->lines[i]);
			putc_unlocked('\n', f);
		}
		break;
	case GS_OUT_PLAIN:
		for (size_t i = 0; i < ev->nlines; i++) {
			put_str(f, ev->lines[i]);
			putc_unlocked('\n', f);
		}
		break;
	case GS_OUT_JSON:
		fprintf(f, "{\"trace_id\":%u,\"probe\":", ev->trace_id);
		put_json_string(f, ev->probe ? ev->probe : "");
		put_str(f, ",\"module\":");
		put_json_string(f, ev->module ? ev->module : "");
		fprintf(f, ",\"pc\":\"0x%" PRIx64 "\",\"pid\":%u,\"tid\":%u,\"ts_ns\":%" PRIu64
			",\"lines\":[", ev->pc, ev->pid, ev->tid, ev->ts_ns);
		for (size_t i = 0; i < ev->nlines; i++) {
			if (i)
				putc_unlocked(',', f);
			put_json_string(f, ev->lines[i]);
		}
		put_str(f, "]}\n");
		break;
	}
}

// SPDX-License-Identifier: GPL-2.0-or-later
/* Event output formats (see output.h). */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "shared/strbuf.h"
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

void gs_output_json_string(struct gs_strbuf *sb, const char *s)
{
	gs_strbuf_addc(sb, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': gs_strbuf_adds(sb, "\\\""); break;
		case '\\': gs_strbuf_adds(sb, "\\\\"); break;
		case '\n': gs_strbuf_adds(sb, "\\n"); break;
		case '\t': gs_strbuf_adds(sb, "\\t"); break;
		case '\r': gs_strbuf_adds(sb, "\\r"); break;
		default:
			if (*p < 0x20)
				gs_strbuf_addf(sb, "\\u%04x", *p);
			else
				gs_strbuf_addc(sb, (char)*p);
		}
	}
	gs_strbuf_addc(sb, '"');
}

/* Monotonic event time to local wall-clock time, HH:MM:SS.mmm. */
static void wall_time(uint64_t ts_ns, char *buf, size_t len)
{
	struct timespec mono, real;
	int64_t delta;
	struct tm tm;
	time_t secs;
	int64_t ns;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	delta = (int64_t)(mono.tv_sec * 1000000000LL + mono.tv_nsec) - (int64_t)ts_ns;
	ns = (int64_t)(real.tv_sec * 1000000000LL + real.tv_nsec) - delta;
	secs = ns / 1000000000LL;
	localtime_r(&secs, &tm);
	snprintf(buf, len, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)((ns / 1000000) % 1000));
}

void gs_output_write(FILE *f, enum gs_output_fmt fmt, const struct gs_output_event *ev)
{
	struct gs_strbuf sb;
	char when[32];

	gs_strbuf_init(&sb);
	switch (fmt) {
	case GS_OUT_PRETTY:
		wall_time(ev->ts_ns, when, sizeof(when));
		gs_strbuf_addf(&sb, "[%s] TraceID:%u PID:%u TID:%u\n", when, ev->trace_id, ev->pid,
			       ev->tid);
		for (size_t i = 0; i < ev->nlines; i++)
			gs_strbuf_addf(&sb, "  %s\n", ev->lines[i]);
		break;
	case GS_OUT_PLAIN:
		for (size_t i = 0; i < ev->nlines; i++)
			gs_strbuf_addf(&sb, "%s\n", ev->lines[i]);
		break;
	case GS_OUT_JSON:
		gs_strbuf_addf(&sb, "{\"trace_id\":%u,\"probe\":", ev->trace_id);
		gs_output_json_string(&sb, ev->probe ? ev->probe : "");
		gs_strbuf_adds(&sb, ",\"module\":");
		gs_output_json_string(&sb, ev->module ? ev->module : "");
		gs_strbuf_addf(&sb, ",\"pc\":\"0x%" PRIx64 "\",\"pid\":%u,\"tid\":%u,\"ts_ns\":%" PRIu64
			       ",\"lines\":[", ev->pc, ev->pid, ev->tid, ev->ts_ns);
		for (size_t i = 0; i < ev->nlines; i++) {
			if (i)
				gs_strbuf_addc(&sb, ',');
			gs_output_json_string(&sb, ev->lines[i]);
		}
		gs_strbuf_adds(&sb, "]}\n");
		break;
	}
	fwrite(sb.buf, 1, sb.len, f);
	gs_strbuf_deinit(&sb);
}

// SPDX-License-Identifier: GPL-2.0-or-later
/* Event records -> text lines (see decode.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tracer/decode.h"
#include "tracer/event.h"
#include "tracer/render.h"
#include "tracer/symbolize.h"

struct rec_ref {
	const struct gs_rec_hdr *hdr;
	const uint8_t *data;
};

/*
 * Lines are appended to one text buffer; offs[] remembers where each starts and the
 * pointers in lines[] are set once the event is done (the buffer may move meanwhile).
 */
static struct gs_strbuf *line_begin(struct gs_decode_lines *l)
{
	if (l->cnt == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		char **n = reallocarray(l->lines, cap, sizeof(*n));
		size_t *o;

		if (!n)
			abort();
		l->lines = n;
		o = reallocarray(l->offs, cap, sizeof(*o));
		if (!o)
			abort();
		l->offs = o;
		l->cap = cap;
	}
	l->offs[l->cnt] = l->text.len;
	return &l->text;
}

static void line_end(struct gs_decode_lines *l)
{
	gs_strbuf_addc(&l->text, '\0');
	l->cnt++;
}

static void push_line(struct gs_decode_lines *l, const char *s)
{
	gs_strbuf_adds(line_begin(l), s);
	line_end(l);
}

void gs_decode_lines_deinit(struct gs_decode_lines *l)
{
	free(l->lines);
	free(l->offs);
	free(l->recs);
	gs_strbuf_deinit(&l->text);
	memset(l, 0, sizeof(*l));
}

static uint64_t rec_u64(const struct rec_ref *r)
{
	uint64_t v = 0;

	if (r->hdr)
		memcpy(&v, r->data, r->hdr->len < 8 ? r->hdr->len : 8);
	return v;
}

/* Writes the failure text of a record; false when the record is fine. */
static bool rec_failed(const struct rec_ref *r, struct gs_strbuf *out)
{
	if (!r->hdr) {
		gs_strbuf_adds(out, "<missing>");
		return true;
	}
	switch (r->hdr->status) {
	case GS_REC_READ_ERROR:
		gs_strbuf_addf(out, "<read error at 0x%" PRIx64 ">", rec_u64(r));
		return true;
	case GS_REC_NULL_DEREF:
		gs_strbuf_adds(out, "<error: null pointer dereference>");
		return true;
	case GS_REC_SKIPPED:
		gs_strbuf_adds(out, "<skipped>");
		return true;
	case GS_REC_NOT_SAVED:
		gs_strbuf_adds(out, "<error: entry value not saved>");
		return true;
	default:
		return false;
	}
}

/* "xx xx xx": built in a local buffer a chunk at a time, not one printf per byte. */
static void hex_bytes(const uint8_t *p, size_t n, bool upper, struct gs_strbuf *out)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[3 * 64];

	for (size_t i = 0; i < n;) {
		size_t k = 0;

		for (; i < n && k + 3 <= sizeof(buf); i++) {
			if (i)
				buf[k++] = ' ';
			buf[k++] = digits[p[i] >> 4];
			buf[k++] = digits[p[i] & 15];
		}
		gs_strbuf_add(out, buf, k);
	}
}

static void ascii_bytes(const uint8_t *p, size_t n, struct gs_strbuf *out)
{
	for (size_t i = 0; i < n && p[i]; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f)
			gs_strbuf_addc(out, (char)p[i]);
		else
			gs_strbuf_addf(out, "\\x%02x", p[i]);
	}
}

/* The bytes of a value for {:x} / {:s}: the object, or the low bytes of a scalar. */
static size_t value_bytes(const struct gs_plan_arg *a, const struct rec_ref *r, const uint8_t **p)
{
	const struct gs_type *t;

	*p = r->data;
	if (a->how == GS_ARG_OBJECT || a->how == GS_ARG_DUMP)
		return r->hdr->len;
	if (a->extra_ptr)
		return 8;
	t = a->idx ? gs_render_strip(a->idx, a->type_id) : NULL;
	if (a->how == GS_ARG_SCALAR && t && t->size && t->size < 8)
		return t->size;
	return 8;
}

/* The strings of an object's char* members, for gs_render_object. */
struct member_strs {
	const struct gs_plan_arg *a;
	const struct rec_ref *recs;
	size_t nrecs;
};

static bool member_str(void *ctx, uint64_t off, struct gs_strbuf *out)
{
	const struct member_strs *ms = ctx;
	const struct rec_ref *r;

	for (uint8_t i = 0; i < ms->a->nstrs; i++) {
		if (ms->a->strs[i].off != off)
			continue;
		if (!ms->a->strs[i].rec || ms->a->strs[i].rec >= ms->nrecs)
			return false;
		r = &ms->recs[ms->a->strs[i].rec];
		if (!r->hdr)
			return false;	/* no record (a damaged slot): the pointer, then */
		if (!rec_failed(r, out))
			gs_render_cstring(r->data, r->hdr->len, out);
		return true;
	}
	return false;
}

static void render_arg(const struct gs_plan_arg *a, const struct rec_ref *recs, size_t nrecs,
		       struct gs_strbuf *out)
{
	struct rec_ref none = { 0 };
	const struct rec_ref *r = a->rec && a->rec < nrecs ? &recs[a->rec] : &none;
	const struct rec_ref *r2 = a->rec2 && a->rec2 < nrecs ? &recs[a->rec2] : &none;
	const uint8_t *p;
	uint64_t v;
	size_t n;

	if (a->how == GS_ARG_TEXT) {
		gs_strbuf_adds(out, a->text);
		return;
	}
	if (a->how == GS_ARG_NONE)
		return;
	if (rec_failed(r, out))
		return;
	if (a->conv == GS_FMT_HEX || a->conv == GS_FMT_HEX_UPPER) {
		if (a->how == GS_ARG_CSTR && !rec_failed(r2, out)) {
			hex_bytes(r2->data, strnlen((const char *)r2->data, r2->hdr->len),
				  a->conv == GS_FMT_HEX_UPPER, out);
			return;
		}
		if (a->how != GS_ARG_CSTR) {
			n = value_bytes(a, r, &p);
			hex_bytes(p, n, a->conv == GS_FMT_HEX_UPPER, out);
			if (a->truncated)
				gs_strbuf_adds(out, " <truncated>");
		}
		return;
	}
	if (a->conv == GS_FMT_STR) {
		if (a->how == GS_ARG_CSTR) {
			if (!rec_failed(r2, out))
				ascii_bytes(r2->data, r2->hdr->len, out);
		} else {
			n = value_bytes(a, r, &p);
			ascii_bytes(p, n, out);
			if (a->truncated)
				gs_strbuf_adds(out, " <truncated>");
		}
		return;
	}
	switch (a->how) {
	case GS_ARG_OBJECT:
		if (a->nstrs) {
			struct member_strs ms = { .a = a, .recs = recs, .nrecs = nrecs };
			struct gs_render_strs strs = { .render = member_str, .ctx = &ms };

			gs_render_object(a->idx, a->type_id, a->dim_skip, r->data, r->hdr->len,
					 &strs, out);
		} else {
			gs_render_subarray(a->idx, a->type_id, a->dim_skip, r->data, r->hdr->len,
					   out);
		}
		break;
	case GS_ARG_SCALAR:
		v = rec_u64(r);
		if (a->extra_ptr) {
			if (v)
				gs_strbuf_addf(out, "0x%" PRIx64 " (", v);
			else
				gs_strbuf_adds(out, "NULL (");
			gs_render_type_name(a->idx, a->type_id, out);
			for (int i = 0; i < a->extra_ptr; i++)
				gs_strbuf_addc(out, '*');
			gs_strbuf_addc(out, ')');
		} else {
			gs_render_value(a->idx, a->type_id, &v, 8, out);
		}
		break;
	case GS_ARG_INT:
		gs_render_dec(rec_u64(r), a->int_signed, out);
		break;
	case GS_ARG_BOOL:
		gs_strbuf_adds(out, rec_u64(r) ? "true" : "false");
		break;
	case GS_ARG_ADDR:
		gs_strbuf_addf(out, "0x%" PRIx64, rec_u64(r));
		break;
	case GS_ARG_CSTR:
		v = rec_u64(r);
		if (!v) {
			gs_strbuf_adds(out, "NULL (");
			gs_render_type_name(a->idx, a->type_id, out);
			gs_strbuf_addc(out, ')');
		} else if (!rec_failed(r2, out)) {
			gs_render_cstring(r2->data, r2->hdr->len, out);
		}
		break;
	case GS_ARG_COMM:
		gs_render_cstring(r->data, r->hdr->len, out);
		break;
	case GS_ARG_DUMP:
		hex_bytes(r->data, r->hdr->len, false, out);
		if (a->truncated || r->hdr->status == GS_REC_TRUNCATED)
			gs_strbuf_adds(out, " <truncated>");
		break;
	default:
		break;
	}
}

static void render_print(const struct gs_plan_print *pp, const struct rec_ref *recs, size_t nrecs,
			 struct gs_strbuf *sb)
{
	const struct gs_stmt *s = pp->stmt;

	if (s->kind == GS_S_PRINT_EXPR) {
		gs_strbuf_adds(sb, s->expr_text);
		gs_strbuf_add(sb, " = ", 3);
		render_arg(&pp->args[0], recs, nrecs, sb);
		return;
	}
	for (size_t i = 0; i < s->part_cnt; i++) {
		const struct gs_fmt_part *p = &s->parts[i];

		if (p->conv == GS_FMT_LIT)
			gs_strbuf_add(sb, p->text, p->text_len);
		else if (p->arg < pp->nargs)
			render_arg(&pp->args[p->arg], recs, nrecs, sb);
	}
}

/* Frames come from the symbolizer as malloc'd lines; kept until the count is known. */
struct frame_list {
	char **lines;
	size_t cnt, cap;
};

static void emit_line(void *ctx, char *line)
{
	struct frame_list *f = ctx;

	if (f->cnt == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;
		char **n = reallocarray(f->lines, cap, sizeof(*n));

		if (!n)
			abort();
		f->lines = n;
		f->cap = cap;
	}
	f->lines[f->cnt++] = line;
}

static const char *bt_status_text(uint8_t status)
{
	switch (status) {
	case GS_BT_COMPLETE: return "complete";
	case GS_BT_TRUNCATED: return "truncated";
	case GS_BT_NO_CFI: return "stopped (no CFI for the next pc)";
	case GS_BT_UNSUPPORTED: return "stopped (a CFI rule the unwinder cannot follow)";
	case GS_BT_READ_ERROR: return "stopped (stack read failed)";
	case GS_BT_NO_TABLES: return "no unwind tables";
	default: return "stopped";
	}
}

/* "backtrace: complete, 3 frames (max 128)" and a line per frame. */
static void render_backtrace(const struct gs_probe *pr, const struct gs_stmt *st,
			     const struct rec_ref *r, uint32_t max, struct gs_decode_lines *out)
{
	struct gs_frame_opts fo = { .noinline = st->bt_noinline, .raw = st->bt_raw };
	struct frame_list frames = { 0 };
	struct gs_strbuf *sb = line_begin(out);
	struct gs_bt_hdr bh;
	unsigned int no = 0;

	if (r->hdr->status != GS_REC_OK || r->hdr->len < sizeof(bh)) {
		gs_strbuf_adds(sb, "backtrace: ");
		rec_failed(r, sb);
		line_end(out);
		return;
	}
	memcpy(&bh, r->data, sizeof(bh));
	for (uint32_t i = 0; i < bh.nframes && sizeof(bh) + (i + 1) * 8 <= r->hdr->len; i++) {
		uint64_t pc;

		memcpy(&pc, r->data + sizeof(bh) + i * 8, 8);
		gs_symbolize_pc(pr->plan, pc, i > 0, &fo, &no, emit_line, &frames);
	}
	gs_strbuf_addf(sb, "backtrace: %s, %u frames (max %u)", bt_status_text(bh.status), no, max);
	line_end(out);
	for (size_t i = 0; i < frames.cnt; i++) {
		push_line(out, frames.lines[i]);
		free(frames.lines[i]);
	}
	free(frames.lines);
}

/* The record table of an event: reused scratch, cleared for this probe's ids. */
static struct rec_ref *recs_table(struct gs_decode_lines *l, size_t nrecs)
{
	if (nrecs > l->recs_cap) {
		struct rec_ref *n = reallocarray(l->recs, nrecs, sizeof(*n));

		if (!n)
			return NULL;
		l->recs = n;
		l->recs_cap = nrecs;
	}
	memset(l->recs, 0, nrecs * sizeof(struct rec_ref));
	return l->recs;
}

int gs_decode_event(const struct gs_probe *pr, const struct gs_event_slot *slots, size_t nslots,
		    const void *ev, size_t len, struct gs_decode_lines *out)
{
	const uint8_t *base = ev;
	size_t nrecs = (size_t)pr->nrecs + 1;
	struct rec_ref *recs;

	out->cnt = 0;
	gs_strbuf_reset(&out->text);
	if (len < sizeof(struct gs_event_hdr))
		return -EINVAL;
	recs = recs_table(out, nrecs);
	if (!recs)
		return -ENOMEM;
	/* Pass 1: where each record that was written is. */
	for (size_t i = 0; i < nslots; i++) {
		const struct gs_rec_hdr *h;

		if (slots[i].off + sizeof(*h) > len)
			break;
		h = (const void *)(base + slots[i].off);
		if (!h->id || h->id >= nrecs)
			continue;
		if (h->len > slots[i].cap || slots[i].off + sizeof(*h) + h->len > len)
			continue;	/* a damaged record: leave it missing */
		recs[h->id].hdr = h;
		recs[h->id].data = (const uint8_t *)(h + 1);
	}
	/* Pass 2: lines, in program order. */
	for (size_t i = 0; i < nslots; i++) {
		uint16_t id = slots[i].id;
		const struct gs_plan_rec *pr_rec;

		if (!id || id >= nrecs || !recs[id].hdr)
			continue;
		pr_rec = &pr->recs[id];
		if (pr_rec->role == GS_ROLE_PRINT) {
			render_print(pr_rec->print, recs, nrecs, line_begin(out));
			line_end(out);
		} else if (pr_rec->role == GS_ROLE_BACKTRACE) {
			render_backtrace(pr, pr_rec->stmt, &recs[id], slots[i].cap > 8 ?
					 (slots[i].cap - 8) / 8 : 0, out);
		} else if (pr_rec->role == GS_ROLE_EXPR_ERROR && recs[id].hdr->status != GS_REC_OK) {
			gs_strbuf_addf(line_begin(out), "ExprError: %s (%s at 0x%" PRIx64 ")",
				       pr_rec->text,
				       recs[id].hdr->status == GS_REC_NULL_DEREF ?
				       "null pointer dereference" :
				       recs[id].hdr->status == GS_REC_NOT_SAVED ?
				       "entry value not saved" : "read error",
				       rec_u64(&recs[id]));
			line_end(out);
		}
	}
	for (size_t i = 0; i < out->cnt; i++)
		out->lines[i] = out->text.buf + out->offs[i];
	return 0;
}

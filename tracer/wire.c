// SPDX-License-Identifier: GPL-2.0-or-later
/* Flat little-endian records (wire.h). */
#include <stdlib.h>
#include <string.h>

#include "tracer/wire.h"

void gs_wire_put(struct gs_strbuf *b, const void *p, size_t n)
{
	gs_strbuf_add(b, p, n);
}

void gs_wire_u8(struct gs_strbuf *b, uint8_t v)
{
	gs_wire_put(b, &v, 1);
}

void gs_wire_u16(struct gs_strbuf *b, uint16_t v)
{
	gs_wire_put(b, &v, 2);
}

void gs_wire_u32(struct gs_strbuf *b, uint32_t v)
{
	gs_wire_put(b, &v, 4);
}

void gs_wire_u64(struct gs_strbuf *b, uint64_t v)
{
	gs_wire_put(b, &v, 8);
}

void gs_wire_str(struct gs_strbuf *b, const char *s)
{
	if (!s) {
		gs_wire_u32(b, GS_WIRE_NIL);
		return;
	}
	gs_wire_u32(b, (uint32_t)strlen(s));
	gs_wire_put(b, s, strlen(s) + 1);
}

bool gs_wire_take(struct gs_wire_rd *r, void *out, size_t n)
{
	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = true;
		memset(out, 0, n);
		return false;
	}
	memcpy(out, r->p, n);
	r->p += n;
	return true;
}

uint8_t gs_wire_get_u8(struct gs_wire_rd *r)
{
	uint8_t v;

	gs_wire_take(r, &v, 1);
	return v;
}

uint16_t gs_wire_get_u16(struct gs_wire_rd *r)
{
	uint16_t v;

	gs_wire_take(r, &v, 2);
	return v;
}

uint32_t gs_wire_get_u32(struct gs_wire_rd *r)
{
	uint32_t v;

	gs_wire_take(r, &v, 4);
	return v;
}

uint64_t gs_wire_get_u64(struct gs_wire_rd *r)
{
	uint64_t v;

	gs_wire_take(r, &v, 8);
	return v;
}

uint32_t gs_wire_get_count(struct gs_wire_rd *r, size_t min)
{
	uint32_t n = gs_wire_get_u32(r);

	if (!r->bad && (size_t)(r->end - r->p) / min < n)
		r->bad = true;
	return r->bad ? 0 : n;
}

const char *gs_wire_get_str(struct gs_wire_rd *r)
{
	uint32_t n = gs_wire_get_u32(r);
	const char *s;

	if (r->bad || n == GS_WIRE_NIL)
		return NULL;
	if ((size_t)(r->end - r->p) <= n || r->p[n] != '\0') {
		r->bad = true;
		return NULL;
	}
	s = (const char *)r->p;
	r->p += n + 1;
	return s;
}

char *gs_wire_get_strdup(struct gs_wire_rd *r)
{
	const char *s = gs_wire_get_str(r);
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		r->bad = true;
	return d;
}

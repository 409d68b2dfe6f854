/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Flat little-endian records: what the plan cache saves and what the tracer sends its
 * code generator process. Fixed-width fields; strings as a u32 length (GS_WIRE_NIL
 * for NULL), the bytes and a NUL, so that a reader can point into its buffer. A
 * reader never reads past its end: the first short or malformed field sets `bad`,
 * and every later read yields zeros.
 */
#ifndef GS_TRACER_WIRE_H
#define GS_TRACER_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/strbuf.h"

#define GS_WIRE_NIL	UINT32_MAX

void gs_wire_put(struct gs_strbuf *b, const void *p, size_t n);
void gs_wire_u8(struct gs_strbuf *b, uint8_t v);
void gs_wire_u16(struct gs_strbuf *b, uint16_t v);
void gs_wire_u32(struct gs_strbuf *b, uint32_t v);
void gs_wire_u64(struct gs_strbuf *b, uint64_t v);
void gs_wire_str(struct gs_strbuf *b, const char *s);	/* NULL allowed */

struct gs_wire_rd {
	const uint8_t *p, *end;
	bool bad;
};

bool gs_wire_take(struct gs_wire_rd *r, void *out, size_t n);
uint8_t gs_wire_get_u8(struct gs_wire_rd *r);
uint16_t gs_wire_get_u16(struct gs_wire_rd *r);
uint32_t gs_wire_get_u32(struct gs_wire_rd *r);
uint64_t gs_wire_get_u64(struct gs_wire_rd *r);
/* A u32 count of items of at least @min bytes each that the rest can hold, else bad. */
uint32_t gs_wire_get_count(struct gs_wire_rd *r, size_t min);
/* A string inside the buffer (NUL-terminated there), or NULL for NIL or bad. */
const char *gs_wire_get_str(struct gs_wire_rd *r);
/* The same, malloc'd (bad when memory runs out). */
char *gs_wire_get_strdup(struct gs_wire_rd *r);

#endif /* GS_TRACER_WIRE_H */

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Renders raw bytes read by a probe as text, by the value's type from the index,
 * with the renderings of LANGUAGE.md: decimal integers, true/false, quoted C strings,
 * `0x… (T*)` pointers, `name { field: value }` structs, `[1, 2]` arrays,
 * `enum::VARIANT` enums, and floats in their shortest round-tripping decimal.
 */
#ifndef GS_TRACER_RENDER_H
#define GS_TRACER_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/index.h"
#include "shared/strbuf.h"

/* Nesting limit for structs in structs: deeper values print as `{...}`. */
#define GS_RENDER_MAX_DEPTH 8

/*
 * Appends the rendering of @len bytes at @data as type @type_id to @out. Fewer bytes
 * than the type's size render what is there and then `<truncated>`.
 */
void gs_render_value(struct gs_index *idx, uint32_t type_id, const void *data, size_t len,
		     struct gs_strbuf *out);

/*
 * Like gs_render_value for the sub-array of array type @type_id with its first @skip
 * dimensions indexed away (grid[1] of int grid[2][3] renders as [4, 5, 6]).
 */
void gs_render_subarray(struct gs_index *idx, uint32_t type_id, uint32_t skip, const void *data,
			size_t len, struct gs_strbuf *out);

/*
 * The strings a probe read for the char* members of an object (see gs_render_object):
 * render(ctx, off, out) appends what stands for the char* at byte @off of the object's
 * bytes (its quoted string, or why it could not be read) and returns true, or returns
 * false to render it as a pointer. Called only for non-NULL plain-char pointers.
 */
struct gs_render_strs {
	bool (*render)(void *ctx, uint64_t off, struct gs_strbuf *out);
	void *ctx;
};

/*
 * gs_render_subarray (gs_render_value when @skip is 0) where the char* members, array
 * elements and members of nested structs render through @strs (NULL: as pointers).
 */
void gs_render_object(struct gs_index *idx, uint32_t type_id, uint32_t skip, const void *data,
		      size_t len, const struct gs_render_strs *strs, struct gs_strbuf *out);

/*
 * Whether type @type_id is, through typedefs and qualifiers, a pointer to plain char
 * (not signed/unsigned char): what renders as a C string.
 */
bool gs_render_is_cstr_ptr(struct gs_index *idx, uint32_t type_id);

/* Appends a C spelling of type @type_id: "int", "struct customer*", "const char*". */
void gs_render_type_name(struct gs_index *idx, uint32_t type_id, struct gs_strbuf *out);

/* Appends a declaration of @name: "struct order* o", "int (*main)(int, char**)". */
void gs_render_decl(struct gs_index *idx, uint32_t type_id, const char *name, struct gs_strbuf *out);

/*
 * Appends @v in decimal, as a signed 64-bit value when @is_signed (no printf: this is
 * on every event's path).
 */
void gs_render_dec(uint64_t v, bool is_signed, struct gs_strbuf *out);

/* Appends @len bytes as a double-quoted C string (stops at the first NUL). */
void gs_render_cstring(const void *data, size_t len, struct gs_strbuf *out);

/* Appends the shortest decimal that reads back as @v ("-12.5", "inf", "NaN"). */
void gs_render_double(double v, struct gs_strbuf *out);

/* The type with typedefs and qualifiers stripped (NULL for void or a bad id). */
const struct gs_type *gs_render_strip(struct gs_index *idx, uint32_t type_id);

#endif /* GS_TRACER_RENDER_H */

// SPDX-License-Identifier: GPL-2.0-or-later
/* Typed rendering of probe data (see render.h for the formats). */
#include <dwarf.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tracer/render.h"

const struct gs_type *gs_render_strip(struct gs_index *idx, uint32_t type_id)
{
	const struct gs_type *t;

	for (int guard = 0; guard < 32; guard++) {
		if (!type_id || gs_index_type(idx, type_id, &t))
			return NULL;
		switch (t->kind) {
		case GS_TYPE_TYPEDEF:
		case GS_TYPE_CONST:
		case GS_TYPE_VOLATILE:
		case GS_TYPE_RESTRICT:
		case GS_TYPE_ATOMIC:
			type_id = t->target;
			continue;
		default:
			return t;
		}
	}
	return NULL;
}

/* ---- type names ------------------------------------------------------------------- */

/* C++ names a type by its scopes ("inventory::Shelf"), C by its tag ("struct shelf"). */
static const char *type_name(const struct gs_type *t)
{
	return t->qual_name ? t->qual_name : t->name;
}

static const char *tag_prefix(const struct gs_type *t)
{
	if (t->cxx)
		return "";
	switch (t->kind) {
	case GS_TYPE_STRUCT: return "struct ";
	case GS_TYPE_CLASS: return "class ";
	case GS_TYPE_UNION: return "union ";
	case GS_TYPE_ENUM: return "enum ";
	default: return "";
	}
}

static void join(struct gs_strbuf *out, const char *head, const char *inner)
{
	gs_strbuf_adds(out, head);
	if (inner[0] == '(' || (inner[0] && inner[0] != '*' && inner[0] != '[' && inner[0] != '&'))
		gs_strbuf_addc(out, ' ');
	gs_strbuf_adds(out, inner);
}

/* C declarator syntax: the type around @inner ("*", "(*)(int)", "[4]"). */
static void declare(struct gs_index *idx, uint32_t id, const char *inner, struct gs_strbuf *out,
		    int depth)
{
	const struct gs_type *t, *tt;
	struct gs_strbuf sb;

	if (depth > 16) {
		join(out, "...", inner);
		return;
	}
	if (!id || gs_index_type(idx, id, &t)) {
		join(out, "void", inner);
		return;
	}
	gs_strbuf_init(&sb);
	switch (t->kind) {
	case GS_TYPE_POINTER:
	case GS_TYPE_REFERENCE:
	case GS_TYPE_RVALUE_REF: {
		const char *sym = t->kind == GS_TYPE_POINTER ? "*" :
				  t->kind == GS_TYPE_REFERENCE ? "&" : "&&";

		tt = NULL;
		if (t->target)
			gs_index_type(idx, t->target, &tt);
		if (tt && (tt->kind == GS_TYPE_ARRAY || tt->kind == GS_TYPE_FUNC))
			gs_strbuf_addf(&sb, "(%s%s)", sym, inner);
		else
			gs_strbuf_addf(&sb, "%s%s", sym, inner);
		declare(idx, t->target, sb.buf, out, depth + 1);
		break;
	}
	case GS_TYPE_CONST:
	case GS_TYPE_VOLATILE: {
		const char *q = t->kind == GS_TYPE_CONST ? "const" : "volatile";

		tt = NULL;
		if (t->target)
			gs_index_type(idx, t->target, &tt);
		if (tt && tt->kind == GS_TYPE_POINTER) {
			gs_strbuf_addf(&sb, " %s%s", q, inner);
			declare(idx, t->target, sb.buf, out, depth + 1);
		} else {
			gs_strbuf_addf(out, "%s ", q);
			declare(idx, t->target, inner, out, depth + 1);
		}
		break;
	}
	case GS_TYPE_RESTRICT:
	case GS_TYPE_ATOMIC:
		declare(idx, t->target, inner, out, depth + 1);
		break;
	case GS_TYPE_ARRAY:
		gs_strbuf_adds(&sb, inner);
		for (uint32_t i = 0; i < t->ndims; i++) {
			if (t->dims[i])
				gs_strbuf_addf(&sb, "[%" PRIu64 "]", t->dims[i]);
			else
				gs_strbuf_adds(&sb, "[]");
		}
		declare(idx, t->target, sb.buf, out, depth + 1);
		break;
	case GS_TYPE_FUNC:
		gs_strbuf_addf(&sb, "%s(", inner);
		for (uint32_t i = 0; i < t->nparams; i++) {
			if (i)
				gs_strbuf_adds(&sb, ", ");
			declare(idx, t->params[i], "", &sb, depth + 1);
		}
		if (t->varargs)
			gs_strbuf_adds(&sb, t->nparams ? ", ..." : "...");
		gs_strbuf_addc(&sb, ')');
		declare(idx, t->target, sb.buf, out, depth + 1);
		break;
	default:
		gs_strbuf_addf(&sb, "%s%s", tag_prefix(t), t->name ? type_name(t) : "<anonymous>");
		join(out, sb.buf, inner);
		break;
	}
	gs_strbuf_deinit(&sb);
}

void gs_render_type_name(struct gs_index *idx, uint32_t type_id, struct gs_strbuf *out)
{
	declare(idx, type_id, "", out, 0);
}

void gs_render_decl(struct gs_index *idx, uint32_t type_id, const char *name, struct gs_strbuf *out)
{
	const struct gs_type *t = NULL, *tt = NULL;

	if (type_id)
		gs_index_type(idx, type_id, &t);
	if (t && t->kind == GS_TYPE_POINTER && t->target)
		gs_index_type(idx, t->target, &tt);
	/* Arrays and pointers to functions or arrays need C's inside-out declarator. */
	if (t && (t->kind == GS_TYPE_ARRAY ||
		  (tt && (tt->kind == GS_TYPE_FUNC || tt->kind == GS_TYPE_ARRAY)))) {
		declare(idx, type_id, name, out, 0);
		return;
	}
	declare(idx, type_id, "", out, 0);
	gs_strbuf_addf(out, " %s", name);
}

/* ---- scalars ---------------------------------------------------------------------- */

void gs_render_double(double v, struct gs_strbuf *out)
{
	char buf[64];

	if (isnan(v)) {
		gs_strbuf_adds(out, "NaN");
		return;
	}
	if (isinf(v)) {
		gs_strbuf_adds(out, v < 0 ? "-inf" : "inf");
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	gs_strbuf_adds(out, buf);
}

static void render_float(const uint8_t *p, uint64_t size, struct gs_strbuf *out)
{
	if (size == 4) {
		float f;

		memcpy(&f, p, 4);
		/* Shortest decimal that reads back as the same float, not double. */
		char buf[64];

		if (isnan(f) || isinf(f)) {
			gs_render_double(f, out);
			return;
		}
		for (int prec = 1; prec <= 9; prec++) {
			snprintf(buf, sizeof(buf), "%.*g", prec, f);
			if (strtof(buf, NULL) == f)
				break;
		}
		gs_strbuf_adds(out, buf);
	} else if (size == 8) {
		double d;

		memcpy(&d, p, 8);
		gs_render_double(d, out);
	} else if (size == 16 || size == 10 || size == 12) {
		long double ld = 0;

		memcpy(&ld, p, 10);	/* x87 extended: 10 significant bytes */
		gs_render_double((double)ld, out);
	} else {
		gs_strbuf_addf(out, "<float of %" PRIu64 " bytes>", size);
	}
}

static uint64_t load_uint(const uint8_t *p, uint64_t size)
{
	uint64_t v = 0;

	memcpy(&v, p, size > 8 ? 8 : size);	/* little-endian target */
	return v;
}

static int64_t sign_extend(uint64_t v, unsigned int bits)
{
	if (bits >= 64)
		return (int64_t)v;
	uint64_t m = 1ULL << (bits - 1);

	v &= (1ULL << bits) - 1;
	return (int64_t)((v ^ m) - m);
}

static bool encoding_signed(uint8_t enc)
{
	return enc == DW_ATE_signed || enc == DW_ATE_signed_char;
}

void gs_render_dec(uint64_t v, bool is_signed, struct gs_strbuf *out)
{
	char buf[24], *p = buf + sizeof(buf);
	bool neg = is_signed && (int64_t)v < 0;

	if (neg)
		v = -v;		/* INT64_MIN stays 2^63 as unsigned: still right */
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (neg)
		*--p = '-';
	gs_strbuf_add(out, p, (size_t)(buf + sizeof(buf) - p));
}

static void render_int(uint64_t v, uint64_t size, bool is_signed, struct gs_strbuf *out)
{
	if (is_signed)
		gs_render_dec((uint64_t)sign_extend(v, size * 8), true, out);
	else
		gs_render_dec(size >= 8 ? v : v & ((1ULL << (size * 8)) - 1), false, out);
}

static void render_enum(const struct gs_type *t, uint64_t v, struct gs_strbuf *out)
{
	int64_t sv = t->is_signed ? sign_extend(v, t->size * 8) : (int64_t)v;
	const char *tn = t->name ? type_name(t) : "enum";

	if (!t->is_signed && t->size < 8)
		sv = (int64_t)(v & ((1ULL << (t->size * 8)) - 1));
	for (uint32_t i = 0; i < t->nenumerators; i++) {
		if (t->enumerators[i].value == sv) {
			gs_strbuf_addf(out, "%s::%s", tn, t->enumerators[i].name);
			return;
		}
	}
	gs_strbuf_addf(out, "%s::(%" PRId64 ")", tn, sv);
}

void gs_render_cstring(const void *data, size_t len, struct gs_strbuf *out)
{
	const unsigned char *p = data;

	gs_strbuf_addc(out, '"');
	for (size_t i = 0; i < len && p[i]; i++) {
		unsigned char c = p[i];

		switch (c) {
		case '"': gs_strbuf_adds(out, "\\\""); break;
		case '\\': gs_strbuf_adds(out, "\\\\"); break;
		case '\n': gs_strbuf_adds(out, "\\n"); break;
		case '\t': gs_strbuf_adds(out, "\\t"); break;
		case '\r': gs_strbuf_adds(out, "\\r"); break;
		default:
			if (c < 0x20 || c >= 0x7f)
				gs_strbuf_addf(out, "\\x%02x", c);
			else
				gs_strbuf_addc(out, (char)c);
		}
	}
	gs_strbuf_addc(out, '"');
}

/*
 * Plain `char` arrays are text; `signed char`/`unsigned char` (uint8_t) arrays are
 * bytes, shown as numbers so that NULs and binary data stay visible.
 */
static bool is_char_type(const struct gs_type *t)
{
	return t && t->kind == GS_TYPE_BASE && t->size == 1 && t->name && !strcmp(t->name, "char");
}

bool gs_render_is_cstr_ptr(struct gs_index *idx, uint32_t type_id)
{
	const struct gs_type *t = gs_render_strip(idx, type_id);

	return t && t->kind == GS_TYPE_POINTER && is_char_type(gs_render_strip(idx, t->target));
}

/* ---- aggregates ------------------------------------------------------------------- */

/* What a whole value's rendering needs besides its bytes: its start, its members' strings. */
struct walk {
	const uint8_t *base;
	const struct gs_render_strs *strs;	/* NULL: char* members render as pointers */
};

static void render(struct gs_index *idx, uint32_t type_id, const uint8_t *p, size_t len,
		   struct gs_strbuf *out, int depth, const struct walk *w);

static void render_member_bits(struct gs_index *idx, const struct gs_member *m, const uint8_t *base,
			       size_t len, struct gs_strbuf *out)
{
	const struct gs_type *mt = gs_render_strip(idx, m->type_id);
	uint64_t first = m->bit_offset / 8, nbytes = (m->bit_offset % 8 + m->bit_size + 7) / 8;
	uint64_t raw = 0;
	bool is_signed;

	if (first + nbytes > len || nbytes > 8) {
		gs_strbuf_adds(out, "<truncated>");
		return;
	}
	memcpy(&raw, base + first, nbytes);
	raw >>= m->bit_offset % 8;
	raw &= m->bit_size >= 64 ? ~0ULL : (1ULL << m->bit_size) - 1;
	if (mt && mt->kind == GS_TYPE_ENUM) {
		render_enum(mt, raw, out);
		return;
	}
	if (mt && mt->kind == GS_TYPE_BASE && mt->encoding == DW_ATE_boolean) {
		gs_strbuf_adds(out, raw ? "true" : "false");
		return;
	}
	is_signed = mt && mt->kind == GS_TYPE_BASE && encoding_signed(mt->encoding);
	if (is_signed)
		gs_strbuf_addf(out, "%" PRId64, sign_extend(raw, m->bit_size));
	else
		gs_strbuf_addf(out, "%" PRIu64, raw);
}

static void render_record(struct gs_index *idx, const struct gs_type *t, const uint8_t *p,
			  size_t len, struct gs_strbuf *out, int depth, const struct walk *w)
{
	bool is_union = t->kind == GS_TYPE_UNION;
	const char *sep = is_union ? " = " : ": ";

	if (is_union)
		gs_strbuf_adds(out, "union ");
	if (t->name)
		gs_strbuf_addf(out, "%s ", type_name(t));
	if (t->declaration) {
		gs_strbuf_adds(out, "{ <incomplete type> }");
		return;
	}
	if (depth >= GS_RENDER_MAX_DEPTH) {
		gs_strbuf_adds(out, "{...}");
		return;
	}
	gs_strbuf_adds(out, t->nmembers ? "{ " : "{");
	for (uint32_t i = 0; i < t->nmembers; i++) {
		const struct gs_member *m = &t->members[i];
		uint64_t off = m->bit_offset / 8;

		if (i)
			gs_strbuf_adds(out, ", ");
		if (m->name)
			gs_strbuf_addf(out, "%s%s", m->name, sep);
		if (m->bit_size) {
			render_member_bits(idx, m, p, len, out);
			continue;
		}
		if (off >= len) {
			gs_strbuf_adds(out, "<truncated>");
			continue;
		}
		render(idx, m->type_id, p + off, len - off, out, depth + 1, w);
	}
	gs_strbuf_adds(out, t->nmembers ? " }" : "}");
}

static void render_array(struct gs_index *idx, const struct gs_type *t, uint32_t dim,
			 const uint8_t *p, size_t len, struct gs_strbuf *out, int depth,
			 const struct walk *w)
{
	const struct gs_type *et = gs_render_strip(idx, t->target);
	uint64_t esize = et ? et->size : 0, count = t->dims[dim], stride = esize;

	for (uint32_t d = dim + 1; d < t->ndims; d++)
		stride *= t->dims[d];
	if (dim + 1 == t->ndims && is_char_type(et)) {
		gs_render_cstring(p, count < len ? count : len, out);
		return;
	}
	if (!stride) {
		gs_strbuf_adds(out, "[]");
		return;
	}
	if (!count)		/* flexible array: as much as was read */
		count = len / stride;
	gs_strbuf_addc(out, '[');
	for (uint64_t i = 0; i < count; i++) {
		if (i)
			gs_strbuf_adds(out, ", ");
		if ((i + 1) * stride > len) {
			gs_strbuf_adds(out, "<truncated>");
			break;
		}
		if (dim + 1 < t->ndims)
			render_array(idx, t, dim + 1, p + i * stride, stride, out, depth, w);
		else
			render(idx, t->target, p + i * stride, stride, out, depth + 1, w);
	}
	gs_strbuf_addc(out, ']');
}

static void render(struct gs_index *idx, uint32_t type_id, const uint8_t *p, size_t len,
		   struct gs_strbuf *out, int depth, const struct walk *w)
{
	const struct gs_type *t = gs_render_strip(idx, type_id);

	if (!t) {
		gs_strbuf_adds(out, "<void>");
		return;
	}
	if (t->size && len < t->size && t->kind != GS_TYPE_ARRAY && t->kind != GS_TYPE_STRUCT &&
	    t->kind != GS_TYPE_CLASS && t->kind != GS_TYPE_UNION) {
		gs_strbuf_adds(out, "<truncated>");
		return;
	}
	switch (t->kind) {
	case GS_TYPE_BASE:
		if (t->encoding == DW_ATE_boolean)
			gs_strbuf_adds(out, load_uint(p, t->size) ? "true" : "false");
		else if (t->encoding == DW_ATE_float)
			render_float(p, t->size, out);
		else if (t->size > 8)
			gs_strbuf_addf(out, "<%" PRIu64 "-byte integer>", t->size);
		else
			render_int(load_uint(p, t->size), t->size, encoding_signed(t->encoding), out);
		break;
	case GS_TYPE_ENUM:
		render_enum(t, load_uint(p, t->size ? t->size : 4), out);
		break;
	case GS_TYPE_POINTER:
	case GS_TYPE_REFERENCE:
	case GS_TYPE_RVALUE_REF:
	case GS_TYPE_PTR_TO_MEMBER: {
		uint64_t v = load_uint(p, 8);

		/* A char* whose string the probe read: the string, as GDB shows it. */
		if (v && w && w->strs && t->kind == GS_TYPE_POINTER &&
		    is_char_type(gs_render_strip(idx, t->target)) &&
		    w->strs->render(w->strs->ctx, (uint64_t)(p - w->base), out))
			break;
		if (v)
			gs_strbuf_addf(out, "0x%" PRIx64 " (", v);
		else
			gs_strbuf_adds(out, "NULL (");
		gs_render_type_name(idx, type_id, out);
		gs_strbuf_addc(out, ')');
		break;
	}
	case GS_TYPE_STRUCT:
	case GS_TYPE_CLASS:
	case GS_TYPE_UNION:
		render_record(idx, t, p, len, out, depth, w);
		break;
	case GS_TYPE_ARRAY:
		if (!t->ndims)
			gs_strbuf_adds(out, "[]");
		else
			render_array(idx, t, 0, p, len, out, depth, w);
		break;
	case GS_TYPE_FUNC:
		gs_strbuf_adds(out, "<function>");
		break;
	default:
		gs_strbuf_adds(out, "<unsupported type>");
		break;
	}
}

static void render_top(struct gs_index *idx, uint32_t type_id, const void *data, size_t len,
		       struct gs_strbuf *out, const struct walk *w)
{
	const struct gs_type *t = gs_render_strip(idx, type_id);

	render(idx, type_id, data, len, out, 0, w);
	if (t && t->size && len < t->size && (t->kind == GS_TYPE_STRUCT || t->kind == GS_TYPE_ARRAY ||
					      t->kind == GS_TYPE_CLASS || t->kind == GS_TYPE_UNION))
		gs_strbuf_adds(out, " <truncated>");
}

void gs_render_value(struct gs_index *idx, uint32_t type_id, const void *data, size_t len,
		     struct gs_strbuf *out)
{
	render_top(idx, type_id, data, len, out, NULL);
}

void gs_render_object(struct gs_index *idx, uint32_t type_id, uint32_t skip, const void *data,
		      size_t len, const struct gs_render_strs *strs, struct gs_strbuf *out)
{
	const struct gs_type *t = gs_render_strip(idx, type_id);
	struct walk w = { .base = data, .strs = strs };

	if (!skip || !t || t->kind != GS_TYPE_ARRAY || skip >= t->ndims) {
		render_top(idx, type_id, data, len, out, &w);
		return;
	}
	render_array(idx, t, skip, data, len, out, 0, &w);
}

void gs_render_subarray(struct gs_index *idx, uint32_t type_id, uint32_t skip, const void *data,
			size_t len, struct gs_strbuf *out)
{
	gs_render_object(idx, type_id, skip, data, len, NULL, out);
}

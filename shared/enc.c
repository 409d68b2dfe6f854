// SPDX-License-Identifier: GPL-2.0-or-later
/* Varint encoder and bounds-checked decoder for index records (see enc.h). */
#include <dwarf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "shared/enc.h"
#include "shared/schema.h"

const char *const gs_db_names[GS_DB_COUNT] = {
#define GS_DB_NAME(id, name) [id] = name,
	GS_INDEX_DBS(GS_DB_NAME)
#undef GS_DB_NAME
};

uint64_t gs_name_hash(const char *name)
{
	return XXH3_64bits(name, strlen(name));
}

void gs_enc_init(struct gs_enc *e)
{
	e->buf = NULL;
	e->len = e->cap = 0;
}

void gs_enc_deinit(struct gs_enc *e)
{
	if (!e)
		return;
	free(e->buf);
	gs_enc_init(e);
}

void gs_enc_reset(struct gs_enc *e)
{
	e->len = 0;
}

static void grow(struct gs_enc *e, size_t more)
{
	size_t cap = e->cap ? e->cap : 64;

	if (more > SIZE_MAX / 2 - e->len) {
		fprintf(stderr, "enc: record too large\n");
		abort();
	}
	while (cap < e->len + more)
		cap *= 2;
	e->buf = realloc(e->buf, cap);
	if (!e->buf) {
		fprintf(stderr, "enc: out of memory\n");
		abort();
	}
	e->cap = cap;
}

void gs_enc_bytes(struct gs_enc *e, const void *p, size_t len)
{
	if (e->len + len > e->cap)
		grow(e, len);
	if (len)
		memcpy(e->buf + e->len, p, len);
	e->len += len;
}

void gs_enc_u8(struct gs_enc *e, uint8_t v)
{
	if (e->len + 1 > e->cap)
		grow(e, 1);
	e->buf[e->len++] = v;
}

void gs_enc_u(struct gs_enc *e, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;

	do {
		uint8_t b = v & 0x7f;

		v >>= 7;
		tmp[n++] = v ? b | 0x80 : b;
	} while (v);
	gs_enc_bytes(e, tmp, n);
}

size_t gs_enc_u_len(uint64_t v)
{
	size_t n = 1;

	while (v >>= 7)
		n++;
	return n;
}

void gs_enc_s(struct gs_enc *e, int64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;
	bool more = true;

	while (more) {
		uint8_t b = v & 0x7f;

		v >>= 7;	/* arithmetic shift: gcc and clang define it */
		if ((v == 0 && !(b & 0x40)) || (v == -1 && (b & 0x40)))
			more = false;
		else
			b |= 0x80;
		tmp[n++] = b;
	}
	gs_enc_bytes(e, tmp, n);
}

void gs_enc_str(struct gs_enc *e, const char *s)
{
	size_t len;

	if (!s) {
		gs_enc_u8(e, 0);
		return;
	}
	len = strlen(s);
	gs_enc_u(e, len + 1);
	gs_enc_bytes(e, s, len + 1);
}

void gs_enc_u32le(struct gs_enc *e, uint32_t v)
{
	uint8_t b[4] = { v, v >> 8, v >> 16, v >> 24 };

	gs_enc_bytes(e, b, 4);
}

void gs_enc_u64le(struct gs_enc *e, uint64_t v)
{
	gs_enc_u32le(e, (uint32_t)v);
	gs_enc_u32le(e, v >> 32);
}

void gs_enc_patch_u32le(struct gs_enc *e, size_t off, uint32_t v)
{
	e->buf[off] = v;
	e->buf[off + 1] = v >> 8;
	e->buf[off + 2] = v >> 16;
	e->buf[off + 3] = v >> 24;
}

void gs_dec_init(struct gs_dec *d, const void *p, size_t len)
{
	d->p = p;
	d->end = d->p + len;
	d->err = false;
}

static bool fail(struct gs_dec *d)
{
	d->err = true;
	d->p = d->end;
	return false;
}

uint8_t gs_dec_u8(struct gs_dec *d)
{
	if (d->p >= d->end)
		return fail(d), 0;
	return *d->p++;
}

uint64_t gs_dec_u(struct gs_dec *d)
{
	uint64_t v = 0;
	unsigned int shift = 0;

	while (d->p < d->end) {
		uint8_t b = *d->p++;

		if (shift >= 64 || (shift == 63 && (b & 0x7e)))
			return fail(d), 0;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
		shift += 7;
	}
	return fail(d), 0;
}

int64_t gs_dec_s(struct gs_dec *d)
{
	uint64_t v = 0;
	unsigned int shift = 0;

	while (d->p < d->end) {
		uint8_t b = *d->p++;

		if (shift >= 64)
			return fail(d), 0;
		v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80)) {
			if (shift < 64 && (b & 0x40))
				v |= ~(uint64_t)0 << shift;
			return (int64_t)v;
		}
	}
	return fail(d), 0;
}

uint32_t gs_dec_u32(struct gs_dec *d)
{
	uint64_t v = gs_dec_u(d);

	if (v > UINT32_MAX)
		return fail(d), 0;
	return (uint32_t)v;
}

uint32_t gs_dec_count(struct gs_dec *d, size_t min_item_len)
{
	uint64_t n = gs_dec_u(d);

	if (min_item_len && n > (uint64_t)(d->end - d->p) / min_item_len)
		return fail(d), 0;
	if (n > UINT32_MAX)
		return fail(d), 0;
	return (uint32_t)n;
}

const char *gs_dec_str(struct gs_dec *d)
{
	uint64_t n = gs_dec_u(d);
	const char *s;

	if (n == 0 || d->err)
		return NULL;
	if (n > (uint64_t)(d->end - d->p) || d->p[n - 1] != '\0' ||
	    memchr(d->p, '\0', n - 1))
		return fail(d), NULL;
	s = (const char *)d->p;
	d->p += n;
	return s;
}

const uint8_t *gs_dec_bytes(struct gs_dec *d, size_t len)
{
	const uint8_t *p = d->p;

	if (len > (size_t)(d->end - d->p))
		return fail(d), NULL;
	d->p += len;
	return p;
}

uint32_t gs_dec_u32le(struct gs_dec *d)
{
	const uint8_t *b = gs_dec_bytes(d, 4);

	if (!b)
		return 0;
	return b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

uint64_t gs_dec_u64le(struct gs_dec *d)
{
	uint64_t lo = gs_dec_u32le(d);

	return lo | (uint64_t)gs_dec_u32le(d) << 32;
}

int gs_op_arity(uint8_t atom)
{
	if ((atom >= DW_OP_lit0 && atom <= DW_OP_lit31) || (atom >= DW_OP_reg0 && atom <= DW_OP_reg31))
		return 0;
	if (atom >= DW_OP_breg0 && atom <= DW_OP_breg31)
		return 1;
	switch (atom) {
	case DW_OP_deref: case DW_OP_dup: case DW_OP_drop: case DW_OP_over: case DW_OP_swap:
	case DW_OP_rot: case DW_OP_xderef: case DW_OP_abs: case DW_OP_and: case DW_OP_div:
	case DW_OP_minus: case DW_OP_mod: case DW_OP_mul: case DW_OP_neg: case DW_OP_not:
	case DW_OP_or: case DW_OP_plus: case DW_OP_shl: case DW_OP_shr: case DW_OP_shra:
	case DW_OP_xor: case DW_OP_eq: case DW_OP_ge: case DW_OP_gt: case DW_OP_le:
	case DW_OP_lt: case DW_OP_ne: case DW_OP_nop: case DW_OP_push_object_address:
	case DW_OP_form_tls_address: case DW_OP_GNU_push_tls_address:
	case DW_OP_call_frame_cfa: case DW_OP_stack_value: case DW_OP_GNU_uninit:
		return 0;
	case DW_OP_addr: case DW_OP_const1u: case DW_OP_const1s: case DW_OP_const2u:
	case DW_OP_const2s: case DW_OP_const4u: case DW_OP_const4s: case DW_OP_const8u:
	case DW_OP_const8s: case DW_OP_constu: case DW_OP_consts: case DW_OP_pick:
	case DW_OP_plus_uconst: case DW_OP_skip: case DW_OP_bra: case DW_OP_regx:
	case DW_OP_fbreg: case DW_OP_piece: case DW_OP_deref_size: case DW_OP_xderef_size:
	case DW_OP_call2: case DW_OP_call4: case DW_OP_call_ref: case DW_OP_addrx:
	case DW_OP_constx: case DW_OP_entry_value: case DW_OP_GNU_entry_value:
	case DW_OP_convert: case DW_OP_GNU_convert: case DW_OP_reinterpret:
	case DW_OP_GNU_reinterpret: case DW_OP_GNU_parameter_ref: case DW_OP_GNU_addr_index:
	case DW_OP_GNU_const_index:
		return 1;
	default:
		return 2;
	}
}

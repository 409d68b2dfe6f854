/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The index's value encoding: an append-only byte buffer (gs_enc) and a bounds-checked
 * reader (gs_dec). Integers are ULEB128/SLEB128, strings carry their length and a NUL
 * so that a decoded string can point straight into the LMDB map.
 *
 * gs_enc: caller-provided storage, gs_enc_init() before use and gs_enc_deinit() after.
 * Allocation failure aborts (records are small; an indexer out of memory has nothing
 * better to do).
 *
 * gs_dec: never reads past its end. Any malformed input (truncated varint, string
 * without its NUL, count larger than the bytes left) sets dec->err and makes every
 * later read return 0/NULL, so a decoder checks dec->err once at the end.
 */
#ifndef GS_SHARED_ENC_H
#define GS_SHARED_ENC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gs_enc {
	uint8_t *buf;
	size_t len, cap;
};

void gs_enc_init(struct gs_enc *e);
void gs_enc_deinit(struct gs_enc *e);
void gs_enc_reset(struct gs_enc *e);		/* len = 0, keeps the memory */
void gs_enc_bytes(struct gs_enc *e, const void *p, size_t len);
void gs_enc_u8(struct gs_enc *e, uint8_t v);
void gs_enc_u(struct gs_enc *e, uint64_t v);	/* ULEB128 */
size_t gs_enc_u_len(uint64_t v);		/* the bytes gs_enc_u(v) writes */
void gs_enc_s(struct gs_enc *e, int64_t v);	/* SLEB128 */
void gs_enc_str(struct gs_enc *e, const char *s);	/* NULL allowed */
void gs_enc_u32le(struct gs_enc *e, uint32_t v);
void gs_enc_u64le(struct gs_enc *e, uint64_t v);
/* Overwrites 4 bytes at @off (a placeholder written earlier) with @v, little-endian. */
void gs_enc_patch_u32le(struct gs_enc *e, size_t off, uint32_t v);

struct gs_dec {
	const uint8_t *p, *end;
	bool err;
};

void gs_dec_init(struct gs_dec *d, const void *p, size_t len);
uint8_t gs_dec_u8(struct gs_dec *d);
uint64_t gs_dec_u(struct gs_dec *d);
int64_t gs_dec_s(struct gs_dec *d);
/* ULEB128 that must fit in 32 bits (ids, lines). */
uint32_t gs_dec_u32(struct gs_dec *d);
/* A count of items each at least @min_item_len bytes: rejects counts the rest can't hold. */
uint32_t gs_dec_count(struct gs_dec *d, size_t min_item_len);
/* Points into the input; valid as long as the input is. NULL for a NULL string. */
const char *gs_dec_str(struct gs_dec *d);
const uint8_t *gs_dec_bytes(struct gs_dec *d, size_t len);
uint32_t gs_dec_u32le(struct gs_dec *d);
uint64_t gs_dec_u64le(struct gs_dec *d);

/*
 * How many operands an index "expr" op stores (0, 1 or 2), by DW_OP_* atom: stack,
 * literal and register ops none, most others one (n2 is 0 for them), the rest and
 * unknown atoms two. The writer (indexer/loc.c) and reader (shared/index.c) share it.
 */
int gs_op_arity(uint8_t atom);

#endif /* GS_SHARED_ENC_H */

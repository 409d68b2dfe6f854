// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CFI table builder: a call frame instruction interpreter over .eh_frame/.debug_frame.
 *
 * Data flow: dwarf_next_cfi() splits a section into CIEs and FDEs (pass 1 keeps the
 * CIEs, sorted by offset as they come); pass 2 decodes each FDE's pc range and runs
 * CIE initial instructions + FDE instructions (DWARF 5 section 6.4.2), emitting a
 * piece [loc, next loc) each time the location advances. Each piece's rules are
 * reduced to a struct gs_cfi_row and interned in a hash table, so the few hundred
 * distinct rows of a module are stored once. Finally the pieces are sorted, clipped so
 * that .eh_frame wins over .debug_frame and the first FDE wins over an overlapping
 * one, adjacent equal rows merged and gaps marked.
 *
 * Why not libdw's dwarf_cfi_addrframe(): it answers one pc at a time, re-running the
 * FDE from its start for every query and allocating a frame each time; walking every
 * row of a module that way is quadratic per FDE. It remains the cross-check in the
 * unit tests, and readelf --debug-dump=frames-interp in the e2e test.
 *
 * Only the CFA, the return-address column (the CIE's) and the frame pointer (rbp, DWARF
 * 6 on x86-64; x29 on aarch64) are tracked: that is all a frame-pointer-free BPF
 * unwinder can use. Other registers' instructions are decoded and ignored.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "indexer/cfi.h"
#include "shared/elf.h"
#include "shared/sort.h"

#define REMEMBER_DEPTH	16	/* remember_state nesting; compilers use 1-2 */

/* A rule while interpreting, wider than the stored row. */
struct rule {
	uint8_t kind;		/* enum gs_cfi_rule */
	int64_t off;		/* offset, or register number for GS_CFI_REGISTER */
};

struct cfa_state {
	uint8_t cfa_kind;	/* GS_CFI_CFA_REG or GS_CFI_UNSUPPORTED */
	uint64_t cfa_reg;
	int64_t cfa_off;
	struct rule ra, fp;
	struct rule saved[GS_CFI_NSAVED];	/* rbx, r12-r15 (x86-64) */
};

/*
 * What is interned: the row BPF loads, and the other callee-saved registers' rules
 * (their own table in the end). Zero-filled before use: compared and hashed as bytes.
 */
struct xrow {
	struct gs_cfi_row row;
	struct gs_cfi_saved saved;
};

struct cie {
	Dwarf_Off offset;
	const uint8_t *insns, *insns_end;
	uint64_t code_align;
	int64_t data_align;
	uint64_t ra_reg;
	uint8_t fde_enc;	/* DW_EH_PE_* of FDE addresses */
	bool aug_z;		/* FDEs carry a sized augmentation block */
	bool usable;		/* augmentation understood well enough to parse FDEs */
	size_t fde_aug_size;	/* without 'z': fixed FDE augmentation bytes */
	struct cfa_state init;	/* after the initial instructions */
};

struct piece {
	uint64_t lo, hi;
	uint32_t row;
};

/* One section being read. */
struct section {
	Elf_Data *data;
	uint64_t addr;		/* sh_addr, for pcrel pointers */
	bool eh;
	uint8_t addr_size;
	const unsigned char *ident;
	struct cie *cies;
	size_t ncies, cies_cap;
};

struct builder {
	struct xrow *rows;
	size_t nrows, rows_cap;
	uint32_t *hash;		/* row index + 1, 0 = empty */
	size_t hash_cap;	/* power of two */
	struct piece *pieces;
	size_t npieces, pieces_cap;
	uint64_t fp_reg;
	bool x86;		/* rbx and r12-r15 are tracked too */
	size_t merge_floor;	/* emit() never extends pieces below this index */
	struct gs_range *exec;	/* executable PT_LOAD ranges; none: no filtering */
	size_t nexec;
};

/* ---- small helpers ------------------------------------------------------------------ */

/* Grows *@arr to hold at least @need elements of @size; 0 or -ENOMEM. */
static int grow(void **arr, size_t *cap, size_t need, size_t size)
{
	size_t ncap = *cap ? *cap : 16;
	void *p;

	if (need <= *cap)
		return 0;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return -ENOMEM;
		ncap *= 2;
	}
	p = reallocarray(*arr, ncap, size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

static bool read_uleb(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t r = 0;
	unsigned int shift = 0;

	while (*p < end) {
		uint8_t b = *(*p)++;

		if (shift < 64)
			r |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80)) {
			*v = r;
			return true;
		}
	}
	return false;
}

static bool read_sleb(const uint8_t **p, const uint8_t *end, int64_t *v)
{
	uint64_t r = 0;
	unsigned int shift = 0;

	while (*p < end) {
		uint8_t b = *(*p)++;

		if (shift < 64)
			r |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80)) {
			if (shift < 64 && (b & 0x40))
				r |= ~(uint64_t)0 << shift;
			*v = (int64_t)r;
			return true;
		}
	}
	return false;
}

/* Little- or big-endian fixed-size read, per the ELF's data encoding. */
static bool read_fixed(const struct section *sec, const uint8_t **p, const uint8_t *end,
		       unsigned int size, uint64_t *v)
{
	uint64_t r = 0;

	if ((size_t)(end - *p) < size)
		return false;
	for (unsigned int i = 0; i < size; i++) {
		unsigned int k = sec->ident[EI_DATA] == ELFDATA2MSB ? i : size - 1 - i;

		r = (r << 8) | (*p)[k];
	}
	*p += size;
	*v = r;
	return true;
}

static uint64_t sign_extend(uint64_t v, unsigned int bytes)
{
	unsigned int bits = bytes * 8;

	if (bits >= 64)
		return v;
	return (v ^ (1ull << (bits - 1))) - (1ull << (bits - 1));
}

/*
 * Reads a DW_EH_PE_* encoded pointer. @apply = false reads only the value format (for
 * FDE address ranges). textrel/datarel/funcrel/aligned and indirect pointers are not
 * used for FDE addresses on the targets we support: refuse them.
 */
static bool read_encoded(const struct section *sec, const uint8_t **p, const uint8_t *end,
			 uint8_t enc, bool apply, uint64_t *v)
{
	uint64_t where = sec->addr + (uint64_t)(*p - (const uint8_t *)sec->data->d_buf);
	int64_t s = 0;
	uint64_t r = 0;	/* sign_extend() reads it even after a failed read */
	bool ok;

	if (enc == DW_EH_PE_omit)
		return false;
	switch (enc & 0x0f) {
	case DW_EH_PE_absptr: ok = read_fixed(sec, p, end, sec->addr_size, &r); break;
	case DW_EH_PE_uleb128: ok = read_uleb(p, end, &r); break;
	case DW_EH_PE_udata2: ok = read_fixed(sec, p, end, 2, &r); break;
	case DW_EH_PE_udata4: ok = read_fixed(sec, p, end, 4, &r); break;
	case DW_EH_PE_udata8: ok = read_fixed(sec, p, end, 8, &r); break;
	case DW_EH_PE_sleb128: ok = read_sleb(p, end, &s); r = (uint64_t)s; break;
	case DW_EH_PE_sdata2:
		ok = read_fixed(sec, p, end, 2, &r);
		r = sign_extend(r, 2);
		break;
	case DW_EH_PE_sdata4:
		ok = read_fixed(sec, p, end, 4, &r);
		r = sign_extend(r, 4);
		break;
	case DW_EH_PE_sdata8: ok = read_fixed(sec, p, end, 8, &r); break;
	default: return false;
	}
	if (!ok)
		return false;
	if (apply) {
		if (enc & DW_EH_PE_indirect)
			return false;
		switch (enc & 0x70) {
		case DW_EH_PE_absptr: break;
		case DW_EH_PE_pcrel: r += where; break;
		default: return false;
		}
	}
	if (sec->addr_size == 4)
		r &= 0xffffffffu;
	*v = r;
	return true;
}

/* Size in bytes of an encoded pointer, or 0 when variable/unknown (for skipping 'P'). */
static bool skip_encoded(const struct section *sec, const uint8_t **p, const uint8_t *end,
			 uint8_t enc)
{
	uint64_t v;

	if (enc == DW_EH_PE_omit)
		return true;
	/* The personality pointer may be indirect or datarel: read the format only. */
	return read_encoded(sec, p, end, enc & 0x0f, false, &v);
}

/* ---- rows --------------------------------------------------------------------------- */

static uint32_t row_hash(const struct xrow *row)
{
	uint8_t b[sizeof(*row)];
	uint32_t h = 2166136261u;

	memcpy(b, row, sizeof(b));
	for (size_t i = 0; i < sizeof(b); i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static int row_hash_grow(struct builder *b)
{
	size_t ncap = b->hash_cap ? b->hash_cap * 2 : 256;
	uint32_t *h = calloc(ncap, sizeof(*h));

	if (!h)
		return -ENOMEM;
	for (size_t i = 0; i < b->nrows; i++) {
		size_t k = row_hash(&b->rows[i]) & (ncap - 1);

		while (h[k])
			k = (k + 1) & (ncap - 1);
		h[k] = (uint32_t)i + 1;
	}
	free(b->hash);
	b->hash = h;
	b->hash_cap = ncap;
	return 0;
}

/* Index of @row in the distinct-row table, adding it when new. */
static int row_intern(struct builder *b, const struct xrow *row, uint32_t *idx_ret)
{
	size_t k;
	int err;

	if ((b->nrows + 1) * 2 > b->hash_cap) {
		err = row_hash_grow(b);
		if (err)
			return err;
	}
	for (k = row_hash(row) & (b->hash_cap - 1); b->hash[k]; k = (k + 1) & (b->hash_cap - 1)) {
		if (!memcmp(&b->rows[b->hash[k] - 1], row, sizeof(*row))) {
			*idx_ret = b->hash[k] - 1;
			return 0;
		}
	}
	if (b->nrows >= UINT32_MAX - 1)
		return -ENOMEM;
	err = grow((void **)&b->rows, &b->rows_cap, b->nrows + 1, sizeof(*b->rows));
	if (err)
		return err;
	b->rows[b->nrows] = *row;
	b->hash[k] = (uint32_t)b->nrows + 1;
	*idx_ret = (uint32_t)b->nrows++;
	return 0;
}

/* A factored offset; an overflow lands outside int32 and is stored as unsupported. */
static int64_t factored(int64_t v, int64_t factor)
{
	int64_t r;

	if (__builtin_mul_overflow(v, factor, &r) || r == INT64_MIN)
		return INT64_MAX;
	return r;
}

static bool fits_i32(int64_t v)
{
	return v >= INT32_MIN && v <= INT32_MAX;
}

/* Narrows a register rule to its stored form; out-of-range becomes unsupported. */
static void rule_store(const struct rule *r, uint8_t *kind, int32_t *off)
{
	*kind = r->kind;
	*off = 0;
	switch (r->kind) {
	case GS_CFI_OFFSET:
	case GS_CFI_VAL_OFFSET:
	case GS_CFI_REGISTER:
		if (fits_i32(r->off))
			*off = (int32_t)r->off;
		else
			*kind = GS_CFI_UNSUPPORTED;
		break;
	default:
		break;
	}
}

static void state_to_row(const struct cfa_state *st, struct xrow *x)
{
	struct gs_cfi_row *row = &x->row;

	memset(x, 0, sizeof(*x));
	row->cfa_rule = GS_CFI_UNSUPPORTED;
	if (st->cfa_kind == GS_CFI_CFA_REG && st->cfa_reg <= UINT8_MAX && fits_i32(st->cfa_off)) {
		row->cfa_rule = GS_CFI_CFA_REG;
		row->cfa_reg = (uint8_t)st->cfa_reg;
		row->cfa_off = (int32_t)st->cfa_off;
	}
	rule_store(&st->ra, &row->ra_rule, &row->ra_off);
	rule_store(&st->fp, &row->rbp_rule, &row->rbp_off);
	for (int i = 0; i < GS_CFI_NSAVED; i++)
		rule_store(&st->saved[i], &x->saved.rule[i], &x->saved.off[i]);
}

static bool pc_is_exec(const struct builder *b, uint64_t pc)
{
	if (!b->nexec)
		return true;
	for (size_t i = 0; i < b->nexec; i++)
		if (pc >= b->exec[i].lo && pc < b->exec[i].hi)
			return true;
	return false;
}

/* Records that @st holds over [lo, hi). */
static int emit(struct builder *b, const struct cfa_state *st, uint64_t lo, uint64_t hi)
{
	struct xrow row;
	uint32_t idx;
	int err;

	if (lo >= hi)
		return 0;
	state_to_row(st, &row);
	err = row_intern(b, &row, &idx);
	if (err)
		return err;
	if (b->npieces > b->merge_floor && b->pieces[b->npieces - 1].hi == lo &&
	    b->pieces[b->npieces - 1].row == idx) {
		b->pieces[b->npieces - 1].hi = hi;
		return 0;
	}
	err = grow((void **)&b->pieces, &b->pieces_cap, b->npieces + 1, sizeof(*b->pieces));
	if (err)
		return err;
	b->pieces[b->npieces++] = (struct piece){ .lo = lo, .hi = hi, .row = idx };
	return 0;
}

/* ---- the interpreter ---------------------------------------------------------------- */

struct interp {
	struct builder *b;
	const struct section *sec;
	const struct cie *cie;
	struct cfa_state st;
	struct cfa_state stack[REMEMBER_DEPTH];
	unsigned int depth;
	bool in_cie;		/* running initial instructions: no rows, no locations */
	uint64_t loc, end;	/* current location and the FDE's end */
	bool done;		/* location reached the FDE's end */
};

static struct rule *tracked(struct interp *in, uint64_t reg)
{
	int slot;

	if (reg == in->cie->ra_reg)
		return &in->st.ra;
	if (reg == in->b->fp_reg)
		return &in->st.fp;
	slot = in->b->x86 && reg <= 15 ? gs_cfi_saved_slot((unsigned int)reg) : -1;
	return slot >= 0 ? &in->st.saved[slot] : NULL;
}

static void set_rule(struct interp *in, uint64_t reg, uint8_t kind, int64_t off)
{
	struct rule *r = tracked(in, reg);

	if (r)
		*r = (struct rule){ .kind = kind, .off = off };
}

static void restore_rule(struct interp *in, uint64_t reg)
{
	struct rule *r = tracked(in, reg);

	if (!r || in->in_cie)
		return;
	if (r == &in->st.ra)
		*r = in->cie->init.ra;
	else if (r == &in->st.fp)
		*r = in->cie->init.fp;
	else
		*r = in->cie->init.saved[r - in->st.saved];
}

/* Moves the location to @to, emitting the row that held before. */
static int advance_to(struct interp *in, uint64_t to)
{
	int err;

	if (in->in_cie)
		return 0;
	if (to < in->loc)
		return -EINVAL;		/* a location may not go backwards */
	if (to > in->end)
		to = in->end;
	err = emit(in->b, &in->st, in->loc, to);
	in->loc = to;
	if (to == in->end)
		in->done = true;
	return err;
}

static int advance_by(struct interp *in, uint64_t delta)
{
	uint64_t d = delta * in->cie->code_align;

	if (in->cie->code_align && d / in->cie->code_align != delta)
		d = UINT64_MAX;
	if (d > UINT64_MAX - in->loc)
		return advance_to(in, UINT64_MAX);
	return advance_to(in, in->loc + d);
}

static bool skip_block(const uint8_t **p, const uint8_t *end)
{
	uint64_t len;

	if (!read_uleb(p, end, &len) || len > (uint64_t)(end - *p))
		return false;
	*p += len;
	return true;
}

/*
 * One instruction with an extended opcode (high 2 bits zero). Long because it is one
 * flat decode switch over DWARF 5 table 7.29 plus the GNU extensions; splitting it
 * would only scatter the operand decoding.
 */
static int interp_ext(struct interp *in, uint8_t op, const uint8_t **p, const uint8_t *end)
{
	int64_t daf = in->cie->data_align;
	uint64_t reg, u, v;
	int64_t s;

	switch (op) {
	case DW_CFA_nop:
		return 0;
	case DW_CFA_set_loc:
		if (!read_encoded(in->sec, p, end, in->cie->fde_enc, true, &u))
			return -EINVAL;
		return advance_to(in, u);
	case DW_CFA_advance_loc1:
	case DW_CFA_advance_loc2:
	case DW_CFA_advance_loc4:
		if (!read_fixed(in->sec, p, end, op == DW_CFA_advance_loc1 ? 1 :
				op == DW_CFA_advance_loc2 ? 2 : 4, &u))
			return -EINVAL;
		return advance_by(in, u);
	case DW_CFA_MIPS_advance_loc8:
		if (!read_fixed(in->sec, p, end, 8, &u))
			return -EINVAL;
		return advance_by(in, u);
	case DW_CFA_offset_extended:
	case DW_CFA_val_offset:
		if (!read_uleb(p, end, &reg) || !read_uleb(p, end, &u))
			return -EINVAL;
		set_rule(in, reg, op == DW_CFA_val_offset ? GS_CFI_VAL_OFFSET : GS_CFI_OFFSET,
			 factored((int64_t)(u & INT64_MAX), daf));
		return 0;
	case DW_CFA_offset_extended_sf:
	case DW_CFA_val_offset_sf:
		if (!read_uleb(p, end, &reg) || !read_sleb(p, end, &s))
			return -EINVAL;
		set_rule(in, reg, op == DW_CFA_val_offset_sf ? GS_CFI_VAL_OFFSET : GS_CFI_OFFSET,
			 factored(s, daf));
		return 0;
	case DW_CFA_GNU_negative_offset_extended:
		if (!read_uleb(p, end, &reg) || !read_uleb(p, end, &u))
			return -EINVAL;
		set_rule(in, reg, GS_CFI_OFFSET, -factored((int64_t)(u & INT64_MAX), daf));
		return 0;
	case DW_CFA_restore_extended:
		if (!read_uleb(p, end, &reg))
			return -EINVAL;
		restore_rule(in, reg);
		return 0;
	case DW_CFA_undefined:
	case DW_CFA_same_value:
		if (!read_uleb(p, end, &reg))
			return -EINVAL;
		set_rule(in, reg, op == DW_CFA_undefined ? GS_CFI_UNDEFINED : GS_CFI_SAME, 0);
		return 0;
	case DW_CFA_register:
		if (!read_uleb(p, end, &reg) || !read_uleb(p, end, &v))
			return -EINVAL;
		set_rule(in, reg, v <= INT32_MAX ? GS_CFI_REGISTER : GS_CFI_UNSUPPORTED,
			 (int64_t)v);
		return 0;
	case DW_CFA_remember_state:
		if (in->depth >= REMEMBER_DEPTH)
			return -EINVAL;
		in->stack[in->depth++] = in->st;
		return 0;
	case DW_CFA_restore_state:
		if (!in->depth)
			return -EINVAL;
		/* The CFA is part of the remembered state, as readelf and libdw treat it. */
		in->st = in->stack[--in->depth];
		return 0;
	case DW_CFA_def_cfa:
		if (!read_uleb(p, end, &reg) || !read_uleb(p, end, &u))
			return -EINVAL;
		in->st.cfa_kind = GS_CFI_CFA_REG;
		in->st.cfa_reg = reg;
		in->st.cfa_off = (int64_t)u;
		return 0;
	case DW_CFA_def_cfa_sf:
		if (!read_uleb(p, end, &reg) || !read_sleb(p, end, &s))
			return -EINVAL;
		in->st.cfa_kind = GS_CFI_CFA_REG;
		in->st.cfa_reg = reg;
		in->st.cfa_off = factored(s, daf);
		return 0;
	case DW_CFA_def_cfa_register:
		if (!read_uleb(p, end, &reg))
			return -EINVAL;
		in->st.cfa_kind = GS_CFI_CFA_REG;
		in->st.cfa_reg = reg;
		return 0;
	case DW_CFA_def_cfa_offset:
		if (!read_uleb(p, end, &u))
			return -EINVAL;
		in->st.cfa_off = (int64_t)u;
		return 0;
	case DW_CFA_def_cfa_offset_sf:
		if (!read_sleb(p, end, &s))
			return -EINVAL;
		in->st.cfa_off = factored(s, daf);
		return 0;
	case DW_CFA_def_cfa_expression:
		if (!skip_block(p, end))
			return -EINVAL;
		in->st.cfa_kind = GS_CFI_UNSUPPORTED;
		return 0;
	case DW_CFA_expression:
	case DW_CFA_val_expression:
		if (!read_uleb(p, end, &reg) || !skip_block(p, end))
			return -EINVAL;
		set_rule(in, reg, GS_CFI_UNSUPPORTED, 0);
		return 0;
	case DW_CFA_GNU_args_size:
		return read_uleb(p, end, &u) ? 0 : -EINVAL;
	case DW_CFA_GNU_window_save:	/* also AArch64 negate_ra_state: no operands */
		return 0;
	default:
		return -EINVAL;
	}
}

/*
 * Runs [p, end). Returns 0, -ENOMEM, or -EINVAL for an instruction that cannot be
 * decoded (the caller marks the rest of the FDE unsupported).
 */
static int interp_run(struct interp *in, const uint8_t *p, const uint8_t *end)
{
	int64_t daf = in->cie->data_align;
	uint64_t u;
	int err = 0;

	while (p < end && !in->done && !err) {
		uint8_t op = *p++;

		switch (op & 0xc0) {
		case DW_CFA_advance_loc:
			err = advance_by(in, op & 0x3f);
			break;
		case DW_CFA_offset:
			if (!read_uleb(&p, end, &u))
				return -EINVAL;
			set_rule(in, op & 0x3f, GS_CFI_OFFSET, factored((int64_t)(u & INT64_MAX), daf));
			break;
		case DW_CFA_restore:
			restore_rule(in, op & 0x3f);
			break;
		default:
			err = interp_ext(in, op, &p, end);
			break;
		}
	}
	return err;
}

/* ---- CIEs and FDEs ------------------------------------------------------------------ */

/* Reads the augmentation string and data of @c that FDE parsing needs. */
static void cie_parse_aug(const struct section *sec, const Dwarf_CIE *dc, struct cie *c)
{
	const char *aug = dc->augmentation ? dc->augmentation : "";
	const uint8_t *p = dc->augmentation_data;
	const uint8_t *end = p ? p + dc->augmentation_data_size : NULL;

	c->fde_enc = DW_EH_PE_absptr;
	c->usable = true;
	c->fde_aug_size = dc->fde_augmentation_data_size;
	if (aug[0] != 'z') {
		/* "" is the norm; "eh" (old gcc) is consumed by libdw; others: unknown. */
		c->usable = aug[0] == '\0' || !strcmp(aug, "eh");
		return;
	}
	c->aug_z = true;
	for (const char *a = aug + 1; *a; a++) {
		switch (*a) {
		case 'L':
			if (!p || p >= end)
				return;
			p++;
			break;
		case 'P':
			if (!p || p >= end)
				return;
			{
				uint8_t enc = *p++;

				if (!skip_encoded(sec, &p, end, enc))
					return;
			}
			break;
		case 'R':
			if (!p || p >= end) {
				c->usable = false;
				return;
			}
			c->fde_enc = *p++;
			break;
		case 'S':
		case 'B':
		case 'G':
			break;
		default:
			return;	/* unknown letter: the rest is sized by 'z', R already seen */
		}
	}
}

static int cie_add(struct section *sec, struct builder *b, Dwarf_Off off, const Dwarf_CIE *dc)
{
	struct interp in = { .b = b, .sec = sec, .in_cie = true };
	struct cie *c;
	int err;

	err = grow((void **)&sec->cies, &sec->cies_cap, sec->ncies + 1, sizeof(*sec->cies));
	if (err)
		return err;
	c = &sec->cies[sec->ncies];
	memset(c, 0, sizeof(*c));
	c->offset = off;
	c->insns = dc->initial_instructions;
	c->insns_end = dc->initial_instructions_end;
	c->code_align = dc->code_alignment_factor;
	c->data_align = dc->data_alignment_factor;
	c->ra_reg = dc->return_address_register;
	cie_parse_aug(sec, dc, c);
	/* ABI defaults: rbp callee-saved (same value), RA unknown until a rule says. */
	in.cie = c;
	in.st = (struct cfa_state){ .cfa_kind = GS_CFI_UNSUPPORTED,
				    .ra = { GS_CFI_UNDEFINED, 0 }, .fp = { GS_CFI_SAME, 0 } };
	for (int i = 0; i < GS_CFI_NSAVED; i++)	/* callee-saved: same value */
		in.st.saved[i] = (struct rule){ GS_CFI_SAME, 0 };
	if (interp_run(&in, c->insns, c->insns_end) == -ENOMEM)
		return -ENOMEM;
	c->init = in.st;
	sec->ncies++;
	return 0;
}

static const struct cie *cie_find(const struct section *sec, Dwarf_Off off)
{
	size_t lo = 0, hi = sec->ncies;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (sec->cies[mid].offset == off)
			return sec->cies[mid].usable ? &sec->cies[mid] : NULL;
		if (sec->cies[mid].offset < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Decodes one FDE's range and runs its instructions. Malformed FDEs are skipped. */
static int fde_run(struct section *sec, struct builder *b, const Dwarf_FDE *fde)
{
	const struct cie *cie = cie_find(sec, fde->CIE_pointer);
	const uint8_t *p = fde->start, *end = fde->end;
	struct interp in = { .b = b, .sec = sec };
	uint64_t start, range, aug;
	int err;

	if (!cie || !read_encoded(sec, &p, end, cie->fde_enc, true, &start) ||
	    !read_encoded(sec, &p, end, cie->fde_enc & 0x0f, false, &range))
		return 0;
	if (cie->aug_z) {
		if (!read_uleb(&p, end, &aug) || aug > (uint64_t)(end - p))
			return 0;
		p += aug;
	} else if (cie->fde_aug_size) {
		if (cie->fde_aug_size > (size_t)(end - p))
			return 0;
		p += cie->fde_aug_size;
	}
	if (range == 0 || start > UINT64_MAX - range || !pc_is_exec(b, start))
		return 0;	/* empty, wrapping, or a discarded function's leftover */
	in.cie = cie;
	in.st = cie->init;
	in.loc = start;
	in.end = start + range;
	err = interp_run(&in, p, end);
	if (err == -ENOMEM)
		return err;
	if (err) {
		/* Undecodable from here on: say so rather than guess. */
		in.st.cfa_kind = GS_CFI_UNSUPPORTED;
		in.done = false;
	}
	if (!in.done)
		return emit(b, &in.st, in.loc, in.end);
	return 0;
}

/* Both passes over one CFI section; FDE pieces are appended to b->pieces. */
static int section_run(struct builder *b, Elf *elf, Elf_Scn *scn, bool eh)
{
	struct section sec = { .eh = eh, .ident = (const unsigned char *)elf_getident(elf, NULL) };
	Dwarf_Off off, next;
	Dwarf_CFI_Entry ent;
	GElf_Shdr shdr;
	int err = 0, pass, r;

	if (!sec.ident || !gelf_getshdr(scn, &shdr) || shdr.sh_type == SHT_NOBITS)
		return 0;
	if ((shdr.sh_flags & SHF_COMPRESSED) && elf_compress(scn, 0, 0) < 0)
		return 0;
	sec.data = elf_getdata(scn, NULL);
	if (!sec.data || !sec.data->d_buf || !sec.data->d_size)
		return 0;
	sec.addr = shdr.sh_addr;
	sec.addr_size = sec.ident[EI_CLASS] == ELFCLASS32 ? 4 : 8;
	for (pass = 0; pass < 2 && !err; pass++) {
		for (off = 0; off < sec.data->d_size && !err; off = next) {
			r = dwarf_next_cfi(sec.ident, sec.data, eh, off, &next, &ent);
			if (r != 0 || next <= off)
				break;	/* end, or malformed: keep what we have */
			if (ent.CIE_id == LIBDW_CIE_ID) {
				if (pass == 0)
					err = cie_add(&sec, b, off, &ent.cie);
			} else if (pass == 1) {
				err = fde_run(&sec, b, &ent.fde);
			}
		}
	}
	free(sec.cies);
	return err;
}

/* ---- assembling the table ----------------------------------------------------------- */

static int piece_cmp(const void *a, const void *b)
{
	const struct piece *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	return x->row < y->row ? -1 : x->row > y->row;	/* deterministic for duplicates */
}

/*
 * Sorts @n pieces and clips overlaps (only malformed or duplicate FDEs overlap) so that
 * the piece starting first wins; returns the new count.
 */
static size_t pieces_normalize(struct piece *pc, size_t n)
{
	size_t out = 0;

	if (!n)
		return 0;
	gs_qsort(pc, n, sizeof(*pc), piece_cmp);
	for (size_t i = 0; i < n; i++) {
		struct piece p = pc[i];

		if (out && p.lo < pc[out - 1].hi)
			p.lo = pc[out - 1].hi;
		if (p.lo >= p.hi)
			continue;
		pc[out++] = p;
	}
	return out;
}

/*
 * Adds the parts of .debug_frame pieces [first, npieces) that no .eh_frame piece
 * [0, first) covers; the eh pieces are sorted and disjoint.
 */
static int pieces_fill_gaps(struct builder *b, size_t first)
{
	size_t neh = first, ndf = b->npieces - first;
	struct piece *df = malloc(ndf * sizeof(*df) + 1);
	int err = 0;

	if (!df)
		return -ENOMEM;
	memcpy(df, b->pieces + first, ndf * sizeof(*df));
	b->npieces = neh;
	for (size_t i = 0; i < ndf && !err; i++) {
		uint64_t lo = df[i].lo, hi = df[i].hi;
		size_t k = 0, l = 0, r = neh;

		while (l < r) {		/* first eh piece ending after lo */
			size_t m = l + (r - l) / 2;

			if (b->pieces[m].hi <= lo)
				l = m + 1;
			else
				r = m;
		}
		for (k = l; lo < hi && !err; k++) {
			uint64_t cut = k < neh && b->pieces[k].lo < hi ? b->pieces[k].lo : hi;

			if (cut > lo) {
				err = grow((void **)&b->pieces, &b->pieces_cap, b->npieces + 1,
					   sizeof(*b->pieces));
				if (!err)
					b->pieces[b->npieces++] =
						(struct piece){ lo, cut, df[i].row };
			}
			if (k >= neh || b->pieces[k].lo >= hi)
				break;
			if (b->pieces[k].hi > lo)
				lo = b->pieces[k].hi;
		}
	}
	free(df);
	return err;
}

static int entries_build(struct builder *b, struct gs_cfi_entry **ents_ret, size_t *nents_ret)
{
	struct gs_cfi_entry *ents;
	size_t n = 0;
	uint64_t last_hi = 0;

	ents = calloc(b->npieces * 2 + 1, sizeof(*ents));
	if (!ents)
		return -ENOMEM;
	for (size_t i = 0; i < b->npieces; i++) {
		const struct piece *p = &b->pieces[i];

		if (n && last_hi < p->lo)
			ents[n++] = (struct gs_cfi_entry){ .pc = last_hi, .row = UINT32_MAX };
		if (!n || ents[n - 1].row != p->row)
			ents[n++] = (struct gs_cfi_entry){ .pc = p->lo, .row = p->row };
		last_hi = p->hi;
	}
	if (n)
		ents[n++] = (struct gs_cfi_entry){ .pc = last_hi, .row = UINT32_MAX };
	*ents_ret = ents;
	*nents_ret = n;
	return 0;
}

/* The executable PT_LOAD ranges of @elf, to drop FDEs of discarded code. */
static int exec_ranges(struct builder *b, Elf *elf)
{
	size_t phnum;
	GElf_Phdr ph;

	if (elf_getphdrnum(elf, &phnum) || !phnum)
		return 0;
	b->exec = calloc(phnum, sizeof(*b->exec));
	if (!b->exec)
		return -ENOMEM;
	for (size_t i = 0; i < phnum; i++) {
		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD && (ph.p_flags & PF_X) &&
		    ph.p_vaddr <= UINT64_MAX - ph.p_memsz)
			b->exec[b->nexec++] = (struct gs_range){ ph.p_vaddr, ph.p_vaddr + ph.p_memsz };
	}
	return 0;
}

static Elf_Scn *cfi_section(Elf *elf, const char *name)
{
	Elf_Scn *scn = elf ? gs_elf_section_by_name(elf, name) : NULL;
	GElf_Shdr shdr;

	if (!scn || !gelf_getshdr(scn, &shdr) || shdr.sh_type == SHT_NOBITS)
		return NULL;
	return scn;
}

/*
 * One of the two tables from the interned rows: @ents (of the builder's rows) projected
 * on the BPF row (@saved_part false) or on the other callee-saved registers' rules,
 * re-interned in @pb, adjacent equal entries merged. *@ents_ret (malloc'd) and @pb's
 * rows are the result.
 */
static int project(const struct builder *b, const struct gs_cfi_entry *ents, size_t nents,
		   bool saved_part, struct builder *pb, struct gs_cfi_entry **ents_ret,
		   size_t *nents_ret)
{
	struct gs_cfi_entry *out = malloc((nents ? nents : 1) * sizeof(*out));
	size_t n = 0;
	int err = 0;

	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < nents && !err; i++) {
		uint32_t row = UINT32_MAX;

		if (ents[i].row != UINT32_MAX) {
			struct xrow x;

			memset(&x, 0, sizeof(x));
			if (saved_part)
				x.saved = b->rows[ents[i].row].saved;
			else
				x.row = b->rows[ents[i].row].row;
			err = row_intern(pb, &x, &row);
		}
		if (!err && (!n || out[n - 1].row != row))
			out[n++] = (struct gs_cfi_entry){ .pc = ents[i].pc, .row = row };
	}
	if (err) {
		free(out);
		return err;
	}
	*ents_ret = out;
	*nents_ret = n;
	return 0;
}

int gs_cfi_build(Elf *elf, Elf *debug_elf, struct gs_cfi_row **rows_ret, size_t *nrows_ret,
		 struct gs_cfi_entry **ents_ret, size_t *nents_ret)
{
	return gs_cfi_build_all(elf, debug_elf, rows_ret, nrows_ret, ents_ret, nents_ret, NULL);
}

int gs_cfi_build_all(Elf *elf, Elf *debug_elf, struct gs_cfi_row **rows_ret, size_t *nrows_ret,
		     struct gs_cfi_entry **ents_ret, size_t *nents_ret,
		     struct gs_cfi_saved_table *saved)
{
	struct builder b = { 0 }, rb = { 0 }, sb = { 0 };
	struct gs_cfi_entry *ents = NULL, *rents = NULL, *sents = NULL;
	struct gs_cfi_row *rows = NULL;
	struct gs_cfi_saved *srows = NULL;
	size_t nents = 0, nrents = 0, nsents = 0, neh;
	Elf *df_elf = debug_elf;
	Elf_Scn *scn;
	GElf_Ehdr eh;
	int err;

	*rows_ret = NULL;
	*ents_ret = NULL;
	*nrows_ret = *nents_ret = 0;
	if (saved)
		memset(saved, 0, sizeof(*saved));
	b.fp_reg = gelf_getehdr(elf, &eh) && eh.e_machine == EM_AARCH64 ? 29 : 6;
	b.x86 = saved && eh.e_machine == EM_X86_64;
	err = exec_ranges(&b, elf);
	if (err)
		goto out;
	scn = cfi_section(elf, ".eh_frame");
	if (scn) {
		err = section_run(&b, elf, scn, true);
		if (err)
			goto out;
	}
	neh = b.npieces = pieces_normalize(b.pieces, b.npieces);
	scn = cfi_section(df_elf, ".debug_frame");
	if (!scn) {
		df_elf = elf;
		scn = cfi_section(elf, ".debug_frame");
	}
	if (scn) {
		b.merge_floor = neh;
		err = section_run(&b, df_elf, scn, false);
		if (!err && b.npieces > neh)
			err = pieces_fill_gaps(&b, neh);
		if (err)
			goto out;
		b.npieces = pieces_normalize(b.pieces, b.npieces);
	}
	err = entries_build(&b, &ents, &nents);
	if (!err && nents)
		err = project(&b, ents, nents, false, &rb, &rents, &nrents);
	if (!err && nents && b.x86)
		err = project(&b, ents, nents, true, &sb, &sents, &nsents);
	if (err)
		goto out;
	/* the interned rows become the stored ones */
	rows = rb.nrows ? malloc(rb.nrows * sizeof(*rows)) : NULL;
	srows = sb.nrows ? malloc(sb.nrows * sizeof(*srows)) : NULL;
	if ((rb.nrows && !rows) || (sb.nrows && !srows)) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < rb.nrows; i++)
		rows[i] = rb.rows[i].row;
	for (size_t i = 0; i < sb.nrows; i++)
		srows[i] = sb.rows[i].saved;
	if (nrents) {
		*rows_ret = rows;
		*nrows_ret = rb.nrows;
		*ents_ret = rents;
		*nents_ret = nrents;
		rows = NULL;
		rents = NULL;
	}
	if (saved && nsents) {
		saved->rows = srows;
		saved->nrows = sb.nrows;
		saved->ents = sents;
		saved->nents = nsents;
		srows = NULL;
		sents = NULL;
	}
out:
	free(rows);
	free(srows);
	free(ents);
	free(rents);
	free(sents);
	free(b.rows);
	free(b.hash);
	free(b.pieces);
	free(b.exec);
	free(rb.rows);
	free(rb.hash);
	free(sb.rows);
	free(sb.hash);
	return err;
}

uint32_t gs_cfi_lookup(const struct gs_cfi_entry *ents, size_t nents, uint64_t pc)
{
	size_t lo = 0, hi = nents;

	while (lo < hi) {		/* first entry with pc > @pc */
		size_t mid = lo + (hi - lo) / 2;

		if (ents[mid].pc <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? ents[lo - 1].row : UINT32_MAX;
}

const char *gs_cfi_reg_name(unsigned int regno, char *buf, size_t len)
{
	static const char *const names[] = {
		"rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp",
		"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip",
	};

	if (regno < sizeof(names) / sizeof(names[0]))
		snprintf(buf, len, "%s", names[regno]);
	else
		snprintf(buf, len, "r%u", regno);
	return buf;
}

static void rule_str(uint8_t rule, int32_t off, char *buf, size_t len)
{
	switch (rule) {
	case GS_CFI_UNDEFINED: snprintf(buf, len, "u"); break;
	case GS_CFI_SAME: snprintf(buf, len, "s"); break;
	case GS_CFI_OFFSET: snprintf(buf, len, "c%+d", off); break;
	case GS_CFI_VAL_OFFSET: snprintf(buf, len, "v%+d", off); break;
	case GS_CFI_REGISTER: gs_cfi_reg_name((unsigned int)off, buf, len); break;
	default: snprintf(buf, len, "exp"); break;
	}
}

const char *gs_cfi_saved_str(const struct gs_cfi_saved *sv, char *buf, size_t len)
{
	static const char *const names[GS_CFI_NSAVED] = { "rbx", "r12", "r13", "r14", "r15" };
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < GS_CFI_NSAVED && used < len; i++) {
		char r[32];

		rule_str(sv->rule[i], sv->off[i], r, sizeof(r));
		used += (size_t)snprintf(buf + used, len - used, "%s%s=%s", i ? " " : "", names[i], r);
	}
	return buf;
}

const char *gs_cfi_row_str(const struct gs_cfi_row *row, char *buf, size_t len)
{
	char cfa[32], ra[32], fp[32];

	if (row->cfa_rule == GS_CFI_CFA_REG) {
		gs_cfi_reg_name(row->cfa_reg, cfa, sizeof(cfa));
		snprintf(cfa + strlen(cfa), sizeof(cfa) - strlen(cfa), "%+d", row->cfa_off);
	} else {
		snprintf(cfa, sizeof(cfa), "exp");
	}
	rule_str(row->ra_rule, row->ra_off, ra, sizeof(ra));
	rule_str(row->rbp_rule, row->rbp_off, fp, sizeof(fp));
	snprintf(buf, len, "cfa=%s ra=%s rbp=%s", cfa, ra, fp);
	return buf;
}

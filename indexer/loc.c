// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * DWARF locations into the index's op encoding (schema.h "expr" and "location").
 *
 * The tracer never sees libdw, so every operand that only makes sense with libdw at
 * hand is resolved here: DW_OP_addrx/constx become DW_OP_addr/constu with the value
 * from .debug_addr, DW_OP_entry_value carries its sub-expression inline (n1 = op
 * count), so does DW_OP_implicit_pointer with the location of the object it points at
 * (n1 = op count, n2 = its offset), DW_OP_implicit_value's bytes go to the expression's
 * blob, DW_OP_skip/bra get op indices, and the GNU spellings become the DWARF 5 ones.
 * Addresses get the debug file's bias so they are module vaddrs (DWARF 5 section 2.5
 * and 2.6).
 */
#include <dwarf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "indexer/internal.h"

#ifndef DW_OP_GNU_variable_value
#define DW_OP_GNU_variable_value 0xfd
#endif

/* Converted ops: most expressions are a few ops, so the first 16 live on the stack. */
struct ops {
	struct gs_op *v;
	size_t n, cap;
	struct gs_op small[16];
	struct gs_enc blob;
	unsigned int what;
};

static int push(struct ops *o, uint8_t atom, uint64_t n1, uint64_t n2)
{
	struct gs_op *op;

	if (o->n == o->cap) {
		size_t ncap = o->cap * 2;
		struct gs_op *nv = o->v == o->small ? malloc(ncap * sizeof(*nv))
						    : realloc(o->v, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		if (o->v == o->small)
			memcpy(nv, o->small, sizeof(o->small));
		o->v = nv;
		o->cap = ncap;
	}
	op = &o->v[o->n++];
	op->atom = atom;
	op->n1 = n1;
	op->n2 = n2;
	return 0;
}

static uint8_t dwarf5_atom(uint8_t atom)
{
	switch (atom) {
	case DW_OP_GNU_push_tls_address: return DW_OP_form_tls_address;
	case DW_OP_GNU_entry_value: return DW_OP_entry_value;
	case DW_OP_GNU_implicit_pointer: return DW_OP_implicit_pointer;
	case DW_OP_GNU_regval_type: return DW_OP_regval_type;
	case DW_OP_GNU_deref_type: return DW_OP_deref_type;
	case DW_OP_GNU_convert: return DW_OP_convert;
	case DW_OP_GNU_reinterpret: return DW_OP_reinterpret;
	case DW_OP_GNU_const_type: return DW_OP_const_type;
	default: return atom;
	}
}

static int convert(struct ix_model *m, Dwarf_Attribute *attr, const Dwarf_Op *ops, size_t n,
		   struct ops *o, int depth);

static bool single_expr_form(Dwarf_Attribute *attr)
{
	switch (dwarf_whatform(attr)) {
	case DW_FORM_exprloc:
	case DW_FORM_block:
	case DW_FORM_block1:
	case DW_FORM_block2:
	case DW_FORM_block4:
		return true;
	default:
		return false;
	}
}

/*
 * The bytes of a DW_AT_const_value whose form has them: a block, or a string with its
 * NUL (an unreadable one is empty). False for an integer form.
 */
static bool const_bytes(Dwarf_Attribute *a, const void **p, size_t *len)
{
	Dwarf_Block blk;
	const char *str;

	switch (dwarf_whatform(a)) {
	case DW_FORM_block:
	case DW_FORM_block1:
	case DW_FORM_block2:
	case DW_FORM_block4:
	case DW_FORM_data16:
		if (dwarf_formblock(a, &blk))
			blk = (Dwarf_Block){ 0, NULL };
		*p = blk.data;
		*len = blk.length;
		return true;
	case DW_FORM_string:
	case DW_FORM_strp:
	case DW_FORM_line_strp:
	case DW_FORM_strx:
	case DW_FORM_strx1:
	case DW_FORM_strx2:
	case DW_FORM_strx3:
	case DW_FORM_strx4:
		str = dwarf_formstring(a);
		if (!str)
			str = "";
		*p = str;
		*len = strlen(str) + 1;
		return true;
	default:
		return false;
	}
}

/* @len bytes at @p as one DW_OP_implicit_value op (its bytes to the blob). */
static int push_bytes(struct ops *o, const void *p, size_t len)
{
	size_t at = o->blob.len;

	if (len > (1u << 20))
		return -EINVAL;
	gs_enc_bytes(&o->blob, p, len);
	return push(o, DW_OP_implicit_value, len, at);
}

/*
 * The object a DW_OP_implicit_pointer points at, as the ops that follow it: its
 * DW_AT_const_value as an implicit value (a string literal, a constant struct), or the
 * ops of its single-expression DW_AT_location (gcc puts a literal's bytes in a
 * DW_TAG_dwarf_procedure's DW_OP_implicit_value). An object with a location list (a
 * variable split into registers) gets no ops: the tracer says "synthetic pointer".
 */
static int implicit_target(struct ix_model *m, Dwarf_Die *die, struct ops *o, int depth)
{
	Dwarf_Attribute a, ta;
	const void *bytes;
	Dwarf_Word u;
	Dwarf_Op *ops;
	Dwarf_Die t;
	uint8_t b[8];
	size_t n;
	int size;

	if (dwarf_attr_integrate(die, DW_AT_location, &a)) {
		if (!single_expr_form(&a) || dwarf_getlocation(&a, &ops, &n) || !n)
			return 0;
		return convert(m, &a, ops, n, o, depth + 1);
	}
	if (!dwarf_attr_integrate(die, DW_AT_const_value, &a))
		return 0;
	if (const_bytes(&a, &bytes, &n))
		return n ? push_bytes(o, bytes, n) : 0;
	/* an integer constant: as many bytes as its type has (little-endian) */
	size = dwarf_attr_integrate(die, DW_AT_type, &ta) && dwarf_formref_die(&ta, &t) ?
	       dwarf_bytesize(&t) : -1;
	if (size <= 0 || size > 8 || dwarf_formudata(&a, &u))
		return 0;
	for (int i = 0; i < size; i++)
		b[i] = (uint8_t)(u >> (8 * i));
	return push_bytes(o, b, (size_t)size);
}

static size_t find_op(const Dwarf_Op *ops, size_t n, uint64_t byte_off, const size_t *out_idx,
		      size_t end_idx)
{
	for (size_t j = 0; j < n; j++)
		if (ops[j].offset == byte_off)
			return out_idx[j];
	return end_idx;
}

static int convert_one(struct ix_model *m, Dwarf_Attribute *attr, const Dwarf_Op *op,
		       struct ops *o, int depth)
{
	uint8_t atom = dwarf5_atom(op->atom);
	Dwarf_Attribute res;
	Dwarf_Addr addr;
	Dwarf_Op *sub;
	size_t nsub, at;
	int ret;

	switch (op->atom) {
	case DW_OP_addr:
		o->what |= IX_LOC_ADDR;
		return push(o, DW_OP_addr, op->number + m->bias, 0);
	case DW_OP_addrx:
	case DW_OP_GNU_addr_index:
	case DW_OP_constx:
	case DW_OP_GNU_const_index:
		if (dwarf_getlocation_attr(attr, op, &res) || dwarf_formaddr(&res, &addr))
			return push(o, op->atom, op->number, 0);	/* tracer rejects */
		if (op->atom == DW_OP_addrx || op->atom == DW_OP_GNU_addr_index) {
			o->what |= IX_LOC_ADDR;
			return push(o, DW_OP_addr, addr + m->bias, 0);
		}
		return push(o, DW_OP_constu, addr, 0);
	case DW_OP_entry_value:
	case DW_OP_GNU_entry_value:
		if (depth > 4 || dwarf_getlocation_attr(attr, op, &res) ||
		    dwarf_getlocation(&res, &sub, &nsub))
			return push(o, DW_OP_entry_value, 0, 0);
		at = o->n;
		ret = push(o, DW_OP_entry_value, 0, 0);
		if (!ret)
			ret = convert(m, &res, sub, nsub, o, depth + 1);
		if (!ret)
			o->v[at].n1 = o->n - at - 1;
		return ret;
	case DW_OP_implicit_value: {
		Dwarf_Block blk;

		/* libdw's number2 points at the block's length, not its bytes */
		if (dwarf_getlocation_implicit_value(attr, op, &blk))
			return push(o, DW_OP_implicit_value, 0, 0);
		return push_bytes(o, blk.data, blk.length);
	}
	case DW_OP_implicit_pointer:
	case DW_OP_GNU_implicit_pointer: {
		Dwarf_Die target;

		/* n1 = how many ops after it describe the target, n2 = the byte offset */
		at = o->n;
		ret = push(o, DW_OP_implicit_pointer, 0, op->number2);
		if (!ret && depth <= 4 && dwarf_getlocation_die(attr, op, &target) == 0)
			ret = implicit_target(m, &target, o, depth);
		if (!ret)
			o->v[at].n1 = o->n - at - 1;
		return ret;
	}
	case DW_OP_const_type:
	case DW_OP_GNU_const_type: {
		const uint8_t *blk = (const uint8_t *)(uintptr_t)op->number2;

		at = o->blob.len;
		if (blk)
			gs_enc_bytes(&o->blob, blk, 1 + blk[0]);
		return push(o, atom, op->number, at);
	}
	case DW_OP_form_tls_address:
	case DW_OP_GNU_push_tls_address:
		o->what |= IX_LOC_TLS;
		return push(o, DW_OP_form_tls_address, 0, 0);
	default:
		return push(o, atom, op->number, op->number2);
	}
}

static int convert(struct ix_model *m, Dwarf_Attribute *attr, const Dwarf_Op *ops, size_t n,
		   struct ops *o, int depth)
{
	size_t small[32], *out_idx = small;
	int ret = 0;

	if (!n)
		return 0;
	if (n > 32) {
		out_idx = calloc(n, sizeof(*out_idx));
		if (!out_idx)
			return -ENOMEM;
	}
	for (size_t i = 0; i < n && !ret; i++) {
		out_idx[i] = o->n;
		ret = convert_one(m, attr, &ops[i], o, depth);
	}
	/* Branch operands: a byte offset in DWARF, an op index in the index. */
	for (size_t i = 0; i < n && !ret; i++) {
		if (ops[i].atom != DW_OP_skip && ops[i].atom != DW_OP_bra)
			continue;
		uint64_t rel = ops[i].offset + 3 + (int16_t)ops[i].number;
		size_t t = find_op(ops, n, rel, out_idx, SIZE_MAX);

		if (t == SIZE_MAX)	/* libdw may already give the target offset */
			t = find_op(ops, n, ops[i].number, out_idx, o->n);
		o->v[out_idx[i]].n1 = t;
		o->v[out_idx[i]].n2 = 0;
	}
	if (out_idx != small)
		free(out_idx);
	return ret;
}

/*
 * schema.h "expr": a lone DW_OP_regN is one byte (0x40 + N), a lone DW_OP_bregN with
 * offset 0 one byte (0x20 + N), with another offset a byte (0x60 + N) and the offset;
 * otherwise "u (nops << 1 | has blob)" whose first byte is never in 0x20..0x7f, ops
 * (u8 atom, gs_op_arity() x s operand), [u len, blob].
 */
static void enc_ops(struct gs_enc *out, struct ops *o)
{
	uint64_t head = (uint64_t)o->n << 1 | (o->blob.len != 0);

	if (o->n == 1 && !o->blob.len && o->v[0].atom >= DW_OP_reg0 && o->v[0].atom <= DW_OP_reg31) {
		gs_enc_u8(out, (uint8_t)(GS_EXPR_REG + o->v[0].atom - DW_OP_reg0));
		return;
	}
	if (o->n == 1 && !o->blob.len && o->v[0].atom >= DW_OP_breg0 &&
	    o->v[0].atom <= DW_OP_breg31 && o->v[0].n1 == 0) {
		gs_enc_u8(out, (uint8_t)(GS_EXPR_BREG0 + o->v[0].atom - DW_OP_breg0));
		return;
	}
	if (o->n == 1 && !o->blob.len && o->v[0].atom >= DW_OP_breg0 &&
	    o->v[0].atom <= DW_OP_breg31) {
		gs_enc_u8(out, (uint8_t)(GS_EXPR_BREG + o->v[0].atom - DW_OP_breg0));
		gs_enc_s(out, (int64_t)o->v[0].n1);
		return;
	}
	if (head >= GS_EXPR_BREG0 && head < 0x80) {	/* two bytes, to stay out of the way */
		gs_enc_u8(out, (uint8_t)(0x80 | head));
		gs_enc_u8(out, 0);
	} else {
		gs_enc_u(out, head);
	}
	for (size_t i = 0; i < o->n; i++) {
		int arity = gs_op_arity(o->v[i].atom);

		gs_enc_u8(out, o->v[i].atom);
		if (arity > 0)
			gs_enc_s(out, (int64_t)o->v[i].n1);
		if (arity > 1)
			gs_enc_s(out, (int64_t)o->v[i].n2);
	}
	if (o->blob.len) {
		gs_enc_u(out, o->blob.len);
		gs_enc_bytes(out, o->blob.buf, o->blob.len);
	}
}

/* One expression into @out ("expr" layout). */
static int enc_expr(struct ix_model *m, Dwarf_Attribute *attr, const Dwarf_Op *ops, size_t n,
		    struct gs_enc *out, unsigned int *what)
{
	struct ops o;
	int ret;

	o.v = o.small;
	o.n = 0;
	o.cap = sizeof(o.small) / sizeof(o.small[0]);
	o.what = 0;
	gs_enc_init(&o.blob);
	ret = convert(m, attr, ops, n, &o, 0);
	if (!ret) {
		enc_ops(out, &o);
		*what |= o.what;
	}
	if (o.v != o.small)
		free(o.v);
	gs_enc_deinit(&o.blob);
	return ret;
}

int ix_loc_attr(struct ix_model *m, Dwarf_Attribute *attr, struct gs_enc *out, unsigned int *what)
{
	Dwarf_Addr base, lo, hi;
	Dwarf_Op *ops;
	size_t n, cnt = 0;
	uint64_t prev = 0;
	ptrdiff_t off = 0;
	struct gs_enc ents;
	int ret = 0;

	if (!attr) {
		gs_enc_u8(out, GS_LOC_NONE);
		return 0;
	}
	if (single_expr_form(attr)) {
		if (dwarf_getlocation(attr, &ops, &n) || n == 0) {
			gs_enc_u8(out, GS_LOC_NONE);
			return 0;
		}
		gs_enc_u8(out, GS_LOC_EXPR);
		return enc_expr(m, attr, ops, n, out, what);
	}
	gs_enc_init(&ents);		/* the count goes first, as a varint */
	while ((off = dwarf_getlocations(attr, off, &base, &lo, &hi, &ops, &n)) > 0) {
		/*
		 * Keep empty ranges [x, x): gcc's location views put a variable's value on
		 * entry in one at the function's entry pc, and GDB (so the tracer) uses it.
		 */
		if (hi < lo || n == 0)
			continue;
		/* "u (hi - lo) << 1 | gap, [s lo - previous hi]": entries often touch; the
		 * first always has its lo (walk.c rebases it in scope trees) */
		gs_enc_u(&ents, (hi - lo) << 1 | (!cnt || lo + m->bias != prev));
		if (!cnt || lo + m->bias != prev)
			gs_enc_s(&ents, (int64_t)(lo + m->bias - prev));
		prev = hi + m->bias;
		ret = enc_expr(m, attr, ops, n, &ents, what);
		if (ret)
			goto out;
		cnt++;
	}
	if (!cnt) {			/* an empty list: optimized out everywhere */
		gs_enc_u8(out, GS_LOC_NONE);
	} else {
		gs_enc_u8(out, GS_LOC_LIST);
		gs_enc_u(out, cnt);
		gs_enc_bytes(out, ents.buf, ents.len);
	}
out:
	gs_enc_deinit(&ents);
	return ret;
}

static int enc_const(Dwarf_Attribute *a, struct gs_enc *out)
{
	const void *bytes;
	Dwarf_Sword s;
	Dwarf_Word u;
	size_t len;

	gs_enc_u8(out, GS_LOC_CONST);
	if (const_bytes(a, &bytes, &len)) {
		gs_enc_s(out, 0);
		gs_enc_u(out, len);
		gs_enc_bytes(out, bytes, len);
		return 0;
	}
	if (dwarf_whatform(a) == DW_FORM_sdata || dwarf_whatform(a) == DW_FORM_implicit_const) {
		if (dwarf_formsdata(a, &s))
			s = 0;
		gs_enc_s(out, s);
	} else {
		if (dwarf_formudata(a, &u))
			u = 0;
		gs_enc_s(out, (int64_t)u);
	}
	gs_enc_u(out, 0);
	return 0;
}

int ix_loc_var(struct ix_model *m, Dwarf_Die *die, struct gs_enc *out, unsigned int *what)
{
	Dwarf_Attribute a;

	/* integrate: a static local keeps its DW_OP_addr in the abstract instance only */
	if (dwarf_attr_integrate(die, DW_AT_location, &a))
		return ix_loc_attr(m, &a, out, what);
	if (dwarf_attr_integrate(die, DW_AT_const_value, &a))
		return enc_const(&a, out);
	gs_enc_u8(out, GS_LOC_NONE);
	return 0;
}

int ix_loc_expr_attr(struct ix_model *m, Dwarf_Attribute *attr, struct gs_enc *out)
{
	Dwarf_Op *ops;
	size_t n;
	unsigned int what = 0;

	if (!attr || dwarf_getlocation(attr, &ops, &n)) {
		gs_enc_u(out, 0);	/* no ops, no blob */
		return 0;
	}
	return enc_expr(m, attr, ops, n, out, &what);
}

bool ix_loc_static_addr(struct ix_model *m, Dwarf_Die *die, uint64_t *addr_ret)
{
	Dwarf_Attribute a, res;
	Dwarf_Op *ops;
	Dwarf_Addr addr;
	size_t n;

	if (!dwarf_attr_integrate(die, DW_AT_location, &a) || !single_expr_form(&a) ||
	    dwarf_getlocation(&a, &ops, &n) || n == 0)
		return false;
	if (ops[0].atom == DW_OP_addr) {
		*addr_ret = ops[0].number + m->bias;
		return n == 1;
	}
	if ((ops[0].atom == DW_OP_addrx || ops[0].atom == DW_OP_GNU_addr_index) &&
	    !dwarf_getlocation_attr(&a, &ops[0], &res) && !dwarf_formaddr(&res, &addr)) {
		*addr_ret = addr + m->bias;
		return n == 1;
	}
	return false;
}

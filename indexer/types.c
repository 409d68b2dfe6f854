// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The type graph, deduplicated across compile units by a structural hash.
 *
 * Every CU repeats the types of the headers it includes; nginx's 44,923 type DIEs are
 * about 1,650 distinct types. A type's hash covers its tag, name, size, encoding and
 * declaration flag and, recursively, the hashes of the types it is made of, so two
 * same-named structs with different members stay apart. Cycles only go through
 * pointers (a struct cannot contain itself) and a cycle must come back through a name,
 * so a pointer-like edge to a name (a named struct/union/class/enum or a typedef,
 * maybe through qualifiers) hashes the qualifiers and the target's tag and name only
 * ("shallow"): that breaks every cycle without a visited set, makes the hash of a DIE
 * the same wherever the recursion started (the second thread of ahead.c relies on
 * it), and lets "struct foo *" in a CU that only declares foo merge with the one in
 * the CU that defines it. A depth cap guards against hostile DWARF with anonymous
 * cycles.
 *
 * Ids are given in first-seen order and the record is encoded at once, its referenced
 * types first being given ids (recursion), with the DIE -> id memo set before the
 * recursion so a pointer back to the type in progress finds it. At the end, targets
 * that are declarations are pointed at the one complete definition of that name, when
 * there is exactly one, so the tracer can follow an opaque pointer.
 *
 * Rejected: hashing by name only (conflicting definitions in different CUs are common
 * in C programs: two files each with their own "struct state"), and a full graph
 * isomorphism pass (correct for cycles too, but costs a second walk of every type).
 */
#include <dwarf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "indexer/internal.h"

enum ref_mode { REF_FULL, REF_SHALLOW_NAMED, REF_SHALLOW_DECL };

/* Hash memo: @own is written, @pre (the CU's hashes from the second thread) is read. */
struct memo {
	struct ix_map *own;
	const struct ix_map *pre;
};

static uint64_t hash_die(struct memo *m, Dwarf_Die *die, int depth);

static bool type_ref(Dwarf_Die *die, unsigned int at, Dwarf_Die *ret)
{
	return dw_die_ref(die, at, ret);
}

static bool is_aggregate_tag(int tag)
{
	return tag == DW_TAG_structure_type || tag == DW_TAG_class_type ||
	       tag == DW_TAG_union_type || tag == DW_TAG_enumeration_type;
}

static uint64_t shallow(Dwarf_Die *die)
{
	const char *name = dwarf_diename(die);
	uint64_t v[2] = { (uint64_t)dwarf_tag(die), name ? gs_name_hash(name) : 0 };

	return XXH3_64bits(v, sizeof(v));
}

/* Type DIEs have no abstract origins: a plain lookup, not dw_die_udata's integrate. */
static bool udata(Dwarf_Die *die, unsigned int at, Dwarf_Word *w)
{
	Dwarf_Attribute a;

	return dwarf_attr(die, at, &a) && dwarf_formudata(&a, w) == 0;
}

/*
 * The bytes a hash covers, gathered in a buffer and hashed at once (the streaming
 * state is only set up for the rare type that overflows it): XXH3 gives the same
 * digest either way.
 */
struct hasher {
	XXH3_state_t *st;	/* NULL until the buffer first fills */
	size_t len;
	uint8_t buf[1024];
};

static void h_bytes(struct hasher *h, const void *p, size_t n)
{
	if (h->len + n > sizeof(h->buf)) {
		if (!h->st) {
			h->st = XXH3_createState();
			if (!h->st)
				abort();	/* a few hundred bytes: nothing else would work */
			XXH3_64bits_reset(h->st);
		}
		XXH3_64bits_update(h->st, h->buf, h->len);
		h->len = 0;
		if (n > sizeof(h->buf)) {
			XXH3_64bits_update(h->st, p, n);
			return;
		}
	}
	memcpy(h->buf + h->len, p, n);
	h->len += n;
}

static void h_u(struct hasher *h, uint64_t v)
{
	h_bytes(h, &v, sizeof(v));
}

static void h_s(struct hasher *h, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	h_u(h, s ? n + 1 : 0);
	if (s)
		h_bytes(h, s, n);
}

static uint64_t h_digest(struct hasher *h)
{
	uint64_t v;

	if (!h->st)
		return XXH3_64bits(h->buf, h->len);
	XXH3_64bits_update(h->st, h->buf, h->len);
	v = XXH3_64bits_digest(h->st);
	XXH3_freeState(h->st);
	return v;
}

/*
 * The attributes the hash reads, collected in one pass over the DIE (each dwarf_attr
 * call would scan the abbreviation again; type DIEs are most of a CU).
 */
enum { A_NAME, A_BYTE_SIZE, A_ENCODING, A_DECL, A_TYPE, A_DATA_BIT_OFFSET, A_MEMBER_LOC,
       A_BIT_OFFSET, A_BIT_SIZE, A_CONST_VALUE, A_INDIRECT, A_COUNT };

struct attrs {
	uint32_t have;
	Dwarf_Attribute a[A_COUNT];
};

static int collect_cb(Dwarf_Attribute *attr, void *arg)
{
	struct attrs *at = arg;
	int slot;

	switch (dwarf_whatattr(attr)) {
	case DW_AT_name: slot = A_NAME; break;
	case DW_AT_byte_size: slot = A_BYTE_SIZE; break;
	case DW_AT_encoding: slot = A_ENCODING; break;
	case DW_AT_declaration: slot = A_DECL; break;
	case DW_AT_type: slot = A_TYPE; break;
	case DW_AT_data_bit_offset: slot = A_DATA_BIT_OFFSET; break;
	case DW_AT_data_member_location: slot = A_MEMBER_LOC; break;
	case DW_AT_bit_offset: slot = A_BIT_OFFSET; break;
	case DW_AT_bit_size: slot = A_BIT_SIZE; break;
	case DW_AT_const_value: slot = A_CONST_VALUE; break;
	case DW_AT_specification:
	case DW_AT_abstract_origin: slot = A_INDIRECT; break;
	default: return DWARF_CB_OK;
	}
	if (!(at->have & (1u << slot))) {	/* the first one, as dwarf_attr finds */
		at->a[slot] = *attr;
		at->have |= 1u << slot;
	}
	return DWARF_CB_OK;
}

static void collect(Dwarf_Die *die, struct attrs *at)
{
	at->have = 0;
	dwarf_getattrs(die, collect_cb, at, 0);
}

static bool at_udata(struct attrs *at, int slot, Dwarf_Word *w)
{
	return (at->have & (1u << slot)) && dwarf_formudata(&at->a[slot], w) == 0;
}

/* dwarf_diename: DW_AT_name, else through specification / abstract origin. */
static const char *at_name(struct attrs *at, Dwarf_Die *die)
{
	if (at->have & (1u << A_NAME))
		return dwarf_formstring(&at->a[A_NAME]);
	return (at->have & (1u << A_INDIRECT)) ? dwarf_diename(die) : NULL;
}

static bool is_qualifier_tag(int tag)
{
	return tag == DW_TAG_const_type || tag == DW_TAG_volatile_type ||
	       tag == DW_TAG_restrict_type || tag == DW_TAG_atomic_type;
}

static uint64_t hash_ref(struct memo *m, struct attrs *at, int depth, enum ref_mode mode)
{
	Dwarf_Die t, q;
	uint64_t v[5];
	int nq = 0, tag;

	if (!(at->have & (1u << A_TYPE)) || !dwarf_formref_die(&at->a[A_TYPE], &t))
		return 0x766f6964;	/* void */
	if (mode == REF_FULL)
		return hash_die(m, &t, depth + 1);
	/*
	 * A pointer to a name (a named struct, union, class or enum, or a typedef), maybe
	 * through qualifiers, hashes the qualifiers and the name only: every cycle goes
	 * through such an edge, so the hash never depends on where the recursion started.
	 */
	tag = dwarf_tag(&t);
	q = t;
	while (mode == REF_SHALLOW_NAMED && is_qualifier_tag(tag) && nq < 4) {
		Dwarf_Attribute a;

		v[nq++] = (uint64_t)tag;
		if (!dwarf_attr(&q, DW_AT_type, &a) || !dwarf_formref_die(&a, &q))
			return hash_die(m, &t, depth + 1);	/* a qualified void */
		tag = dwarf_tag(&q);
	}
	if (dwarf_diename(&q) &&
	    ((is_aggregate_tag(tag) &&
	      (mode == REF_SHALLOW_NAMED || dwarf_hasattr(&q, DW_AT_declaration))) ||
	     (tag == DW_TAG_typedef && mode == REF_SHALLOW_NAMED))) {
		if (!nq)
			return shallow(&q);
		v[nq++] = shallow(&q);
		return XXH3_64bits(v, nq * sizeof(v[0]));
	}
	return hash_die(m, &t, depth + 1);
}

/* Bit offset of a member from the start of its struct (DWARF 5 section 5.7.6). */
static uint64_t member_bit_offset_at(struct attrs *at)
{
	Dwarf_Word w, bit_size = 0, storage = 0, bit_off;
	uint64_t bits = 0;

	if ((at->have & (1u << A_DATA_BIT_OFFSET)) &&
	    !dwarf_formudata(&at->a[A_DATA_BIT_OFFSET], &w))
		return w;
	if (at->have & (1u << A_MEMBER_LOC)) {
		Dwarf_Attribute *a = &at->a[A_MEMBER_LOC];
		Dwarf_Op *ops;
		size_t n;

		if (!dwarf_formudata(a, &w))
			bits = w * 8;
		else if (!dwarf_getlocation(a, &ops, &n) && n == 1 &&
			 ops[0].atom == DW_OP_plus_uconst)
			bits = ops[0].number * 8;
	}
	/* DWARF 2/3 bit fields count from the storage unit's most significant bit. */
	if ((at->have & (1u << A_BIT_OFFSET)) && !dwarf_formudata(&at->a[A_BIT_OFFSET], &bit_off) &&
	    at_udata(at, A_BIT_SIZE, &bit_size)) {
		if (!at_udata(at, A_BYTE_SIZE, &storage)) {
			Dwarf_Die t;

			if (!(at->have & (1u << A_TYPE)) || !dwarf_formref_die(&at->a[A_TYPE], &t) ||
			    dwarf_aggregate_size(&t, &storage))
				storage = 4;
		}
		if (storage * 8 >= bit_off + bit_size)
			bits += storage * 8 - bit_off - bit_size;
	}
	return bits;
}

static uint64_t member_bit_offset(Dwarf_Die *mem)
{
	struct attrs at;

	collect(mem, &at);
	return member_bit_offset_at(&at);
}

static bool array_dim(Dwarf_Die *sub, uint64_t *dim)
{
	Dwarf_Attribute a;
	Dwarf_Word w, lb = 0;
	Dwarf_Sword s;

	*dim = 0;
	if (dwarf_attr(sub, DW_AT_count, &a))
		return !dwarf_formudata(&a, &w) ? (*dim = w, true) : true;
	if (!dwarf_attr(sub, DW_AT_upper_bound, &a))
		return true;
	if (dwarf_whatform(&a) == DW_FORM_sdata) {
		if (dwarf_formsdata(&a, &s) || s < 0)
			return true;
		w = (Dwarf_Word)s;
	} else if (dwarf_formudata(&a, &w)) {
		return true;	/* a VLA bound (a DIE reference) */
	}
	udata(sub, DW_AT_lower_bound, &lb);
	if (w != (Dwarf_Word)-1 && w >= lb)
		*dim = w - lb + 1;
	return true;
}

static uint64_t hash_die(struct memo *m, Dwarf_Die *die, int depth)
{
	uint64_t off = dwarf_dieoffset(die), h;
	int tag = dwarf_tag(die);
	struct hasher hs, *st = &hs;
	struct attrs at;
	Dwarf_Die child;
	Dwarf_Word w;

	if (ix_map_get(m->own, off, &h) || (m->pre && ix_map_get(m->pre, off, &h)))
		return h;
	if (depth > 48)
		return shallow(die);
	hs.st = NULL;
	hs.len = 0;
	collect(die, &at);
	h_u(st, tag);
	h_s(st, at_name(&at, die));
	h_u(st, at_udata(&at, A_BYTE_SIZE, &w) ? w : ~0ull);
	h_u(st, at_udata(&at, A_ENCODING, &w) ? w : ~0ull);
	h_u(st, (at.have >> A_DECL) & 1);
	switch (tag) {
	case DW_TAG_pointer_type:
	case DW_TAG_reference_type:
	case DW_TAG_rvalue_reference_type:
	case DW_TAG_ptr_to_member_type:
		h_u(st, hash_ref(m, &at, depth, REF_SHALLOW_NAMED));
		break;
	case DW_TAG_typedef:
		h_u(st, hash_ref(m, &at, depth, REF_SHALLOW_DECL));
		break;
	default:
		h_u(st, hash_ref(m, &at, depth, REF_FULL));
		break;
	}
	if (dwarf_haschildren(die) && dwarf_child(die, &child) == 0) {
		do {
			int ct = dwarf_tag(&child);
			uint64_t v;

			switch (ct) {
			case DW_TAG_member:
			case DW_TAG_inheritance:
				collect(&child, &at);
				if (at.have & (1u << A_DECL))
					break;	/* a static member */
				h_u(st, ct);
				h_s(st, at_name(&at, &child));
				h_u(st, member_bit_offset_at(&at));
				h_u(st, at_udata(&at, A_BIT_SIZE, &w) ? w : 0);
				h_u(st, hash_ref(m, &at, depth, REF_FULL));
				break;
			case DW_TAG_enumerator:
				collect(&child, &at);
				h_s(st, at_name(&at, &child));
				h_u(st, at_udata(&at, A_CONST_VALUE, &w) ? w : 0);
				break;
			case DW_TAG_subrange_type:
				array_dim(&child, &v);
				h_u(st, v + 1);
				break;
			case DW_TAG_formal_parameter:
				collect(&child, &at);
				h_u(st, hash_ref(m, &at, depth, REF_FULL));
				break;
			case DW_TAG_unspecified_parameters:
				h_u(st, 0x2e2e2e);
				break;
			default:
				break;
			}
		} while (dwarf_siblingof(&child, &child) == 0);
	}
	h = h_digest(st);
	ix_map_put(m->own, off, h);
	return h;
}

uint64_t ix_type_hash(struct ix_map *memo, const struct ix_map *pre, Dwarf_Die *die)
{
	struct memo m = { memo, pre };

	return hash_die(&m, die, 0);
}

static uint8_t kind_of(int tag)
{
	switch (tag) {
	case DW_TAG_base_type: return GS_TYPE_BASE;
	case DW_TAG_pointer_type: return GS_TYPE_POINTER;
	case DW_TAG_reference_type: return GS_TYPE_REFERENCE;
	case DW_TAG_rvalue_reference_type: return GS_TYPE_RVALUE_REF;
	case DW_TAG_structure_type: return GS_TYPE_STRUCT;
	case DW_TAG_class_type: return GS_TYPE_CLASS;
	case DW_TAG_union_type: return GS_TYPE_UNION;
	case DW_TAG_enumeration_type: return GS_TYPE_ENUM;
	case DW_TAG_array_type: return GS_TYPE_ARRAY;
	case DW_TAG_typedef: return GS_TYPE_TYPEDEF;
	case DW_TAG_const_type: return GS_TYPE_CONST;
	case DW_TAG_volatile_type: return GS_TYPE_VOLATILE;
	case DW_TAG_restrict_type: return GS_TYPE_RESTRICT;
	case DW_TAG_atomic_type: return GS_TYPE_ATOMIC;
	case DW_TAG_subroutine_type: return GS_TYPE_FUNC;
	case DW_TAG_ptr_to_member_type: return GS_TYPE_PTR_TO_MEMBER;
	default: return GS_TYPE_UNSPECIFIED;
	}
}

uint32_t ix_type_of(struct ix_model *m, Dwarf_Die *die)
{
	Dwarf_Attribute a;
	Dwarf_Die t;

	if (!dwarf_attr_integrate(die, DW_AT_type, &a) || !dwarf_formref_die(&a, &t))
		return 0;
	return ix_type_id(m, &t);
}

static int64_t enumerator_value(Dwarf_Die *e, bool is_signed)
{
	Dwarf_Attribute a;
	Dwarf_Word w = 0;
	Dwarf_Sword s;

	if (!dwarf_attr(e, DW_AT_const_value, &a))
		return 0;
	switch (dwarf_whatform(&a)) {
	case DW_FORM_sdata:
	case DW_FORM_implicit_const:
		return dwarf_formsdata(&a, &s) ? 0 : s;
	case DW_FORM_data1:
		dwarf_formudata(&a, &w);
		return is_signed ? (int8_t)w : (int64_t)(uint8_t)w;
	case DW_FORM_data2:
		dwarf_formudata(&a, &w);
		return is_signed ? (int16_t)w : (int64_t)(uint16_t)w;
	case DW_FORM_data4:
		dwarf_formudata(&a, &w);
		return is_signed ? (int32_t)w : (int64_t)(uint32_t)w;
	default:
		dwarf_formudata(&a, &w);
		return (int64_t)w;
	}
}

/* Members, enumerators, dims and params of @die into @rest; sets flags. */
static void encode_children(struct ix_model *m, Dwarf_Die *die, uint8_t kind, bool enum_signed,
			    struct gs_enc *rest, uint8_t *flags)
{
	struct gs_enc mem, en, dims, params;
	uint32_t nmem = 0, nen = 0, ndims = 0, nparams = 0;
	Dwarf_Die c;
	Dwarf_Word w;

	gs_enc_init(&mem);
	gs_enc_init(&en);
	gs_enc_init(&dims);
	gs_enc_init(&params);
	if (dwarf_child(die, &c) == 0) {
		do {
			int ct = dwarf_tag(&c);
			uint64_t d;

			if ((ct == DW_TAG_member || ct == DW_TAG_inheritance) &&
			    !dwarf_hasattr(&c, DW_AT_declaration) && kind != GS_TYPE_ENUM) {
				/* member and enumerator names repeat across types: string
				 * table references (the walk's thread, before ix_strs_finish) */
				if (ix_enc_sref(m, &mem, ct == DW_TAG_member ? dwarf_diename(&c) : NULL))
					break;
				gs_enc_u(&mem, ix_type_of(m, &c));
				gs_enc_u(&mem, member_bit_offset(&c));
				gs_enc_u(&mem, udata(&c, DW_AT_bit_size, &w) ? w : 0);
				nmem++;
			} else if (ct == DW_TAG_enumerator) {
				if (ix_enc_sref(m, &en, dwarf_diename(&c)))
					break;
				gs_enc_s(&en, enumerator_value(&c, enum_signed));
				nen++;
			} else if (ct == DW_TAG_subrange_type && kind == GS_TYPE_ARRAY) {
				array_dim(&c, &d);
				gs_enc_u(&dims, d);
				ndims++;
			} else if (ct == DW_TAG_formal_parameter && kind == GS_TYPE_FUNC) {
				gs_enc_u(&params, ix_type_of(m, &c));
				nparams++;
			} else if (ct == DW_TAG_unspecified_parameters) {
				*flags |= GS_TYPE_F_VARARGS;
			}
		} while (dwarf_siblingof(&c, &c) == 0);
	}
	gs_enc_u(rest, nmem);
	gs_enc_bytes(rest, mem.buf, mem.len);
	gs_enc_u(rest, nen);
	gs_enc_bytes(rest, en.buf, en.len);
	gs_enc_u(rest, ndims);
	gs_enc_bytes(rest, dims.buf, dims.len);
	gs_enc_u(rest, nparams);
	gs_enc_bytes(rest, params.buf, params.len);
	gs_enc_deinit(&mem);
	gs_enc_deinit(&en);
	gs_enc_deinit(&dims);
	gs_enc_deinit(&params);
}

/* C++ spells a class without its tag keyword and qualifies it with its scopes. */
static bool is_cxx_unit(Dwarf_Die *die)
{
	Dwarf_Die cu;

	if (!dwarf_diecu(die, &cu, NULL, NULL))
		return false;
	switch (dwarf_srclang(&cu)) {
	case DW_LANG_C_plus_plus:
	case DW_LANG_C_plus_plus_03:
	case DW_LANG_C_plus_plus_11:
	case DW_LANG_C_plus_plus_14:
		return true;
	default:
		return false;
	}
}

static void encode_type(struct ix_model *m, Dwarf_Die *die, uint32_t id)
{
	int tag = dwarf_tag(die);
	uint8_t kind = kind_of(tag), flags = 0, encoding = 0;
	Dwarf_Word size = 0, w;
	uint32_t target = 0;
	struct gs_enc rest;
	Dwarf_Die t;
	struct ix_type *ty;

	if (dwarf_hasattr(die, DW_AT_declaration))
		flags |= GS_TYPE_F_DECL;
	if (is_cxx_unit(die))
		flags |= GS_TYPE_F_CXX;
	if (udata(die, DW_AT_encoding, &w))
		encoding = (uint8_t)w;
	if (type_ref(die, DW_AT_type, &t)) {
		target = ix_type_id(m, &t);
		if (kind == GS_TYPE_ENUM && udata(&t, DW_AT_encoding, &w))
			encoding = (uint8_t)w;
	}
	if (kind == GS_TYPE_ENUM) {
		if (!encoding) {	/* DWARF < 3: no underlying type, guess from values */
			Dwarf_Die c;
			Dwarf_Attribute a;
			Dwarf_Sword s;

			encoding = DW_ATE_unsigned;
			if (dwarf_child(die, &c) == 0)
				do {
					if (dwarf_attr(&c, DW_AT_const_value, &a) &&
					    dwarf_whatform(&a) == DW_FORM_sdata &&
					    !dwarf_formsdata(&a, &s) && s < 0)
						encoding = DW_ATE_signed;
				} while (dwarf_siblingof(&c, &c) == 0);
		}
		if (encoding == DW_ATE_signed || encoding == DW_ATE_signed_char)
			flags |= GS_TYPE_F_SIGNED;
	}
	if (kind == GS_TYPE_POINTER || kind == GS_TYPE_REFERENCE || kind == GS_TYPE_RVALUE_REF) {
		if (!udata(die, DW_AT_byte_size, &size))
			size = 8;
	} else if (kind == GS_TYPE_FUNC) {
		size = 0;
	} else if (dwarf_aggregate_size(die, &size)) {
		size = 0;
	}
	gs_enc_init(&rest);
	encode_children(m, die, kind, flags & GS_TYPE_F_SIGNED, &rest, &flags);
	ty = &m->types[id - 1];	/* after the recursion: the array may have moved */
	ty->kind = kind;
	ty->encoding = encoding;
	ty->flags = flags;
	ty->name = dwarf_diename(die);
	ty->qual = NULL;
	ty->die = dwarf_dieoffset(die);
	ty->size = size;
	ty->target = target;
	ty->rest_off = m->type_data.len;
	ty->rest_len = rest.len;
	gs_enc_bytes(&m->type_data, rest.buf, rest.len);
	gs_enc_deinit(&rest);
}

uint32_t ix_type_id(struct ix_model *m, Dwarf_Die *die)
{
	uint64_t off = dwarf_dieoffset(die), h, id;
	struct ix_type *ty;

	if (ix_map_get(&m->type_by_die, off, &id))
		return (uint32_t)id;
	if (dwarf_tag(die) == DW_TAG_unspecified_type && dwarf_diename(die) &&
	    !strcmp(dwarf_diename(die), "void"))
		return 0;
	h = ix_type_hash(&m->hash_by_die, m->ahead ? &m->ahead->hashes : NULL, die);
	if (ix_map_get(&m->type_by_hash, h, &id)) {
		ix_map_put(&m->type_by_die, off, id);
		return (uint32_t)id;
	}
	ty = IX_PUSH(m->types, m->ntypes, m->captypes);
	if (!ty)
		return 0;
	memset(ty, 0, sizeof(*ty));
	ty->kind = GS_TYPE_UNSPECIFIED;
	id = m->ntypes;
	if (ix_map_put(&m->type_by_hash, h, id) || ix_map_put(&m->type_by_die, off, id))
		return 0;
	encode_type(m, die, (uint32_t)id);
	return (uint32_t)id;
}

/* Kind and (qualified) name as one key, for declaration -> definition. */
static uint64_t kind_name_key(const struct ix_type *t)
{
	return gs_name_hash(t->qual ? t->qual : t->name) * 31 + t->kind;
}

int ix_types_finish(struct ix_model *m)
{
	struct ix_map defs;
	struct gs_enc v;
	int ret = 0;

	ix_map_init(&defs);
	/* The walk has recorded the scopes of every type declared in a namespace or class. */
	for (size_t i = 0; i < m->ntypes; i++) {
		struct ix_type *t = &m->types[i];
		uint64_t q;

		if ((t->flags & GS_TYPE_F_CXX) && t->name && ix_map_get(&m->qual_by_die, t->die, &q) &&
		    strcmp(m->quals[q], t->name)) {
			t->qual = m->quals[q];
			t->flags |= GS_TYPE_F_QUAL;
		}
	}
	for (size_t i = 0; i < m->ntypes; i++) {
		const struct ix_type *t = &m->types[i];
		uint64_t k, prev;

		if (!t->name || (t->flags & GS_TYPE_F_DECL) ||
		    (t->kind != GS_TYPE_STRUCT && t->kind != GS_TYPE_CLASS &&
		     t->kind != GS_TYPE_UNION && t->kind != GS_TYPE_ENUM))
			continue;
		k = kind_name_key(t);
		/* Two different definitions of one name: ambiguous, leave the target be. */
		if (ix_map_put(&defs, k, ix_map_get(&defs, k, &prev) ? 0 : i + 1)) {
			ret = -ENOMEM;
			goto out;
		}
	}
	gs_enc_init(&v);
	for (size_t i = 0; i < m->ntypes && !ret; i++) {
		struct ix_type *t = &m->types[i];
		uint8_t key[4];

		if (t->target && t->target <= m->ntypes) {
			const struct ix_type *tt = &m->types[t->target - 1];
			uint64_t def;

			if ((tt->flags & GS_TYPE_F_DECL) && tt->name &&
			    ix_map_get(&defs, kind_name_key(tt), &def) && def)
				t->target = (uint32_t)def;
		}
		gs_enc_reset(&v);
		gs_enc_u8(&v, t->kind);
		gs_enc_u8(&v, t->encoding);
		gs_enc_u8(&v, t->flags);
		gs_enc_str(&v, t->name);
		if (t->flags & GS_TYPE_F_QUAL)
			gs_enc_str(&v, t->qual);
		gs_enc_u(&v, t->size);
		gs_enc_u(&v, t->target);
		gs_enc_bytes(&v, m->type_data.buf + t->rest_off, t->rest_len);
		gs_key_put32(key, (uint32_t)(i + 1));
		ret = ix_table_put(&m->tables[GS_DB_TYPE], key, 4, v.buf, v.len);
		if (!ret)
			ret = ix_table_put_name(&m->tables[GS_DB_TYPE_NAME], t->name,
						(uint32_t)(i + 1));
		if (!ret && t->qual)
			ret = ix_table_put_name(&m->tables[GS_DB_TYPE_NAME], t->qual,
						(uint32_t)(i + 1));
	}
	gs_enc_deinit(&v);
	if (!ret)
		ret = ix_table_seal(&m->tables[GS_DB_TYPE_NAME], IX_TABLE_NAMES);
out:
	ix_map_deinit(&defs);
	return ret;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The DWARF walk: what to index from each compile unit (the policy above dw.c).
 *
 * One pass over each CU's DIE tree, in order:
 * - namespaces and classes only contribute name prefixes: a C++ member function or
 *   static member is declared inside its class and defined at CU level with
 *   DW_AT_specification, so declarations record their qualified name by DIE offset
 *   and definitions look it up through specification/abstract_origin (libdw has no
 *   parent links, and the walk sees the class before the definition);
 * - a subprogram with pc ranges is an out-of-line body: a function record, its scope
 *   tree (blocks, inlined scopes, parameters and locals with their locations), its
 *   inline instances and its call sites;
 * - variables with a location at file or namespace scope are globals; statics inside
 *   functions are in the scope tree and in the globals too ("func::name");
 * - named types at CU level are indexed even when nothing uses them (casts).
 *
 * Clones (.constprop, .isra, .part) are concrete subprograms whose abstract origin
 * names the source function, so they are found by that name; a .cold part is a second
 * range of its function's body and its symbol becomes an alias of the function.
 */
#include <dwarf.h>
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "indexer/internal.h"
#include "shared/errors.h"
#include "shared/sort.h"

/*
 * A scope record's variable templates (schema.h "scope record"): name, type and
 * declaration once, so that the copies of a variable in each inlined instance cost a
 * template index. Reset per function.
 */
struct var_tmpl {
	uint64_t name;		/* string reference */
	uint32_t type, file, line;
};
struct rec_dict {
	struct ix_map tmpl_by_hash;
	struct var_tmpl *tmpls;
	size_t ntmpls, captmpls;
};

struct walk {
	struct ix_model *m;
	struct rec_dict dict;
	Dwarf_Die cu;
	const char *comp_dir;
	Dwarf_Files *files;
	size_t nfiles;
	uint32_t func_id;
	const char *func_qual;
	uint64_t scope_base;	/* first lo of the scope being encoded (0 at the root) */
	uint64_t loc_base;	/* the function's first lo: location lists start from it */
};

static int scope_vars(struct walk *w, Dwarf_Die *die, struct gs_enc *out, uint32_t *nv,
		      int depth);
static int scope_kids(struct walk *w, Dwarf_Die *die, struct gs_enc *out, uint32_t *nk,
		      int depth);

/* ---- names ------------------------------------------------------------------------- */

static char *join(const char *prefix, const char *name)
{
	char *s;

	if (!name)
		return NULL;
	if (!prefix || !*prefix)
		return strdup(name);
	if (asprintf(&s, "%s::%s", prefix, name) < 0)
		return NULL;
	return s;
}

static int qual_record(struct ix_model *m, Dwarf_Die *die, char *qual)
{
	char **slot;

	if (!qual)
		return -ENOMEM;
	slot = IX_PUSH(m->quals, m->nquals, m->capquals);
	if (!slot) {
		free(qual);
		return -ENOMEM;
	}
	*slot = qual;
	return ix_map_put(&m->qual_by_die, dwarf_dieoffset(die), m->nquals - 1);
}

/* The qualified name recorded for @die or the declaration it completes. */
/*
 * The qualified name of a definition whose declaration (DW_AT_specification) the walk
 * has not reached yet: clang emits `int ns::C::x = 1;` before class C. Built from the
 * declaration's enclosing namespaces and classes. malloc'd, or NULL.
 */
static char *qual_from_spec(Dwarf_Die *die, const char *name)
{
	Dwarf_Die spec, *scopes = NULL;
	char *qual = NULL;
	int n;

	if (!dw_die_ref(die, DW_AT_specification, &spec))
		return NULL;
	n = dwarf_getscopes_die(&spec, &scopes);
	for (int i = n - 1; i >= 1; i--) {	/* outermost first; [0] is spec itself */
		int tag = dwarf_tag(&scopes[i]);
		const char *sn = dw_die_name(&scopes[i]);
		char *next;

		if (tag != DW_TAG_namespace && tag != DW_TAG_class_type &&
		    tag != DW_TAG_structure_type && tag != DW_TAG_union_type)
			continue;
		next = join(qual, sn ? sn : "(anonymous namespace)");
		free(qual);
		qual = next;
		if (!qual)
			break;
	}
	free(scopes);
	if (!qual)
		return NULL;
	{
		char *full = join(qual, name);

		free(qual);
		return full;
	}
}

static const char *qual_lookup(struct ix_model *m, Dwarf_Die *die)
{
	Dwarf_Die cur = *die, next;
	uint64_t idx;

	for (int hop = 0; hop < 6; hop++) {
		if (ix_map_get(&m->qual_by_die, dwarf_dieoffset(&cur), &idx))
			return m->quals[idx];
		if (!dw_die_ref(&cur, DW_AT_specification, &next) &&
		    !dw_die_ref(&cur, DW_AT_abstract_origin, &next))
			return NULL;
		cur = next;
	}
	return NULL;
}

static uint32_t decl_file(struct walk *w, Dwarf_Die *die)
{
	return ix_file_id(w->m, dwarf_decl_file(die), w->comp_dir);
}

static uint32_t decl_line(Dwarf_Die *die)
{
	int line = 0;

	return dwarf_decl_line(die, &line) == 0 && line > 0 ? (uint32_t)line : 0;
}

static uint32_t call_file(struct walk *w, Dwarf_Die *die)
{
	uint64_t idx;

	if (!w->files || !dw_die_udata(die, DW_AT_call_file, &idx) || idx >= w->nfiles)
		return 0;
	return ix_file_id(w->m, dwarf_filesrc(w->files, idx, NULL, NULL), w->comp_dir);
}

/* ---- ELF symbols ------------------------------------------------------------------- */

static bool is_func_sym(const struct gs_symbol *s)
{
	return s->type == STT_FUNC || s->type == STT_GNU_IFUNC;
}

/* First index of a symbol with value >= @v (symbols are sorted by value). */
static size_t sym_lower(const struct ix_model *m, uint64_t v)
{
	size_t lo = 0, hi = m->nsyms;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->syms[mid].value < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The function symbol at @pc, preferring .symtab and a name starting with @name. */
static const char *sym_at(const struct ix_model *m, uint64_t pc, const char *name)
{
	const char *best = NULL;
	int best_score = -1;
	size_t nl = name ? strlen(name) : 0;

	for (size_t i = sym_lower(m, pc); i < m->nsyms && m->syms[i].value == pc; i++) {
		const struct gs_symbol *s = &m->syms[i];
		int score;

		if (!is_func_sym(s))
			continue;
		score = (!s->dynamic) + 2 * (name && !strncmp(s->name, name, nl) &&
					     (s->name[nl] == '\0' || s->name[nl] == '.'));
		if (score > best_score) {
			best = s->name;
			best_score = score;
		}
	}
	return best;
}

static int add_alias(struct ix_func *f, const char *name)
{
	size_t cap = f->naliases;
	const char **slot;

	if (!name || (f->symbol && !strcmp(f->symbol, name)) || !strcmp(f->name, name) ||
	    f->naliases >= 16)
		return 0;
	for (uint32_t i = 0; i < f->naliases; i++)
		if (!strcmp(f->aliases[i], name))
			return 0;
	{
		size_t n = f->naliases;

		slot = IX_PUSH(f->aliases, n, cap);
		if (!slot)
			return -ENOMEM;
		*slot = name;
		f->naliases = (uint32_t)n;
	}
	return 0;
}

/* ---- variables --------------------------------------------------------------------- */

/* The DW_AT_type of @die as an id, through the second thread's offset when it has it. */
static uint32_t var_type(struct walk *w, Dwarf_Die *die, const struct ix_loc_ahead *la)
{
	Dwarf_Die t;
	uint64_t id;

	if (!la || !la->type_ok)
		return ix_type_of(w->m, die);
	if (!la->type_off)
		return 0;
	if (ix_map_get(&w->m->type_by_die, la->type_off, &id))
		return (uint32_t)id;
	if (!dwarf_offdie(dwarf_cu_getdwarf(die->cu), la->type_off, &t))
		return ix_type_of(w->m, die);
	return ix_type_id(w->m, &t);
}

static const char *var_name(Dwarf_Die *die, const struct ix_loc_ahead *la)
{
	return la && la->name_ok ? la->name : dw_die_name(die);
}

/* ix_loc_static_addr, from the second thread's results when it has them. */
static bool static_addr(struct ix_model *m, Dwarf_Die *die, uint64_t *addr_ret)
{
	const struct ix_loc_ahead *la = ix_ahead_loc(m->ahead, dwarf_dieoffset(die));

	if (!la)
		return ix_loc_static_addr(m, die, addr_ret);
	*addr_ret = la->static_addr;
	return la->is_static;
}

/*
 * A global's qualified name (schema.h "global"): u 0 none, 1 the name itself, 2 then
 * u F for "<qualified name of function F>::<name>" (a static local of F), else the
 * string id + 3.
 */
static int enc_global_qual(struct ix_model *m, struct gs_enc *out, const char *name,
			   const char *qual, uint32_t func)
{
	const char *fq = func ? m->funcs[func - 1].qual : NULL;
	size_t n = fq ? strlen(fq) : 0;
	uint64_t ref;
	int ret;

	if (!qual || !strcmp(qual, name)) {
		gs_enc_u(out, qual ? 1 : 0);
		return 0;
	}
	if (fq && !strncmp(qual, fq, n) && !strncmp(qual + n, "::", 2) &&
	    !strcmp(qual + n + 2, name)) {
		gs_enc_u(out, 2);
		gs_enc_u(out, func);
		return 0;
	}
	ret = ix_sref_dup(m, qual, &ref);
	if (!ret)
		gs_enc_u(out, ref + 2);
	return ret;
}

static int put_global(struct walk *w, Dwarf_Die *die, const char *name, const char *qual,
		      const struct gs_enc *var, uint32_t qual_func)
{
	struct ix_model *m = w->m;
	struct gs_enc v;
	uint32_t id = (uint32_t)++m->nglobals;
	uint64_t addr;
	int ret;

	gs_enc_init(&v);
	gs_enc_bytes(&v, var->buf, var->len);
	ret = enc_global_qual(m, &v, name, qual ? qual : name, qual_func);
	if (!ret)
		ret = ix_table_put_rec(&m->tables[GS_DB_GLOBAL], id, v.buf, v.len);
	gs_enc_deinit(&v);
	if (!ret)
		ret = ix_table_put_name(&m->tables[GS_DB_GLOBAL_NAME], name, id);
	if (!ret && qual && strcmp(qual, name))
		ret = ix_table_put_name(&m->tables[GS_DB_GLOBAL_NAME], qual, id);
	if (!ret && static_addr(m, die, &addr))
		ret = ix_table_put_addr(&m->tables[GS_DB_GLOBAL_ADDR], addr, id, NULL, 0);
	return ret;
}

/* Template index of (name, type, declaration), added if new. */
static int dict_tmpl(struct ix_model *m, struct rec_dict *d, const char *name, uint32_t type,
		     uint32_t file, uint32_t line, uint32_t *idx_ret)
{
	struct var_tmpl t, *slot;
	uint64_t h, idx;
	int ret;

	memset(&t, 0, sizeof(t));
	ret = ix_sref(m, name, &t.name);
	if (ret)
		return ret;
	t.type = type;
	t.file = file;
	t.line = line;
	h = (t.name * 0x9e3779b97f4a7c15ull) ^
	    ((uint64_t)t.type << 40 | (uint64_t)t.file << 20 | t.line) * 0xff51afd7ed558ccdull;
	if (ix_map_get(&d->tmpl_by_hash, h, &idx) && !memcmp(&d->tmpls[idx], &t, sizeof(t))) {
		*idx_ret = (uint32_t)idx;
		return 0;
	}
	slot = IX_PUSH(d->tmpls, d->ntmpls, d->captmpls);
	if (!slot)
		return -ENOMEM;
	*slot = t;
	*idx_ret = (uint32_t)(d->ntmpls - 1);
	return ix_map_get(&d->tmpl_by_hash, h, &idx) ? 0 : ix_map_put(&d->tmpl_by_hash, h, d->ntmpls - 1);
}

/* Empties the dictionary, keeping its memory for the next function. */
static void dict_reset(struct rec_dict *d)
{
	if (d->tmpl_by_hash.cap)
		memset(d->tmpl_by_hash.used, 0, d->tmpl_by_hash.cap);
	d->tmpl_by_hash.cnt = 0;
	d->ntmpls = 0;
}

static void dict_deinit(struct rec_dict *d)
{
	ix_map_deinit(&d->tmpl_by_hash);
	free(d->tmpls);
	memset(d, 0, sizeof(*d));
}

/*
 * "u ntmpls, ntmpls x (sref name, u type, u zigzag(decl_line - previous) << 1 |
 * decl_file changed, [u decl_file])": declarations mostly follow each other.
 */
static void dict_enc(const struct rec_dict *d, struct gs_enc *out)
{
	uint32_t file = 0, line = 0;

	gs_enc_u(out, d->ntmpls);
	for (size_t i = 0; i < d->ntmpls; i++) {
		const struct var_tmpl *t = &d->tmpls[i];
		int64_t dl = (int64_t)t->line - line;
		uint64_t zz = ((uint64_t)dl << 1) ^ (uint64_t)(dl >> 63);

		gs_enc_u(out, t->name);
		gs_enc_u(out, t->type);
		gs_enc_u(out, zz << 1 | (t->file != file));
		if (t->file != file)
			gs_enc_u(out, t->file);
		file = t->file;
		line = t->line;
	}
}

/*
 * One variable record into @out; *static_ret when at an address. With @dict (scope
 * trees) name, type and declaration are a template index, else (globals) they are
 * written out (schema.h "var record").
 */
static int encode_var(struct walk *w, Dwarf_Die *die, uint8_t kind, struct gs_enc *out,
		      bool *static_ret, struct rec_dict *dict)
{
	const struct ix_loc_ahead *la;
	const uint8_t *lbuf;
	struct gs_enc loc;
	unsigned int what = 0;
	uint8_t flags = 0;
	uint64_t addr;
	size_t llen;
	int ret = 0;

	gs_enc_init(&loc);
	la = ix_ahead_loc(w->m->ahead, dwarf_dieoffset(die));
	if (la) {
		what = la->what;
		lbuf = w->m->ahead->data.buf + la->off;
		llen = la->len;
	} else {
		ret = ix_loc_var(w->m, die, &loc, &what);
		if (ret)
			goto out;
		lbuf = loc.buf;
		llen = loc.len;
	}
	if (what & IX_LOC_TLS)
		flags |= GS_VAR_TLS;
	if (la ? la->external : dw_die_flag(die, DW_AT_external))
		flags |= GS_VAR_EXTERNAL;
	if (la ? la->artificial : dw_die_flag(die, DW_AT_artificial))
		flags |= GS_VAR_ARTIFICIAL;
	*static_ret = (what & IX_LOC_TLS) ||
		      (la ? la->is_static : ix_loc_static_addr(w->m, die, &addr));
	if (kind == GS_VAR_LOCAL && *static_ret)
		kind = GS_VAR_STATIC_LOCAL;
	if (!llen || lbuf[0] > GS_LOC_CONST) {
		ret = -EINVAL;	/* ix_loc_var always writes a kind byte first */
		goto out;
	}
	/* kind, flags and the location's kind share one byte (schema.h "var record") */
	gs_enc_u8(out, (uint8_t)(kind | flags << 2 | lbuf[0] << 5));
	if (dict) {
		uint32_t t;

		ret = dict_tmpl(w->m, dict, var_name(die, la), var_type(w, die, la),
				decl_file(w, die), la ? la->decl_line : decl_line(die), &t);
		if (ret)
			goto out;
		gs_enc_u(out, t);
	} else {
		ret = ix_enc_sref(w->m, out, var_name(die, la));
		if (ret)
			goto out;
		gs_enc_u(out, var_type(w, die, la));
		gs_enc_u(out, decl_file(w, die));
		gs_enc_u(out, la ? la->decl_line : decl_line(die));
	}
	if (dict && lbuf[0] == GS_LOC_LIST) {
		/* in a scope tree the first entry's lo is from the function's first lo */
		struct gs_dec d;
		uint64_t n, lg;
		int64_t lo;

		gs_dec_init(&d, lbuf + 1, llen - 1);
		n = gs_dec_u(&d);
		lg = gs_dec_u(&d);
		lo = gs_dec_s(&d);
		if (d.err || !(lg & 1)) {
			ret = -EINVAL;
			goto out;
		}
		gs_enc_u(out, n);
		gs_enc_u(out, lg);
		gs_enc_s(out, (int64_t)((uint64_t)lo - w->loc_base));
		gs_enc_bytes(out, d.p, (size_t)(d.end - d.p));
	} else {
		gs_enc_bytes(out, lbuf + 1, llen - 1);
	}
	w->m->nvars++;
out:
	gs_enc_deinit(&loc);
	return ret;
}

static int do_global(struct walk *w, Dwarf_Die *die, const char *prefix)
{
	const char *name = dw_die_name(die), *qual;
	char *own = NULL;
	struct gs_enc var;
	bool is_static;
	int ret;

	if (!name)
		return 0;
	if (!dwarf_hasattr(die, DW_AT_location) && !dwarf_hasattr_integrate(die, DW_AT_const_value)) {
		if (prefix && dwarf_hasattr(die, DW_AT_declaration))
			return qual_record(w->m, die, join(prefix, name));
		if (dwarf_hasattr(die, DW_AT_declaration) || dwarf_hasattr(die, DW_AT_external))
			return 0;	/* an extern declaration: the definition has the location */
		/* A static definition the compiler folded away: <optimized out>, as GDB says. */
	}
	qual = qual_lookup(w->m, die);
	if (!qual)
		qual = own = qual_from_spec(die, name);
	if (!qual && prefix)
		qual = own = join(prefix, name);
	gs_enc_init(&var);
	ret = encode_var(w, die, GS_VAR_GLOBAL, &var, &is_static, NULL);
	if (!ret)
		ret = put_global(w, die, name, qual, &var, 0);
	gs_enc_deinit(&var);
	free(own);
	return ret;
}

/* ---- call sites -------------------------------------------------------------------- */

static bool is_call_param(Dwarf_Die *c)
{
	int tag = dwarf_tag(c);

	return (tag == DW_TAG_call_site_parameter || tag == DW_TAG_GNU_call_site_parameter) &&
	       (dwarf_hasattr(c, DW_AT_call_value) || dwarf_hasattr(c, DW_AT_GNU_call_site_value));
}

/* A call site with parameter values: what DW_OP_entry_value in the callee can use. */
static int do_call_site(struct walk *w, Dwarf_Die *die)
{
	struct ix_model *m = w->m;
	Dwarf_Attribute a;
	Dwarf_Addr pc;
	Dwarf_Die c, target;
	struct ix_callsite *cs;
	size_t start = m->cs_data.len;
	uint32_t n = 0;
	int ret = 0;

	if ((dw_die_flag(die, DW_AT_call_tail_call) || dw_die_flag(die, DW_AT_GNU_tail_call)) &&
	    (dw_die_ref(die, DW_AT_call_origin, &target) ||
	     dw_die_ref(die, DW_AT_abstract_origin, &target))) {
		uint64_t *t = IX_PUSH(m->tail_targets, m->ntail, m->captail);

		if (!t)
			return -ENOMEM;
		*t = dwarf_dieoffset(&target);
	}
	if (dwarf_child(die, &c) != 0)
		return 0;
	do
		n += is_call_param(&c);
	while (dwarf_siblingof(&c, &c) == 0);
	if (!n)
		return 0;
	if (!(dwarf_attr(die, DW_AT_call_return_pc, &a) && !dwarf_formaddr(&a, &pc)) &&
	    dwarf_lowpc(die, &pc))
		return 0;
	gs_enc_u(&m->cs_data, n);
	dwarf_child(die, &c);
	do {
		const struct ix_loc_ahead *la;
		Dwarf_Attribute loc, val;

		if (!is_call_param(&c))
			continue;
		la = ix_ahead_loc(m->ahead, dwarf_dieoffset(&c));
		if (la) {
			gs_enc_bytes(&m->cs_data, m->ahead->data.buf + la->off, la->len);
			continue;
		}
		if (!dwarf_attr(&c, DW_AT_call_value, &val))
			dwarf_attr(&c, DW_AT_GNU_call_site_value, &val);
		ret = ix_loc_expr_attr(m, dwarf_attr(&c, DW_AT_location, &loc) ? &loc : NULL,
				       &m->cs_data);
		if (!ret)
			ret = ix_loc_expr_attr(m, &val, &m->cs_data);
	} while (!ret && dwarf_siblingof(&c, &c) == 0);
	if (ret)
		return ret;
	cs = IX_PUSH(m->cs, m->ncs, m->capcs);
	if (!cs)
		return -ENOMEM;
	cs->return_pc = pc + m->bias;
	cs->caller = w->func_id;
	cs->target_off = (dw_die_ref(die, DW_AT_call_origin, &target) ||
			  dw_die_ref(die, DW_AT_abstract_origin, &target))
			 ? dwarf_dieoffset(&target) : 0;
	cs->params_off = start;
	cs->params_len = m->cs_data.len - start;
	return 0;
}

/* ---- scopes ------------------------------------------------------------------------ */

/*
 * "u n, n x (s lo - @base, u hi - lo)": @base is the parent scope's first lo in scope
 * trees, the entry pc in function and inline records, so that lo takes a byte or two.
 */
static void enc_ranges(struct gs_enc *out, const struct gs_range *r, uint32_t n,
			     uint64_t base)
{
	gs_enc_u(out, n);
	for (uint32_t i = 0; i < n; i++) {
		gs_enc_s(out, (int64_t)(r[i].lo - base));
		gs_enc_u(out, r[i].hi - r[i].lo);
	}
}

static int put_inline(struct walk *w, Dwarf_Die *die, const char *name, const char *qual,
		      const struct gs_range *r, uint32_t nr, uint32_t cfile, uint32_t cline)
{
	struct ix_model *m = w->m;
	uint32_t id = (uint32_t)++m->ninlines;
	uint64_t entry = 0, col = 0;
	struct gs_enc v;
	int ret;

	dw_die_entry(die, r, nr, m->bias, &entry);
	dw_die_udata(die, DW_AT_call_column, &col);
	gs_enc_init(&v);
	ret = ix_enc_sref(m, &v, name);
	if (!ret)
		ret = ix_enc_sref(m, &v, qual && strcmp(qual, name) ? qual : NULL);
	gs_enc_u(&v, w->func_id);
	/* from the entry of the function it is inlined into: a byte or two */
	gs_enc_s(&v, (int64_t)(entry - m->funcs[w->func_id - 1].entry));
	enc_ranges(&v, r, nr, entry);
	gs_enc_u(&v, cfile);
	gs_enc_u(&v, cline);
	gs_enc_u(&v, col);
	if (!ret)
		ret = ix_table_put_rec(&m->tables[GS_DB_INLINE], id, v.buf, v.len);
	gs_enc_deinit(&v);
	if (!ret)
		ret = ix_table_put_name(&m->tables[GS_DB_INLINE_NAME], name, id);
	if (!ret && qual && strcmp(qual, name))
		ret = ix_table_put_name(&m->tables[GS_DB_INLINE_NAME], qual, id);
	return ret;
}

/*
 * A scope record (schema.h "scope tree") for @die into @out. Variables and child
 * scopes go to buffers of their own first so that their counts, written before them,
 * can be varints.
 */
static int encode_scope(struct walk *w, Dwarf_Die *die, uint8_t kind, const char *name,
			const struct gs_range *r, uint32_t nr, uint32_t cfile, uint32_t cline,
			struct gs_enc *out, int depth)
{
	Dwarf_Attribute fb;
	unsigned int what = 0;
	uint32_t nv = 0, nk = 0;
	uint64_t base = w->scope_base;
	struct gs_enc vars, kids;
	int ret;

	/* kind and range count in one byte, then the ranges without their count */
	gs_enc_u(out, (uint64_t)nr << 2 | kind);
	if (kind == GS_SCOPE_INLINE) {	/* the root's name is its function's */
		ret = ix_enc_sref(w->m, out, name);
		if (ret)
			return ret;
	}
	for (uint32_t i = 0; i < nr; i++) {
		gs_enc_s(out, (int64_t)(r[i].lo - base));
		gs_enc_u(out, r[i].hi - r[i].lo);
	}
	if (kind == GS_SCOPE_INLINE) {
		gs_enc_u(out, cfile);
		gs_enc_u(out, cline);
	}
	if (kind == GS_SCOPE_FUNC) {
		ret = ix_loc_attr(w->m, dwarf_attr(die, DW_AT_frame_base, &fb) ? &fb : NULL,
				  out, &what);
		if (ret)
			return ret;
	}
	gs_enc_init(&vars);
	gs_enc_init(&kids);
	ret = scope_vars(w, die, &vars, &nv, depth);
	if (ret)
		goto out;
	w->scope_base = nr ? r[0].lo : 0;	/* what the reader sees as the parent */
	ret = scope_kids(w, die, &kids, &nk, depth);
	w->scope_base = base;
	if (ret)
		goto out;
	/* the length of the rest, so that a reader looking for one pc skips this scope */
	gs_enc_u(out, gs_enc_u_len(nv) + vars.len + gs_enc_u_len(nk) + kids.len);
	gs_enc_u(out, nv);
	gs_enc_bytes(out, vars.buf, vars.len);
	gs_enc_u(out, nk);
	gs_enc_bytes(out, kids.buf, kids.len);
out:
	gs_enc_deinit(&kids);
	gs_enc_deinit(&vars);
	return ret;
}

/*
 * True the first time the static local whose location is on @die (or on its abstract
 * origin) is seen: inlined copies and clones share one variable.
 */
static bool first_static(struct ix_model *m, Dwarf_Die *die)
{
	Dwarf_Die o;
	uint64_t key = dwarf_dieoffset(die), v;

	if (!dwarf_hasattr(die, DW_AT_location) && dw_die_ref(die, DW_AT_abstract_origin, &o))
		key = dwarf_dieoffset(&o);
	if (ix_map_get(&m->static_done, key, &v))
		return false;
	ix_map_put(&m->static_done, key, 1);
	return true;
}

static int scope_var(struct walk *w, Dwarf_Die *c, int tag, struct gs_enc *out, uint32_t *nv)
{
	const char *name = var_name(c, ix_ahead_loc(w->m->ahead, dwarf_dieoffset(c)));
	bool is_static = false;
	int ret;

	if (!name || (dwarf_hasattr(c, DW_AT_declaration) && !dwarf_hasattr(c, DW_AT_location)))
		return 0;
	ret = encode_var(w, c, tag == DW_TAG_formal_parameter ? GS_VAR_PARAM : GS_VAR_LOCAL,
			 out, &is_static, &w->dict);
	if (ret)
		return ret;
	(*nv)++;
	if (is_static && tag == DW_TAG_variable && first_static(w->m, c)) {
		struct gs_enc one;
		char *qual = join(w->func_qual, name);

		/* the global record spells the name out: encode it again, uncounted */
		gs_enc_init(&one);
		ret = encode_var(w, c, GS_VAR_LOCAL, &one, &is_static, NULL);
		w->m->nvars--;
		if (!ret)
			ret = put_global(w, c, name, qual, &one, w->func_id);
		gs_enc_deinit(&one);
		free(qual);
	}
	return ret;
}

/*
 * Statics of a function without code of its own (an abstract instance: inlined
 * everywhere, or the origin of clones) are still globals.
 */
static int abstract_statics(struct walk *w, Dwarf_Die *die, const char *fqual, int depth)
{
	Dwarf_Die c;
	int ret = 0;

	if (depth > 16 || dwarf_child(die, &c) != 0)
		return 0;
	do {
		int tag = dwarf_tag(&c);

		if (tag == DW_TAG_lexical_block) {
			ret = abstract_statics(w, &c, fqual, depth + 1);
		} else if (tag == DW_TAG_variable && dwarf_hasattr(&c, DW_AT_location) &&
			   dw_die_name(&c) && first_static(w->m, &c)) {
			struct gs_enc var;
			bool is_static = false;
			char *qual = join(fqual, dw_die_name(&c));

			gs_enc_init(&var);
			ret = encode_var(w, &c, GS_VAR_STATIC_LOCAL, &var, &is_static, NULL);
			w->m->nvars--;	/* counted with the scopes that use it */
			if (!ret && is_static)
				ret = put_global(w, &c, dw_die_name(&c), qual, &var, 0);
			gs_enc_deinit(&var);
			free(qual);
		}
	} while (!ret && dwarf_siblingof(&c, &c) == 0);
	return ret;
}

struct param_span {
	uint64_t origin;	/* DIE offset of the abstract parameter: declaration order */
	size_t off, len;	/* its encoded record in the scope buffer */
};

static int cmp_param_span(const void *a, const void *b)
{
	const struct param_span *x = a, *y = b;

	if (x->origin != y->origin)
		return x->origin < y->origin ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

/*
 * gcc lists an inlined instance's (and sometimes a clone's) formal parameters in
 * reverse. The abstract origin declares them in source order, so its DIE offsets give
 * the order: the first @n records from @start are reordered by them in place.
 */
static int order_params(struct gs_enc *out, size_t start, struct param_span *p, size_t n)
{
	bool sorted = true;
	uint8_t *tmp;
	size_t at = 0;

	for (size_t i = 1; i < n && sorted; i++)
		sorted = p[i - 1].origin <= p[i].origin;
	if (sorted)
		return 0;
	gs_qsort(p, n, sizeof(*p), cmp_param_span);
	tmp = malloc(out->len - start);
	if (!tmp)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		memcpy(tmp + at, out->buf + p[i].off, p[i].len);
		at += p[i].len;
	}
	memcpy(out->buf + start, tmp, at);
	free(tmp);
	return 0;
}

/* Pass 1: parameters and variables, including those of blocks without pc ranges. */
static int scope_vars(struct walk *w, Dwarf_Die *die, struct gs_enc *out, uint32_t *nv,
		      int depth)
{
	struct param_span params[32];
	size_t nparams = 0, pstart = out->len;
	bool in_order = true;	/* parameters all have origins and come first */
	Dwarf_Die c, o;
	int ret = 0;

	if (depth > GS_SCOPE_MAX_DEPTH - 2 || dwarf_child(die, &c) != 0)
		return 0;
	do {
		int tag = dwarf_tag(&c);
		size_t before = out->len, pend;

		if (tag == DW_TAG_formal_parameter || tag == DW_TAG_variable)
			ret = scope_var(w, &c, tag, out, nv);
		else if (tag == DW_TAG_lexical_block && !dw_die_has_pc(&c))
			ret = scope_vars(w, &c, out, nv, depth + 1);
		if (ret || out->len == before)
			continue;
		if (tag != DW_TAG_formal_parameter) {
			if (!nparams)
				in_order = false;	/* nothing to reorder */
			continue;
		}
		pend = nparams ? params[nparams - 1].off + params[nparams - 1].len : pstart;
		if (!in_order || nparams == sizeof(params) / sizeof(params[0]) || before != pend ||
		    !dw_die_ref(&c, DW_AT_abstract_origin, &o)) {
			in_order = false;
			continue;
		}
		params[nparams++] = (struct param_span){ dwarf_dieoffset(&o), before,
						       out->len - before };
	} while (!ret && dwarf_siblingof(&c, &c) == 0);
	if (!ret && in_order && nparams > 1)
		ret = order_params(out, pstart, params, nparams);
	return ret;
}

static int scope_inline(struct walk *w, Dwarf_Die *c, struct gs_enc *out, uint32_t *nk,
			int depth)
{
	const char *name = dw_die_name(c), *qual;
	struct gs_range *r;
	uint32_t nr, cfile, cline;
	uint64_t v;
	int ret;

	ret = dw_die_ranges(c, w->m->bias, &r, &nr);
	if (ret)
		return ret;
	if (!nr || !name) {
		free(r);
		return 0;
	}
	qual = qual_lookup(w->m, c);
	cfile = call_file(w, c);
	cline = dw_die_udata(c, DW_AT_call_line, &v) ? (uint32_t)v : 0;
	ret = put_inline(w, c, name, qual, r, nr, cfile, cline);
	if (!ret)
		ret = encode_scope(w, c, GS_SCOPE_INLINE, name, r, nr, cfile, cline, out, depth + 1);
	if (!ret)
		(*nk)++;
	free(r);
	return ret;
}

/* Pass 2: blocks, inlined scopes and call sites. */
static int scope_kids(struct walk *w, Dwarf_Die *die, struct gs_enc *out, uint32_t *nk,
		      int depth)
{
	Dwarf_Die c;
	int ret = 0;

	if (depth > GS_SCOPE_MAX_DEPTH - 2 || dwarf_child(die, &c) != 0)
		return 0;
	do {
		struct gs_range *r;
		uint32_t nr;

		switch (dwarf_tag(&c)) {
		case DW_TAG_lexical_block:
			if (!dw_die_has_pc(&c)) {	/* its names belong to the parent */
				ret = scope_kids(w, &c, out, nk, depth + 1);
				break;
			}
			ret = dw_die_ranges(&c, w->m->bias, &r, &nr);
			if (ret)
				break;
			ret = encode_scope(w, &c, GS_SCOPE_BLOCK, NULL, r, nr, 0, 0, out, depth + 1);
			(*nk)++;
			free(r);
			break;
		case DW_TAG_inlined_subroutine:
			ret = scope_inline(w, &c, out, nk, depth);
			break;
		case DW_TAG_call_site:
		case DW_TAG_GNU_call_site:
			ret = do_call_site(w, &c);
			break;
		default:
			break;
		}
	} while (!ret && dwarf_siblingof(&c, &c) == 0);
	return ret;
}

/* ---- functions --------------------------------------------------------------------- */

static void func_die_link(struct ix_model *m, Dwarf_Die *die, uint32_t id)
{
	Dwarf_Die o;
	uint64_t old;

	ix_map_put(&m->func_by_die, dwarf_dieoffset(die), id);
	if (dw_die_ref(die, DW_AT_abstract_origin, &o) &&
	    !ix_map_get(&m->func_by_die, dwarf_dieoffset(&o), &old))
		ix_map_put(&m->func_by_die, dwarf_dieoffset(&o), id);
	if (dw_die_ref(die, DW_AT_specification, &o) &&
	    !ix_map_get(&m->func_by_die, dwarf_dieoffset(&o), &old))
		ix_map_put(&m->func_by_die, dwarf_dieoffset(&o), id);
	/* a clone's origin may itself complete a declaration */
	if (dw_die_ref(die, DW_AT_abstract_origin, &o) && dw_die_ref(&o, DW_AT_specification, &o) &&
	    !ix_map_get(&m->func_by_die, dwarf_dieoffset(&o), &old))
		ix_map_put(&m->func_by_die, dwarf_dieoffset(&o), id);
}

/* "foo.constprop.0" of "foo": the ELF symbol of a compiler-made copy. */
static bool is_clone_of(const char *sym, const char *name)
{
	size_t n = name ? strlen(name) : 0;

	return sym && n && !strncmp(sym, name, n) && sym[n] == '.' && sym[n + 1];
}

static int do_function(struct walk *w, Dwarf_Die *die, const char *prefix)
{
	struct ix_model *m = w->m;
	struct ix_func *f;
	const char *name = dw_die_name(die), *q;
	struct gs_range *r;
	struct gs_enc scope, rec;
	uint32_t nr, id;
	uint64_t entry, hi = 0, inl;
	uint8_t key[4];
	int ret;

	if (!name)
		name = dw_die_linkage(die);
	if (!name)
		return 0;
	ret = dw_die_ranges(die, m->bias, &r, &nr);
	if (ret || !nr || !dw_die_entry(die, r, nr, m->bias, &entry)) {
		free(r);
		return ret;
	}
	f = IX_PUSH(m->funcs, m->nfuncs, m->capfuncs);
	if (!f) {
		free(r);
		return -ENOMEM;
	}
	memset(f, 0, sizeof(*f));
	id = (uint32_t)m->nfuncs;
	f->name = name;
	f->ranges = r;
	f->nranges = nr;
	f->entry = entry;
	q = qual_lookup(m, die);
	if (q)
		f->qual = q;
	else if (prefix)
		f->qual = f->qual_owned = join(prefix, name);
	else
		f->qual = name;
	f->linkage = dw_die_linkage(die);
	f->symbol = sym_at(m, entry, name);
	for (uint32_t i = 0; i < nr; i++) {
		for (size_t s = sym_lower(m, r[i].lo); s < m->nsyms && m->syms[s].value == r[i].lo; s++)
			if (is_func_sym(&m->syms[s]) && (ret = add_alias(f, m->syms[s].name)))
				return ret;
		if (entry >= r[i].lo && entry < r[i].hi)
			hi = r[i].hi;
	}
	if (dw_die_flag(die, DW_AT_external))
		f->flags |= GS_FUNC_EXTERNAL;
	if (dw_die_udata(die, DW_AT_inline, &inl) &&
	    (inl == DW_INL_declared_inlined || inl == DW_INL_declared_not_inlined))
		f->flags |= GS_FUNC_DECLARED_INLINE;
	if (is_clone_of(f->symbol, name) || is_clone_of(f->symbol, f->linkage))
		f->flags |= GS_FUNC_CLONE;
	f->decl_file = decl_file(w, die);
	f->decl_line = decl_line(die);
	f->post_prologue = hi ? ix_post_prologue(&w->cu, m->bias, entry, hi, &f->flags) : entry;
	func_die_link(m, die, id);
	/* f may move while the scope walk grows other arrays: keep only the id */
	m->funcs[id - 1].ret_type = ix_type_of(m, die);
	w->func_id = id;
	w->func_qual = m->funcs[id - 1].qual;
	gs_enc_init(&scope);
	gs_enc_init(&rec);
	w->scope_base = 0;
	w->loc_base = m->funcs[id - 1].ranges[0].lo;
	dict_reset(&w->dict);
	ret = encode_scope(w, die, GS_SCOPE_FUNC, name, m->funcs[id - 1].ranges, nr, 0, 0, &scope, 0);
	if (!ret) {
		dict_enc(&w->dict, &rec);
		gs_enc_bytes(&rec, scope.buf, scope.len);
		gs_key_put32(key, id);
		ret = ix_table_put(&m->tables[GS_DB_SCOPE], key, 4, rec.buf, rec.len);
	}
	gs_enc_deinit(&rec);
	gs_enc_deinit(&scope);
	w->func_id = 0;
	w->func_qual = NULL;
	return ret;
}

/* ---- containers -------------------------------------------------------------------- */

static int walk_container(struct walk *w, Dwarf_Die *die, const char *prefix, int depth)
{
	Dwarf_Die c;
	int ret = 0;

	if (depth > 32 || dwarf_child(die, &c) != 0)
		return 0;
	do {
		int tag = dwarf_tag(&c);
		const char *name = dwarf_diename(&c);
		char *np;

		switch (tag) {
		case DW_TAG_namespace:
			np = join(prefix, name ? name : "(anonymous namespace)");
			if (!np)
				return -ENOMEM;
			ret = walk_container(w, &c, np, depth + 1);
			free(np);
			break;
		case DW_TAG_structure_type:
		case DW_TAG_class_type:
		case DW_TAG_union_type:
		case DW_TAG_enumeration_type:
		case DW_TAG_typedef:
		case DW_TAG_base_type:
			if (name && depth == 0)
				ix_type_id(w->m, &c);
			/* C++ scopes: ix_types_finish names the type "ns::Class::name" */
			if (name && prefix && !dwarf_hasattr(&c, DW_AT_specification)) {
				ret = qual_record(w->m, &c, join(prefix, name));
				if (ret)
					return ret;
			}
			if (name && tag != DW_TAG_typedef && tag != DW_TAG_base_type &&
			    tag != DW_TAG_enumeration_type && dwarf_haschildren(&c)) {
				np = join(prefix, name);
				if (!np)
					return -ENOMEM;
				ret = walk_container(w, &c, np, depth + 1);
				free(np);
			}
			break;
		case DW_TAG_subprogram:
			if (dw_die_has_pc(&c)) {
				ret = do_function(w, &c, prefix);
				break;
			}
			if (prefix && name && !dwarf_hasattr(&c, DW_AT_specification))
				ret = qual_record(w->m, &c, join(prefix, name));
			if (!ret && dwarf_hasattr(&c, DW_AT_inline) && dw_die_name(&c)) {
				const char *q = qual_lookup(w->m, &c);
				char *own = q ? NULL : join(prefix, dw_die_name(&c));

				ret = abstract_statics(w, &c, q ? q : own, 0);
				free(own);
			}
			break;
		case DW_TAG_variable:
			ret = do_global(w, &c, prefix);
			break;
		case DW_TAG_member:
			if (prefix && name && dwarf_hasattr(&c, DW_AT_declaration))
				ret = qual_record(w->m, &c, join(prefix, name));
			break;
		default:
			break;
		}
	} while (!ret && dwarf_siblingof(&c, &c) == 0);
	return ret;
}

int ix_walk(struct ix_model *m, Dwarf *dwarf)
{
	Dwarf_CU *cu = NULL, *next;
	Dwarf_Half version;
	uint8_t unit_type;
	Dwarf_Die cudie, subdie;
	struct ix_ahead *ah = NULL;
	size_t k = 0;
	int ret = 0, rc;

	/* no second thread is no loss but time */
	if (ix_two_threads())
		ix_ahead_start(dwarf, m->bias, &ah);
	while ((rc = dwarf_get_units(dwarf, cu, &next, &version, &unit_type, &cudie, &subdie)) == 0) {
		struct walk w = { .m = m };
		Dwarf_Attribute a;

		cu = next;
		if (unit_type == DW_UT_type || unit_type == DW_UT_split_type)
			continue;
		if (k)
			ix_ahead_release(ah, k - 1);
		m->ahead = ix_ahead_get(ah, k++);
		if (unit_type == DW_UT_skeleton && dwarf_tag(&subdie) == DW_TAG_compile_unit)
			cudie = subdie;
		if (version < 32)
			m->dwarf_versions |= 1u << version;
		if (!m->producer && dwarf_attr(&cudie, DW_AT_producer, &a))
			m->producer = dwarf_formstring(&a);
		w.cu = cudie;
		w.comp_dir = dwarf_attr(&cudie, DW_AT_comp_dir, &a) ? dwarf_formstring(&a) : NULL;
		if (dwarf_getsrcfiles(&cudie, &w.files, &w.nfiles))
			w.files = NULL;
		ret = ix_lines_cu(m, &cudie, w.comp_dir);
		if (!ret)
			ret = walk_container(&w, &cudie, NULL, 0);
		dict_deinit(&w.dict);
		if (ret)
			break;
	}
	m->ahead = NULL;
	ix_ahead_stop(ah);
	if (!ret && rc < 0) {
		fprintf(stderr, "indexer: malformed DWARF: %s\n", dwarf_errmsg(-1));
		return -GS_ERR_BAD_DWARF;
	}
	return ret;
}

/* ---- finishing --------------------------------------------------------------------- */

static bool covered(const struct ix_model *m, const uint64_t *starts, size_t n, uint64_t pc)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (starts[mid * 3] <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i > 0 && lo - i < 8; i--)
		if (pc >= starts[(i - 1) * 3] && pc < starts[(i - 1) * 3 + 1])
			return true;
	return false;
}

static int cmp_triple(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* ELF function symbols no DWARF function covers (asm, crt, stripped CUs). */
static int add_symbol_funcs(struct ix_model *m)
{
	uint64_t *r = NULL;
	size_t n = 0, cap = 0;
	struct ix_map seen;
	int ret = 0;

	for (size_t i = 0; i < m->nfuncs; i++)
		for (uint32_t j = 0; j < m->funcs[i].nranges; j++) {
			if (ix_grow((void **)&r, &cap, n, 3 * sizeof(*r))) {
				free(r);
				return -ENOMEM;
			}
			r[n * 3] = m->funcs[i].ranges[j].lo;
			r[n * 3 + 1] = m->funcs[i].ranges[j].hi;
			r[n * 3 + 2] = i + 1;
			n++;
		}
	gs_qsort(r, n, 3 * sizeof(*r), cmp_triple);
	ix_map_init(&seen);
	for (size_t i = 0; i < m->nsyms && !ret; i++) {
		const struct gs_symbol *s = &m->syms[i];
		struct ix_func *f;
		uint64_t dummy;

		if (!is_func_sym(s) || !s->size || !s->value || covered(m, r, n, s->value) ||
		    ix_map_get(&seen, s->value, &dummy))
			continue;
		ret = ix_map_put(&seen, s->value, 1);
		if (ret)
			break;
		f = IX_PUSH(m->funcs, m->nfuncs, m->capfuncs);
		if (!f) {
			ret = -ENOMEM;
			break;
		}
		memset(f, 0, sizeof(*f));
		f->ranges = malloc(sizeof(*f->ranges));
		if (!f->ranges) {
			ret = -ENOMEM;
			break;
		}
		f->name = f->qual = f->symbol = s->name;
		f->entry = f->post_prologue = s->value;
		f->ranges[0].lo = s->value;
		f->ranges[0].hi = s->value + s->size;
		f->nranges = 1;
		f->flags = GS_FUNC_SYMBOL_ONLY | (s->bind == STB_GLOBAL ? GS_FUNC_EXTERNAL : 0);
		/* other names at the same address (aliases such as __libc_foo) */
		for (size_t k = sym_lower(m, s->value); k < m->nsyms && m->syms[k].value == s->value; k++)
			if (is_func_sym(&m->syms[k]) && (ret = add_alias(f, m->syms[k].name)))
				break;
	}
	ix_map_deinit(&seen);
	free(r);
	return ret;
}

/*
 * The call sites (those with DW_AT_call_value parameters) whose target is each
 * function: (*first)[id - 1] .. (*first)[id] index into *sites_ret, sorted by return
 * pc. The tracer recovers a function's entry values from its callers' sites.
 */
static int callers_by_target(struct ix_model *m, size_t **first_ret, uint64_t **sites_ret)
{
	size_t *first = calloc(m->nfuncs + 1, sizeof(*first)), *fill = NULL;
	uint64_t *sites = calloc(m->ncs ? m->ncs : 1, sizeof(*sites)), id;

	if (!first || !sites)
		goto nomem;
	for (size_t i = 0; i < m->ncs; i++)
		if (m->cs[i].target_off && ix_map_get(&m->func_by_die, m->cs[i].target_off, &id) &&
		    id && id <= m->nfuncs)
			first[id]++;
	for (size_t i = 1; i <= m->nfuncs; i++)
		first[i] += first[i - 1];
	fill = malloc((m->nfuncs + 1) * sizeof(*fill));
	if (!fill)
		goto nomem;
	memcpy(fill, first, (m->nfuncs + 1) * sizeof(*fill));
	/* m->cs is in return-pc order (put_callsites sorted it), so each list is too */
	for (size_t i = 0; i < m->ncs; i++)
		if (m->cs[i].target_off && ix_map_get(&m->func_by_die, m->cs[i].target_off, &id) &&
		    id && id <= m->nfuncs)
			sites[fill[id - 1]++] = m->cs[i].return_pc;
	free(fill);
	*first_ret = first;
	*sites_ret = sites;
	return 0;
nomem:
	free(first);
	free(sites);
	return -ENOMEM;
}

static int put_func(struct ix_model *m, uint32_t id, const uint64_t *callers, size_t ncallers)
{
	const struct ix_func *f = &m->funcs[id - 1];
	struct ix_table *names = &m->tables[GS_DB_FUNC_NAME];
	uint64_t prev = f->entry;
	struct gs_enc v;
	int ret;

	gs_enc_init(&v);
	ret = ix_enc_sref(m, &v, f->name);
	if (!ret)
		ret = ix_enc_sref(m, &v, f->qual && strcmp(f->qual, f->name) ? f->qual : NULL);
	if (!ret)
		ret = ix_enc_sref(m, &v, f->linkage);
	if (!ret)
		ret = ix_enc_sref_as(m, &v, f->symbol, f->name);
	gs_enc_u(&v, f->entry);
	gs_enc_s(&v, (int64_t)(f->post_prologue - f->entry));
	enc_ranges(&v, f->ranges, f->nranges, f->entry);
	gs_enc_u(&v, f->decl_file);
	gs_enc_u(&v, f->decl_line);
	gs_enc_u(&v, f->ret_type);
	gs_enc_u(&v, f->flags);
	gs_enc_u(&v, f->naliases);
	for (uint32_t i = 0; i < f->naliases && !ret; i++)
		ret = ix_enc_sref_as(m, &v, f->aliases[i], f->symbol);
	/* schema 3.1: the return pcs of the call sites that call it */
	gs_enc_u(&v, ncallers);
	for (size_t i = 0; i < ncallers; i++) {
		gs_enc_s(&v, (int64_t)(callers[i] - prev));
		prev = callers[i];
	}
	if (!ret)
		ret = ix_table_put_rec(&m->tables[GS_DB_FUNC], id, v.buf, v.len);
	gs_enc_deinit(&v);
	if (!ret)
		ret = ix_table_put_name(names, f->name, id);
	if (!ret && f->qual && strcmp(f->qual, f->name))
		ret = ix_table_put_name(names, f->qual, id);
	if (!ret && f->linkage && strcmp(f->linkage, f->name))
		ret = ix_table_put_name(names, f->linkage, id);
	if (!ret && f->symbol && strcmp(f->symbol, f->name))
		ret = ix_table_put_name(names, f->symbol, id);
	for (uint32_t i = 0; i < f->naliases && !ret; i++)
		ret = ix_table_put_name(names, f->aliases[i], id);
	for (uint32_t i = 0; i < f->nranges && !ret; i++)
		ret = ix_table_put_range(&m->tables[GS_DB_FUNC_ADDR], f->ranges[i].lo, id,
					 f->ranges[i].hi - f->ranges[i].lo);
	return ret;
}

int ix_funcs_add_symbols(struct ix_model *m)
{
	return add_symbol_funcs(m);
}

static int cmp_callsite(const void *a, const void *b)
{
	const struct ix_callsite *x = a, *y = b;

	if (x->return_pc != y->return_pc)
		return x->return_pc < y->return_pc ? -1 : 1;
	return x->params_off < y->params_off ? -1 : x->params_off > y->params_off;
}

/*
 * Call sites in return-pc order, GS_CALLSITE_CHUNK to a key: "u n, n x (u (return pc -
 * previous (the key's pc first)) << 3 | min(nparams, 7), [u nparams if 7], s caller -
 * previous (0 first), u target, params)".
 */
static int put_callsites(struct ix_model *m)
{
	struct gs_enc v;
	int ret = 0;

	gs_enc_init(&v);	/* m->cs is sorted by ix_funcs_finish */
	for (size_t i = 0; i < m->ncs && !ret; i += GS_CALLSITE_CHUNK) {
		size_t n = m->ncs - i < GS_CALLSITE_CHUNK ? m->ncs - i : GS_CALLSITE_CHUNK;
		uint64_t prev = m->cs[i].return_pc;
		uint32_t caller = 0;
		uint8_t key[8];

		gs_enc_reset(&v);
		gs_enc_u(&v, n);
		for (size_t j = i; j < i + n; j++) {
			const struct ix_callsite *cs = &m->cs[j];
			uint64_t target = 0;

			if (cs->target_off)
				ix_map_get(&m->func_by_die, cs->target_off, &target);
			struct gs_dec d;
			uint64_t np;

			/* the parameter count (first in params) goes with the pc delta */
			gs_dec_init(&d, m->cs_data.buf + cs->params_off, cs->params_len);
			np = gs_dec_u(&d);
			if (d.err || np > 6) {
				gs_enc_u(&v, (cs->return_pc - prev) << 3 | 7);
				gs_enc_u(&v, np);
			} else {
				gs_enc_u(&v, (cs->return_pc - prev) << 3 | np);
			}
			prev = cs->return_pc;
			gs_enc_s(&v, (int64_t)cs->caller - caller);
			caller = cs->caller;
			gs_enc_u(&v, target);
			gs_enc_bytes(&v, d.p, (size_t)(d.end - d.p));
		}
		gs_key_put64(key, m->cs[i].return_pc);
		ret = ix_table_put(&m->tables[GS_DB_CALLSITE], key, 8, v.buf, v.len);
	}
	gs_enc_deinit(&v);
	return ret;
}

/*
 * The symbol tables (records, names, addresses) from the model's symbols, ids by
 * position + 1, then sealed: the chunked tables need all their entries at once.
 */
static int put_symbol_keys(struct ix_model *m)
{
	struct ix_table *names = &m->tables[GS_DB_SYM_NAME], *addrs = &m->tables[GS_DB_SYM_ADDR];
	struct ix_table *recs = &m->tables[GS_DB_SYM];
	struct ix_table *all[] = { names, addrs, recs };
	struct gs_enc v;
	int ret = 0;

	/* built whole here (a second call rebuilds them) */
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		all[i]->n = all[i]->nents = 0;
		gs_enc_reset(&all[i]->data);
	}
	gs_enc_init(&v);
	for (size_t i = 0; i < m->nsyms && !ret; i++) {
		const struct gs_symbol *s = &m->syms[i], *p = i % GS_REC_CHUNK ? s - 1 : NULL;
		/* the .dynsym copy of a .symtab symbol follows it: a "twin" of one byte */
		bool twin = p && p->name && s->name && !strcmp(p->name, s->name) &&
			    p->value == s->value && p->size == s->size;

		gs_enc_reset(&v);
		gs_enc_u8(&v, (uint8_t)((s->type & 0xf) | (s->dynamic ? 0x10 : 0) | (twin ? 0x20 : 0)));
		if (!twin) {
			ret = ix_enc_sref(m, &v, s->name);
			gs_enc_s(&v, (int64_t)(s->value - (p ? p->value : 0)));
			gs_enc_u(&v, s->size);
		}
		gs_enc_u8(&v, s->bind);
		if (!ret)
			ret = ix_table_put_rec(recs, (uint32_t)(i + 1), v.buf, v.len);
		if (!ret)
			ret = ix_table_put_name(names, s->name, (uint32_t)(i + 1));
		/* not STT_TLS: its value is an offset in the TLS block, not an address */
		if (!ret && (s->type == STT_FUNC || s->type == STT_OBJECT || s->type == STT_GNU_IFUNC))
			ret = ix_table_put_addr(addrs, s->value, (uint32_t)(i + 1), NULL, 0);
	}
	gs_enc_deinit(&v);
	if (!ret)
		ret = ix_table_seal(names, IX_TABLE_NAMES);
	if (!ret)
		ret = ix_table_seal(addrs, IX_TABLE_ADDRS);
	recs->sealed = true;
	return ret;
}

int ix_funcs_finish(struct ix_model *m, bool have_dwarf)
{
	size_t *first = NULL;
	uint64_t *callers = NULL;
	int ret;

	gs_qsort(m->cs, m->ncs, sizeof(*m->cs), cmp_callsite);
	for (size_t i = 0; i < m->ntail; i++) {
		uint64_t id;

		if (ix_map_get(&m->func_by_die, m->tail_targets[i], &id) && id && id <= m->nfuncs)
			m->funcs[id - 1].flags |= GS_FUNC_TAIL_CALLED;
	}
	ret = callers_by_target(m, &first, &callers);
	for (size_t i = 0; i < m->nfuncs && !ret; i++)
		ret = put_func(m, (uint32_t)(i + 1), callers + first[i], first[i + 1] - first[i]);
	free(first);
	free(callers);
	if (!ret)
		ret = put_callsites(m);
	/* the walk is over: the name and address tables it filled are complete */
	if (!ret)
		ret = ix_table_seal(&m->tables[GS_DB_FUNC_NAME], IX_TABLE_NAMES);
	if (!ret)
		ret = ix_table_seal(&m->tables[GS_DB_FUNC_ADDR], IX_TABLE_RANGES);
	if (!ret)
		ret = ix_table_seal(&m->tables[GS_DB_INLINE_NAME], IX_TABLE_NAMES);
	if (!ret)
		ret = ix_table_seal(&m->tables[GS_DB_GLOBAL_NAME], IX_TABLE_NAMES);
	if (!ret)
		ret = ix_table_seal(&m->tables[GS_DB_GLOBAL_ADDR], IX_TABLE_ADDRS);
	if (!ret)
		ret = put_symbol_keys(m);
	if (!ret)		/* the last string reference is written */
		ret = ix_strs_finish(m);
	return ret;
}

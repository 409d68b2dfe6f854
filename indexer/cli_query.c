// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `ghostscope-index query` and `dump`: print exactly what the tracer reads from an
 * index, as text or JSON, through the same shared/index.h calls the tracer makes.
 */
#include <dwarf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "indexer/cfi.h"
#include "indexer/cli.h"
#include "shared/errors.h"
#include "shared/strbuf.h"

/* ---- rendering --------------------------------------------------------------------- */

static const char *const reg_names[] = {
	"rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip",
};

static const char *op_name(uint8_t atom, char *buf, size_t len)
{
	static const struct { uint8_t atom; const char *name; } names[] = {
		{ DW_OP_addr, "addr" }, { DW_OP_deref, "deref" }, { DW_OP_const1u, "const1u" },
		{ DW_OP_const1s, "const1s" }, { DW_OP_const2u, "const2u" },
		{ DW_OP_const2s, "const2s" }, { DW_OP_const4u, "const4u" },
		{ DW_OP_const4s, "const4s" }, { DW_OP_const8u, "const8u" },
		{ DW_OP_const8s, "const8s" }, { DW_OP_constu, "constu" }, { DW_OP_consts, "consts" },
		{ DW_OP_dup, "dup" }, { DW_OP_drop, "drop" }, { DW_OP_over, "over" },
		{ DW_OP_pick, "pick" }, { DW_OP_swap, "swap" }, { DW_OP_rot, "rot" },
		{ DW_OP_xderef, "xderef" }, { DW_OP_abs, "abs" }, { DW_OP_and, "and" },
		{ DW_OP_div, "div" }, { DW_OP_minus, "minus" }, { DW_OP_mod, "mod" },
		{ DW_OP_mul, "mul" }, { DW_OP_neg, "neg" }, { DW_OP_not, "not" }, { DW_OP_or, "or" },
		{ DW_OP_plus, "plus" }, { DW_OP_plus_uconst, "plus_uconst" }, { DW_OP_shl, "shl" },
		{ DW_OP_shr, "shr" }, { DW_OP_shra, "shra" }, { DW_OP_xor, "xor" },
		{ DW_OP_bra, "bra" }, { DW_OP_eq, "eq" }, { DW_OP_ge, "ge" }, { DW_OP_gt, "gt" },
		{ DW_OP_le, "le" }, { DW_OP_lt, "lt" }, { DW_OP_ne, "ne" }, { DW_OP_skip, "skip" },
		{ DW_OP_regx, "regx" }, { DW_OP_fbreg, "fbreg" }, { DW_OP_bregx, "bregx" },
		{ DW_OP_piece, "piece" }, { DW_OP_deref_size, "deref_size" }, { DW_OP_nop, "nop" },
		{ DW_OP_call_frame_cfa, "call_frame_cfa" }, { DW_OP_implicit_value, "implicit_value" },
		{ DW_OP_stack_value, "stack_value" }, { DW_OP_implicit_pointer, "implicit_pointer" },
		{ DW_OP_entry_value, "entry_value" }, { DW_OP_const_type, "const_type" },
		{ DW_OP_regval_type, "regval_type" }, { DW_OP_deref_type, "deref_type" },
		{ DW_OP_convert, "convert" }, { DW_OP_reinterpret, "reinterpret" },
		{ DW_OP_form_tls_address, "form_tls_address" }, { DW_OP_bit_piece, "bit_piece" },
		{ DW_OP_GNU_parameter_ref, "GNU_parameter_ref" },
	};

	if (atom >= DW_OP_lit0 && atom <= DW_OP_lit31)
		snprintf(buf, len, "lit%d", atom - DW_OP_lit0);
	else if (atom >= DW_OP_reg0 && atom <= DW_OP_reg31)
		snprintf(buf, len, "reg%d", atom - DW_OP_reg0);
	else if (atom >= DW_OP_breg0 && atom <= DW_OP_breg31)
		snprintf(buf, len, "breg%d", atom - DW_OP_breg0);
	else {
		snprintf(buf, len, "op0x%02x", atom);
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (names[i].atom == atom)
				snprintf(buf, len, "%s", names[i].name);
	}
	return buf;
}

static void expr_str(const struct gs_locexpr *e, struct gs_strbuf *sb)
{
	char nb[32];

	for (uint32_t i = 0; i < e->nops; i++) {
		const struct gs_op *op = &e->ops[i];
		uint8_t a = op->atom;

		if (i)
			gs_strbuf_addc(sb, ' ');
		gs_strbuf_addf(sb, "DW_OP_%s", op_name(a, nb, sizeof(nb)));
		if (a >= DW_OP_reg0 && a <= DW_OP_reg16)
			gs_strbuf_addf(sb, "(%s)", reg_names[a - DW_OP_reg0]);
		else if (a >= DW_OP_breg0 && a <= DW_OP_breg16)
			gs_strbuf_addf(sb, "(%s) %+" PRId64, reg_names[a - DW_OP_breg0], (int64_t)op->n1);
		else if (a == DW_OP_addr)
			gs_strbuf_addf(sb, " 0x%" PRIx64, op->n1);
		else if (a == DW_OP_fbreg || a == DW_OP_consts || a == DW_OP_const1s ||
			 a == DW_OP_const2s || a == DW_OP_const4s || a == DW_OP_const8s)
			gs_strbuf_addf(sb, " %" PRId64, (int64_t)op->n1);
		else if (a == DW_OP_bregx)
			gs_strbuf_addf(sb, " %" PRIu64 " %+" PRId64, op->n1, (int64_t)op->n2);
		else if (a == DW_OP_entry_value)
			gs_strbuf_addf(sb, "(%" PRIu64 " ops):", op->n1);
		else if (a == DW_OP_implicit_pointer)	/* then the target's ops */
			gs_strbuf_addf(sb, " %+" PRId64 " (%" PRIu64 " ops):", (int64_t)op->n2, op->n1);
		else if (a == DW_OP_bit_piece)
			gs_strbuf_addf(sb, " %" PRIu64 " %" PRId64, op->n1, (int64_t)op->n2);
		else if (a == DW_OP_implicit_value) {
			gs_strbuf_addf(sb, " %" PRIu64 ":", op->n1);
			for (uint64_t j = 0; j < op->n1 && op->n2 + j < e->blob_len; j++)
				gs_strbuf_addf(sb, "%02x", e->blob[op->n2 + j]);
		} else if ((a >= DW_OP_const1u && a <= DW_OP_constu) || a == DW_OP_plus_uconst ||
			 a == DW_OP_regx || a == DW_OP_piece || a == DW_OP_deref_size ||
			 a == DW_OP_pick || a == DW_OP_skip || a == DW_OP_bra)
			gs_strbuf_addf(sb, " %" PRIu64, op->n1);
	}
}

static void loc_str(const struct gs_location *l, struct gs_strbuf *sb)
{
	switch (l->kind) {
	case GS_LOC_NONE:
		gs_strbuf_adds(sb, "<optimized out>");
		break;
	case GS_LOC_EXPR:
		expr_str(&l->expr, sb);
		break;
	case GS_LOC_CONST:
		if (l->cval_len) {
			gs_strbuf_adds(sb, "const bytes ");
			for (uint32_t i = 0; i < l->cval_len; i++)
				gs_strbuf_addf(sb, "%02x", l->cval_bytes[i]);
		} else {
			gs_strbuf_addf(sb, "const %" PRId64, l->cval);
		}
		break;
	case GS_LOC_LIST:
		gs_strbuf_addf(sb, "list of %u:", l->nentries);
		for (uint32_t i = 0; i < l->nentries; i++) {
			gs_strbuf_addf(sb, " [0x%" PRIx64 ",0x%" PRIx64 ") ", l->entries[i].lo,
				       l->entries[i].hi);
			expr_str(&l->entries[i].expr, sb);
			gs_strbuf_addc(sb, ';');
		}
		break;
	}
}

/*
 * C declarator spelling: @decl starts as the name (or empty) and is wrapped from the
 * outside in: a pointer prefixes '*' (parenthesised before an array or function
 * suffix), an array appends "[n]", a function "(params)"; the base goes in @pre.
 */
static void type_str_rec(struct gs_index *idx, uint32_t id, struct gs_strbuf *pre,
			 struct gs_strbuf *decl, int depth)
{
	const struct gs_type *t, *tt;
	struct gs_strbuf tmp;

	if (depth > 16 || gs_index_type(idx, id, &t)) {
		gs_strbuf_adds(pre, "?");
		return;
	}
	gs_strbuf_init(&tmp);
	switch (t->kind) {
	case GS_TYPE_POINTER:
	case GS_TYPE_REFERENCE:
	case GS_TYPE_RVALUE_REF: {
		const char *sig = t->kind == GS_TYPE_POINTER ? "*" : t->kind == GS_TYPE_REFERENCE ? "&" : "&&";
		bool paren = !gs_index_type(idx, t->target, &tt) &&
			     (tt->kind == GS_TYPE_FUNC || tt->kind == GS_TYPE_ARRAY);

		gs_strbuf_addf(&tmp, "%s%s%s%s", paren ? "(" : "", sig, decl->buf, paren ? ")" : "");
		gs_strbuf_reset(decl);
		gs_strbuf_add(decl, tmp.buf, tmp.len);
		gs_strbuf_deinit(&tmp);
		type_str_rec(idx, t->target, pre, decl, depth + 1);
		return;
	}
	case GS_TYPE_ARRAY:
		for (uint32_t i = 0; i < t->ndims; i++)
			gs_strbuf_addf(decl, "[%" PRIu64 "]", t->dims[i]);
		type_str_rec(idx, t->target, pre, decl, depth + 1);
		return;
	case GS_TYPE_FUNC:
		gs_strbuf_addc(decl, '(');
		for (uint32_t i = 0; i < t->nparams; i++) {
			char buf[256];

			gs_strbuf_addf(decl, "%s%s", i ? ", " : "",
				       gsi_type_str(idx, t->params[i], buf, sizeof(buf)));
		}
		gs_strbuf_addf(decl, "%s)", t->varargs ? (t->nparams ? ", ..." : "...") : "");
		type_str_rec(idx, t->target, pre, decl, depth + 1);
		return;
	case GS_TYPE_CONST:
	case GS_TYPE_VOLATILE:
	case GS_TYPE_RESTRICT:
	case GS_TYPE_ATOMIC: {
		const char *q = t->kind == GS_TYPE_CONST ? "const" : t->kind == GS_TYPE_VOLATILE ?
				"volatile" : t->kind == GS_TYPE_RESTRICT ? "restrict" : "_Atomic";

		if (!gs_index_type(idx, t->target, &tt) && tt->kind == GS_TYPE_POINTER) {
			gs_strbuf_addf(&tmp, " %s%s%s", q, decl->len ? " " : "", decl->buf);
			gs_strbuf_reset(decl);
			gs_strbuf_add(decl, tmp.buf, tmp.len);	/* "* const p" */
		} else {
			gs_strbuf_addf(pre, "%s ", q);		/* "const char" */
		}
		gs_strbuf_deinit(&tmp);
		type_str_rec(idx, t->target, pre, decl, depth + 1);
		return;
	}
	case GS_TYPE_STRUCT: gs_strbuf_adds(pre, "struct "); break;
	case GS_TYPE_CLASS: gs_strbuf_adds(pre, "class "); break;
	case GS_TYPE_UNION: gs_strbuf_adds(pre, "union "); break;
	case GS_TYPE_ENUM: gs_strbuf_adds(pre, "enum "); break;
	default: break;
	}
	gs_strbuf_deinit(&tmp);
	gs_strbuf_adds(pre, t->name ? t->name : "{...}");
}

/* Type @id declaring @name (NULL: the type alone, as gdb's ptype spells it). */
static const char *decl_str(struct gs_index *idx, uint32_t id, const char *name, char *buf,
			    size_t len)
{
	struct gs_strbuf pre, decl;

	gs_strbuf_init(&pre);
	gs_strbuf_init(&decl);
	gs_strbuf_adds(&decl, name ? name : "");
	type_str_rec(idx, id, &pre, &decl, 0);
	snprintf(buf, len, "%s%s%s", pre.buf, decl.len && decl.buf[0] != ' ' ? " " : "", decl.buf);
	gs_strbuf_deinit(&pre);
	gs_strbuf_deinit(&decl);
	return buf;
}

const char *gsi_type_str(struct gs_index *idx, uint32_t id, char *buf, size_t len)
{
	return decl_str(idx, id, NULL, buf, len);
}

/* ---- JSON -------------------------------------------------------------------------- */

static void jstr(FILE *out, const char *s)
{
	fputc('"', out);
	for (; s && *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void jranges(FILE *out, const struct gs_range *r, uint32_t n)
{
	fputc('[', out);
	for (uint32_t i = 0; i < n; i++)
		fprintf(out, "%s[\"0x%" PRIx64 "\",\"0x%" PRIx64 "\"]", i ? "," : "", r[i].lo, r[i].hi);
	fputc(']', out);
}

/* ---- queries ----------------------------------------------------------------------- */

static const char *file_or(struct gs_index *idx, uint32_t id)
{
	const char *f = gs_index_file_name(idx, id);

	return f ? f : "??";
}

static const char *prologue_rule(uint32_t flags)
{
	if (flags & GS_FUNC_PROLOGUE_END)
		return "prologue_end";
	if (flags & GS_FUNC_PROLOGUE_LINE2)
		return "second_line";
	return "entry";
}

static void func_flags(uint32_t fl, struct gs_strbuf *sb)
{
	static const char *const names[] = { "external", "clone", "symbol_only", "prologue_end",
					     "prologue_line2", "declared_inline", "tail_called" };

	for (int i = 0; i < 6; i++)
		if (fl & (1u << i))
			gs_strbuf_addf(sb, "%s%s", sb->len ? "," : "", names[i]);
}

static void print_func(struct gs_index *idx, const struct gs_func *f, bool json, bool first,
		       FILE *out)
{
	struct gs_strbuf fl;
	uint64_t off = 0;
	bool have_off = !gs_index_vaddr_to_offset(idx, f->post_prologue_pc, &off);
	char tb[256];

	gs_strbuf_init(&fl);
	func_flags(f->flags, &fl);
	if (json) {
		fprintf(out, "%s{\"kind\":\"function\",\"id\":%u,\"name\":", first ? "" : ",", f->id);
		jstr(out, f->name);
		fputs(",\"qual_name\":", out);
		jstr(out, f->qual_name);
		fputs(",\"linkage\":", out);
		f->linkage ? jstr(out, f->linkage) : (void)fputs("null", out);
		fputs(",\"symbol\":", out);
		f->symbol ? jstr(out, f->symbol) : (void)fputs("null", out);
		fprintf(out, ",\"entry_pc\":\"0x%" PRIx64 "\",\"post_prologue_pc\":\"0x%" PRIx64
			"\",\"prologue_rule\":\"%s\",\"file_offset\":", f->entry_pc,
			f->post_prologue_pc, prologue_rule(f->flags));
		have_off ? (void)fprintf(out, "\"0x%" PRIx64 "\"", off) : (void)fputs("null", out);
		fputs(",\"ranges\":", out);
		jranges(out, f->ranges, f->nranges);
		fputs(",\"decl_file\":", out);
		jstr(out, f->decl_file ? file_or(idx, f->decl_file) : "");
		fprintf(out, ",\"decl_line\":%u,\"return_type\":", f->decl_line);
		jstr(out, gsi_type_str(idx, f->ret_type, tb, sizeof(tb)));
		fputs(",\"flags\":", out);
		jstr(out, fl.buf);
		fputc('}', out);
	} else {
		fprintf(out, "function %s (id %u)\n", f->qual_name, f->id);
		if (f->linkage)
			fprintf(out, "  linkage:  %s\n", f->linkage);
		if (f->symbol)
			fprintf(out, "  symbol:   %s\n", f->symbol);
		fprintf(out, "  entry:    0x%" PRIx64 "\n", f->entry_pc);
		fprintf(out, "  post-prologue: 0x%" PRIx64 " (%s)", f->post_prologue_pc,
			prologue_rule(f->flags));
		if (have_off)
			fprintf(out, " file offset 0x%" PRIx64, off);
		fputc('\n', out);
		fputs("  ranges:  ", out);
		for (uint32_t i = 0; i < f->nranges; i++)
			fprintf(out, " [0x%" PRIx64 ",0x%" PRIx64 ")", f->ranges[i].lo, f->ranges[i].hi);
		fputc('\n', out);
		if (f->decl_file)
			fprintf(out, "  decl:     %s:%u\n", file_or(idx, f->decl_file), f->decl_line);
		fprintf(out, "  returns:  %s\n", gsi_type_str(idx, f->ret_type, tb, sizeof(tb)));
		if (fl.len)
			fprintf(out, "  flags:    %s\n", fl.buf);
	}
	gs_strbuf_deinit(&fl);
}

static int q_func(struct gs_index *idx, const char *name, bool json, FILE *out)
{
	const struct gs_func *const *fs = NULL;
	const struct gs_inline *in = NULL;
	size_t nf = 0, ni = 0;
	int r1 = gs_index_funcs_by_name(idx, name, &fs, &nf);
	int r2 = gs_index_inlines_by_name(idx, name, &in, &ni);

	if ((r1 && r1 != -ENOENT) || (r2 && r2 != -ENOENT)) {
		fprintf(stderr, "ghostscope-index: query failed: %s\n", gs_strerror(r1 ? r1 : r2));
		return GSI_EXIT_FAIL;
	}
	if (!nf && !ni) {
		const char *sugg[5];
		size_t ns = 0;

		gs_index_func_suggest(idx, name, sugg, 5, &ns);
		fprintf(stderr, "ghostscope-index: no function '%s'", name);
		for (size_t i = 0; i < ns; i++)
			fprintf(stderr, "%s%s", i ? ", " : "; did you mean: ", sugg[i]);
		fputc('\n', stderr);
		return GSI_EXIT_NOT_FOUND;
	}
	if (json)
		fputc('[', out);
	for (size_t i = 0; i < nf; i++)
		print_func(idx, fs[i], json, i == 0, out);
	for (size_t i = 0; i < ni; i++) {
		const struct gs_func *host = NULL;

		gs_index_func_by_id(idx, in[i].func_id, &host);
		if (json) {
			fprintf(out, "%s{\"kind\":\"inline\",\"name\":", nf + i ? "," : "");
			jstr(out, in[i].qual_name);
			fputs(",\"in\":", out);
			jstr(out, host ? host->qual_name : "");
			fprintf(out, ",\"entry_pc\":\"0x%" PRIx64 "\",\"ranges\":", in[i].entry_pc);
			jranges(out, in[i].ranges, in[i].nranges);
			fputs(",\"call_file\":", out);
			jstr(out, file_or(idx, in[i].call_file));
			fprintf(out, ",\"call_line\":%u}", in[i].call_line);
		} else {
			fprintf(out, "inline %s in %s\n  entry:    0x%" PRIx64 "\n  ranges:  ",
				in[i].qual_name, host ? host->qual_name : "??", in[i].entry_pc);
			for (uint32_t j = 0; j < in[i].nranges; j++)
				fprintf(out, " [0x%" PRIx64 ",0x%" PRIx64 ")", in[i].ranges[j].lo,
					in[i].ranges[j].hi);
			fprintf(out, "\n  call site: %s:%u:%u\n", file_or(idx, in[i].call_file),
				in[i].call_line, in[i].call_column);
		}
	}
	if (json)
		fputs("]\n", out);
	return GSI_EXIT_OK;
}

static int q_line(struct gs_index *idx, const char *arg, bool json, FILE *out)
{
	const char *colon = strrchr(arg, ':');
	char file[4096];
	const uint32_t *ids;
	size_t nids, shown = 0;
	unsigned long line;
	char *end;

	if (!colon || colon == arg || (size_t)(colon - arg) >= sizeof(file)) {
		fprintf(stderr, "ghostscope-index: --line wants FILE:LINE, got '%s'\n", arg);
		return GSI_EXIT_USAGE;
	}
	line = strtoul(colon + 1, &end, 10);
	if (*end || !line) {
		fprintf(stderr, "ghostscope-index: bad line number in '%s'\n", arg);
		return GSI_EXIT_USAGE;
	}
	memcpy(file, arg, colon - arg);
	file[colon - arg] = '\0';
	if (gs_index_files_match(idx, file, &ids, &nids)) {
		fprintf(stderr, "ghostscope-index: no source file '%s'\n", file);
		return GSI_EXIT_NOT_FOUND;
	}
	if (json)
		fputc('[', out);
	for (size_t i = 0; i < nids; i++) {
		const struct gs_line_addr *la;
		size_t n;

		if (gs_index_line_addrs(idx, ids[i], (uint32_t)line, &la, &n))
			continue;
		for (size_t j = 0; j < n; j++) {
			const struct gs_func *f = NULL;
			const char *fname = la[j].func_id && !gs_index_func_by_id(idx, la[j].func_id, &f)
					    ? f->qual_name : "??";

			if (json) {
				fprintf(out, "%s{\"file\":", shown ? "," : "");
				jstr(out, file_or(idx, ids[i]));
				fprintf(out, ",\"line\":%lu,\"addr\":\"0x%" PRIx64 "\",\"function\":",
					line, la[j].addr);
				jstr(out, fname);
				fputc('}', out);
			} else {
				fprintf(out, "%s:%lu 0x%" PRIx64 " in %s", file_or(idx, ids[i]), line,
					la[j].addr, fname);
				if (f)
					fprintf(out, "+%" PRIu64, la[j].addr - f->entry_pc);
				fputc('\n', out);
			}
			shown++;
		}
	}
	if (json)
		fputs("]\n", out);
	if (!shown) {
		fprintf(stderr, "ghostscope-index: no code for line %lu of '%s'\n", line, file);
		return GSI_EXIT_NOT_FOUND;
	}
	return GSI_EXIT_OK;
}

static void print_var(struct gs_index *idx, const struct gs_var *v, const char *indent,
		      bool json, bool first, FILE *out)
{
	static const char *const kinds[] = { "param", "local", "global", "static" };
	struct gs_strbuf sb;
	char tb[256];

	gs_strbuf_init(&sb);
	loc_str(&v->loc, &sb);
	gsi_type_str(idx, v->type_id, tb, sizeof(tb));
	if (json) {
		fprintf(out, "%s{\"name\":", first ? "" : ",");
		jstr(out, v->name);
		fprintf(out, ",\"kind\":\"%s\",\"type\":", kinds[v->kind & 3]);
		jstr(out, tb);
		fprintf(out, ",\"type_id\":%u,\"tls\":%s,\"location\":", v->type_id,
			v->flags & GS_VAR_TLS ? "true" : "false");
		jstr(out, sb.buf);
		fputc('}', out);
	} else {
		fprintf(out, "%s%s %s%s: %s\n", indent, kinds[v->kind & 3],
			decl_str(idx, v->type_id, v->name, tb, sizeof(tb)),
			v->flags & GS_VAR_TLS ? " (tls)" : "", sb.buf);
	}
	gs_strbuf_deinit(&sb);
}

static int q_addr(struct gs_index *idx, uint64_t pc, bool json, FILE *out)
{
	const struct gs_scope *chain[64];
	const struct gs_func *f;
	struct gs_line_row row;
	size_t n;
	bool have_row = !gs_index_line_at(idx, pc, &row);
	int ret = gs_index_func_by_addr(idx, pc, &f);

	if (ret) {
		const struct gs_symbol *s;

		if (!gs_index_symbol_by_addr(idx, pc, &s)) {
			if (json) {
				fputs("{\"symbol\":", out);
				jstr(out, s->name);
				fprintf(out, ",\"offset\":%" PRIu64 "}\n", pc - s->value);
			} else {
				fprintf(out, "0x%" PRIx64 " is in %s+%" PRIu64 " (symbol only)\n", pc,
					s->name, pc - s->value);
			}
			return GSI_EXIT_OK;
		}
		fprintf(stderr, "ghostscope-index: no function at 0x%" PRIx64 "\n", pc);
		return GSI_EXIT_NOT_FOUND;
	}
	if (json) {
		fprintf(out, "{\"addr\":\"0x%" PRIx64 "\",\"function\":", pc);
		jstr(out, f->qual_name);
		fprintf(out, ",\"offset\":%" PRIu64, pc - f->entry_pc);
		if (have_row) {
			fputs(",\"file\":", out);
			jstr(out, file_or(idx, row.file_id));
			fprintf(out, ",\"line\":%u,\"column\":%u", row.line, row.column);
		}
		fputs(",\"scopes\":[", out);
	} else {
		fprintf(out, "0x%" PRIx64 " is in %s+%" PRIu64, pc, f->qual_name, pc - f->entry_pc);
		if (have_row)
			fprintf(out, " at %s:%u:%u", file_or(idx, row.file_id), row.line, row.column);
		fputc('\n', out);
	}
	ret = gs_index_scope_chain(idx, pc, chain, 64, &n);
	for (size_t i = 0; !ret && i < n; i++) {
		const struct gs_scope *s = chain[i];
		static const char *const kinds[] = { "function", "block", "inline" };
		struct gs_strbuf fb;

		gs_strbuf_init(&fb);
		loc_str(&s->frame_base, &fb);
		if (json) {
			fprintf(out, "%s{\"kind\":\"%s\",\"name\":", i ? "," : "", kinds[s->kind % 3]);
			jstr(out, s->name ? s->name : "");
			fputs(",\"ranges\":", out);
			jranges(out, s->ranges, s->nranges);
			if (s->kind == GS_SCOPE_FUNC) {
				fputs(",\"frame_base\":", out);
				jstr(out, fb.buf);
			}
			fputs(",\"vars\":[", out);
		} else {
			fprintf(out, "  %s %s", kinds[s->kind % 3], s->name ? s->name : "");
			if (s->kind == GS_SCOPE_INLINE)
				fprintf(out, " (called from %s:%u)", file_or(idx, s->call_file),
					s->call_line);
			if (s->kind == GS_SCOPE_FUNC)
				fprintf(out, " frame base %s", fb.buf);
			fputc('\n', out);
		}
		gs_strbuf_deinit(&fb);
		for (uint32_t j = 0; j < s->nvars; j++)
			print_var(idx, &s->vars[j], "    ", json, j == 0, out);
		if (json)
			fputs("]}", out);
	}
	if (json)
		fputs("]}\n", out);
	return ret ? GSI_EXIT_FAIL : GSI_EXIT_OK;
}

static void print_type(struct gs_index *idx, const struct gs_type *t, bool json, bool first,
		       FILE *out)
{
	char tb[256];

	if (json) {
		fprintf(out, "%s{\"id\":%u,\"kind\":%u,\"name\":", first ? "" : ",", t->id, t->kind);
		jstr(out, t->name);
		fprintf(out, ",\"size\":%" PRIu64 ",\"declaration\":%s,\"target\":%u,\"members\":[",
			t->size, t->declaration ? "true" : "false", t->target);
		for (uint32_t i = 0; i < t->nmembers; i++) {
			fprintf(out, "%s{\"name\":", i ? "," : "");
			jstr(out, t->members[i].name);
			fputs(",\"type\":", out);
			jstr(out, gsi_type_str(idx, t->members[i].type_id, tb, sizeof(tb)));
			fprintf(out, ",\"bit_offset\":%" PRIu64 ",\"bit_size\":%u}",
				t->members[i].bit_offset, t->members[i].bit_size);
		}
		fputs("],\"enumerators\":[", out);
		for (uint32_t i = 0; i < t->nenumerators; i++) {
			fprintf(out, "%s{\"name\":", i ? "," : "");
			jstr(out, t->enumerators[i].name);
			fprintf(out, ",\"value\":%" PRId64 "}", t->enumerators[i].value);
		}
		fputs("]}", out);
		return;
	}
	if (t->kind == GS_TYPE_TYPEDEF) {
		fprintf(out, "typedef %s; /* size %" PRIu64 ", target %u */\n",
			decl_str(idx, t->target, t->name, tb, sizeof(tb)), t->size, t->target);
		return;
	}
	if (t->kind != GS_TYPE_STRUCT && t->kind != GS_TYPE_CLASS && t->kind != GS_TYPE_UNION &&
	    t->kind != GS_TYPE_ENUM) {
		fprintf(out, "%s; /* size %" PRIu64, gsi_type_str(idx, t->id, tb, sizeof(tb)), t->size);
		if (t->target)
			fprintf(out, ", target %u", t->target);
		fputs(" */\n", out);
		return;
	}
		fprintf(out, "%s%s { /* size %" PRIu64 ", id %u */\n",
			gsi_type_str(idx, t->id, tb, sizeof(tb)), t->declaration ? " (declaration)" : "",
			t->size, t->id);
	for (uint32_t i = 0; i < t->nmembers; i++) {
		const struct gs_member *m = &t->members[i];

		fprintf(out, "    %s", decl_str(idx, m->type_id, m->name ? m->name : "<anonymous>",
						    tb, sizeof(tb)));
		if (m->bit_size)
			fprintf(out, " : %u", m->bit_size);
		fprintf(out, "; /* bit offset %" PRIu64 " */\n", m->bit_offset);
	}
	for (uint32_t i = 0; i < t->nenumerators; i++)
		fprintf(out, "    %s = %" PRId64 ",\n", t->enumerators[i].name, t->enumerators[i].value);
	fputs("}\n", out);
}

static int q_type(struct gs_index *idx, const char *name, bool json, FILE *out)
{
	const struct gs_type *const *ts;
	size_t n;
	int ret;

	for (const char *p; (p = strchr(name, ' ')) && (!strncmp(name, "struct ", 7) ||
	     !strncmp(name, "union ", 6) || !strncmp(name, "enum ", 5) || !strncmp(name, "class ", 6));)
		name = p + 1;
	ret = gs_index_types_by_name(idx, name, &ts, &n);
	if (ret) {
		fprintf(stderr, "ghostscope-index: no type '%s'\n", name);
		return ret == -ENOENT ? GSI_EXIT_NOT_FOUND : GSI_EXIT_FAIL;
	}
	if (json)
		fputc('[', out);
	for (size_t i = 0; i < n; i++)
		print_type(idx, ts[i], json, i == 0, out);
	if (json)
		fputs("]\n", out);
	return GSI_EXIT_OK;
}

static int q_global(struct gs_index *idx, const char *name, bool json, FILE *out)
{
	const struct gs_var *vs;
	size_t n;
	int ret = gs_index_globals_by_name(idx, name, &vs, &n);

	if (ret) {
		fprintf(stderr, "ghostscope-index: no global '%s'\n", name);
		return ret == -ENOENT ? GSI_EXIT_NOT_FOUND : GSI_EXIT_FAIL;
	}
	if (json)
		fputc('[', out);
	for (size_t i = 0; i < n; i++)
		print_var(idx, &vs[i], "", json, i == 0, out);
	if (json)
		fputs("]\n", out);
	return GSI_EXIT_OK;
}

static int q_cfi(struct gs_index *idx, uint64_t pc, bool json, FILE *out)
{
	struct gs_cfi_row row;
	char buf[256];
	int ret = gs_index_cfi_at(idx, pc, &row);

	if (ret) {
		fprintf(stderr, "ghostscope-index: no CFI for 0x%" PRIx64 "\n", pc);
		return ret == -ENOENT ? GSI_EXIT_NOT_FOUND : GSI_EXIT_FAIL;
	}
	gs_cfi_row_str(&row, buf, sizeof(buf));
	if (json) {
		fprintf(out, "{\"addr\":\"0x%" PRIx64 "\",\"cfa_rule\":%u,\"cfa_reg\":%u,"
			"\"cfa_off\":%d,\"ra_rule\":%u,\"ra_off\":%d,\"rbp_rule\":%u,\"rbp_off\":%d,"
			"\"text\":", pc, row.cfa_rule, row.cfa_reg, row.cfa_off, row.ra_rule,
			row.ra_off, row.rbp_rule, row.rbp_off);
		jstr(out, buf);
		fputs("}\n", out);
	} else {
		fprintf(out, "0x%" PRIx64 ": %s\n", pc, buf);
	}
	return GSI_EXIT_OK;
}

int gsi_query(struct gs_index *idx, enum gsi_query_kind kind, const char *arg, bool json,
	      FILE *out)
{
	uint64_t pc;
	char *end;

	switch (kind) {
	case GSI_Q_FUNC: return q_func(idx, arg, json, out);
	case GSI_Q_LINE: return q_line(idx, arg, json, out);
	case GSI_Q_TYPE: return q_type(idx, arg, json, out);
	case GSI_Q_GLOBAL: return q_global(idx, arg, json, out);
	case GSI_Q_ADDR:
	case GSI_Q_CFI:
		errno = 0;
		pc = strtoull(arg, &end, 0);
		if (errno || *end || end == arg) {
			fprintf(stderr, "ghostscope-index: bad address '%s'\n", arg);
			return GSI_EXIT_USAGE;
		}
		return kind == GSI_Q_ADDR ? q_addr(idx, pc, json, out) : q_cfi(idx, pc, json, out);
	}
	return GSI_EXIT_USAGE;
}

/* ---- dump -------------------------------------------------------------------------- */

static void dump_scope(struct gs_index *idx, const struct gs_scope *s, int depth, FILE *out)
{
	static const char *const kinds[] = { "function", "block", "inline" };
	char indent[72];
	struct gs_strbuf fb;

	snprintf(indent, sizeof(indent), "%*s", 2 + depth * 2, "");
	gs_strbuf_init(&fb);
	loc_str(&s->frame_base, &fb);
	fprintf(out, "%s%s %s", indent, kinds[s->kind % 3], s->name ? s->name : "-");
	for (uint32_t i = 0; i < s->nranges; i++)
		fprintf(out, " [0x%" PRIx64 ",0x%" PRIx64 ")", s->ranges[i].lo, s->ranges[i].hi);
	if (s->kind == GS_SCOPE_INLINE)
		fprintf(out, " call %s:%u", file_or(idx, s->call_file), s->call_line);
	if (s->kind == GS_SCOPE_FUNC)
		fprintf(out, " frame_base %s", fb.buf);
	fputc('\n', out);
	gs_strbuf_deinit(&fb);
	strcat(indent, "  ");
	for (uint32_t i = 0; i < s->nvars; i++)
		print_var(idx, &s->vars[i], indent, false, i == 0, out);
	for (uint32_t i = 0; i < s->nchildren; i++)
		dump_scope(idx, &s->children[i], depth + 1, out);
}

static int dump_line(const struct gs_line_row *r, void *arg)
{
	FILE *out = arg;

	fprintf(out, "line 0x%" PRIx64 " file %u line %u col %u%s%s%s\n", r->addr, r->file_id,
		r->line, r->column, r->flags & GS_LINE_IS_STMT ? " stmt" : "",
		r->flags & GS_LINE_PROLOGUE_END ? " prologue_end" : "",
		r->flags & GS_LINE_END_SEQUENCE ? " end_sequence" : "");
	return 0;
}

int gsi_dump(struct gs_index *idx, FILE *out)
{
	const struct gs_module_info *mi;
	const struct gs_cfi_row *rows;
	const struct gs_cfi_entry *ents;
	size_t nrows, nents;
	char buf[256];
	const char *f;

	gs_index_module(idx, &mi);
	fprintf(out, "module %s\ntype %u machine %u\nhas_dwarf %d\ndebug_source %s\n"
		"dwarf_versions 0x%x\nschema %u.%u\n", mi->build_id, mi->elf_type, mi->machine,
		mi->has_dwarf, mi->debug_source, mi->dwarf_versions, mi->schema_major,
		mi->schema_minor);
	for (uint32_t i = 0; i < mi->nsegments; i++)
		fprintf(out, "segment vaddr 0x%" PRIx64 " memsz 0x%" PRIx64 " offset 0x%" PRIx64
			" filesz 0x%" PRIx64 " flags %u\n", mi->segments[i].vaddr, mi->segments[i].memsz,
			mi->segments[i].offset, mi->segments[i].filesz, mi->segments[i].flags);
	for (uint32_t id = 1; (f = gs_index_file_name(idx, id)); id++)
		fprintf(out, "file %u %s\n", id, f);
	for (uint32_t id = 1; id <= mi->nsymbols; id++) {
		const struct gs_symbol *s;

		if (gs_index_symbol_by_id(idx, id, &s))
			return GSI_EXIT_FAIL;
		fprintf(out, "symbol %s 0x%" PRIx64 " size %" PRIu64 " type %u bind %u%s\n", s->name,
			s->value, s->size, s->type, s->bind, s->dynamic ? " dynamic" : "");
	}
	for (uint32_t id = 1; id <= mi->nfuncs; id++) {
		const struct gs_func *fn;
		const struct gs_scope *root;

		if (gs_index_func_by_id(idx, id, &fn))
			return GSI_EXIT_FAIL;
		print_func(idx, fn, false, false, out);
		for (uint32_t i = 0; i < fn->ncallers; i++)
			fprintf(out, "%s0x%" PRIx64 "%s", i ? " " : "  called from call sites ",
				fn->callers[i], i + 1 == fn->ncallers ? "\n" : "");
		if (!gs_index_scope_tree(idx, id, &root))
			dump_scope(idx, root, 0, out);
	}
	for (uint32_t id = 1; id <= mi->ninlines; id++) {
		const struct gs_inline *in;

		if (gs_index_inline_by_id(idx, id, &in))
			return GSI_EXIT_FAIL;
		fprintf(out, "inline %s in func %u entry 0x%" PRIx64 " call %s:%u:%u\n",
			in->qual_name, in->func_id, in->entry_pc, file_or(idx, in->call_file),
			in->call_line, in->call_column);
	}
	for (uint32_t id = 1; id <= mi->nglobals; id++) {
		const struct gs_var *v;
		const char *q;

		if (gs_index_global_by_id(idx, id, &v, &q))
			return GSI_EXIT_FAIL;
		fprintf(out, "global %s ", q);
		print_var(idx, v, "", false, false, out);
	}
	for (uint32_t id = 1; id <= mi->ntypes; id++) {
		const struct gs_type *t;

		if (gs_index_type(idx, id, &t))
			return GSI_EXIT_FAIL;
		fprintf(out, "type %u ", id);
		print_type(idx, t, false, false, out);
	}
	for (uint64_t pc = 0;;) {
		const struct gs_call_site *cs;
		int r = gs_index_call_site_from(idx, pc, &cs);

		if (r == -ENOENT)
			break;
		if (r)
			return GSI_EXIT_FAIL;
		fprintf(out, "callsite 0x%" PRIx64 " caller %u target %u\n", cs->return_pc,
			cs->caller_func_id, cs->target_func_id);
		for (uint32_t i = 0; i < cs->nparams; i++) {
			struct gs_strbuf a, b;

			gs_strbuf_init(&a);
			gs_strbuf_init(&b);
			expr_str(&cs->params[i].location, &a);
			expr_str(&cs->params[i].value, &b);
			fprintf(out, "  param %s = %s\n", a.buf, b.buf);
			gs_strbuf_deinit(&a);
			gs_strbuf_deinit(&b);
		}
		if (cs->return_pc == UINT64_MAX)
			break;
		pc = cs->return_pc + 1;
	}
	if (gs_index_line_foreach(idx, dump_line, out))
		return GSI_EXIT_FAIL;
	if (gs_index_cfi(idx, &rows, &nrows, &ents, &nents))
		return GSI_EXIT_FAIL;
	for (size_t i = 0; i < nrows; i++)
		fprintf(out, "cfi_row %zu %s\n", i, gs_cfi_row_str(&rows[i], buf, sizeof(buf)));
	for (size_t i = 0; i < nents; i++) {
		if (ents[i].row == UINT32_MAX)
			fprintf(out, "cfi 0x%" PRIx64 " none\n", ents[i].pc);
		else
			fprintf(out, "cfi 0x%" PRIx64 " row %u\n", ents[i].pc, ents[i].row);
	}
	return GSI_EXIT_OK;
}

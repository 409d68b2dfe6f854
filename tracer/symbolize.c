// SPDX-License-Identifier: GPL-2.0-or-later
/* Backtrace symbolization from the indexes (see symbolize.h). */
#include <elf.h>
#include <inttypes.h>
#include <string.h>

#include "tracer/render.h"
#include "tracer/symbolize.h"

#define MAX_SCOPES 64

static const char *base_name(const char *path)
{
	const char *s = path ? strrchr(path, '/') : NULL;

	return s ? s + 1 : path ? path : "?";
}

/* The module whose code holds runtime @pc, and @pc as a module vaddr. */
static struct gs_plan_module *find_module(const struct gs_plan *plan, uint64_t pc, uint64_t *vaddr)
{
	for (size_t i = 0; i < plan->nmods; i++) {
		struct gs_plan_module *m = &plan->mods[i];

		if (m->has_exec && pc >= m->exec_start && pc < m->exec_end && m->has_bias) {
			*vaddr = pc - m->bias;
			return m;
		}
	}
	/* Without maps (-t): a non-PIE executable is where it says it is. */
	for (size_t i = 0; i < plan->nmods; i++) {
		struct gs_plan_module *m = &plan->mods[i];

		if (!m->info || m->info->elf_type != ET_EXEC)
			continue;
		for (uint32_t s = 0; s < m->info->nsegments; s++) {
			const struct gs_segment *seg = &m->info->segments[s];

			if ((seg->flags & PF_X) && pc >= seg->vaddr && pc < seg->vaddr + seg->memsz) {
				*vaddr = pc;
				return m;
			}
		}
	}
	return NULL;
}

static void add_signature(struct gs_index *idx, const struct gs_scope *fn, struct gs_strbuf *sb)
{
	bool first = true;

	gs_strbuf_addc(sb, '(');
	for (uint32_t i = 0; fn && i < fn->nvars; i++) {
		const struct gs_var *v = &fn->vars[i];

		if (v->kind != GS_VAR_PARAM)
			continue;
		if (!first)
			gs_strbuf_adds(sb, ", ");
		first = false;
		if (v->name)
			gs_render_decl(idx, v->type_id, v->name, sb);
		else
			gs_render_type_name(idx, v->type_id, sb);
	}
	gs_strbuf_addc(sb, ')');
}

static void add_location(struct gs_index *idx, uint32_t file, uint32_t line, uint32_t col,
			 struct gs_strbuf *sb)
{
	if (!file || !line)
		return;
	gs_strbuf_addf(sb, " at %s:%u", base_name(gs_index_file_name(idx, file)), line);
	if (col)
		gs_strbuf_addf(sb, ":%u", col);
}

void gs_symbolize_pc(const struct gs_plan *plan, uint64_t pc, bool is_return,
		     const struct gs_frame_opts *o, unsigned int *frame_no,
		     void (*emit)(void *ctx, char *line), void *ctx)
{
	const struct gs_scope *chain[MAX_SCOPES];
	struct gs_plan_module *m;
	struct gs_line_row row;
	struct gs_strbuf sb;
	uint64_t vaddr = 0, look;
	uint32_t file = 0, line = 0, col = 0;
	size_t n = 0;

	gs_strbuf_init(&sb);
	m = find_module(plan, pc, &vaddr);
	if (!m || !m->idx) {
		gs_strbuf_addf(&sb, "  #%u 0x%" PRIx64 " ??", (*frame_no)++, pc);
		if (m)
			gs_strbuf_addf(&sb, " [%s+0x%" PRIx64 "]", base_name(m->path), vaddr);
		emit(ctx, gs_strbuf_detach(&sb));
		return;
	}
	look = is_return && vaddr ? vaddr - 1 : vaddr;
	if (!gs_index_line_at(m->idx, look, &row)) {
		file = row.file_id;
		line = row.line;
		col = row.column;
	}
	if (gs_index_scope_chain(m->idx, look, chain, MAX_SCOPES, &n) || !n) {
		const struct gs_symbol *sym;

		gs_strbuf_addf(&sb, "  #%u ", (*frame_no)++);
		if (o->raw)
			gs_strbuf_addf(&sb, "0x%" PRIx64 " ", pc);
		if (!gs_index_symbol_by_addr(m->idx, look, &sym))
			gs_strbuf_addf(&sb, "%s", sym->name);
		else
			gs_strbuf_adds(&sb, "??");
		add_location(m->idx, file, line, col, &sb);
		gs_strbuf_addf(&sb, " [%s+0x%" PRIx64 "]", base_name(m->path), vaddr);
		emit(ctx, gs_strbuf_detach(&sb));
		return;
	}
	/* Innermost first: each inlined scope is a frame called from the next one out. */
	for (size_t i = 0; i < n; i++) {
		const struct gs_scope *s = chain[i];
		bool is_inline = s->kind == GS_SCOPE_INLINE;

		if (s->kind == GS_SCOPE_BLOCK)
			continue;
		if (!(is_inline && o->noinline)) {
			gs_strbuf_reset(&sb);
			gs_strbuf_addf(&sb, "  #%u ", (*frame_no)++);
			if (o->raw)
				gs_strbuf_addf(&sb, "0x%" PRIx64 " ", pc);
			gs_strbuf_adds(&sb, s->name ? s->name : "??");
			add_signature(m->idx, s, &sb);
			if (is_inline)
				gs_strbuf_adds(&sb, " [inlined]");
			add_location(m->idx, file, line, col, &sb);
			gs_strbuf_addf(&sb, " [%s+0x%" PRIx64 "]", base_name(m->path), vaddr);
			emit(ctx, gs_strbuf_detach(&sb));
		}
		if (is_inline) {	/* the caller's frame is at the call site */
			file = s->call_file;
			line = s->call_line;
			col = 0;
		}
	}
	gs_strbuf_deinit(&sb);
}

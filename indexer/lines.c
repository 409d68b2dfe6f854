// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Line tables: every row of every CU into address-sorted chunks ("line"), every
 * is_stmt row into (file, line) buckets ("line_addr"), and the post-prologue pc of a
 * function by the rule perf probe uses (tools/perf/util/dwarf-aux.c): the first row
 * from the entry row on that has prologue_end, or a different line, or is simply the
 * second row; a result at or past the range end falls back to the row before it.
 * gcc 12 emits no prologue_end, clang does; the function's flags record which rule
 * gave the answer.
 */
#include <dwarf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "indexer/internal.h"
#include "shared/sort.h"

int ix_lines_cu(struct ix_model *m, Dwarf_Die *cu, const char *comp_dir)
{
	Dwarf_Lines *lines;
	Dwarf_Files *files;
	size_t n, nfiles;
	uint32_t *fid = NULL;
	int ret = 0;

	if (dwarf_getsrclines(cu, &lines, &n) || dwarf_getsrcfiles(cu, &files, &nfiles))
		return 0;	/* a CU without a line table */
	fid = calloc(nfiles ? nfiles : 1, sizeof(*fid));
	if (!fid)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		Dwarf_Line *l = dwarf_onesrcline(lines, i);
		Dwarf_Addr addr;
		Dwarf_Files *lf;
		size_t fi;
		int lineno = 0, col = 0;
		bool stmt = false, end = false, pend = false;
		struct ix_line *row;

		if (!l || dwarf_lineaddr(l, &addr))
			continue;
		addr += m->bias;
		if (addr < m->min_exec)		/* a sequence of a discarded section */
			continue;
		dwarf_lineno(l, &lineno);
		dwarf_linecol(l, &col);
		dwarf_linebeginstatement(l, &stmt);
		dwarf_lineendsequence(l, &end);
		dwarf_lineprologueend(l, &pend);
		if (dwarf_line_file(l, &lf, &fi) || fi >= nfiles)
			continue;
		if (!fid[fi])
			fid[fi] = ix_file_id(m, dwarf_filesrc(lf, fi, NULL, NULL), comp_dir);
		row = IX_PUSH(m->lines, m->nlines, m->caplines);
		if (!row) {
			ret = -ENOMEM;
			break;
		}
		row->addr = addr;
		row->file = fid[fi];
		row->line = lineno > 0 ? (uint32_t)lineno : 0;
		row->column = col > 0 && col < 65536 ? (uint16_t)col : 0;
		row->flags = (stmt ? GS_LINE_IS_STMT : 0) | (pend ? GS_LINE_PROLOGUE_END : 0) |
			     (end ? GS_LINE_END_SEQUENCE : 0);
		row->seq = (uint32_t)(m->nlines - 1);
		if (stmt && !end && lineno > 0 && fid[fi]) {
			struct ix_stmt *s = IX_PUSH(m->stmts, m->nstmts, m->capstmts);

			if (!s) {
				ret = -ENOMEM;
				break;
			}
			s->file = fid[fi];
			s->line = (uint32_t)lineno;
			s->addr = addr;
		}
	}
	free(fid);
	return ret;
}

uint64_t ix_post_prologue(Dwarf_Die *cu, Dwarf_Addr bias, uint64_t entry, uint64_t hi,
			  uint32_t *flags)
{
	Dwarf_Lines *lines;
	size_t n, lo = 0, up, i, entry_idx;
	Dwarf_Addr addr = 0, want = entry - bias, high = hi - bias;
	Dwarf_Line *l = NULL;
	int entry_lno = 0, lno = 0;
	bool pend = false;

	if (dwarf_getsrclines(cu, &lines, &n) || n == 0)
		return entry;
	up = n;
	while (lo < up) {		/* first row with addr >= entry */
		size_t mid = lo + (up - lo) / 2;

		if (dwarf_lineaddr(dwarf_onesrcline(lines, mid), &addr))
			return entry;
		if (addr < want)
			lo = mid + 1;
		else
			up = mid;
	}
	if (lo >= n || dwarf_lineaddr(dwarf_onesrcline(lines, lo), &addr) || addr != want)
		return entry;
	entry_idx = lo;
	if (dwarf_lineno(dwarf_onesrcline(lines, entry_idx), &entry_lno))
		return entry;
	for (i = entry_idx; i < n; i++) {
		l = dwarf_onesrcline(lines, i);
		if (dwarf_lineaddr(l, &addr) || dwarf_lineno(l, &lno) ||
		    dwarf_lineprologueend(l, &pend))
			return entry;
		if (addr >= high)
			break;
		if (pend) {
			*flags |= GS_FUNC_PROLOGUE_END;
			break;
		}
		if (lno != entry_lno || i != entry_idx) {
			*flags |= GS_FUNC_PROLOGUE_LINE2;
			break;
		}
	}
	if (i >= n)
		return entry;
	if (addr >= high && i > entry_idx) {
		dwarf_lineaddr(dwarf_onesrcline(lines, i - 1), &addr);
		*flags |= GS_FUNC_PROLOGUE_LINE2;
	}
	if (addr >= high || addr < want)
		return entry;
	return addr + bias;
}

/* ---- finishing --------------------------------------------------------------------- */

static int cmp_stmt(const void *a, const void *b)
{
	const struct ix_stmt *x = a, *y = b;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int cmp_line(const void *a, const void *b)
{
	const struct ix_line *x = a, *y = b;
	int ex = !(x->flags & GS_LINE_END_SEQUENCE), ey = !(y->flags & GS_LINE_END_SEQUENCE);

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (ex != ey)		/* at one address, a sequence's end before the next start */
		return ex - ey;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

struct frange {
	uint64_t lo, hi;
	uint32_t id;
};

static int cmp_frange(const void *a, const void *b)
{
	const struct frange *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static uint32_t func_at(const struct frange *r, size_t n, uint64_t pc)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r[mid].lo <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i > 0 && lo - i < 8; i--)
		if (pc >= r[i - 1].lo && pc < r[i - 1].hi)
			return r[i - 1].id;
	return 0;
}

static int finish_buckets(struct ix_model *m)
{
	struct frange *fr = NULL;
	size_t nfr = 0, capfr = 0;
	struct gs_enc v, body;
	int ret = 0;

	for (size_t i = 0; i < m->nfuncs; i++)
		for (uint32_t j = 0; j < m->funcs[i].nranges; j++) {
			struct frange *e = IX_PUSH(fr, nfr, capfr);

			if (!e) {
				free(fr);
				return -ENOMEM;
			}
			e->lo = m->funcs[i].ranges[j].lo;
			e->hi = m->funcs[i].ranges[j].hi;
			e->id = (uint32_t)(i + 1);
		}
	gs_qsort(fr, nfr, sizeof(*fr), cmp_frange);
	gs_qsort(m->stmts, m->nstmts, sizeof(*m->stmts), cmp_stmt);
	gs_enc_init(&v);
	gs_enc_init(&body);
	/* One key per (file, line / GS_LINE_BUCKET): a few lines share a record. */
	for (size_t i = 0; i < m->nstmts && !ret;) {
		uint32_t file = m->stmts[i].file, bucket = m->stmts[i].line / GS_LINE_BUCKET;
		size_t nlines = 0;
		uint64_t prev = 0;	/* these run on across the lines of the bucket */
		uint32_t prev_func = 0, prev_line = 0;
		uint8_t key[8];

		gs_enc_reset(&body);
		while (i < m->nstmts && m->stmts[i].file == file &&
		       m->stmts[i].line / GS_LINE_BUCKET == bucket) {
			uint32_t line = m->stmts[i].line;
			size_t j, cnt = 0;

			for (j = i; j < m->nstmts && m->stmts[j].file == file &&
			     m->stmts[j].line == line; j++)
				cnt += j == i || m->stmts[j].addr != m->stmts[j - 1].addr;
			/* "u (line - previous line of the bucket - 1) << 3 | min(n, 7), [u n]" */
			gs_enc_u(&body, (uint64_t)(line % GS_LINE_BUCKET - prev_line) << 3 |
					(cnt < 7 ? cnt : 7));
			if (cnt >= 7)
				gs_enc_u(&body, cnt);
			prev_line = line % GS_LINE_BUCKET + 1;
			for (size_t k = i; k < j; k++) {
				if (k > i && m->stmts[k].addr == m->stmts[k - 1].addr)
					continue;
				int64_t d = (int64_t)(m->stmts[k].addr - prev);
				uint32_t f = func_at(fr, nfr, m->stmts[k].addr);
				uint64_t zz = ((uint64_t)d << 1) ^ (uint64_t)(d >> 63);

				/* zigzag address delta, low bit "a function id follows" */
				gs_enc_u(&body, zz << 1 | (f != prev_func));
				if (f != prev_func)
					gs_enc_u(&body, f);
				prev = m->stmts[k].addr;
				prev_func = f;
			}
			nlines++;
			i = j;
		}
		gs_enc_reset(&v);
		gs_enc_u(&v, nlines);
		gs_enc_bytes(&v, body.buf, body.len);
		gs_key_put32(key, file);
		gs_key_put32(key + 4, bucket);
		ret = ix_table_put(&m->tables[GS_DB_LINE_ADDR], key, 8, v.buf, v.len);
	}
	gs_enc_deinit(&v);
	gs_enc_deinit(&body);
	free(fr);
	return ret;
}

static bool lines_sorted(const struct ix_model *m)
{
	for (size_t i = 1; i < m->nlines; i++)
		if (cmp_line(&m->lines[i - 1], &m->lines[i]) > 0)
			return false;
	return true;
}

static int finish_rows(struct ix_model *m)
{
	struct gs_enc body, v;
	int ret = 0;

	if (!lines_sorted(m))	/* CUs usually come in address order already */
		gs_qsort(m->lines, m->nlines, sizeof(*m->lines), cmp_line);
	gs_enc_init(&body);
	gs_enc_init(&v);
	for (size_t i = 0; i < m->nlines && !ret;) {
		size_t j = i, cnt = 0;
		uint64_t prev = m->lines[i].addr;
		uint32_t file = 0, line = 0;
		uint8_t key[8];

		gs_enc_reset(&body);
		/* A chunk only ends where the address changes: keys stay unique and the
		 * last row at an address is always in the chunk a lookup lands on. */
		for (; j < m->nlines && (cnt < GS_LINE_CHUNK || m->lines[j].addr == prev); j++) {
			const struct ix_line *l = &m->lines[j];

			int64_t dl = (int64_t)l->line - line;
			uint64_t da = l->addr - prev;
			uint8_t rare = (l->flags & GS_LINE_PROLOGUE_END ? GS_LINE_R_PROLOGUE : 0) |
				       (l->flags & GS_LINE_END_SEQUENCE ? GS_LINE_R_END : 0) |
				       (l->file != file ? GS_LINE_R_FILE : 0);
			bool small_l = dl >= -7 && dl <= 7, small_a = da < GS_LINE_ADDR_ESC;
			bool small_c = l->column < GS_LINE_COL_ESC;

			/* schema.h "line chunk": most rows take two bytes */
			gs_enc_u8(&body, (uint8_t)((l->flags & GS_LINE_IS_STMT) | (rare ? 2 : 0) |
						   (small_c ? l->column : GS_LINE_COL_ESC) << 2));
			if (rare)
				gs_enc_u8(&body, rare);
			gs_enc_u8(&body, (uint8_t)((small_a ? da : GS_LINE_ADDR_ESC) |
						   (small_l ? dl + 8 : 0) << 4));
			if (!small_a)
				gs_enc_u(&body, da);
			if (!small_l)
				gs_enc_s(&body, dl);
			if (l->file != file)
				gs_enc_u(&body, l->file);
			if (!small_c)
				gs_enc_u(&body, l->column);
			prev = l->addr;
			file = l->file;
			line = l->line;
			cnt++;
		}
		gs_enc_reset(&v);
		gs_enc_u(&v, cnt);
		gs_enc_bytes(&v, body.buf, body.len);
		gs_key_put64(key, m->lines[i].addr);
		ret = ix_table_put(&m->tables[GS_DB_LINE], key, 8, v.buf, v.len);
		i = j;
	}
	gs_enc_deinit(&body);
	gs_enc_deinit(&v);
	return ret;
}

int ix_lines_finish(struct ix_model *m)
{
	int ret = finish_buckets(m);

	if (!ret)
		ret = finish_rows(m);
	for (size_t i = 0; i < m->nfiles && !ret; i++) {
		const char *base = strrchr(m->files[i], '/');
		struct gs_enc v;

		gs_enc_init(&v);
		gs_enc_str(&v, m->files[i]);
		{
			uint8_t key[4];

			gs_key_put32(key, (uint32_t)(i + 1));
			ret = ix_table_put(&m->tables[GS_DB_FILE], key, 4, v.buf, v.len);
		}
		gs_enc_deinit(&v);
		if (!ret)
			ret = ix_table_put_name(&m->tables[GS_DB_FILE_BASE],
						base ? base + 1 : m->files[i], (uint32_t)(i + 1));
	}
	if (!ret)
		ret = ix_table_seal(&m->tables[GS_DB_FILE_BASE], IX_TABLE_NAMES);
	return ret;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the index's pieces: the varint encoding (round trips, hostile input),
 * big-endian keys sorting numerically, cache path resolution, and a write/read round
 * trip of a whole index through the indexer library on a fixture when one is built.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "indexer/indexer.h"
#include "shared/enc.h"
#include "shared/errors.h"
#include "shared/index.h"
#include "shared/schema.h"
#include "tests/unit/test.h"

bool test_index__varint_round_trip(void)
{
	static const uint64_t uv[] = { 0, 1, 127, 128, 300, 16383, 16384, UINT32_MAX,
				       (uint64_t)UINT32_MAX + 1, UINT64_MAX - 1, UINT64_MAX };
	static const int64_t sv[] = { 0, 1, -1, 63, -64, 64, -65, 8191, -8192, INT32_MIN,
				      INT32_MAX, INT64_MIN, INT64_MAX };
	struct gs_enc e;
	struct gs_dec d;
	bool ok = false;

	gs_enc_init(&e);
	for (size_t i = 0; i < sizeof(uv) / sizeof(uv[0]); i++)
		gs_enc_u(&e, uv[i]);
	for (size_t i = 0; i < sizeof(sv) / sizeof(sv[0]); i++)
		gs_enc_s(&e, sv[i]);
	gs_enc_str(&e, "checkout");
	gs_enc_str(&e, NULL);
	gs_enc_str(&e, "");
	gs_enc_u32le(&e, 0xdeadbeef);
	gs_enc_u64le(&e, 0x0123456789abcdefull);
	gs_dec_init(&d, e.buf, e.len);
	for (size_t i = 0; i < sizeof(uv) / sizeof(uv[0]); i++)
		ASSERT_GOTO(gs_dec_u(&d) == uv[i], out);
	for (size_t i = 0; i < sizeof(sv) / sizeof(sv[0]); i++)
		ASSERT_GOTO(gs_dec_s(&d) == sv[i], out);
	ASSERT_GOTO(!strcmp(gs_dec_str(&d), "checkout"), out);
	ASSERT_GOTO(gs_dec_str(&d) == NULL, out);
	ASSERT_GOTO(!strcmp(gs_dec_str(&d), ""), out);
	ASSERT_GOTO(gs_dec_u32le(&d) == 0xdeadbeef, out);
	ASSERT_GOTO(gs_dec_u64le(&d) == 0x0123456789abcdefull, out);
	ASSERT_GOTO(!d.err && d.p == d.end, out);
	ok = true;
out:
	gs_enc_deinit(&e);
	return ok;
}

bool test_index__decoder_rejects_hostile_input(void)
{
	static const uint8_t unterminated[] = { 0x80, 0x80, 0x80 };
	static const uint8_t too_long[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					    0xff, 0xff, 0x01 };
	static const uint8_t str_no_nul[] = { 0x04, 'a', 'b', 'c', 'd' };
	static const uint8_t str_past_end[] = { 0x7f, 'a', 0 };
	static const uint8_t big_count[] = { 0xff, 0xff, 0x03, 1, 2 };
	struct gs_dec d;

	gs_dec_init(&d, unterminated, sizeof(unterminated));
	gs_dec_u(&d);
	ASSERT_TRUE(d.err);
	gs_dec_init(&d, too_long, sizeof(too_long));
	gs_dec_u(&d);
	ASSERT_TRUE(d.err);
	gs_dec_init(&d, str_no_nul, sizeof(str_no_nul));
	ASSERT_TRUE(gs_dec_str(&d) == NULL && d.err);
	gs_dec_init(&d, str_past_end, sizeof(str_past_end));
	ASSERT_TRUE(gs_dec_str(&d) == NULL && d.err);
	gs_dec_init(&d, big_count, sizeof(big_count));
	ASSERT_EQ(gs_dec_count(&d, 1), 0);
	ASSERT_TRUE(d.err);
	/* after an error every read is 0 and stays in bounds */
	ASSERT_EQ(gs_dec_u8(&d), 0);
	ASSERT_TRUE(gs_dec_bytes(&d, 1) == NULL);
	return true;
}

bool test_index__keys_sort_numerically(void)
{
	static const uint64_t v[] = { 0, 1, 255, 256, 0x1000, 0xffffffff, 0x100000000ull,
				      0x7fffffffffffffffull, UINT64_MAX };
	uint8_t a[12], b[12];

	for (size_t i = 0; i + 1 < sizeof(v) / sizeof(v[0]); i++) {
		gs_key_put64(a, v[i]);
		gs_key_put64(b, v[i + 1]);
		ASSERT_TRUE(memcmp(a, b, 8) < 0);
		ASSERT_TRUE(gs_key_get64(a) == v[i]);
		/* an (addr, id) key: the id never reorders addresses */
		gs_key_put32(a + 8, UINT32_MAX);
		gs_key_put32(b + 8, 0);
		ASSERT_TRUE(memcmp(a, b, 12) < 0);
	}
	gs_key_put32(a, 0x01020304);
	ASSERT_EQ(a[0], 1);
	ASSERT_EQ(a[3], 4);
	ASSERT_EQ(gs_key_get32(a), 0x01020304);
	return true;
}

bool test_index__cache_paths(void)
{
	char buf[256];
	char *save_gs = getenv("GHOSTSCOPE_INDEX_DIR") ? strdup(getenv("GHOSTSCOPE_INDEX_DIR")) : NULL;
	char *save_xdg = getenv("XDG_CACHE_HOME") ? strdup(getenv("XDG_CACHE_HOME")) : NULL;
	bool ok = false;

	ASSERT_GOTO(gs_index_dir_resolve("/opt/idx", buf, sizeof(buf)) == 0, out);
	ASSERT_GOTO(!strcmp(buf, "/opt/idx"), out);
	setenv("GHOSTSCOPE_INDEX_DIR", "/env/idx", 1);
	ASSERT_GOTO(gs_index_dir_resolve(NULL, buf, sizeof(buf)) == 0 && !strcmp(buf, "/env/idx"), out);
	unsetenv("GHOSTSCOPE_INDEX_DIR");
	setenv("XDG_CACHE_HOME", "/xdg", 1);
	ASSERT_GOTO(gs_index_dir_resolve(NULL, buf, sizeof(buf)) == 0 &&
		    !strcmp(buf, "/xdg/ghostscope"), out);
	unsetenv("XDG_CACHE_HOME");
	setenv("HOME", "/home/u", 1);
	ASSERT_GOTO(gs_index_dir_resolve(NULL, buf, sizeof(buf)) == 0 &&
		    !strcmp(buf, "/home/u/.cache/ghostscope"), out);
	ASSERT_GOTO(gs_index_dir_resolve("/xyz", buf, 3) == -ENAMETOOLONG, out);
	ASSERT_GOTO(gs_index_path("/c", "4e2f69ee5c211c63bd98d22cf9c7964a53db83ec", buf,
				  sizeof(buf)) == 0, out);
	ASSERT_GOTO(!strcmp(buf, "/c/4e/2f69ee5c211c63bd98d22cf9c7964a53db83ec.gsidx"), out);
	ASSERT_GOTO(gs_index_path("/c", "../../etc", buf, sizeof(buf)) == -EINVAL, out);
	ASSERT_GOTO(gs_index_path("/c", "AB12", buf, sizeof(buf)) == -EINVAL, out);
	ok = true;
out:
	if (save_gs)
		setenv("GHOSTSCOPE_INDEX_DIR", save_gs, 1);
	else
		unsetenv("GHOSTSCOPE_INDEX_DIR");
	if (save_xdg)
		setenv("XDG_CACHE_HOME", save_xdg, 1);
	free(save_gs);
	free(save_xdg);
	return ok;
}

/* Fixture BUILD/shop's path; false (noted) when the e2e fixtures are not built yet. */
static bool fixture_path(const char *build, char *elf, size_t len)
{
	snprintf(elf, len, "%s/fixtures/%s/shop", test_build_dir(), build);
	if (!access(elf, R_OK))
		return true;
	printf("    (no fixture at %s: run the e2e fixtures first; not tested)\n", elf);
	return false;
}

/* Removes a scratch cache; false when that fails. */
static bool scratch_remove(const char *dir)
{
	char cmd[PATH_MAX + 32];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0;
}

/* Indexes a fixture into a scratch cache and reads it back through index.h. */
bool test_index__write_read_round_trip(void)
{
	char elf[PATH_MAX], dir[] = "/tmp/gs-unit-index.XXXXXX", bid[41];
	struct gs_indexer_opts o = { 0 };
	struct gs_indexer_stats st;
	struct gs_index *idx = NULL;
	const struct gs_func *const *fs;
	const struct gs_func *f;
	const struct gs_type *const *ts;
	const struct gs_line_addr *la;
	const struct gs_scope *chain[16];
	const uint32_t *files;
	struct gs_line_row row;
	size_t n, nfiles;
	bool ok = false;

	if (!fixture_path("gcc-O0-dwarf5", elf, sizeof(elf)))
		return true;
	ASSERT_TRUE(mkdtemp(dir));
	o.index_dir = dir;
	ASSERT_GOTO(gs_indexer_index_path(&o, elf, bid, &st) == 0, out);
	ASSERT_GOTO(!st.reused && st.nfuncs > 5 && st.ntypes > 10, out);
	ASSERT_GOTO(gs_indexer_index_path(&o, elf, bid, &st) == 0 && st.reused, out);
	ASSERT_GOTO(gs_index_open_for(dir, elf, &idx) == 0, out);
	ASSERT_GOTO(gs_index_funcs_by_name(idx, "checkout", &fs, &n) == 0 && n == 1, out);
	ASSERT_GOTO(fs[0]->post_prologue_pc > fs[0]->entry_pc, out);
	ASSERT_GOTO(gs_index_func_by_addr(idx, fs[0]->entry_pc + 1, &f) == 0 && f == fs[0], out);
	ASSERT_GOTO(gs_index_funcs_by_name(idx, "no_such_function", &fs, &n) == -ENOENT, out);
	ASSERT_GOTO(gs_index_files_match(idx, "shop.c", &files, &nfiles) == 0 && nfiles == 1, out);
	ASSERT_GOTO(gs_index_files_match(idx, "fixtures/shop.c", &files, &nfiles) == 0, out);
	ASSERT_GOTO(gs_index_files_match(idx, "op.c", &files, &nfiles) == -ENOENT, out);
	ASSERT_GOTO(gs_index_line_addrs(idx, files[0], 44, &la, &n) == 0 && n >= 1, out);
	ASSERT_GOTO(gs_index_line_at(idx, la[0].addr, &row) == 0 && row.line == 44, out);
	ASSERT_GOTO(gs_index_scope_chain(idx, la[0].addr, chain, 16, &n) == 0 && n >= 1, out);
	ASSERT_GOTO(chain[n - 1]->kind == GS_SCOPE_FUNC && chain[n - 1]->nvars >= 3, out);
	ASSERT_GOTO(!strcmp(chain[n - 1]->vars[0].name, "o"), out);
	ASSERT_GOTO(gs_index_types_by_name(idx, "customer", &ts, &n) == 0 && n == 1, out);
	ASSERT_GOTO(ts[0]->size == 28 && ts[0]->nmembers == 6, out);
	ASSERT_GOTO(ts[0]->members[2].bit_offset == 160 && ts[0]->members[2].bit_size == 1, out);
	ok = true;
out:
	gs_index_close(idx);
	return scratch_remove(dir) && ok;
}

/* Every is_stmt row of the line table is among its (file, line)'s addresses. */
static int stmt_row_found(const struct gs_line_row *row, void *arg)
{
	struct gs_index *idx = arg;
	const struct gs_line_addr *la;
	size_t n;

	if (!(row->flags & GS_LINE_IS_STMT) || row->flags & GS_LINE_END_SEQUENCE)
		return 0;
	if (gs_index_line_addrs(idx, row->file_id, row->line, &la, &n))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (la[i].addr == row->addr)
			return 0;
	return -1;
}

/*
 * Schema 2 keeps names, addresses and call sites in chunks: every record reached by
 * id must be found again by its name or address, and every call site by its return pc.
 */
static bool chunked_tables_agree(struct gs_index *idx)
{
	const struct gs_module_info *mi;
	const struct gs_call_site *cs, *again;
	size_t ncs = 0;

	ASSERT_TRUE(gs_index_module(idx, &mi) == 0 && mi->schema_major == GS_SCHEMA_MAJOR);
	for (uint32_t id = 1; id <= mi->nsymbols; id++) {
		const struct gs_symbol *s, *at, *named;
		size_t n;
		bool hit = false;

		ASSERT_TRUE(gs_index_symbol_by_id(idx, id, &s) == 0);
		ASSERT_TRUE(gs_index_symbols_by_name(idx, s->name, &named, &n) == 0);
		for (size_t i = 0; i < n; i++)
			hit |= named[i].value == s->value && named[i].dynamic == s->dynamic;
		ASSERT_TRUE(hit);
		if (s->type == 2 && s->size)	/* STT_FUNC */
			ASSERT_TRUE(gs_index_symbol_by_addr(idx, s->value, &at) == 0 &&
				    at->value <= s->value);
	}
	for (uint32_t id = 1; id <= mi->nfuncs; id++) {
		const struct gs_func *f, *at, *const *fs;
		size_t n;
		bool hit = false;

		ASSERT_TRUE(gs_index_func_by_id(idx, id, &f) == 0);
		ASSERT_TRUE(gs_index_funcs_by_name(idx, f->name, &fs, &n) == 0);
		for (size_t i = 0; i < n; i++)
			hit |= fs[i]->id == id;
		ASSERT_TRUE(hit || (f->flags & GS_FUNC_CLONE));
		ASSERT_TRUE(gs_index_func_by_addr(idx, f->entry_pc, &at) == 0);
	}
	for (uint32_t id = 1; id <= mi->ninlines; id++) {
		const struct gs_inline *in, *named;
		size_t n;
		bool hit = false;

		ASSERT_TRUE(gs_index_inline_by_id(idx, id, &in) == 0);
		ASSERT_TRUE(gs_index_inlines_by_name(idx, in->name, &named, &n) == 0);
		for (size_t i = 0; i < n; i++)
			hit |= named[i].entry_pc == in->entry_pc && named[i].func_id == in->func_id;
		ASSERT_TRUE(hit);
	}
	for (uint32_t id = 1; id <= mi->nglobals; id++) {
		const struct gs_var *v, *named;
		const char *qual;
		size_t n;

		ASSERT_TRUE(gs_index_global_by_id(idx, id, &v, &qual) == 0 && qual);
		ASSERT_TRUE(gs_index_globals_by_name(idx, qual, &named, &n) == 0 && n >= 1);
	}
	for (uint64_t pc = 0; gs_index_call_site_from(idx, pc, &cs) == 0; pc = cs->return_pc + 1) {
		ASSERT_TRUE(cs->return_pc >= pc && cs->nparams >= 1);
		ASSERT_TRUE(gs_index_call_site(idx, cs->return_pc, &again) == 0 && again == cs);
		ncs++;
	}
	ASSERT_TRUE(ncs > 0);
	ASSERT_TRUE(gs_index_line_foreach(idx, stmt_row_found, idx) == 0);
	return true;
}

static bool scopes_same(const struct gs_scope *a, const struct gs_scope *b)
{
	ASSERT_TRUE(a->kind == b->kind && a->nranges == b->nranges && a->nvars == b->nvars);
	ASSERT_TRUE(a->call_file == b->call_file && a->call_line == b->call_line);
	ASSERT_TRUE(!a->name == !b->name && (!a->name || !strcmp(a->name, b->name)));
	for (uint32_t i = 0; i < a->nranges; i++)
		ASSERT_TRUE(a->ranges[i].lo == b->ranges[i].lo && a->ranges[i].hi == b->ranges[i].hi);
	for (uint32_t i = 0; i < a->nvars; i++) {
		ASSERT_TRUE(!strcmp(a->vars[i].name, b->vars[i].name));
		ASSERT_TRUE(a->vars[i].loc.kind == b->vars[i].loc.kind);
		ASSERT_TRUE(a->vars[i].loc.nentries == b->vars[i].loc.nentries);
		ASSERT_TRUE(a->vars[i].type_id == b->vars[i].type_id);
	}
	return true;
}

/*
 * The scope chain at a pc decodes only the path to it (skipping other scopes by their
 * length): at every byte of every function it must equal the walk of the whole tree.
 * Run before anything decodes whole trees, which the chain would then reuse.
 */
static bool scope_paths_agree(struct gs_index *idx)
{
	const struct gs_module_info *mi;
	size_t nfull = 0, ninline = 0;

	ASSERT_TRUE(gs_index_module(idx, &mi) == 0);
	for (uint32_t id = 1; id <= mi->nfuncs; id++) {
		const struct gs_func *f;
		const struct gs_scope *root, *(*paths)[16];
		size_t *ns, len;
		uint64_t lo, hi;

		ASSERT_TRUE(gs_index_func_by_id(idx, id, &f) == 0 && f->nranges);
		lo = f->ranges[0].lo;
		hi = f->ranges[0].hi;
		len = hi - lo;
		paths = calloc(len, sizeof(*paths));
		ns = calloc(len, sizeof(*ns));
		ASSERT_TRUE(paths && ns);
		if (gs_index_scope_chain(idx, lo, paths[0], 16, &ns[0]) == -ENOENT) {
			/* crt's assembly functions: no scope record either way */
			ASSERT_TRUE(gs_index_scope_tree(idx, id, &root) == -ENOENT);
			free(paths);
			free(ns);
			continue;
		}
		for (uint64_t pc = lo; pc < hi; pc++)
			ASSERT_TRUE(gs_index_scope_chain(idx, pc, paths[pc - lo], 16, &ns[pc - lo]) == 0);
		ASSERT_TRUE(gs_index_scope_tree(idx, id, &root) == 0);
		for (uint64_t pc = lo; pc < hi; pc++) {
			const struct gs_scope *s = root, *walk[16];
			size_t n = 0;

			walk[n++] = s;
			for (bool more = true; more && n < 16;) {
				more = false;
				for (uint32_t i = 0; i < s->nchildren && !more; i++) {
					const struct gs_scope *k = &s->children[i];

					for (uint32_t r = 0; r < k->nranges && !more; r++)
						more = pc >= k->ranges[r].lo && pc < k->ranges[r].hi;
					if (more)
						walk[n++] = s = k;
				}
			}
			ASSERT_TRUE(n == ns[pc - lo]);
			for (size_t i = 0; i < n; i++)
				ASSERT_TRUE(scopes_same(paths[pc - lo][i], walk[n - 1 - i]));
			nfull++;
			ninline += n > 1 && walk[n - 1]->kind == GS_SCOPE_INLINE;
		}
		free(paths);
		free(ns);
	}
	/* the O2 fixture has inlined code: the skipping was exercised */
	ASSERT_TRUE(nfull > 1000 && ninline > 10);
	return true;
}

/* The O2 fixture (call sites, inlines, clones, location lists) through schema 2. */
bool test_index__chunked_tables_round_trip(void)
{
	char elf[PATH_MAX], dir[] = "/tmp/gs-unit-index.XXXXXX", bid[41];
	struct gs_indexer_opts o = { 0 };
	struct gs_indexer_stats st;
	struct gs_index *idx = NULL;
	char err[256];
	bool ok = false;

	if (!fixture_path("gcc-O2-dwarf5", elf, sizeof(elf)))
		return true;
	ASSERT_TRUE(mkdtemp(dir));
	o.index_dir = dir;
	ASSERT_GOTO(gs_indexer_index_path(&o, elf, bid, &st) == 0, out);
	ASSERT_GOTO(gs_index_open_for(dir, elf, &idx) == 0, out);
	ASSERT_GOTO(scope_paths_agree(idx), out);
	ASSERT_GOTO(gs_index_verify(idx, err, sizeof(err)) == 0, out);
	ASSERT_GOTO(chunked_tables_agree(idx), out);
	ok = true;
out:
	gs_index_close(idx);
	return scratch_remove(dir) && ok;
}

/* Expressions: the one-byte register forms and the long form around them. */
bool test_index__op_arity(void)
{
	ASSERT_TRUE(gs_op_arity(0x50) == 0);	/* DW_OP_reg0 */
	ASSERT_TRUE(gs_op_arity(0x9f) == 0);	/* DW_OP_stack_value */
	ASSERT_TRUE(gs_op_arity(0x71) == 1);	/* DW_OP_breg1 */
	ASSERT_TRUE(gs_op_arity(0x03) == 1);	/* DW_OP_addr */
	ASSERT_TRUE(gs_op_arity(0x15) == 1);	/* DW_OP_pick */
	ASSERT_TRUE(gs_op_arity(0x92) == 2);	/* DW_OP_bregx */
	ASSERT_TRUE(gs_op_arity(0x9e) == 2);	/* DW_OP_implicit_value */
	ASSERT_TRUE(gs_op_arity(0xe5) == 2);	/* unknown: both kept */
	return true;
}

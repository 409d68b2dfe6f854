// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for the compiled-object cache: key stability and sensitivity, hit/miss, repair. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>

#include "tests/unit/test.h"
#include "tracer/codegen.h"
#include "tracer/ir.h"

extern bool test_codegen_cache__same_ir_same_key(void);
extern bool test_codegen_cache__different_ir_or_opts_differ(void);
extern bool test_codegen_cache__per_run_settings_ignored(void);
extern bool test_codegen_cache__miss_hit_and_repair(void);

/* `value #1 (load.u8 (add %rdi c))`, `str #2 %rsi len`: built fresh each call. */
static struct gs_ir_prog *sample(uint64_t c, uint32_t len)
{
	struct gs_ir_prog *p = gs_ir_prog_new();
	struct gs_ir_expr *a = gs_ir_binop(p, GS_IR_ADD, false, gs_ir_reg(p, 5), gs_ir_const(p, c));

	gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_VALUE, 1, gs_ir_load(p, a, 1, false), 0));
	gs_ir_append(&p->body, gs_ir_stmt_new(p, GS_IR_S_STR, 2, gs_ir_reg(p, 4), len));
	return p;
}

static bool key_of(struct gs_ir_prog *a, struct gs_ir_prog *b, const struct gs_codegen_opts *o,
		   uint8_t key[16])
{
	const struct gs_ir_prog *progs[2] = { a, b };

	return !gs_codegen_cache_key(progs, b ? 2 : 1, o, key);
}

bool test_codegen_cache__same_ir_same_key(void)
{
	struct gs_ir_prog *a1 = sample(8, 32), *a2 = sample(8, 32), *b = sample(16, 64);
	struct gs_codegen_opts o = { .uprobe_multi = true, .version = "1.0" };
	uint8_t k1[16], k2[16];
	bool ok = false;

	ASSERT_GOTO(key_of(a1, b, &o, k1) && key_of(a2, b, &o, k2), out);
	ASSERT_GOTO(!memcmp(k1, k2, 16), out);
	ok = true;
out:
	gs_ir_prog_free(a1);
	gs_ir_prog_free(a2);
	gs_ir_prog_free(b);
	return ok;
}

bool test_codegen_cache__different_ir_or_opts_differ(void)
{
	struct gs_ir_prog *a = sample(8, 32), *c = sample(9, 32), *l = sample(8, 33);
	struct gs_codegen_opts o = { .uprobe_multi = true, .version = "1.0" };
	struct gs_codegen_opts single = o, v2 = o;
	uint8_t base[16], k[16];
	bool ok = false;

	single.uprobe_multi = false;
	v2.version = "1.1";
	ASSERT_GOTO(key_of(a, NULL, &o, base), out);
	ASSERT_GOTO(key_of(c, NULL, &o, k) && memcmp(base, k, 16), out);	/* constant */
	ASSERT_GOTO(key_of(l, NULL, &o, k) && memcmp(base, k, 16), out);	/* length */
	ASSERT_GOTO(key_of(a, NULL, &single, k) && memcmp(base, k, 16), out);
	ASSERT_GOTO(key_of(a, NULL, &v2, k) && memcmp(base, k, 16), out);
	ASSERT_GOTO(key_of(a, c, &o, k) && memcmp(base, k, 16), out);		/* count */
	{
		uint8_t ac[16], ca[16];

		ASSERT_GOTO(key_of(a, c, &o, ac) && key_of(c, a, &o, ca), out);
		ASSERT_GOTO(memcmp(ac, ca, 16), out);				/* order */
	}
	a->retprobe = true;
	ASSERT_GOTO(key_of(a, NULL, &o, k) && memcmp(base, k, 16), out);
	ok = true;
out:
	gs_ir_prog_free(a);
	gs_ir_prog_free(c);
	gs_ir_prog_free(l);
	return ok;
}

bool test_codegen_cache__per_run_settings_ignored(void)
{
	struct gs_ir_prog *a = sample(8, 32);
	struct gs_codegen_opts o = { .uprobe_multi = true, .version = "1.0" };
	struct gs_codegen_opts run = {
		.ringbuf_bytes = 1u << 16, .pid_filter = true, .filter_tgid = 4242,
		.pidns_dev = 4, .pidns_ino = 0xeffffffc, .max_trace_id = 999,
		.uprobe_multi = true, .wakeup_bytes = 4096, .version = "1.0",
	};
	uint8_t k1[16], k2[16];
	bool ok = false;

	ASSERT_GOTO(key_of(a, NULL, &o, k1) && key_of(a, NULL, &run, k2), out);
	ASSERT_GOTO(!memcmp(k1, k2, 16), out);
	ok = true;
out:
	gs_ir_prog_free(a);
	return ok;
}

static int count_files(const char *dir)
{
	char cmd[512];
	FILE *f;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "find '%s' -type f | wc -l", dir);
	f = popen(cmd, "r");
	if (f && fscanf(f, "%d", &n) != 1)
		n = -1;
	if (f)
		pclose(f);
	return n;
}

bool test_codegen_cache__miss_hit_and_repair(void)
{
	struct gs_ir_prog *a = sample(8, 32);
	const struct gs_ir_prog *progs[1] = { a };
	struct gs_codegen_opts o = { .version = "t", .filter_tgid = 1, .pid_filter = true };
	struct gs_codegen_opts o2 = { .version = "t", .max_trace_id = 77, .ringbuf_bytes = 1 << 14 };
	char dir[] = "/tmp/gs-cgcache-XXXXXX", err[256], cmd[600];
	void *obj1 = NULL, *obj2 = NULL, *obj3 = NULL;
	size_t len1 = 0, len2 = 0, len3 = 0;
	bool hit = true, ok = false;

	ASSERT_TRUE(mkdtemp(dir));
	ASSERT_GOTO(!gs_codegen_emit_cached(progs, 1, &o, dir, &obj1, &len1, &hit, err,
					    sizeof(err)) && !hit && len1 > 64, out);
	ASSERT_GOTO(count_files(dir) == 1, out);
	/* Other per-run settings: the same object, from the file. */
	ASSERT_GOTO(!gs_codegen_emit_cached(progs, 1, &o2, dir, &obj2, &len2, &hit, err,
					    sizeof(err)) && hit, out);
	ASSERT_GOTO(len2 == len1 && !memcmp(obj1, obj2, len1), out);
	/* A truncated file is a miss, and is replaced. */
	snprintf(cmd, sizeof(cmd), "find '%s' -name '*.o' -exec truncate -s 100 {} +", dir);
	ASSERT_GOTO(!system(cmd), out);
	free(obj2);
	obj2 = NULL;
	ASSERT_GOTO(!gs_codegen_emit_cached(progs, 1, &o, dir, &obj2, &len2, &hit, err,
					    sizeof(err)) && !hit && len2 == len1, out);
	ASSERT_GOTO(!gs_codegen_emit_cached(progs, 1, &o, dir, &obj3, &len3, &hit, err,
					    sizeof(err)) && hit && len3 == len1, out);
	ASSERT_GOTO(!memcmp(obj1, obj3, len1) && count_files(dir) == 1, out);
	/* No cache directory: compiled, never a hit. */
	free(obj3);
	obj3 = NULL;
	ASSERT_GOTO(!gs_codegen_emit_cached(progs, 1, &o, NULL, &obj3, &len3, &hit, err,
					    sizeof(err)) && !hit && len3 == len1, out);
	ok = true;
out:
	if (!ok)
		T_FAIL("err: %s", err);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		ok = false;
	free(obj1);
	free(obj2);
	free(obj3);
	gs_ir_prog_free(a);
	return ok;
}

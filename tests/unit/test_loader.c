// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for the loader's own ELF path: it loads what libbpf loads (also with
 * identical programs shared and the BTF checked), and survives truncated and
 * corrupted objects. Loading needs root and BPF: without them the tests pass
 * vacuously (the e2e tests cover the privileged paths too).
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "tests/unit/test.h"
#include "tracer/codegen.h"
#include "tracer/ir.h"
#include "tracer/loader.h"

extern bool test_loader__own_path_matches_libbpf(void);
extern bool test_loader__hostile_objects(void);

/* Three programs, the first two identical: `value #1 (load.u64 %rdi)`, then a mark. */
static int sample_obj(void **obj_ret, size_t *len_ret)
{
	struct gs_ir_prog *p[3];
	const struct gs_ir_prog *progs[3];
	struct gs_codegen_opts o = { .max_trace_id = 4, .uprobe_multi = true };
	char err[256];
	int ret;

	for (int i = 0; i < 3; i++) {
		p[i] = gs_ir_prog_new();
		progs[i] = p[i];
	}
	for (int i = 0; i < 2; i++)
		gs_ir_append(&p[i]->body, gs_ir_stmt_new(p[i], GS_IR_S_VALUE, 1,
				gs_ir_load(p[i], gs_ir_reg(p[i], 5), 8, false), 0));
	gs_ir_append(&p[2]->body, gs_ir_stmt_new(p[2], GS_IR_S_MARK, 1, NULL, 0));
	ret = gs_codegen_emit(progs, 3, &o, obj_ret, len_ret, err, sizeof(err));
	if (ret)
		T_FAIL("emit: %s", err);
	for (int i = 0; i < 3; i++)
		gs_ir_prog_free(p[i]);
	return ret;
}

static bool can_bpf(void)
{
	return geteuid() == 0 && gs_loader_has_uprobe_multi();
}

bool test_loader__own_path_matches_libbpf(void)
{
	struct gs_codegen_opts run = { .max_trace_id = 4, .ringbuf_bytes = 1 << 16 };
	struct gs_loader_opts lo[3] = {
		{ .run = &run },
		{ .run = &run, .strict_btf = true },
		{ .run = &run, .use_libbpf = true },
	};
	struct gs_loader *l = NULL;
	void *obj = NULL;
	size_t len = 0;
	char err[512];
	bool ok = false;
	int bad;

	if (!can_bpf())
		return true;
	ASSERT_GOTO(!sample_obj(&obj, &len), out);
	for (int i = 0; i < 3; i++) {
		uint64_t lost = 1;
		int ret = gs_loader_open(obj, len, 3, &lo[i], &l, &bad, err, sizeof(err));

		if (ret)
			T_FAIL("opts %d: %s", i, err);
		ASSERT_GOTO(!ret && bad == -1, out);
		ASSERT_GOTO(gs_loader_uses_multi(l), out);
		/* gs_lost is sized from the run settings: trace ids 0..4. */
		ASSERT_GOTO(!gs_loader_lost(l, 4, &lost) && lost == 0, out);
		ASSERT_GOTO(gs_loader_lost(l, 5, &lost) == -ENOENT, out);
		ASSERT_GOTO(gs_loader_poll(l, 0, NULL, NULL) == 0, out);
		gs_loader_close(l);
		l = NULL;
	}
	ok = true;
out:
	gs_loader_close(l);
	free(obj);
	return ok;
}

bool test_loader__hostile_objects(void)
{
	struct gs_codegen_opts run = { .max_trace_id = 4, .ringbuf_bytes = 1 << 12 };
	struct gs_loader_opts lo = { .run = &run };
	unsigned char *obj = NULL, *bad = NULL;
	size_t len = 0;
	char err[512];
	bool ok = false;

	if (!can_bpf())
		return true;
	ASSERT_GOTO(!sample_obj((void **)&obj, &len), out);
	bad = malloc(len);
	ASSERT_GOTO(bad, out);
	/* Truncated: every cut fails cleanly (or, past what matters, loads). */
	for (size_t cut = 0; cut < len; cut += 61) {
		struct gs_loader *l = NULL;

		memcpy(bad, obj, cut);
		if (!gs_loader_open(bad, cut, 3, &lo, &l, NULL, err, sizeof(err)))
			gs_loader_close(l);
		else
			ASSERT_GOTO(!l && err[0], out);
	}
	/* One byte changed: no crash, no leak of the loader on failure. */
	for (size_t at = 0; at < len; at += 37) {
		struct gs_loader *l = NULL;

		memcpy(bad, obj, len);
		bad[at] ^= 0xa5;
		if (!gs_loader_open(bad, len, 3, &lo, &l, NULL, err, sizeof(err)))
			gs_loader_close(l);
		else
			ASSERT_GOTO(!l, out);
	}
	ok = true;
out:
	free(bad);
	free(obj);
	return ok;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ghostscope-codegen: the code generator program that ghostscope runs when its object
 * cache misses (codegen_lib.c, "Protocol"). It reads the whole request from stdin,
 * compiles it with LLVM (codegen.c) and writes the answer to stdout: the object, or
 * the result and the error text. Exit status 0 whenever an answer was written, a
 * failed compilation included; 2 when the request cannot be read or the answer
 * cannot be written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/strbuf.h"
#include "tracer/codegen.h"
#include "tracer/codegen_lib.h"
#include "tracer/fdio.h"
#include "tracer/ir.h"
#include "tracer/wire.h"

static int answer(int32_t ret, const char *err, const void *obj, size_t len)
{
	struct gs_strbuf b;

	gs_strbuf_init(&b);
	gs_wire_put(&b, GS_CG_RES_MAGIC, 8);
	gs_wire_u32(&b, (uint32_t)ret);
	gs_wire_str(&b, err);
	gs_wire_u64(&b, len);
	gs_wire_put(&b, obj, len);
	ret = gs_fd_write_all(STDOUT_FILENO, b.buf, b.len) ? 2 : 0;
	gs_strbuf_deinit(&b);
	return ret;
}

int main(int argc, char **argv)
{
	struct gs_codegen_opts o = { 0 };
	struct gs_ir_prog **progs = NULL;
	uint32_t *entry = NULL, *variant = NULL;
	struct gs_wire_rd r;
	char magic[8], err[4096] = "";
	void *req, *obj = NULL;
	size_t len = 0, olen = 0;
	uint32_t n;
	int ret = 2;

	(void)argv;
	if (argc != 1 || isatty(STDIN_FILENO)) {
		fprintf(stderr, "ghostscope-codegen: run by ghostscope, with a request on stdin\n");
		return 2;
	}
	req = gs_fd_read_all(STDIN_FILENO, &len);
	if (!req) {
		fprintf(stderr, "ghostscope-codegen: cannot read the request: %s\n",
			strerror(errno));
		return 2;
	}
	r = (struct gs_wire_rd){ req, (const uint8_t *)req + len, false };
	gs_wire_take(&r, magic, 8);
	o.ringbuf_bytes = gs_wire_get_u32(&r);
	o.pid_filter = gs_wire_get_u8(&r);
	o.filter_tgid = gs_wire_get_u32(&r);
	o.pidns_dev = gs_wire_get_u64(&r);
	o.pidns_ino = gs_wire_get_u64(&r);
	o.max_trace_id = gs_wire_get_u32(&r);
	o.uprobe_multi = gs_wire_get_u8(&r);
	o.wakeup_bytes = gs_wire_get_u32(&r);
	o.version = gs_wire_get_str(&r);
	o.merge_max = gs_wire_get_u32(&r);
	n = gs_wire_get_count(&r, 1);
	if (r.bad || memcmp(magic, GS_CG_REQ_MAGIC, 8)) {
		fprintf(stderr, "ghostscope-codegen: malformed request\n");
		goto out;
	}
	progs = calloc(n ? n : 1, sizeof(*progs));
	for (uint32_t i = 0; progs && i < n && !r.bad; i++)
		if (gs_wire_get_u8(&r))
			progs[i] = gs_ir_decode(&r);
	if (progs && gs_wire_get_u8(&r)) {
		entry = calloc(n ? n : 1, sizeof(*entry));
		variant = calloc(n ? n : 1, sizeof(*variant));
		for (uint32_t i = 0; entry && variant && i < n; i++) {
			entry[i] = gs_wire_get_u32(&r);
			variant[i] = gs_wire_get_u32(&r);
		}
		o.entry_of = entry;
		o.variant_of = variant;
		if (!entry || !variant)
			r.bad = true;
	}
	if (!progs || r.bad || r.p != r.end) {
		fprintf(stderr, "ghostscope-codegen: malformed request\n");
		goto out;
	}
	ret = gs_codegen_llvm_emit((const struct gs_ir_prog *const *)progs, n, &o, &obj, &olen,
				   err, sizeof(err));
	ret = answer(ret, err, obj, ret ? 0 : olen);
out:
	for (uint32_t i = 0; progs && i < n; i++)
		gs_ir_prog_free(progs[i]);
	free(progs);
	free(entry);
	free(variant);
	free(obj);
	free(req);
	return ret;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The LLVM-free face of code generation in the ghostscope binary: gs_codegen_emit()
 * runs the code generator, a separate program (ghostscope-codegen, linked with LLVM),
 * and hands it the IR programs on a pipe; the dry-run and option helpers, which need
 * libbpf or the kernel only, live here too.
 *
 * Why a process: ghostscope is linked static-pie, libc included, so that an exec maps
 * one file and runs no dynamic loader (1-1.5 ms of every start on a VM). A static
 * program cannot dlopen LLVM, and linking LLVM would cost every run ~60-150 ms of
 * loading; the code generator runs only when the object cache misses, where its exec
 * costs a few ms of ~100.
 *
 * Program lookup: $GHOSTSCOPE_CODEGEN, else ghostscope-codegen in the executable's
 * directory (from /proc/self/exe, so a build tree and an install both work). A
 * program that links codegen.o itself (test drivers) resolves the weak
 * gs_codegen_llvm_emit at link time and runs no process.
 *
 * Protocol (wire.h records): the request is GS_CG_REQ_MAGIC, the options, the
 * program count, each program (a presence byte, then ir_codec.c's record) and, when
 * programs merge, this process's grouping (a flag, then each program's entry and
 * variant); the answer is GS_CG_RES_MAGIC, the result (0 or -errno), the error text
 * and the object.
 * The code generator reads the whole request before it answers.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include <bpf/libbpf.h>

#include "shared/elf.h"
#include "tracer/codegen.h"
#include "tracer/codegen_lib.h"
#include "tracer/fdio.h"
#include "tracer/ir.h"
#include "tracer/proc.h"
#include "tracer/wire.h"

#pragma weak gs_codegen_llvm_emit

void gs_cg_request_opts(struct gs_strbuf *b, const struct gs_codegen_opts *o)
{
	gs_wire_put(b, GS_CG_REQ_MAGIC, 8);
	gs_wire_u32(b, o->ringbuf_bytes);
	gs_wire_u8(b, o->pid_filter);
	gs_wire_u32(b, o->filter_tgid);
	gs_wire_u64(b, o->pidns_dev);
	gs_wire_u64(b, o->pidns_ino);
	gs_wire_u32(b, o->max_trace_id);
	gs_wire_u8(b, o->uprobe_multi);
	gs_wire_u32(b, o->wakeup_bytes);
	gs_wire_str(b, o->version);
	gs_wire_u32(b, o->merge_max);
}

/* Parses the code generator's answer in @buf; the result, with @obj_ret/@err filled. */
static int parse_answer(const void *buf, size_t len, void **obj_ret, size_t *len_ret, char *err,
			size_t errlen)
{
	struct gs_wire_rd r = { buf, (const uint8_t *)buf + len, false };
	char magic[8];
	const char *msg;
	int32_t ret;
	uint64_t olen;

	gs_wire_take(&r, magic, 8);
	ret = (int32_t)gs_wire_get_u32(&r);
	msg = gs_wire_get_str(&r);
	olen = gs_wire_get_u64(&r);
	if (r.bad || memcmp(magic, GS_CG_RES_MAGIC, 8) || olen != (uint64_t)(r.end - r.p) ||
	    (!ret && !olen)) {
		if (err && errlen)
			snprintf(err, errlen, "the code generator's answer is malformed");
		return -EPROTO;
	}
	if (ret) {
		if (err && errlen)
			snprintf(err, errlen, "%s", msg ? msg : "");
		return ret < 0 ? ret : -EINVAL;
	}
	*obj_ret = malloc(olen);
	if (!*obj_ret)
		return -ENOMEM;
	memcpy(*obj_ret, r.p, olen);
	*len_ret = olen;
	return 0;
}

/* Runs the code generator on @req; its answer, or -errno with @err saying why. */
static int run_helper(const struct gs_strbuf *req, void **obj_ret, size_t *len_ret, char *err,
		      size_t errlen)
{
	char path[PATH_MAX];
	char *argv[] = { (char *)GS_CODEGEN_NAME, NULL };
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, status = 0, ret;
	void (*old_pipe)(int);
	size_t alen = 0;
	void *ans = NULL;
	pid_t pid;

	ret = gs_proc_sibling(GS_CODEGEN_ENV, GS_CODEGEN_NAME, path, sizeof(path));
	if (ret) {
		snprintf(err, errlen, "cannot locate '%s': %s", GS_CODEGEN_NAME, strerror(-ret));
		return ret;
	}
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC)) {
		ret = -errno;
		snprintf(err, errlen, "cannot start the code generator: %s", strerror(errno));
		goto out;
	}
	ret = gs_proc_start(path, argv, in[0], out[1], &pid);
	close(in[0]);
	close(out[1]);
	in[0] = out[1] = -1;
	if (ret) {
		snprintf(err, errlen, "cannot run the code generator '%s': %s", path,
			 strerror(-ret));
		goto out;
	}
	/* a code generator that dies mid-request must not kill us with SIGPIPE */
	old_pipe = signal(SIGPIPE, SIG_IGN);
	ret = gs_fd_write_all(in[1], req->buf, req->len);
	close(in[1]);
	in[1] = -1;
	signal(SIGPIPE, old_pipe);
	/*
	 * A code generator that quit without reading its request: its exit status or its
	 * (missing) answer says more than the EPIPE, and says it whatever won the race.
	 */
	if (ret == -EPIPE)
		ret = 0;
	ans = gs_fd_read_all(out[0], &alen);
	if (!ans && !ret)
		ret = -errno;
	/* closed before the wait: a code generator still writing then gets EPIPE, not stuck */
	close(out[0]);
	out[0] = -1;
	if (gs_proc_wait(pid, &status) && !ret)
		ret = -ECHILD;
	if (WIFSIGNALED(status)) {
		snprintf(err, errlen, "the code generator '%s' died of signal %d", path,
			 WTERMSIG(status));
		ret = -ECHILD;
	} else if (WIFEXITED(status) && WEXITSTATUS(status)) {
		snprintf(err, errlen, "the code generator '%s' exited with status %d", path,
			 WEXITSTATUS(status));
		ret = -ECHILD;
	} else if (ret) {
		snprintf(err, errlen, "talking to the code generator '%s': %s", path,
			 strerror(-ret));
	} else {
		ret = parse_answer(ans, alen, obj_ret, len_ret, err, errlen);
	}
out:
	free(ans);
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	return ret;
}

int gs_codegen_emit(const struct gs_ir_prog *const *progs, size_t nprogs,
		    const struct gs_codegen_opts *opts, void **obj_ret, size_t *len_ret,
		    char *err, size_t errlen)
{
	const struct gs_codegen_opts dflt = { 0 };
	struct gs_strbuf req;
	char ebuf[PATH_MAX + 128];
	uint32_t *entry = NULL, *variant = NULL;
	int ret = 0;

	*obj_ret = NULL;
	*len_ret = 0;
	if (gs_codegen_llvm_emit)
		return gs_codegen_llvm_emit(progs, nprogs, opts, obj_ret, len_ret, err, errlen);
	if (!opts)
		opts = &dflt;
	gs_strbuf_init(&req);
	gs_cg_request_opts(&req, opts);
	gs_wire_u32(&req, (uint32_t)nprogs);
	for (size_t i = 0; i < nprogs && !ret; i++) {
		gs_wire_u8(&req, progs[i] != NULL);
		if (progs[i])
			ret = gs_ir_encode(&req, progs[i]);
	}
	/* the grouping this process uses for the attach cookies: the generator takes it */
	if (!ret && opts->merge_max > 1 && nprogs) {
		const uint32_t *eo = opts->entry_of, *vo = opts->variant_of;

		if (!eo || !vo) {
			entry = calloc(nprogs, sizeof(*entry));
			variant = calloc(nprogs, sizeof(*variant));
			if (!entry || !variant)
				ret = -ENOMEM;
			else
				gs_codegen_merge(progs, nprogs, opts->merge_max, entry, variant);
			eo = entry;
			vo = variant;
		}
		gs_wire_u8(&req, 1);
		for (size_t i = 0; i < nprogs && !ret; i++) {
			gs_wire_u32(&req, eo[i]);
			gs_wire_u32(&req, vo[i]);
		}
	} else {
		gs_wire_u8(&req, 0);
	}
	free(entry);
	free(variant);
	ebuf[0] = '\0';
	if (!ret)
		ret = run_helper(&req, obj_ret, len_ret, ebuf, sizeof(ebuf));
	else
		snprintf(ebuf, sizeof(ebuf), "out of memory");
	gs_strbuf_deinit(&req);
	if (ret && err && errlen)
		snprintf(err, errlen, "%s", ebuf);
	return ret;
}

/* ---- generator identity -------------------------------------------------------------- */

int gs_cg_generator_id(char hex_ret[41])
{
	char path[PATH_MAX];
	int e;

	hex_ret[0] = '\0';
	if (gs_codegen_llvm_emit) {
		snprintf(hex_ret, 41, "%s", gs_self_build_id());
		return hex_ret[0] ? 0 : -ENOENT;
	}
	e = gs_proc_sibling(GS_CODEGEN_ENV, GS_CODEGEN_NAME, path, sizeof(path));
	return e ? e : gs_build_id_of_path(path, hex_ret);
}

/* ---- dry-run and option helpers --------------------------------------------------- */

int gs_codegen_insn_counts(const void *obj, size_t len, uint32_t *cnt_ret, size_t nprogs)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = "ghostscope");
	struct bpf_object *bo;
	int ret = 0;

	bo = bpf_object__open_mem(obj, len, &oo);
	if (!bo)
		return -EINVAL;
	for (size_t i = 0; i < nprogs; i++) {
		char name[32];
		struct bpf_program *p;

		snprintf(name, sizeof(name), GS_CODEGEN_PROG_FMT, i);
		p = bpf_object__find_program_by_name(bo, name);
		if (!p) {
			ret = -EINVAL;
			break;
		}
		cnt_ret[i] = bpf_program__insn_cnt(p);
	}
	bpf_object__close(bo);
	return ret;
}

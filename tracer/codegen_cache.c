// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The compiled-object cache: gs_codegen_emit_cached() returns the object of the same
 * programs compiled before, from <dir>/bpf/<key[0:2]>/<key>.o, and only loads LLVM
 * on a miss. A second run of a script on the same binaries thus costs a file read
 * instead of ~50-100 ms of running the code generator.
 *
 * Key (XXH3-128): a format tag, the code generator's build-id and the calling
 * program's (any rebuild of either invalidates everything: the caller groups the
 * programs of merged objects), the tool version, the options that shape the code
 * (uprobe_multi: the section names; merge_max: the grouping), and each program's
 * canonical dump with its length. The per-run options are load-time settings (codegen.h) and stay out, so
 * different pids, namespaces and ring sizes share one object.
 *
 * File: the ELF object, then the trailer of filecache.h; readers of the .o see a
 * plain ELF (trailing bytes are ignored by ELF tools), and a short, corrupt or
 * misplaced file fails the trailer check and is recompiled and replaced.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <xxhash.h>

#include "shared/elf.h"
#include "tracer/codegen.h"
#include "tracer/codegen_lib.h"
#include "tracer/filecache.h"
#include "tracer/ir.h"

/* Bump when the generated code changes in a way the generator's build-id misses. */
#define CACHE_FORMAT	"ghostscope-bpf-cache-1"
#define TRAILER_MAGIC	"GSBPFC1\n"

int gs_codegen_cache_key(const struct gs_ir_prog *const *progs, size_t nprogs,
			 const struct gs_codegen_opts *o, uint8_t key[16])
{
	const struct gs_codegen_opts dflt = { 0 };
	XXH3_state_t *st;
	char id[41];
	const char *self = gs_self_build_id();
	int ret = 0;
	uint8_t multi;

	if (!o)
		o = &dflt;
	st = XXH3_createState();
	if (!st)
		return -ENOMEM;
	XXH3_128bits_reset(st);
	gs_filecache_hash_field(st, CACHE_FORMAT, sizeof(CACHE_FORMAT));
	if (gs_cg_generator_id(id))
		id[0] = '\0';
	gs_filecache_hash_field(st, id, strlen(id));
	/* and this program's: its gs_codegen_merge() grouped the programs (see below) */
	gs_filecache_hash_field(st, self, strlen(self));
	gs_filecache_hash_field(st, o->version ? o->version : "", o->version ? strlen(o->version) : 0);
	multi = o->uprobe_multi;
	gs_filecache_hash_field(st, &multi, 1);
	gs_filecache_hash_field(st, &o->merge_max, sizeof(o->merge_max));
	gs_filecache_hash_field(st, &nprogs, sizeof(nprogs));
	for (size_t i = 0; i < nprogs; i++) {
		char *dump;

		if (!progs[i]) {
			ret = -EINVAL;
			goto out;
		}
		dump = gs_ir_dump(progs[i]);
		if (!dump) {
			ret = -ENOMEM;
			goto out;
		}
		gs_filecache_hash_field(st, dump, strlen(dump));
		free(dump);
	}
	gs_filecache_key(st, key);
out:
	XXH3_freeState(st);
	return ret;
}

int gs_codegen_emit_cached(const struct gs_ir_prog *const *progs, size_t nprogs,
			   const struct gs_codegen_opts *o, const char *cache_dir,
			   void **obj_ret, size_t *len_ret, bool *hit_ret, char *err,
			   size_t errlen)
{
	struct gs_codegen_opts co = { 0 };
	char d[PATH_MAX], path[PATH_MAX];
	uint8_t key[16];
	int ret;

	*obj_ret = NULL;
	*len_ret = 0;
	if (hit_ret)
		*hit_ret = false;
	if (err && errlen)
		err[0] = '\0';
	/* Only what shapes the code: the per-run fields take their defaults. */
	if (o) {
		co.uprobe_multi = o->uprobe_multi;
		co.version = o->version;
		co.merge_max = o->merge_max;
	}
	if (cache_dir && nprogs && !gs_codegen_cache_key(progs, nprogs, &co, key) &&
	    !gs_filecache_paths(cache_dir, "bpf", key, ".o", d, path, sizeof(path))) {
		*obj_ret = gs_filecache_read(path, TRAILER_MAGIC, key, len_ret);
		if (*obj_ret) {
			if (hit_ret)
				*hit_ret = true;
			return 0;
		}
	} else {
		cache_dir = NULL;
	}
	ret = gs_codegen_emit(progs, nprogs, &co, obj_ret, len_ret, err, errlen);
	if (!ret && cache_dir)
		gs_filecache_write(cache_dir, "bpf", d, path, TRAILER_MAGIC, key, *obj_ret, *len_ret);
	return ret;
}

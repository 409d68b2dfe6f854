/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The plan cache: a plan (plan.h) saved beside the indexes, so that the same script
 * on the same binaries, indexes and options skips planning the next time.
 *
 * Planning reads the index cold: on release python3.11, 14 inlined copies of a
 * function cost 4-6 ms of a 10 ms start, nearly all of it first touches of index,
 * heap and code pages (10-20 us each in a VM), where the same plan built a second
 * time in the same process takes 0.3 ms. A saved plan is one small file.
 *
 * Key (XXH3-128): a format tag, the tracer's own build-id (any rebuild invalidates
 * everything), the script's name and text, the planner options, whether the kernel
 * optimizes 5-byte nops (it moves probes), and for each module its path, role,
 * runtime layout (bias, code range) and the identity of its index file (build-id,
 * device, inode, size, mtime): a re-index writes a new file and misses.
 *
 * What is saved is everything of the plan but the --dry-run read lists: each probe's
 * place, instruction, description and error, its IR program and its decoding
 * tables. AST nodes are saved as the byte offset of their span in the script,
 * modules and indexes as their position in the module list.
 */
#ifndef GS_TRACER_PLANCACHE_H
#define GS_TRACER_PLANCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "tracer/ast.h"
#include "tracer/plan.h"

/* The key of planning @script over @mods with @opts; 0, or -errno: do not cache. */
int gs_plancache_key(const struct gs_script *script, const struct gs_plan_module *mods,
		     size_t nmods, const struct gs_plan_opts *opts, uint8_t key[16]);

/*
 * The plan saved under @key in @dir, rebuilt over @script and @mods (which must be
 * what the key was computed from). 0 and *@plan_ret; -ENOENT on a miss, or another
 * -errno for a file that does not fit (a miss too: plan, then store again).
 */
int gs_plancache_load(const char *dir, const uint8_t key[16], const struct gs_script *script,
		      struct gs_plan_module *mods, size_t nmods, struct gs_plan **plan_ret);

/* Saves @plan under @key in @dir; 0 or -errno (a cache that cannot be written is no error). */
int gs_plancache_store(const char *dir, const uint8_t key[16], const struct gs_plan *plan);

/* Encoding alone, for tests: a malloc'd payload, and the plan rebuilt from one. */
int gs_plancache_encode(const struct gs_plan *plan, void **buf_ret, size_t *len_ret);
int gs_plancache_decode(void *buf, size_t len, const struct gs_script *script,
			struct gs_plan_module *mods, size_t nmods, struct gs_plan **plan_ret);

#endif /* GS_TRACER_PLANCACHE_H */

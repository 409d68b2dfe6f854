/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The indexer as a library: one call indexes one ELF file (executable or shared
 * object) into the cache. The ghostscope-index CLI uses it (and the tracer runs that
 * program to auto-index: it keeps libdw out of its own process); so do the tests.
 */
#ifndef GS_INDEXER_INDEXER_H
#define GS_INDEXER_INDEXER_H

#include <stdbool.h>
#include <stdint.h>

struct gs_indexer_opts {
	const char *index_dir;	/* NULL: gs_index_dir_resolve() rules */
	const char *debug_file;	/* NULL: find the debug info (debuginfo.h) */
	bool force;		/* rebuild even when the module is indexed */
	int jobs;		/* worker threads; <= 1 means one (reserved, see docs) */
	bool progress;		/* reserved for per-module progress */
	/*
	 * The process exits right after this call: leave libdw's caches and the model to
	 * the exit instead of freeing them one node at a time (a fifth of the CPU time of
	 * a large module). Ignored in sanitizer builds, which check for leaks.
	 */
	bool exiting;
};

struct gs_indexer_stats {
	uint64_t nfuncs, ninlines, nvars, ntypes, nlines, ncfi, nsymbols, nglobals;
	uint64_t dwarf_bytes;	/* .debug_* bytes read */
	uint64_t index_bytes;	/* size of the index file */
	double seconds;
	bool reused;		/* the module was already indexed: nothing written */
	bool has_dwarf;
};

/*
 * Indexes @elf_path into <dir>/<bid[0:2]>/<bid[2:]>.gsidx. When a valid index of the
 * same build-id is already there and !o->force, does nothing and sets st->reused.
 * @build_id_ret (may be NULL) gets the build-id; @st (may be NULL) the counts.
 *
 * Returns 0; -GS_ERR_NOT_ELF for a non-ELF file or an ELF that is neither ET_EXEC nor
 * ET_DYN (not logged, so directory walks can count skips); -errno from opening the
 * file (not logged); -GS_ERR_BAD_ELF, -GS_ERR_NO_BUILD_ID, -GS_ERR_BUILD_ID_MISMATCH,
 * -GS_ERR_BAD_DWARF, -ENOSPC, -EACCES, -EROFS... (logged once to stderr). After a
 * failure the cache holds what it held before.
 */
int gs_indexer_index_path(const struct gs_indexer_opts *o, const char *elf_path,
			  char build_id_ret[41], struct gs_indexer_stats *st);

#endif /* GS_INDEXER_INDEXER_H */

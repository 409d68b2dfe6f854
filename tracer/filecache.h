/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Files of the caches kept beside the indexes: <dir>/<sub>/<key[0:2]>/<key><ext>,
 * keyed by a 128-bit hash of everything that shapes the content. Each file is the
 * payload then a 48-byte trailer {magic, payload length, XXH3-128 of the payload,
 * key}: a short, corrupt or misplaced file fails the check and reads as a miss.
 * Writes go to a temporary name then rename(2), so concurrent runs never see half a
 * file. Users: the compiled-object cache (codegen_cache.c) and the plan cache
 * (plancache.c).
 *
 * Both grow by a file per distinct script (and per process for plans of -p on a
 * PIE), so each is pruned to a byte limit, least recently used first: a hit marks
 * its file used by its mtime (at most once an hour, so that a hot file costs no
 * metadata write per run), and the tracer prunes when it exits after storing.
 */
#ifndef GS_TRACER_FILECACHE_H
#define GS_TRACER_FILECACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <xxhash.h>

/* Adds @len bytes at @p to a key, length-prefixed so adjacent fields cannot trade bytes. */
void gs_filecache_hash_field(XXH3_state_t *st, const void *p, size_t len);
/* The key of a finished hash, in canonical (big-endian) byte order. */
void gs_filecache_key(XXH3_state_t *st, uint8_t key[16]);

/* <dir>/<sub>/<hex[0:2]> into @d and <that>/<hex><ext> into @f; 0 or -ENAMETOOLONG. */
int gs_filecache_paths(const char *dir, const char *sub, const uint8_t key[16], const char *ext,
		       char *d, char *f, size_t len);
/* The payload of a valid file (malloc'd; *@len_ret its length), or NULL: a miss. */
void *gs_filecache_read(const char *path, const char magic[8], const uint8_t key[16],
			size_t *len_ret);
/* Stores @data as @path in directory @d (made, with <dir>/<sub>, if absent); 0 or -errno. */
int gs_filecache_write(const char *dir, const char *sub, const char *d, const char *path,
		       const char magic[8], const uint8_t key[16], const void *data, size_t len);
/* Whether this process stored a file with gs_filecache_write (so pruning may be due). */
bool gs_filecache_stored(void);

enum { GS_FILECACHE_DEFAULT_LIMIT = 64 << 20 };	/* bytes per cache (bpf/, plan/) */
/*
 * Prunes <dir>/<sub>: when its files named *@ext hold more than @limit bytes, removes
 * the least recently used (oldest mtime) until they hold at most 3/4 of it, so that
 * the next runs do not prune again at once; files used at or after @keep_since (the
 * caller's start by CLOCK_REALTIME_COARSE, the clock of file times: what it just
 * stored or used) stay, even over the limit. Temporary
 * files of writers that died (older than an hour) go too. Symlinks are never
 * followed. Returns the number of files removed, or -errno when <dir>/<sub> cannot
 * be read (-ENOENT: no such cache yet).
 */
int gs_filecache_prune(const char *dir, const char *sub, const char *ext, uint64_t limit,
		       const struct timespec *keep_since);
/*
 * Parses a byte count with an optional K, M or G suffix (powers of 1024) into
 * *@bytes; 0 or -EINVAL (empty, not a number, zero, an unknown suffix, overflow).
 */
int gs_filecache_parse_limit(const char *s, uint64_t *bytes);

#endif /* GS_TRACER_FILECACHE_H */

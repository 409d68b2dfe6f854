/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Files of the caches kept beside the indexes: <dir>/<sub>/<key[0:2]>/<key><ext>,
 * keyed by a 128-bit hash of everything that shapes the content. Each file is the
 * payload then a 48-byte trailer {magic, payload length, XXH3-128 of the payload,
 * key}: a short, corrupt or misplaced file fails the check and reads as a miss.
 * Writes go to a temporary name then rename(2), so concurrent runs never see half a
 * file. Users: the compiled-object cache (codegen_cache.c) and the plan cache
 * (plancache.c).
 */
#ifndef GS_TRACER_FILECACHE_H
#define GS_TRACER_FILECACHE_H

#include <stddef.h>
#include <stdint.h>

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

#endif /* GS_TRACER_FILECACHE_H */

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writes an indexer model as one LMDB index file, atomically (see writer.c). */
#ifndef GS_INDEXER_WRITER_H
#define GS_INDEXER_WRITER_H

#include <stdint.h>

struct ix_model;

/*
 * Sorts the model's tables, adds meta/"checksums", builds the file in a scratch
 * environment next to @path and renames a compacted copy onto @path (creating its
 * directory). *@size_ret gets the file size. Returns 0 or -errno (-EACCES, -EROFS,
 * -ENOSPC, ...), logged once with the path; on failure nothing is left behind and an
 * existing file at @path is untouched. Either way the tables of @m are empty afterwards
 * (each is freed once written); the rest of the model is left alone.
 */
int ix_write(struct ix_model *m, const char *path, uint64_t *size_ret);

#endif /* GS_INDEXER_WRITER_H */

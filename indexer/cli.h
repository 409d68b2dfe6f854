/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ghostscope-index subcommands that read an index (query, dump) and the text/JSON
 * rendering they share. main.c parses the command line and dispatches here.
 */
#ifndef GS_INDEXER_CLI_H
#define GS_INDEXER_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "shared/index.h"

/* Exit codes of every ghostscope-index command (docs/indexer.md). */
enum {
	GSI_EXIT_OK		= 0,
	GSI_EXIT_FAIL		= 1,	/* an error: unreadable, corrupt, write failed */
	GSI_EXIT_USAGE		= 2,
	GSI_EXIT_NOT_FOUND	= 3,	/* the module is not indexed, or the query found nothing */
};

enum gsi_query_kind { GSI_Q_FUNC, GSI_Q_LINE, GSI_Q_ADDR, GSI_Q_TYPE, GSI_Q_GLOBAL, GSI_Q_CFI };

/* Runs one query and prints the answer on @out. Returns a GSI_EXIT_* code. */
int gsi_query(struct gs_index *idx, enum gsi_query_kind kind, const char *arg, bool json,
	      FILE *out);
/* Prints the whole index as canonical text (for golden tests). Returns GSI_EXIT_*. */
int gsi_dump(struct gs_index *idx, FILE *out);
/* C spelling of type @id ("struct order *", "int [4]"). Returns @buf. */
const char *gsi_type_str(struct gs_index *idx, uint32_t id, char *buf, size_t len);

#endif /* GS_INDEXER_CLI_H */

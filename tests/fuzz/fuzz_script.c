// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for the script parser: any byte string goes through
 * gs_script_parse(); a success is dumped back to text and a failure's diagnostic is
 * formatted, so the AST printer and the caret renderer are exercised too. Crashes,
 * sanitizer reports and leaks are the findings; parse errors are expected.
 *
 * Build and run (from the top of the tree):
 *   clang-16 -g -O1 -fsanitize=fuzzer,address,undefined -std=gnu11 -D_GNU_SOURCE -I. \
 *     tests/fuzz/fuzz_script.c tracer/parser.c tracer/lexer.c tracer/ast.c tracer/diag.c \
 *     -o build/fuzz_script
 *   build/fuzz_script -max_total_time=60 -max_len=512 CORPUS_DIR
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "tracer/ast.h"
#include "tracer/diag.h"
#include "tracer/parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gs_script *script = NULL;
	struct gs_diag diag;
	char *text;

	gs_diag_init(&diag);
	if (!gs_script_parse((const char *)data, size, "fuzz", &script, &diag)) {
		text = gs_script_dump(script);	/* NULL on ENOMEM: nothing to check */
		free(text);
		gs_script_free(script);
	} else {
		text = gs_diag_format(&diag);
		free(text);
	}
	gs_diag_deinit(&diag);
	return 0;
}

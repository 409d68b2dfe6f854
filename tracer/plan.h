/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The planner: script AST + module indexes -> one probe per resolved pc, each with a
 * probe IR program for the code generator and the tables the decoder needs to turn
 * its events back into text.
 *
 * It reads only the indexes (never DWARF). For each trace block it resolves the
 * pattern (function: post-prologue pc of every out-of-line body plus the entry of
 * every inlined instance; FILE:LINE: every is_stmt address; addresses as given), then
 * compiles the statements against the scopes, variables, locations and types visible
 * at that pc. A pc that fails to compile keeps its error and the rest go on.
 */
#ifndef GS_TRACER_PLAN_H
#define GS_TRACER_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/index.h"
#include "shared/strbuf.h"
#include "tracer/ast.h"
#include "tracer/diag.h"
#include "tracer/insn.h"
#include "tracer/ir.h"

/* One module of the target, with its open index. */
struct gs_plan_module {
	const char *path;
	struct gs_index *idx;		/* borrowed; NULL when not indexed */
	const struct gs_module_info *info;
	bool has_bias;			/* runtime bias known (-p mode) */
	uint64_t bias;
	bool is_main;
	/* Runtime range of its code (-p mode), for backtraces; has_exec false if unknown. */
	uint64_t exec_start, exec_end;
	bool has_exec;
};

struct gs_plan_opts {
	uint32_t str_cap;		/* bytes read for a C string (default 256) */
	uint32_t mem_cap;		/* bytes read for one struct/array value (default 1024) */
	uint32_t dump_cap;		/* bytes read for one {:x.N} dump (default 256) */
	uint32_t bt_depth;		/* frames per backtrace, 1..128 (default 128) */
	bool after_prologue;		/* never move a function probe to its first instruction */
};

/* What a record slot of an event means to the decoder. */
enum gs_rec_role {
	GS_ROLE_NONE,
	GS_ROLE_PRINT,		/* a print statement ran: render line `print` */
	GS_ROLE_VALUE,		/* argument data, read by its print */
	GS_ROLE_EXPR_ERROR,	/* a condition failed to evaluate: `text` */
	GS_ROLE_BACKTRACE,	/* a bt statement: `stmt` has its flags */
};

/* How one print argument is rendered from its records. */
enum gs_arg_how {
	GS_ARG_TEXT,		/* constant text (e.g. "<optimized out>"), no record */
	GS_ARG_OBJECT,		/* rec holds the object's bytes: render by type */
	GS_ARG_SCALAR,		/* rec holds a u64 whose low bytes are the value, by type */
	GS_ARG_INT,		/* rec holds a computed integer: int_signed decides */
	GS_ARG_BOOL,		/* rec holds 0/1 */
	GS_ARG_CSTR,		/* rec: the pointer (u64); rec2: the string (S_STR) */
	GS_ARG_ADDR,		/* rec holds an address ({:p}) */
	GS_ARG_DUMP,		/* rec holds bytes read at an address ({:x.N}, {:s.*}) */
	GS_ARG_NONE,		/* only a {:x.*} length: not rendered */
	GS_ARG_COMM,		/* rec holds the task name ($comm) */
};

/* char* members followed per GS_ARG_OBJECT; past these they render as addresses. */
#define GS_PLAN_ARG_STRS 16

/* A char* inside a printed object whose string the probe reads too. */
struct gs_plan_str {
	uint32_t off;		/* byte offset of the pointer in the object */
	uint16_t rec;		/* the record with its string (S_STR) */
};

struct gs_plan_arg {
	uint8_t how;		/* enum gs_arg_how */
	bool int_signed;
	uint8_t extra_ptr;	/* the value is a pointer to type (&x): this many levels */
	uint32_t dim_skip;	/* GS_ARG_OBJECT of a sub-array: dimensions indexed away */
	uint8_t conv;		/* enum gs_fmt_conv of the placeholder (DEFAULT for print EXPR) */
	bool truncated;		/* GS_ARG_DUMP: asked for more than the cap */
	uint32_t type_id;	/* in module's index */
	struct gs_index *idx;	/* the index the type id belongs to */
	uint16_t rec, rec2;
	char *text;		/* GS_ARG_TEXT */
	/*
	 * GS_ARG_OBJECT printed with {}: the char* members of the object, of the structs
	 * and arrays embedded in it (not behind its pointers), in layout order.
	 */
	uint8_t nstrs;
	struct gs_plan_str strs[GS_PLAN_ARG_STRS];
};

struct gs_plan_print {
	const struct gs_stmt *stmt;	/* GS_S_PRINT or GS_S_PRINT_EXPR */
	size_t nargs;
	struct gs_plan_arg *args;
};

struct gs_plan_rec {
	uint8_t role;		/* enum gs_rec_role */
	struct gs_plan_print *print; /* GS_ROLE_PRINT */
	const char *text;	/* GS_ROLE_EXPR_ERROR: the condition as written */
	const struct gs_stmt *stmt; /* GS_ROLE_BACKTRACE */
};

struct gs_plan;

struct gs_probe {
	const struct gs_plan *plan;
	uint32_t trace_id;	/* >= 1 */
	/*
	 * A return probe (`f:return`) is a uretprobe at the function's entry; its hidden
	 * companion, a uprobe at the same pc (or after the prologue where a parameter is
	 * not to be had at the entry), saves the parameters the script reads.
	 * Hidden probes have trace ids after every visible one and emit no events.
	 */
	bool retprobe;
	bool hidden;
	/* The probed instruction: how the kernel handles a hit, and what it is. */
	enum gs_insn_kind insn_kind;
	const char *insn;
	const struct gs_trace *trace;
	struct gs_plan_module *mod;
	uint64_t vaddr;		/* module vaddr of the probe */
	uint64_t file_offset;	/* for the uprobe */
	char *where;		/* "checkout+0x8 at shop.c:31" */
	struct gs_ir_prog *ir;	/* NULL when the pc failed to compile */
	char *error;		/* why, one line (with script line:col) */
	struct gs_strbuf reads;	/* --dry-run: one line per variable read */
	uint16_t nrecs;		/* record ids 1..nrecs */
	struct gs_plan_rec *recs; /* indexed by record id */
	size_t nprints;
	struct gs_plan_print **prints;
};

struct gs_plan {
	const struct gs_script *script;
	struct gs_plan_module *mods;	/* borrowed, for symbolizing backtraces */
	size_t nmods;
	size_t nprobes;
	struct gs_probe *probes;
	void *cache_buf;		/* a plan from the plan cache: its file (insn names point in) */
};

/*
 * Plans every trace of @script over @mods. Fatal errors (a pattern that resolves
 * nowhere, an unknown module) go to @diag with the script position and return
 * -ENOENT/-EINVAL; per-pc compile errors stay in gs_probe.error and return 0.
 */
int gs_plan_build(const struct gs_script *script, struct gs_plan_module *mods, size_t nmods,
		  const struct gs_plan_opts *opts, struct gs_plan **plan_ret,
		  struct gs_diag *diag);
void gs_plan_free(struct gs_plan *plan);

/* The probe with trace id @trace_id, or NULL. */
struct gs_probe *gs_plan_probe(struct gs_plan *plan, uint32_t trace_id);

#endif /* GS_TRACER_PLAN_H */

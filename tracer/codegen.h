/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * BPF code generation: probe IR programs (ir.h) -> one BPF ELF object in memory,
 * through the LLVM C API (bpfel, CPU v3, default<O2>). The object holds one program
 * per IR program, named gs_p<index>, the maps below and the per-run settings global,
 * with BTF from DIBuilder debug info. docs/codegen.md describes the generated code and
 * the event layout.
 *
 * LLVM lives in a separate program (ghostscope-codegen next to the executable, or
 * $GHOSTSCOPE_CODEGEN) that gs_codegen_emit() runs when it must compile; everything
 * else here works without it. gs_codegen_emit_cached() keeps compiled objects on disk
 * so that the same programs are never compiled twice.
 */
#ifndef GS_TRACER_CODEGEN_H
#define GS_TRACER_CODEGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tracer/ir.h"

/* Map and program names in the object; the loader finds them by these names. */
#define GS_CODEGEN_MAP_EVENTS	"gs_events"	/* ARRAY_OF_MAPS of RINGBUF, by CPU */
#define GS_CODEGEN_MAP_LOST	"gs_lost"	/* PERCPU_ARRAY u32 trace id -> u64 lost events */
#define GS_CODEGEN_MAP_VADDR	"gs_vaddr"	/* ARRAY u32 trace id -> u64 probe vaddr */
#define GS_CODEGEN_PROG_FMT	"gs_p%zu"	/* BPF program i: IR program i, or group i when merged */
/*
 * Only in objects with GS_IR_S_SAVE / GS_IR_SAVED (docs/codegen.md, "Return probes"):
 * LRU_HASH {u32 host tid, u32 save key, u64 CFA of the call} -> {u64 failed mask,
 * u64 vals[16]}, and a one-entry PERCPU_ARRAY scratch value the entry side fills
 * before inserting it. The hash holds calls in progress (a return deletes its save),
 * so the loader creates it as a non-preallocated HASH where the kernel allows
 * (gs_loader_open).
 */
#define GS_CODEGEN_MAP_SAVE	"gs_save"
#define GS_CODEGEN_MAP_SCRATCH	"gs_save_scratch"
/*
 * Only in objects with a frame-keyed S_SAVE / GS_IR_SAVED_FRAME (docs/codegen.md,
 * "Frame-keyed saves"): LRU_HASH {u32 host tid, u32 save key, u64 frame} ->
 * {u64 failed mask, u64 vals[16]} (with gs_save_scratch when the object saves).
 */
#define GS_CODEGEN_MAP_FSAVE	"gs_fsave"
/*
 * Only in objects with GS_IR_S_BACKTRACE (defined in bpf/helpers.c, linked in as
 * bitcode): the unwind tables gs_loader_set_unwind() fills. Ranges: ARRAY of
 * GS_CODEGEN_UW_MAX_RANGES; rows and entries: ARRAYs the loader sizes before loading.
 */
#define GS_CODEGEN_MAP_UW_RANGES "gs_uw_ranges"
#define GS_CODEGEN_MAP_UW_ROWS	"gs_uw_rows"
#define GS_CODEGEN_MAP_UW_ENTS	"gs_uw_ents"

/* Limits checked by gs_codegen_emit (exceeding one is -E2BIG with a message). */
enum {
	GS_CODEGEN_MAX_MEM	= 8192,	/* S_MEM / S_MEM_DYN / S_STR len */
	GS_CODEGEN_MAX_EVENT	= 65536, /* header + every slot of one program */
	GS_CODEGEN_MAX_CMP	= 128,	/* MEMEQ / STREQ bytes (BPF stack scratch) */
	GS_CODEGEN_SAVE_ENTRIES	= 16384, /* gs_save / gs_fsave entries */
	GS_CODEGEN_UW_MAX_RANGES = 32,	/* module address ranges the unwinder searches */
	GS_CODEGEN_DEFAULT_RING = 8u << 20, /* ring buffer bytes when the options say 0 */
};

/*
 * One element of gs_uw_ranges (written by the loader, read by bpf/helpers.c): a
 * module's code at runtime [start, end), bias = runtime - vaddr, and where its
 * entries and rows start in gs_uw_ents / gs_uw_rows. end == 0 ends the list.
 */
struct gs_codegen_uw_range {
	uint64_t start, end, bias;
	uint32_t ent_off, ent_cnt, row_off, reserved;
};

/*
 * The options. Fields marked "per run" are load-time settings: the object carries
 * them only as defaults (the ring buffer and gs_lost/gs_vaddr sizes, the gs_cfg
 * global below), the loader replaces them (gs_loader_opts.run), and the cache key
 * ignores them, so one cached object serves every pid, namespace and ring size.
 */
struct gs_codegen_opts {
	/*
	 * Per run. Bytes of all the event rings together (one per CPU, rings.h): a power
	 * of two >= 4096; 0 means 8 MiB.
	 */
	uint32_t ringbuf_bytes;
	/*
	 * Per run. Drop events early (before reserving) unless the host tgid (as
	 * bpf_get_current_pid_tgid() sees it, i.e. the tracer's view) equals filter_tgid.
	 */
	bool pid_filter;
	uint32_t filter_tgid;
	/*
	 * Per run. dev/ino of the target's pid namespace (stat("/proc/PID/ns/pid")): hdr.pid/tid
	 * and $pid/$tid then come from bpf_get_ns_current_pid_tgid; both 0 means use the
	 * host ids (the target fills them, target.c, and leaves the initial namespace 0).
	 */
	uint64_t pidns_dev, pidns_ino;
	/* Per run. Largest trace id used: sizes gs_lost and gs_vaddr (max_trace_id + 1 entries). */
	uint32_t max_trace_id;
	/*
	 * Section "uprobe.multi" (true) or "uprobe" (false); informational for libbpf
	 * 1.1, which knows neither name: the loader sets the program type itself.
	 */
	bool uprobe_multi;	/* return programs: "uretprobe.multi" / "uretprobe" */
	/*
	 * Per run. Events are submitted with BPF_RB_NO_WAKEUP while less than this many bytes are
	 * unconsumed in its ring, and with BPF_RB_FORCE_WAKEUP above it; 0 means an eighth
	 * of a ring (the loader knows their size; gs_codegen_cfg_fill assumes one ring).
	 * The reader polls with a short timeout, so quiet streams still drain promptly.
	 */
	uint32_t wakeup_bytes;
	/* The tool's version: hashed into the cache key only (NULL = ""). */
	const char *version;
	/*
	 * Up to this many IR programs share one BPF program (0 or 1: one each), see
	 * gs_codegen_merge(): each becomes an inlined body behind a switch on the attach
	 * cookie's high 32 bits, so that loading and attaching N probes whose plans differ
	 * costs one program and one link per group instead of N.
	 */
	uint32_t merge_max;
	/*
	 * The grouping to emit when merge_max > 1: program i is body variant_of[i] of BPF
	 * program entry_of[i], as gs_codegen_merge() made it in the caller, who sets the
	 * attach cookies from the same arrays. NULL: the emitter groups by itself.
	 * gs_codegen_emit() always passes the caller's grouping to the code generator
	 * program, so the two never disagree, whichever builds they come from.
	 */
	const uint32_t *entry_of, *variant_of;
};

/*
 * The per-run settings as the programs read them: one read-only global, gs_cfg, alone
 * in section GS_CODEGEN_CFG_SEC (libbpf makes it an internal map of that name). Loads
 * from it are volatile, so LLVM keeps them; the kernel freezes the map, so the
 * verifier sees constants and drops the branches they disable (no pid filter, host
 * ids) from the program.
 */
#define GS_CODEGEN_CFG_SEC	".rodata.gs_cfg"
#define GS_CODEGEN_CFG_VAR	"gs_cfg"
struct gs_codegen_cfg {
	uint64_t pidns_dev, pidns_ino;	/* both 0: host pid/tid */
	uint32_t pid_filter;		/* 1: drop events whose host tgid != filter_tgid */
	uint32_t filter_tgid;
	uint32_t wakeup_bytes;		/* force a wakeup above this much unconsumed data */
	/*
	 * Byte offset of thread.fsbase in the kernel's task_struct, for GS_IR_SP_TP. Not
	 * a per-run option: the loader fills it from /sys/kernel/btf/vmlinux in objects
	 * that read the thread pointer, which the code generator compiles with
	 * GS_CODEGEN_FSBASE_UNSET here (0 in the others), so one object serves every
	 * kernel.
	 */
	uint32_t fsbase_off;
	/*
	 * Byte offsets of task_struct.utask and uprobe_task.depth, for saves of return
	 * probes that run at the uretprobe's pc (GS_IR_SAVE_ARMED): filled like
	 * fsbase_off in objects that have one, 0 when this kernel's BTF lacks them (the
	 * saves are then never skipped).
	 */
	uint32_t utask_off, utask_depth_off;
};
#define GS_CODEGEN_FSBASE_UNSET	0xffffffffu

/*
 * Resolves @o's per-run fields: fills *@cfg and returns the ring buffer size (defaults
 * applied), or 0 when ringbuf_bytes is not a power of two >= 4096.
 */
uint32_t gs_codegen_cfg_fill(const struct gs_codegen_opts *o, struct gs_codegen_cfg *cfg);

/*
 * Compiles @nprogs programs into one object. On success *@obj_ret is a malloc'd ELF
 * image of *@len_ret bytes that the caller frees. Returns 0, -EINVAL for malformed IR
 * (bad register, load size, slot id 0, SP_CFA without cfa_valid, GS_IR_SAVED outside
 * a return program or past value 15, GS_IR_SAVED_FRAME past value 15...), -E2BIG for a limit above (or an S_SAVE of
 * more than 16 values, a backtrace deeper than 128), -EIO when LLVM fails (also when
 * the embedded bpf/helpers bitcode a backtrace needs does not link), -ELIBACC when
 * the LLVM library cannot be loaded; @err (may be NULL) then holds a one-line
 * message, starting "program N: " when one program is at fault.
 */
int gs_codegen_emit(const struct gs_ir_prog *const *progs, size_t nprogs,
		    const struct gs_codegen_opts *opts, void **obj_ret, size_t *len_ret,
		    char *err, size_t errlen);

/*
 * gs_codegen_emit with an object cache: the key is an XXH3-128 hash of the cache
 * format, the code generator's build-id, @o's version and non-per-run fields, and the
 * canonical dump (gs_ir_dump) of every program in order. With @cache_dir (NULL = no
 * cache) a valid <cache_dir>/bpf/<key[0:2]>/<key>.o is returned without loading
 * LLVM (*@hit_ret true); otherwise the programs are compiled with @o's per-run
 * fields zeroed and the object is stored (temp file, then rename; a store failure
 * is not an error). A short or corrupt file is a miss and is replaced. The caller
 * gives the per-run settings to the loader (gs_loader_opts.run). Returns as
 * gs_codegen_emit; *@obj_ret is malloc'd.
 */
int gs_codegen_emit_cached(const struct gs_ir_prog *const *progs, size_t nprogs,
			   const struct gs_codegen_opts *o, const char *cache_dir,
			   void **obj_ret, size_t *len_ret, bool *hit_ret, char *err,
			   size_t errlen);

/* The cache key of gs_codegen_emit_cached, 16 bytes; 0 or -ENOMEM / -EINVAL. */
int gs_codegen_cache_key(const struct gs_ir_prog *const *progs, size_t nprogs,
			 const struct gs_codegen_opts *o, uint8_t key[16]);

/*
 * Where the records of one program's events are: one slot per slot-writing statement
 * (all kinds but S_RETURN and S_SAVE), in pre-order (an S_IF's slot, then its then-body, then its
 * else-body). A record is at event + off (struct gs_rec_hdr, then up to cap data
 * bytes); its hdr.id is 0 when the statement did not run.
 */
struct gs_event_slot {
	uint16_t id;
	uint8_t kind;		/* enum gs_ir_stmt_kind */
	uint32_t off;		/* from the start of the event (gs_event_hdr) */
	uint32_t cap;		/* data bytes reserved after the record header */
};

/*
 * How gs_codegen_emit() groups @n IR programs into BPF programs when up to @max share
 * one: entry and return programs apart, in input order, at most @max per group, groups
 * numbered in the order they open; a program with a backtrace (the unwinder's loop,
 * thousands of verifier steps) keeps a group of its own. Program @i is body
 * *@variant_of[i] of BPF program *@entry_of[i] (gs_p<entry>), and runs when the
 * attach cookie's high 32 bits hold that variant. Returns the number of BPF programs.
 * ghostscope runs it and hands the result to the code generator program
 * (gs_codegen_opts.entry_of), so both sides use one grouping.
 */
size_t gs_codegen_merge(const struct gs_ir_prog *const *progs, size_t n, uint32_t max,
			uint32_t *entry_of, uint32_t *variant_of);

/*
 * Computes the layout gs_codegen_emit uses for @prog. *@slots_ret is malloc'd (caller
 * frees; NULL when there are no slots); *@event_len_ret is hdr.len of its events.
 * Returns 0 or -EINVAL/-E2BIG as gs_codegen_emit would.
 */
int gs_codegen_layout(const struct gs_ir_prog *prog, struct gs_event_slot **slots_ret,
		      size_t *cnt_ret, uint32_t *event_len_ret);

/*
 * Dry run help: BPF instruction count of each of the @nprogs programs in an object
 * from gs_codegen_emit (opens it with libbpf, loads nothing). Returns 0, -EINVAL when
 * the object is malformed or lacks a program.
 */
int gs_codegen_insn_counts(const void *obj, size_t len, uint32_t *cnt_ret, size_t nprogs);


#endif /* GS_TRACER_CODEGEN_H */

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The probe IR: what the planner (plan.c) hands the BPF code generator (codegen.c).
 *
 * The planner has already resolved every name, type and DWARF location; the IR only
 * says how to compute 64-bit values from registers and user memory, what to put in
 * the event, and which statements are conditional. The code generator turns one IR
 * program into one BPF program (LLVM IR, O2, BPF object); identical programs may be
 * attached to many pcs, told apart by the attach cookie (the trace id).
 *
 * Evaluation model: every expression yields a u64. A failing user-memory read sets
 * the program's error state (status + faulting address) and yields 0; the
 * statement that evaluates the expression decides what the error means (see
 * GS_IR_S_*). Error state is cleared at the start of every statement. Reading an
 * entry value that was never saved (GS_IR_SAVED, GS_IR_SAVED_FRAME) sets it too, with
 * status NOT_SAVED.
 *
 * Return probes: an entry program saves values with GS_IR_S_SAVE, the return program
 * (gs_ir_prog.retprobe) reads them with GS_IR_SAVED; docs/codegen.md, "Return probes".
 * Frame-keyed saves (entry values): an S_SAVE with a `frame` expression stores values
 * under (tid, save_key, frame value) and any program of the same call reads them with
 * GS_IR_SAVED_FRAME; docs/codegen.md, "Frame-keyed saves".
 *
 * Ownership: nodes are allocated by gs_ir_* constructors from a gs_ir_prog arena and
 * freed all at once by gs_ir_prog_free(). Constructors never fail (abort on OOM).
 */
#ifndef GS_TRACER_IR_H
#define GS_TRACER_IR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum gs_ir_kind {
	GS_IR_CONST,		/* imm */
	GS_IR_REG,		/* DWARF register 0..16 (x86-64 order; 16 = rip) from pt_regs */
	GS_IR_SPECIAL,		/* special: enum gs_ir_special */
	GS_IR_LOAD,		/* *(size bytes at a), zero- or sign-extended to 64 bits */
	GS_IR_BINOP,		/* op(a, b) */
	GS_IR_UNOP,		/* op(a) */
	GS_IR_LAND,		/* a && b, short-circuit, yields 0/1 */
	GS_IR_LOR,		/* a || b, short-circuit, yields 0/1 */
	GS_IR_SELECT,		/* a ? b : c */
	GS_IR_EXT,		/* keep the low `bits` of a, zero/sign-extend (is_signed) */
	GS_IR_MEMEQ,		/* len bytes at a == len bytes at b (b an address) or == bytes; 0/1 */
	GS_IR_STREQ,		/* C string at a == bytes (bytes includes the NUL); 0/1 */
	/*
	 * Return programs only (gs_ir_prog.retprobe): value number imm (0..15) that the
	 * matching entry's GS_IR_S_SAVE stored. Sets the error state when nothing was
	 * saved (status GS_REC_NOT_SAVED: the probe attached mid-call, the save map was
	 * full) or when that value's own read
	 * failed at entry (READ_ERROR/NULL_DEREF at the address it faulted on then).
	 */
	GS_IR_SAVED,
	/*
	 * Any program: value number imm (0..15) of the frame-keyed S_SAVE stored under
	 * (host tid, save_key, value of a), typically a = GS_IR_SP_CFA, so that a probe
	 * later in a call reads what the probe at its entry saved. The save is not
	 * consumed (the next call with the same frame overwrites it). Error state as for
	 * GS_IR_SAVED: NOT_SAVED when there is no such save, or the saved read error.
	 */
	GS_IR_SAVED_FRAME,
	/*
	 * Any program: the load bias, in the current process, of the module whose
	 * dynamic section (PT_DYNAMIC) is at module vaddr imm and, when a (a CONST) is
	 * not 0, whose 8 bytes at module vaddr a (the start of its GNU build-id) equal
	 * b (a CONST). Found by walking the process's link_map list (r_debug from the
	 * executable's DT_DEBUG, the executable from the auxiliary vector's AT_PHDR),
	 * cached per process; see bpf/helpers.c, "Module biases". Sets the error state
	 * (READ_ERROR) when a read of the walk fails, at that address, or at imm when
	 * no loaded module matches.
	 */
	GS_IR_MOD_BIAS,
	/*
	 * Any program: the start of the current thread's TLS block of a module, through
	 * the thread's DTV (x86-64 glibc: tcb->dtv at %fs:8, 16-byte entries, entry -1
	 * the length): dtv[m].val with m the module id that ld.so stored at address a
	 * (a GOT slot the planner found through an R_X86_64_DTPMOD64 relocation). Sets
	 * the error state (READ_ERROR) on a failed read, and at the DTV entry's address
	 * when the id is out of range or the entry is -1 or 0: the block is not
	 * allocated for this thread yet (a dlopen'ed module whose variables the thread
	 * has not touched). A DTV entry left from a dlclose'd module whose id was reused
	 * and that the thread has not refreshed would read the old block.
	 */
	GS_IR_TLS_BLOCK,
};

enum gs_ir_special {
	GS_IR_SP_PID,		/* tgid as the target's pid namespace sees it */
	GS_IR_SP_TID,
	GS_IR_SP_HOST_PID,
	GS_IR_SP_TIMESTAMP,	/* bpf_ktime_get_ns */
	GS_IR_SP_PC,		/* runtime ctx->ip */
	GS_IR_SP_SP,		/* runtime rsp */
	GS_IR_SP_BIAS,		/* load bias of the probed module: ctx->ip - probe vaddr */
	GS_IR_SP_TRACE_ID,	/* the attach cookie */
	GS_IR_SP_CFA,		/* the frame's canonical frame address, from the planner's
				 * cfa_reg/cfa_off on the program (see gs_ir_prog) */
	/*
	 * The thread pointer (x86-64: the user fs base, what %fs:0 holds under glibc):
	 * task_struct.thread.fsbase of the current task, read with bpf_probe_read_kernel
	 * at the offset the loader takes from the kernel's BTF. A failed read sets the
	 * error state (READ_ERROR at the kernel address). The kernel refreshes fsbase on
	 * arch_prctl(ARCH_SET_FS), clone(CLONE_SETTLS) and context switches, so a thread
	 * that changed it itself with wrfsbase since its last switch shows the old value.
	 */
	GS_IR_SP_TP,
};

enum gs_ir_binop {
	GS_IR_ADD, GS_IR_SUB, GS_IR_MUL,
	GS_IR_DIV, GS_IR_MOD,	/* signed when is_signed; x/0 yields 0 */
	GS_IR_AND, GS_IR_OR, GS_IR_XOR,
	GS_IR_SHL, GS_IR_SHR,	/* SHR arithmetic when is_signed; count masked to 63 */
	GS_IR_EQ, GS_IR_NE, GS_IR_LT, GS_IR_LE, GS_IR_GT, GS_IR_GE, /* signed when is_signed */
};

enum gs_ir_unop {
	GS_IR_NEG, GS_IR_NOT /* ~ */, GS_IR_LNOT /* ! */,
};

struct gs_ir_expr {
	uint8_t kind;		/* enum gs_ir_kind */
	uint8_t op;		/* binop / unop / special */
	bool is_signed;
	uint8_t size;		/* GS_IR_LOAD: 1, 2, 4, 8 */
	uint8_t bits;		/* GS_IR_EXT: 1..63 */
	uint8_t reg;		/* GS_IR_REG */
	uint64_t imm;		/* GS_IR_CONST */
	struct gs_ir_expr *a, *b, *c;
	uint32_t len;		/* GS_IR_MEMEQ/STREQ: bytes compared */
	uint32_t save_key;	/* GS_IR_SAVED_FRAME: the S_SAVE's save_key */
	const uint8_t *bytes;	/* GS_IR_MEMEQ/STREQ literal, len bytes, arena-owned */
};

enum gs_ir_stmt_kind {
	/*
	 * Emit the value of expr as 8 bytes in slot `id`. On a read failure the record
	 * gets status READ_ERROR (NULL_DEREF when the address is below 4096) and the
	 * address as its data.
	 */
	GS_IR_S_VALUE,
	/*
	 * Read `len` bytes at address expr into slot `id` (bpf_probe_read_user). A failed
	 * address computation or read: status as above. A NULL address: NULL_DEREF.
	 */
	GS_IR_S_MEM,
	/*
	 * Like S_MEM but with a runtime length: reads min(len_expr, len) bytes; status
	 * TRUNCATED when len_expr exceeded len. Data length in the record is what was read.
	 */
	GS_IR_S_MEM_DYN,
	/* Read a NUL-terminated string of at most `len` bytes (bpf_probe_read_user_str). */
	GS_IR_S_STR,
	/* An empty record marking that statement `id` ran (a print without arguments). */
	GS_IR_S_MARK,
	/*
	 * if (expr) then else. When evaluating expr fails, neither branch runs and slot
	 * `id` records the error (status + address); else slot `id` stays unused.
	 */
	GS_IR_S_IF,
	/* Stop the program: the event is submitted with what it has so far. */
	GS_IR_S_RETURN,
	/* bpf_get_current_comm() into slot `id`: 16 bytes, NUL-padded (record len 16). */
	GS_IR_S_COMM,
	/*
	 * Entry side of a return probe: evaluate save_exprs[0..nsave) (nsave 1..16) and
	 * store them, with a per-value "read failed" bit and faulting address, in the
	 * save map under (host tid, save_key, CFA of the call by the program's CFA rule,
	 * which must be valid). Writes no slot and has id 0. The planner gives save_key
	 * the trace id of the return probe; the return program, whose stack pointer is
	 * that CFA once the call has returned, then reads them with GS_IR_SAVED (see
	 * gs_ir_prog.save_key). A program whose top level holds only S_SAVE statements
	 * emits no event at all. len = GS_IR_SAVE_ARMED: the save runs at the uretprobe's
	 * own pc, before the kernel arms the call's return, and is skipped when the
	 * kernel will not arm it (64 returns already pending for the thread), so that a
	 * deep recursion leaves no save no return will take.
	 *
	 * With `frame` (not NULL) the same statement is a frame-keyed save, which no
	 * return consumes: the values go to the frame save map under (host tid,
	 * save_key, value of frame), replacing an earlier save of the same frame, and
	 * GS_IR_SAVED_FRAME reads them from any program. When evaluating frame fails,
	 * nothing is saved. save_key is the planner's choice; it only has to differ
	 * between functions whose saves must not mix (frame saves and call saves live
	 * in different maps).
	 */
	GS_IR_S_SAVE,
	/*
	 * Unwind the user stack with the loader's CFI tables (gs_loader_set_unwind) and
	 * write struct gs_bt_hdr + up to `len` (1..GS_IR_BT_MAX) runtime pcs into slot
	 * `id`: frame 0 is the probe pc, then one return address per caller. Record
	 * status OK; the unwind outcome is in gs_bt_hdr.status (event.h).
	 */
	GS_IR_S_BACKTRACE,
};

/*
 * The runtime tables behind GS_IR_MOD_BIAS, defined in bpf/helpers.c (linked into
 * objects that use it): GS_IR_MAP_MODCFG, an ARRAY of one struct gs_ir_modcfg that
 * the loader fills from the kernel's BTF after loading (all zero: every lookup
 * fails), and GS_IR_MAP_MODBIAS, an LRU_HASH struct gs_ir_modkey -> struct
 * gs_ir_modval caching what the walk found.
 */
#define GS_IR_MAP_MODCFG	"gs_modcfg"
#define GS_IR_MAP_MODBIAS	"gs_modbias"
struct gs_ir_modcfg {
	uint32_t task_mm;	/* byte offsets: task_struct.mm */
	uint32_t mm_auxv;	/* mm_struct.saved_auxv */
	uint32_t task_leader;	/* task_struct.group_leader */
	uint32_t task_start;	/* task_struct.start_time */
};
struct gs_ir_modkey {
	uint32_t tgid;		/* host tgid */
	uint32_t reserved;
	uint64_t dyn_vaddr;	/* GS_IR_MOD_BIAS's imm */
	uint64_t id_word;	/* and its b */
};
struct gs_ir_modval {
	uint64_t mm;		/* the process's mm_struct and its leader's start time: */
	uint64_t start;		/* an entry of an exec'ed or reused pid does not match */
	uint64_t bias;
};

enum {
	GS_IR_SAVE_ARMED	= 1,	/* S_SAVE len: see GS_IR_S_SAVE */
	GS_IR_URETPROBE_DEPTH	= 64,	/* the kernel's MAX_URETPROBE_DEPTH */
	GS_IR_SAVE_MAX		= 16,	/* values per S_SAVE */
	GS_IR_BT_MAX		= 128,	/* frames per S_BACKTRACE */
};

struct gs_ir_stmt {
	uint8_t kind;		/* enum gs_ir_stmt_kind */
	uint16_t id;		/* emit id (> 0) for slot-writing statements */
	struct gs_ir_expr *expr;
	struct gs_ir_expr *len_expr; /* GS_IR_S_MEM_DYN */
	uint32_t len;		/* S_MEM / S_MEM_DYN / S_STR: maximum bytes; S_BACKTRACE: depth */
	struct gs_ir_stmt *then_body, *else_body; /* S_IF: singly linked lists */
	struct gs_ir_expr **save_exprs;	/* S_SAVE: nsave values, arena-owned array */
	uint32_t nsave;
	uint32_t save_key;		/* S_SAVE: the return probe's trace id (or the frame key) */
	struct gs_ir_expr *frame;	/* S_SAVE: NULL = keyed by the call's CFA, else by this */
	struct gs_ir_stmt *next;
};

struct gs_ir_prog {
	struct gs_ir_stmt *body; /* singly linked list */
	/*
	 * Only for GS_IR_SP_CFA: CFA = reg + off at the probe pc, from the CFI row the
	 * planner looked up; cfa_valid false makes SP_CFA a compile error.
	 */
	bool cfa_valid;
	uint8_t cfa_reg;
	int32_t cfa_off;
	/*
	 * A return program (attach points with retprobe): GS_IR_SAVED is allowed, %rax
	 * (GS_IR_REG 0) is the return value, and $pc/hdr.ip is the return address in the
	 * caller (so GS_IR_SP_BIAS means nothing there). save_key: whose saves it reads;
	 * 0 means the attach cookie, i.e. its own trace id, which lets identical return
	 * programs of different functions share code when each entry's S_SAVE uses the
	 * return probe's trace id as its key. A return program that reads saves deletes
	 * its entry's save on every exit.
	 */
	bool retprobe;
	uint32_t save_key;
	/* private: arena */
	void *arena;
};

struct gs_ir_prog *gs_ir_prog_new(void);
void gs_ir_prog_free(struct gs_ir_prog *prog);
/* @size zeroed bytes from @p's arena, for readers that rebuild nodes (ir_codec.c). */
void *gs_ir_alloc(struct gs_ir_prog *p, size_t size);

/*
 * A program as a flat record (ir_codec.c, in the format of wire.h), for the plan
 * cache and the code generator process. Encode: 0 or -ENOMEM. Decode: the program,
 * or NULL with the reader marked bad when the record does not fit.
 */
struct gs_strbuf;
struct gs_wire_rd;
int gs_ir_encode(struct gs_strbuf *b, const struct gs_ir_prog *p);
struct gs_ir_prog *gs_ir_decode(struct gs_wire_rd *r);

struct gs_ir_expr *gs_ir_const(struct gs_ir_prog *p, uint64_t imm);
struct gs_ir_expr *gs_ir_reg(struct gs_ir_prog *p, unsigned int dwarf_reg);
struct gs_ir_expr *gs_ir_special(struct gs_ir_prog *p, enum gs_ir_special sp);
struct gs_ir_expr *gs_ir_load(struct gs_ir_prog *p, struct gs_ir_expr *addr, unsigned int size,
			      bool is_signed);
struct gs_ir_expr *gs_ir_binop(struct gs_ir_prog *p, enum gs_ir_binop op, bool is_signed,
			       struct gs_ir_expr *a, struct gs_ir_expr *b);
struct gs_ir_expr *gs_ir_unop(struct gs_ir_prog *p, enum gs_ir_unop op, struct gs_ir_expr *a);
struct gs_ir_expr *gs_ir_land(struct gs_ir_prog *p, struct gs_ir_expr *a, struct gs_ir_expr *b);
struct gs_ir_expr *gs_ir_lor(struct gs_ir_prog *p, struct gs_ir_expr *a, struct gs_ir_expr *b);
struct gs_ir_expr *gs_ir_select(struct gs_ir_prog *p, struct gs_ir_expr *c, struct gs_ir_expr *a,
				struct gs_ir_expr *b);
struct gs_ir_expr *gs_ir_ext(struct gs_ir_prog *p, struct gs_ir_expr *a, unsigned int bits,
			     bool is_signed);
/* @bytes is copied into the arena. b may be NULL when bytes is given (MEMEQ). */
struct gs_ir_expr *gs_ir_memeq(struct gs_ir_prog *p, struct gs_ir_expr *a, struct gs_ir_expr *b,
			       const void *bytes, uint32_t len);
struct gs_ir_expr *gs_ir_streq(struct gs_ir_prog *p, struct gs_ir_expr *a, const char *lit);
/* GS_IR_SAVED: value @index of the entry's S_SAVE. */
struct gs_ir_expr *gs_ir_saved(struct gs_ir_prog *p, unsigned int index);
/* GS_IR_SAVED_FRAME: value @index of the frame-keyed S_SAVE under (@save_key, @frame). */
struct gs_ir_expr *gs_ir_saved_frame(struct gs_ir_prog *p, uint32_t save_key, unsigned int index,
				     struct gs_ir_expr *frame);
/*
 * GS_IR_MOD_BIAS of the module whose dynamic section is at vaddr @dyn_vaddr and whose
 * 8 bytes at vaddr @id_vaddr are @id_word (@id_vaddr 0: no such check).
 */
struct gs_ir_expr *gs_ir_mod_bias(struct gs_ir_prog *p, uint64_t dyn_vaddr, uint64_t id_vaddr,
				  uint64_t id_word);
/* GS_IR_TLS_BLOCK: TLS block of the module whose id is stored at runtime address @modid_addr. */
struct gs_ir_expr *gs_ir_tls_block(struct gs_ir_prog *p, struct gs_ir_expr *modid_addr);

/* Statement constructors return the statement; the caller links it with gs_ir_append. */
struct gs_ir_stmt *gs_ir_stmt_new(struct gs_ir_prog *p, enum gs_ir_stmt_kind kind, uint16_t id,
				  struct gs_ir_expr *expr, uint32_t len);
/*
 * An S_SAVE of @n values (copied into the arena; @n > GS_IR_SAVE_MAX is caught by the
 * code generator) under @save_key.
 */
struct gs_ir_stmt *gs_ir_save(struct gs_ir_prog *p, uint32_t save_key,
			      struct gs_ir_expr *const *exprs, uint32_t n);
/* A frame-keyed S_SAVE: gs_ir_save with stmt->frame = @frame (not NULL). */
struct gs_ir_stmt *gs_ir_save_frame(struct gs_ir_prog *p, uint32_t save_key,
				    struct gs_ir_expr *frame, struct gs_ir_expr *const *exprs,
				    uint32_t n);
/* Appends @s to the list at *@head. */
void gs_ir_append(struct gs_ir_stmt **head, struct gs_ir_stmt *s);

/* Canonical text of a program, for --dry-run and for deduplicating identical plans. */
char *gs_ir_dump(const struct gs_ir_prog *p);	/* malloc'd; caller frees */
/* Whether @p's statements read a GS_IR_SAVED value (a return program using its entry's save). */
bool gs_ir_reads_saved(const struct gs_ir_prog *p);

#endif /* GS_TRACER_IR_H */

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ring-buffer event layout, written by generated BPF code (codegen.c) and by the
 * C helpers in bpf/, read by the renderer. Plain fixed-width little-endian fields.
 *
 * An event is one gs_event_hdr followed by records laid out at offsets fixed at
 * compile time (one slot per emitting statement, in program order). A slot whose
 * statement did not run (a branch not taken) has id 0 and is skipped; every slot
 * starts 8-byte aligned. hdr.len is the number of bytes used, slots included.
 */
#ifndef GS_TRACER_EVENT_H
#define GS_TRACER_EVENT_H

#include <stdint.h>

struct gs_event_hdr {
	uint32_t trace_id;	/* the probe's trace id (one per resolved pc) */
	uint32_t len;		/* bytes in this event, header included */
	uint32_t pid;		/* tgid, in the target's pid namespace view when known */
	uint32_t tid;
	uint64_t ts_ns;		/* bpf_ktime_get_ns() */
	uint64_t ip;		/* runtime pc (ctx->ip) */
	uint32_t host_pid;
	uint32_t nslots;	/* number of record slots that follow */
};

enum gs_rec_status {
	GS_REC_OK		= 0,
	GS_REC_READ_ERROR	= 1,	/* data: u64 faulting address */
	GS_REC_NULL_DEREF	= 2,	/* data: u64 address (small, near NULL) */
	GS_REC_TRUNCATED	= 3,	/* data holds the first len bytes only */
	GS_REC_SKIPPED		= 4,	/* statement skipped: a condition failed to evaluate */
	GS_REC_NOT_SAVED	= 5,	/* a return probe's entry value was never saved; data 0 */
};

/* Each slot: this header, then data, then padding to 8 bytes. */
struct gs_rec_hdr {
	uint16_t id;		/* emit id from the IR (> 0); 0 = slot unused */
	uint8_t status;		/* enum gs_rec_status */
	uint8_t reserved;
	uint32_t len;		/* bytes of data that follow */
};

/*
 * GS_IR_S_BACKTRACE data: this header, then nframes u64 runtime pcs (record len =
 * 8 + 8 * nframes). pcs[0] is the probe pc; pcs[i] for i > 0 is a return address
 * (symbolize pcs[i] - 1: a call may be the last instruction of its function).
 */
struct gs_bt_hdr {
	uint32_t nframes;
	uint8_t status;		/* enum gs_bt_status */
	uint8_t reserved[3];
};

enum gs_bt_status {
	GS_BT_COMPLETE		= 0,	/* the last frame's return address is undefined, or 0 */
	GS_BT_TRUNCATED		= 1,	/* reached the requested depth with callers left */
	GS_BT_NO_CFI		= 2,	/* the last pc is in no installed module, or in a gap */
	GS_BT_UNSUPPORTED	= 3,	/* a CFA or rule the BPF unwinder cannot evaluate */
	GS_BT_READ_ERROR	= 4,	/* reading a saved return address or rbp failed */
	GS_BT_NO_TABLES		= 5,	/* no unwind tables installed: frame 0 only */
};

#endif /* GS_TRACER_EVENT_H */

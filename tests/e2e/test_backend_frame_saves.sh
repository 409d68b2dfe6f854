#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# BPF back end without the planner: frame-keyed saves (entry values without a return
# probe). A probe at frec's entry saves n (%rdi) keyed by the CFA (rsp + 8); a probe
# after the inner call (CFA = rbp + 16, frame pointers, -O0), where %rdi was clobbered
# to 0, reads it back with GS_IR_SAVED_FRAME: frec(3)'s levels n = 1, 2, 3 each see
# their own n, innermost first, with growing CFAs; a key nothing saved under reads as
# NOT_SAVED (5).
source "$(dirname "$0")/lib.sh"
need_root_bpf
B="$GS_TOP/tests/e2e/backend"

source "$B/build.sh"
backend_driver "$B/driver.c" "$T/driver"
cc -O0 -g -fno-omit-frame-pointer "$B/frame_target.c" -o "$T/frame_target"

# The pc after frec's call to itself, from the disassembly.
# (awk reads to the end: an early exit would make objdump die of SIGPIPE under pipefail)
objdump -d --no-show-raw-insn "$T/frame_target" >"$T/frame_target.dis"
later=$(awk '/<frec>:$/ { f = 1; next } f && /^$/ { f = 0 } f && c && !done { print $1; done = 1 }
	     f && /call.*<frec>/ { c = 1 }' "$T/frame_target.dis" | tr -d :)
[ -n "$later" ] || fail "no call to frec in frec"

"$T/frame_target" & TP=$!
GS_CLEANUP="kill $TP 2>/dev/null || true"
sleep 0.2
out=$("$T/driver" frame "$T/frame_target" "0x$later" 2>"$T/err") ||
	{ cat "$T/err" >&2; fail "frame driver"; }
assert_eq 'other key: status=5
after call: n=1 status=0 rdi=0
after call: n=2 status=0 rdi=0
after call: n=3 status=0 rdi=0
cfa grows outward=1' "$out" "frame-keyed saves"
kill $TP; wait $TP 2>/dev/null || true
echo ok

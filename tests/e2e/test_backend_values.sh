#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# BPF back end without the planner: hand-built IR read from a live process (registers,
# struct members, strings, a NULL dereference, a failing condition, dynamic lengths,
# truncation, signed division, $bias, comparisons), plus the dry-run counts and the
# per-probe lost counter. The driver prints what the BPF side recorded.
source "$(dirname "$0")/lib.sh"
need_root_bpf
B="$GS_TOP/tests/e2e/backend"

source "$B/build.sh"
backend_driver "$B/driver.c" "$T/driver"
cc -O0 -g "$B/target.c" -o "$T/target"

out=$("$T/driver" dry)
# A MARK-only program: header, this CPU's ring, submit, and the per-run settings'
# branches (pid filter, pid namespace), which the verifier removes when the settings
# disable them.
assert_eq "object=1 insns0>100=1 insns1<120=1" "$out" "dry run"

"$T/target" & TP=$!
GS_CLEANUP="kill $TP 2>/dev/null || true"
sleep 0.2
out=$("$T/driver" values "$T/target" "$TP" 2>"$T/err") || { cat "$T/err" >&2; fail "values driver"; }
assert_eq 'hdr trace_id=7 nslots=21 len_ok=1 pid_ok=1 ip_ok=1
#1 status=0 len=8 0x3e8
#2 status=0 len=8 0x5
#3 status=0 len=6 "hello\x00"
#4 status=2 len=8 0x0
#5 status=2 len=8 0x10
#6 unused
#7 unused
#8 status=0 len=8 0x1
#9 unused
#10 status=0 len=8 "widget\x00\x00"
#11 status=3 len=8 "hello w\x00"
#12 status=0 len=8 0x1
#13 status=0 len=8 0x0
#14 status=0 len=3 "hel"
#15 status=3 len=4 "hell"
#16 status=0 len=8 0xfffffffffffffffd
#17 status=0 len=8 0xffffffffffffffff
#18 status=0 len=8 0x1
#19 status=0 len=8 0xaa
#20 status=0 len=8 0xffffffffffffffff
#21 unused' "$out" "recorded values"
kill $TP; wait $TP 2>/dev/null || true

"$T/target" hot & TP=$!
GS_CLEANUP="kill $TP 2>/dev/null || true"
sleep 0.2
out=$("$T/driver" lost "$T/target")
assert_eq "events>0=1 lost>0=1 lost_other=0" "$out" "lost events counted per trace id"
echo ok

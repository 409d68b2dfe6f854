#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# BPF back end without the planner: return probes with arguments saved at entry
# (probe_me's a, it, it->count and a faulting *nullp; rec(n) recursing 3 deep, each
# return seeing its own n), $retval as %rax, $comm, and a return probe whose entry
# never saved (NOT_SAVED), with uprobe_multi and with single uprobes.
source "$(dirname "$0")/lib.sh"
need_root_bpf
B="$GS_TOP/tests/e2e/backend"

source "$B/build.sh"
backend_driver "$B/driver.c" "$T/driver"
cc -O0 -g "$B/target.c" -o "$T/target"

"$T/target" & TP=$!
GS_CLEANUP="kill $TP 2>/dev/null || true"
sleep 0.2
# probe_me(1000, it{count 5}, "hello", NULL) returns 1000 + 5 + 'h' + 'h' = 1213.
expected='probe_me return: nslots=6
  #1 status=0 0x4bd
  #2 status=0 0x3e8
  #3 status=0 0x5
  #4 status=0 0x5
  #5 status=2 0x0
  #6 comm="target" len=16
orphan return: status=5 data=0x0
rec return: n=0 status=0 retval=0
rec return: n=1 status=0 retval=1
rec return: n=2 status=0 retval=3
rec return: n=3 status=0 retval=6'
for mode in multi single; do
	out=$("$T/driver" ret "$T/target" $([ $mode = single ] && echo single) 2>"$T/err") ||
		{ cat "$T/err" >&2; fail "ret driver ($mode)"; }
	want="$expected
entry events=0 mode=$mode"
	if [ $mode = multi ] && ! grep -q 'mode=multi' <<<"$out"; then
		want="$expected
entry events=0 mode=single"	# kernel without uprobe_multi
	fi
	assert_eq "$want" "$out" "return probes ($mode)"
done
kill $TP; wait $TP 2>/dev/null || true
echo ok

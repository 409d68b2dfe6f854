#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Return probes pair each return with its own call's entry values at any recursion
# depth. The kernel arms at most 64 pending return probes per thread: a 100-deep
# recursion reports the returns of its 64 outermost calls (n = 37..100), each with its
# own n, and the thread's later calls still see theirs. (Keyed by a per-thread call
# depth, the 36 unreported returns left the count at 36 for good: every later call of
# the thread printed "entry value not saved".) At -O0 the CFA is rbp-based after the
# prologue, at -O2 rsp-based; both are checked. Without CFI for the function the
# save runs at its entry (CFA = rsp + 8), which is right at -O2 and refused at -O0,
# whose parameters are in stack slots only after the prologue.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/trace_lib.sh"
need_root_bpf
want=$( (seq 37 100; seq 0 3) | awk '{ print $1 " -> " $1 }')
for opt in O0 O2; do
	cc -g -$opt -o "$T/rec_$opt" "$GS_TOP/tests/e2e/deep_rec.c"
	"$GSI" "$T/rec_$opt" >/dev/null
	trace_new -t "$T/rec_$opt" --script-output plain --max-events 68 \
		-s 'trace rec:return { print "{} -> {}", n, $retval; }' -- "$T/rec_$opt" 100
	assert_eq "$want" "$OUT" "-$opt: each return with its own n"
	assert_eq "$(printf '100\n3')" "$(cat "$T/prog.out")" "-$opt: the program's own output"
done

# No CFI for rec: built without unwind tables, its .debug_frame removed.
P='trace rec:return { print "{} -> {}", n, $retval; }'
for opt in O0 O2; do
	cc -g -$opt -fno-asynchronous-unwind-tables -o "$T/full_$opt" "$GS_TOP/tests/e2e/deep_rec.c"
	objcopy --remove-section=.debug_frame "$T/full_$opt" "$T/nocfi_$opt"
	"$GSI" "$T/nocfi_$opt" >/dev/null
done
trace_new -t "$T/nocfi_O2" --script-output plain --max-events 68 -s "$P" -- "$T/nocfi_O2" 100
assert_eq "$want" "$OUT" "-O2 without CFI: saved at the entry"
if "$GS" -t "$T/nocfi_O0" --dry-run -s "$P" >"$T/dry.out" 2>"$T/dry.err"; then
	fail "-O0 without CFI planned a save it cannot key"
fi
assert_contains "$(cat "$T/dry.out")" "error: -s:1:38: cannot save 'n' for the return of rec: the index has no CFI after its prologue to tell its calls apart" "-O0 without CFI"
gs_run -t "$T/nocfi_O0" --dry-run -s 'trace rec:return { print "{}", $retval; }'
assert_contains "$OUT" "1 probes, 0 failed" "\$retval needs no save"
echo ok

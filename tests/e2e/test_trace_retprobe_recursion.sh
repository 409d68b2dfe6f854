#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Return probes pair each return with its own call's entry values at any recursion
# depth. The kernel arms at most 64 pending return probes per thread: a 100-deep
# recursion reports the returns of its 64 outermost calls (n = 37..100), each with its
# own n, and the thread's later calls still see theirs. (Keyed by a per-thread call
# depth, the 36 unreported returns left the count at 36 for good: every later call of
# the thread printed "entry value not saved".) At -O0 the CFA is rbp-based after the
# prologue, at -O2 rsp-based; both are checked.
# Where the index has no register-based CFA rule after the prologue (no CFI; a
# realigned stack, whose CFA is an expression) the save runs at the entry, CFA = rsp + 8:
# a parameter in a register (-O2) reads the same there, one in a stack slot the
# prologue fills (-O0) is refused.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/trace_lib.sh"
need_root_bpf
P='trace rec:return { print "{} -> {}", n, $retval; }
trace aligned:return { print "{} {} -> {}", n, m, $retval; }'
want=$( (seq 37 100; seq 0 3) | awk '{ print $1 " -> " $1 }'; echo "5 7 -> 18")
for opt in O0 O2; do
	cc -g -$opt -o "$T/rec_$opt" "$GS_TOP/tests/e2e/deep_rec.c"
	"$GSI" "$T/rec_$opt" >/dev/null
	script=$P
	[ $opt = O0 ] && script=${P%%$'\n'*}	# -O0 aligned(): refused, below
	n=68
	[ $opt = O2 ] && n=69
	trace_new -t "$T/rec_$opt" --script-output plain --max-events $n -s "$script" -- "$T/rec_$opt" 100
	if [ $opt = O2 ]; then
		assert_eq "$want" "$OUT" "-O2: each return with its own n; the realigned function's n and m"
	else
		assert_eq "$(head -n 68 <<<"$want")" "$OUT" "-O0: each return with its own n"
	fi
	assert_eq "$(printf '100\n3\n18')" "$(cat "$T/prog.out")" "-$opt: the program's own output"
done
# the realigned function's CFA after its prologue is an expression: saved at its entry
OUT=$("$GS" -t "$T/rec_O2" --dry-run -s 'trace aligned:return { print "{}", n; }')
entry=$(printf '0x%x' "0x$(nm "$T/rec_O2" | awk '$3 == "aligned" { print $1 }')")
assert_contains "$OUT" "entry save for 'aligned:return' at aligned at deep_rec.c:"
assert_contains "$(sed -n '/entry save/,$p' <<<"$OUT")" "pc $entry," "-O2 aligned: saved at its entry pc"
refused() { echo "cannot save 'n' for the return of $1: it is in memory its prologue may fill, and after the prologue the index has no register-based CFA rule (no CFI, or a realigned stack) to tell its calls apart"; }
"$GS" -t "$T/rec_O0" --dry-run -s 'trace aligned:return { print "{}", n; }' >"$T/dry.out" 2>&1 &&
	fail "-O0 realigned: planned a save it cannot key"
assert_contains "$(cat "$T/dry.out")" "$(refused aligned)" "-O0 realigned"

# No CFI for rec: built without unwind tables, its .debug_frame removed.
R=${P%%$'\n'*}
for opt in O0 O2; do
	cc -g -$opt -fno-asynchronous-unwind-tables -o "$T/full_$opt" "$GS_TOP/tests/e2e/deep_rec.c"
	objcopy --remove-section=.debug_frame "$T/full_$opt" "$T/nocfi_$opt"
	"$GSI" "$T/nocfi_$opt" >/dev/null
done
trace_new -t "$T/nocfi_O2" --script-output plain --max-events 68 -s "$R" -- "$T/nocfi_O2" 100
assert_eq "$(head -n 68 <<<"$want")" "$OUT" "-O2 without CFI: saved at the entry"
"$GS" -t "$T/nocfi_O0" --dry-run -s "$R" >"$T/dry.out" 2>&1 && fail "-O0 without CFI planned a save it cannot key"
assert_contains "$(cat "$T/dry.out")" "error: -s:1:38: $(refused rec)" "-O0 without CFI"
gs_run -t "$T/nocfi_O0" --dry-run -s 'trace rec:return { print "{}", $retval; }'
assert_contains "$OUT" "1 probes, 0 failed" "\$retval needs no save"
echo ok

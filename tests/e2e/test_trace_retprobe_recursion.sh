#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Return probes pair each return with its own call's entry values at any recursion
# depth. The kernel arms at most 64 pending return probes per thread: a 100-deep
# recursion reports the returns of its 64 outermost calls (n = 37..100), each with its
# own n, and the thread's later calls still see theirs. (Keyed by a per-thread call
# depth, the 36 unreported returns left the count at 36 for good: every later call of
# the thread printed "entry value not saved".)
# The save runs at the function's entry, beside the uretprobe (one trap), and not for
# calls the kernel will not report (the save map stays empty), with the
# parameters in their ABI argument registers; -O0 and -O2 are checked, and a build
# without CFI. A parameter whose register is uncertain (after a struct passed by
# value) is saved after the prologue; where the CFA there is no register plus offset
# (gcc's stack realignment, DRAP) that save runs at the entry too: a parameter in a
# register (-O2) reads the same there, one in a stack slot the prologue fills (-O0)
# is refused.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/trace_lib.sh"
need_root_bpf
R='trace rec:return { print "{} -> {}", n, $retval; }'
A='trace aligned:return { print "{} -> {}", n, $retval; }'
want=$( (seq 37 100; seq 0 3) | awk '{ print $1 " -> " $1 }')
sym() { printf '0x%x' "0x$(nm "$1" | awk -v f="$2" '$3 == f { print $1 }')"; }
# the pc of the entry save of FUNC:return in --dry-run output $1
save_pc() { sed -n '/entry save/,$p' <<<"$1" | sed -n 's/^  pc \(0x[0-9a-f]*\),.*/\1/p' | head -1; }
for opt in O0 O2; do
	cc -g -$opt -o "$T/rec_$opt" "$GS_TOP/tests/e2e/deep_rec.c"
	"$GSI" "$T/rec_$opt" >/dev/null
	script=$R
	n=68
	[ $opt = O2 ] && script="$R
$A" && n=69
	trace_new -t "$T/rec_$opt" --script-output plain --max-events $n -s "$script" -- "$T/rec_$opt" 100
	if [ $opt = O2 ]; then
		assert_eq "$want"$'\n'"5 -> 18" "$OUT" "-O2: each return with its own n; the realigned function's n"
	else
		assert_eq "$want" "$OUT" "-O0: each return with its own n"
	fi
	assert_eq "$(printf '100\n3\n18')" "$(cat "$T/prog.out")" "-$opt: the program's own output"
	OUT=$("$GS" -t "$T/rec_$opt" --dry-run -s "$R")
	assert_contains "$OUT" "n: saved at entry: reg rdi" "-$opt: n in rdi at the entry"
	assert_eq "$(sym "$T/rec_$opt" rec)" "$(save_pc "$OUT")" "-$opt: rec's save at its entry pc"
done
# A save is skipped for the calls whose return the kernel will not report (it has 64
# pending for the thread): between rounds of the looping program the save map is
# empty, where the 36 calls below the 64 would leave 36 saves behind.
cc -O1 -o "$T/census" "$GS_TOP/tests/e2e/map_census.c" -lbpf
"$T/rec_O2" 100 loop >/dev/null &
loop_pid=$!
GS_CLEANUP="kill $loop_pid 2>/dev/null || true"
wait_exec "$loop_pid" "$T/rec_O2"
"$GS" -v -p "$loop_pid" --timeout 30 --script-output plain -s "$R" >"$T/gs.out" 2>"$T/gs.err" &
gs=$!
GS_CLEANUP="kill $loop_pid $gs 2>/dev/null || true"
gs_wait_ready $gs
for _ in $(seq 100); do [ "$(wc -l <"$T/gs.out")" -ge 136 ] && break; sleep 0.05; done
assert_eq "$want"$'\n'"$want" "$(head -n 136 "$T/gs.out")" "two rounds of the looping program"
empty=0
for _ in $(seq 40); do
	census=$("$T/census" gs_save)
	[[ $census == *" entries=0" ]] && { empty=1; break; }
	sleep 0.007
done
[ "$empty" = 1 ] || fail "saves left behind between rounds: $census"
kill -INT $gs
wait $gs || fail "ghostscope exited $?"
kill $loop_pid

# aligned(): n's register is uncertain, the CFA after the prologue an expression
OUT=$("$GS" -t "$T/rec_O2" --dry-run -s "$A")
assert_eq "$(sym "$T/rec_O2" aligned)" "$(save_pc "$OUT")" "-O2 aligned: saved at its entry pc"
refused() { echo "cannot save 'n' for the return of $1: it is in memory its prologue may fill, and after the prologue the index has no register-based CFA rule (no CFI, or a realigned stack) to tell its calls apart"; }
"$GS" -t "$T/rec_O0" --dry-run -s "$A" >"$T/dry.out" 2>&1 && fail "-O0 realigned: planned a save it cannot key"
assert_contains "$(cat "$T/dry.out")" "$(refused aligned)" "-O0 realigned"

# No CFI at all for the program's own code: built without unwind tables, its
# .debug_frame removed. The saves at the entry need none.
for opt in O0 O2; do
	cc -g -$opt -fno-asynchronous-unwind-tables -o "$T/full_$opt" "$GS_TOP/tests/e2e/deep_rec.c"
	objcopy --remove-section=.debug_frame "$T/full_$opt" "$T/nocfi_$opt"
	"$GSI" "$T/nocfi_$opt" >/dev/null
	trace_new -t "$T/nocfi_$opt" --script-output plain --max-events 68 -s "$R" -- "$T/nocfi_$opt" 100
	assert_eq "$want" "$OUT" "-$opt without CFI"
done
"$GS" -t "$T/nocfi_O0" --dry-run -s "$A" >"$T/dry.out" 2>&1 && fail "-O0 without CFI: planned a save it cannot key"
assert_contains "$(cat "$T/dry.out")" "$(refused aligned)" "-O0 without CFI"
gs_run -t "$T/nocfi_O0" --dry-run -s 'trace aligned:return { print "{}", $retval; }'
assert_contains "$OUT" "1 probes, 0 failed" "\$retval needs no save"
echo ok

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Entry values from the callers' call sites: pump() is already running when the probes
# are armed, so no entry save exists for its frame; its unused parameters (each a
# DW_OP_entry_value at -O2) must still read tag = "PUMP" (an address in main's call site)
# and key = 21 (a load from main's frame: DW_OP_fbreg, through main's CFA), as GDB
# reads them; the second call, from another site, "DONE" and 7 (a load through main's
# r14, which pump saved: the index's rules for rbx and r12-r15). hop() is re-entered by
# tail calls in the same frame, whose return address always names main's call: its
# tag must come from the entry save ("MAIN", "TAIL", "TAIL"), never from that site.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/trace_lib.sh"
need_root_bpf
fixtures
line=$(grep -n 'tick(i);' "$GS_TOP/tests/fixtures/pump.c" | cut -d: -f1)
hop=$(grep -n 'g_sink += n;' "$GS_TOP/tests/fixtures/pump.c" | cut -d: -f1)
script="trace pump.c:$line { print \"{} {} {} {}\", tag, key, i, rounds; }
trace pump.c:$hop { print \"hop {} {}\", n, tag; }"

for build in gcc-O2-dwarf4 gcc-O2-dwarf5 gcc-O3-dwarf5; do
	D="$FIX/$build"
	OUT=$("$GS" -t "$D/pump" --dry-run -s "$script")
	assert_contains "$OUT" "entry value of rsi: from 2 call sites"
	assert_contains "$OUT" "entry value of rdx: from 2 call sites"
	assert_contains "$OUT" "entry value of rsi: the entry save only (hop is reached by tail calls)"
	# index first: the run must attach while the first call still ticks
	"$GSI" "$D/pump" >/dev/null
	"$D/pump" 25 >"$T/pump.out" &
	PID=$!
	GS_CLEANUP="kill $PID 2>/dev/null || true"
	for _ in $(seq 100); do grep -qs ready "$T/pump.out" && break; sleep 0.02; done
	sleep 0.1	# well inside the first call (25 ticks of 20 ms)
	gs_run -t "$D/pump" -p "$PID" --script-output plain -s "$script"
	wait "$PID"
	first=$(head -n 1 <<<"$OUT")
	[[ $first =~ ^\"PUMP\"\ 21\ ([0-9]+)\ 25$ ]] || fail "$build: first event '$first'"
	[ "${BASH_REMATCH[1]}" -gt 0 ] || fail "$build: the probe saw the first call's entry"
	# every tick after that, in order, then the second call's three
	want=$(for i in $(seq "${BASH_REMATCH[1]}" 24); do echo "\"PUMP\" 21 $i 25"; done
	       printf '"DONE" 7 0 3\n"DONE" 7 1 3\n"DONE" 7 2 3\n')
	want+=$(printf '\nhop 7 "MAIN"\nhop 1007 "TAIL"\nhop 2007 "TAIL"')
	assert_eq "$want" "$OUT" "$build"
done

# GDB, attached the same way, reads the same value from the same call site.
if command -v gdb >/dev/null; then
	D="$FIX/gcc-O2-dwarf5"
	"$D/pump" 25 >"$T/pump.out" &
	PID=$!
	GS_CLEANUP="kill $PID 2>/dev/null || true"
	for _ in $(seq 100); do grep -qs ready "$T/pump.out" && break; sleep 0.02; done
	sleep 0.1
	G=$(gdb -nx -batch -p "$PID" -ex "break pump.c:$line" -ex continue -ex 'print tag' \
		-ex 'print key' -ex 'delete' -ex 'detach' 2>&1)
	wait "$PID"
	assert_contains "$G" '"PUMP"'
	assert_contains "$G" '$2 = 21'
fi
echo ok

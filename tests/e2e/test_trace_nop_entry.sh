#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A function that begins with a 5-byte nop (gcc -pg -mfentry -mnop-mcount, clang
# -fpatchable-function-entry=5) is probed on that nop, which Linux 6.18 turns into a
# call to its uprobe trampoline after the first hit: a syscall instead of a trap, about
# 4 times cheaper here. The registers the kernel hands over on that path must be the
# ones at the probe: every parameter and a backtrace through the caller read the same
# as on the first, trapped hit. While the probe is attached the nop reads as a call;
# after the detach the kernel puts the nop back.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/trace_lib.sh"
need_root_bpf
fixtures

ROUNDS=300
script='trace leaf { print "{} {} {}", k, p.x, p.y; if k == 250 { backtrace; } }'

# mem_bytes PID ADDR: the 5 bytes at ADDR in PID's memory, as "0f 1f 44 00 00".
mem_bytes() {
	dd if="/proc/$1/mem" bs=5 count=1 iflag=skip_bytes skip="$2" status=none | od -An -tx1 |
		sed 's/^ *//; s/ *$//'
}

# runtime_addr PID BIN FILE_OFFSET: where FILE_OFFSET of BIN is mapped in PID.
runtime_addr() {
	local real range moff rest s e
	real=$(readlink -f "$2")
	while read -r range _ moff _ _ rest; do
		[ "$rest" = "$real" ] || continue
		s=$((16#${range%-*})); e=$((16#${range#*-})); moff=$((16#$moff))
		if (($3 >= moff && $3 < moff + e - s)); then
			echo $((s + $3 - moff))
			return
		fi
	done <"/proc/$1/maps"
}

for cc in gcc clang; do
	bin="$FIX/nopentry/$cc"
	"$GSI" "$bin" >/dev/null
	OUT=$("$GS" -t "$bin" --dry-run -s "$script")
	assert_contains "$OUT" "probe 1: trace 'leaf' at leaf at nopentry.c:"
	assert_contains "$OUT" "instruction: nop5 ("
	optimized=0
	[[ $OUT == *"after the first hit the kernel makes it a call"* ]] && optimized=1
	off=$(sed -n 's/^ *pc 0x[0-9a-f]*, file offset \(0x[0-9a-f]*\)$/\1/p' <<<"$OUT")
	[ -n "$off" ] || fail "$cc: no file offset in the dry run"

	"$bin" "$ROUNDS" >"$T/prog.out" &
	PID=$!
	GS_CLEANUP="kill $PID 2>/dev/null || true"
	for _ in $(seq 100); do grep -qs ready "$T/prog.out" && break; sleep 0.02; done
	addr=$(runtime_addr "$PID" "$bin" "$off")
	[ -n "$addr" ] || fail "$cc: leaf is not mapped in $PID"
	nop=$(mem_bytes "$PID" "$addr")
	[[ $nop == "0f 1f 44 00 "* ]] || fail "$cc: leaf begins with '$nop', not a 5-byte nop"

	rm -f "$T/gs.err"
	"$GS" -v --timeout 60 -p "$PID" --script-output plain -s "$script" >"$T/gs.out" 2>"$T/gs.err" &
	gs=$!
	GS_CLEANUP="kill $PID $gs 2>/dev/null || true"
	gs_wait_ready "$gs"
	kill -USR1 "$PID"
	for _ in $(seq 250); do grep -qs looped "$T/prog.out" && break; sleep 0.02; done
	grep -qs looped "$T/prog.out" || fail "$cc: the program did not finish its calls"
	during=$(mem_bytes "$PID" "$addr")
	kill -INT "$gs"
	wait "$gs" || { cat "$T/gs.err" >&2; fail "$cc: ghostscope exited $?"; }
	after=$(mem_bytes "$PID" "$addr")
	kill "$PID"; wait "$PID" 2>/dev/null || true
	ERR=$(cat "$T/gs.err")

	if [ "$optimized" = 1 ]; then
		assert_contains "$ERR" "1 of them 5-byte nops the kernel optimizes"
		[[ $during == e8* ]] || fail "$cc: while attached leaf begins with '$during', not a call"
	else
		echo "note: this kernel does not optimize 5-byte nops: checked as an emulated nop" >&2
	fi
	assert_eq "$nop" "$after" "$cc: the nop after the detach"
	assert_contains "$ERR" "$ROUNDS events, 0 lost"
	want=$(for k in $(seq "$ROUNDS"); do echo "$k $k $((2 * k))"; done)
	assert_eq "$want" "$(grep -E '^[0-9]+ [0-9]+ [0-9]+$' "$T/gs.out")" "$cc: every hit's values"
	bt=$(grep -A4 'backtrace' "$T/gs.out")
	assert_contains "$bt" "#0 leaf(struct pt* p, long"
	assert_contains "$bt" "#1 mid(long"
	assert_contains "$bt" "#2 main(int argc, char** argv) at nopentry.c:"
done
echo ok

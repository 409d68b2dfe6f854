#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# BPF back end without the planner: GS_IR_S_BACKTRACE at f3's entry of
# tests/e2e/backend/bt_target.c (main -> f1 -> f2 -> f3), built -O0 and -O2, with and
# without frame pointers, unwound in BPF with the indexer's CFI tables of the
# executable, libc and ld.so. Every frame must equal gdb's backtrace at the same pc
# (through libc to _start, status complete), and the executable's frames must be the
# instructions after the calls that objdump shows. Also: depth limits (truncated),
# no tables, and a pc in a module without tables (no CFI).
source "$(dirname "$0")/lib.sh"
need_root_bpf
command -v gdb >/dev/null || skip "needs gdb"
B="$GS_TOP/tests/e2e/backend"

source "$B/build.sh"
backend_driver "$B/bt_driver.c" "$T/bt_driver" "$GS_TOP/indexer/cfi.c" -ldw

# The address after "call <callee>" inside function <caller> of binary $1, as 0x...
ret_addr() {
	objdump -d "$1" | awk -v caller="<$2>:" -v callee="<$3>" '
		/^[0-9a-f]+ <.*>:$/ { infn = ($2 == caller); next }
		want && /^ *[0-9a-f]+:/ { sub(":", "", $1); print "0x" $1; exit }
		infn && $0 ~ ("call +[0-9a-f]+ " callee "$") { want = 1 }'
}

run_target() {	# starts $T/$1, sets TP
	"$T/$1" & TP=$!
	GS_CLEANUP="kill $TP 2>/dev/null || true"
	sleep 0.2
}

for variant in "O0 -O0 -fno-omit-frame-pointer" "O0nofp -O0 -fomit-frame-pointer" \
	       "O2 -O2 -fno-omit-frame-pointer" "O2nofp -O2 -fomit-frame-pointer"; do
	set -- $variant
	name=bt_$1
	shift
	cc "$@" -g "$B/bt_target.c" -o "$T/$name"
	run_target $name
	out=$("$T/bt_driver" "$T/$name" $TP 128 2>"$T/err") || { cat "$T/err" >&2; fail "$name: driver"; }
	kill $TP; wait $TP 2>/dev/null || true
	head=$(head -1 <<<"$out")
	frames=$(tail -n +2 <<<"$out")
	gdb_frames=$(gdb -q -batch -ex 'set backtrace past-main on' -ex 'break *f3' -ex run \
		-ex "source $B/gdb_frames.py" "$T/$name" 2>&1 </dev/null | grep '+0x')
	assert_eq "status=0 frames=$(wc -l <<<"$gdb_frames") len_ok=1" "$head" "$name: status"
	assert_eq "$gdb_frames" "$frames" "$name: frames against gdb"
	f3=$(nm "$T/$name" | awk '$3 == "f3" { print "0x" $1 }')
	want=$(printf '%s+0x%x\n' $name $((f3)) $name $(($(ret_addr "$T/$name" f2 f3))) \
		$name $(($(ret_addr "$T/$name" f1 f2))) $name $(($(ret_addr "$T/$name" main f1))))
	assert_eq "$want" "$(head -4 <<<"$frames")" "$name: frames against objdump call sites"
	echo "$name: $(wc -l <<<"$frames") frames match gdb and objdump"
	if [ $name = bt_O2 ]; then O2_FRAMES=$frames; fi
done

run_target bt_O2
out=$("$T/bt_driver" "$T/bt_O2" $TP 3 2>/dev/null)
assert_eq "status=1 frames=3 len_ok=1" "$(head -1 <<<"$out")" "depth 3: truncated"
assert_eq "$(head -3 <<<"$O2_FRAMES")" "$(tail -n +2 <<<"$out")" "depth 3: first frames"
out=$("$T/bt_driver" "$T/bt_O2" $TP 1 2>/dev/null)
assert_eq "status=1 frames=1 len_ok=1" "$(head -1 <<<"$out")" "depth 1: truncated"
out=$("$T/bt_driver" "$T/bt_O2" $TP 128 notables 2>/dev/null)
assert_eq "status=5 frames=1 len_ok=1" "$(head -1 <<<"$out")" "no tables"
out=$("$T/bt_driver" "$T/bt_O2" $TP 128 exeonly 2>/dev/null)
assert_eq "status=2 frames=5 len_ok=1" "$(head -1 <<<"$out")" "no CFI for the libc frame"
assert_contains "$(tail -1 <<<"$out")" "libc.so" "the libc pc is recorded"
echo ok

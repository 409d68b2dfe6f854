#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# __thread variables of a shared library, per thread: the block is dtv[module id] of
# the running thread, the id read from the library's R_X86_64_DTPMOD64 GOT slot
# (GS_IR_TLS_BLOCK). Fixture tlsmain + libtls.so: worker id (0 is the main thread,
# 1..3 later threads) sets lt_val = 100 + id and lt_big = -(100 + id), except worker
# 3 which keeps the initial 7 and -3; m_tls (the executable's TLS) = id. Read from a
# probe in the executable and one in the library, with -p and, in a process started
# after the tracer attached, with -t. A dlopen'ed library's TLS reads as a read error
# until the thread touched it.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/trace_lib.sh"
need_root_bpf
F="$GS_TOP/tests/fixtures"

# trace_pid ARGS... -- PROG ARGS : starts PROG (which prints "ready" and waits for a
# byte on stdin), attaches ghostscope -v -p to it, releases it once ghostscope is
# ready, then waits for both; ghostscope's stdout in $OUT.
trace_pid() {
	local gsargs=() prog=() p gs
	while [ "$1" != -- ]; do gsargs+=("$1"); shift; done
	shift
	prog=("$@")
	rm -f "$T/go" "$T/p.out" "$T/gs.out" "$T/gs.err"
	mkfifo "$T/go"
	"${prog[@]}" <"$T/go" >"$T/p.out" 2>&1 &
	p=$!
	exec 7>"$T/go"
	for _ in $(seq 600); do grep -qs ready "$T/p.out" && break; sleep 0.05; done
	"$GS" -v --timeout 60 -p $p "${gsargs[@]}" >"$T/gs.out" 2>"$T/gs.err" &
	gs=$!
	GS_CLEANUP="kill $gs $p 2>/dev/null || true"
	gs_wait_ready $gs
	echo >&7
	exec 7>&-
	wait $p || fail "${prog[*]} failed"
	wait $gs || { cat "$T/gs.err" >&2; fail "ghostscope exited $?"; }
	OUT=$(cat "$T/gs.out")
}

SCRIPT='trace report { print "exe {} {} {} {}", id, lt_val, lt_big, m_tls; }
trace lt_peek { print "lib {} {} {} {}", lt_val, lt_big, m_tls, m_global; }'
WANT='exe 0 100 -100 0
lib 100 -100 0 1234
exe 1 101 -101 1
lib 101 -101 1 1234
exe 2 102 -102 2
lib 102 -102 2 1234
exe 3 7 -3 3
lib 7 -3 3 1234'

for build in "gcc -O0" "gcc -O2" "clang-16 -O2"; do
	set -- $build
	cc=$1 opt=$2
	D="$T/$cc$opt"
	mkdir -p "$D"
	$cc -g $opt -fPIC -shared -Wl,--build-id -o "$D/libtls.so" "$F/tlslib.c"
	$cc -g $opt -fPIE -pie -pthread -Wl,--build-id -o "$D/tlsmain" "$F/tlsmain.c" \
		-L"$D" -ltls -Wl,-rpath,"$D"
	readelf -rW "$D/libtls.so" | grep -q R_X86_64_DTPMOD64 || fail "$build: no DTPMOD64 in libtls.so"

	# -t: a process started after the tracer attached.
	trace_new -t "$D/tlsmain" --script-output plain --max-events 8 -s "$SCRIPT" -- "$D/tlsmain"
	assert_eq "$WANT" "$OUT" "$build: -t, library TLS per thread"

	# -p: a running process, released once the tracer is attached.
	trace_pid --script-output plain --max-events 8 -s "$SCRIPT" -- "$D/tlsmain" wait
	assert_eq "$WANT" "$OUT" "$build: -p, library TLS per thread"
done

# A dlopen'ed library (-p: it is mapped when the tracer attaches): before the thread
# touched its TLS the DTV has no block for it, a read error, never a value.
cc -g -O0 -o "$T/tlsdlopen" "$F/tlsdlopen.c" -ldl
trace_pid --script-output plain --max-events 2 -s 'trace report { print "{} {}", id, lt_val; }' \
	-- "$T/tlsdlopen" "$D/libtls.so"
[[ "$OUT" =~ ^"1 <read error at 0x"[0-9a-f]+">"$'\n'"2 55"$ ]] || fail "dlopen'ed TLS: $OUT"

# The dry run says how: through the DTV.
OUT=$("$GS" --dry-run -t "$D/tlsmain" -s 'trace report { print lt_val; }' 2>&1)
assert_contains "$OUT" "lt_val: tls(dtv, id at 0x"
echo ok

# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by tracer e2e tests (after lib.sh): start a fixture, trace it, collect output.

# start_shop DIR [PROGRAM] : starts DIR/PROGRAM (default shop) looping every 20 ms; sets PID.
start_shop() {
	local prog=${2:-shop}
	"$1/$prog" 0 20 >"$T/$prog.out" 2>&1 &
	PID=$!
	GS_CLEANUP="${GS_CLEANUP:+$GS_CLEANUP; }kill $PID 2>/dev/null || true"
	# wait until it has printed its ready line (it is running main's loop by then)
	for _ in $(seq 100); do
		grep -q ready "$T/$prog.out" 2>/dev/null && return 0
		sleep 0.02
	done
	fail "fixture $1/$prog did not start"
}

# gs_plain ARGS... : runs ghostscope with plain output and a safety timeout, output in $OUT
gs_run() {
	OUT=$("$GS" --timeout 20 "$@" 2>"$T/gs.err") || { cat "$T/gs.err" >&2; fail "ghostscope $* exited $?"; }
	ERR=$(cat "$T/gs.err")
}

# gs_wait_ready PID : waits until ghostscope -v (PID, stderr in $T/gs.err) says it is ready.
gs_wait_ready() {
	for _ in $(seq 600); do
		grep -qs "ghostscope: ready" "$T/gs.err" && return 0
		kill -0 "$1" 2>/dev/null || { cat "$T/gs.err" >&2; fail "ghostscope exited before it was ready"; }
		sleep 0.05
	done
	fail "ghostscope not ready after 30 s"
}

# trace_new ARGS... -- PROG ARGS : arms ghostscope -v ARGS, waits until it is ready,
# runs PROG to completion (a process started after the probes), then waits for
# ghostscope; its stdout in $OUT.
trace_new() {
	local gsargs=() prog=()
	while [ "$1" != -- ]; do gsargs+=("$1"); shift; done
	shift
	prog=("$@")
	rm -f "$T/gs.out" "$T/gs.err"	# never see the previous run's "ready"
	"$GS" -v --timeout 60 "${gsargs[@]}" >"$T/gs.out" 2>"$T/gs.err" &
	local gs=$!
	GS_CLEANUP="kill $gs 2>/dev/null || true"
	gs_wait_ready $gs
	"${prog[@]}" >"$T/prog.out" 2>&1 || fail "${prog[*]} failed"
	wait $gs || { cat "$T/gs.err" >&2; fail "ghostscope exited $?"; }
	OUT=$(cat "$T/gs.out")
}

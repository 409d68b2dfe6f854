#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# BPF back end without the planner: the thread pointer (GS_IR_SP_TP, the task's
# thread.fsbase at the offset the loader reads from the kernel BTF) equals %fs:0 as the
# target passes it, and a __thread int read at $tp - round_up(PT_TLS memsz, align) +
# st_value (x86-64 TLS variant II, executable) gives each thread its own value: 42 in
# the main thread, 1234 in the second one.
source "$(dirname "$0")/lib.sh"
need_root_bpf
B="$GS_TOP/tests/e2e/backend"

source "$B/build.sh"
backend_driver "$B/driver.c" "$T/driver"

# -O2 also loads with per-run settings (gs_loader_opts.run), which rewrite gs_cfg.
for opt in -O0 -O2; do
	cc $opt -g -pthread "$B/tls_target.c" -o "$T/tls_target"
	"$T/tls_target" & TP=$!
	GS_CLEANUP="kill $TP 2>/dev/null || true"
	sleep 0.2
	out=$("$T/driver" tls "$T/tls_target" $([ $opt = -O2 ] && echo run) 2>"$T/err") || { cat "$T/err" >&2; fail "tls driver ($opt)"; }
	assert_eq 'main v=42 status=0 tp_ok=1 status=0
thread v=1234 status=0 tp_ok=1 status=0' "$out" "TLS through the thread pointer ($opt)"
	kill $TP; wait $TP 2>/dev/null || true
done
echo ok

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 200 probes on 200 functions: all fire with their own cookie; attach and detach times
# are printed (no timed assertion). Single uprobes are also measured when
# GS_BACKEND_SINGLE=1 (they take ~125 ms each to detach here).
source "$(dirname "$0")/lib.sh"
need_root_bpf
B="$GS_TOP/tests/e2e/backend"

source "$B/build.sh"
backend_driver "$B/driver.c" "$T/driver"
{
	for i in $(seq 0 199); do
		echo "__attribute__((noinline)) long f$i(long x) { asm volatile(\"\"); return x + $i; }"
	done
	echo "static void call_many(long i) {"
	for i in $(seq 0 199); do echo "	f$i(i);"; done
	echo "}"
} > "$T/many.h"
cc -O0 -g -DGEN_MANY -I"$T" "$B/target.c" -o "$T/many"

"$T/many" & TP=$!
GS_CLEANUP="kill $TP 2>/dev/null || true"
sleep 0.2
out=$("$T/driver" many "$T/many" f 200 2>"$T/err") || { cat "$T/err" >&2; fail "many driver"; }
cat "$T/err"
case "$out" in
mode=multi*) assert_eq "mode=multi links=1 probes=200 distinct=200" "$out" "200 probes fired" ;;
*) assert_eq "mode=single links=n probes=200 distinct=200" "$out" "200 probes fired" ;;
esac
if [ "${GS_BACKEND_SINGLE:-0}" = 1 ]; then
	out=$("$T/driver" many "$T/many" f 200 single 2>"$T/err")
	cat "$T/err"
	assert_eq "mode=single links=n probes=200 distinct=200" "$out" "200 single probes fired"
fi
echo ok

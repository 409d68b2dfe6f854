#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Each tracer error is one line naming the place, with a non-zero exit.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/trace_lib.sh"
need_root_bpf
fixtures
D="$FIX/gcc-O0-dwarf5"
start_shop "$D"

# expect_err EXIT_CODE NEEDLE ARGS...
expect_err() {
	local code=$1 needle=$2 rc=0
	shift 2
	"$GS" --timeout 5 "$@" >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" -eq "$code" ] || { cat "$T/err" >&2; fail "exit $rc, expected $code for: $*"; }
	assert_contains "$(cat "$T/err")" "$needle" "stderr of: $*"
	[ ! -s "$T/out" ] || fail "stdout not empty for: $*"
}

expect_err 2 "error: -s:1:18: unknown keyword 'prnt', did you mean 'print'?" -p "$PID" -s 'trace checkout { prnt qty; }'
expect_err 2 "                 ^~~~" -p "$PID" -s 'trace checkout { prnt qty; }'
expect_err 2 "no function 'checkuot'" -p "$PID" -s 'trace checkuot { print qty; }'
expect_err 2 "did you mean 'checkout'" -p "$PID" -s 'trace checkuot { print qty; }'
expect_err 1 "unknown variable 'qtty' at checkout" -p "$PID" -s 'trace checkout { print qtty; }'
expect_err 1 "visible here: o, qty, coupon" -p "$PID" -s 'trace checkout { print qtty; }'
expect_err 1 "has type 'struct customer', which is not a number" -p "$PID" -s 'trace checkout { print *o.cust + 1; }'
expect_err 2 "no code at shop.c:1" -p "$PID" -s 'trace shop.c:1 { print "x"; }'
expect_err 1 "no process with PID 999999" -p 999999 -s 'trace checkout { print qty; }'
expect_err 1 "cannot open target '/nonexistent'" -t /nonexistent -s 'trace checkout { print qty; }'

# A double in %xmm0 (gcc -O2 pump's scale): named, with the register, at compile time;
# the int beside it reads.
P2="$FIX/gcc-O2-dwarf5/pump"
expect_err 1 "cannot read 'f' at 0x" -t "$P2" -s 'trace scale { print f; }'
expect_err 1 "it is in %xmm0, a floating-point/vector register that uprobes do not save" -t "$P2" -s 'trace scale { print f; }'
OUT=$("$GS" -t "$P2" --dry-run -s 'trace scale { print k; }')
assert_contains "$OUT" "k: reg rdi"

# A module missing from the index with --no-auto-index.
GHOSTSCOPE_INDEX_DIR="$T/empty-cache" expect_err 1 "is not indexed" --no-auto-index -t "$D/shop" -s 'trace checkout { print qty; }'

# The helper programs: a code generator or an indexer that cannot run, crashes or
# answers garbage is named in one line.
S='trace checkout { print qty + 12345; }'
GHOSTSCOPE_CODEGEN=/nonexistent expect_err 1 "cannot run the code generator '/nonexistent'" --no-bpf-cache -p "$PID" -s "$S"
GHOSTSCOPE_CODEGEN=/bin/true expect_err 1 "the code generator's answer is malformed" --no-bpf-cache -p "$PID" -s "$S"
printf '#!/bin/sh\nkill -SEGV $$\n' >"$T/crash" && chmod +x "$T/crash"
GHOSTSCOPE_CODEGEN="$T/crash" expect_err 1 "the code generator '$T/crash' died of signal 11" --no-bpf-cache -p "$PID" -s "$S"
GHOSTSCOPE_INDEX_DIR="$T/cache2" GHOSTSCOPE_INDEXER=/bin/false \
	expect_err 1 "cannot index '$D/shop': ghostscope-index exited with status 1" -t "$D/shop" -s "$S"
# ghostscope is linked static: libdw's debuginfod client, which loads a shared library
# when $DEBUGINFOD_URLS is set, must stay in ghostscope-index (this crashed a static
# ghostscope that indexed in its own process).
printf 'int f(int x) { return x + 1; }\nint main(void) { return f(2); }\n' >"$T/nodbg.c"
gcc -O1 -o "$T/nodbg" "$T/nodbg.c"
OUT=$(DEBUGINFOD_URLS=http://127.0.0.1:9 GHOSTSCOPE_INDEX_DIR="$T/cache3" "$GS" -t "$T/nodbg" --dry-run -s 'trace f { print "hit"; }' 2>"$T/err") ||
	{ cat "$T/err" >&2; fail "auto-index with DEBUGINFOD_URLS set"; }
assert_contains "$(cat "$T/err")" "ghostscope: indexed '$T/nodbg' in"
assert_contains "$OUT" "1 probes, 0 failed"

# Started with SIGCHLD ignored (as some supervisors leave it): the helpers are still
# waited for, not reaped unseen.
OUT=$(GHOSTSCOPE_INDEX_DIR="$T/cache4" python3 -c '
import os, signal, sys
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
os.execv(sys.argv[1], sys.argv[1:])' "$GS" -t "$D/shop" --dry-run --no-bpf-cache \
	-s 'trace checkout { print qty + 7; }' 2>"$T/err") || { cat "$T/err" >&2; fail "SIGCHLD ignored"; }
assert_contains "$OUT" "1 probes, 0 failed, 1 BPF programs" "SIGCHLD ignored"

# Not root: the same command as an unprivileged user.
if command -v setpriv >/dev/null; then
	rc=0
	setpriv --reuid=65534 --regid=65534 --clear-groups "$GS" -t "$D/shop" -s 'trace checkout { print qty; }' 2>"$T/err" || rc=$?
	[ "$rc" -eq 1 ] || fail "non-root exit $rc"
	assert_contains "$(cat "$T/err")" "must run as root"
fi
echo ok

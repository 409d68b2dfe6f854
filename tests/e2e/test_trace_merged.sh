#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Probes whose plans differ share BPF programs: 24 functions, each printing another
# parameter plus its own number, and 3 return probes (reading only $retval: no entry
# saves) make 27 probe bodies in 3 BPF programs (16 entry bodies, 8, and the 3 returns)
# and 3 links.
# Every hit must run its own body, chosen by the attach cookie: each event's value is
# checked against the one its function was called with, for every call. Bodies that
# differ only in their registers share one body.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/trace_lib.sh"
need_root_bpf

N=24
{
	echo '#include <stdio.h>'
	for i in $(seq 0 $((N - 1))); do
		echo "__attribute__((noinline)) long g$i(long a, long b, long c) { return a * 3 + b * 5 + c * 7 + $i; }"
	done
	echo 'int main(void) { long s = 0;'
	echo 'for (long r = 1; r <= 3; r++) {'
	for i in $(seq 0 $((N - 1))); do
		echo "s += g$i(r * 1000 + $i, r * 1000 + 100 + $i, r * 1000 + 200 + $i);"
	done
	echo '} printf("%ld\n", s); return 0; }'
} >"$T/merged.c"
gcc -g -O2 -o "$T/merged" "$T/merged.c"
"$GSI" "$T/merged" >/dev/null

params=(a b c)
# "+ i" makes each body differ: identical plans already share one body
script=$(for i in $(seq 0 $((N - 1))); do echo "trace g$i { print \"g$i {}\", ${params[i % 3]} + $i; }"; done
	 for i in 0 1 2; do echo "trace g$i:return { print \"r$i {}\", \$retval + $i; }"; done)

OUT=$("$GS" -t "$T/merged" --dry-run -s "$script")
assert_contains "$OUT" "27 probes, 0 failed, 3 BPF programs"
# the 16 entry bodies of program 0 differ in registers and constants (+ i): one body
one=$("$GS" -t "$T/merged" --dry-run -s 'trace g0 { print "g0 {}", a + 0; }' | sed -n 's/.*program 0: \([0-9]*\) BPF instructions.*/\1/p')
p0=$(sed -n 's/.*program 0: \([0-9]*\) BPF instructions.*/\1/p' <<<"$OUT" | head -1)
[ -n "$one" ] && [ -n "$p0" ] && [ "$p0" -lt $((2 * one)) ] ||
	fail "16 bodies differing in registers and constants should share one: $p0 instructions, one alone $one"

# every event arrives: 24 functions and 3 returns, 3 rounds
trace_new -t "$T/merged" --max-events 81 --script-output plain -s "$script" -- "$T/merged"
assert_contains "$(cat "$T/gs.err")" "3 programs (27 probe bodies)"
assert_contains "$(cat "$T/gs.err")" "27 probes armed (3 links"
want=$(for r in 1 2 3; do
	for i in $(seq 0 $((N - 1))); do
		echo "g$i $((r * 1000 + (i % 3) * 100 + i + i))"
		if [ "$i" -lt 3 ]; then
			a=$((r * 1000 + i)); b=$((a + 100)); c=$((a + 200))
			echo "r$i $((a * 3 + b * 5 + c * 7 + i + i))"
		fi
	done
done)
assert_eq "$want" "$OUT" "every hit ran its own body"

# Bodies that differ only in the register they read (a, b, c: rdi, rsi, rdx) share one
# body, fed its register by the entry: the object is about one body's size, and each
# hit still prints its own parameter.
script=$(for i in $(seq 0 11); do echo "trace g$i { print \"s {}\", ${params[i % 3]}; }"; done)
single=$("$GS" -t "$T/merged" --dry-run -s 'trace g0 { print "s {}", a; }' | sed -n 's/.*program 0: \([0-9]*\) BPF instructions.*/\1/p')
shared=$("$GS" -t "$T/merged" --dry-run -s "$script" | sed -n 's/.*program 0: \([0-9]*\) BPF instructions.*/\1/p' | head -1)
[ -n "$single" ] && [ -n "$shared" ] && [ "$shared" -lt $((single + single / 2)) ] ||
	fail "12 bodies of one shape should share one body: $shared instructions, one alone $single"
trace_new -t "$T/merged" --max-events 36 --script-output plain -s "$script" -- "$T/merged"
want=$(for r in 1 2 3; do for i in $(seq 0 11); do echo "s $((r * 1000 + (i % 3) * 100 + i))"; done; done)
assert_eq "$want" "$OUT" "each variant of a shared body reads its own register"

# Merged bodies that fail to compile together (a limit they meet only together, such
# as the BPF stack) are compiled apart: a code generator that refuses every request
# with merging on makes the tracer ask again without it, one program per body.
cat >"$T/refuse_merged" <<PY
#!/usr/bin/env python3
import os, struct, sys
req = sys.stdin.buffer.read()
# GSCGRQ1, ring u32, pid filter u8, tgid u32, pidns dev u64 and ino u64, max trace id
# u32, uprobe_multi u8, wakeup u32, version (u32 length, bytes, NUL), merge_max u32
off = 8 + 4 + 1 + 4 + 8 + 8 + 4 + 1 + 4
vlen = struct.unpack_from("<I", req, off)[0]
merge_max = struct.unpack_from("<I", req, off + 4 + vlen + 1)[0]
if merge_max > 1:
    msg = b"BPF stack limit exceeded (refused by the test)"
    sys.stdout.buffer.write(b"GSCGRS1\n" + struct.pack("<iI", -7, len(msg)) + msg + b"\0" +
                            struct.pack("<Q", 0))
    sys.exit(0)
r, w = os.pipe()
if os.fork() == 0:
    os.close(r)
    os.write(w, req)
    os._exit(0)
os.close(w)
os.dup2(r, 0)
os.execv("$GS_BUILD/ghostscope-codegen", ["ghostscope-codegen"])
PY
chmod +x "$T/refuse_merged"
GHOSTSCOPE_CODEGEN="$T/refuse_merged" trace_new --no-bpf-cache -t "$T/merged" --max-events 36 \
	--script-output plain -s "$script" -- "$T/merged"
assert_contains "$(cat "$T/gs.err")" "ghostscope: merged programs failed to compile (BPF stack limit exceeded (refused by the test)); compiling them apart"
assert_contains "$(cat "$T/gs.err")" "3 programs (3 probe bodies)" "one program per distinct body (merged: 1 program)"
assert_eq "$want" "$OUT" "compiled apart, each body reads its own register"
echo ok

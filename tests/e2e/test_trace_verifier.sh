#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A script the kernel's verifier rejects: 450 conditions, each reading memory, in one
# probe make the verifier walk more than its 1,000,000 instructions ("BPF program is
# too large"), although the program is only ~11,000 instructions long. The run fails
# with one line on stderr that names the probe and its program and ends with the
# verifier's last lines.
source "$(dirname "$0")/lib.sh"
need_root_bpf
fixtures
D="$FIX/gcc-O0-dwarf5"

{
	echo 'trace tally { print a; }'
	echo 'trace checkout {'
	for i in $(seq 0 449); do
		echo "  if o.items[$((i % 4))] == $i { print \"x$i\"; }"
	done
	echo '}'
} >"$T/big.gs"

"$GS" --dry-run -t "$D/shop" --script-file "$T/big.gs" >"$T/dry" 2>&1 || { cat "$T/dry" >&2; fail "dry run"; }

rc=0
"$GS" --timeout 1 -t "$D/shop" --script-file "$T/big.gs" >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -ne 0 ] || fail "a program the verifier rejects loaded (exit 0)"
[ ! -s "$T/out" ] || fail "stdout not empty: $(cat "$T/out")"
err=$(grep -v '^ghostscope: indexed' "$T/err")
[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || { printf '%s\n' "$err" >&2; fail "not one line"; }
where=$(sed -n "s/^probe [0-9]*: trace 'checkout' at //p" "$T/dry" | head -1)
# The dry run merges both probes into one program; the rejected merge is loaded again
# program by program, so that the error names the one probe that does not fit.
[[ $err =~ ^"ghostscope: cannot load the BPF programs (trace 'checkout' at $where): program "[0-9]+": verifier rejected: " ]] ||
	fail "not the checkout probe alone: $err"
assert_contains "$err" "BPF program is too large. Processed 1000001 insn"
# The verifier's last lines are joined with " | ": at least two of them.
[[ "$err" == *" | "*" | "* ]] || fail "not the verifier's last lines: $err"
echo ok

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Differential oracle: GDB and ghostscope print the same (probe, expression) pairs of
# tests/diff/pairs.txt at the same pcs of every fixture build (gcc and clang, -O0/-O2/-O3,
# DWARF 4 and 5) and must agree value for value. Prints the agreement table; fails on any
# disagreement not listed (with its reason) in tests/diff/known.txt, and on a known.txt
# line that no longer matches anything. DIFF_ONLY=REGEX limits the fixture builds.
source "$(dirname "$0")/lib.sh"
need_root_bpf
command -v gdb >/dev/null || skip "gdb is not installed"
command -v python3 >/dev/null || skip "python3 is not installed"
command -v setarch >/dev/null || skip "setarch is not installed"
gdb -nx -batch -ex 'python print("py-ok")' 2>/dev/null | grep -q py-ok || skip "gdb has no python"
fixtures

python3 "$GS_TOP/tests/diff/diff_gdb.py" --self-test || fail "the oracle's own parser/comparator is wrong"
python3 "$GS_TOP/tests/diff/diff_gdb.py" --fixtures "$FIX" --gs "$GS" \
	--index-dir "$GHOSTSCOPE_INDEX_DIR" --only "${DIFF_ONLY:-}" || fail "gdb and ghostscope disagree (see above)"

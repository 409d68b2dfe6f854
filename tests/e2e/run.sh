#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs every tests/e2e/test_*.sh (or those matching $1). Exit 0 pass, 77 skip, else fail.
# Ends with the line "e2e: N passed, N failed, N skipped".
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
export GS_TOP="$top" GS_BUILD="$top/build"
pass=0 fail=0 skip=0 failed=()
for t in "$here"/test_*.sh; do
	name=$(basename "$t" .sh)
	[ -n "${1:-}" ] && [[ "$name" != *"$1"* ]] && continue
	log="$GS_BUILD/e2e-logs/$name.log"
	mkdir -p "$(dirname "$log")"
	start=$(date +%s)
	bash "$t" >"$log" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	case $rc in
	0) pass=$((pass + 1)); echo "PASS $name (${secs}s)" ;;
	77) skip=$((skip + 1)); echo "SKIP $name: $(tail -n 1 "$log")" ;;
	*) fail=$((fail + 1)); failed+=("$name"); echo "FAIL $name (${secs}s)"; sed 's/^/    | /' "$log" | tail -n 40 ;;
	esac
done
echo "e2e: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Hostile and unusual input to ghostscope-index: each case gets a one-line error and a
# non-zero exit (or a counted skip), never a crash or a hang, and the cache never holds
# a half-written module. Also: a no-op re-index, --force, verify on a damaged file.
source "$(dirname "$0")/lib.sh"
fixtures
src=$FIX/gcc-O2-dwarf5/shop
cache=$GHOSTSCOPE_INDEX_DIR

# no scratch or temporary files may survive any run
no_leftovers() {
	local left
	left=$(find "$cache" -name '.*' -type f 2>/dev/null || true)
	[ -z "$left" ] || fail "left behind in the cache: $left"
}
# runs "$@", expects exit status $1 (or "nonzero"), a one-line stderr, no crash
expect() {
	local want=$1 rc=0
	shift
	timeout 60 "$@" >"$T/out" 2>"$T/err" || rc=$?
	[ $rc -lt 124 ] || fail "'$*' crashed or hung (exit $rc)"
	if [ "$want" = nonzero ]; then
		[ $rc -ne 0 ] || fail "'$*' succeeded"
		[ "$(wc -l <"$T/err")" -ge 1 ] || fail "'$*' printed no error"
	else
		[ $rc -eq "$want" ] || { cat "$T/err" >&2; fail "'$*' exited $rc, wanted $want"; }
	fi
	no_leftovers
}

# not ELF: named directly is an error, inside a directory a counted skip
mkdir -p "$T/dir"
echo 'just text' >"$T/dir/notes.txt"
head -c 4096 /dev/urandom >"$T/dir/random.bin"
expect 1 "$GSI" "$T/dir/notes.txt"
assert_eq 1 "$(wc -l <"$T/err")" "one-line error for a text file"
assert_contains "$(cat "$T/err")" "'$T/dir/notes.txt'"
expect 0 "$GSI" "$T/dir"
assert_contains "$(cat "$T/out")" "0 modules (0 reused, 2 skipped, 0 failed)"
expect 1 "$GSI" "$T/nonexistent"
assert_contains "$(cat "$T/err")" "No such file"

# truncated ELF files at several lengths
size=$(stat -c %s "$src")
for len in 16 64 700 4096 $((size / 3)) $((size / 2)) $((size - 100)); do
	head -c "$len" "$src" >"$T/trunc"
	expect nonzero "$GSI" "$T/trunc"
done

# corrupted ELF files: flip bytes all over, including in the DWARF
for seed in 1 2 3 4 5 6 7 8 9 10 11 12; do
	cp "$src" "$T/flip"
	python3 - "$T/flip" "$seed" <<'EOF'
import random, sys
p, seed = sys.argv[1], int(sys.argv[2])
data = bytearray(open(p, 'rb').read())
r = random.Random(seed)
start = 0 if seed % 3 == 0 else len(data) // 3
for _ in range(40):
    i = r.randrange(start, len(data))
    data[i] = r.randrange(256)
open(p, 'wb').write(data)
EOF
	rc=0
	timeout 60 "$GSI" --force "$T/flip" >/dev/null 2>"$T/err" || rc=$?
	[ $rc -lt 124 ] || fail "corrupted ELF (seed $seed) crashed or hung (exit $rc)"
	no_leftovers
done
# whatever got indexed from corrupted input must still verify
"$GSI" verify >/dev/null || fail "an index built from corrupted input does not verify"
rm -rf "$cache"

# a debug file that is missing, or belongs to another binary
expect nonzero "$GSI" --debug-file "$T/missing.debug" "$src"
expect nonzero "$GSI" --debug-file "$FIX/clang-O2-dwarf5/shop" "$src"
assert_contains "$(cat "$T/err")" "build-id"

# an index directory that cannot be created
touch "$T/afile"
expect nonzero "$GSI" --index-dir "$T/afile/sub" "$src"
[ ! -e "$T/afile/sub" ] || fail "created something under a file"

# a read-only index directory (a read-only mount; root ignores permission bits)
mkdir -p "$T/ro"
if mount -t tmpfs -o ro tmpfs "$T/ro" 2>/dev/null; then
	GS_CLEANUP="umount '$T/ro'"
	expect nonzero "$GSI" --index-dir "$T/ro" "$src"
	umount "$T/ro"
	GS_CLEANUP=
fi

# concurrent indexers of one module: both finish, the file is whole
rm -rf "$cache"
for i in 1 2 3 4; do "$GSI" --force "$src" >/dev/null 2>&1 & done
wait
no_leftovers
expect 0 "$GSI" verify
assert_eq 1 "$(find "$cache" -name '*.gsidx' | wc -l)" "one module file after concurrent runs"

# an index on read-only media opens without a lock file
mkdir -p "$T/media"
if mount -t tmpfs tmpfs "$T/media" 2>/dev/null; then
	GS_CLEANUP="umount '$T/media'"
	cp -r "$cache/." "$T/media/"
	find "$T/media" -name '*-lock' -delete
	mount -o remount,ro "$T/media"
	expect 0 "$GSI" query --index-dir "$T/media" "$src" --func checkout
	[ -z "$(find "$T/media" -name '*-lock')" ] || fail "a lock file appeared on read-only media"
	umount "$T/media"
	GS_CLEANUP=
fi

# no-op re-index, then --force
expect 0 "$GSI" "$src"
bid=$("$GSI" ls | awk '{print $1}')
file=$cache/${bid:0:2}/${bid:2}.gsidx
[ -s "$file" ] || fail "no index file at $file"
before=$(stat -c %Y.%i "$file")
expect 0 "$GSI" "$src"
assert_contains "$(cat "$T/out")" "1 modules (1 reused"
assert_eq "$before" "$(stat -c %Y.%i "$file")" "no-op re-index left the file alone"
expect 0 "$GSI" --force "$src"
assert_contains "$(cat "$T/out")" "1 modules (0 reused"
expect 0 "$GSI" verify

# a damaged index: verify says so in one line, queries fail cleanly, --force repairs
python3 - "$file" <<'EOF'
import sys
p = sys.argv[1]
data = bytearray(open(p, 'rb').read())
# damage record bytes in the middle of the file, away from the LMDB meta pages
for i in range(len(data) // 2, len(data) // 2 + 4096, 97):
    data[i] ^= 0x5a
open(p, 'wb').write(data)
EOF
rc=0
"$GSI" verify >"$T/out" 2>&1 || rc=$?
[ $rc -eq 1 ] || fail "verify of a damaged index exited $rc"
assert_contains "$(cat "$T/out")" "$file: "
assert_eq 1 "$(wc -l <"$T/out")" "one line per module from verify"
for q in "--func checkout" "--line shop.c:44" "--addr 0x1540" "--type order" "--global g_counter" "--cfi 0x1540"; do
	rc=0
	timeout 30 "$GSI" query "$src" $q >/dev/null 2>&1 || rc=$?
	[ $rc -lt 124 ] || fail "query $q on a damaged index crashed (exit $rc)"
done
rc=0
timeout 30 "$GSI" dump "$src" >/dev/null 2>&1 || rc=$?
[ $rc -lt 124 ] || fail "dump of a damaged index crashed (exit $rc)"
expect 0 "$GSI" --force "$src"
expect 0 "$GSI" verify

# not an index at all
printf 'garbage' >"$file"
expect nonzero "$GSI" query "$src" --func checkout
assert_eq 1 "$(wc -l <"$T/err")" "one-line error for a garbage index"

# usage errors
expect 2 "$GSI" query "$src"
expect 2 "$GSI" query "$src" --func a --line b:1
expect 2 "$GSI" --bogus
echo ok

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds the ELF/DWARF fuzz target with clang-16 (libFuzzer + ASan + UBSan) and runs it.
#   tests/fuzz/run.sh [SECONDS]        fuzz for SECONDS (default 60)
#   tests/fuzz/run.sh --replay FILE... run the target once on each FILE (reproduce)
# Seeds: the fixture binaries (built on demand) plus tests/fuzz/corpus/. New crashers
# land in build/fuzz/ as crash-<sha1> (log: build/fuzz/fuzz.log); copy them to
# tests/fuzz/corpus/ once fixed.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out="$top/build/fuzz"
bin="$out/fuzz_elf"
mkdir -p "$out/corpus"

flags=$(pkg-config --cflags --libs libdw libelf)
# shellcheck disable=SC2086
clang-16 -std=gnu11 -g -O1 -D_GNU_SOURCE -I"$top" \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-o "$bin" "$top/tests/fuzz/fuzz_elf.c" "$top/shared/elf.c" "$top/shared/errors.c" \
	"$top/indexer/cfi.c" "$top/indexer/debuginfo.c" $flags

if [ "${1:-}" = "--replay" ]; then
	shift
	exec "$bin" -close_fd_mask=2 "$@"
fi

secs=${1:-60}
"$top/tests/fixtures/build.sh" "$top/build/fixtures" >/dev/null
for d in "$top"/build/fixtures/{gcc,clang}-O{0,2}-dwarf{4,5}; do
	cp "$d/libshop.so" "$out/corpus/$(basename "$d")-libshop.so"
done
cp "$top/build/fixtures/gcc-O2-dwarf5/shop" "$out/corpus/gcc-O2-dwarf5-shop"
seeds=("$out/corpus")
[ -d "$top/tests/fuzz/corpus" ] && seeds+=("$top/tests/fuzz/corpus")

cd "$out"
rc=0
"$bin" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
	-close_fd_mask=2 -print_final_stats=1 "${seeds[@]}" >"$out/fuzz.log" 2>&1 || rc=$?
grep -E '^Done|^==.*ERROR|SUMMARY|stat::number_of_executed_units|stat::new_units_added' \
	"$out/fuzz.log" || true
if [ "$rc" -ne 0 ] || ls "$out"/crash-* "$out"/leak-* "$out"/timeout-* >/dev/null 2>&1; then
	echo "fuzz: found problems, see $out/crash-* and $out/fuzz*.log" >&2
	exit 1
fi
echo "fuzz: no crash in ${secs}s"

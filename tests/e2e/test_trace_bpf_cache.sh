#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The compiled-object cache: the same script a second time is a cache hit (no LLVM) and
# prints exactly the same; per-run settings (pid filter, ring size) do not defeat it; a
# corrupt cache file is recompiled; --no-bpf-cache bypasses it.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/trace_lib.sh"
need_root_bpf
fixtures
D="$FIX/gcc-O2-dwarf5"
"$GSI" "$D/shop" "$D/libshop.so" >/dev/null
start_shop "$D"
S='trace checkout { if qty == 3 { print "{} {} {}", o.id, o.cust.name, g_banner; } }'

gs_run -v -p "$PID" --script-output plain --max-events 1 -s "$S"
first=$OUT
assert_contains "$ERR" "BPF object: cache miss, compiled" "first run compiles"
assert_eq '1007 "alice" "ghost shop"' "$first" "first run output"
n=$(find "$GHOSTSCOPE_INDEX_DIR/bpf" -name '*.o' | wc -l)
assert_eq 1 "$n" "one cached object"

gs_run -v -p "$PID" --script-output plain --max-events 1 -s "$S"
assert_contains "$ERR" "BPF object: cache hit" "second run hits"
assert_eq "$first" "$OUT" "same output from the cached object"

# Every-process mode and another ring size: other per-run settings, the same object.
gs_run -v -t "$D/shop" --ringbuf-size 65536 --script-output plain --max-events 1 -s "$S"
assert_contains "$ERR" "BPF object: cache hit" "per-run settings keep the hit"
assert_eq "$first" "$OUT" "same output without the pid filter"

# A truncated object is a miss, recompiled and replaced.
find "$GHOSTSCOPE_INDEX_DIR/bpf" -name '*.o' -exec truncate -s 200 {} +
gs_run -v -p "$PID" --script-output plain --max-events 1 -s "$S"
assert_contains "$ERR" "BPF object: cache miss, compiled" "corrupt file recompiled"
assert_eq "$first" "$OUT" "output after repair"
gs_run -v -p "$PID" --script-output plain --max-events 1 -s "$S"
assert_contains "$ERR" "BPF object: cache hit" "repaired file hits"

gs_run -v --no-bpf-cache -p "$PID" --script-output plain --max-events 1 -s "$S"
assert_contains "$ERR" "BPF object: compiled (cache off)" "--no-bpf-cache"
assert_eq "$first" "$OUT" "output without the cache"
echo ok

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The plan cache: the same script on the same binaries a second time skips planning and
# prints exactly what planning prints (structs with strings, a failing condition, a
# backtrace, return probes with their hidden entry saves, a library). Re-indexing, another
# script text, another target mode, or a damaged file each plan again; --no-plan-cache
# and --dry-run never use it.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/trace_lib.sh"
need_root_bpf
fixtures
D="$FIX/gcc-O2-dwarf5"
"$GSI" "$D/shop" "$D/libshop.so" >/dev/null
start_shop "$D"
plans() { find "$GHOSTSCOPE_INDEX_DIR/plan" -name '*.plan' 2>/dev/null | wc -l; }

S='trace checkout {
  if qty == 3 {
    print "{} {} {} {}", o.id, o.cust.name, coupon, g_banner;
    print o.ship;
    if o.next.id == 1 { print "never"; }
    bt;
  }
}'
gs_run -v -p "$PID" --script-output plain --max-events 1 -s "$S"
first=$OUT
assert_contains "$ERR" "plan: cache miss, planned" "first run plans"
assert_eq 1 "$(plans)" "one saved plan"
assert_contains "$first" '1007 "alice" "HALF50" "ghost shop"' "values"
assert_contains "$first" 'o.ship = address { city: "lisbon", zip: 1100 }' "struct with a string"
assert_contains "$first" "o.next.id == 1" "the failing condition is named"
assert_contains "$first" "  #1 main(int argc, char** argv) at shop.c:" "backtrace"

gs_run -v -p "$PID" --script-output plain --max-events 1 -s "$S"
assert_contains "$ERR" "plan: cache hit" "second run loads the plan"
assert_contains "$ERR" "BPF object: cache hit" "and the same object"
assert_eq "$first" "$OUT" "same output from the saved plan"

# Return probes (their hidden entry probes are in the plan too) and a library function.
R='trace checkout:return { print "{} {} {} -> {}", qty, o.id, coupon, $retval; }
trace lib_price { print "lib {}", qty; }'
want=$(printf '1 1007 NULL (const char*) -> 24\n3 1007 "HALF50" -> 36\nlib 2')
for run in miss hit; do
	gs_run -v -p "$PID" --script-output plain --max-events 6 -s "$R"
	[ $run = miss ] && assert_contains "$ERR" "plan: cache miss" "return probes: first run"
	[ $run = hit ] && assert_contains "$ERR" "plan: cache hit" "return probes: second run"
	assert_eq "$want" "$(sort -u <<<"$OUT")" "return probes, $run"
done

# Every process of the binary (-t) is another plan than one pid's.
gs_run -v -t "$D/shop" --script-output plain --max-events 1 -s "$S"
assert_contains "$ERR" "plan: cache miss" "-t plans apart from -p"
assert_contains "$OUT" '1007 "alice" "HALF50" "ghost shop"' "-t values"

# Another script text, even by one space, plans again.
gs_run -v -p "$PID" --script-output plain --max-events 1 -s "$S "
assert_contains "$ERR" "plan: cache miss" "another script text"

# A re-index writes a new index file: plans from the old one are not used.
"$GSI" --force "$D/shop" >/dev/null
gs_run -v -p "$PID" --script-output plain --max-events 1 -s "$S"
assert_contains "$ERR" "plan: cache miss" "re-indexed binary"
assert_eq "$first" "$OUT" "same output after the re-index"

# Damaged files are planned again and replaced.
find "$GHOSTSCOPE_INDEX_DIR/plan" -name '*.plan' -exec truncate -s 100 {} +
gs_run -v -p "$PID" --script-output plain --max-events 1 -s "$S"
assert_contains "$ERR" "plan: cache miss" "damaged file"
assert_eq "$first" "$OUT" "output after the repair"
gs_run -v -p "$PID" --script-output plain --max-events 1 -s "$S"
assert_contains "$ERR" "plan: cache hit" "repaired file hits"

gs_run -v --no-plan-cache -p "$PID" --script-output plain --max-events 1 -s "$S"
case "$ERR" in *"plan: cache"*) fail "--no-plan-cache still used the cache: $ERR" ;; esac
assert_eq "$first" "$OUT" "output without the plan cache"
OUT=$("$GS" -p "$PID" --dry-run -s "$S")
assert_contains "$OUT" "    o: reg rdi" "--dry-run plans (it lists the reads)"

# Bounded: a run that stored a plan or an object prunes plan/ and bpf/ to
# GHOSTSCOPE_CACHE_LIMIT at exit, least recently used first (objects are ~10 KB).
bytes() { find "$GHOSTSCOPE_INDEX_DIR/$1" -type f -name "*$2" -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; }
export GHOSTSCOPE_CACHE_LIMIT=25K
pruned=0
for i in 1 2 3 4 5; do
	gs_run -v -p "$PID" --script-output plain --max-events 1 -s "trace checkout { if qty == 3 { print \"v$i {}\", qty + $i; } }"
	assert_contains "$ERR" "BPF object: cache miss" "script $i compiles"
	assert_eq "v$i $((3 + i))" "$OUT" "script $i output"
	case "$ERR" in *"cache: removed "*" least recently used files from $GHOSTSCOPE_INDEX_DIR/bpf/"*) pruned=1 ;; esac
	[ "$(bytes bpf .o)" -le 25600 ] || fail "bpf/ holds $(bytes bpf .o) bytes over a 25K limit"
	[ "$(bytes plan .plan)" -le 25600 ] || fail "plan/ holds $(bytes plan .plan) bytes"
done
[ "$pruned" = 1 ] || fail "nothing was pruned"
gs_run -v -p "$PID" --script-output plain --max-events 1 -s 'trace checkout { if qty == 3 { print "v5 {}", qty + 5; } }'
assert_contains "$ERR" "BPF object: cache hit" "the latest object is kept"
assert_contains "$ERR" "plan: cache hit" "the latest plan is kept"
gs_run -v -p "$PID" --script-output plain --max-events 1 -s 'trace checkout { if qty == 3 { print "v1 {}", qty + 1; } }'
assert_contains "$ERR" "BPF object: cache miss" "the oldest object is gone"
GHOSTSCOPE_CACHE_LIMIT=12x "$GS" -p "$PID" -s "$S" 2>"$T/lim.err" && fail "a bad limit was accepted"
assert_eq "ghostscope: GHOSTSCOPE_CACHE_LIMIT '12x' is not a byte count (such as 500K, 64M or 1G)" \
	"$(cat "$T/lim.err")" "a bad limit"
unset GHOSTSCOPE_CACHE_LIMIT
echo ok

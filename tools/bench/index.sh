#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Indexing benchmark (not a test): nginx 1.22 built from Debian's source with -g -O2
# (tools/bench/common.sh nginx_build, kept in bench/work), python3.11d (Debian
# python3.11-dbg) and libc.so.6 with libc6-dbg's separate debug file. For each, in the
# same run: wall and CPU time (user + system, both threads) of a full index (median of
# RUNS), DWARF MB/s, the index size as a fraction of the uncompressed DWARF, a no-op
# re-index (median of 5, with the cost of starting /bin/true beside it), and
# gdb-add-index on a copy of the same file. Prints the load average too:
# on this 2-core machine a busy neighbour takes the second core the indexer uses.
# Usage: tools/bench/index.sh [--quick] [RUNS] (default 3); GS_BENCH_WORK picks the work
# dir. --quick: nginx and python3.11d only, without gdb-add-index (about 15 s).
source "$(dirname "$0")/common.sh"
quick=0
if [ "${1:-}" = --quick ]; then
	quick=1
	shift
fi
runs=${1:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -x "$GSI" ] || { echo "build first: make" >&2; exit 1; }

# Uncompressed .debug_* bytes, as the indexer read them (from `show`).
dwarf_bytes() {
	"$GSI" --index-dir "$2" show "$1" | awk '/^dwarf:/ { for (i = 1; i < NF; i++)
		if ($(i + 1) == "KB") printf "%d\n", $i * 1000 }'
}

# Median of the numbers in FILE, one per line, with milliseconds.
median3() {
	sort -n "$1" | awk '{ a[NR] = $1 } END { printf "%.3f", NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# The separate debug file of $1 by build-id, or $1 itself.
debug_file_of() {
	local bid
	bid=$(readelf -n "$1" 2>/dev/null | awk '/Build ID/ { print $3 }')
	if [ -n "$bid" ] && [ -f "/usr/lib/debug/.build-id/${bid:0:2}/${bid:2}.debug" ]; then
		echo "/usr/lib/debug/.build-id/${bid:0:2}/${bid:2}.debug"
	else
		echo "$1"
	fi
}

bench_one() {
	local name=$1 bin=$2 cache dbg dwarf wall usr sys cpu size noop gdbt walls cpus i t0 t1
	cache=$tmp/cache-$name
	dbg=$(debug_file_of "$bin")
	: >"$tmp/walls"
	: >"$tmp/cpus"
	for ((i = 0; i < runs; i++)); do
		rm -rf "$cache"
		t0=$(date +%s.%N)
		/usr/bin/time -f '%U %S' -o "$tmp/time" "$GSI" --index-dir "$cache" "$bin" >/dev/null
		t1=$(date +%s.%N)
		read -r usr sys <"$tmp/time"
		echo "$t1 - $t0" | bc >>"$tmp/walls"
		echo "$usr + $sys" | bc >>"$tmp/cpus"
	done
	wall=$(median3 "$tmp/walls")
	cpu=$(median3 "$tmp/cpus")
	size=$(find "$cache" -name '*.gsidx' -printf '%s\n' | head -1)
	dwarf=$(dwarf_bytes "$bin" "$cache")
	noop=$(spawn_ms "$GSI" --index-dir "$cache" "$bin")
	# gdb-add-index writes into the file that has the DWARF: give it a copy
	gdbt=0
	if [ "$quick" = 0 ]; then
		cp "$dbg" "$tmp/$name.gdb"
		t0=$(date +%s.%N)
		gdb-add-index "$tmp/$name.gdb" >/dev/null 2>&1 || true
		t1=$(date +%s.%N)
		gdbt=$(echo "$t1 - $t0" | bc)
		rm -f "$tmp/$name.gdb"
	fi
	printf '%-12s wall %6.3f s  cpu %6.3f s  DWARF %5.1f MB  %5.1f MB/s  index %5.1f MB (%3.0f%%)  no-op %5.1f ms  gdb-add-index %6.3f s\n' \
		"$name" "$wall" "$cpu" "$(echo "$dwarf / 1000000" | bc -l)" \
		"$(echo "$dwarf / 1000000 / $wall" | bc -l)" "$(echo "$size / 1000000" | bc -l)" \
		"$(echo "100 * $size / $dwarf" | bc -l)" "$noop" "$gdbt"
}

# spawn_ms CMD...: median wall ms of 5 runs of CMD (its output dropped).
spawn_ms() {
	local t0 t1 i
	: >"$tmp/spawn"
	for i in 1 2 3 4 5; do
		# $EPOCHREALTIME: no process of its own (`date` cost a fork and exec per stamp)
		t0=${EPOCHREALTIME/./}
		"$@" >/dev/null 2>&1
		t1=${EPOCHREALTIME/./}
		us_to_ms $((t1 - t0)) >>"$tmp/spawn"
	done
	median3 "$tmp/spawn"
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores; median of $runs runs"
# A no-op re-index is mostly starting a process: /bin/true measured the same way.
echo "process spawn floor (/bin/true): $(spawn_ms /bin/true) ms"
if nginx=$(nginx_build) && [ -x "$nginx" ]; then
	bench_one nginx "$nginx"
else
	echo "nginx: skipped (no Debian source package: add a deb-src line and retry)"
fi
if [ -x /usr/bin/python3.11d ]; then
	bench_one python3.11d /usr/bin/python3.11d
else
	echo "python3.11d: skipped (apt-get install python3.11-dbg)"
fi
libc=/lib/x86_64-linux-gnu/libc.so.6
if [ "$quick" = 1 ]; then
	:
elif [ "$(debug_file_of "$libc")" != "$libc" ]; then
	bench_one libc.so.6 "$libc"
else
	echo "libc.so.6: skipped (apt-get install libc6-dbg)"
fi

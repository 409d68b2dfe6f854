#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Indexing benchmark (not a test): nginx 1.22 built from Debian's source with -g -O2,
# and python3.11d (Debian python3.11-dbg). For each: wall and CPU time of a full
# index, DWARF MB/s, index size as a fraction of the DWARF, a no-op re-index, and
# gdb-add-index on a copy of the same file in the same run.
# Usage: tools/bench/index.sh [WORKDIR] (default /tmp/gs-bench-index)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
gsi=$top/build/ghostscope-index
work=${1:-/tmp/gs-bench-index}
mkdir -p "$work"
[ -x "$gsi" ] || { echo "build first: make" >&2; exit 1; }

build_nginx() {
	local src
	src=$(find "$work" -maxdepth 1 -type d -name 'nginx-1.*' | head -1)
	if [ -z "$src" ]; then
		(cd "$work" && apt-get source --download-only nginx >/dev/null 2>&1) || return 1
		tar -C "$work" -xf "$(ls "$work"/nginx_*.orig.tar.gz | head -1)" || return 1
		src=$(find "$work" -maxdepth 1 -type d -name 'nginx-1.*' | head -1)
	fi
	if [ ! -x "$src/objs/nginx" ]; then
		(cd "$src" && ./configure --with-cc-opt='-g -O2' --with-ld-opt='-Wl,--build-id' \
			--without-http_rewrite_module --without-http_gzip_module >/dev/null &&
			make -j"$(nproc)" >/dev/null) || return 1
	fi
	echo "$src/objs/nginx"
}

dwarf_bytes() {
	local s=0 h
	for h in $(readelf -S --wide "$1" | awk '$2 ~ /^\.debug_/ { print $6 }'); do
		s=$((s + 0x$h))
	done
	echo "$s"
}

bench_one() {
	local name=$1 bin=$2 cache dwarf t0 t1 wall usr sys cpu size noop gdbt
	cache=$work/cache-$name
	rm -rf "$cache"
	dwarf=$(dwarf_bytes "$bin")
	/usr/bin/time -f '%e %U %S' -o "$work/time" "$gsi" --index-dir "$cache" "$bin" >/dev/null
	read -r wall usr sys <"$work/time"
	cpu=$(echo "$usr + $sys" | bc)
	size=$(find "$cache" -name '*.gsidx' -printf '%s\n' | head -1)
	t0=$(date +%s.%N)
	"$gsi" --index-dir "$cache" "$bin" >/dev/null
	t1=$(date +%s.%N)
	noop=$(echo "($t1 - $t0) * 1000" | bc)
	cp "$bin" "$work/$name.gdb"
	t0=$(date +%s.%N)
	gdb-add-index "$work/$name.gdb" >/dev/null 2>&1 || true
	t1=$(date +%s.%N)
	gdbt=$(echo "$t1 - $t0" | bc)
	printf '%-10s wall %6.3f s  cpu %6.3f s  DWARF %6.1f MB  %6.1f MB/s  index %5.1f MB (%3.0f%%)  no-op %5.1f ms  gdb-add-index %6.3f s\n' \
		"$name" "$wall" "$cpu" "$(echo "$dwarf / 1000000" | bc -l)" \
		"$(echo "$dwarf / 1000000 / $wall" | bc -l)" "$(echo "$size / 1000000" | bc -l)" \
		"$(echo "100 * $size / $dwarf" | bc -l)" "$noop" "$gdbt"
}

if nginx=$(build_nginx); then
	bench_one nginx "$nginx"
else
	echo "nginx: skipped (no Debian source package: add a deb-src line and retry)"
fi
if [ -x /usr/bin/python3.11d ]; then
	bench_one python3.11d /usr/bin/python3.11d
else
	echo "python3.11d: skipped (apt-get install python3.11-dbg)"
fi

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The main job on the bundled example: build the shop fixture, index it, start it, and
# trace its checkout() function live for a few events.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out="$top/build/demo"
mkdir -p "$out"
fix=$("$top/tests/fixtures/build.sh" "$out/fixtures" | grep gcc-O0-dwarf5)
export GHOSTSCOPE_INDEX_DIR="$out/cache"

echo "== indexing the example program"
"$top/build/ghostscope-index" "$fix/shop" "$fix/libshop.so"
echo
echo "== what the index knows about checkout()"
"$top/build/ghostscope-index" query "$fix/shop" --func checkout
echo
"$fix/shop" 0 200 >/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
if [ "$(id -u)" -ne 0 ]; then
	echo "tracing needs root; skipping the live part"
	exit 0
fi
echo "== tracing checkout() in PID $pid"
script='trace checkout {
    print "order {} for {} qty={}", o.id, o.cust.name, qty;
    if coupon != 0 && starts_with(coupon, "HALF") { print "coupon {}", coupon; } else { print "full price"; }
}
trace lib_apply { print *o.cust; print lib_counter; }'
echo "$script" | sed 's/^/    /'
"$top/build/ghostscope" -p "$pid" --max-events 6 --timeout 10 -s "$script"

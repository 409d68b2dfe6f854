#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Planning reads only the index: index a fixture, strip its debug sections (the build-id
# stays), and trace the stripped copy with full DWARF-level values.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/trace_lib.sh"
need_root_bpf
fixtures
D="$FIX/gcc-O2-dwarf5"
"$GSI" "$D/shop" "$D/libshop.so" >/dev/null
mkdir -p "$T/bin"
objcopy --strip-debug "$D/shop" "$T/bin/shop"
cp "$D/libshop.so" "$T/bin/"
readelf -S "$T/bin/shop" | grep -q debug_info && fail "strip left .debug_info"
LD_LIBRARY_PATH="$T/bin" "$T/bin/shop" 0 20 >"$T/out" 2>&1 &
PID=$!
GS_CLEANUP="kill $PID"
sleep 0.3
gs_run -p "$PID" --no-auto-index --script-output plain --max-events 1 \
	-s 'trace checkout { if qty == 3 { print "{} {} {}", o.id, o.cust.name, g_banner; } }'
assert_eq '1007 "alice" "ghost shop"' "$OUT" "stripped copy"
echo ok

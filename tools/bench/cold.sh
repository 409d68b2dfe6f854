#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Measure 2, cold start: the first attach on a binary that is not indexed yet (ghostscope
# indexes it on the spot), with the page cache dropped before every run of every tool;
# peers gdb -batch (with and without .gdb_index), perf probe (add) and bpftrace, cold too.
# Usage: cold.sh [--quick] [--runs N]
. "$(dirname "$0")/common.sh"
bench_args "$@"
bench_deps "${PEERS_PKGS[@]}"
ensure_tracefs || log "tracefs is missing: perf probe rows will be empty"
bench_targets

tbl_new cold
for t in "${TARGETS[@]}"; do
	IFS='|' read -r name bin dbg func gsvars perfargs <<<"$t"
	[ -e "$bin" ] || { log "missing '$bin'"; continue; }
	log "== $name: $bin ($func)"
	read -r gdbbin gdbdir <<<"$(gdb_indexed "$bin" "$dbg")"
	script=$(gs_script "$func" "$gsvars")
	bpf="uprobe:$bin:$func { } BEGIN { printf(\"BENCH_READY\\n\"); exit(); }"
	perf_spec="$func $perfargs"
	perf_probe_del
	perf_probe_add "$bin" "$perf_spec" >>"$LOG" 2>&1 || perf_spec=$func
	perf_probe_del

	gs_a=$(samples "$name.gs.armed"); gs_t=$(samples "$name.gs.total")
	bt_a=$(samples "$name.bt.armed"); bt_t=$(samples "$name.bt.total")
	pp=$(samples "$name.perf"); gd=$(samples "$name.gdb"); gdi=$(samples "$name.gdbidx")
	for i in $(seq "$RUNS"); do
		if gs_ok; then
			fresh="$WORK/cold-index"
			rm -rf "$fresh"
			drop_caches
			marker_run BENCH_READY "$gs_a" "$gs_t" "$GS" --index-dir "$fresh" \
				${dbg:+--debug-file "$dbg"} -t "$bin" -s "$script" --timeout 0 \
				--ready-marker BENCH_READY || true
		fi
		drop_caches
		marker_run BENCH_READY "$bt_a" "$bt_t" bpftrace -B line -e "$bpf" || true
		drop_caches
		time_into "$pp" perf_probe_add "$bin" "$perf_spec" || true
		perf_probe_del
		drop_caches
		time_into "$gd" peer_gdb "$bin" "$func" || true
		drop_caches
		time_into "$gdi" peer_gdb "$gdbbin" "$func" "$gdbdir" || true
	done
	gsnote="auto-index into an empty cache"; gs_ok || gsnote="tracer not built"
	tbl_add cold "$name" "ghostscope (armed: --ready-marker)" "$gs_a" "$gsnote"
	tbl_add cold "$name" "ghostscope (--timeout 0, exit)" "$gs_t" "$gsnote"
	tbl_add cold "$name" "bpftrace (armed: BEGIN runs)" "$bt_a" ""
	tbl_add cold "$name" "bpftrace (exit in BEGIN)" "$bt_t" ""
	tbl_add cold "$name" "perf probe -x" "$pp" "add only, not armed"
	tbl_add cold "$name" "gdb -batch break" "$gd" ""
	tbl_add cold "$name" "gdb -batch break (.gdb_index)" "$gdi" ""
done
rm -rf "$WORK/cold-index"

section_begin "Cold start (measure 2)"
section_add <<EOF
The first attach with the page cache dropped (\`echo 3 > /proc/sys/vm/drop_caches\`) before
every run of every tool: ghostscope starts from an empty index cache and indexes the binary
on the spot; the tools themselves are cold too. Same probes as measure 1. Times in ms.

$(tbl_emit cold ms)
EOF
section_end

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Measure 1, ready latency: from process start until one probe is armed, warm index and
# warm page cache, on nginx, python3.11d, release python3.11 (separate debug file) and the
# synthetic 300 MiB DWARF binary; peers gdb -batch (with and without .gdb_index), perf probe
# (add, unarmed) and bpftrace (uprobe + BEGIN), all in the same run.
# Usage: ready.sh [--quick] [--runs N]
. "$(dirname "$0")/common.sh"
bench_args "$@"
bench_deps "${PEERS_PKGS[@]}"
ensure_tracefs || log "tracefs is missing: perf probe rows will be empty"
export GHOSTSCOPE_INDEX_DIR="$GS_IDX"

bench_targets

tbl_new ready
# The timer's own floor: the same fork, exec and marker read around a program that
# prints the marker at once.
floor=$(samples "floor")
for i in $(seq "$RUNS"); do
	marker_run BENCH_READY "$floor" /dev/null /bin/echo BENCH_READY || true
done
tbl_add ready "(any)" "no tool: /bin/echo BENCH_READY" "$floor" "the timer's floor: fork, exec, marker read"
nocache=0
gs_ok && [[ $("$GS" --help 2>&1) == *--no-bpf-cache* ]] && nocache=1
for t in "${TARGETS[@]}"; do
	IFS='|' read -r name bin dbg func gsvars perfargs <<<"$t"
	[ -e "$bin" ] || { log "missing '$bin'"; continue; }
	log "== $name: $bin ($func)"
	gdbdir=""; gdbbin=$bin
	read -r gdbbin gdbdir <<<"$(gdb_indexed "$bin" "$dbg")"
	script=$(gs_script "$func" "$gsvars")
	bpf="uprobe:$bin:$func { } BEGIN { printf(\"BENCH_READY\\n\"); exit(); }"

	# Warm everything once (index, page cache, gdb's own start-up), untimed.
	if gs_ok; then
		"$GSI" --index-dir "$GS_IDX" ${dbg:+--debug-file "$dbg"} "$bin" >>"$LOG" 2>&1 || log "indexing '$bin' failed"
		"$GS" -t "$bin" -s "$script" --timeout 0 >>"$LOG" 2>&1 || true
	fi
	peer_gdb "$bin" "$func" >/dev/null 2>&1 || true
	bpftrace -e "$bpf" >/dev/null 2>&1 || true

	gs_a=$(samples "$name.gs.armed"); gs_t=$(samples "$name.gs.total")
	gs_m=$(samples "$name.gs.main")
	gs_na=$(samples "$name.gs.nocache.armed"); gs_nt=$(samples "$name.gs.nocache.total")
	bt_a=$(samples "$name.bt.armed"); bt_t=$(samples "$name.bt.total")
	pp=$(samples "$name.perf"); gd=$(samples "$name.gdb"); gdi=$(samples "$name.gdbidx")
	perf_note="add only, not armed"
	perf_spec="$func $perfargs"
	perf_probe_del
	if ! perf_probe_add "$bin" "$perf_spec" >>"$LOG" 2>&1; then
		perf_spec=$func; perf_note="add only, not armed; without the members (perf cannot read them here)"
	fi
	perf_probe_del
	for i in $(seq "$RUNS"); do
		if gs_ok; then
			marker_run BENCH_READY "$gs_a" "$gs_t" "$GS" -v -t "$bin" -s "$script" --timeout 0 \
				--ready-marker BENCH_READY || true
			# -v's own clock, from main() (exec and dynamic linking come before it)
			tail -n 20 "$LOG" | sed -n 's/.*ghostscope: ready \([0-9.]*\) ms after main().*/\1/p' |
				tail -n 1 >>"$gs_m"
			# Issue 5 measure 6: the same run without the compiled-program cache.
			if [ "$nocache" = 1 ]; then
				marker_run BENCH_READY "$gs_na" "$gs_nt" "$GS" -t "$bin" -s "$script" \
					--timeout 0 --no-bpf-cache --ready-marker BENCH_READY || true
			fi
		fi
		BPFTRACE_MAX_PROBES=4096 marker_run BENCH_READY "$bt_a" "$bt_t" bpftrace -B line -e "$bpf" || true
		time_into "$pp" perf_probe_add "$bin" "$perf_spec" || true
		perf_probe_del
		time_into "$gd" peer_gdb "$bin" "$func" || true
		time_into "$gdi" peer_gdb "$gdbbin" "$func" "$gdbdir" || true
	done
	gsnote=""; gs_ok || gsnote="tracer not built"
	gdbnote=""; has_gdb_index "$bin" && gdbnote="the binary already has .gdb_index"
	tbl_add ready "$name" "ghostscope (armed: --ready-marker)" "$gs_a" "$gsnote"
	tbl_add ready "$name" "ghostscope (--timeout 0, exit)" "$gs_t" "$gsnote"
	# its own group: not a ratio against tools timed from outside
	tbl_add ready "$name, -v clock" "ghostscope, its own clock" "$gs_m" "ready after main(): no exec, no dynamic linking"
	if [ "$nocache" = 1 ]; then
		tbl_add ready "$name" "ghostscope --no-bpf-cache (armed)" "$gs_na" "LLVM compiles the program"
		tbl_add ready "$name" "ghostscope --no-bpf-cache (exit)" "$gs_nt" ""
	fi
	tbl_add ready "$name" "bpftrace (armed: BEGIN runs)" "$bt_a" "uprobe with an empty body"
	tbl_add ready "$name" "bpftrace (exit in BEGIN)" "$bt_t" ""
	tbl_add ready "$name" "perf probe -x" "$pp" "$perf_note"
	tbl_add ready "$name" "gdb -batch break" "$gd" "$gdbnote"
	tbl_add ready "$name" "gdb -batch break (.gdb_index)" "$gdi" ""
done

section_begin "Ready latency (measure 1)"
section_add <<EOF
From process start to one probe armed, warm index and page cache. ghostscope: \`-t BIN -s
'trace FUNC { print ...; }' --timeout 0\`; "armed" is when \`--ready-marker\` appears on
stderr, "exit" the whole run including the detach. Plain ghostscope rows hit the
compiled-program cache (a BPF object from an earlier run of the same script, issue 5
measure 6); the \`--no-bpf-cache\` rows compile with LLVM every time. Functions: nginx \`ngx_http_handler\`
(prints \`r.uri.len\`, \`r.method\`), python \`PyObject_GetAttr\` (prints \`v.ob_refcnt\`),
synthetic \`synth_target\` (\`r.uri.len\`, \`r.method\`). Times in ms. Every row is timed by
the same timer (tools/bench/marker.c: fork, exec, the output read from a pipe line by
line); its floor, a program that prints the marker at once, is the "(any)" row. The "own clock" rows are
ghostscope's \`-v\` figure, from its \`main()\` to the probes armed.

$(tbl_emit ready ms)
EOF
section_end

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Measure 7 of issue 5 (memory): peak RSS (/usr/bin/time -v) of ghostscope-index indexing
# each binary into an empty cache, of ghostscope attaching one probe with a warm index
# (--timeout 0), and of the peers doing the same job (gdb -batch break, bpftrace, perf
# probe add).
# Usage: memory.sh [--quick] [--runs N]
. "$(dirname "$0")/common.sh"
bench_args "$@"
bench_deps "${PEERS_PKGS[@]}"
ensure_tracefs || log "tracefs is missing: perf probe rows will be empty"
bench_targets

# rss_into FILE CMD...: runs CMD under time -v; appends its peak RSS in MiB to FILE.
rss_into() {
	local f=$1 tv="$WORK/time-v.txt" rc=0
	shift
	/usr/bin/time -v -o "$tv" "$@" >>"$LOG" 2>&1 || rc=$?
	if [ $rc -ne 0 ]; then log "failed ($rc): $*"; return 1; fi
	awk -F': ' '/Maximum resident set size/ { printf "%.1f\n", $2 / 1024 }' "$tv" >>"$f"
}

tbl_new rss
for t in "${TARGETS[@]}"; do
	IFS='|' read -r name bin dbg func gsvars perfargs <<<"$t"
	[ -e "$bin" ] || { log "missing '$bin'"; continue; }
	log "== $name"
	script=$(gs_script "$func" "$gsvars")
	fresh="$WORK/memory-index"
	gi=$(samples "$name.gsi"); gs=$(samples "$name.gs"); gh=$(samples "$name.gs-hit")
	gd=$(samples "$name.gdb")
	bt=$(samples "$name.bt"); pp=$(samples "$name.perf")
	for r in $(seq "$RUNS"); do
		if gs_ok; then
			rm -rf "$fresh"
			rss_into "$gi" "$GSI" --index-dir "$fresh" ${dbg:+--debug-file "$dbg"} "$bin" || true
			# first attach: LLVM compiles the program; second: the compiled-object cache
			rss_into "$gs" "$GS" --index-dir "$fresh" -t "$bin" -s "$script" --timeout 0 || true
			rss_into "$gh" "$GS" --index-dir "$fresh" -t "$bin" -s "$script" --timeout 0 || true
		fi
		rss_into "$gd" "${GDB[@]}" -ex "break $func" "$bin" || true
		rss_into "$bt" bpftrace -e "uprobe:$bin:$func { } BEGIN { exit(); }" || true
		perf_probe_del
		rss_into "$pp" perf probe -q -x "$bin" -a "gsbench:ev0=$func" || true
		perf_probe_del
	done
	rm -rf "$fresh"
	gsnote=""; gs_ok || gsnote="tracer not built"
	tbl_add rss "$name, indexing" "ghostscope-index (empty cache)" "$gi" "$gsnote"
	tbl_add rss "$name" "ghostscope (warm index, --timeout 0)" "$gs" "${gsnote:-first run: ghostscope-codegen (LLVM) compiles}"
	tbl_add rss "$name" "ghostscope (warm index, cached program)" "$gh" "${gsnote:-no LLVM; 16 MiB are the ring buffer, mapped twice}"
	tbl_add rss "$name" "gdb -batch break" "$gd" ""
	tbl_add rss "$name" "bpftrace (exit in BEGIN)" "$bt" ""
	tbl_add rss "$name" "perf probe -x (add)" "$pp" ""
done

section_begin "Memory (measure 7)"
section_add <<EOF
Peak resident set size from \`/usr/bin/time -v\`, in MiB. ghostscope-index indexes the
binary into an empty cache; ghostscope then attaches the probe of measure 1 with that
index and exits (\`--timeout 0\`): once compiling the program, once more with the compiled
program from the cache. Compiling runs ghostscope-codegen, the program that links LLVM;
\`time -v\` reports the largest of the processes, which there is the code generator
(LLVM, linked into it, is most of that figure). The cached run starts no other process.
The peers do the job of measure 1.

$(tbl_emit rss MiB)
EOF
section_end

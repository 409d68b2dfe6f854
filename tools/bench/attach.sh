#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Measure 3, attach scaling: 1, 10, 100 and 1000 probe points in a generated program with
# 1000 noinline functions (one trace statement per function), plus one source line of an
# inlined helper with 1000 copies (one trace statement, 1000 pcs); time until armed and
# time to detach after SIGINT; bpftrace with the same number of uprobes.
# Usage: attach.sh [--quick] [--runs N]
. "$(dirname "$0")/common.sh"
bench_args "$@"
bench_deps "${PEERS_PKGS[@]}"
export GHOSTSCOPE_INDEX_DIR="$GS_IDX"
NFUNC=1000
SIZES=(1 10 100 1000)
# bpftrace 0.17 attaches perf-event uprobes, whose detach is serialised (~125 ms each
# here): its 1000-probe row would take minutes per run, so it gets fewer runs.
BT_BIG_RUNS=${GS_BENCH_BT_BIG_RUNS:-$([ "$QUICK" = 1 ] && echo 1 || echo 2)}

# The program: f0..f999 each call an always-inline helper whose marked line becomes one
# pc per copy.
build_prog() {
	local d="$WORK/attach" i
	[ -x "$d/many" ] && { echo "$d/many"; return; }
	mkdir -p "$d"
	{
		echo "/* generated: $NFUNC probe targets */"
		echo "#include <stdio.h>"
		echo "volatile long sink;"
		echo "static inline __attribute__((always_inline)) long helper(long v, int k)"
		echo "{"
		echo "	long w = v * k + 1;"
		echo "	sink += w;	/* HELPER_LINE */"
		echo "	return w;"
		echo "}"
		for i in $(seq 0 $((NFUNC - 1))); do
			echo "__attribute__((noinline)) long f$i(long x) { return helper(x + $i, $((i % 7 + 1))); }"
		done
		echo "int main(void)"
		echo "{"
		echo "	long s = 0;"
		for i in $(seq 0 $((NFUNC - 1))); do echo "	s += f$i($i);"; done
		echo "	printf(\"%ld\\n\", s);"
		echo "	return 0;"
		echo "}"
	} >"$d/many.c"
	gcc -g -O2 -fcf-protection=none -o "$d/many.tmp" "$d/many.c"
	mv "$d/many.tmp" "$d/many"
	echo "$d/many"
}

# armed_detach MARK ARMED_FILE DETACH_FILE CMD...: runs CMD until MARK shows in its
# output (time to ARMED_FILE), then sends SIGINT and times its exit (DETACH_FILE).
armed_detach() {
	local mark=$1 fa=$2 fd_=$3 t0 ta="" ts t1 line pid fd rc=0
	shift 3
	t0=${EPOCHREALTIME/./}
	exec {fd}< <(exec env --default-signal=INT "$@" 2>&1)
	pid=$!
	while IFS= read -r line <&"$fd"; do
		printf '%s\n' "$line" >>"$LOG"
		[[ $line == *"$mark"* ]] && { ta=${EPOCHREALTIME/./}; break; }
	done
	# Wait 1 s before the signal (bpftrace's own tests do; not timed); the detach is
	# timed from the last SIGINT sent (see sigint_begin).
	sleep 1
	sigint_begin "$pid"
	cat <&"$fd" >>"$LOG"
	exec {fd}<&-
	wait "$pid" || rc=$?
	t1=${EPOCHREALTIME/./}
	sigint_end
	ts=$SIG_LAST
	if [ -z "$ta" ] || [ $rc -ne 0 ]; then
		log "failed ($rc, marker ${ta:+seen}${ta:-missing}): ${*:0:3}..."
		return 1
	fi
	us_to_ms $((ta - t0)) >>"$fa"
	us_to_ms $((t1 - ts)) >>"$fd_"
}

prog=$(build_prog)
line=$(grep -n HELPER_LINE "$WORK/attach/many.c" | cut -d: -f1)
gs_ok && { "$GSI" --index-dir "$GS_IDX" "$prog" >>"$LOG" 2>&1 || log "indexing '$prog' failed"; }
tbl_new armed
tbl_new detach
for n in "${SIZES[@]}"; do
	sf="$WORK/attach/script-$n.gs"
	for i in $(seq 0 $((n - 1))); do echo "trace f$i { print x; }"; done >"$sf"
	bt="BEGIN { printf(\"BENCH_READY\\n\"); }"
	probes=$(for i in $(seq 0 $((n - 1))); do printf 'uprobe:%s:f%d,' "$prog" "$i"; done)
	bt="${probes%,} { } $bt"
	ga=$(samples "$n.gs.armed"); gd=$(samples "$n.gs.detach")
	ba=$(samples "$n.bt.armed"); bd=$(samples "$n.bt.detach")
	btruns=$RUNS; [ "$n" -ge 1000 ] && btruns=$BT_BIG_RUNS
	for r in $(seq "$RUNS"); do
		if gs_ok; then
			armed_detach BENCH_READY "$ga" "$gd" "$GS" -t "$prog" --script-file "$sf" \
				--ready-marker BENCH_READY || true
		fi
		if [ "$r" -le "$btruns" ]; then
			BPFTRACE_MAX_PROBES=4096 armed_detach BENCH_READY "$ba" "$bd" bpftrace -B line -e "$bt" || true
		fi
	done
	gsnote=""; gs_ok || gsnote="tracer not built"
	btnote=""; [ "$btruns" -lt "$RUNS" ] && btnote="$btruns run(s): single uprobes detach slowly"
	tbl_add armed "$n functions" "ghostscope" "$ga" "$gsnote"
	tbl_add armed "$n functions" "bpftrace" "$ba" "$btnote"
	tbl_add detach "$n functions" "ghostscope" "$gd" "$gsnote"
	tbl_add detach "$n functions" "bpftrace" "$bd" "$btnote"
done

# One line of the inlined helper: 1000 copies, one trace statement.
ia=$(samples "inline.gs.armed"); id=$(samples "inline.gs.detach")
for r in $(seq "$RUNS"); do
	gs_ok || break
	armed_detach BENCH_READY "$ia" "$id" "$GS" -t "$prog" -s "trace many.c:$line { print w; }" \
		--ready-marker BENCH_READY || true
done
tbl_add armed "many.c:$line (inlined, $NFUNC copies)" "ghostscope" "$ia" "one trace statement"
tbl_add detach "many.c:$line (inlined, $NFUNC copies)" "ghostscope" "$id" "one trace statement"

# Functions matched by one wildcard pattern: the generated program's f* (1000 functions)
# and nginx's ngx_http_*_handler; bpftrace with the same wildcard.
ngx=$(nginx_build)
gs_ok && { "$GSI" --index-dir "$GS_IDX" "$ngx" >>"$LOG" 2>&1 || log "indexing '$ngx' failed"; }
for spec in "f* ($NFUNC functions)|$prog|f*|print x;" \
	    "nginx ngx_http_*_handler|$ngx|ngx_http_*_handler|print \"{}\", \$pc;"; do
	IFS='|' read -r label bin pat body <<<"$spec"
	ga=$(samples "pat-$pat.gs.armed"); gd=$(samples "pat-$pat.gs.detach")
	ba=$(samples "pat-$pat.bt.armed"); bd=$(samples "pat-$pat.bt.detach")
	btruns=$RUNS; [[ $pat == "f*" ]] && btruns=$BT_BIG_RUNS
	for r in $(seq "$RUNS"); do
		if gs_ok; then
			armed_detach BENCH_READY "$ga" "$gd" "$GS" -t "$bin" -s "trace $pat { $body }" \
				--ready-marker BENCH_READY || true
		fi
		if [ "$r" -le "$btruns" ]; then
			BPFTRACE_MAX_PROBES=4096 armed_detach BENCH_READY "$ba" "$bd" bpftrace -B line \
				-e "uprobe:$bin:$pat { } BEGIN { printf(\"BENCH_READY\\n\"); }" || true
		fi
	done
	npcs=$("$GS" -t "$bin" --dry-run -s "trace $pat { $body }" 2>/dev/null | grep -c '^probe ' || true)
	btnote=""; [ "$btruns" -lt "$RUNS" ] && btnote="$btruns run(s): single uprobes detach slowly"
	# bpftrace matches ELF symbols: its f* takes crt's frame_dummy (size 0) and refuses
	[ -s "$ba" ] || btnote="bpftrace failed (see $LOG; for f*: 'frame_dummy' size is 0)"
	tbl_add armed "pattern $label" "ghostscope" "$ga" "one trace statement, $npcs pcs"
	tbl_add armed "pattern $label" "bpftrace" "$ba" "$btnote"
	tbl_add detach "pattern $label" "ghostscope" "$gd" "one trace statement, $npcs pcs"
	tbl_add detach "pattern $label" "bpftrace" "$bd" "$btnote"
done

section_begin "Attach scaling (measure 3)"
section_add <<EOF
A generated program with $NFUNC noinline functions \`f0..f999\` (gcc -O2 -g); N trace
statements \`trace fI { print x; }\` in one \`--script-file\`, bpftrace with the same N
uprobes; then one wildcard trace statement (\`trace f* { }\`, and nginx's
\`ngx_http_*_handler\`) against bpftrace's same wildcard. "Armed": start until \`--ready-marker\` /
bpftrace's BEGIN output; "detach": SIGINT until the process exits. The last row traces one
source line of an always-inline helper that has $NFUNC copies. Times in ms.

### Time to armed

$(tbl_emit armed ms)

### Time to detach after SIGINT

$(tbl_emit detach ms)
EOF
section_end

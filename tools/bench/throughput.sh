#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Measure 5, event throughput: one print of three integers per hit, output to a file,
# 2 M hits; events/s delivered (from the program's start until the tool has written
# everything and exited), events lost (the tool's own count) and the traced program's
# cost per call; ghostscope vs bpftrace printf.
# Usage: throughput.sh [--quick] [--runs N]
. "$(dirname "$0")/common.sh"
bench_args "$@"
bench_deps "${PEERS_PKGS[@]}"
export GHOSTSCOPE_INDEX_DIR="$GS_IDX"
HITS=${GS_BENCH_HITS:-$([ "$QUICK" = 1 ] && echo 200000 || echo 2000000)}

build_emit() {
	local d="$WORK/throughput"
	mkdir -p "$d"
	cat >"$d/emit.c.new" <<'EOF'
/* generated: the throughput benchmark program */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
volatile long sink;
__attribute__((noinline)) void consume(long v) { sink += v; }
__attribute__((noinline)) long emit(long a, long b, long c)
{
	long s = a + b * 2 + c * 3;
	consume(s);
	return s;
}
int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000000, s = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n; i++)
		s += emit(i, i + 1, i + 2);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
	printf("ns_per_call %.1f\n", ns / n);
	return s == 42;
}
EOF
	cmp -s "$d/emit.c.new" "$d/emit.c" || mv "$d/emit.c.new" "$d/emit.c"
	[ "$d/emit" -nt "$d/emit.c" ] || gcc -g -O2 -fcf-protection=none -fno-omit-frame-pointer -o "$d/emit" "$d/emit.c"
	echo "$d/emit"
}

# stream RATE LOST PERCALL OUT MARK CMD...: starts CMD (stdout to OUT) and waits for MARK
# on its stderr, runs the program, sends SIGINT, waits for CMD to exit; appends events/s,
# the lost count (from the tool's stderr) and the program's us per call.
stream() {
	local rate=$1 lostf=$2 pc=$3 out=$4 mark=$5 fd pid line ok=0 t0 t1 err n lost prog
	shift 5
	err="$out.err"
	: >"$err"
	exec {fd}< <(exec env --default-signal=INT "$@" 2>&1 >"$out")
	pid=$!
	while IFS= read -r line <&"$fd"; do
		printf '%s\n' "$line" >>"$err"
		[[ $line == *"$mark"* ]] && { ok=1; break; }
	done
	t0=${EPOCHREALTIME/./}
	[ $ok = 1 ] && prog=$("$BIN" "$HITS")
	sigint_begin "$pid"
	cat <&"$fd" >>"$err"
	exec {fd}<&-
	wait "$pid" || true
	t1=${EPOCHREALTIME/./}
	sigint_end
	# A repeated SIGINT (bpftrace ignored the first) does not count against the tool.
	t1=$((t1 - (SIG_LAST - SIG_FIRST)))
	cat "$err" >>"$LOG"
	[ $ok = 1 ] || { log "no '$mark' from: $*"; return 1; }
	n=$(grep -cE '^-?[0-9]+ -?[0-9]+ -?[0-9]+$' "$out" || true)
	# ghostscope: "ghostscope: N events, M lost"; bpftrace: "Lost N events".
	lost=$(sed -n -e 's/^ghostscope: [0-9]* events, \([0-9]*\) lost.*/\1/p' \
		-e 's/.*Lost \([0-9]*\) events.*/\1/p' "$err" | awk '{s += $1} END {print s + 0}')
	awk -v n="$n" -v us=$((t1 - t0)) 'BEGIN { printf "%.0f\n", n / (us / 1e6) }' >>"$rate"
	echo "$n $lost" >>"$lostf"
	awk -v p="${prog#ns_per_call }" 'BEGIN { printf "%.3f\n", p / 1000 }' >>"$pc"
	rm -f "$out"
}

BIN=$(build_emit)
gs_ok && { "$GSI" --index-dir "$GS_IDX" "$BIN" >>"$LOG" 2>&1 || log "indexing '$BIN' failed"; }
tbl_new rate
tbl_new cost
base=$(samples base)
for r in $(seq "$RUNS"); do
	out=$("$BIN" "$HITS") && awk -v p="${out#ns_per_call }" 'BEGIN { printf "%.3f\n", p / 1000 }' >>"$base"
done
gr=$(samples gs.rate); gl=$(samples gs.lost); gc=$(samples gs.cost)
br=$(samples bt.rate); bl=$(samples bt.lost); bc=$(samples bt.cost)
for r in $(seq "$RUNS"); do
	if gs_ok; then
		stream "$gr" "$gl" "$gc" "$WORK/throughput/gs.out" BENCH_READY "$GS" -t "$BIN" \
			--script-output plain -s 'trace emit { print "{} {} {}", a, b, c; }' \
			--ready-marker BENCH_READY || true
	fi
	# Fully buffered output (bpftrace's best case); its ready marker goes to stderr
	# through system(), which needs --unsafe.
	stream "$br" "$bl" "$bc" "$WORK/throughput/bt.out" BENCH_READY bpftrace --unsafe -B full \
		-e "uprobe:$BIN:emit { printf(\"%d %d %d\\n\", arg0, arg1, arg2); } BEGIN { system(\"echo BENCH_READY >&2\"); }" || true
done
# Notes: delivered and lost per run (min-max).
lostnote() {
	[ -s "$1" ] || { echo "no run"; return; }
	awk -v h="$HITS" '{ d[NR] = $1; l[NR] = $2 } END {
		s = ""; for (i = 1; i <= NR; i++) s = s (i > 1 ? ", " : "") d[i] "/" l[i] "/" (h - d[i] - l[i])
		print "delivered/lost/missing per run: " s }' "$1"
}
gsnote=""; gs_ok || gsnote="tracer not built"
tbl_add rate "$HITS hits" "ghostscope" "$gr" "${gsnote:-$(lostnote "$gl")}"
tbl_add rate "$HITS hits" "bpftrace" "$br" "$(lostnote "$bl")"
gs_script='trace emit { print "{} {} {}", a, b, c; }'
tbl_add cost "$HITS hits, unobserved" "no tool" "$base" ""
tbl_add cost "$HITS hits" "ghostscope" "$gc" "${gsnote:-$(probe_insn "$BIN" emit "$(gs_probe_pc "$BIN" "$gs_script")")}"
tbl_add cost "$HITS hits" "bpftrace" "$bc" "$(probe_insn "$BIN" emit "$(sym_addr "$BIN" emit)")"

section_begin "Event throughput (measure 5)"
section_add <<EOF
\`emit(long a, long b, long c)\` is called $HITS times; ghostscope prints \`"{} {} {}", a, b, c\`
(\`--script-output plain\`, stdout to a file), bpftrace \`printf("%d %d %d\\n", arg0, arg1,
arg2)\` (stdout to a file). Events/s = lines written / (program start until the tool has
exited after SIGINT, sent when the program ends). "lost" is each tool's own count (the
stderr summary); "missing" is what is neither delivered nor counted as lost.

### Events per second delivered (higher is better)

$(tbl_emit rate "events/s" higher)

### The traced program's cost per call (us)

$(tbl_emit cost "us/call")
EOF
section_end

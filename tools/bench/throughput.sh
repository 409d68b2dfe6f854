#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Measure 5, event throughput, with the floors it is bounded by, all in one run:
#  - the kernel floor: the traced program's cost per call under an EMPTY probe body
#    (ghostscope `trace emit { }`, bpftrace `{}`), and 1 / floor, the most hits one
#    thread can produce;
#  - one print of three integers per hit, output to a file: events/s delivered (lines
#    written over wall time, from the program's start until the tool has written
#    everything and exited), events lost (the tool's own count) and the cost per call;
#  - the same with 2 emitting threads, against the floor of 2 threads (empty bodies) and
#    the bound 2 / that floor;
#  - the BPF program's own time per hit (the kernel's bpf_stats, in a separate shorter
#    pass, since the statistics add their own clock reads to every hit);
#  - the reader's capacity: events delivered per second of the tool's own CPU time
#    (perf stat task-clock from armed to exit);
#  - an overwhelmed run (2 threads, a 64 KiB ring): delivered + lost must equal hits.
# Usage: throughput.sh [--quick] [--runs N]
. "$(dirname "$0")/common.sh"
bench_args "$@"
bench_deps "${PEERS_PKGS[@]}"
export GHOSTSCOPE_INDEX_DIR="$GS_IDX"
HITS=${GS_BENCH_HITS:-$([ "$QUICK" = 1 ] && echo 200000 || echo 2000000)}
SMALL_RING=65536

build_emit() {
	local d="$WORK/throughput"
	mkdir -p "$d"
	cat >"$d/emit.c.new" <<'EOF'
/* generated: the throughput benchmark program. Usage: emit CALLS [THREADS] */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
volatile long sink;
static long per_thread;
__attribute__((noinline)) void consume(long v) { sink += v; }
__attribute__((noinline)) long emit(long a, long b, long c)
{
	long s = a + b * 2 + c * 3;
	consume(s);
	return s;
}
static void *run(void *arg)
{
	long base = (long)arg, s = 0;
	for (long i = base; i < base + per_thread; i++)
		s += emit(i, i + 1, i + 2);
	return (void *)s;
}
int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000000, t = argc > 2 ? atol(argv[2]) : 1, s = 0;
	pthread_t th[64];
	struct timespec t0, t1;
	if (t < 1 || t > 64)
		return 2;
	per_thread = n / t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (t == 1) {
		s = (long)run((void *)0);
	} else {
		for (long i = 0; i < t; i++)
			pthread_create(&th[i], NULL, run, (void *)(i * per_thread));
		for (long i = 0; i < t; i++) {
			void *r;
			pthread_join(th[i], &r);
			s += (long)r;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
	/* Wall time per call of one thread: each thread makes per_thread calls. */
	printf("ns_per_call %.1f calls %ld\n", ns / per_thread, per_thread * t);
	return s == 42;
}
EOF
	cmp -s "$d/emit.c.new" "$d/emit.c" || mv "$d/emit.c.new" "$d/emit.c"
	[ "$d/emit" -nt "$d/emit.c" ] || gcc -g -O2 -pthread -fcf-protection=none -fno-omit-frame-pointer -o "$d/emit" "$d/emit.c"
	# The same program with a 5-byte nop at every function's entry, as hot-patchable
	# builds have it: the probe Linux 6.18 optimizes into a call (no trap).
	build_nop5 "$d/emit.c" "$d/emit-nop5" -pthread
}

# The samples of one case KEY: KEY.rate (events/s), KEY.lost ("delivered lost" per run),
# KEY.cost (us per call), KEY.cpu (events per second of the tool's CPU time), KEY.bpfns
# (the BPF programs' run time per run, ns, in the bpf_stats pass).
new_case() { local k; for k in rate lost cost cpu bpfns; do samples "$1.$k" >/dev/null; done; }
sfile() { echo "$WORK/samples/$MEASURE/$1.$2"; }

# stream KEY THREADS MARK CMD...: starts CMD (stdout to a file) and waits for MARK on its
# stderr, attaches perf stat to it, runs the program with THREADS threads, sends SIGINT,
# waits for CMD to exit; appends to KEY's samples.
stream() {
	local key=$1 threads=$2 mark=$3 fd pid line ok=0 t0 t1 err out n lost prog cpu pstat ppid=""
	shift 3
	out="$WORK/throughput/$key.out"
	err="$out.err"
	pstat="$out.cpu"
	: >"$err"
	rm -f "$pstat"
	exec {fd}< <(exec env --default-signal=INT "$@" 2>&1 >"$out")
	pid=$!
	while IFS= read -r line <&"$fd"; do
		printf '%s\n' "$line" >>"$err"
		[[ $line == *"$mark"* ]] && { ok=1; break; }
	done
	if [ $ok = 1 ]; then
		perf stat -x, -e task-clock -p "$pid" -o "$pstat" 2>>"$LOG" &
		ppid=$!
		sleep 0.3	# perf stat attaches
	fi
	t0=${EPOCHREALTIME/./}
	[ $ok = 1 ] && prog=$("$PROG" "${HITS_NOW:-$HITS}" "$threads")
	# bpf_stats pass: the run time and run count of the tool's programs, from the
	# fdinfo of its program fds, before it detaches.
	if [ -n "${STATS_PASS:-}" ] && [ $ok = 1 ]; then
		cat /proc/"$pid"/fdinfo/* 2>/dev/null | awk '$1 == "run_time_ns:" { t += $2 }
			$1 == "run_cnt:" { c += $2 } END { if (c) printf "%.0f\n", t / c }' \
			>>"$(sfile "$key" bpfns)"
	fi
	sigint_begin "$pid"
	cat <&"$fd" >>"$err"
	exec {fd}<&-
	wait "$pid" || true
	t1=${EPOCHREALTIME/./}
	sigint_end
	[ -n "$ppid" ] && { wait "$ppid" 2>/dev/null || true; }
	# A repeated SIGINT (bpftrace ignored the first) does not count against the tool.
	t1=$((t1 - (SIG_LAST - SIG_FIRST)))
	{ echo "== $key: $*"; cat "$err"; } >>"$LOG"
	[ $ok = 1 ] || { log "no '$mark' from: $*"; return 1; }
	[ -n "${STATS_PASS:-}" ] && { rm -f "$out"; return 0; }
	n=$(grep -cE '^-?[0-9]+ -?[0-9]+ -?[0-9]+$' "$out" || true)
	# ghostscope: "ghostscope: N events, M lost"; bpftrace: "Lost N events".
	lost=$(sed -n -e 's/^ghostscope: [0-9]* events, \([0-9]*\) lost.*/\1/p' \
		-e 's/.*Lost \([0-9]*\) events.*/\1/p' "$err" | awk '{s += $1} END {print s + 0}')
	awk -v n="$n" -v us=$((t1 - t0)) 'BEGIN { printf "%.0f\n", n / (us / 1e6) }' >>"$(sfile "$key" rate)"
	echo "$n $lost" >>"$(sfile "$key" lost)"
	prog=${prog#ns_per_call }
	awk -v p="${prog%% *}" 'BEGIN { printf "%.3f\n", p / 1000 }' >>"$(sfile "$key" cost)"
	cpu=$(awk -F, '$3 == "task-clock" { print $1; exit }' "$pstat" 2>/dev/null)
	if [ -n "$cpu" ] && [ "$n" -gt 0 ]; then
		awk -v n="$n" -v ms="$cpu" 'BEGIN { printf "%.0f\n", n / (ms / 1000) }' >>"$(sfile "$key" cpu)"
	fi
	rm -f "$out"
}

# lostnote KEY: "delivered/lost/missing per run" (missing: neither delivered nor counted).
lostnote() {
	local f
	f=$(sfile "$1" lost)
	[ -s "$f" ] || { echo "no run"; return; }
	awk -v h="$HITS" '{ d[NR] = $1; l[NR] = $2 } END {
		s = ""; for (i = 1; i <= NR; i++) s = s (i > 1 ? ", " : "") d[i] "/" l[i] "/" (h - d[i] - l[i])
		print "delivered/lost/missing per run: " s }' "$f"
}

build_emit
BIN="$WORK/throughput/emit"
BIN5="$WORK/throughput/emit-nop5"
for b in "$BIN" "$BIN5"; do
	gs_ok && { "$GSI" --index-dir "$GS_IDX" "$b" >>"$LOG" 2>&1 || log "indexing '$b' failed"; }
done
GS_PRINT='trace emit { print "{} {} {}", a, b, c; }'
# bpftrace's ready marker goes to stderr through system(), which needs --unsafe.
BT_READY='BEGIN { system("echo BENCH_READY >&2"); }'
# Cases on the plain build, then (suffix n) on the nop5 build.
CASES=(gs.empty bt.empty gs.empty2 bt.empty2 gs.1 bt.1 gs.2 bt.2 gs.over
	gs.emptyn bt.emptyn gs.empty2n bt.empty2n gs.1n bt.1n gs.2n bt.2n)
for c in "${CASES[@]}"; do new_case "$c"; done
base=$(samples base); base5=$(samples base5)
bound=$(samples bound); bound5=$(samples bound5)
bound2=$(samples bound2); bound25=$(samples bound25)

run_case() {
	local c=${1%n} th
	PROG=$BIN
	[ "$c" != "$1" ] && PROG=$BIN5
	th=${c#*.}
	case $c in
	gs.empty|gs.empty2) th=${c#gs.empty}; gs_ok && stream "$1" "${th:-1}" BENCH_READY "$GS" -t "$PROG" \
		--script-output plain -s 'trace emit { }' --ready-marker BENCH_READY ;;
	bt.empty|bt.empty2) th=${c#bt.empty}; stream "$1" "${th:-1}" BENCH_READY bpftrace --unsafe -B full \
		-e "uprobe:$PROG:emit { } $BT_READY" ;;
	gs.1|gs.2) gs_ok && stream "$1" "$th" BENCH_READY "$GS" -t "$PROG" --script-output plain \
		-s "$GS_PRINT" --ready-marker BENCH_READY ;;
	bt.1|bt.2) stream "$1" "$th" BENCH_READY bpftrace --unsafe -B full \
		-e "uprobe:$PROG:emit { printf(\"%d %d %d\\n\", arg0, arg1, arg2); } $BT_READY" ;;
	gs.over) gs_ok && stream "$1" 2 BENCH_READY "$GS" -t "$PROG" --script-output plain \
		-s "$GS_PRINT" --ready-marker BENCH_READY --ringbuf-size "$SMALL_RING" ;;
	esac
}

# unobserved FILE BIN: appends BIN's unobserved cost per call (us) to FILE.
unobserved() {
	local out
	out=$("$2" "$HITS") && { out=${out#ns_per_call }; awk -v p="${out%% *}" 'BEGIN { printf "%.4f\n", p / 1000 }' >>"$1"; }
}

"$BIN" "$HITS" >/dev/null	# warm
"$BIN5" "$HITS" >/dev/null
for r in $(seq "$RUNS"); do
	unobserved "$base" "$BIN"
	unobserved "$base5" "$BIN5"
	for c in "${CASES[@]}"; do run_case "$c" || true; done
	# This run's floors: the cheaper of the two empty probes, with 1 and with 2
	# threads; the bounds are 1 / floor and 2 / floor of 2 threads.
	for sfx in "" n; do
		for th in 1 2; do
			k=""; [ $th = 2 ] && k=2
			fl=$(for c in gs.empty$k$sfx bt.empty$k$sfx; do tail -n 1 "$(sfile "$c" cost)" 2>/dev/null; done |
				sort -g | head -1)
			case $th$sfx in 1) bf=$bound ;; 1n) bf=$bound5 ;; 2) bf=$bound2 ;; 2n) bf=$bound25 ;; esac
			[ -n "$fl" ] && awk -v f="$fl" -v t=$th 'BEGIN { if (f > 0) printf "%.0f\n", t * 1e6 / f }' >>"$bf"
		done
	done
done
# The bpf_stats pass: the programs' own time per hit, on the trapped build, 3 runs of
# a tenth of the hits. kernel.bpf_stats_enabled is restored afterwards.
STATS_CASES=(gs.empty bt.empty gs.1 bt.1 gs.empty2 bt.empty2 gs.2 bt.2)
stats_old=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo 0)
if sysctl -q -w kernel.bpf_stats_enabled=1 2>>"$LOG"; then
	# restored however the pass ends (an interrupt too): it costs every BPF program
	trap 'sysctl -q -w kernel.bpf_stats_enabled="$stats_old" 2>/dev/null || true' EXIT
	for r in 1 2 3; do
		for c in "${STATS_CASES[@]}"; do
			STATS_PASS=1 HITS_NOW=$((HITS / 10)) run_case "$c" || true
		done
	done
	sysctl -q -w kernel.bpf_stats_enabled="$stats_old" 2>>"$LOG" || true
	trap - EXIT
fi

gsnote=""; gs_ok || gsnote="tracer not built"
tbl_new cost
tbl_new rate
tbl_new cpu
tbl_new bpfns
for sfx in "" n; do
	bin=$BIN; bl=$base; bd=$bound; lbl=""
	if [ -n "$sfx" ]; then bin=$BIN5; bl=$base5; bd=$bound5; lbl="nop5 build: "; fi
	tbl_add cost "${lbl}unobserved" "no tool" "$bl" ""
	tbl_add cost "${lbl}empty probe body (the floor)" "ghostscope \`trace emit { }\`" "$(sfile gs.empty$sfx cost)" \
		"${gsnote:-$(probe_insn "$bin" emit "$(gs_probe_pc "$bin" 'trace emit { }')")}"
	tbl_add cost "${lbl}empty probe body (the floor)" "bpftrace \`{ }\`" "$(sfile bt.empty$sfx cost)" \
		"$(probe_insn "$bin" emit "$(sym_addr "$bin" emit)")"
	tbl_add cost "${lbl}empty probe body, 2 threads (their floor)" "ghostscope \`trace emit { }\`" \
		"$(sfile gs.empty2$sfx cost)" "$gsnote"
	tbl_add cost "${lbl}empty probe body, 2 threads (their floor)" "bpftrace \`{ }\`" "$(sfile bt.empty2$sfx cost)" ""
	for th in 1 2; do
		w="thread"; [ $th = 2 ] && w="threads"
		tbl_add cost "${lbl}print a, b, c; $th $w" "ghostscope" "$(sfile gs.$th$sfx cost)" "$gsnote"
		tbl_add cost "${lbl}print a, b, c; $th $w" "bpftrace" "$(sfile bt.$th$sfx cost)" ""
		[ $th = 1 ] && tbl_add rate "${lbl}1 thread" "bound: 1 / floor" "$bd" "the most hits one thread produces"
		if [ $th = 2 ]; then
			b2=$bound2; [ -n "$sfx" ] && b2=$bound25
			tbl_add rate "${lbl}2 threads" "bound: 2 / floor of 2 threads" "$b2" \
				"the most hits two threads produce under empty probes"
		fi
		tbl_add rate "${lbl}$th $w" "ghostscope" "$(sfile gs.$th$sfx rate)" "${gsnote:-$(lostnote gs.$th$sfx)}"
		tbl_add rate "${lbl}$th $w" "bpftrace" "$(sfile bt.$th$sfx rate)" "$(lostnote bt.$th$sfx)"
		tbl_add cpu "${lbl}$th $w" "ghostscope" "$(sfile gs.$th$sfx cpu)" "$gsnote"
		tbl_add cpu "${lbl}$th $w" "bpftrace" "$(sfile bt.$th$sfx cpu)" ""
	done
done
tbl_add rate "2 threads, $SMALL_RING-byte ring (overwhelmed)" "ghostscope" "$(sfile gs.over rate)" \
	"${gsnote:-$(lostnote gs.over)}"
tbl_add cpu "2 threads, $SMALL_RING-byte ring (overwhelmed)" "ghostscope" "$(sfile gs.over cpu)" "$gsnote"
for c in empty 1 empty2 2; do
	case $c in empty) g="empty body, 1 thread" ;; empty2) g="empty body, 2 threads" ;;
	1) g="print a, b, c; 1 thread" ;; 2) g="print a, b, c; 2 threads" ;; esac
	tbl_add bpfns "$g" "ghostscope" "$(sfile gs.$c bpfns)" "$gsnote"
	tbl_add bpfns "$g" "bpftrace" "$(sfile bt.$c bpfns)" ""
done

# The per-probe loss lines of the last overwhelmed run, as the tool printed them.
overlines=$(grep -E '^ghostscope: (probe [0-9]+ .*events lost|[0-9]+ events, [0-9]+ lost)' \
	"$WORK/throughput/gs.over.out.err" 2>/dev/null | sed 's/^/    /')

section_begin "Event throughput (measure 5)"
section_add <<EOF
\`emit(long a, long b, long c)\` is called $HITS times in all, by 1 or 2 threads;
ghostscope prints \`"{} {} {}", a, b, c\` (\`--script-output plain\`, stdout to a file),
bpftrace \`printf("%d %d %d\\n", arg0, arg1, arg2)\` (\`-B full\`, stdout to a file).
Events/s = lines written / (program start until the tool has exited after SIGINT, sent
when the program ends). "lost" is each tool's own count (its stderr summary); "missing"
is what is neither delivered nor counted as lost (hits - delivered - lost). The floor is
the cost per call under an empty probe body: what the kernel's uprobe path costs (trap,
emulated \`push\`, a BPF program that does nothing), which no tracer can go below; 1 /
floor is then the most events one thread can produce. The "nop5 build" rows run the same
program built with a 5-byte nop at each function's entry (gcc -pg -mfentry -mnop-mcount,
as hot-patchable builds have it): Linux 6.18 rewrites a probed 5-byte nop, after its first
hit, into a call to the kernel's uprobe trampoline, which enters the kernel by a syscall
instead of an int3 trap. Both tools probe \`emit\`'s entry there.

### The traced program's cost per call (us; with 2 threads, each thread's wall time per call)

$(tbl_emit cost "us/call")

### Events per second delivered (higher is better)

$(tbl_emit rate "events/s" higher)

### Reader capacity: events delivered per second of the tool's own CPU time (higher is better)

The tool's CPU time (user + system, perf stat task-clock) from armed until it exits:
decoding, formatting, writing, its wakeups and its detach.

$(tbl_emit cpu "events/CPU-s" higher)

### The BPF program's own time per hit (ns, trapped build)

The kernel's bpf_stats (\`kernel.bpf_stats_enabled\`: run time and count of each program,
read from the tool's program fds before it detaches), in a separate pass of $((HITS / 10)) hits
and 3 runs, since the statistics add two clock reads to every hit. This is the part of a
hit the tracer's program decides; the rest is the kernel's trap and uprobe path.
ghostscope writes each CPU's events to that CPU's own ring buffer (merged in order by
its reader), so two threads do not contend for one ring's lock and producer position.

$(tbl_emit bpfns "ns/hit")

Loss report of the last overwhelmed run (stderr):

$overlines
EOF
section_end

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Measure 4, per-hit cost: a hot function called 200 000 times by a program that times its
# own loop (clock_gettime), unobserved and under a probe whose filter is never true:
# ghostscope, bpftrace (same filter), perf probe + perf record (same filter). Reports
# microseconds per hit over the unobserved run, and the instruction at each tool's probe
# address (the kernel emulates push/nop/jmp/call, ~5 us here; it single-steps the rest).
# The floor rows probe the same address with an EMPTY body (ghostscope `trace hot { }`,
# bpftrace `{ }`): the kernel's own cost per hit, which a filter can only add to.
# Usage: perhit.sh [--quick] [--runs N]
. "$(dirname "$0")/common.sh"
bench_args "$@"
bench_deps "${PEERS_PKGS[@]}"
ensure_tracefs || log "tracefs is missing: perf rows will be empty"
export GHOSTSCOPE_INDEX_DIR="$GS_IDX"
CALLS=${GS_BENCH_CALLS:-200000}
MAGIC=12345678

# hot(): at -O2 it saves a callee-saved register first (entry: push), at -O0 it sets up a
# frame (entry: push %rbp); after gcc's prologue both start with a mov. The nop5 build is
# -O2 with a 5-byte nop at every function's entry, as hot-patchable builds have it
# (-pg -mfentry -mnop-mcount, which needs -fno-pie): the probe Linux 6.18 optimizes.
build_hot() {
	local d="$WORK/perhit" o
	mkdir -p "$d"
	cat >"$d/hot.c.new" <<'EOF'
/* generated: the per-hit benchmark program */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
volatile long sink;
__attribute__((noinline)) void consume(long v) { sink += v; }
__attribute__((noinline)) long hot(long x)
{
	long a = x * 3 + 1;
	consume(a);
	return a + x;
}
int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200000, s = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n; i++)
		s += hot(i);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
	printf("ns_per_call %.1f\n", ns / n);
	return s == 42;
}
EOF
	cmp -s "$d/hot.c.new" "$d/hot.c" || mv "$d/hot.c.new" "$d/hot.c"
	for o in O2 O0; do
		[ "$d/hot-$o" -nt "$d/hot.c" ] ||
			gcc -g -"$o" -fcf-protection=none -fno-omit-frame-pointer -o "$d/hot-$o" "$d/hot.c"
	done
	build_nop5 "$d/hot.c" "$d/hot-nop5"
}

# run_hot FILE BIN: runs BIN, appends its ns per call to FILE.
run_hot() {
	local out
	out=$("$2" "$CALLS") || { log "'$2' failed"; return 1; }
	echo "${out#ns_per_call }" >>"$1"
}

# with_marker MARK CMD... -- BIN FILE: starts CMD in the background, waits for MARK on its
# output, runs BIN (run_hot into FILE), then stops CMD with SIGINT and waits for it.
with_tool() {
	local mark=$1 file=$2 bin=$3 fd pid line ok=0 rc=0
	shift 3
	exec {fd}< <(exec env --default-signal=INT "$@" 2>&1)
	pid=$!
	while IFS= read -r line <&"$fd"; do
		printf '%s\n' "$line" >>"$LOG"
		[[ $line == *"$mark"* ]] && { ok=1; break; }
	done
	[ $ok = 1 ] && { run_hot "$file" "$bin" || rc=1; }
	sleep 1		# bpftrace misses a SIGINT right after BEGIN
	sigint_begin "$pid"
	cat <&"$fd" >>"$LOG"
	exec {fd}<&-
	wait "$pid" || true
	sigint_end
	[ $ok = 1 ] || { log "no '$mark' from: $*"; return 1; }
	return $rc
}

build_hot
tbl_new perhit
for o in O2 O0 nop5; do
	bin="$WORK/perhit/hot-$o"
	gs_ok && { "$GSI" --index-dir "$GS_IDX" "$bin" >>"$LOG" 2>&1 || log "indexing '$bin' failed"; }
	gs_script="trace hot { if x == $MAGIC { print x; } }"
	bt="uprobe:$bin:hot /arg0 == $MAGIC/ { printf(\"%d\\n\", arg0); } BEGIN { printf(\"BENCH_READY\\n\"); }"
	perf_probe_del
	perf_probe_add "$bin" "hot x" >>"$LOG" 2>&1 || log "perf probe on '$bin' failed"

	base=$(samples "$o.base"); g=$(samples "$o.gs"); b=$(samples "$o.bt"); p=$(samples "$o.perf")
	g0=$(samples "$o.gs0"); b0=$(samples "$o.bt0")
	gr=$(samples "$o.gsr"); br=$(samples "$o.btr")
	gs_ret="trace hot:return { if x == $MAGIC { print \"{} {}\", x, \$retval; } }"
	bt_ret="uprobe:$bin:hot { @x[tid] = arg0; } uretprobe:$bin:hot { if (@x[tid] == $MAGIC) { printf(\"%d %d\\n\", @x[tid], retval); } delete(@x[tid]); } BEGIN { printf(\"BENCH_READY\\n\"); }"
	run_hot /dev/null "$bin"	# warm
	for r in $(seq "$RUNS"); do
		run_hot "$base" "$bin" || true
		if gs_ok; then
			with_tool BENCH_READY "$g" "$bin" "$GS" -t "$bin" -s "$gs_script" \
				--ready-marker BENCH_READY || true
		fi
		with_tool BENCH_READY "$b" "$bin" bpftrace -B line -e "$bt" || true
		if gs_ok; then
			with_tool BENCH_READY "$g0" "$bin" "$GS" -t "$bin" -s 'trace hot { }' \
				--ready-marker BENCH_READY || true
		fi
		with_tool BENCH_READY "$b0" "$bin" bpftrace -B line \
			-e "uprobe:$bin:hot { } BEGIN { printf(\"BENCH_READY\\n\"); }" || true
		if gs_ok; then
			with_tool BENCH_READY "$gr" "$bin" "$GS" -t "$bin" -s "$gs_ret" \
				--ready-marker BENCH_READY || true
		fi
		with_tool BENCH_READY "$br" "$bin" bpftrace -B line -e "$bt_ret" || true
		out=$(perf record -q -e gsbench:ev0 --filter "x == $MAGIC" -o "$WORK/perhit/perf.data" \
			-- "$bin" "$CALLS" 2>>"$LOG") && echo "${out#ns_per_call }" >>"$p" ||
			log "perf record failed"
	done
	perf_probe_del

	# Per hit = observed ns per call minus the unobserved median, in microseconds.
	m=$(median "$base")
	for f in "$g" "$b" "$p" "$g0" "$b0" "$gr" "$br"; do
		awk -v m="$m" '{ printf "%.3f\n", ($1 - m) / 1000 }' "$f" >"$f.us"
	done
	awk '{ printf "%.4f\n", $1 / 1000 }' "$base" >"$base.us"

	# The instruction each tool probes.
	perf_probe_add "$bin" "hot x" >>"$LOG" 2>&1 || true
	perf_off=$(sed -n "s|^p:gsbench/ev0 $bin:\(0x[0-9a-f]*\).*|\1|p" /sys/kernel/tracing/uprobe_events 2>/dev/null)
	perf_probe_del
	perf_pc=""; [ -n "$perf_off" ] && perf_pc=$(off_to_vaddr "$bin" "$perf_off")
	gsd=$(probe_insn "$bin" hot "$(gs_probe_pc "$bin" "$gs_script")")
	btd=$(probe_insn "$bin" hot "$(sym_addr "$bin" hot)")
	pd=$(probe_insn "$bin" hot "$perf_pc")
	label="-$o"; [ "$o" = nop5 ] && label="-O2, 5-byte nop entry"
	tbl_add perhit "hot() $label, unobserved" "no tool (us per call)" "$base.us" ""
	tbl_add perhit "hot() $label, empty body (floor)" "ghostscope \`trace hot { }\`" "$g0.us" \
		"$(probe_insn "$bin" hot "$(gs_probe_pc "$bin" 'trace hot { }')")$(gs_ok || echo '; tracer not built')"
	tbl_add perhit "hot() $label, empty body (floor)" "bpftrace \`{ }\`" "$b0.us" "$btd"
	tbl_add perhit "hot() $label" "ghostscope" "$g.us" "$gsd$(gs_ok || echo '; tracer not built')"
	tbl_add perhit "hot() $label" "bpftrace" "$b.us" "$btd"
	tbl_add perhit "hot() $label" "perf probe + perf record" "$p.us" "$pd"
	tbl_add perhit "hot() $label, on return" "ghostscope \`trace hot:return\`" "$gr.us" \
		"entry save at $(probe_insn "$bin" hot "$(gs_save_pc "$bin" "$gs_ret")")$(gs_ok || echo '; tracer not built')"
	tbl_add perhit "hot() $label, on return" "bpftrace uprobe + uretprobe" "$br.us" "uprobe at $btd"
done

section_begin "Per-hit cost (measure 4)"
section_add <<EOF
A program calls \`hot(long x)\` $CALLS times and times its own loop; each tool probes
\`hot\` with a filter that is never true (\`x == $MAGIC\`): ghostscope \`trace hot { if x ==
$MAGIC { print x; } }\`, bpftrace \`uprobe:BIN:hot /arg0 == $MAGIC/ { printf(...) }\`, perf
\`perf probe -x BIN 'hot x'\` + \`perf record --filter 'x == $MAGIC'\`. Figures are microseconds
per hit over the unobserved median (the "unobserved" rows give the cost of one call with no
tool); the "empty body (floor)" rows are the same probes with nothing in them, the kernel's
cost per hit that the filter rows can only add to. The "on return" rows read \`x\` when
\`hot\` returns, with the same filter: ghostscope \`trace hot:return { if x == $MAGIC {
print "{} {}", x, \$retval; } }\` (its hidden probe saves \`x\` at the entry), bpftrace an
entry uprobe storing \`arg0\` in a map by thread and a uretprobe reading and deleting it;
perf probe cannot read a parameter at a return. The note gives the probed instruction:
the kernel emulates push/nop/jmp/call and single-steps anything else (an extra trap).
A 5-byte nop at the probe (the nop5 build: gcc -pg -mfentry -mnop-mcount, as
hot-patchable builds are compiled) is one Linux 6.18 rewrites, after the first hit, into a
call to its uprobe trampoline, which enters the kernel by a syscall instead of a trap;
ghostscope moves a function probe to such a nop when the values the script reads are the
same there, and every tool that probes the function's entry gets it too.
On this VM the floor of an emulated hit is about 5 us in these runs: a system-wide
profile of an empty-body run (\`perf record -a -g\`) puts 40% of all samples in the
hypervisor's interrupt-enable call (\`pvm_irq_enable\`) on the int3 exception's return
to user mode, a cost every uprobe tool pays alike.

$(tbl_emit perhit "us/hit")
EOF
section_end

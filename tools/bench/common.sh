# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034
# Sourced by the benchmark scripts: paths, the nginx build, statistics helpers.
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=${GS_BENCH_WORK:-$TOP/bench/work}
GS="$TOP/build/ghostscope"
GSI="$TOP/build/ghostscope-index"
mkdir -p "$WORK"

# Installs Debian packages the benchmarks need (idempotent).
bench_deps() {
	local missing=()
	for p in "$@"; do
		dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -q '^installed$' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Builds nginx from Debian's orig tarball with -g -O2; prints the binary's path.
nginx_build() {
	local bin="$WORK/nginx/objs/nginx"
	if [ -x "$bin" ]; then echo "$bin"; return; fi
	if ! ls "$WORK"/nginx_*.orig.tar.gz >/dev/null 2>&1; then
		if ! grep -rqs '^Types: deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src' /etc/apt/sources.list; then
			sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
				>/etc/apt/sources.list.d/ghostscope-deb-src.sources
			apt-get update -qq >/dev/null
		fi
		(cd "$WORK" && apt-get source --download-only nginx >/dev/null 2>&1)
	fi
	bench_deps libpcre2-dev zlib1g-dev libssl-dev
	rm -rf "$WORK/nginx" && mkdir -p "$WORK/nginx"
	tar -xzf "$WORK"/nginx_*.orig.tar.gz -C "$WORK/nginx" --strip-components=1
	(cd "$WORK/nginx" && ./configure --with-cc-opt='-g -O2' --with-ld-opt='-Wl,--build-id' \
		--prefix="$WORK/nginx-run" >/dev/null && make -j"$(nproc)" >/dev/null 2>&1)
	echo "$bin"
}

# median_ms FILE: median, min and max of the numbers (ms) in FILE, one per line.
stats() {
	sort -n "$1" | awk '{a[NR]=$1} END {m = NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; printf "%.1f (%.1f-%.1f)", m, a[1], a[NR]}'
}
median() {
	sort -n "$1" | awk '{a[NR]=$1} END {m = NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; printf "%.1f", m}'
}
now_ns() { date +%s%N; }

# ---- options, paths and the tools under test ---------------------------------------------
# Every measure takes: --quick (2 runs, smaller sizes: a smoke check), --runs N.
RUNS=${GS_BENCH_RUNS:-5}
QUICK=0
bench_args() {
	while [ $# -gt 0 ]; do
		case "$1" in
		--quick) QUICK=1; [ -n "${GS_BENCH_RUNS:-}" ] || RUNS=2 ;;
		--runs) RUNS=$2; shift ;;
		*) echo "usage: $0 [--quick] [--runs N]" >&2; exit 2 ;;
		esac
		shift
	done
}
MEASURE=$(basename "$0" .sh)
TABLES="$WORK/tables"
LOGS="$WORK/logs"
mkdir -p "$TABLES" "$LOGS"
LOG="$LOGS/$MEASURE.log"
# The warm index cache shared by the measures (cold.sh uses fresh ones).
GS_IDX="$WORK/index"
PY_DBG=/usr/bin/python3.11d
PY_REL=/usr/bin/python3.11
PEERS_PKGS=(gdb bpftrace linux-perf python3.11-dbg time binutils gcc make)

log() { printf '%s\n' "$*" >>"$LOG"; printf '%s: %s\n' "$MEASURE" "$*" >&2; }

# gs_ok: the tracer and the indexer are built and start.
gs_ok() { [ -x "$GS" ] && [ -x "$GSI" ] && "$GS" --help >/dev/null 2>&1; }

# py_rel_debug: the separate debug file of the release python3.11 (from python3.11-dbg).
py_rel_debug() {
	local id
	id=$(readelf -n "$PY_REL" | sed -n 's/.*Build ID: *//p')
	echo "/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug"
}

# perf probe needs tracefs (and uprobe_events in it).
ensure_tracefs() {
	[ -e /sys/kernel/tracing/uprobe_events ] && return 0
	mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || true
	[ -e /sys/kernel/tracing/uprobe_events ]
}

drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }

# ---- timing -----------------------------------------------------------------------------
# All times come from bash's $EPOCHREALTIME (no fork per timestamp), in microseconds.
now_us() { local t=$EPOCHREALTIME; echo "${t/./}"; }
us_to_ms() { printf '%d.%03d\n' $(($1 / 1000)) $(($1 % 1000)); }

# time_into FILE CMD...: runs CMD (output to the log), appends its wall time in ms to
# FILE when it exits 0; returns CMD's status.
time_into() {
	local f=$1 t0 t1 rc=0
	shift
	t0=${EPOCHREALTIME/./}
	"$@" >>"$LOG" 2>&1 || rc=$?
	t1=${EPOCHREALTIME/./}
	[ $rc -eq 0 ] && us_to_ms $((t1 - t0)) >>"$f"
	[ $rc -eq 0 ] || log "failed ($rc): $*"
	return $rc
}

# The start-up timer (tools/bench/marker.c), built once; marker_run falls back to bash.
MARKER="$WORK/marker"
if [ ! -x "$MARKER" ] || [ "$TOP/tools/bench/marker.c" -nt "$MARKER" ]; then
	cc -O2 -o "$MARKER" "$TOP/tools/bench/marker.c" 2>/dev/null || rm -f "$MARKER"
fi

# marker_run MARKER ARMED_FILE TOTAL_FILE CMD...: runs CMD, whose stdout+stderr are read
# line by line; the time until a line holds MARKER goes to ARMED_FILE, the time until CMD
# exits to TOTAL_FILE (each only if CMD exits 0 and printed the marker).
marker_run() {
	local mark=$1 fa=$2 ft=$3 t0 ta="" t1 line pid fd rc=0 times
	shift 3
	if [ -x "$MARKER" ]; then
		times=$("$MARKER" "$mark" "$@" 2>&1 >>"$LOG") || rc=$?
		if [ $rc -ne 0 ] || [[ $times != [0-9]*\ [0-9]* ]]; then
			log "failed ($rc, marker: ${times:-none}): $*"
			return 1
		fi
		echo "${times% *}" >>"$fa"
		echo "${times#* }" >>"$ft"
		return 0
	fi
	t0=${EPOCHREALTIME/./}
	exec {fd}< <(exec "$@" 2>&1)
	pid=$!
	while IFS= read -r line <&"$fd"; do
		[ -z "$ta" ] && [[ $line == *"$mark"* ]] && ta=${EPOCHREALTIME/./}
		printf '%s\n' "$line" >>"$LOG"
	done
	exec {fd}<&-
	wait "$pid" || rc=$?
	t1=${EPOCHREALTIME/./}
	if [ $rc -ne 0 ] || [ -z "$ta" ]; then
		log "failed ($rc, marker ${ta:+seen}${ta:-missing}): $*"
		return 1
	fi
	us_to_ms $((ta - t0)) >>"$fa"
	us_to_ms $((t1 - t0)) >>"$ft"
}

# ---- peers --------------------------------------------------------------------------------
GDB=(gdb -nx -batch -iex 'set debuginfod enabled off' -iex 'set auto-load off')

# gdb_indexed BIN [DEBUGFILE]: prints "BIN DEBUGDIR" of a copy carrying .gdb_index (cached).
# With DEBUGFILE (a separate debug file) the index goes into a copy of the debug file,
# laid out by build-id under DEBUGDIR; otherwise DEBUGDIR is empty.
gdb_indexed() {
	local bin=$1 dbg=${2:-} name dir
	name=$(basename "$bin")
	dir="$WORK/gdb-index/$name"
	mkdir -p "$dir"
	if [ -z "$dbg" ]; then
		if [ ! -e "$dir/$name" ]; then
			cp "$bin" "$dir/$name.tmp"
			gdb-add-index "$dir/$name.tmp" >>"$LOG" 2>&1
			mv "$dir/$name.tmp" "$dir/$name"
		fi
		echo "$dir/$name"
	else
		local rel=${dbg#/usr/lib/debug/}
		if [ ! -e "$dir/debug/$rel" ]; then
			mkdir -p "$(dirname "$dir/debug/$rel")"
			cp "$dbg" "$dir/debug/$rel.tmp"
			gdb-add-index "$dir/debug/$rel.tmp" >>"$LOG" 2>&1
			mv "$dir/debug/$rel.tmp" "$dir/debug/$rel"
		fi
		echo "$bin $dir/debug"
	fi
}
# has_gdb_index FILE: the file carries a .gdb_index section.
has_gdb_index() { readelf -SW "$1" 2>/dev/null | grep -q '\.gdb_index'; }

# peer_gdb BIN FUNC [DEBUGDIR]: gdb sets the breakpoint and exits; fails if it did not.
peer_gdb() {
	local out
	out=$("${GDB[@]}" ${3:+-iex "set debug-file-directory $3"} -ex "break $2" "$1" 2>&1)
	printf '%s\n' "$out" >>"$LOG"
	[[ $out == *"Breakpoint 1 at"* ]] && [[ $out != *"No symbol table"* ]]
}

# perf_probe_add BIN SPEC: adds the uprobe event gsbench:ev<N> "SPEC" (function and arguments).
# perf_probe_del: deletes every event of that group.
perf_probe_add() { perf probe -q -x "$1" -a "gsbench:ev${3:-0}=$2"; }
perf_probe_del() { perf probe -q -d 'gsbench:*' >/dev/null 2>&1 || true; }

# ---- tables -------------------------------------------------------------------------------
# A table is a list of rows "group<TAB>tool<TAB>samples-file<TAB>note"; tbl_emit prints
# it as markdown with the median, min-max and the ratio to the best median of the group.
tbl_rows() { echo "$TABLES/$MEASURE.$1.rows"; }
tbl_new() { : >"$(tbl_rows "$1")"; }
# tbl_add TABLE GROUP TOOL SAMPLES NOTE
tbl_add() { printf '%s\t%s\t%s\t%s\n' "$2" "$3" "$4" "${5:-}" >>"$(tbl_rows "$1")"; }
# samples DIR NAME: a fresh samples file.
samples() { local f="$WORK/samples/$MEASURE/$1"; mkdir -p "$(dirname "$f")"; : >"$f"; echo "$f"; }

# tbl_emit TABLE UNIT [higher]: markdown table; "higher" when bigger numbers are better.
tbl_emit() {
	local rows unit=$2 better=${3:-lower}
	rows=$(tbl_rows "$1")
	echo "| binary / case | tool | median $unit | min-max | runs | vs best | note |"
	echo "|---|---|---:|---:|---:|---:|---|"
	local g t f n
	while IFS=$'\t' read -r g t f n; do
		if [ -s "$f" ]; then
			printf '%s\t%s\t%s\t%s\n' "$g" "$t" "$(sort -g "$f" | awk '{a[NR]=$1} END {m = NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; printf "%s|%s|%s|%d", m, a[1], a[NR], NR}')" "$n"
		else
			printf '%s\t%s\t-\t%s\n' "$g" "$t" "${n:-no successful run}"
		fi
	done <"$rows" | awk -F'\t' -v better="$better" '
		function f(x) { x += 0; return x >= 1000 ? sprintf("%.0f", x) : x >= 10 ? sprintf("%.1f", x) : x >= 0.1 || x <= 0 ? sprintf("%.2f", x) : sprintf("%.4f", x) }
		{ g[NR]=$1; t[NR]=$2; s[NR]=$3; n[NR]=$4
		  if ($3 != "-") { split($3, v, "|"); m = v[1] + 0
		    if (!($1 in best) || (better == "higher" ? m > best[$1] : m < best[$1])) best[$1] = m } }
		END { for (i = 1; i <= NR; i++) {
			if (s[i] == "-") { printf "| %s | %s | - | - | 0 | - | %s |\n", g[i], t[i], n[i]; continue }
			split(s[i], v, "|")
			ratio = "-"
			if (best[g[i]] > 0 && v[1] > 0) ratio = sprintf("%.2fx", better == "higher" ? best[g[i]] / v[1] : v[1] / best[g[i]])
			printf "| %s | %s | %s | %s-%s | %d | %s | %s |\n", g[i], t[i], f(v[1]), f(v[2]), f(v[3]), v[4], ratio, n[i] } }'
}

# table_file: where this measure writes its markdown section for REPORT.md.
table_file() { echo "$TABLES/$MEASURE.md"; }

# machine_header: date, kernel, CPU, cores, tool versions.
machine_header() {
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- machine: kernel $(uname -r), CPU $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1), $(nproc) cores, $(free -g | awk '/^Mem:/{print $2}') GiB RAM"
	echo "- peers: $(gdb --version | head -1), $(bpftrace --version 2>/dev/null), perf $(perf --version 2>/dev/null | awk '{print $3}')"
	echo "- ghostscope: $(git -C "$TOP" rev-parse --short HEAD 2>/dev/null)$(git -C "$TOP" diff --quiet 2>/dev/null || echo '+dirty'), $(gs_ok && echo built || echo 'NOT BUILT (its rows are empty)')"
}

# report_assemble: bench/REPORT.md from every measure's latest section.
report_assemble() {
	local r="$TOP/bench/REPORT.md" m
	{
		echo "# GhostScope benchmarks"
		echo
		echo "Generated by \`make bench\` (tools/bench/run-all.sh); each section says when and where"
		echo "it ran. Times are wall-clock medians with min-max over the runs; \"vs best\" is the"
		echo "ratio to the best tool of the same row group. Every tool runs in the same run on the"
		echo "same binaries."
		for m in ready cold attach perhit throughput memory; do
			[ -s "$TABLES/$m.md" ] && { echo; cat "$TABLES/$m.md"; }
		done
	} >"$r.tmp"
	mv "$r.tmp" "$r"
}

# section_begin TITLE: starts this measure's section (its header with the machine).
section_begin() {
	{
		echo "## $1"
		echo
		machine_header
		echo "- runs per row: $RUNS$([ "$QUICK" = 1 ] && echo ' (--quick)')"
		echo
	} >"$(table_file).tmp"
}
section_add() { cat >>"$(table_file).tmp"; }
section_end() { mv "$(table_file).tmp" "$(table_file)"; cat "$(table_file)"; report_assemble; }

# dwarf_mib FILE: MiB of .debug_* sections in FILE.
dwarf_mib() {
	local s=0 sz
	for sz in $(readelf -SW "$1" | sed -n 's/^ *\[ *[0-9]*\] \.debug_[a-z_]* *[A-Z_]* *[0-9a-f]* [0-9a-f]* \([0-9a-f]*\) .*/\1/p'); do
		s=$((s + 16#$sz))
	done
	echo $((s / 1048576))
}
# synth_build: the synthetic binary's path (built on first use, ~2 minutes).
synth_build() { GS_BENCH_WORK="$WORK" "$TOP/tools/bench/gen-synthetic.sh" "$WORK/synthetic"; }

# bench_targets: fills TARGETS with "name|binary|separate debug file|function|ghostscope
# prints|perf probe args" for the binaries of measures 1, 2 and 6 (the synthetic one only
# without --quick, or with GS_BENCH_SYNTH=1).
bench_targets() {
	local sb
	TARGETS=(
		"nginx|$(nginx_build)||ngx_http_handler|r.uri.len r.method|r->uri.len r->method"
		"python3.11d|$PY_DBG||PyObject_GetAttr|v.ob_refcnt|v->ob_refcnt"
		"python3.11 (release + debug file)|$PY_REL|$(py_rel_debug)|PyObject_GetAttr|v.ob_refcnt|v->ob_refcnt"
	)
	if [ "$QUICK" = 0 ] || [ -n "${GS_BENCH_SYNTH:-}" ]; then
		sb=$(synth_build)
		TARGETS+=("synthetic ($(dwarf_mib "$sb") MiB DWARF)|$sb||synth_target|r.uri.len r.method|r->uri.len r->method")
	fi
}

# gs_script FUNC "a b": the script "trace FUNC { print a; print b; }".
gs_script() {
	local s="trace $1 {" v
	for v in $2; do s+=" print $v;"; done
	echo "$s }"
}

# ---- probed instructions ----------------------------------------------------------------
# insn_at BIN VADDR: the instruction at VADDR ("push %rbx").
insn_at() {
	objdump -d --no-show-raw-insn --start-address=$(($2)) --stop-address=$(($2 + 16)) "$1" |
		awk '/^ *[0-9a-f]+:/ { sub(/^ *[0-9a-f]+:[ \t]*/, ""); gsub(/[ \t]+/, " "); print; exit }'
}
# off_to_vaddr BIN FILE_OFFSET: the virtual address of a file offset (PT_LOAD mapping).
off_to_vaddr() {
	readelf -lW "$1" | awk -v o=$(($2)) '$1 == "LOAD" {
		off = strtonum_($2); va = strtonum_($3); sz = strtonum_($5)
		if (o >= off && o < off + sz) { printf "0x%x\n", o - off + va; exit } }
		function strtonum_(h,   i, c, v) { v = 0; h = tolower(substr(h, 3))
			for (i = 1; i <= length(h); i++) { c = index("0123456789abcdef", substr(h, i, 1)) - 1; v = v * 16 + c }
			return v }'
}
# sym_addr BIN FUNC: the symbol's address.
sym_addr() { nm "$1" | awk -v f="$2" '$3 == f { print "0x" $1; exit }'; }
# insn_kind INSN: whether the kernel emulates it (push, nop, jmp, call) or single-steps it.
# build_nop5 SRC OUT [GCC FLAGS...]: OUT built -O2 with a 5-byte nop at every function's
# entry (gcc -pg -mfentry -mnop-mcount, which needs -fno-pie), as hot-patchable builds
# are: the probe Linux 6.18 optimizes. Compiled with -pg but linked without it: no
# profiling runtime, no gmon.out. Rebuilds only when SRC is newer.
build_nop5() {
	local src=$1 out=$2
	shift 2
	[ "$out" -nt "$src" ] && return 0
	gcc -g -O2 -pg -mfentry -mnop-mcount -fno-pie -fcf-protection=none -fno-omit-frame-pointer \
		"$@" -c -o "$out.o" "$src"
	gcc -no-pie "$@" -o "$out" "$out.o"
}
# insn_len BIN ADDR: the length in bytes of the instruction at ADDR.
insn_len() {
	objdump -d --start-address=$(($2)) --stop-address=$(($2 + 16)) "$1" |
		awk -F'\t' '/^ *[0-9a-f]+:/ { print split($2, b, " ") - (b[length(b)] == "" ? 1 : 0); exit }'
}
# insn_kind INSN LEN: how the kernel handles a uprobe hit there (tracer/insn.h); a nop of
# 5 bytes is one Linux 6.18 rewrites into a call to its uprobe trampoline after the first hit.
insn_kind() {
	case "$1" in
	nop*) [ "$2" = 5 ] && echo "5-byte nop: optimized into a call, no trap" || echo emulated ;;
	push*|jmp*|call*|j*) echo emulated ;;
	*) echo single-stepped ;;
	esac
}
# probe_insn BIN FUNC ADDR: "FUNC+N: `insn` (kind)" for a probe at ADDR.
probe_insn() {
	[ -n "$3" ] || { echo "probe address unknown"; return; }
	local entry i
	entry=$(sym_addr "$1" "$2")
	i=$(insn_at "$1" "$3")
	echo "$2+$(($3 - entry)): \`$i\` ($(insn_kind "$i" "$(insn_len "$1" "$3")"))"
}
# gs_probe_pc BIN SCRIPT: the pc of the tracer's first probe (from --dry-run).
gs_probe_pc() {
	gs_ok || return 0
	"$GS" -t "$1" -s "$2" --dry-run 2>>"$LOG" | sed -n 's/^ *pc \(0x[0-9a-f]*\),.*/\1/p' | head -1
}

# gs_save_pc BIN SCRIPT: the pc of the hidden entry save of a return probe in SCRIPT.
gs_save_pc() {
	gs_ok || return 0
	"$GS" -t "$1" -s "$2" --dry-run 2>>"$LOG" | sed -n '/entry save/,$p' |
		sed -n 's/^ *pc \(0x[0-9a-f]*\),.*/\1/p' | head -1
}

# ---- stopping a tool --------------------------------------------------------------------
# bpftrace 0.17 sometimes ignores a SIGINT, even seconds after its BEGIN output.
# sigint_begin PID: sends SIGINT and starts a watcher that repeats it every 2 s for as
# long as PID has not started to exit (its count of open fds, which drops as it closes
# each probe, is still the one it had at the first signal), and kills it after 10 minutes. SIG_FIRST and the file $SIG_LAST_FILE hold the
# times (us) of the first and the last signal. sigint_end: stops the watcher, sets SIG_LAST.
sigint_begin() {
	local pid=$1
	SIG_LAST_FILE="$WORK/last-sigint.$MEASURE"
	SIG_FIRST=${EPOCHREALTIME/./}
	echo "$SIG_FIRST" >"$SIG_LAST_FILE"
	kill -INT "$pid" 2>/dev/null || true
	(
		n0=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l); waited=0
		while [ -d "/proc/$pid" ] && [ $waited -lt 600 ]; do
			sleep 2; waited=$((waited + 2))
			n=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)
			[ "$n" = "$n0" ] || break	# exiting: leave it alone
			echo "${EPOCHREALTIME/./}" >"$SIG_LAST_FILE"
			kill -INT "$pid" 2>/dev/null && echo "SIGINT repeated (not exiting)" >>"$LOG"
		done
		while [ -d "/proc/$pid" ] && [ $waited -lt 600 ]; do sleep 2; waited=$((waited + 2)); done
		kill -KILL "$pid" 2>/dev/null && echo "no exit after SIGINT: killed" >>"$LOG"
	) &
	SIG_WATCHER=$!
}
sigint_end() {
	kill "$SIG_WATCHER" 2>/dev/null || true
	wait "$SIG_WATCHER" 2>/dev/null || true
	SIG_LAST=$(cat "$SIG_LAST_FILE")
}

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Generates and builds the synthetic benchmark binary: many compile units that each include
# the same large headers (as real programs do), so the binary carries >= 300 MiB of DWARF
# that mostly repeats, plus a few functions per unit and one traced function.
#
# Usage: gen-synthetic.sh [OUTDIR]    prints the binary's path; a no-op when it exists.
# Knobs: GS_SYNTH_MIB (DWARF target, default 300), GS_SYNTH_STRUCTS (structs per header).
set -euo pipefail
OUT=${1:-${GS_BENCH_WORK:-$(cd "$(dirname "$0")/../.." && pwd)/bench/work}/synthetic}
MIB=${GS_SYNTH_MIB:-300}
HEADERS=4
STRUCTS=${GS_SYNTH_STRUCTS:-1000}	# per header
MEMBERS=12
FUNCS=24			# per compile unit
BIN="$OUT/synth"
STAMP="$OUT/.built-$MIB-$STRUCTS-2"

if [ -x "$BIN" ] && [ -e "$STAMP" ]; then echo "$BIN"; exit 0; fi
rm -rf "$OUT" && mkdir -p "$OUT/src"
cd "$OUT/src"

# The shared headers: structs with integer, array, pointer and nested members, typedefs
# and enums. Compiled with -fno-eliminate-unused-debug-types, every unit carries them all.
for h in $(seq 0 $((HEADERS - 1))); do
	awk -v h="$h" -v n="$STRUCTS" -v m="$MEMBERS" 'BEGIN {
		printf "/* generated: shared types %d */\n#ifndef SYNTH_TYPES_%d_H\n#define SYNTH_TYPES_%d_H\n", h, h, h
		if (h > 0) printf "#include \"types_%d.h\"\n", h - 1
		printf "enum synth_kind_%d { SK%d_A, SK%d_B, SK%d_C, SK%d_D };\n", h, h, h, h, h
		for (i = 0; i < n; i++) {
			printf "struct s%d_%d {\n", h, i
			for (j = 0; j < m; j++) {
				k = (i * 7 + j) % 6
				if (k == 0) printf "\tint f%d;\n", j
				else if (k == 1) printf "\tunsigned long f%d;\n", j
				else if (k == 2) printf "\tchar f%d[%d];\n", j, 4 + j
				else if (k == 3 && i > 0) printf "\tstruct s%d_%d *f%d;\n", h, i - 1, j
				else if (k == 4 && i > 0) printf "\tstruct s%d_%d f%d;\n", h, (i * 13) % i, j
				else if (k == 5) printf "\tenum synth_kind_%d f%d;\n", h, j
				else printf "\tshort f%d;\n", j
			}
			printf "};\ntypedef struct s%d_%d s%d_%d_t;\n", h, i, h, i
		}
		printf "#endif\n"
	}' >"types_$h.h"
done

# Size one unit's DWARF, then pick the unit count that reaches the target.
gen_unit() {
	awk -v u="$1" -v f="$FUNCS" -v h="$HEADERS" -v n="$STRUCTS" 'BEGIN {
		printf "/* generated unit %d */\n#include \"types_%d.h\"\n", u, h - 1
		printf "struct unit%d_local { int id; long sum; char tag[16]; };\n", u
		printf "int unit%d_global;\n", u
		for (i = 0; i < f; i++) {
			hh = (u + i) % h; s = (u * 31 + i * 17) % n
			printf "__attribute__((noinline)) long u%d_f%d(struct s%d_%d *p, int k)\n{\n", u, i, hh, s
			printf "\tstruct unit%d_local loc = { .id = k };\n\tlong acc = 0;\n", u
			printf "\tfor (int i = 0; i < k; i++) {\n\t\tacc += i * %d + loc.id;\n\t\tif (p && i == 3)\n\t\t\tacc += *(volatile char *)p + (long)sizeof p->f0;\n\t}\n", i + 1
			printf "\tunit%d_global += (int)acc;\n\treturn acc + loc.sum;\n}\n", u
		}
	}'
}
# dwarf_bytes FILE: total size of its .debug_* sections.
dwarf_bytes() {
	local s=0 sz
	for sz in $(readelf -SW "$1" | sed -n 's/^ *\[ *[0-9]*\] \.debug_[a-z_]* *[A-Z_]* *[0-9a-f]* [0-9a-f]* \([0-9a-f]*\) .*/\1/p'); do
		s=$((s + 16#$sz))
	done
	echo "$s"
}
CC=${CC:-gcc}
CFLAGS="-g -O0 -fno-eliminate-unused-debug-types -fcf-protection=none"
gen_unit 0 >cu_0.c
$CC $CFLAGS -c cu_0.c -o cu_0.o
per_unit=$(dwarf_bytes cu_0.o)
UNITS=$(( (MIB * 1024 * 1024 * 23 / 20) / per_unit + 1 ))	# 15% margin: the link merges .debug_str
for u in $(seq 1 $((UNITS - 1))); do gen_unit "$u" >"cu_$u.c"; done

# The traced function: a struct pointer parameter with a member to print.
cat >main.c <<'EOF'
/* generated: the synthetic benchmark's entry point and traced function */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
struct synth_req {
	unsigned long id;
	struct { unsigned long len; const char *data; } uri;
	int method;
};
__attribute__((noinline)) int synth_target(struct synth_req *r)
{
	return (int)(r->uri.len + r->method);
}
int main(int argc, char **argv)
{
	struct synth_req r = { .id = 1, .uri = { 5, "/home" }, .method = 2 };
	long n = argc > 1 ? atol(argv[1]) : 1, s = 0;
	for (long i = 0; i < n; i++)
		s += synth_target(&r);
	printf("%ld\n", s);
	return 0;
}
EOF
{
	echo "CC := $CC"
	echo "CFLAGS := $CFLAGS"
	printf 'OBJS := main.o'; for u in $(seq 0 $((UNITS - 1))); do printf ' cu_%d.o' "$u"; done; echo
	echo "../synth: \$(OBJS)"
	printf '\t$(CC) -Wl,--build-id -o $@ $(OBJS)\n'
	echo "%.o: %.c"
	printf '\t$(CC) $(CFLAGS) -c $< -o $@\n'
} >Makefile
make -s -j"$(nproc)" ../synth >&2
total=$(( $(dwarf_bytes "$BIN") / 1048576 ))
echo "gen-synthetic: $UNITS units, $total MiB of DWARF in '$BIN'" >&2
rm -f "$OUT"/src/*.o
touch "$STAMP"
echo "$BIN"

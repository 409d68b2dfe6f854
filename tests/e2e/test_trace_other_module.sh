#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# -t PATH: globals of a module other than the probed one, in a process started after
# the tracer attached. A probe in the executable reads libshop.so's globals and a
# probe in libshop.so reads the executable's: their load addresses are found at run
# time in BPF, from the process's link_map list (GS_IR_MOD_BIAS, bpf/helpers.c), and
# the values are exact. The fixture is built privately so that no other test's
# process fires these uprobes.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/trace_lib.sh"
need_root_bpf
F="$GS_TOP/tests/fixtures"

for build in "gcc -O0" "gcc -O2" "clang-16 -O2"; do
	set -- $build
	cc=$1 opt=$2
	D="$T/$cc$opt"
	mkdir -p "$D"
	$cc -g $opt -fno-omit-frame-pointer -fPIC -shared -Wl,--build-id -o "$D/libshop.so" "$F/libshop.c"
	$cc -g $opt -fno-omit-frame-pointer -fPIE -pie -Wl,--build-id -o "$D/shop" "$F/shop.c" \
		-L"$D" -lshop -Wl,-rpath,"$D"

	# A probe in the executable: the library's global, static and TLS variable.
	trace_new -t "$D/shop" --script-output plain --max-events 1 \
		-s 'trace checkout { print "{} {} {} {}", lib_counter, lib_static_total, lib_tls, g_total; }' \
		-- "$D/shop" 1 0
	assert_eq "77 1000 5 12345" "$OUT" "$build: library globals from the executable"

	# A probe in the library: the executable's globals (two calls: the second sees
	# what the first iteration changed).
	trace_new -t "$D/shop" --script-output plain --max-events 2 \
		-s 'trace lib_apply { print "{} {} {} {} {} {}", g_counter, g_total, g_vip.name, t_depth, lib_counter, lib_tls; }' \
		-- "$D/shop" 2 0
	assert_eq "$(printf '2 12345 "bob" 42 77 5\n4 12345 "bob" 42 78 4')" "$OUT" \
		"$build: executable globals from the library"
done

# The load address is per process: two processes (ASLR on) both read right.
trace_new -t "$D/shop" --script-output plain --max-events 2 \
	-s 'trace lib_price { print "{} {}", g_name, lib_counter; }' \
	-- sh -c "'$D/shop' 1 0 && '$D/shop' 1 0"
assert_eq "$(printf '"shop" 78\n"shop" 78')" "$OUT" "two processes"

# A process that lacks the module (another program that maps libshop.so): the
# executable's global is a read error at its dynamic section's vaddr, never a value;
# the library's own global still reads.
printf 'int lib_price(int);\nint main(void) { return lib_price(2) == 500 ? 0 : 1; }\n' >"$T/other.c"
cc -g -o "$T/other" "$T/other.c" -L"$D" -lshop -Wl,-rpath,"$D"
dyn=$(readelf -lW "$D/shop" | awk '$1 == "DYNAMIC" { print $3 }')
trace_new -t "$D/shop" --script-output plain --max-events 1 \
	-s 'trace lib_price { print "{} {}", g_counter, lib_counter; }' -- "$T/other"
assert_eq "<read error at $(printf '0x%x' $((dyn)))> 77" "$OUT" "module not in the process"

# exec keeps the pid but maps everything anew (ASLR): the cached load address of the
# first image must not serve the second.
cat >"$T/reexec.c" <<'SRC'
#include <unistd.h>
int lib_price(int qty);
__attribute__((noinline)) int hit(int round) { return lib_price(round); }
int main(int argc, char **argv)
{
	char *again[] = { argv[0], "again", NULL };

	hit(argc);
	if (argc == 1)
		execv(argv[0], again);
	return 0;
}
SRC
cc -g -O0 -fPIE -pie -o "$T/reexec" "$T/reexec.c" -L"$D" -lshop -Wl,-rpath,"$D"
trace_new -t "$T/reexec" --script-output plain --max-events 2 \
	-s 'trace hit { print "{} {} {}", $pid, round, lib_counter; }' -- "$T/reexec"
assert_eq 1 "$(printf '%s\n' "$OUT" | cut -d' ' -f1 | sort -u | wc -l)" "one pid for both images"
assert_eq "$(printf '1 77\n2 77')" "$(printf '%s\n' "$OUT" | cut -d' ' -f2-)" "exec: the new image's address"

# The kernel offsets this needs are parsed from the kernel's BTF once per kernel and kept
# beside the indexes; a damaged file is a miss, never a wrong offset.
kc=$(ls "$GHOSTSCOPE_INDEX_DIR"/kernel/kbtf-modcfg-* 2>/dev/null | head -1)
[ -n "$kc" ] || fail "no kernel offsets cached in $GHOSTSCOPE_INDEX_DIR/kernel"
printf 'x' >"$kc"
trace_new -t "$T/reexec" --script-output plain --max-events 2 \
	-s 'trace hit { print "{} {}", round, lib_counter; }' -- "$T/reexec"
assert_eq "$(printf '1 77\n2 77')" "$OUT" "a damaged kernel-offset file is re-parsed"
# status, count, then the four offsets (tracer/kbtf.h)
assert_eq 24 "$(stat -c %s "$kc")" "the kernel offsets written again"
echo ok

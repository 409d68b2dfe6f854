#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Finding debug info, and saying where it came from: embedded (plain and
# zlib-compressed), .gnu_debuglink in the binary's directory, in .debug/ and under a
# debug root (CRC checked), the build-id tree under a scratch root
# ($GHOSTSCOPE_DEBUG_ROOT), debuginfod (a local HTTP server speaking its protocol),
# --debug-file with a matching and a mismatching build-id, and no DWARF at all.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/build_cfi_dump.sh"
fixtures
build_cfi_dump
export GHOSTSCOPE_DEBUG_ROOT="$T/root"
unset DEBUGINFOD_URLS

src="$FIX/gcc-O2-dwarf5/shop-nopie"
mkdir -p "$T/bin" "$T/root"
bid=$(readelf -n "$src" | awk '/Build ID/ { print $3 }')
[ ${#bid} -eq 40 ] || fail "fixture has no build-id"
objcopy --only-keep-debug "$src" "$T/shop.debug"
objcopy --strip-debug --add-gnu-debuglink="$T/shop.debug" "$src" "$T/bin/shop"
objcopy --strip-debug "$src" "$T/bin/shop-nolink"
rm "$T/shop.debug"	# the link keeps its CRC; the file moves around below
objcopy --only-keep-debug "$src" "$T/debugfile"

source_of() {	# source_of ELF [DEBUG_FILE]: the "source" line of cfi_dump
	"$CFI_DUMP" "$@" | sed -n 's/^source //p'
}
dwarf_of() {
	"$CFI_DUMP" "$@" | sed -n 's/^dwarf //p'
}

assert_eq "embedded" "$(source_of "$src")" "embedded DWARF"
assert_eq "none" "$(source_of "$T/bin/shop")" "stripped, debug file nowhere"

cp "$T/debugfile" "$T/bin/shop.debug"
assert_eq "debuglink:$T/bin/shop.debug" "$(source_of "$T/bin/shop")" "debuglink, same dir"
mkdir "$T/bin/.debug"
mv "$T/bin/shop.debug" "$T/bin/.debug/shop.debug"
assert_eq "debuglink:$T/bin/.debug/shop.debug" "$(source_of "$T/bin/shop")" "debuglink, .debug/"
mkdir -p "$T/root$T/bin"
mv "$T/bin/.debug/shop.debug" "$T/root$T/bin/shop.debug"
assert_eq "debuglink:$T/root$T/bin/shop.debug" "$(source_of "$T/bin/shop")" "debuglink, root/dir"

# CRC checked: a debug file with one byte changed is not taken.
mv "$T/root$T/bin/shop.debug" "$T/bin/shop.debug"
printf 'x' >>"$T/bin/shop.debug"
assert_eq "none" "$(source_of "$T/bin/shop")" "debuglink with a bad CRC"
rm "$T/bin/shop.debug"

# Build-id tree, for a binary with no debuglink; and the debuglink wins when both exist.
mkdir -p "$T/root/.build-id/${bid:0:2}"
cp "$T/debugfile" "$T/root/.build-id/${bid:0:2}/${bid:2}.debug"
want="build-id:$T/root/.build-id/${bid:0:2}/${bid:2}.debug"
assert_eq "$want" "$(source_of "$T/bin/shop-nolink")" "build-id tree"
assert_eq "$want" "$(source_of "$T/bin/shop")" "build-id tree (debuglink target absent)"
cp "$T/debugfile" "$T/bin/shop.debug"
assert_eq "debuglink:$T/bin/shop.debug" "$(source_of "$T/bin/shop")" "debuglink before build-id"
rm "$T/bin/shop.debug"
# A build-id file of another binary is not taken.
cp "$FIX/gcc-O0-dwarf5/shop-nopie" "$T/root/.build-id/${bid:0:2}/${bid:2}.debug"
assert_eq "none" "$(source_of "$T/bin/shop-nolink")" "build-id file with another id"
rm -r "$T/root/.build-id"

# The DWARF found is the real thing: same size as embedded, same CFI table.
cp "$T/debugfile" "$T/bin/shop.debug"
assert_eq "$(dwarf_of "$src")" "$(dwarf_of "$T/bin/shop")" "dwarf size via debuglink"
rm "$T/bin/shop.debug"

# --debug-file: matching, then another binary's debug info.
assert_eq "debug-file:$T/debugfile" "$(source_of "$T/bin/shop-nolink" "$T/debugfile")" "--debug-file"
other="$FIX/clang-O0-dwarf4/shop-nopie"
obid=$(readelf -n "$other" | awk '/Build ID/ { print $3 }')
if out=$("$CFI_DUMP" "$T/bin/shop-nolink" "$other" 2>&1); then
	fail "--debug-file with another build-id was accepted"
fi
assert_contains "$out" "build-id mismatch" "--debug-file mismatch"
assert_contains "$out" "$bid" "mismatch message names the binary's id"
assert_contains "$out" "$obid" "mismatch message names the debug file's id"
if out=$("$CFI_DUMP" "$T/bin/shop-nolink" "$T/missing.debug" 2>&1); then
	fail "a missing --debug-file was accepted"
fi
assert_contains "$out" "No such file" "missing --debug-file"

# zlib-compressed sections: read, sizes reported uncompressed.
objcopy --compress-debug-sections=zlib "$src" "$T/bin/shop-z"
assert_eq "embedded" "$(source_of "$T/bin/shop-z")" "compressed DWARF"
assert_eq "$(dwarf_of "$src")" "$(dwarf_of "$T/bin/shop-z")" "compressed DWARF size"

# debuginfod: a minimal server for GET /buildid/<id>/debuginfo.
if command -v python3 >/dev/null; then
	mkdir -p "$T/srv/buildid/$bid"
	cp "$T/debugfile" "$T/srv/buildid/$bid/debuginfo"
	port=$((20000 + RANDOM % 20000))
	(cd "$T/srv" && exec python3 -m http.server "$port" --bind 127.0.0.1) >"$T/http.log" 2>&1 &
	http_pid=$!
	GS_CLEANUP="kill $http_pid 2>/dev/null || true"
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		grep -q Serving "$T/http.log" 2>/dev/null && break
		sleep 0.2
	done
	got=$(DEBUGINFOD_URLS="http://127.0.0.1:$port" DEBUGINFOD_CACHE_PATH="$T/dcache" \
		source_of "$T/bin/shop-nolink")
	assert_eq "debuginfod:$T/dcache/$bid/debuginfo" "$got" "debuginfod"
	kill "$http_pid" 2>/dev/null || true
	GS_CLEANUP=
fi
# A fully stripped binary keeps only .dynsym: the static functions' names (and the .cold
# parts' symbols) come from the debug file's .symtab, so addresses in them have names.
objcopy --strip-all --add-gnu-debuglink="$T/debugfile" "$src" "$T/bin/shop-all"
"$GSI" --index-dir "$T/idx-all" --debug-file "$T/debugfile" "$T/bin/shop-all" >/dev/null || fail "indexing the stripped copy"
syms=$("$GSI" --index-dir "$T/idx-all" dump "$T/bin/shop-all" | awk '$1 == "symbol" { print $2 }')
for s in base_pricer rare_path.cold main; do
	grep -qx "$s" <<<"$syms" || fail "symbol '$s' missing from the index of a stripped binary"
done
echo "debug info found from every source"

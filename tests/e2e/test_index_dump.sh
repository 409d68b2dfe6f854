#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Golden test of `ghostscope-index dump`: the forms fixture (tests/fixtures/index/forms.c)
# built with gcc -O0 -gdwarf-5; addresses are masked, everything else must match the
# transcript: scope trees with locations, globals (static locals and TLS), the
# deduplicated type graph (anonymous members, bit fields, signed enums, flexible arrays,
# function-pointer typedefs, qualifiers). Also: dump is stable across re-indexing and
# every line row's address lies in a function the index knows.
source "$(dirname "$0")/lib.sh"
gcc -g -O0 -gdwarf-5 -Wl,--build-id -o "$T/forms" "$GS_TOP/tests/fixtures/index/forms.c" ||
	skip "gcc cannot build the fixture"
"$GSI" "$T/forms" >/dev/null || fail "indexing forms"
dump=$("$GSI" dump "$T/forms")

expected_scope=$(cat <<'GOLDEN'
  function route [ADDR,ADDR) frame_base DW_OP_call_frame_cfa
    param struct packet *p: DW_OP_fbreg -40
    param int n: DW_OP_fbreg -44
    static int routed: DW_OP_addr ADDR
    local int sum: DW_OP_fbreg -20
    block - [ADDR,ADDR)
      local int i: DW_OP_fbreg -24
      block - [ADDR,ADDR)
        local int step: DW_OP_fbreg -28
GOLDEN
)
expected_rest=$(cat <<'GOLDEN'
global g_packet global struct packet g_packet: DW_OP_addr ADDR
global t_seen global long int t_seen (tls): DW_OP_const8u 0 DW_OP_form_tls_address
global route::routed static int routed: DW_OP_addr ADDR
type 1 enum dir { /* size 4, id 1 */
    LEFT = -1,
    STAY = 0,
    RIGHT = 1,
}
type 2 int; /* size 4 */
type 3 typedef int (*op_fn)(int, int); /* size 8, target 4 */
type 4 int (*)(int, int); /* size 8, target 5 */
type 5 int (int, int); /* size 0, target 2 */
type 6 float; /* size 4 */
type 7 char; /* size 1 */
type 8 signed char; /* size 1 */
type 9 struct packet { /* size 72, id 9 */
    short unsigned int len; /* bit offset 0 */
    union {...} <anonymous>; /* bit offset 32 */
    struct {...} hdr; /* bit offset 64 */
    volatile const long int stamp; /* bit offset 128 */
    enum dir way; /* bit offset 192 */
    op_fn op; /* bit offset 256 */
    double grid[2][2]; /* bit offset 320 */
    unsigned char data[0]; /* bit offset 576 */
}
type 10 short unsigned int; /* size 2 */
type 11 union {...} { /* size 4, id 11 */
    int code; /* bit offset 0 */
    float ratio; /* bit offset 0 */
}
type 12 struct {...} { /* size 2, id 12 */
    char tag; /* bit offset 0 */
    signed char hops : 4; /* bit offset 8 */
}
type 13 volatile const long int; /* size 8, target 14 */
type 14 const long int; /* size 8, target 15 */
type 15 long int; /* size 8 */
type 16 double [2][2]; /* size 32, target 17 */
type 17 double; /* size 8 */
type 18 unsigned char [0]; /* size 0, target 19 */
type 19 unsigned char; /* size 1 */
type 20 long unsigned int; /* size 8 */
type 21 struct packet *; /* size 8, target 9 */
GOLDEN
)
actual_scope=$(printf '%s\n' "$dump" | sed -n '/^  function route/,/^function add/p' | grep -v '^function add' | sed 's/0x[0-9a-f]*/ADDR/g')
actual_rest=$(printf '%s\n' "$dump" | sed -n '/^global /,/^line /p' | grep -v '^line' | sed 's/0x[0-9a-f]*/ADDR/g')
assert_eq "$expected_scope" "$actual_scope" "scope tree of route"
assert_eq "$expected_rest" "$actual_rest" "globals and types"

# the same input gives the same dump, byte for byte (ids, order, encoding)
"$GSI" --force "$T/forms" >/dev/null
assert_eq "$dump" "$("$GSI" dump "$T/forms" | sed 's/^indexed.*//')" "dump after --force"

# the header and the module facts
assert_contains "$dump" "has_dwarf 1"
assert_contains "$dump" "dwarf_versions 0x20"
assert_contains "$dump" "flags:    external,symbol_only" "_start from the symbol table"

# no DWARF at all: symbols, segments and CFI still, and the index says so (the same
# build-id as the full binary, so a cache of its own)
objcopy --strip-debug "$T/forms" "$T/forms.nodebug"
export GHOSTSCOPE_INDEX_DIR=$T/nodebug-cache
"$GSI" "$T/forms.nodebug" >/dev/null || fail "indexing without DWARF"
nd=$("$GSI" dump "$T/forms.nodebug")
assert_contains "$nd" "has_dwarf 0"
assert_contains "$nd" "debug_source none"
assert_contains "$("$GSI" query "$T/forms.nodebug" --func route)" "symbol_only"
assert_contains "$("$GSI" show "$T/forms.nodebug")" "none (symbols and CFI only)"
assert_contains "$nd" "cfi_row 0"
# every --json answer parses
for q in "--func route" "--line forms.c:36" "--addr $("$GSI" query "$T/forms" --func route | sed -n 's/^  post-prologue: \(0x[0-9a-f]*\).*/\1/p')" \
	 "--type packet" "--global route::routed" "--global t_seen"; do
	GHOSTSCOPE_INDEX_DIR=$T/cache "$GSI" query "$T/forms" $q --json |
		python3 -c 'import json, sys; json.load(sys.stdin)' || fail "bad JSON from query $q"
done
echo ok

# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by the CFI/debuginfo/bad-ELF tests: builds tests/e2e/cfi_dump.c with the ELF,
# debuginfo and CFI modules straight from their sources (independent of the rest of
# the tree) into $T/cfi_dump. Set CFI_DUMP_CFLAGS for sanitizers.
build_cfi_dump() {
	local flags
	flags=$(pkg-config --cflags --libs libdw libelf)
	# shellcheck disable=SC2086
	cc -std=gnu11 -O1 -g -D_GNU_SOURCE -I"$GS_TOP" ${CFI_DUMP_CFLAGS:-} -o "$T/cfi_dump" \
		"$GS_TOP/tests/e2e/cfi_dump.c" "$GS_TOP/shared/elf.c" "$GS_TOP/shared/errors.c" \
		"$GS_TOP/indexer/cfi.c" "$GS_TOP/indexer/debuginfo.c" $flags ||
		fail "cannot build cfi_dump"
	CFI_DUMP="$T/cfi_dump"
}

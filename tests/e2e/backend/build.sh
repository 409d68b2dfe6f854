# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by the back-end e2e tests: builds a test driver straight from the back end's
# sources (no planner, no code generator process to run).
LLVM_CONFIG=${LLVM_CONFIG:-llvm-config-16}

# backend_driver SOURCE OUTPUT [EXTRA_SOURCES_OR_LIBS...]
backend_driver() {
	local src=$1 out=$2
	shift 2
	make -s -C "$GS_TOP" build/obj/bpf/helpers_bc.o	# the embedded bitcode codegen.c links
	cc -O1 -g -D_GNU_SOURCE -I"$GS_TOP" -I"$($LLVM_CONFIG --includedir)" "$src" \
		"$GS_TOP/tracer/ir.c" "$GS_TOP/tracer/codegen.c" "$GS_TOP/tracer/codegen_expr.c" \
		"$GS_TOP/tracer/codegen_layout.c" "$GS_TOP/tracer/codegen_lib.c" \
		"$GS_TOP/tracer/ir_codec.c" "$GS_TOP/tracer/wire.c" "$GS_TOP/tracer/proc.c" \
		"$GS_TOP/tracer/fdio.c" \
		"$GS_TOP/shared/strbuf.c" "$GS_TOP/shared/elf.c" "$GS_TOP/shared/errors.c" \
		"$GS_TOP/tracer/loader.c" "$GS_TOP/tracer/bpfobj.c" "$GS_TOP/tracer/kcache.c" "$GS_TOP/tracer/kbtf.c" "$GS_TOP/tracer/rings.c" \
		"$GS_TOP/build/obj/bpf/helpers_bc.o" "$@" -o "$out" \
		-L"$($LLVM_CONFIG --libdir)" $($LLVM_CONFIG --libs) -lbpf -lelf -lz -lstdc++ -lpthread
}

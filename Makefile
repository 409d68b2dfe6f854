# SPDX-License-Identifier: GPL-2.0-or-later
# GhostScope build. Quiet by default (V=1 for full commands); DEVELOPER=1 makes warnings
# errors (CI sets it); SANITIZE=1 builds with ASan+UBSan; COVERAGE=1 adds gcov.

OUT     := build
OBJ     := $(OUT)/obj
CC      ?= cc
CLANG   ?= clang-16
LLVM_CONFIG ?= llvm-config-16

ifeq ($(V),1)
Q :=
msg =
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

PKGS := libdw libelf lmdb libxxhash libbpf
PKG_MISSING := $(foreach p,$(PKGS),$(if $(shell pkg-config --exists $(p) && echo y),,$(p)))
ifneq ($(MAKECMDGOALS),deps)
ifneq ($(strip $(PKG_MISSING)),)
$(error missing pkg-config dependencies: $(PKG_MISSING); run 'tools/install-deps.sh' as root)
endif
endif

WARN := -Wall -Wextra -Wformat-security -Wstrict-prototypes -Wmissing-prototypes \
	-Wvla -Wwrite-strings -Wno-unused-parameter -Wno-missing-field-initializers
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 $(WARN) -D_GNU_SOURCE -I. -MMD -MP
ifeq ($(DEVELOPER),1)
CFLAGS += -Werror
endif
ifeq ($(SANITIZE),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif
ifeq ($(COVERAGE),1)
CFLAGS  += --coverage
LDFLAGS += --coverage
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# ghostscope-index links these libraries statically (only libc stays shared). Each
# shared library costs the dynamic loader page faults for its relocations, and a page
# fault costs 15-30 us on the VMs we measure on: static linking takes 2-3 ms off a start.
STATIC_LIBS := -Wl,-Bstatic -Wl,--start-group \
	$(shell pkg-config --static --libs-only-l $(PKGS) 2>/dev/null | tr ' ' '\n' | \
		grep -v -e '^-lpthread$$' -e '^-pthread$$' | sort -u | tr '\n' ' ') \
	-Wl,--end-group -Wl,-Bdynamic
# ghostscope itself: static-pie, libc included (no dynamic loader at exec: 1-1.5 ms of
# every start here), and without libdw, which stays in ghostscope-index (its debuginfod
# client dlopens a shared library, which a static program cannot host). Sanitizer
# builds link dynamically: the sanitizers' runtimes are shared libraries.
TRACER_PKGS := libelf lmdb libxxhash libbpf
ifeq ($(SANITIZE),1)
TRACER_LINK :=
TRACER_LIBS := $(shell pkg-config --libs $(TRACER_PKGS) 2>/dev/null)
else
TRACER_LINK := -static-pie
TRACER_LIBS := -Wl,--start-group \
	$(shell pkg-config --static --libs-only-l $(TRACER_PKGS) 2>/dev/null | tr ' ' '\n' | \
		grep -v -e '^-lpthread$$' -e '^-pthread$$' | sort -u | tr '\n' ' ') \
	-Wl,--end-group
endif
LLVM_CFLAGS := -I$(shell $(LLVM_CONFIG) --includedir 2>/dev/null)
# ghostscope-codegen links LLVM's static libraries (the components it uses), with
# libstdc++ and LLVM's compression and terminal libraries, into a non-PIE program:
# libLLVM-16.so made every run pay ~75 ms of dynamic relocation (417,000 relative
# relocations, a page fault for each page of its data they write), of ~110 ms per
# compile; linked so, a compile takes ~35 ms and half the memory. libc stays shared
# (LLVM's home-directory lookups would need glibc's NSS from a static libc).
# Sanitizer builds, and an LLVM installed without its static libraries, link
# libLLVM-16.so (the sanitizers' runtimes are shared libraries).
LLVM_COMPONENTS := bpf core passes bitreader bitwriter linker ipo
LLVM_STATIC := $(shell l=$$($(LLVM_CONFIG) --link-static --libs $(LLVM_COMPONENTS) 2>/dev/null) && echo "$$l")
ifneq ($(SANITIZE)$(if $(LLVM_STATIC),,none),)
CODEGEN_LINK :=
LLVM_LIBS   := -L$(shell $(LLVM_CONFIG) --libdir 2>/dev/null) $(shell $(LLVM_CONFIG) --libs 2>/dev/null)
else
CODEGEN_LINK := -no-pie -static-libgcc
LLVM_LIBS   := -L$(shell $(LLVM_CONFIG) --libdir 2>/dev/null) -Wl,-Bstatic $(LLVM_STATIC) \
	-lz -lzstd -ltinfo -lstdc++ -Wl,-Bdynamic -ldl -lm
endif
CFLAGS += $(PKG_CFLAGS)

SHARED_SRC  := $(wildcard shared/*.c)
INDEXER_SRC := $(filter-out indexer/main.c,$(wildcard indexer/*.c))
# tracer/codegen.c and codegen_expr.c are the only LLVM users: they go into the code
# generator program (ghostscope-codegen), not the tracer.
CODEGEN_LLVM_SRC := tracer/codegen.c tracer/codegen_expr.c
TRACER_SRC  := $(filter-out tracer/main.c tracer/codegen_main.c $(CODEGEN_LLVM_SRC),$(wildcard tracer/*.c))
CODEGEN_SRC := $(CODEGEN_LLVM_SRC) tracer/codegen_main.c tracer/codegen_layout.c tracer/ir.c \
	tracer/ir_codec.c tracer/wire.c tracer/fdio.c shared/strbuf.c
UNIT_SRC    := $(wildcard tests/unit/*.c)

obj = $(patsubst %.c,$(OBJ)/%.o,$(1))

LIB_SHARED  := $(OUT)/libgs-shared.a
LIB_INDEXER := $(OUT)/libgs-index.a
LIB_TRACER  := $(OUT)/libgs-tracer.a
BPF_BC      := $(OUT)/bpf/helpers.bc
CODEGEN     := $(OUT)/ghostscope-codegen

.PHONY: all clean deps demo test check unit e2e bench fixtures
all: $(OUT)/ghostscope-index $(OUT)/ghostscope $(CODEGEN)

deps:
	$(Q)tools/install-deps.sh

$(OBJ)/%.o: %.c
	$(call msg,CC,$<)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(if $(filter tracer/%,$<),$(LLVM_CFLAGS)) -c $< -o $@

$(LIB_SHARED): $(call obj,$(SHARED_SRC))
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^
$(LIB_INDEXER): $(call obj,$(INDEXER_SRC))
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^
$(LIB_TRACER): $(call obj,$(TRACER_SRC))
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# BPF-side C (bpf/) -> LLVM bitcode, embedded in the code generator as gs_bpf_helpers_bc[]
# (codegen.c links it into generated modules that use a backtrace).
BPF_BC_OBJ := $(OBJ)/bpf/helpers_bc.o
$(BPF_BC): bpf/helpers.c shared/index.h tracer/codegen.h tracer/event.h tracer/ir.h
	$(call msg,BPF,$<)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) -target bpfel -mcpu=v3 -ffreestanding -I. -O2 -g -Wall -Werror -emit-llvm \
		-c $< -o $@
$(BPF_BC_OBJ): $(BPF_BC)
	$(call msg,EMBED,$<)
	$(Q)mkdir -p $(dir $@)
	$(Q)printf '%s\n' '.section .rodata' '.balign 16' '.globl gs_bpf_helpers_bc' \
		'gs_bpf_helpers_bc:' '.incbin "$<"' '.globl gs_bpf_helpers_bc_end' \
		'gs_bpf_helpers_bc_end:' '.section .note.GNU-stack,"",@progbits' | \
		$(CC) -c -x assembler -o $@ -

# The LLVM half of code generation, a program the tracer runs only when it compiles
# (tracer/codegen_lib.c): ghostscope itself does not link libLLVM.
$(CODEGEN): $(call obj,$(CODEGEN_SRC)) $(BPF_BC_OBJ)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $(CODEGEN_LINK) -o $@ $^ $(LLVM_LIBS) -lpthread

$(OUT)/ghostscope-index: $(OBJ)/indexer/main.o $(LIB_INDEXER) $(LIB_SHARED)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(STATIC_LIBS) -lpthread

$(OUT)/ghostscope: $(OBJ)/tracer/main.o $(LIB_TRACER) $(LIB_SHARED)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $(TRACER_LINK) -o $@ $^ $(TRACER_LIBS) -lpthread

# Code generation goes through $(CODEGEN) next to the binary, as in ghostscope.
$(OUT)/unit-tests: $(call obj,$(UNIT_SRC)) $(LIB_TRACER) $(LIB_INDEXER) $(LIB_SHARED) | $(CODEGEN)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread -ldl

# The unit runner finds test_<module>__<case> functions by grepping the sources.
$(OBJ)/tests/unit/tests.gen.h: $(filter-out tests/unit/runner.c,$(UNIT_SRC))
	$(Q)mkdir -p $(dir $@)
	$(Q)grep -ho '^bool test_[a-z0-9_]*__[a-z0-9_]*(void)' $^ | sed 's/^bool \(.*\)(void)/T(\1)/' > $@.tmp && mv $@.tmp $@
$(OBJ)/tests/unit/%.o: CFLAGS += -Wno-missing-prototypes
$(OBJ)/tests/unit/runner.o: CFLAGS += -I$(OBJ)/tests/unit
$(OBJ)/tests/unit/runner.o: $(OBJ)/tests/unit/tests.gen.h

unit: $(OUT)/unit-tests
	$(Q)$(OUT)/unit-tests

e2e: all
	$(Q)tests/e2e/run.sh

check: unit e2e

test: deps
	$(Q)$(MAKE) --no-print-directory DEVELOPER=1 all $(OUT)/unit-tests
	$(Q)$(MAKE) --no-print-directory DEVELOPER=1 check

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tools/demo.sh

bench: deps all
	$(Q)tools/bench/run-all.sh

clean:
	$(call msg,CLEAN,$(OUT))
	$(Q)rm -rf $(OUT)

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)

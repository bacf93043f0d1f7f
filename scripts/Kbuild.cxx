# SPDX-License-Identifier: GPL-2.0
#
# Compile freestanding C++ inside kbuild.
#
# The flags are derived from kbuild's own C flags, so every mitigation the
# kernel was built with (IBT, retpolines, return thunks, SLS, stack
# protector, ...) applies to the C++ too, minus the options that are C only.
# No kernel include path is passed: C++ sees the compiler's freestanding
# headers, include/ckpt and a tiny <linux/types.h> shim for the uapi header.

CXX ?= g++

cxx-c-only := -std=gnu11 -std=gnu89 -Wmissing-prototypes -Wstrict-prototypes \
	-Werror=strict-prototypes -Werror=implicit-function-declaration \
	-Werror=implicit-int -Werror=incompatible-pointer-types \
	-Werror=designated-init -Wdeclaration-after-statement \
	-Wno-pointer-sign -Wnested-externs -Wno-override-init \
	$(CC_FLAGS_FTRACE) -g -gdwarf-4 -gdwarf-5

# clang++ spells two of gcc's x86 mitigation options differently.
ifneq ($(findstring clang,$(shell $(CXX) --version 2>/dev/null | head -n1)),)
cxx-c-only += -mindirect-branch=thunk-extern -mindirect-branch-register \
	-mpreferred-stack-boundary=3 -mskip-rax-setup -fno-allow-store-data-races \
	-fconserve-stack -falign-jumps=1 -falign-loops=1 -fno-ipa-sra \
	-mharden-sls=all
# gcc's warning options that clang does not know are harmless here.
cxx-clang := $(if $(filter -mindirect-branch=thunk-extern,$(KBUILD_CFLAGS)),-mretpoline-external-thunk) \
	-mstack-alignment=8 -Wno-unknown-warning-option
endif

# KASAN registers instrumented globals from constructors; the C++ has no
# constructors, so its globals go unregistered (heap and stack are checked).
cxx-kasan-no-globals := --param asan-globals=0
ifneq ($(findstring clang,$(shell $(CXX) --version 2>/dev/null | head -n1)),)
cxx-kasan-no-globals := -mllvm -asan-globals=0
endif

cxx_flags = -Wp,-MMD,$(depfile) -nostdinc -nostdinc++ \
	-isystem $(shell $(CXX) -print-file-name=include) \
	$(filter-out $(cxx-c-only),$(KBUILD_CPPFLAGS) $(KBUILD_CFLAGS) $(KBUILD_CFLAGS_MODULE)) \
	$(cxx-clang) \
	$(if $(CONFIG_KASAN),$(CFLAGS_KASAN) $(cxx-kasan-no-globals)) \
	$(if $(CONFIG_UBSAN),$(CFLAGS_UBSAN)) \
	-std=gnu++17 -ffreestanding -fno-exceptions -fno-rtti \
	-fno-unwind-tables -fno-asynchronous-unwind-tables \
	-fno-threadsafe-statics -fno-use-cxa-atexit -fno-common -g1 \
	-Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	-I$(src)/include/ckpt/cxx -I$(src)/include -I$(src)/include/uapi \
	-I$(src)/src/core -I$(src)/tests/kunit \
	$(modname_flags)

quiet_cmd_cxx_o_cpp = CXX [M]  $@
      cmd_cxx_o_cpp = $(CXX) $(cxx_flags) -c -o $@ $<

$(obj)/%.o: $(src)/%.cpp FORCE
	$(call if_changed_dep,cxx_o_cpp)

# Distro kernels run neither constructors nor destructors of module globals:
# refuse to link C++ that needs them.
quiet_cmd_ld_cxx = LD [M]   $@
      cmd_ld_cxx = $(LD) $(ld_flags) -r -o $@ $(real-prereqs) && \
	if $(OBJDUMP) -h $@ | grep -Eq '\.(init_array|ctors|fini_array|dtors)'; then \
		echo >&2 "$@: C++ static constructors or destructors are not allowed"; \
		rm -f $@; exit 1; \
	fi $(cmd_objtool)

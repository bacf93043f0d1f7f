# SPDX-License-Identifier: GPL-2.0
#
# make              ckpt.ko (against KDIR) and the CLI build/cli/ckpt
# make module       ckpt.ko only; make cli: the CLI only
# make check        every test, in QEMU on Debian's 6.12 and 6.1 kernels
# make demo         set up and run a checkpoint in QEMU
# make bench        the benchmark against the copy limit, a userspace dumper, CRIU
#
# The module's own build rules live in Kbuild; this file only drives kbuild
# and CMake.

KDIR ?= /lib/modules/$(shell uname -r)/build
CXX ?= g++
BUILD ?= build

.PHONY: all module cli check demo bench clean help checkpatch

all: module cli

module:
	@test -d "$(KDIR)" || { echo "ckpt: no kernel build tree at $(KDIR): install linux-headers-$$(uname -r) or pass KDIR=/path/to/kbuild" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) CXX=$(CXX) modules

cli:
	cmake -S tools/ckpt -B $(BUILD)/cli -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD)/cli -j2

check:
	scripts/check.sh

demo:
	scripts/demo.sh

bench:
	scripts/bench.sh

checkpatch:
	scripts/checkpatch.sh

clean:
	@if [ -d "$(KDIR)" ]; then $(MAKE) -C $(KDIR) M=$(CURDIR) clean; fi
	rm -rf $(BUILD)

help:
	@sed -n '3,8p' Makefile | sed 's/^# *//'

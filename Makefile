# SPDX-License-Identifier: GPL-2.0
#
# make              ckpt.ko (against KDIR) and the CLI build/cli/ckpt
# make module       ckpt.ko only; make cli: the CLI only
# make check        every test, in QEMU on Debian's 6.12 and 6.1 kernels
# make demo         set up and run a checkpoint in QEMU
# make bench        the benchmark against the copy limit, a userspace dumper, CRIU
# make deb          the Debian packages ckpt-dkms and ckpt, into build/deb/
# make dkms-install the module through DKMS, from this checkout (as root)
# make dkms-remove  undo it
#
# The module's own build rules live in Kbuild; this file only drives kbuild
# and CMake.

KDIR ?= /lib/modules/$(shell uname -r)/build
CXX ?= g++
BUILD ?= build
# The one version of the module, the CLI and the packages: debian/changelog's.
VERSION = $(shell head -n 1 debian/changelog | cut -d '(' -f 2 | cut -d ')' -f 1)
DKMS_SRC = $(DESTDIR)/usr/src/ckpt-$(VERSION)

# What DKMS needs to build the module (tests/kunit: a KUnit kernel builds
# the test module too, see Kbuild).
MODULE_SOURCES = Kbuild Makefile dkms.conf scripts/Kbuild.cxx \
	$(shell find src include arch tests/kunit -type f \( -name '*.[ch]' -o -name '*.cpp' \) | LC_ALL=C sort)

.PHONY: all module cli check demo bench clean clean-module help checkpatch \
	deb dkms-source udev-rule dkms-install dkms-remove

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

# The module's sources as DKMS wants them, in $(DESTDIR)/usr/src/ckpt-VERSION
# (debian/rules and dkms-install).
dkms-source:
	@test -n "$(VERSION)" || { echo "ckpt: no version in debian/changelog" >&2; exit 1; }
	rm -rf $(DKMS_SRC)
	for f in $(MODULE_SOURCES); do install -D -m 0644 "$$f" "$(DKMS_SRC)/$$f" || exit 1; done
	sed -i 's/#MODULE_VERSION#/$(VERSION)/' $(DKMS_SRC)/dkms.conf

# The node's owner and mode, also for the node made at boot (udev/).
UDEV_RULES = $(DESTDIR)/lib/udev/rules.d
udev-rule:
	install -D -m 0644 udev/60-ckpt.rules $(UDEV_RULES)/60-ckpt.rules

# Every kernel with headers, as the package's postinst does; again after a
# change (DKMS forgets the old build first).
dkms-install:
	-dkms remove ckpt/$(VERSION) --all >/dev/null 2>&1
	$(MAKE) dkms-source udev-rule
	dkms add ckpt/$(VERSION)
	for k in /lib/modules/*/build; do \
		[ -e "$$k/Makefile" ] || continue; \
		rel=$${k#/lib/modules/}; rel=$${rel%/build}; \
		dkms install ckpt/$(VERSION) -k "$$rel" || exit 1; \
	done
	dkms status ckpt

dkms-remove:
	dkms remove ckpt/$(VERSION) --all
	rm -rf /usr/src/ckpt-$(VERSION)
	rm -f $(UDEV_RULES)/60-ckpt.rules

deb:
	scripts/build-deb.sh

clean-module:
	@if [ -d "$(KDIR)" ]; then $(MAKE) -C $(KDIR) M=$(CURDIR) clean; fi

clean: clean-module
	rm -rf $(BUILD)

help:
	@sed -n '3,11p' Makefile | sed 's/^# *//'

#!/bin/sh
# The guest test suite, run by /init inside QEMU: sources every t*.sh next to
# it in order (each registers and runs its tests with `t`), prints one
# "ok - NAME" / "not ok - NAME: reason" line per test, exits 0 iff all passed.
GUEST=$(dirname "$0")
. "$GUEST/lib.sh"

rm -rf "$WORK"
mkdir -p "$WORK"
echo "# ckpt e2e suite on $(uname -r), $(nproc) CPUs, $(sed -n 's/MemTotal: *//p' /proc/meminfo)"
dmesg_mark suite-start

# ckpt.only=t10,t20,t35 on the kernel command line (CKPT_QEMU_APPEND) runs
# those files alone, for a quick round while developing; make check runs all.
only=$(sed -n 's/.*ckpt\.only=\([^ ]*\).*/\1/p' /proc/cmdline)
for f in "$GUEST"/t[0-9]*.sh; do
	case ",$only," in
	,,) ;;
	*",$(basename "$f" | cut -d- -f1),"*) ;;
	*) continue ;;
	esac
	. "$f"
done

stop_targets
echo "# guest: $T_PASS passed, $T_FAIL failed"
[ "$T_FAIL" -eq 0 ]

#!/usr/bin/env bash
# Run the KUnit suites of tests/kunit on a KUnit test kernel in QEMU.
#
#   scripts/kunit.sh FLAVOUR      FLAVOUR: fast (clang) or debug (gcc, KASAN, lockdep, ...)
#
# Builds or reuses the kernel (scripts/kunit-kernel.sh), builds ckpt.ko and
# ckpt_kunit.ko against it in build/kmod/kunit-FLAVOUR, boots it with a
# busybox initramfs that loads both (KUnit runs a module's suites when it
# loads), and parses the console with KUnit's own parser (kunit.py parse,
# one KTAP document at a time).  Prints one "ok - kunit-FLAVOUR SUITE/CASE"
# or "not ok - ...: reason" line per case of tests/kunit/cases.h; a case
# that never reported (a crash, a hang) fails.  Exit status 0 iff all pass.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

flavour=${1:?usage: kunit.sh fast|debug}
name=kunit-$flavour
case "$flavour" in
fast)  make_vars=(LLVM=-16 CXX=clang++-16) ;;
debug) make_vars=(CC=gcc-12 CXX=g++-12) ;;
*)     die "unknown flavour '$flavour'" ;;
esac

kdir=$("$CKPT_ROOT/scripts/kunit-kernel.sh" "$flavour")
src=$(ls -d "$CKPT_CACHE"/src/linux-source-* | sort -V | tail -n1)
moddir=$(kmod_dir "$name")
logf=$(log_path "$name" test)
work=$CKPT_BUILD/$name
mkdir -p "$moddir" "$(dirname "$logf")" "$work"

# The module, built in a copy of the sources, as for the stock kernels.
rsync -a --delete --exclude '*.o' --exclude '*.ko' --exclude '.*.cmd' \
	"$CKPT_ROOT"/{Kbuild,include,src,arch,tests} "$moddir/"
mkdir -p "$moddir/scripts" && cp "$CKPT_ROOT"/scripts/Kbuild.cxx "$moddir/scripts/"
rm -f "$moddir"/*.ko
make -s -C "$kdir" M="$moddir" "${make_vars[@]}" modules >"$work/build.log" 2>&1 ||
	{ tail -n 30 "$work/build.log" >&2; die "module build against the $flavour kernel failed"; }

# A minimal initramfs: busybox, the two modules, an /init that loads them.
root=$work/root
rm -rf "$root" && mkdir -p "$root"/{bin,dev,proc,sys,tmp}
cp /bin/busybox "$root/bin/"
cp "$moddir/ckpt.ko" "$moddir/ckpt_kunit.ko" "$root/"
cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
insmod /ckpt.ko && insmod /ckpt_kunit.ko
rmmod ckpt_kunit; rmmod ckpt
if [ -e /sys/kernel/debug/kmemleak ] || mount -t debugfs none /sys/kernel/debug 2>/dev/null; then
	if [ -e /sys/kernel/debug/kmemleak ]; then
		echo scan > /sys/kernel/debug/kmemleak; echo scan > /sys/kernel/debug/kmemleak
		cat /sys/kernel/debug/kmemleak
	fi
fi
echo CKPT-KUNIT-DONE
reboot -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$work/initramfs.cpio.gz"

# The stock-kernel runs probe KVM once and cache the answer (scripts/qemu.sh).
accel=${CKPT_ACCEL:-$(cat "$CKPT_BUILD/accel" 2>/dev/null || echo tcg)}
timeout -k 10 "${CKPT_QEMU_TIMEOUT:-900}" qemu-system-x86_64 -accel "$accel" -cpu max -m 1024 -smp 2 \
	-nographic -no-reboot -nic none -kernel "$kdir/arch/x86/boot/bzImage" \
	-initrd "$work/initramfs.cpio.gz" -append "console=ttyS0 panic=-1 oops=panic" \
	</dev/null 2>&1 | tr -d '\r' >"$logf" || true

# KUNIT=y prints an empty boot-time document first, and kunit.py parse
# reads only the first document of a log: split, and parse each.
rm -f "$work"/ktap-*.txt "$work"/ktap-*.json
awk -v dir="$work" '/^(\[ *[0-9.]+\] )?KTAP version [0-9]+$/ { n++ } n { print > (dir "/ktap-" n ".txt") }' "$logf"
for doc in "$work"/ktap-*.txt; do
	[ -e "$doc" ] || continue
	grep -Eq '^(\[ *[0-9.]+\] )?1\.\.0$' "$doc" && continue
	python3 "$src/tools/testing/kunit/kunit.py" parse --json="${doc%.txt}.json" "$doc" >/dev/null 2>&1 || true
done

problems=$(grep -E 'BUG:|WARNING:|Oops|KASAN|UBSAN|possible circular|unreferenced object|Kernel panic' "$logf" | head -n 5 || true)
python3 - "$name" "$CKPT_ROOT/tests/kunit/cases.h" "$work" "$problems" <<'PY'
import glob, json, re, sys
name, cases_h, work, problems = sys.argv[1:5]
expected = re.findall(r'^\s+X\((\w+), (\w+)\)', open(cases_h).read(), re.M)
results = {}
for path in sorted(glob.glob(work + '/ktap-*.json')):
    for suite in json.load(open(path)).get('sub_groups', []):
        for case in suite.get('test_cases', []):
            results[(suite['name'], case['name'])] = case['status']
failed = 0
for suite, case in expected:
    status = results.get(('ckpt_' + suite, case))
    label = f'{name} ckpt_{suite}/{case}'
    if status == 'PASS':
        print(f'ok - {label}')
    elif status == 'SKIP':
        print(f'ok - {label} # SKIP')
    else:
        failed += 1
        print(f'not ok - {label}: ' + ('never reported (crash or hang?)' if status is None else status))
if problems:
    failed += 1
    print(f'not ok - {name} kernel-log: ' + problems.replace('\n', ' | '))
else:
    print(f'ok - {name} kernel-log')
sys.exit(1 if failed else 0)
PY

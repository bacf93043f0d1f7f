#!/usr/bin/env bash
# `make check`: set everything up (host packages, Debian kernels, CLI, e2e
# binaries), run the CLI's host tests, build and install the Debian packages
# in a chroot (scripts/pkg-test.sh: DKMS builds ckpt.ko for every kernel),
# then for every kernel build ckpt.ko from the tree, boot the kernel in QEMU
# with the DKMS-built ckpt.ko and run the guest suite.
#
# Prints one "ok - WHERE NAME" / "not ok - WHERE NAME: reason" line per test
# (WHERE is "host" or the kernel release) and, as the very last line,
# "N passed, N failed". Exits 0 iff nothing failed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-packages.sh"

SCRIPTS="$CKPT_ROOT/scripts"
PASSED=0
FAILED=0
SKIPPED=0

pass() {
	echo "ok - $1"
	PASSED=$((PASSED + 1))
}

failed() {
	echo "not ok - $1: $2"
	FAILED=$((FAILED + 1))
}

# Add a log's "ok"/"not ok" lines to the totals; "ok - ... # SKIP" is a skip.
count_lines() {
	local skips
	skips=$(grep -c '^ok - .* # SKIP' "$1" || true)
	PASSED=$((PASSED + $(grep -c '^ok - ' "$1" || true) - skips))
	SKIPPED=$((SKIPPED + skips))
	FAILED=$((FAILED + $(grep -c '^not ok - ' "$1" || true)))
}

# The last line, and the exit status.
finish() {
	local secs=$(($(date +%s) - START))
	log "finished in $((secs / 60))m$((secs % 60))s"
	echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
	((FAILED == 0)) && exit 0
	exit 1
}

# step NAME CMD...: a set-up step that counts as a test; its stderr (warnings
# or errors) is shown, and its last line is the reason when it fails.
step() {
	local name=$1 err rc=0
	shift
	err=$(mktemp)
	"$@" >/dev/null 2>"$err" || rc=$?
	cat "$err" >&2
	if ((rc == 0)); then
		pass "$name"
	else
		failed "$name" "$(tail -n 1 "$err")"
	fi
	rm -f "$err"
	return "$rc"
}

# The CLI's own tests (GoogleTest through CTest), if it has any.
# host_tests [DIR PREFIX CTEST-ARGS...]: the static build's, by default.
host_tests() {
	local dir=${1:-$CKPT_BUILD/cli} prefix=${2:-host ctest} out total failures skips
	shift 2 || true
	[ -d "$CKPT_ROOT/tools/ckpt/tests" ] || return 0
	if [ ! -f "$dir/CTestTestfile.cmake" ]; then
		failed "host ctest" "tools/ckpt/tests exists but $dir has no CTest tests"
		return 0
	fi
	out=$(mktemp)
	(cd "$dir" && ctest --output-on-failure -j"$(nproc)" "$@") >"$out" 2>&1 || true
	sed -n 's/^ *[0-9]*\/[0-9]* Test *#[0-9]*: \([^ ]*\) \.*\** *\([A-Za-z*]*\).*/\1 \2/p' "$out" |
		while read -r name status; do
			case "$status" in
			Passed) echo "ok - $prefix/$name" ;;
			# GTEST_SKIP(): ctest counts it among the passed.
			Skipped) echo "ok - $prefix/$name # SKIP the test skipped itself (GTEST_SKIP: ctest's log says why)" ;;
			*) echo "not ok - $prefix/$name: $status" ;;
			esac
		done
	read -r failures total < <(sed -n 's/.* \([0-9]*\) tests* failed out of \([0-9]*\).*/\1 \2/p' "$out") || true
	skips=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*[*]Skipped +[0-9.]+ sec' "$out" || true)
	if [ -z "${total:-}" ]; then
		cat "$out" >&2
		failed "$prefix" "no \"N tests failed out of M\" line in ctest's output"
	else
		((failures == 0)) || grep -A 40 'tests FAILED' "$out" >&2 || true
		PASSED=$((PASSED + total - failures - skips))
		FAILED=$((FAILED + failures))
		SKIPPED=$((SKIPPED + skips))
	fi
	rm -f "$out"
}

# In a subshell: a failed package install ends the step, not make check.
dynamic_cli_build() (
	local dir="$CKPT_BUILD/cli-dynamic"
	ensure_packages gdb
	mkdir -p "$dir"
	{ cmake -S "$CKPT_ROOT/tools/ckpt" -B "$dir" -DCKPT_TESTS=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
		cmake --build "$dir" -j"$(nproc)"; } >"$dir/build.log" 2>&1 ||
		{ tail -n 20 "$dir/build.log" >&2; die "the dynamic CLI build failed (log: $dir/build.log)"; }
)

# The ckpt.ko the guest suite runs on a stock kernel: the one DKMS built in
# scripts/pkg-test.sh's chroot, so that the installed package's module is
# the one tested (pkg/dkms-module fails when there is none, and the suite
# then runs the tree's build).  The KUnit kernels run the tree's build.
dkms_module() {
	printf '%s/pkg/kmod/%s/ckpt.ko\n' "$CKPT_BUILD" "$1"
}

# Build, boot and test one kernel; the guest's lines get the release added.
kernel_tests() {
	local rel=$1 logf rc=0 ko
	step "$rel module/build" "$SCRIPTS/build-module.sh" "$rel" || true
	ko=
	case "$rel" in
	kunit-*) ;;
	*)
		ko=$(dkms_module "$rel")
		[ -f "$ko" ] || { failed "$rel pkg/dkms-module" "no DKMS-built $ko: the suite runs the tree's build"; ko=; }
		;;
	esac
	CKPT_INITRAMFS_KO=$ko step "$rel initramfs" "$SCRIPTS/initramfs.sh" "$rel" || return 0
	if [ -n "$ko" ]; then
		if cmp -s "$ko" "$CKPT_BUILD/initramfs/$rel.root/ckpt/kmod/ckpt.ko"; then
			pass "$rel pkg/dkms-module"
		else
			failed "$rel pkg/dkms-module" "the initramfs does not hold $ko"
		fi
	fi
	log "booting $rel in QEMU (suite running)"
	"$SCRIPTS/qemu.sh" "$rel" test || rc=$?
	logf=$(log_path "$rel" test)
	# The test lines, and the fault campaign's summary.
	sed -n -e 's/^\(ok\|not ok\) - /\1 - '"$rel"' /p' -e 's/^# faults: /# '"$rel"' faults: /p' "$logf"
	count_lines "$logf"
	# gdb on the host opens the core of the image the guest exported.
	case "$rel" in
	kunit-*) ;;
	*) tap_script "$rel core/gdb" "$SCRIPTS/core-gdb-test.sh" "$rel core" "${logf%.log}.port" ;;
	esac
	if ((rc == 2)); then
		failed "$rel boot" "guest crashed, panicked or timed out before the end; see $logf"
	elif ((rc != 0)) && ! grep -q '^not ok - ' "$logf"; then
		failed "$rel suite" "guest suite failed without a failing test; see $logf"
	fi
}

# A host script that prints its own "ok"/"not ok" lines.
tap_script() {
	local name=$1 out rc=0
	shift
	out=$(mktemp)
	"$@" >"$out" || rc=$?
	cat "$out"
	count_lines "$out"
	if ((rc != 0)) && ! grep -q '^not ok - ' "$out"; then
		failed "$name" "$* failed without a failing test"
	fi
	rm -f "$out"
}

# Restore on the other kernel: each stock kernel's run exported an image
# (t46-cross.sh, virtio port ckpt.xk); each kernel boots once more, with
# only t10 and t46, and the other kernel's image added to its initramfs
# (a second cpio archive: the kernel unpacks both).
cross_kernel_tests() {
	local rels=("$@") rel other img dir initrd logf rc
	((${#rels[@]} == 2)) || return 0
	for rel in "${rels[@]}"; do
		other=${rels[0]}
		[ "$other" = "$rel" ] && other=${rels[1]}
		img=$(log_path "$other" test)
		img="${img%.log}.xk"
		if [ ! -s "$img" ]; then
			failed "$rel cross/restore" "$other's run exported no image ($img)"
			continue
		fi
		dir=$(mktemp -d)
		mkdir -p "$dir/ckpt/xk"
		cp "$img" "$dir/ckpt/xk/image"
		initrd="$CKPT_BUILD/initramfs/$rel-cross.cpio.gz"
		{
			cat "$(initramfs_path "$rel")"
			(cd "$dir" && find ckpt | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1)
		} >"$initrd"
		rm -rf "$dir"
		log "booting $rel in QEMU with $other's image (cross-kernel restore)"
		rc=0
		CKPT_QEMU_INITRD=$initrd CKPT_QEMU_TAG=cross CKPT_QEMU_APPEND="ckpt.only=t10,t46" \
			"$SCRIPTS/qemu.sh" "$rel" test || rc=$?
		logf=$(log_path "$rel" test-cross)
		sed -n 's/^\(ok\|not ok\) - /\1 - '"$rel"' /p' "$logf"
		count_lines "$logf"
		if ((rc == 2)); then
			failed "$rel cross boot" "guest crashed, panicked or timed out before the end; see $logf"
		elif ((rc != 0)) && ! grep -q '^not ok - ' "$logf"; then
			failed "$rel cross suite" "guest suite failed without a failing test; see $logf"
		fi
	done
}

# The C++ core also builds with clang++ against a gcc-built stock kernel
# (make CXX=clang++-16); the fast KUnit kernel runs a clang++ build.
clangxx_build() {
	local rel=$1
	"$SCRIPTS/build-module.sh" "$rel" >/dev/null 2>&1 || return 1
	make -s -C "$(kernel_kdir "$rel")" M="$(kmod_dir "$rel")" CXX=clang++-16 clean &&
		make -s -C "$(kernel_kdir "$rel")" M="$(kmod_dir "$rel")" CXX=clang++-16 modules &&
		modinfo "$(kmod_dir "$rel")/ckpt.ko" >/dev/null &&
		"$SCRIPTS/build-module.sh" "$rel"	# back to the g++ build for the suite
}

# The KUnit suites on a KUnit kernel built from Debian's linux-source.
kunit_tests() {
	local flavour=$1 out rc=0
	out=$(mktemp)
	log "KUnit on the $flavour test kernel (built once, then cached)"
	"$SCRIPTS/kunit.sh" "$flavour" >"$out" || rc=$?
	cat "$out"
	count_lines "$out"
	if ((rc != 0)) && ! grep -q '^not ok - ' "$out"; then
		failed "kunit-$flavour" "scripts/kunit.sh $flavour failed; see $(log_path "kunit-$flavour" test)"
	fi
	rm -f "$out"
}

# The whole e2e suite again, on the debug KUnit kernel (KASAN, lockdep,
# UBSAN, DEBUG_VM, kmemleak, fault injection), registered as a release
# named kunit-debug so that the stock-kernel scripts can boot it.
debug_kernel_tests() {
	local kdir dir
	log "building or reusing the debug test kernel"
	kdir=$("$SCRIPTS/kunit-kernel.sh" debug) || { failed "kunit-debug kernel" "scripts/kunit-kernel.sh debug failed"; return 0; }
	dir=$(kernel_dir kunit-debug)
	mkdir -p "$dir/boot"
	ln -sfn "$kdir" "$dir/kdir"
	ln -sfn "$kdir/arch/x86/boot/bzImage" "$dir/boot/vmlinuz-kunit-debug"
	touch "$dir/.unpacked"
	CKPT_QEMU_TIMEOUT=${CKPT_QEMU_TIMEOUT:-1500} kernel_tests kunit-debug
}

main() {
	local releases rel
	START=$(date +%s)
	log "setting up kernels and host packages"
	releases=$("$SCRIPTS/kernels.sh") || { failed "host setup" "scripts/kernels.sh failed"; finish; }
	step "host e2e/build" "$SCRIPTS/build-targets.sh" || finish
	step "host cli/build" "$SCRIPTS/build-cli.sh" && host_tests
	# A dynamic ckpt, so that the fake module (an LD_PRELOAD) can stand in
	# for ckpt.ko: dump, and ckpt core checked with gdb.
	step "host cli/build-dynamic" dynamic_cli_build &&
		host_tests "$CKPT_BUILD/cli-dynamic" "host ctest-dynamic" -R '^ckpt_cli$'
	tap_script "host core" "$SCRIPTS/host-tests.sh"
	tap_script "host fuzz" "$SCRIPTS/fuzz.sh" "${CKPT_FUZZ_SECONDS:-60}"
	tap_script "host pkg" "$SCRIPTS/pkg-test.sh" $releases
	for rel in $releases; do
		step "$rel module/build-clang++" clangxx_build "$rel" || true
		kernel_tests "$rel"
	done
	# shellcheck disable=SC2086 # a list of releases
	cross_kernel_tests $releases
	kunit_tests fast
	kunit_tests debug
	debug_kernel_tests
	finish
}

main "$@"

#!/usr/bin/env bash
# Host tests of the C++ core (tests/host): src/core against a fake bridge,
# with GoogleTest.  Builds them twice, plainly (build/host) and with ASan +
# UBSan halting on the first error (build/host-asan), runs every test of
# both, and prints one line per test:
#   ok - host core/SUITE.CASE           ok - host core-asan/SUITE.CASE
#   not ok - host core/SUITE.CASE: reason
# A test that crashes (a sanitizer report) is named with the report's
# summary, and the rest of its build's tests still run.  Logs go to
# build/host*/tests.log.  Exit status 0 iff every test passed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-packages.sh"

SRC="$CKPT_ROOT/tests/host"
JOBS=$(($(nproc) < 2 ? $(nproc) : 2))
FAILED=0

# build DIR [CMAKE ARGS...]: configure and build; the output only on failure.
build() {
	local dir=$1 out rc=0
	shift
	out=$(mktemp)
	{ cmake -S "$SRC" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" &&
		cmake --build "$dir" -j"$JOBS"; } >"$out" 2>&1 || rc=$?
	if ((rc != 0)); then
		cat "$out" >&2
		BUILD_ERROR=$(grep -m1 -E 'error|Error' "$out" || tail -n 1 "$out")
	fi
	rm -f "$out"
	return "$rc"
}

# "Suite.Case" for every test the binary has.
list_tests() {
	"$1" --gtest_list_tests | awk '
		/^[^ ]/ { suite = $1; next }
		/^  /   { print suite $1 }'
}

# run_tests PREFIX BINARY LOG: runs every test, and again what is left after
# a crash, until each test has a line.  Prints the lines; counts failures.
run_tests() {
	local prefix=$1 bin=$2 log=$3 rc out err crashed reason
	local -a remaining reported left
	local t
	local -A seen=()
	mapfile -t remaining < <(list_tests "$bin")
	if ((${#remaining[@]} == 0)); then
		echo "not ok - $prefix/list: the test binary lists no tests"
		FAILED=$((FAILED + 1))
		return
	fi
	: >"$log"
	out=$(mktemp)
	err=$(mktemp)
	while ((${#remaining[@]})); do
		rc=0
		CKPT_TAP_PREFIX="$prefix" \
			ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=0 \
			UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
			"$bin" --gtest_filter="$(IFS=:; echo "${remaining[*]}")" >"$out" 2>"$err" || rc=$?
		cat "$out" "$err" >>"$log"
		grep -E '^(not )?ok - ' "$out" || true
		FAILED=$((FAILED + $(grep -c '^not ok - ' "$out" || true)))
		mapfile -t reported < <(sed -n -E 's/^(not )?ok - [^/]*\/([^: ]+).*/\2/p' "$out")
		for t in "${reported[@]}"; do seen[$t]=1; done
		crashed=""
		if ((rc != 0)); then
			crashed=$(sed -n 's/^# start //p' "$out" | tail -n 1)
			[ -n "$crashed" ] && [ -n "${seen[$crashed]:-}" ] && crashed=""
		fi
		if [ -n "$crashed" ]; then
			reason=$(grep -m1 -E 'runtime error|ERROR: [A-Za-z]+Sanitizer|^SUMMARY: ' "$err" || true)
			echo "not ok - $prefix/$crashed: crashed (exit $rc): ${reason:-see $log}"
			FAILED=$((FAILED + 1))
			seen[$crashed]=1
		elif ((rc != 0)) && ((${#reported[@]} == 0)); then
			for t in "${remaining[@]}"; do echo "not ok - $prefix/$t: not run: the test binary failed (exit $rc), see $log"; done
			FAILED=$((FAILED + ${#remaining[@]}))
			break
		elif ((rc != 0)) && ! grep -q '^not ok - ' "$out"; then
			# Every test passed, yet the process failed: a leak report at exit.
			reason=$(grep -m1 -E 'ERROR: [A-Za-z]+Sanitizer|^SUMMARY: ' "$err" || true)
			echo "not ok - $prefix/exit: the test binary exited with $rc: ${reason:-see $log}"
			FAILED=$((FAILED + 1))
		fi
		left=()
		for t in "${remaining[@]}"; do [ -n "${seen[$t]:-}" ] || left+=("$t"); done
		remaining=("${left[@]}")
		((rc != 0)) || break
	done
	rm -f "$out" "$err"
}

main() {
	local name dir
	ensure_packages cmake make g++ libgtest-dev linux-libc-dev
	for name in core core-asan; do
		dir="$CKPT_BUILD/host"
		local args=()
		if [ "$name" = core-asan ]; then
			dir="$CKPT_BUILD/host-asan"
			args=(-DCKPT_SANITIZE=ON)
		fi
		BUILD_ERROR=""
		if ! build "$dir" "${args[@]}"; then
			echo "not ok - host $name/build: ${BUILD_ERROR:-cmake failed}"
			FAILED=$((FAILED + 1))
			continue
		fi
		run_tests "host $name" "$dir/ckpt_host_tests" "$dir/tests.log"
	done
	((FAILED == 0))
}

main "$@"

#!/usr/bin/env bash
# Build the static ckpt CLI (tools/ckpt) into build/cli/ckpt, with its
# GoogleTest tests when tools/ckpt/tests exists. CMake's output is shown only
# when the build fails. Prints the binary's path.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

main() {
	local src="$CKPT_ROOT/tools/ckpt" dir="$CKPT_BUILD/cli" out rc=0 tests=OFF
	[ -f "$src/CMakeLists.txt" ] || die "no CLI sources yet: $src/CMakeLists.txt is missing"
	[ -d "$src/tests" ] && tests=ON
	out=$(mktemp)
	{ cmake -S "$src" -B "$dir" -DCKPT_STATIC=ON -DCKPT_TESTS=$tests -DCMAKE_BUILD_TYPE=Release &&
		cmake --build "$dir" -j"$(nproc)"; } >"$out" 2>&1 || rc=$?
	if ((rc != 0)); then
		cat "$out" >&2
		rm -f "$out"
		die "CLI build failed (exit $rc)"
	fi
	rm -f "$out"
	[ -x "$(cli_binary)" ] || die "CLI build succeeded but $(cli_binary) is missing"
	printf '%s\n' "$(cli_binary)"
}

main "$@"

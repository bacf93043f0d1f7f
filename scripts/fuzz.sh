#!/usr/bin/env bash
# Fuzz the CLI's image reader (tools/ckpt/src/image_reader.cpp) with
# libFuzzer, ASan and UBSan: scripts/fuzz.sh [SECONDS] (default 60; 3600 for
# a long run).  The seed corpus is real images: the C++ core writes them
# against the fake bridge of tests/host (build/fuzz/corpus, regenerated each
# run); what the fuzzer finds accumulates in build/fuzz/work.  Prints
#   ok - host fuzz/image_reader (N execs, M s)
#   not ok - host fuzz/image_reader: crash, reproducer at PATH
# and exits non-zero on a finding.  Reproduce with:
#   build/fuzz/build/image_reader_fuzzer PATH
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-packages.sh"

NAME="host fuzz/image_reader"
FUZZ="$CKPT_BUILD/fuzz"
JOBS=$(($(nproc) < 2 ? $(nproc) : 2))

fail() {
	echo "not ok - $NAME: $1"
	exit 1
}

# build SRC DIR TARGET [CMAKE ARGS...]: output only on failure.
build() {
	local src=$1 dir=$2 target=$3 out
	shift 3
	out=$(mktemp)
	if ! { cmake -S "$src" -B "$dir" "$@" && cmake --build "$dir" -j"$JOBS" --target "$target"; } >"$out" 2>&1; then
		cat "$out" >&2
		rm -f "$out"
		return 1
	fi
	rm -f "$out"
}

main() {
	local seconds=${1:-60} log rc=0 start elapsed execs artifact
	if ! [[ "$seconds" =~ ^[0-9]+$ ]] || ((seconds == 0)); then die "usage: $0 [SECONDS]"; fi
	ensure_packages cmake make g++ clang-16 llvm-16 libclang-rt-16-dev libgtest-dev linux-libc-dev

	build "$CKPT_ROOT/tests/host" "$FUZZ/generator" ckpt_corpus_generator || fail "the corpus generator (tests/host) does not build"
	rm -rf "$FUZZ/corpus"
	mkdir -p "$FUZZ/corpus" "$FUZZ/work" "$FUZZ/artifacts"
	"$FUZZ/generator/ckpt_corpus_generator" "$FUZZ/corpus" || fail "the corpus generator failed"
	build "$CKPT_ROOT/tests/fuzz" "$FUZZ/build" image_reader_fuzzer -DCMAKE_CXX_COMPILER=clang++-16 || fail "the fuzz target does not build"

	log="$FUZZ/fuzz.log"
	log "fuzzing for ${seconds}s ($(find "$FUZZ/corpus" -type f | wc -l) seeds; log in $log)"
	start=$(date +%s)
	ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-16/bin/llvm-symbolizer \
		"$FUZZ/build/image_reader_fuzzer" -max_len=65536 -max_total_time="$seconds" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 -dict="$CKPT_ROOT/tests/fuzz/image.dict" \
		-artifact_prefix="$FUZZ/artifacts/" "$FUZZ/work" "$FUZZ/corpus" >"$log" 2>&1 || rc=$?
	elapsed=$(($(date +%s) - start))

	if ((rc != 0)); then
		artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
		grep -m1 -E 'ERROR: |runtime error|broke a rule|breaks a rule' "$log" >&2 || tail -n 20 "$log" >&2
		[ -n "$artifact" ] || fail "the fuzzer failed (exit $rc) without a reproducer, see $log"
		fail "$(basename "$artifact" | sed 's/-.*//'), reproducer at $artifact"
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	echo "ok - $NAME (${execs:-?} execs, ${elapsed} s)"
}

main "$@"

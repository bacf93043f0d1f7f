#!/usr/bin/env bash
# `ckpt core` against copying the same bytes, on the host (no QEMU, no
# module: the image comes from the CLI tests' fake dump of a live process).
# Issue 10's goal: converting an image costs at most 1.5x copying it.
#
#   CKPT_BENCH_CORE_MIB   size of the target's memory (default 1024)
#   CKPT_BENCH_REPS       repetitions (default 5); medians are reported
#   CKPT_BENCH_DIR        where image, copy and core go (default /dev/shm
#                         when it has room, so the disk does not decide)
# Prints one line per method and the ratios; exits 1 if a run failed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mib=${CKPT_BENCH_CORE_MIB:-1024}
reps=${CKPT_BENCH_REPS:-5}
cli="$CKPT_BUILD/cli/ckpt"
fake="$CKPT_BUILD/cli/tests/ckpt-test-image"

pick_dir() {
	local free
	if [ -n "${CKPT_BENCH_DIR:-}" ]; then echo "$CKPT_BENCH_DIR"; return; fi
	free=$(df -Pm /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }')
	if [ -n "$free" ] && [ "$free" -gt $((mib * 3 + 512)) ]; then echo /dev/shm; else echo "$CKPT_BUILD"; fi
}

# seconds COMMAND...: wall-clock seconds of one run, to the millisecond.
seconds() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null
	t1=$(date +%s%N)
	echo "$(((t1 - t0) / 1000000))" | awk '{ printf "%.3f", $1 / 1000 }'
}

work=
pid=

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

main() {
	local dir i t_cat t_core t_verify
	[ -x "$cli" ] && [ -x "$fake" ] || "$(dirname "$0")/build-cli.sh" >/dev/null
	dir=$(pick_dir)
	work=$(mktemp -d "$dir/ckpt-bench-core.XXXXXX")
	trap 'rm -rf "$work"; [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true' EXIT
	# A process with MIB MiB of random (incompressible, non-zero) memory.
	python3 -c "
import os, sys, time
b = bytearray(os.urandom(1 << 20)) * $mib
open(sys.argv[1], 'w').write('ready')
time.sleep(3600)" "$work/ready" &
	pid=$!
	for i in $(seq 600); do [ -s "$work/ready" ] && break; sleep 0.1; done
	[ -s "$work/ready" ] || { echo "bench-core: the target did not start" >&2; return 1; }
	"$fake" fake-dump "$pid" >"$work/image"
	kill "$pid"
	pid=
	log "ckpt core: $(du -h --apparent-size "$work/image" | cut -f1) image in $dir, $reps repetitions"
	: >"$work/cat.t"
	: >"$work/core.t"
	: >"$work/verify.t"
	for i in $(seq "$reps"); do
		rm -f "$work/copy" "$work/core"
		seconds sh -c "cat '$work/image' >'$work/copy'" >>"$work/cat.t"
		echo >>"$work/cat.t"
		rm -f "$work/copy"
		seconds "$cli" core "$work/image" -o "$work/core" >>"$work/core.t"
		echo >>"$work/core.t"
		rm -f "$work/core"
		seconds "$cli" verify "$work/image" >>"$work/verify.t"
		echo >>"$work/verify.t"
	done
	t_cat=$(median <"$work/cat.t")
	t_core=$(median <"$work/core.t")
	t_verify=$(median <"$work/verify.t")
	printf 'bench-core: cat (the copy) %s s, ckpt core %s s, ckpt verify %s s (medians of %s)\n' \
		"$t_cat" "$t_core" "$t_verify" "$reps"
	awk -v a="$t_core" -v b="$t_cat" 'BEGIN {
		r = a / b
		printf "bench-core: ckpt core / copy = %.2fx (goal <= 1.5x: %s)\n", r, r <= 1.5 ? "MET" : "NOT MET"
	}'
}

main "$@"

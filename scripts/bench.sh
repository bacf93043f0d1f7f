#!/usr/bin/env bash
# `make bench`: the benchmark of Documentation/benchmark.md.  Sets up like
# `make demo` (packages, the newest Debian 6.12 kernel, CLI, ckpt.ko) plus
# CRIU and gnuplot, boots the kernel in QEMU where tests/bench/guest/bench.sh
# measures every workload, then scripts/bench-report.py prints the table and
# the goals and writes build/bench/{raw.csv,summary.csv,bench.png}.
#
#   CKPT_BENCH_REPS   repetitions per method and workload (default 5)
#   CKPT_BENCH_ONLY   comma list of workloads to run (default: all)
#   CKPT_SERIES       kernel series to boot (default 6.12)
# Exit 0 when every measurement ran and every dump checked out (goals met
# or not: the report says which), 1 otherwise.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-packages.sh"

SCRIPTS="$CKPT_ROOT/scripts"

main() {
	local rel out="$CKPT_BUILD/bench" reps=${CKPT_BENCH_REPS:-5} append
	ensure_packages criu gnuplot-nox python3
	log "setting up (packages, kernel, CLI, module)"
	rel=$(CKPT_SERIES=${CKPT_SERIES:-6.12} "$SCRIPTS/kernels.sh" | head -n 1)
	"$SCRIPTS/build-targets.sh"
	"$SCRIPTS/build-cli.sh" >/dev/null
	"$SCRIPTS/build-module.sh" "$rel" >/dev/null
	CKPT_INITRAMFS_CRIU=1 "$SCRIPTS/initramfs.sh" "$rel" >/dev/null
	append="ckpt.reps=$reps"
	[ -n "${CKPT_BENCH_ONLY:-}" ] && append+=" ckpt.only=$CKPT_BENCH_ONLY"
	log "benchmarking in QEMU on $rel, $reps repetitions (about 30 min under TCG)"
	mkdir -p "$out"
	# A 1 GiB target, its 1 GiB image and the copy limit's 1 GiB buffer at once.
	CKPT_QEMU_MEM=${CKPT_QEMU_MEM:-4608} CKPT_QEMU_APPEND="$append" CKPT_QEMU_STREAM=1 \
		CKPT_QEMU_TIMEOUT=${CKPT_QEMU_TIMEOUT:-7200} "$SCRIPTS/qemu.sh" "$rel" bench |
		grep --line-buffered -E '^(# |CKPT-BENCH-CHECK .* ok=0|bench: )' >&2 ||
		die "the benchmark guest failed; its console log is $(log_path "$rel" bench)"
	python3 "$SCRIPTS/bench-report.py" --log "$(log_path "$rel" bench)" --out "$out" \
		--kernel "$rel" --host "$(nproc) CPUs, accel $(cat "$CKPT_BUILD/accel" 2>/dev/null || echo '?')"
}

main "$@"

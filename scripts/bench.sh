#!/usr/bin/env bash
# `make bench`: the benchmark of Documentation/benchmark.md.  Sets up like
# `make demo` (packages, the newest Debian 6.12 kernel, CLI, ckpt.ko) plus
# CRIU and gnuplot, boots the kernel in QEMU where tests/bench/guest/bench.sh
# measures every workload, then scripts/bench-report.py prints the table and
# the goals and writes build/bench/{raw.csv,summary.csv,bench.png}; last,
# scripts/bench-core.sh compares `ckpt core` with a copy on the host.
#
#   CKPT_BENCH_REPS   repetitions per method and workload (default 5)
#   CKPT_BENCH_ONLY   comma list of workloads to run (default: all)
#   CKPT_SERIES       kernel series to boot (default 6.12)
#   CKPT_BENCH_CPUS   QEMU CPU models, one guest each (default "max qemu64",
#                     and "host" when KVM works): emulated CPUs differ in
#                     what is cheap (qemu64 has no crc32 instruction and no
#                     fast rep movsb), so each model gets its own table
#   CKPT_BENCH_CHECKSUM crc32c or xxh64: load the module with that record
#                     checksum instead of its own choice; the report goes to
#                     build/bench/MODEL-CHECKSUM
# Exit 0 when every measurement ran and every dump checked out (goals met
# or not: the report says which), 1 otherwise.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-packages.sh"

SCRIPTS="$CKPT_ROOT/scripts"

main() {
	local rel reps=${CKPT_BENCH_REPS:-5} append cpus cpu accel rc=0
	case ${CKPT_BENCH_CHECKSUM:-} in
	"" | crc32c | xxh64) ;;
	*) die "CKPT_BENCH_CHECKSUM=$CKPT_BENCH_CHECKSUM: crc32c or xxh64" ;;
	esac
	ensure_packages criu gnuplot-nox python3
	log "setting up (packages, kernel, CLI, module)"
	rel=$(CKPT_SERIES=${CKPT_SERIES:-6.12} "$SCRIPTS/kernels.sh" | head -n 1)
	"$SCRIPTS/build-targets.sh"
	"$SCRIPTS/build-cli.sh" >/dev/null
	"$SCRIPTS/build-module.sh" "$rel" >/dev/null
	CKPT_INITRAMFS_CRIU=1 "$SCRIPTS/initramfs.sh" "$rel" >/dev/null
	append="ckpt.reps=$reps"
	[ -n "${CKPT_BENCH_ONLY:-}" ] && append+=" ckpt.only=$CKPT_BENCH_ONLY"
	[ -n "${CKPT_BENCH_CHECKSUM:-}" ] && append+=" ckpt.checksum=$CKPT_BENCH_CHECKSUM"
	accel=$(cat "$CKPT_BUILD/accel" 2>/dev/null || echo tcg)
	cpus=${CKPT_BENCH_CPUS:-max qemu64}
	[ -z "${CKPT_BENCH_CPUS:-}" ] && [ "$accel" = kvm ] && cpus+=" host"
	for cpu in $cpus; do
		bench_cpu "$rel" "$cpu" "$append" "$reps" || rc=1
	done
	# ckpt core against a copy: on the host, no guest needed.
	CKPT_BENCH_REPS=$reps "$SCRIPTS/bench-core.sh" || rc=1
	return $rc
}

# bench_cpu RELEASE MODEL APPEND REPS: one guest with QEMU's CPU MODEL; its
# report goes to build/bench/MODEL.
bench_cpu() {
	local rel=$1 cpu=$2 append=$3 reps=$4 name=$2${CKPT_BENCH_CHECKSUM:+-$CKPT_BENCH_CHECKSUM}
	local out="$CKPT_BUILD/bench/$name" logf
	logf=$(log_path "$rel" "bench-$name")
	log "benchmarking in QEMU (-cpu $cpu) on $rel, $reps repetitions (about 30 min under TCG)"
	mkdir -p "$out"
	# A 1 GiB target, its 1 GiB image and the copy limit's 1 GiB buffer at once.
	if ! CKPT_QEMU_CPU=$cpu CKPT_QEMU_TAG=${CKPT_BENCH_CHECKSUM:-} CKPT_QEMU_MEM=${CKPT_QEMU_MEM:-4608} CKPT_QEMU_APPEND="$append" \
		CKPT_QEMU_STREAM=1 CKPT_QEMU_TIMEOUT=${CKPT_QEMU_TIMEOUT:-7200} "$SCRIPTS/qemu.sh" "$rel" bench |
		grep --line-buffered -E '^(# |CKPT-BENCH-CHECK .* ok=0|bench: )' >&2; then
		log "the benchmark guest (-cpu $cpu) failed; its console log is $logf"
		return 1
	fi
	python3 "$SCRIPTS/bench-report.py" --log "$logf" --out "$out" --kernel "$rel" \
		--host "$(nproc) CPUs, accel $(cat "$CKPT_BUILD/accel" 2>/dev/null || echo '?'), -cpu $cpu"
}

main "$@"

#!/usr/bin/env bash
# gdb on `ckpt core` of an image of tests/e2e/targets/ckpt-gdb-target:
#   scripts/core-gdb-test.sh PREFIX IMAGE [BINARY]
# writes the core next to IMAGE, opens it with gdb in batch mode with the
# target's binary (default: the e2e build's) and checks what the target
# set up (see its header): five threads, every worker's frames with its
# argument and local, the main thread's, %xmm7 of each thread, a global
# and a heap object.  Prints one TAP line per check:
#   ok - PREFIX/gdb-threads        not ok - PREFIX/gdb-xmm7: reason
# Exit status 0 iff every check passed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

FAILED=0
PREFIX=
GDB_OUT=

check() {
	local name=$1 ok=$2 why=${3:-}
	if [ "$ok" = 1 ]; then
		echo "ok - $PREFIX/$name"
	else
		echo "not ok - $PREFIX/$name: $why"
		FAILED=$((FAILED + 1))
	fi
}

# has TEXT: gdb printed TEXT (a fixed string).
has() { grep -qF -- "$1" "$GDB_OUT"; }
# bit CMD...: 1 if CMD succeeds, else 0.
bit() { if "$@"; then echo 1; else echo 0; fi; }

main() {
	local image bin core ckpt n i v hi frames
	[ $# -ge 2 ] || die "usage: $0 PREFIX IMAGE [BINARY]"
	PREFIX=$1 image=$2 bin=${3:-$(e2e_bindir)/ckpt-gdb-target}
	ckpt=$(cli_binary)
	[ -s "$image" ] || { check gdb-core 0 "no image at $image (the guest did not export one)"; exit 1; }
	[ -x "$bin" ] || die "$bin missing (run scripts/build-targets.sh)"
	command -v gdb >/dev/null || die "gdb is missing (apt-get install gdb)"
	core="${image%.*}.core"
	GDB_OUT="${image%.*}.gdb.txt"
	if ! "$ckpt" core "$image" -o "$core" >"$GDB_OUT" 2>&1; then
		check gdb-core 0 "ckpt core failed: $(tail -n 3 "$GDB_OUT" | tr '\n' ' ')"
		exit 1
	fi
	check gdb-core 1
	gdb -batch -nx -ex 'set pagination off' -ex 'set width 0' -ex 'info threads' \
		-ex 'thread apply all bt full' -ex 'thread apply all p/x $xmm7.v2_int64' \
		-ex 'p/x gdb_magic' -ex 'p *gdb_heap' "$bin" "$core" >"$GDB_OUT" 2>&1 || true

	n=$(grep -cE '^[* ] +[0-9]+ +(Thread 0x[0-9a-f]+ \(LWP|LWP) [0-9]+' "$GDB_OUT" || true)
	check gdb-threads "$([ "$n" = 5 ] && echo 1 || echo 0)" "gdb lists $n threads, the target has 5"

	# Every worker N: thread_main (arg=0xN) calling wait_here (depth=N) whose
	# local_marker is 4242 + N.
	frames=1
	for i in 0 1 2 3; do
		if ! has "thread_main (arg=0x$i)" || ! has "wait_here (depth=$i, say_ready=0)" ||
			! has "local_marker = $((4242 + i))"; then
			frames=0
		fi
	done
	check gdb-worker-frames "$frames" "a worker's frames, argument or local are missing: $(grep -E 'wait_here|thread_main' "$GDB_OUT" | head -n 10 | tr '\n' ' ')"
	main_frames() {
		has "wait_here (depth=9, say_ready=1)" && has "local_marker = 4251" &&
			grep -qE ' in main \(\) at ' "$GDB_OUT"
	}
	check gdb-main-frames "$(bit main_frames)" "the main thread's frames: $(grep -E 'wait_here|main' "$GDB_OUT" | head -n 4 | tr '\n' ' ')"

	# %xmm7 = {V, ~V} in every thread.
	local xmm=1
	for v in 1111111111111111 2222222222222222 3333333333333333 4444444444444444 9999999999999999; do
		hi=$(printf '%x' $((~0x$v & 0xffffffffffffffff)))
		if ! has "{0x$v, 0x$hi}"; then xmm=0; fi
	done
	check gdb-xmm7 "$xmm" "%xmm7 of some thread is wrong: $(grep -E '^\$[0-9]+ = \{0x' "$GDB_OUT" | tr '\n' ' ')"

	check gdb-global "$(bit has '= 0x636b70742d676462')" "gdb_magic: $(grep -A0 -E '0x636b|gdb_magic' "$GDB_OUT" | head -n 2 | tr '\n' ' ')"
	check gdb-heap "$(bit grep -qE 'magic = 4277009102, name = "heap node(\\000)*"' "$GDB_OUT")" "*gdb_heap: $(grep -E 'magic' "$GDB_OUT" | head -n 2 | tr '\n' ' ')"
	((FAILED == 0))
}

main "$@"

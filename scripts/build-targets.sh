#!/usr/bin/env bash
# Build the end-to-end targets (tests/e2e/targets/*.c), helpers
# (tests/e2e/helpers/*.c) and the benchmark's programs (tests/bench/*.c) as
# static binaries into build/e2e/bin/.
# A binary is rebuilt only when its source or a shared header is newer.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

CC=${CC:-gcc}
CFLAGS=(-O2 -g -static -pthread -Wall -Wextra -Werror -I"$CKPT_ROOT/include/uapi")

up_to_date() {
	local bin=$1 src=$2 dep
	[ -x "$bin" ] && [ "$bin" -nt "$src" ] || return 1
	for dep in "$CKPT_ROOT"/tests/e2e/lib/*.h "$CKPT_ROOT/include/uapi/linux/ckpt.h"; do
		[ "$bin" -nt "$dep" ] || return 1
	done
}

main() {
	local bindir src bin
	bindir=$(e2e_bindir)
	mkdir -p "$bindir"
	for src in "$CKPT_ROOT"/tests/e2e/targets/*.c "$CKPT_ROOT"/tests/e2e/helpers/*.c \
		"$CKPT_ROOT"/tests/bench/*.c; do
		bin="$bindir/$(basename "$src" .c)"
		up_to_date "$bin" "$src" && continue
		"$CC" "${CFLAGS[@]}" -o "$bin.tmp" "$src" || die "building $src failed"
		mv "$bin.tmp" "$bin"
	done
}

main "$@"

#!/usr/bin/env bash
# Build ckpt.ko for one kernel release out of the source tree:
#   build/kmod/RELEASE/ is an rsync'ed copy of the module sources, built with
#   make -C /usr/src/linux-headers-RELEASE M=build/kmod/RELEASE modules
# Prints the path of the built ckpt.ko. Kbuild output is shown only on
# failure or when it has warnings.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# What the module is made of (paths relative to the repository root);
# scripts/Kbuild* are kbuild fragments the top-level Kbuild includes.
MODULE_SOURCES=(Kbuild Makefile src include arch tests/kunit)
for f in "$CKPT_ROOT"/scripts/Kbuild*; do
	[ -e "$f" ] && MODULE_SOURCES+=("scripts/${f##*/}")
done
# Build products: never copied from the source tree, never deleted in the copy.
ARTIFACTS=('*.o' '*.ko' '*.mod' '*.mod.c' '*.a' '.*.cmd' '.*.d' '*.d' '*.o.d'
	modules.order Module.symvers '.tmp*' '*.dwo' '*.su' '*.s')

sync_sources() {
	local dest=$1 path args=()
	for path in "${ARTIFACTS[@]}"; do args+=(--exclude="$path"); done
	mkdir -p "$dest"
	for path in "${MODULE_SOURCES[@]}"; do
		if [ -d "$CKPT_ROOT/$path" ]; then
			mkdir -p "$dest/$path"
			rsync -a --delete "${args[@]}" "$CKPT_ROOT/$path/" "$dest/$path/"
		elif [ -e "$CKPT_ROOT/$path" ]; then
			mkdir -p "$(dirname "$dest/$path")"
			rsync -a "$CKPT_ROOT/$path" "$dest/$path"
		else
			rm -rf "${dest:?}/$path"
		fi
	done
}

main() {
	local rel=${1:-} kdir dest out rc=0
	[ -n "$rel" ] || die "usage: $0 RELEASE"
	kdir=$(kernel_kdir "$rel")
	[ -f "$kdir/Makefile" ] || die "no kernel headers in $kdir (run scripts/kernels.sh)"
	[ -f "$CKPT_ROOT/Kbuild" ] || die "no module sources yet: $CKPT_ROOT/Kbuild is missing"
	command -v rsync >/dev/null || die "rsync is missing (scripts/kernels.sh installs it)"
	dest=$(kmod_dir "$rel")
	sync_sources "$dest"
	out=$(mktemp)
	make -C "$kdir" M="$dest" -j"$(nproc)" modules >"$out" 2>&1 || rc=$?
	if ((rc != 0)); then
		cat "$out" >&2
		rm -f "$out" "$dest/ckpt.ko"	# never test a stale module
		die "module build for $rel failed (exit $rc)"
	fi
	grep -iE 'warning|error' "$out" >&2 || true
	rm -f "$out"
	[ -f "$dest/ckpt.ko" ] || die "make succeeded but $dest/ckpt.ko is missing"
	printf '%s\n' "$dest/ckpt.ko"
}

main "$@"

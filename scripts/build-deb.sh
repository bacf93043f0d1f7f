#!/usr/bin/env bash
# `make deb`: build the Debian packages with dpkg-buildpackage (debhelper,
# dh-dkms): ckpt-dkms (the module's sources, built by DKMS for every kernel
# with headers) and ckpt (the CLI, ckpt(1), bash completion,
# <linux/ckpt.h>).  The build runs in a copy of the tree,
# build/deb/ckpt-VERSION/; the packages land in build/deb/.  Installs the
# build dependencies it lacks.  Prints the paths of the two .deb files.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$CKPT_ROOT/scripts/lib-packages.sh"

# debian/control's Build-Depends, and what builds a binary package.
BUILD_PACKAGES=(dpkg-dev debhelper dh-dkms cmake g++ make rsync)

# The files of the source tree: git's list when this is a checkout (what is
# committed plus new files not ignored), else everything but build/.
source_files() {
	if git -C "$CKPT_ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git -C "$CKPT_ROOT" ls-files -z --cached --others --exclude-standard
	else
		(cd "$CKPT_ROOT" && find . -path ./build -prune -o -type f -print0)
	fi
}

main() {
	local out="$CKPT_BUILD/deb" version src log rc=0 arch debs deb
	ensure_packages "${BUILD_PACKAGES[@]}"
	version=$(dpkg-parsechangelog -l "$CKPT_ROOT/debian/changelog" -S Version)
	arch=$(dpkg --print-architecture)
	src="$out/ckpt-$version"
	rm -rf "$out"
	mkdir -p "$src"
	source_files | rsync -a --from0 --files-from=- "$CKPT_ROOT/" "$src/"
	log="$out/build.log"
	(cd "$src" && dpkg-buildpackage -us -uc -b) >"$log" 2>&1 || rc=$?
	if ((rc != 0)); then
		tail -n 40 "$log" >&2
		die "dpkg-buildpackage failed (exit $rc); the whole log is $log"
	fi
	debs=("$out/ckpt-dkms_${version}_all.deb" "$out/ckpt_${version}_$arch.deb")
	for deb in "${debs[@]}"; do
		[ -f "$deb" ] || die "dpkg-buildpackage succeeded but $deb is missing"
	done
	printf '%s\n' "${debs[@]}"
}

main "$@"

#!/usr/bin/env bash
# Build the initramfs for one kernel release: busybox, /init, ckpt.ko (and
# any modules it depends on), the static CLI, the e2e targets and helpers,
# zstd, and the guest scripts. Prints the path of the gzip'ed newc cpio.
# A missing ckpt.ko or CLI is a warning: the guest suite then reports the
# tests that need them as failed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

BUSYBOX=${BUSYBOX:-/bin/busybox}

# Copy a dynamically linked host binary and the libraries it loads.
add_dynamic() {
	local root=$1 bin=$2 lib
	install -D -m 0755 "$bin" "$root/ckpt/bin/${bin##*/}"
	for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
		install -D -m 0755 "$lib" "$root$lib"
	done
}

# Uncompressed copy of a kernel module into the initramfs.
add_module_file() {
	local src=$1 dst=$2
	case "$src" in
	*.ko.xz)  xz -dc "$src" >"$dst" ;;
	*.ko.zst) zstd -qdc "$src" >"$dst" ;;
	*.ko.gz)  gzip -dc "$src" >"$dst" ;;
	*)        cp "$src" "$dst" ;;
	esac
}

# The modules ckpt.ko needs, dependencies first, from the unpacked image's
# modules.dep. Writes deps/ and deps.order under $2.
add_module_deps() {
	local rel=$1 kmod=$2 moddir deps
	moddir="$(kernel_dir "$rel")/lib/modules/$rel"
	deps=$(modinfo -F depends "$kmod/ckpt.ko" | tr ',' ' ')
	[ -n "$deps" ] || return 0
	[ -f "$moddir/modules.dep" ] || die "ckpt.ko depends on '$deps' but $moddir/modules.dep is missing"
	mkdir -p "$kmod/deps"
	: >"$kmod/deps.order"
	local -A seen=()
	visit() {
		local name=${1//-/_} path dep
		[ -n "${seen[$name]:-}" ] && return 0
		seen[$name]=1
		path=$(awk -F: -v n="$name" '{ b = $1; sub(/.*\//, "", b); sub(/\.ko(\.[a-z]+)?$/, "", b);
			gsub(/-/, "_", b); if (b == n) { print; exit } }' "$moddir/modules.dep")
		[ -n "$path" ] || die "module $1 (needed by ckpt.ko) not found in $moddir/modules.dep"
		for dep in ${path#*:}; do
			dep=${dep##*/}
			visit "${dep%%.ko*}"
		done
		add_module_file "$moddir/${path%%:*}" "$kmod/deps/$name.ko"
		echo "$name.ko" >>"$kmod/deps.order"
	}
	for dep in $deps; do visit "$dep"; done
}

main() {
	local rel=${1:-} root out ko cli bin
	[ -n "$rel" ] || die "usage: $0 RELEASE"
	[ -x "$BUSYBOX" ] || die "$BUSYBOX missing (install busybox-static)"
	ldd "$BUSYBOX" >/dev/null 2>&1 && die "$BUSYBOX is dynamically linked (install busybox-static)"
	root="$CKPT_BUILD/initramfs/$rel.root"
	out=$(initramfs_path "$rel")
	rm -rf "$root"
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,mnt,ckpt/bin,ckpt/kmod,ckpt/guest}

	install -m 0755 "$BUSYBOX" "$root/bin/busybox"
	ln -s busybox "$root/bin/sh"
	install -m 0755 "$CKPT_ROOT/tests/e2e/guest/init" "$root/init"
	install -m 0755 "$CKPT_ROOT"/tests/e2e/guest/*.sh "$root/ckpt/guest/"

	ko="$(kmod_dir "$rel")/ckpt.ko"
	if [ -f "$ko" ]; then
		cp "$ko" "$root/ckpt/kmod/"
		add_module_deps "$rel" "$root/ckpt/kmod"
	else
		log "warning: $ko is missing: the guest will report module tests as failed"
	fi
	cli=$(cli_binary)
	if [ -x "$cli" ]; then
		ldd "$cli" >/dev/null 2>&1 && log "warning: $cli is not static"
		install -m 0755 "$cli" "$root/ckpt/bin/ckpt"
	else
		log "warning: $cli is missing: the guest will report CLI tests as failed"
	fi
	for bin in "$(e2e_bindir)"/*; do
		[ -x "$bin" ] || die "no e2e binaries in $(e2e_bindir) (run scripts/build-targets.sh)"
		install -m 0755 "$bin" "$root/ckpt/bin/"
	done
	if command -v zstd >/dev/null; then
		add_dynamic "$root" "$(command -v zstd)"
	fi

	mkdir -p "$(dirname "$out")"
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$out.tmp"
	mv "$out.tmp" "$out"
	printf '%s\n' "$out"
}

main "$@"

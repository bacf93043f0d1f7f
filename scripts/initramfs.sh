#!/usr/bin/env bash
# Build the initramfs for one kernel release: busybox, /init, ckpt.ko (and
# any modules it depends on), the static CLI, the e2e targets and helpers,
# the benchmark's programs, zstd, the guest scripts, and with
# CKPT_INITRAMFS_CRIU=1 CRIU. Prints the path of the gzip'ed newc cpio.
# A missing ckpt.ko or CLI is a warning: the guest suite then reports the
# tests that need them as failed.  CKPT_INITRAMFS_KO=PATH takes that ckpt.ko
# instead of scripts/build-module.sh's (make check: the DKMS-built one).
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

# Kernel modules NAMES..., each after the modules it depends on, from the
# unpacked image's modules.dep: written to DIR/NAME.ko, their load order
# to ORDER.
add_modules() {
	local rel=$1 dir=$2 order=$3 moddir
	shift 3
	moddir="$(kernel_dir "$rel")/lib/modules/$rel"
	[ -f "$moddir/modules.dep" ] || die "modules '$*' are needed but $moddir/modules.dep is missing"
	mkdir -p "$dir"
	: >"$order"
	local -A seen=()
	visit() {
		local name=${1//-/_} path dep
		[ -n "${seen[$name]:-}" ] && return 0
		seen[$name]=1
		path=$(awk -F: -v n="$name" '{ b = $1; sub(/.*\//, "", b); sub(/\.ko(\.[a-z]+)?$/, "", b);
			gsub(/-/, "_", b); if (b == n) { print; exit } }' "$moddir/modules.dep")
		if [ -z "$path" ]; then
			# Built into this kernel: nothing to load.
			awk -v n="$name" '{ b = $1; sub(/.*\//, "", b); sub(/\.ko$/, "", b); gsub(/-/, "_", b);
				if (b == n) found = 1 } END { exit !found }' "$moddir/modules.builtin" 2>/dev/null &&
				return 0
			die "module $1 not found in $moddir/modules.dep"
		fi
		for dep in ${path#*:}; do
			dep=${dep##*/}
			visit "${dep%%.ko*}"
		done
		add_module_file "$moddir/${path%%:*}" "$dir/$name.ko"
		echo "$name.ko" >>"$order"
	}
	for dep in "$@"; do visit "$dep"; done
}

# The modules ckpt.ko needs, into $2/deps in the order of $2/deps.order.
add_module_deps() {
	local rel=$1 kmod=$2 deps
	deps=$(modinfo -F depends "$kmod/ckpt.ko" | tr ',' ' ')
	[ -n "$deps" ] || return 0
	add_modules "$rel" "$kmod/deps" "$kmod/deps.order" $deps
}

# Modules some guest tests need, from the stock kernels (the test kernels
# build what they have in): swap on zram, overlayfs, the virtio port.  A
# test whose module
# is missing says so and skips.
# virtio_console (and on 6.1 virtio_pci) for the port a test writes images
# to for the host (qemu.sh's ckpt.out).
EXTRA_MODULES=(zram overlay virtio_pci virtio_console)
add_extra_modules() {
	local rel=$1 root=$2
	[ -f "$(kernel_dir "$rel")/lib/modules/$rel/modules.dep" ] || return 0
	add_modules "$rel" "$root/ckpt/kmod/extra" "$root/ckpt/kmod/extra.order" "${EXTRA_MODULES[@]}"
}

# CRIU for the benchmark (CKPT_INITRAMFS_CRIU=1): the binary, its libraries,
# and the modules its start-up probe loads (Documentation/benchmark.md).
CRIU_MODULES=(crc32c_generic veth nf_tables nft_ct tun macvlan unix_diag inet_diag
	tcp_diag udp_diag netlink_diag)
add_criu() {
	local rel=$1 root=$2 criu
	criu=$(command -v criu || true)
	[ -n "$criu" ] || criu=/usr/sbin/criu
	[ -x "$criu" ] || die "criu is missing (apt-get install criu)"
	add_dynamic "$root" "$criu"
	add_modules "$rel" "$root/ckpt/kmod/criu" "$root/ckpt/kmod/criu.order" "${CRIU_MODULES[@]}"
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
	install -m 0755 "$CKPT_ROOT"/tests/e2e/guest/*.sh "$CKPT_ROOT"/tests/bench/guest/*.sh \
		"$root/ckpt/guest/"

	ko=${CKPT_INITRAMFS_KO:-$(kmod_dir "$rel")/ckpt.ko}
	if [ -f "$ko" ]; then
		cp "$ko" "$root/ckpt/kmod/ckpt.ko"
		add_module_deps "$rel" "$root/ckpt/kmod"
	else
		log "warning: $ko is missing: the guest will report module tests as failed"
	fi
	cli=$(cli_binary)
	if [ -x "$cli" ]; then
		# ldd says "statically linked" (and exits 0) for a static PIE.
		ldd "$cli" 2>&1 | grep -q '=>' && log "warning: $cli is not static"
		install -m 0755 "$cli" "$root/ckpt/bin/ckpt"
	else
		log "warning: $cli is missing: the guest will report CLI tests as failed"
	fi
	for bin in "$(e2e_bindir)"/*; do
		[ -x "$bin" ] || die "no e2e binaries in $(e2e_bindir) (run scripts/build-targets.sh)"
		install -m 0755 "$bin" "$root/ckpt/bin/"
	done
	add_extra_modules "$rel" "$root"
	[ "${CKPT_INITRAMFS_CRIU:-0}" = 1 ] && add_criu "$rel" "$root"
	if command -v zstd >/dev/null; then
		add_dynamic "$root" "$(command -v zstd)"
	fi

	mkdir -p "$(dirname "$out")"
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$out.tmp"
	mv "$out.tmp" "$out"
	printf '%s\n' "$out"
}

main "$@"

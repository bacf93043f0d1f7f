#!/usr/bin/env bash
# Install the host packages the tests need and fetch, for every supported
# kernel series, the newest Debian kernel: the image package is downloaded and
# unpacked into the cache (outside the repository), the headers package is
# installed (its /usr/src/linux-headers-RELEASE is the KDIR).
#
# Prints the resolved releases on stdout, one per line. Everything else goes
# to stderr, and only when something happens. CKPT_SERIES="6.12 6.1" (the
# default) chooses the series.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

HOST_PACKAGES=(qemu-system-x86 busybox-static cpio kmod build-essential gcc-12
	g++-12 clang-16 make cmake libgtest-dev zstd rsync gzip xz-utils)

# Image package name pattern (ERE, one group: the release) per series.
series_regex() {
	case "$1" in
	6.12) printf '%s\n' '^linux-image-(6\.12\.[0-9]+\+deb12-amd64)-unsigned$' ;;
	6.1)  printf '%s\n' '^linux-image-(6\.1\.0-[0-9]+-amd64)-unsigned$' ;;
	*)    die "unknown kernel series '$1' (known: 6.12 6.1)" ;;
	esac
}

apt_lists_fresh() {
	[ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | head -n 1)" ]
}

# Run a noisy command with its output kept aside; show it only on failure.
quietly() {
	local out rc=0
	out=$(mktemp)
	"$@" >"$out" 2>&1 || rc=$?
	((rc == 0)) || cat "$out" >&2
	rm -f "$out"
	return "$rc"
}

apt_update_if_stale() {
	apt_lists_fresh && return 0
	log "apt lists missing or older than a day: apt-get update"
	quietly as_root apt-get update || die "apt-get update failed"
}

missing_packages() {
	local p
	for p in "$@"; do
		dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || printf '%s\n' "$p"
	done
}

install_packages() {
	local missing
	mapfile -t missing < <(missing_packages "$@")
	((${#missing[@]})) || return 0
	log "installing ${missing[*]}"
	quietly as_root apt-get install -y --no-install-recommends "${missing[@]}" \
		|| die "apt-get install ${missing[*]} failed"
}

# Newest release of a series whose image and headers packages both exist.
newest_release() {
	local re rel
	re=$(series_regex "$1")
	apt-cache search --names-only "$re" | awk '{print $1}' | sed -E "s/$re/\\1/" |
		sort -rV | while read -r rel; do
			if apt-cache show "linux-headers-$rel" >/dev/null 2>&1; then
				printf '%s\n' "$rel"
				break
			fi
		done
}

fetch_image() {
	local rel=$1 dir pkg deb
	dir=$(kernel_dir "$rel")
	[ -f "$dir/.unpacked" ] && [ -f "$(kernel_vmlinuz "$rel")" ] && return 0
	pkg="linux-image-$rel-unsigned"
	log "downloading $pkg into $dir"
	mkdir -p "$dir"
	deb=$(find "$dir" -maxdepth 1 -name "${pkg}_*.deb" | head -n 1)
	if [ -z "$deb" ]; then
		(cd "$dir" && quietly apt-get download -o APT::Sandbox::User=root "$pkg") \
			|| die "apt-get download $pkg failed"
		deb=$(find "$dir" -maxdepth 1 -name "${pkg}_*.deb" | head -n 1)
		[ -n "$deb" ] || die "apt-get download $pkg left no .deb in $dir"
	fi
	dpkg-deb -x "$deb" "$dir" || { rm -f "$deb"; die "dpkg-deb -x $deb failed (removed it: rerun to download again)"; }
	depmod -b "$dir" "$rel" || die "depmod -b $dir $rel failed"
	[ -f "$(kernel_vmlinuz "$rel")" ] || die "$deb has no boot/vmlinuz-$rel"
	touch "$dir/.unpacked"
}

install_headers() {
	local rel=$1
	install_packages "linux-headers-$rel"
	[ -f "$(kernel_kdir "$rel")/Makefile" ] || die "linux-headers-$rel installed but $(kernel_kdir "$rel") has no Makefile"
}

main() {
	local series rel releases=()
	apt_update_if_stale
	install_packages "${HOST_PACKAGES[@]}"
	for series in ${CKPT_SERIES:-6.12 6.1}; do
		rel=$(newest_release "$series")
		[ -n "$rel" ] || die "no linux-image-*-unsigned package with headers found for series $series (apt sources: Debian 12 main and bookworm-security?)"
		fetch_image "$rel"
		install_headers "$rel"
		releases+=("$rel")
	done
	printf '%s\n' "${releases[@]}"
}

main "$@"

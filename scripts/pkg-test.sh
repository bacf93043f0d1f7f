#!/usr/bin/env bash
# The Debian packages on a clean Debian 12, in a throw-away chroot: `make
# deb` builds them there from a copy of the tree, lintian checks them, they
# install after the headers of the last RELEASE (DKMS builds the module at
# installation), then the other RELEASEs' headers arrive (DKMS builds it
# for each new kernel, as on an upgrade); the modules carry the autoload
# aliases, `ckpt --version` is the package's, ckpt(1) renders with every
# option of --help, the bash completion completes them, and a purge leaves
# nothing behind; then `make dkms-install` and `make dkms-remove` do the
# same from the checkout.  The DKMS-built modules are copied to
# build/pkg/kmod/RELEASE/ckpt.ko, where scripts/check.sh has the e2e suite
# run them in QEMU; the packages to build/pkg/deb/.
#
# usage: pkg-test.sh RELEASE...   (as printed by scripts/kernels.sh)
# Prints "ok - host pkg/NAME" / "not ok - host pkg/NAME: reason" lines.
#
# The base chroot (debootstrap minbase plus the build and test tools) is
# cached in $CKPT_CACHE/pkg/ as a tarball named by the Date of the apt
# mirror's bookworm Release file and a hash of the package list; a new
# point release or a changed list makes a new one.  Downloaded packages
# are kept in $CKPT_CACHE/pkg/archives.  The apt sources are the host's.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$CKPT_ROOT/scripts/lib-packages.sh"

SUITE=bookworm
CHROOT_PACKAGES=(build-essential debhelper dh-dkms dkms cmake g++ make rsync lintian man-db kmod xz-utils zstd)
HOST_PACKAGES=(debootstrap rsync zstd)

OUT="$CKPT_BUILD/pkg"
ROOT="$OUT/chroot"
ARCHIVES="$CKPT_CACHE/pkg/archives"

ok()     { echo "ok - host pkg/$1"; }
not_ok() { echo "not ok - host pkg/$1: $(printf '%s' "$2" | tr '\n' ' ' | cut -c1-400)"; }

# The host's Debian apt sources (deb.debian.org and its security suite, or
# whatever mirror this machine uses), one file per line.
apt_source_files() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] && grep -Eq '^[^#]*(URIs:|deb ).*/debian' "$f" && printf '%s\n' "$f"
	done
	return 0
}

mirror() {
	local f uri
	for f in $(apt_source_files); do
		uri=$(sed -nE 's/^URIs:[[:space:]]*([^[:space:]]*\/debian)\/?([[:space:]].*)?$/\1/p; s/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]*\/debian)\/?[[:space:]].*/\2/p' "$f" | head -n 1)
		[ -n "$uri" ] && { printf '%s\n' "$uri"; return 0; }
	done
	die "no Debian mirror in the apt sources"
}

# YYYYMMDD of the mirror's bookworm Release file, as the host's lists have it.
mirror_date() {
	local release d
	release=$(find /var/lib/apt/lists -maxdepth 1 -name "*_dists_${SUITE}_InRelease" | head -n 1)
	d=$([ -n "$release" ] && sed -n 's/^Date: //p' "$release" | head -n 1)
	if [ -n "$d" ]; then date -u -d "$d" +%Y%m%d; else date -u +%Y%m%d; fi
}

# Mounts of a chroot root, deepest first.
mounts_under() {
	awk -v r="$1" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/mounts | sort -r
}

cleanup_chroot() {
	local m
	for m in $(mounts_under "$ROOT"); do umount -l "$m" || true; done
	if [ -z "$(mounts_under "$ROOT")" ]; then
		rm -rf --one-file-system "$ROOT"
	else
		log "warning: $ROOT still has mounts; left in place"
	fi
}

in_chroot() {
	chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive bash -euo pipefail -c "$1"
}

mount_chroot() {
	mount -t proc proc "$ROOT/proc"
	mkdir -p "$ARCHIVES/partial"
	mount --bind "$ARCHIVES" "$ROOT/var/cache/apt/archives"
	cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
}

# Make the base chroot tarball, or reuse the cached one.  Prints its path.
base_tarball() {
	local key tarball f
	key="$SUITE-$(mirror_date)-$(printf '%s\n' "${CHROOT_PACKAGES[@]}" | sha256sum | cut -c1-12)"
	tarball="$CKPT_CACHE/pkg/base-$key.tar.zst"
	if [ -f "$tarball" ]; then
		printf '%s\n' "$tarball"
		return 0
	fi
	log "making the base chroot $tarball (debootstrap, once per mirror date and package list)"
	cleanup_chroot
	mkdir -p "$ROOT" "$CKPT_CACHE/pkg"
	debootstrap --variant=minbase "$SUITE" "$ROOT" "$(mirror)" >"$OUT/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$OUT/debootstrap.log" >&2; return 1; }
	rm -f "$ROOT"/etc/apt/sources.list "$ROOT"/etc/apt/sources.list.d/*
	for f in $(apt_source_files); do cp "$f" "$ROOT/etc/apt/sources.list.d/"; done
	[ -f "$ROOT/etc/apt/sources.list.d/sources.list" ] &&
		mv "$ROOT/etc/apt/sources.list.d/sources.list" "$ROOT/etc/apt/sources.list.d/host.list"
	printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
	chmod 0755 "$ROOT/usr/sbin/policy-rc.d"
	mount_chroot
	in_chroot "apt-get update -q && apt-get install -y -q --no-install-recommends ${CHROOT_PACKAGES[*]}" \
		>"$OUT/base.log" 2>&1 || { tail -n 20 "$OUT/base.log" >&2; cleanup_chroot; return 1; }
	for f in $(mounts_under "$ROOT"); do umount "$f"; done
	rm -f "$CKPT_CACHE"/pkg/base-*.tar.zst
	tar -C "$ROOT" --zstd -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
	cleanup_chroot
	printf '%s\n' "$tarball"
}

setup_chroot() {
	local tarball
	tarball=$(base_tarball) || return 1
	cleanup_chroot
	mkdir -p "$ROOT"
	tar -C "$ROOT" --zstd -xf "$tarball"
	mount_chroot
	mkdir -p "$ROOT/build/src"
	# The tree as a fresh clone has it (committed and new files, not build/).
	if git -C "$CKPT_ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git -C "$CKPT_ROOT" ls-files -z --cached --others --exclude-standard |
			rsync -a --from0 --files-from=- "$CKPT_ROOT/" "$ROOT/build/src/"
	else
		rsync -a --exclude=/build "$CKPT_ROOT/" "$ROOT/build/src/"
	fi
}

# Headers of RELEASE in the chroot (apt-get update first if its lists do
# not know them).
install_headers() {
	in_chroot "apt-cache show linux-headers-$1 >/dev/null 2>&1 || apt-get update -q
		apt-get install -y -q --no-install-recommends linux-headers-$1"
}

# "installed" in dkms status for RELEASE, and the module file.
check_dkms() {
	local rel=$1 status
	status=$(in_chroot "dkms status -m ckpt -v $VERSION -k $rel" 2>&1) || true
	[[ $status == *": installed"* ]] || { echo "dkms status for $rel: ${status:-nothing}"; return 1; }
	in_chroot "ls /lib/modules/$rel/updates/dkms/ckpt.ko*" >/dev/null 2>&1 ||
		{ echo "no /lib/modules/$rel/updates/dkms/ckpt.ko*"; return 1; }
}

# The module's aliases, vermagic and depmod's modules.devname entry.
check_aliases() {
	local rel=$1 ko=$2 aliases
	aliases=$(modinfo -F alias "$ko")
	grep -qx 'devname:ckpt' <<<"$aliases" || { echo "no devname:ckpt alias"; return 1; }
	grep -Eqx 'char-major-10-[0-9]+' <<<"$aliases" || { echo "no char-major-10-MINOR alias"; return 1; }
	[[ $(modinfo -F vermagic "$ko") == "$rel "* ]] || { echo "vermagic $(modinfo -F vermagic "$ko")"; return 1; }
	grep -Eq '^ckpt ckpt c10:[0-9]+$' "$ROOT/lib/modules/$rel/modules.devname" 2>/dev/null ||
		{ echo "modules.devname has no ckpt entry"; return 1; }
}

# Copy the DKMS-built module of RELEASE out of the chroot, uncompressed.
export_module() {
	local rel=$1 src dest="$OUT/kmod/$1/ckpt.ko"
	src=$(find "$ROOT/lib/modules/$rel/updates/dkms" -name 'ckpt.ko*' | head -n 1)
	[ -n "$src" ] || return 1
	mkdir -p "$(dirname "$dest")"
	case "$src" in
	*.ko.xz)  xz -dc "$src" >"$dest" ;;
	*.ko.zst) zstd -qdc "$src" >"$dest" ;;
	*.ko.gz)  gzip -dc "$src" >"$dest" ;;
	*)        cp "$src" "$dest" ;;
	esac
}

# Every long option of `ckpt --help` and `ckpt help COMMAND`: in the
# rendered ckpt(1), and offered by the completion.
check_man() {
	in_chroot '
		page=/usr/share/man/man1/ckpt.1.gz
		warn=$(LC_ALL=C.UTF-8 MANROFFSEQ= MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z $page 2>&1 >/dev/null)
		[ -z "$warn" ] || { echo "man warnings: $warn"; exit 1; }
		# One line; words the formatter hyphenated (U+2010) joined again.
		text=$(MANWIDTH=200 man -l $page 2>/dev/null | col -b | tr -s " \t\n" "   " | sed "s/\xe2\x80\x90 //g")
		for s in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS PERMISSIONS FILES "EXIT STATUS" EXAMPLES; do
			[[ $text == *" $s "* || $text == "$s "* ]] || { echo "no section $s"; exit 1; }
		done
		cmds=$(ckpt --help | sed -n "/^Commands:/,/^\$/s/^  \([a-z]\+\) .*/\1/p")
		[ -n "$cmds" ] || { echo "no commands in ckpt --help"; exit 1; }
		for c in $cmds; do
			[[ $text == *"ckpt $c"* ]] || { echo "command $c missing"; exit 1; }
			[ $c = help ] && continue
			for o in $(ckpt help $c | grep -o -- "--[a-z][a-z-]*" | sort -u); do
				[[ $text == *"$o"* ]] || { echo "ckpt $c $o missing"; exit 1; }
			done
		done'
}

check_completion() {
	in_chroot '
		. /usr/share/bash-completion/completions/ckpt
		complete_words() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _ckpt; }
		complete_words ckpt ve
		[ "${COMPREPLY[*]}" = verify ] || { echo "ckpt ve -> ${COMPREPLY[*]}"; exit 1; }
		for c in $(ckpt --help | sed -n "/^Commands:/,/^\$/s/^  \([a-z]\+\) .*/\1/p"); do
			[ $c = help ] && continue
			for o in $(ckpt help $c | grep -o -- "--[a-z][a-z-]*" | sort -u); do
				complete_words ckpt $c "${o:0:5}"
				[[ " ${COMPREPLY[*]} " == *" $o "* ]] || { echo "ckpt $c ${o:0:5} -> ${COMPREPLY[*]}"; exit 1; }
			done
		done
		complete_words ckpt dump --pid ""
		[[ " ${COMPREPLY[*]} " == *" 1 "* ]] || { echo "ckpt dump --pid offers no pids"; exit 1; }'
}

check_contents() {
	local deb_dkms=$1 deb_cli=$2 list
	list=$(dpkg-deb -c "$deb_cli")
	for f in ./usr/bin/ckpt ./usr/share/man/man1/ckpt.1.gz ./usr/share/bash-completion/completions/ckpt \
		./usr/include/linux/ckpt.h; do
		grep -q " $f\$" <<<"$list" || { echo "ckpt has no $f"; return 1; }
	done
	list=$(dpkg-deb -c "$deb_dkms")
	for f in "./usr/src/ckpt-$VERSION/dkms.conf" "./usr/src/ckpt-$VERSION/Kbuild" \
		"./usr/src/ckpt-$VERSION/scripts/Kbuild.cxx" ./lib/udev/rules.d/60-ckpt.rules; do
		grep -q " $f\$" <<<"$list" || { echo "ckpt-dkms has no $f"; return 1; }
	done
	dpkg-deb --fsys-tarfile "$deb_dkms" | tar -xOf - "./usr/src/ckpt-$VERSION/dkms.conf" |
		grep -qx "PACKAGE_VERSION=\"$VERSION\"" || { echo "dkms.conf does not say PACKAGE_VERSION=\"$VERSION\""; return 1; }
}

# The rule cannot be run without udev here: check what it says.
check_udev_rule() {
	local rule
	rule=$(dpkg-deb --fsys-tarfile "$1" | tar -xOf - ./lib/udev/rules.d/60-ckpt.rules | grep -v '^#')
	[[ $rule == *'KERNEL=="ckpt"'* && $rule == *'MODE="0600"'* && $rule == *'GROUP="root"'* &&
		$rule == *'OPTIONS+="static_node=ckpt"'* ]] || { echo "rule: $rule"; return 1; }
}

check_purge() {
	in_chroot "apt-get purge -y -q ckpt-dkms ckpt >/dev/null
		[ -z \"\$(dkms status -m ckpt)\" ] || { echo \"dkms status: \$(dkms status -m ckpt)\"; exit 1; }
		! ls /lib/modules/*/updates/dkms/ckpt.ko* 2>/dev/null || { echo 'modules left'; exit 1; }
		[ ! -e /usr/src/ckpt-$VERSION ] || { echo '/usr/src/ckpt-$VERSION left'; exit 1; }"
}

# `make dkms-install` from the checkout: DKMS builds it for every kernel
# with headers; `make dkms-remove` takes it all away again.
check_dkms_install() {
	local rel
	in_chroot "cd /build/src && make -s dkms-install" >"$OUT/dkms-install.log" 2>&1 ||
		{ echo "make dkms-install failed: $(tail -n 1 "$OUT/dkms-install.log")"; return 1; }
	for rel in "$@"; do check_dkms "$rel" || return 1; done
	[ -f "$ROOT/lib/udev/rules.d/60-ckpt.rules" ] || { echo "no udev rule installed"; return 1; }
	in_chroot "cd /build/src && make -s dkms-remove
		[ -z \"\$(dkms status -m ckpt)\" ] || { echo \"dkms status: \$(dkms status -m ckpt)\"; exit 1; }
		! ls /lib/modules/*/updates/dkms/ckpt.ko* 2>/dev/null || { echo 'modules left'; exit 1; }
		[ ! -e /usr/src/ckpt-$VERSION ] && [ ! -e /lib/udev/rules.d/60-ckpt.rules ] || { echo 'files left'; exit 1; }"
}

# run NAME FUNC ARGS...: one test; the last line of FUNC's output is the
# reason when it fails.
run() {
	local name=$1 out rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	if ((rc == 0)); then ok "$name"; else not_ok "$name" "$(tail -n 1 <<<"$out")"; fi
	return "$rc"
}

main() {
	local releases=("$@") first rel debs deb_dkms deb_cli start=$SECONDS
	((${#releases[@]})) || die "usage: $0 RELEASE..."
	[ "$(id -u)" -eq 0 ] || { not_ok setup "needs root (chroot, mount)"; return 1; }
	ensure_packages "${HOST_PACKAGES[@]}"
	mkdir -p "$OUT"
	rm -rf "$OUT/kmod" "$OUT/deb"
	trap cleanup_chroot EXIT
	VERSION=$(sed -n '1s/^ckpt (\([^)]*\)).*/\1/p' "$CKPT_ROOT/debian/changelog")

	run chroot setup_chroot || return 0
	run build in_chroot 'cd /build/src && make deb' || return 0
	mkdir -p "$OUT/deb"
	cp "$ROOT"/build/src/build/deb/*.deb "$OUT/deb/"
	deb_dkms="$OUT/deb/ckpt-dkms_${VERSION}_all.deb"
	deb_cli="$OUT/deb/ckpt_${VERSION}_amd64.deb"
	run contents check_contents "$deb_dkms" "$deb_cli" || true
	run udev-rule check_udev_rule "$deb_dkms" || true
	# lintian's own verdict: errors and warnings fail (overrides in
	# debian/*.lintian-overrides say why each is accepted); all tags shown.
	run lintian in_chroot 'cd /build/src/build/deb &&
		lintian --fail-on error,warning --pedantic --display-info --show-overrides ckpt_*.changes >lintian.txt 2>&1 || rc=$?
		[ "${rc:-0}" = 0 ] || { grep -E "^[EW]:" lintian.txt | head -n 1; exit 1; }' || true
	cp "$ROOT/build/src/build/deb/lintian.txt" "$OUT/lintian.txt" 2>/dev/null &&
		sed 's/^/lintian: /' "$OUT/lintian.txt" >&2

	# The last release's headers first, then the packages: DKMS builds the
	# module when ckpt-dkms is installed.  Then the other releases' headers,
	# each built by DKMS's kernel hook as on an upgrade.
	first=${releases[-1]}
	run "headers/$first" install_headers "$first" || return 0
	run install in_chroot 'cd /build/src/build/deb && apt-get install -y -q ./ckpt-dkms_*_all.deb ./ckpt_*_amd64.deb' ||
		return 0
	run "dkms-at-install/$first" check_dkms "$first" || true
	for rel in "${releases[@]}"; do
		[ "$rel" = "$first" ] && continue
		run "headers/$rel" install_headers "$rel" || continue
		run "dkms-new-kernel/$rel" check_dkms "$rel" || true
	done
	for rel in "${releases[@]}"; do
		if ! export_module "$rel"; then
			not_ok "module/$rel" "no DKMS-built ckpt.ko for $rel"
			continue
		fi
		run "aliases/$rel" check_aliases "$rel" "$OUT/kmod/$rel/ckpt.ko" || true
	done
	run version in_chroot "[ \"\$(ckpt --version)\" = 'ckpt $VERSION' ] || { ckpt --version; exit 1; }" || true
	run man check_man || true
	run completion check_completion || true
	run purge check_purge || true
	run dkms-install check_dkms_install "${releases[@]}" || true
	in_chroot "apt-get autoclean -q" >/dev/null 2>&1 || true	# the download cache keeps only what the mirror has
	log "package tests took $((SECONDS - start)) s"
}

main "$@"

# shellcheck shell=bash
# Common helpers for the ckpt scripts. Source it; it defines functions and
# a few variables and runs nothing else.

CKPT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CKPT_BUILD=${CKPT_BUILD:-$CKPT_ROOT/build}
CKPT_CACHE=${CKPT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ckpt}
export DEBIAN_FRONTEND=noninteractive

log()  { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die()  { printf '%s: error: %s\n' "${0##*/}" "$*" >&2; exit 1; }

# Run a command as root (sudo when we are not root and sudo exists).
as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo -E "$@"
	else
		die "need root for: $*"
	fi
}

# Where the unpacked image package of RELEASE lives.
kernel_dir()     { printf '%s/kernels/%s\n' "$CKPT_CACHE" "$1"; }
kernel_vmlinuz() { printf '%s/boot/vmlinuz-%s\n' "$(kernel_dir "$1")" "$1"; }
# A kernel we built (the KUnit debug kernel) links its build tree as kdir.
kernel_kdir() {
	if [ -L "$(kernel_dir "$1")/kdir" ]; then
		readlink -f "$(kernel_dir "$1")/kdir"
	else
		printf '/usr/src/linux-headers-%s\n' "$1"
	fi
}

# Binaries built from tests/e2e and tools/ckpt.
e2e_bindir()     { printf '%s/e2e/bin\n' "$CKPT_BUILD"; }
cli_binary()     { printf '%s/cli/ckpt\n' "$CKPT_BUILD"; }
kmod_dir()       { printf '%s/kmod/%s\n' "$CKPT_BUILD" "$1"; }
initramfs_path() { printf '%s/initramfs/%s.cpio.gz\n' "$CKPT_BUILD" "$1"; }
log_path()       { printf '%s/logs/%s-%s.log\n' "$CKPT_BUILD" "$1" "$2"; }

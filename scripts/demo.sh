#!/usr/bin/env bash
# `make demo`: set up (host packages, the newest Debian 6.12 kernel, the
# CLI, ckpt.ko), then boot that kernel in QEMU, where the guest loads the
# module, checkpoints a small target, shows and verifies the image.
# Exits non-zero if a step failed. CKPT_SERIES chooses another series.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SCRIPTS="$CKPT_ROOT/scripts"

main() {
	local rel rc=0
	log "setting up (packages, kernel, CLI, module); the first run downloads a few hundred MB"
	rel=$(CKPT_SERIES=${CKPT_SERIES:-6.12} "$SCRIPTS/kernels.sh" | head -n 1)
	"$SCRIPTS/build-targets.sh"
	"$SCRIPTS/build-cli.sh" >/dev/null
	"$SCRIPTS/build-module.sh" "$rel" >/dev/null
	"$SCRIPTS/initramfs.sh" "$rel" >/dev/null
	log "booting $rel in QEMU"
	# Show the guest's demo output only: from its first step to the end marker.
	CKPT_QEMU_STREAM=1 CKPT_QEMU_TIMEOUT=${CKPT_QEMU_TIMEOUT:-300} "$SCRIPTS/qemu.sh" "$rel" demo |
		sed -u -n '/^CKPT-DEMO-BEGIN$/,/^CKPT-GUEST-DONE/{/^CKPT-/d;/^dmesg: /d;p}' ||
		rc=$?
	((rc == 0)) || die "demo failed; the whole console log is $(log_path "$rel" demo)"
}

main "$@"

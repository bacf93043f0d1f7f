#!/usr/bin/env bash
# Boot RELEASE's cached kernel with its initramfs in MODE (test or demo).
# The serial console (CR stripped) goes to build/logs/RELEASE-MODE.log, and
# also to stdout when CKPT_QEMU_STREAM=1; what the guest writes to its
# virtio port "ckpt.out" goes to build/logs/RELEASE-MODE.port, and what it
# writes to "ckpt.xk" (an image for the other kernel) to RELEASE-MODE.xk.
# Exit: the guest's rc from "CKPT-GUEST-DONE rc=N" (0 all good, 1 if N != 0),
# or 2 when that marker is missing: crash, panic, hang or timeout.
#
# CKPT_ACCEL=kvm|tcg forces an accelerator; otherwise KVM is used if a probe
# boot works (build/accel caches the answer). CKPT_QEMU_TIMEOUT (seconds,
# default 1200: a guard against hangs, far above a run) bounds the run;
# CKPT_QEMU_MEM (MiB, default 2048);
# CKPT_QEMU_APPEND adds to the kernel command line (ckpt.reps=5, ...);
# CKPT_QEMU_INITRD boots another initramfs than RELEASE's;
# CKPT_QEMU_CPU picks QEMU's CPU model (default max; the log's name then
# ends in -MODEL), CKPT_QEMU_TAG adds -TAG after it.
# The test guest has two NUMA nodes, a CPU and half the memory each, so
# that tests can migrate a target's pages between them.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

QEMU=(qemu-system-x86_64 -cpu "${CKPT_QEMU_CPU:-max}" -m "${CKPT_QEMU_MEM:-2048}" -smp 2
	-nographic -no-reboot -nic none)
# qboot (qemu-system-data) boots faster than SeaBIOS and prints nothing.
QBOOT=/usr/share/qemu/qboot.rom
[ -f "$QBOOT" ] && QEMU+=(-bios "$QBOOT")

# Does a KVM guest get as far as the kernel's first message?
probe_kvm() {
	local vmlinuz=$1
	[ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
	timeout 20 "${QEMU[@]}" -accel kvm -kernel "$vmlinuz" \
		-append "console=ttyS0 panic=-1" </dev/null 2>/dev/null |
		grep -aq 'Linux version'
}

choose_accel() {
	local vmlinuz=$1 cache="$CKPT_BUILD/accel"
	if [ -n "${CKPT_ACCEL:-}" ]; then
		echo "$CKPT_ACCEL"
		return
	fi
	if [ ! -s "$cache" ]; then
		mkdir -p "$CKPT_BUILD"
		if probe_kvm "$vmlinuz"; then echo kvm >"$cache"; else echo tcg >"$cache"; fi
		log "accelerator: $(cat "$cache") (cached in $cache)"
	fi
	cat "$cache"
}

main() {
	local rel=${1:-} mode=${2:-} vmlinuz initrd logf accel rc=0 guest_rc
	[ -n "$rel" ] && [ -n "$mode" ] || die "usage: $0 RELEASE test|demo|bench"
	vmlinuz=$(kernel_vmlinuz "$rel")
	initrd=${CKPT_QEMU_INITRD:-$(initramfs_path "$rel")}
	logf=$(log_path "$rel" "$mode${CKPT_QEMU_CPU:+-$CKPT_QEMU_CPU}${CKPT_QEMU_TAG:+-$CKPT_QEMU_TAG}")
	[ -f "$vmlinuz" ] || die "$vmlinuz missing (run scripts/kernels.sh)"
	[ -f "$initrd" ] || die "$initrd missing (run scripts/initramfs.sh $rel)"
	accel=$(choose_accel "$vmlinuz")
	mkdir -p "$(dirname "$logf")"
	if [ "$mode" = test ]; then
		local half=$((${CKPT_QEMU_MEM:-2048} / 2))
		QEMU+=(-object "memory-backend-ram,id=m0,size=${half}M"
			-object "memory-backend-ram,id=m1,size=${half}M"
			-numa node,nodeid=0,cpus=0,memdev=m0 -numa node,nodeid=1,cpus=1,memdev=m1)
	fi

	# A virtio port named ckpt.out whose bytes land in RELEASE-MODE.port:
	# how a guest test hands the host an image (t22-core-export.sh).
	local portf="${logf%.log}.port" xkf="${logf%.log}.xk"
	rm -f "$portf" "$xkf"
	QEMU+=(-device virtio-serial-pci -chardev "file,id=ckptout,path=$portf"
		-device virtserialport,chardev=ckptout,name=ckpt.out
		-chardev "file,id=ckptxk,path=$xkf"
		-device virtserialport,chardev=ckptxk,name=ckpt.xk)

	timeout -k 10 "${CKPT_QEMU_TIMEOUT:-1200}" "${QEMU[@]}" -accel "$accel" \
		-kernel "$vmlinuz" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 oops=panic loglevel=4 edd=off ckpt.mode=$mode ${CKPT_QEMU_APPEND:-}" \
		</dev/null 2>&1 | tr -d '\r' |
		if [ "${CKPT_QEMU_STREAM:-0}" = 1 ]; then tee "$logf"; else cat >"$logf"; fi ||
		rc=$?

	guest_rc=$(sed -n 's/^CKPT-GUEST-DONE rc=\([0-9]*\)$/\1/p' "$logf" | tail -n 1)
	if [ -z "$guest_rc" ]; then
		if ((rc == 124)); then
			log "$rel $mode: timed out after ${CKPT_QEMU_TIMEOUT:-1200} s"
		else
			log "$rel $mode: guest ended without its end marker (crash or panic?)"
		fi
		log "last lines of $logf:"
		tail -n 30 "$logf" | sed 's/^/    /' >&2
		exit 2
	fi
	[ "$guest_rc" = 0 ] || exit 1
}

main "$@"

# Restore on the other kernel (issue 11).  Each stock kernel's run dumps a
# four-thread ckpt-restore-target with no data file (so that it computes
# the same on every machine), mid-run, and hands the image to the host on
# the virtio port "ckpt.xk" (qemu.sh).  scripts/check.sh then boots the
# other kernel once more with that image in its initramfs, at
# /ckpt/xk/image, and this file restores it there: the process's calls
# into its old kernel's vDSO go through the restorer's proxy to this
# kernel's, and it must print what an uninterrupted run on this kernel
# prints.

XK_IMAGE=/ckpt/xk/image
XK_BIN=/ckpt/bin/ckpt-restore-target

test_cross_export() {
	local rc=0 pid port i=0
	have_cli && have_module || return
	if [ ! -f /ckpt/kmod/extra.order ] && [ ! -d /sys/bus/virtio ]; then
		skip "a test kernel without modules or virtio: the stock kernels' runs export the image"
		return
	fi
	port=$(ckpt_out_port ckpt.xk) || fail "no virtio port named ckpt.xk" || return
	rm -f "$WORK/xk.fifo" "$WORK/xk.manifest"
	mkfifo "$WORK/xk.fifo" || return
	"$XK_BIN" "$WORK/xk.manifest" - threads <"$WORK/xk.fifo" >"$WORK/xk.out" 2>&1 &
	pid=$!
	T_JOBS="$T_JOBS $pid"
	exec 6>"$WORK/xk.fifo"
	while [ ! -s "$WORK/xk.manifest" ]; do
		i=$((i + 1))
		[ $i -gt 1200 ] && { exec 6>&-; fail "the target did not start: $(oneline "$WORK/xk.out")"; return 1; }
		usleep 100000
	done
	dump_then_kill "$WORK/xk.img" "$pid" || rc=$?
	expect_exit 0 $rc "ckpt dump" || return
	"$CKPT" show "$WORK/xk.img" 2>&1 | grep -q '^vdso: .* entry points$' ||
		fail "the image has no readable VDSO record: $("$CKPT" show "$WORK/xk.img" 2>&1 | grep -i vdso | tr '\n' ' ')" || return
	cat "$WORK/xk.img" >"$port" || fail "cannot write the image to $port" || return
	echo "# exported $(wc -c <"$WORK/xk.img") bytes of image for the other kernel"
	rm -f "$WORK/xk.img"
}

test_cross_restore() {
	local rc=0 from
	have_cli && have_module || return
	from=$("$CKPT" show "$XK_IMAGE" 2>/dev/null | sed -n 's/^kernel: *//p')
	[ -n "$from" ] && [ "$from" != "$(uname -r)" ] ||
		fail "the image is from '$from', not from another kernel than $(uname -r)" || return
	echo x | "$XK_BIN" "$WORK/xk-ref.manifest" - threads >"$WORK/xk-ref.out" 2>&1 || rc=$?
	[ $rc -eq 42 ] || { fail "the uninterrupted run exited $rc: $(oneline "$WORK/xk-ref.out")"; return 1; }
	grep -q '^clock OK$' "$WORK/xk-ref.out" && ! grep -Eq 'LOST|BAD' "$WORK/xk-ref.out" || { fail "the uninterrupted run printed: $(oneline "$WORK/xk-ref.out")"; return 1; }
	# --any-pid: the dumped pid and tids may be taken on this machine.
	rc=0
	echo x | tmo "$CKPT" restore --any-pid "$XK_IMAGE" >"$WORK/xk-restored.out" 2>"$WORK/cli.err" || rc=$?
	[ $rc -eq 42 ] ||
		{ fail "restored from $from: exited $rc: $(oneline "$WORK/xk-restored.out") $(oneline "$WORK/cli.err")"; return 1; }
	cmp -s "$WORK/xk-restored.out" "$WORK/xk-ref.out" ||
		fail "restored from $from: '$(oneline "$WORK/xk-restored.out")', uninterrupted: '$(oneline "$WORK/xk-ref.out")'"
}

if [ -f "$XK_IMAGE" ]; then
	t cross/restore test_cross_restore
else
	t cross/export test_cross_export
fi

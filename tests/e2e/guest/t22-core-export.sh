# A multi-threaded target with known frames, locals, globals and SSE
# registers (ckpt-gdb-target) is dumped, and its image handed to the host
# through the virtio port "ckpt.out" (qemu.sh), where
# scripts/core-gdb-test.sh turns it into a core and opens it with gdb.

test_core_export() {
	local rc=0 pid port i=0
	have_cli && have_module || return
	if [ ! -f /ckpt/kmod/extra.order ] && [ ! -d /sys/bus/virtio ]; then
		skip "a test kernel without modules or virtio: the stock kernels' runs export the image"
		return
	fi
	port=$(ckpt_out_port) || fail "no virtio port named ckpt.out" || return
	/ckpt/bin/ckpt-gdb-target >"$WORK/gdb.out" 2>&1 &
	pid=$!
	T_JOBS="$T_JOBS $pid"
	while ! grep -q ready "$WORK/gdb.out" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 600 ] || ! kill -0 $pid 2>/dev/null; then
			fail "ckpt-gdb-target did not start: $(oneline "$WORK/gdb.out")"
			return
		fi
		usleep 100000
	done
	wait_states "$pid" S || fail "target threads in states '$(thread_states "$pid")', expected S" || return
	cli_dump "$WORK/gdb.img" --pid "$pid" || rc=$?
	kill -KILL $pid
	expect_exit 0 $rc "ckpt dump of ckpt-gdb-target" || return
	tmo "$CKPT" verify -q "$WORK/gdb.img" 2>"$WORK/cli.err" || fail "the image does not verify: $(oneline "$WORK/cli.err")" || return
	cat "$WORK/gdb.img" >"$port" || fail "cannot write the image to $port" || return
	echo "# exported $(wc -c <"$WORK/gdb.img") bytes of image to the host"
	rm -f "$WORK/gdb.img"
}

t core/export-gdb-image test_core_export

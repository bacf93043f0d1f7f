# Images written to pipes.

test_pipe_verify() {
	local rc
	have_cli && have_main || return
	rc=$( { tmo "$CKPT" dump --pid "$PID_main" -o - 2>"$WORK/cli.err"; echo $? >"$WORK/rc"; } |
		tee "$WORK/pipe.img" | tmo "$CKPT" verify - >"$WORK/verify.out" 2>&1; echo $?)
	expect_exit 0 "$(cat "$WORK/rc")" "ckpt dump -o -" || return
	[ "$rc" -eq 0 ] || fail "ckpt verify - exited $rc: $(oneline "$WORK/verify.out")" || return
	check_image "$WORK/pipe.img" "$WORK/main.manifest" || return
	expect_resumed "$PID_main"
}

test_zstd() {
	local rc
	have_cli && have_main || return
	command -v zstd >/dev/null || fail "zstd is not in the initramfs" || return
	{ tmo "$CKPT" dump --pid "$PID_main" -o - 2>"$WORK/cli.err"; echo $? >"$WORK/rc"; } |
		zstd -q -c >"$WORK/img.zst"
	expect_exit 0 "$(cat "$WORK/rc")" "ckpt dump -o - | zstd" || return
	rc=$(zstd -q -d -c "$WORK/img.zst" | tmo "$CKPT" verify - >"$WORK/verify.out" 2>&1; echo $?)
	[ "$rc" -eq 0 ] || fail "zstd -d | ckpt verify - exited $rc: $(oneline "$WORK/verify.out")"
	rm -f "$WORK/img.zst"
}

t stream/pipe-verify test_pipe_verify
t stream/zstd test_zstd
rm -f "$WORK/pipe.img"

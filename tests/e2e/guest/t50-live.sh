# Running targets: the raw ioctl refuses them (EBUSY: traced but not in a
# ptrace stop) unless asked for a live dump; the CLI stops them itself, or
# dumps live with --live.

test_raw_stopped() {
	have_module && have_main || return
	with_stopped "$PID_main" raw_ioctl OK --out "$WORK/raw.img" "$PID_main" || return
	check_image --state stopped "$WORK/raw.img" "$WORK/main.manifest" || return
	expect_resumed "$PID_main"
}

test_raw_ebusy() {
	have_module && have_main || return
	raw_ioctl EBUSY --hold seize "$PID_main"
}

test_cli_live() {
	local rc=0
	have_cli && have_main || return
	cli_dump "$WORK/live.img" --live --pid "$PID_main" || rc=$?
	expect_exit 0 $rc "ckpt dump --live" || return
	tmo "$CKPT" verify "$WORK/live.img" >"$WORK/cli.out" 2>"$WORK/cli.err" || rc=$?
	expect_exit 0 $rc "ckpt verify of a live image" || return
	check_image "$WORK/live.img" "$WORK/main.manifest" || return
	[ "$(thread_states "$PID_main")" = S ] ||
		fail "threads in states '$(thread_states "$PID_main")' after a live dump"
}

test_spin() {
	local rc=0
	have_cli && have_module || return
	start_target spin ckpt-spin || return
	raw_ioctl EBUSY --hold seize "$PID_spin" || return
	raw_ioctl OK --flags 1 --hold seize "$PID_spin" || return
	cli_dump "$WORK/spin.img" --live --pid "$PID_spin" || rc=$?
	expect_exit 0 $rc "ckpt dump --live of a spinning target" || return
	tmo "$CKPT" verify "$WORK/spin.img" >"$WORK/cli.out" 2>"$WORK/cli.err" || rc=$?
	expect_exit 0 $rc "ckpt verify" || return
	check_image --state running "$WORK/spin.img" "$WORK/spin.manifest" || return
	[ "$(thread_states "$PID_spin")" = R ] ||
		fail "spinning target in state '$(thread_states "$PID_spin")' after the dump"
}

t raw/stopped-target test_raw_stopped
t live/raw-ioctl-ebusy test_raw_ebusy
t live/cli-live test_cli_live
t live/spinning-target test_spin
[ -n "$PID_spin" ] && kill -KILL "$PID_spin" 2>/dev/null
rm -f "$WORK/raw.img" "$WORK/live.img" "$WORK/spin.img"

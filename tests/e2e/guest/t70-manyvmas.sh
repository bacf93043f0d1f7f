# A process with 20000 VMAs.

test_manyvmas() {
	local rc=0
	have_cli && have_module || return
	start_target many ckpt-manyvmas 20000 || return
	cli_dump "$WORK/many.img" --pid "$PID_many" || rc=$?
	expect_exit 0 $rc "ckpt dump of 20000 VMAs" || return
	tmo "$CKPT" verify "$WORK/many.img" --pid "$PID_many" >"$WORK/cli.out" 2>"$WORK/cli.err" || rc=$?
	expect_exit 0 $rc "ckpt verify --pid" || return
	check_image --state stopped "$WORK/many.img" "$WORK/many.manifest" || return
	expect_resumed "$PID_many"
}

t manyvmas/dump-verify test_manyvmas
[ -n "$PID_many" ] && kill -KILL "$PID_many" 2>/dev/null
rm -f "$WORK/many.img"

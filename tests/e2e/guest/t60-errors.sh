# Error cases: the raw ioctl's errno, the CLI's exit code (3: system error),
# and the target running again afterwards.

# cli_fails PID WHAT [OUT]: ckpt dump --pid PID -o OUT must exit 3.
cli_fails() {
	local rc=0
	have_cli || return
	cli_dump "${3:-$WORK/err.img}" --pid "$1" || rc=$?
	expect_exit 3 $rc "ckpt dump $2"
}

test_esrch() {
	local pid
	pid=$(free_pid)
	raw_ioctl ESRCH "$pid" || return
	cli_fails "$pid" "of a pid that does not exist"
}

test_kthread() {
	raw_ioctl EINVAL 2 || return
	cli_fails 2 "of kthreadd"
}

test_zombie() {
	start_target zombie ckpt-zombie || return
	[ "$(thread_states "$PID_zombie")" = Z ] ||
		fail "pid $PID_zombie is not a zombie: '$(thread_states "$PID_zombie")'" || return
	raw_ioctl "ESRCH|EINVAL" "$PID_zombie" || return
	cli_fails "$PID_zombie" "of a zombie"
}

# Argument checks happen on a stopped target, so that EBUSY cannot mask them.
test_raw_stopped_err() {
	have_main || return
	with_stopped "$PID_main" raw_ioctl "$@" "$PID_main"
}

test_enospc() {
	local rc=0
	mkdir -p /mnt/small
	mount -t tmpfs -o size=1m small /mnt/small || fail "cannot mount a 1 MiB tmpfs" || return
	test_raw_stopped_err ENOSPC --out /mnt/small/raw.img || rc=1
	rm -f /mnt/small/raw.img
	[ $rc -eq 0 ] && { cli_fails "$PID_main" "to a full 1 MiB tmpfs" /mnt/small/cli.img || rc=1; }
	umount /mnt/small
	[ $rc -eq 0 ] && expect_resumed "$PID_main"
}

test_epipe() {
	local rc
	test_raw_stopped_err EPIPE --pipe closed || return
	have_cli || return
	{ tmo "$CKPT" dump --pid "$PID_main" -o - 2>"$WORK/cli.err"; echo $? >"$WORK/rc"; } |
		head -c 1 >/dev/null
	rc=$(cat "$WORK/rc")
	[ "$rc" -ne 0 ] || fail "ckpt dump into a closed pipe exited 0" || return
	expect_resumed "$PID_main"
}

# After all that, the target still dumps completely.
test_still_dumps() {
	local rc=0
	have_cli && have_main || return
	expect_resumed "$PID_main" || return
	cli_dump "$WORK/after.img" --pid "$PID_main" || rc=$?
	expect_exit 0 $rc "ckpt dump after the error cases" || return
	check_image --state stopped "$WORK/after.img" "$WORK/main.manifest"
}

: >"$WORK/readonly.file"
t errors/esrch test_esrch
t errors/kernel-thread test_kthread
t errors/zombie test_zombie
t errors/nonroot-open raw_ioctl EACCES --uid 65534 1
t errors/nonroot-ioctl test_raw_stopped_err "EPERM|EACCES" --drop-uid 65534
t errors/fd-readonly test_raw_stopped_err EBADF --out-rdonly "$WORK/readonly.file"
t errors/fd-not-open test_raw_stopped_err EBADF --fd 999
t errors/unknown-flags test_raw_stopped_err EINVAL --flags 0x80000000
t errors/both-checksums test_raw_stopped_err EINVAL --flags 6
t errors/reserved-nonzero test_raw_stopped_err EINVAL --reserved 1
t errors/size-zero test_raw_stopped_err EINVAL --size 0
t errors/size-too-small test_raw_stopped_err EINVAL --size 8
t errors/size-newer-zero-tail test_raw_stopped_err OK --tail-zero 16
t errors/size-newer-nonzero-tail test_raw_stopped_err "E2BIG|EINVAL" --tail 16
t errors/enospc test_enospc
t errors/epipe test_epipe
t errors/eagain test_raw_stopped_err EAGAIN --pipe full
t errors/target-still-dumps test_still_dumps
rm -f "$WORK/err.img" "$WORK/after.img"

# hugetlb cannot be dumped: EOPNOTSUPP, the CLI names the VMA, the target
# is resumed.
test_hugetlb() {
	local rc=0 addr
	echo 2 >/proc/sys/vm/nr_hugepages
	[ "$(cat /proc/sys/vm/nr_hugepages)" -ge 1 ] || fail "cannot reserve a huge page" || return
	start_target hugetlb ckpt-hugetlb || return
	addr=$(manifest_fact "$WORK/hugetlb.manifest" hugetlb)
	with_stopped "$PID_hugetlb" raw_ioctl EOPNOTSUPP "$PID_hugetlb" || return
	cli_fails "$PID_hugetlb" "of a hugetlb mapping" || return
	grep -q "$addr" "$WORK/cli.err" ||
		fail "the error does not name the VMA at $addr: $(oneline "$WORK/cli.err")" || return
	expect_resumed "$PID_hugetlb"
}

t errors/hugetlb-eopnotsupp test_hugetlb

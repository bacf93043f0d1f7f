# What a dump does to the target: nothing visible.

test_rss_unchanged() {
	local rss0 pte0 rss1 pte1 rc=0
	have_cli && have_main || return
	rss0=$(status_kb "$PID_main" VmRSS)
	pte0=$(status_kb "$PID_main" VmPTE)
	cli_dump /dev/null --pid "$PID_main" || rc=$?
	expect_exit 0 $rc "ckpt dump" || return
	rss1=$(status_kb "$PID_main" VmRSS)
	pte1=$(status_kb "$PID_main" VmPTE)
	[ $((rss1 - rss0)) -le 16 ] && [ $((rss0 - rss1)) -le 16 ] ||
		fail "VmRSS $rss0 kB -> $rss1 kB" || return
	[ $((pte1 - pte0)) -le 16 ] && [ $((pte0 - pte1)) -le 16 ] ||
		fail "VmPTE $pte0 kB -> $pte1 kB"
}

test_resumed() {
	local rc=0
	have_cli && have_main || return
	cli_dump /dev/null --pid "$PID_main" || rc=$?
	expect_exit 0 $rc "ckpt dump" || return
	expect_resumed "$PID_main"
}

test_stopped_stays_stopped() {
	local rc=0 states
	have_cli && have_main || return
	kill -STOP "$PID_main"
	wait_states "$PID_main" T || fail "SIGSTOP did not stop the target" || return
	cli_dump "$WORK/stopped.img" --pid "$PID_main" || rc=$?
	# Back in group stop once ckpt has let go (not at once: wait for it).
	wait_states "$PID_main" T
	states=$(thread_states "$PID_main")
	kill -CONT "$PID_main"
	expect_exit 0 $rc "ckpt dump of a stopped target" || return
	[ "$states" = T ] || fail "stopped target's threads in states '$states' after the dump" || return
	expect_resumed "$PID_main"
}

# verify --pid ptraces every thread to find its rseq area: a target stopped
# before stays stopped (main/verify-pid-moved-threads checks that one verify
# stopped is resumed).
test_verify_stopped_stays_stopped() {
	local rc=0 states
	have_cli && have_main || return
	[ -s "$MAIN_IMG" ] || fail "no image" || return
	kill -STOP "$PID_main"
	wait_states "$PID_main" T || fail "SIGSTOP did not stop the target" || return
	tmo "$CKPT" verify "$MAIN_IMG" --pid "$PID_main" >"$WORK/cli.out" 2>"$WORK/cli.err" || rc=$?
	# Back in group stop once ckpt has let go (not at once: wait for it).
	wait_states "$PID_main" T
	states=$(thread_states "$PID_main")
	kill -CONT "$PID_main"
	expect_exit 0 $rc "ckpt verify --pid of a stopped target" || return
	[ "$states" = T ] || fail "stopped target's threads in states '$states' after verify" || return
	expect_resumed "$PID_main"
}

test_leave_stopped() {
	local rc=0 states
	have_cli && have_main || return
	cli_dump /dev/null --pid "$PID_main" --leave-stopped || rc=$?
	# Back in group stop once ckpt has let go (not at once: wait for it).
	wait_states "$PID_main" T
	states=$(thread_states "$PID_main")
	kill -CONT "$PID_main"
	expect_exit 0 $rc "ckpt dump --leave-stopped" || return
	[ "$states" = T ] || fail "threads in states '$states' after --leave-stopped" || return
	expect_resumed "$PID_main"
}

# Naming a thread instead of the process dumps the whole process.
test_by_tid() {
	local rc=0 tid
	have_cli && have_main || return
	for tid in "/proc/$PID_main/task/"*; do
		tid=${tid##*/}
		[ "$tid" != "$PID_main" ] && break
	done
	[ "$tid" != "$PID_main" ] || fail "target has no second thread" || return
	cli_dump "$WORK/tid.img" --pid "$tid" || rc=$?
	expect_exit 0 $rc "ckpt dump --pid $tid (a thread)" || return
	check_image --tid "$tid" "$WORK/tid.img" "$WORK/main.manifest" || return
	expect_resumed "$PID_main"
}

t state/rss-pte-unchanged test_rss_unchanged
t state/resumed test_resumed
t state/stopped-stays-stopped test_stopped_stays_stopped
t state/verify-pid-stopped-stays-stopped test_verify_stopped_stays_stopped
t state/leave-stopped test_leave_stopped
t state/dump-by-tid test_by_tid

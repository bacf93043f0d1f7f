# ckpt restore (issue 11, first step): a single-threaded process dumped
# mid-run, killed and restored carries on to the same result as a run that
# was never interrupted; restored twice from one image; dumped again once
# restored and restored again; and bad images, a changed file and a taken
# pid give clean errors and leave no process behind.

RESTORE_DATA="$WORK/restore.data"
RESTORE_BIN=/ckpt/bin/ckpt-restore-target

# restore_run NAME: one uninterrupted run of the target, output in NAME.out.
restore_setup() {
	[ -s "$RESTORE_DATA" ] || dd if=/dev/urandom of="$RESTORE_DATA" bs=4096 count=32 2>/dev/null
	[ -s "$WORK/restore-ref.out" ] && return 0
	local rc=0
	echo x | "$RESTORE_BIN" "$WORK/restore-ref.manifest" "$RESTORE_DATA" >"$WORK/restore-ref.out" 2>&1 || rc=$?
	[ $rc -eq 42 ] || { fail "the uninterrupted run exited $rc: $(oneline "$WORK/restore-ref.out")"; return 1; }
	grep -q '^vmflags OK$' "$WORK/restore-ref.out" && grep -q '^clock OK$' "$WORK/restore-ref.out" && grep -q '^pending OK$' "$WORK/restore-ref.out" && grep -q '^segments OK$' "$WORK/restore-ref.out" && grep -q '^shmem OK$' "$WORK/restore-ref.out" && grep -q '^shared OK$' "$WORK/restore-ref.out" && grep -q '^result [0-9a-f]* signals 1 xmm OK$' "$WORK/restore-ref.out" ||
		{ fail "the uninterrupted run printed: $(oneline "$WORK/restore-ref.out")"; return 1; }
}

# restore_start NAME: the target, blocked on a FIFO for its byte; PID_NAME.
restore_start() {
	local name=$1 i=0
	rm -f "$WORK/$name.fifo" "$WORK/$name.manifest"
	mkfifo "$WORK/$name.fifo" || return 1
	# shellcheck disable=SC2086 # RESTORE_ARGS: words
	"$RESTORE_BIN" "$WORK/$name.manifest" "$RESTORE_DATA" ${RESTORE_ARGS:-} <"$WORK/$name.fifo" >"$WORK/$name.out" 2>&1 &
	T_JOBS="$T_JOBS $!"
	exec 6>"$WORK/$name.fifo"
	while [ ! -s "$WORK/$name.manifest" ]; do
		i=$((i + 1))
		[ $i -gt 1200 ] && { fail "$name did not start: $(oneline "$WORK/$name.out")"; return 1; }
		usleep 100000
	done
	eval "PID_$name=$(manifest_fact "$WORK/$name.manifest" pid)"
}

# restored_gone PID: a detached restored process (init's child, so not
# ours to wait for), killed, is gone and its pid free for the next restore.
restored_gone() {
	local i=0
	while [ -d "/proc/$1" ]; do
		i=$((i + 1))
		[ $i -gt 1200 ] && { fail "the restored process $1 did not die"; return 1; }
		usleep 100000
	done
}

# expect_same_result OUT RC: what the uninterrupted run printed, and 42.
expect_same_result() {
	[ "$2" -eq 42 ] || { fail "the restored process exited $2: $(oneline "$1") $(oneline "$WORK/cli.err")"; return 1; }
	cmp -s "$1" "$WORK/restore-ref.out" ||
		fail "restored: '$(oneline "$1")', uninterrupted: '$(oneline "$WORK/restore-ref.out")'"
}

test_restore_carries_on() {
	local rc=0 pid
	have_cli && have_module || return
	restore_setup || return
	restore_start r1 || return
	pid=$PID_r1
	cli_dump "$WORK/r1.img" --pid "$pid" || rc=$?
	expect_exit 0 $rc "ckpt dump" || return
	kill -KILL "$pid"
	exec 6>&-
	wait "$pid" 2>/dev/null	# reaped: its pid is free for the restore
	rc=0
	echo x | tmo "$CKPT" restore "$WORK/r1.img" >"$WORK/r1-restored.out" 2>"$WORK/cli.err" || rc=$?
	expect_same_result "$WORK/r1-restored.out" $rc || return
	grep -q "restored pid $pid from" "$WORK/cli.err" || fail "no 'restored pid $pid': $(oneline "$WORK/cli.err")" || return
	# The same image once more: the same result again.
	rc=0
	echo x | tmo "$CKPT" restore "$WORK/r1.img" >"$WORK/r1-again.out" 2>"$WORK/cli.err" || rc=$?
	expect_same_result "$WORK/r1-again.out" $rc || return
	# From a pipe, whose bytes after the image are the process's stdin.
	rc=0
	(cat "$WORK/r1.img"; echo x) | tmo "$CKPT" restore - >"$WORK/r1-pipe.out" 2>"$WORK/cli.err" || rc=$?
	expect_same_result "$WORK/r1-pipe.out" $rc
}

# Four threads: the main one blocked in read(0), two in a futex
# (pthread_cond_wait), one in a nanosleep() loop; each thread gets its tid,
# registers, FPU state, thread pointer and rseq area back.
test_restore_threads() {
	local rc=0 pid tids
	have_cli && have_module || return
	restore_setup || return
	if [ ! -s "$WORK/restore-threads-ref.out" ]; then
		echo x | "$RESTORE_BIN" "$WORK/rt-ref.manifest" "$RESTORE_DATA" threads >"$WORK/restore-threads-ref.out" 2>&1 || rc=$?
		[ $rc -eq 42 ] || { fail "the uninterrupted run exited $rc: $(oneline "$WORK/restore-threads-ref.out")"; return 1; }
		grep -q '^segments OK$' "$WORK/restore-threads-ref.out" && ! grep -Eq 'LOST|BAD' "$WORK/restore-threads-ref.out" ||
			{ fail "the uninterrupted run printed: $(oneline "$WORK/restore-threads-ref.out")"; return 1; }
		rc=0
	fi
	RESTORE_ARGS=threads restore_start rt || return
	pid=$PID_rt
	tids=$(ls "/proc/$pid/task" | sort -n | tr '\n' ' ')
	[ "$(echo $tids | wc -w)" = 4 ] || { exec 6>&-; fail "the target has threads '$tids'"; return 1; }
	cli_dump "$WORK/rt.img" --pid "$pid" --checksum=xxh64 || rc=$?  # whatever the module chose
	kill -KILL "$pid"
	exec 6>&-
	wait "$pid" 2>/dev/null
	expect_exit 0 $rc "ckpt dump" || return
	rc=0
	mkfifo "$WORK/rt2.fifo" || return
	tmo "$CKPT" restore --detach "$WORK/rt.img" <"$WORK/rt2.fifo" >"$WORK/rt2.pid" 2>"$WORK/cli.err" &
	exec 6>"$WORK/rt2.fifo"
	wait $! || rc=$?
	expect_exit 0 $rc "ckpt restore --detach of four threads" || { exec 6>&-; return 1; }
	[ "$(ls "/proc/$pid/task" 2>/dev/null | sort -n | tr '\n' ' ')" = "$tids" ] ||
		{ exec 6>&-; fail "restored tids '$(ls "/proc/$pid/task" 2>/dev/null | tr '\n' ' ')', dumped '$tids'"; return 1; }
	[ "$(readlink "/proc/$pid/exe")" = "$(readlink -f "$RESTORE_BIN")" ] ||
		{ exec 6>&-; fail "the restored /proc/PID/exe is $(readlink "/proc/$pid/exe")"; return 1; }
	# Exactly the image's mappings, with their attributes: nothing of the
	# restorer's is left (its 1.5 MiB array for the VMA attributes was).
	# Shared memory with no path (the memfd's two views, the SysV segment)
	# is rebuilt as new objects: only their inodes may differ, and must.
	tmo "$CKPT" verify "$WORK/rt.img" --pid "$pid" >"$WORK/rt2.verify" 2>&1
	grep -Eq 'VMA differences: +3$' "$WORK/rt2.verify" &&
		[ "$(grep -cE '(memfd:ckpt-jit|SYSV00000000) \(deleted\): image inode [0-9]+, process [0-9]+$' "$WORK/rt2.verify")" = 3 ] ||
		{ exec 6>&-; fail "restored VMAs differ: $(grep -E 'VMA' "$WORK/rt2.verify" | tr '\n' ' ')"; return 1; }
	kill -KILL "$pid"
	exec 6>&-
	restored_gone "$pid" || return
	rc=0
	echo x | tmo "$CKPT" restore "$WORK/rt.img" >"$WORK/rt-restored.out" 2>"$WORK/cli.err" || rc=$?
	[ $rc -eq 42 ] || { fail "the restored process exited $rc: $(oneline "$WORK/rt-restored.out") $(oneline "$WORK/cli.err")"; return 1; }
	cmp -s "$WORK/rt-restored.out" "$WORK/restore-threads-ref.out" && return
	# Still a failure; once more from the same image tells a bad image
	# (the same again) from a restore that differs from run to run.
	echo x | tmo "$CKPT" restore "$WORK/rt.img" >"$WORK/rt-again.out" 2>&1
	fail "restored: '$(oneline "$WORK/rt-restored.out")', uninterrupted: '$(oneline "$WORK/restore-threads-ref.out")', restored again: '$(oneline "$WORK/rt-again.out")'"
}

t restore/carries-on test_restore_carries_on
t restore/threads test_restore_threads

# A restored process is a normal one: dumped again (while it waits for its
# byte on ckpt restore's stdin) and restored again, it still gets there.
test_restore_dump_again() {
	local rc=0 pid fds pos path
	have_cli && have_module || return
	restore_setup || return
	[ -s "$WORK/r1.img" ] || { fail "no image from restore/carries-on"; return 1; }
	rm -f "$WORK/r2.fifo"
	mkfifo "$WORK/r2.fifo" || return
	# fd 7, open in ckpt restore, is not the process's.
	tmo "$CKPT" restore --detach "$WORK/r1.img" <"$WORK/r2.fifo" >"$WORK/r2.pid" 2>"$WORK/cli.err" 7>"$WORK/stray" &
	exec 6>"$WORK/r2.fifo"
	wait $! || rc=$?
	expect_exit 0 $rc "ckpt restore --detach" || { exec 6>&-; return 1; }
	pid=$(cat "$WORK/r2.pid")
	[ -d "/proc/$pid" ] || { exec 6>&-; fail "--detach printed '$pid', no such process"; return 1; }
	grep -q 'ckpt-restore-t' "/proc/$pid/comm" || { exec 6>&-; fail "restored comm: $(cat "/proc/$pid/comm")"; return 1; }
	# Read before closing the FIFO, which ends the process (EOF on stdin).
	fds=$(ls "/proc/$pid/fd" | sort -n | tr '\n' ' ')
	pos=$(oneline "/proc/$pid/fdinfo/3")
	path=$(readlink "/proc/$pid/fd/3")
	[ "$fds" = "0 1 2 3 " ] || { exec 6>&-; fail "restored descriptors: $fds"; return 1; }
	case "$pos" in pos:[[:space:]]5000[[:space:]]*) ;; *) exec 6>&-; fail "fd 3's offset: $pos"; return 1 ;; esac
	[ "$path" = "$RESTORE_DATA" ] || { exec 6>&-; fail "fd 3 is $path"; return 1; }
	cli_dump "$WORK/r2.img" --pid "$pid" --checksum=crc32c || rc=$?  # whatever the module chose
	kill -KILL "$pid"
	exec 6>&-
	restored_gone "$pid" || return
	expect_exit 0 $rc "ckpt dump of a restored process" || return
	rc=0
	echo x | tmo "$CKPT" restore "$WORK/r2.img" >"$WORK/r2-restored.out" 2>"$WORK/cli.err" || rc=$?
	expect_same_result "$WORK/r2-restored.out" $rc
}

# restore_refused WHAT MESSAGE ARGS...: ckpt restore ARGS fails with status
# 2 and MESSAGE on stderr, and no process of the image is left.
restore_refused() {
	local what=$1 msg=$2 rc=0
	shift 2
	echo x | tmo "$CKPT" restore "$@" >"$WORK/refused.out" 2>"$WORK/cli.err" || rc=$?
	[ $rc -eq 2 ] || { fail "$what: exited $rc, expected 2: $(oneline "$WORK/cli.err") $(oneline "$WORK/refused.out")"; return 1; }
	grep -q -- "$msg" "$WORK/cli.err" || { fail "$what: no '$msg' in: $(oneline "$WORK/cli.err")"; return 1; }
	[ ! -s "$WORK/refused.out" ] || fail "$what: the process ran: $(oneline "$WORK/refused.out")"
}

# flip_byte FILE OFFSET: the byte there changed (inverted), whatever it was.
flip_byte() {
	local b
	b=$(od -An -tu1 -j "$2" -N 1 "$1" | tr -d ' ')
	printf "\\$(printf %o $((255 - b)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

test_restore_refusals() {
	local size rc
	have_cli && have_module || return
	[ -s "$WORK/r1.img" ] || { fail "no image from restore/carries-on"; return 1; }
	size=$(stat -c %s "$WORK/r1.img")
	# Damage in the memory: the module's checks.
	cp "$WORK/r1.img" "$WORK/bad.img"
	flip_byte "$WORK/bad.img" $((size - 4096 - 100))
	restore_refused "a damaged page" "Bad message" "$WORK/bad.img" || return
	head -c $((size / 2)) "$WORK/r1.img" >"$WORK/short.img"
	restore_refused "a truncated image" "Bad message" "$WORK/short.img" || return
	# Damage before MM: the CLI's checks, before any process exists.
	cp "$WORK/r1.img" "$WORK/bad.img"
	flip_byte "$WORK/bad.img" 200
	restore_refused "a damaged record before MM" "bad crc" "$WORK/bad.img" || return
	# The pid taken: the process is still there.  (Its own copy of the data
	# file, replaced below: r1.img stays restorable for t80.)
	cp "$RESTORE_DATA" "$WORK/r3.data"
	RESTORE_DATA="$WORK/r3.data" restore_start r3 || return
	cli_dump "$WORK/r3.img" --pid "$PID_r3" || { exec 6>&-; fail "dump"; return 1; }
	restore_refused "a taken pid" "pid $PID_r3 is taken" "$WORK/r3.img" || { exec 6>&-; return 1; }
	# --any-pid: a second copy beside the first, with another pid.
	rc=0
	echo x | tmo "$CKPT" restore --any-pid "$WORK/r3.img" >"$WORK/r3-any.out" 2>"$WORK/cli.err" || rc=$?
	expect_same_result "$WORK/r3-any.out" $rc || { exec 6>&-; return 1; }
	grep -q "restored pid $PID_r3 " "$WORK/cli.err" && { exec 6>&-; fail "--any-pid took the taken pid?"; return 1; }
	kill -KILL "$PID_r3"
	exec 6>&-
	wait "$PID_r3" 2>/dev/null
	# The mapped file replaced by another (same name, another inode).
	cp "$WORK/r3.data" "$WORK/r3.data.new"
	mv "$WORK/r3.data.new" "$WORK/r3.data"
	restore_refused "a replaced file" "is not the file that was open\|Stale file handle" "$WORK/r3.img"
}

t restore/dump-again test_restore_dump_again
t restore/refusals test_restore_refusals

# Threads stopped in timed waits that do not retry on EINTR (nanosleep,
# clock_nanosleep, poll, relative and absolute futex waits): each had its
# deadline in the kernel's restart block, which the image holds as a
# RESTART record; restored, each waits out what was left and returns as
# an uninterrupted wait does, no earlier than its deadline.
test_restore_timed_waits() {
	local rc=0 pid tids tid nr i=0 n
	local want_nrs="230 230 7 202 202"	# glibc's nanosleep is clock_nanosleep
	have_cli && have_module || return
	rm -f "$WORK/w.manifest"
	# 20 s: long past the dump, which must catch every thread in its wait.
	/ckpt/bin/ckpt-wait-target "$WORK/w.manifest" 20 >"$WORK/w.out" 2>&1 &
	pid=$!
	T_JOBS="$T_JOBS $pid"
	while [ ! -s "$WORK/w.manifest" ]; do
		i=$((i + 1))
		[ $i -gt 1200 ] && { fail "the wait target did not start: $(oneline "$WORK/w.out")"; return 1; }
		usleep 100000
	done
	tids=$(manifest_fact "$WORK/w.manifest" tids)
	set -- $want_nrs
	for tid in $tids; do
		i=0
		until [ "$(cut -d' ' -f1 "/proc/$pid/task/$tid/syscall" 2>/dev/null)" = "$1" ]; do
			i=$((i + 1))
			[ $i -gt 1200 ] && { fail "thread $tid never entered system call $1"; return 1; }
			usleep 100000
		done
		shift
	done
	dump_then_kill "$WORK/w.img" "$pid" || rc=$?
	expect_exit 0 $rc "ckpt dump" || return
	n=$("$CKPT" show "$WORK/w.img" | grep -c '^ *in a timed ')
	[ "$n" = 5 ] || { fail "the image has $n RESTART records, not 5: $("$CKPT" show "$WORK/w.img" | grep -A1 '^thread' | tr '\n' ' ')"; return 1; }
	printf '%s: OK\n' nanosleep clock_nanosleep poll futex_wait futex_wait_bitset >"$WORK/w-want.out"
	rc=0
	tmo "$CKPT" restore "$WORK/w.img" </dev/null >"$WORK/w-restored.out" 2>"$WORK/cli.err" || rc=$?
	expect_exit 0 $rc "ckpt restore of the waits: $(oneline "$WORK/w-restored.out") $(oneline "$WORK/cli.err")" || return
	cmp -s "$WORK/w-restored.out" "$WORK/w-want.out" || fail "restored waits: $(oneline "$WORK/w-restored.out")"
}

t restore/timed-waits test_restore_timed_waits

# A process whose main thread had exited (pthread_exit): restored with its
# worker's tid, the main thread exits again (the worker sees it a zombie,
# as before), and the result is the uninterrupted run's.
test_restore_leaderless() {
	local rc=0 pid tid i=0
	have_cli && have_module || return
	echo x | /ckpt/bin/ckpt-leaderless "$WORK/ll-ref.manifest" >"$WORK/ll-ref.out" 2>&1 || rc=$?
	[ $rc -eq 42 ] && grep -q '^leader Z$' "$WORK/ll-ref.out" ||
		{ fail "the uninterrupted run exited $rc: $(oneline "$WORK/ll-ref.out")"; return 1; }
	rc=0
	rm -f "$WORK/ll.fifo" "$WORK/ll.manifest"
	mkfifo "$WORK/ll.fifo" || return
	/ckpt/bin/ckpt-leaderless "$WORK/ll.manifest" <"$WORK/ll.fifo" >"$WORK/ll.out" 2>&1 &
	pid=$!
	T_JOBS="$T_JOBS $pid"
	exec 6>"$WORK/ll.fifo"
	while [ ! -s "$WORK/ll.manifest" ]; do
		i=$((i + 1))
		[ $i -gt 1200 ] && { exec 6>&-; fail "the target did not start: $(oneline "$WORK/ll.out")"; return 1; }
		usleep 100000
	done
	tid=$(manifest_fact "$WORK/ll.manifest" worker)
	i=0
	until [ "$(cut -d' ' -f1 "/proc/$pid/task/$tid/syscall" 2>/dev/null)" = 0 ]; do
		i=$((i + 1))
		[ $i -gt 1200 ] && { exec 6>&-; fail "the worker never blocked in read"; return 1; }
		usleep 100000
	done
	dump_then_kill "$WORK/ll.img" "$pid" || rc=$?
	expect_exit 0 $rc "ckpt dump of a process whose main thread exited" || return
	rc=0
	echo x | tmo "$CKPT" restore "$WORK/ll.img" >"$WORK/ll-restored.out" 2>"$WORK/cli.err" || rc=$?
	[ $rc -eq 42 ] || { fail "the restored process exited $rc: $(oneline "$WORK/ll-restored.out") $(oneline "$WORK/cli.err")"; return 1; }
	cmp -s "$WORK/ll-restored.out" "$WORK/ll-ref.out" ||
		fail "restored: '$(oneline "$WORK/ll-restored.out")', uninterrupted: '$(oneline "$WORK/ll-ref.out")'"
}

t restore/leaderless test_restore_leaderless

# Credentials (root restores them): a two-thread process with uids, gids,
# groups, capability sets, securebits and no_new_privs of its own comes
# back with all of them in both threads, not as root.
test_restore_credentials() {
	local rc=0 pid i=0
	have_cli && have_module || return
	echo x | /ckpt/bin/ckpt-creds-target "$WORK/cr-ref.manifest" >"$WORK/cr-ref.out" 2>&1 || rc=$?
	[ $rc -eq 0 ] && grep -q "^Uid:	4001	4002	4003	4002$" "$WORK/cr-ref.out" ||
		{ fail "the uninterrupted run exited $rc: $(oneline "$WORK/cr-ref.out")"; return 1; }
	rm -f "$WORK/cr.fifo" "$WORK/cr.manifest"
	mkfifo "$WORK/cr.fifo" || return
	/ckpt/bin/ckpt-creds-target "$WORK/cr.manifest" <"$WORK/cr.fifo" >"$WORK/cr.out" 2>&1 &
	pid=$!
	T_JOBS="$T_JOBS $pid"
	exec 6>"$WORK/cr.fifo"
	# Its manifest comes first; then its credentials, then read(0).
	until [ "$(cut -d' ' -f1 "/proc/$pid/syscall" 2>/dev/null)" = 0 ]; do
		i=$((i + 1))
		[ $i -gt 1200 ] && { exec 6>&-; fail "the target never blocked in read: $(oneline "$WORK/cr.out")"; return 1; }
		usleep 100000
	done
	dump_then_kill "$WORK/cr.img" "$pid" || rc=$?
	expect_exit 0 $rc "ckpt dump" || return
	rc=0
	echo x | tmo "$CKPT" restore "$WORK/cr.img" >"$WORK/cr-restored.out" 2>"$WORK/cli.err" || rc=$?
	expect_exit 0 $rc "ckpt restore: $(oneline "$WORK/cr-restored.out") $(oneline "$WORK/cli.err")" || return
	cmp -s "$WORK/cr-restored.out" "$WORK/cr-ref.out" ||
		fail "restored: '$(oneline "$WORK/cr-restored.out")', uninterrupted: '$(oneline "$WORK/cr-ref.out")'"
}

t restore/credentials test_restore_credentials

# FINISH is authorised by the RESTORE that rebuilt the caller's memory on
# the same open file, not by the caller's capabilities (a restored thread
# may have dropped them): root, on a file that restored nothing, is refused.
test_restore_finish_needs_restore() {
	have_module || return
	/ckpt/bin/ckpt-finish-probe >"$WORK/probe.out" 2>&1 ||
		fail "CKPT_IOC_RESTORE_FINISH without a restore: $(oneline "$WORK/probe.out")"
}

t restore/finish-needs-restore test_restore_finish_needs_restore

# Guest-side helpers for the ckpt end-to-end tests (busybox sh). Sourced.
#
# A test is a function run by `t NAME FUNC [ARGS]`. It returns 0 for a pass;
# on failure it calls `fail REASON` (which returns 1), the idiom being
#     some_command || fail "why" || return
# and `t` prints "ok - NAME" or "not ok - NAME: REASON".

CKPT=${CKPT:-/ckpt/bin/ckpt}
WORK=${WORK:-/tmp/ckpt-e2e}
KMOD=${KMOD:-/ckpt/kmod}
TMO=${TMO:-120}		# seconds any single command may take

T_PASS=0
T_FAIL=0
T_REASON=
T_JOBS=

fail() {
	T_REASON="$*"
	return 1
}

# skip REASON: the test cannot run here (return its status: 77); make check
# counts it as a skip, not a pass.
skip() {
	T_REASON="$*"
	return 77
}

t() {
	local name=$1 rc=0
	shift
	T_REASON=
	"$@" || rc=$?
	if [ $rc -eq 0 ]; then
		echo "ok - $name"
		T_PASS=$((T_PASS + 1))
	elif [ $rc -eq 77 ]; then
		echo "ok - $name # SKIP $T_REASON"
	else
		echo "not ok - $name: $(printf '%s' "${T_REASON:-failed}" | tr '\n' ' ')"
		T_FAIL=$((T_FAIL + 1))
	fi
}

# t_tap CMD ARGS...: CMD prints its own "ok - " / "not ok - " lines; pass
# them through and count them.
# A command that fails without a "not ok" line (killed, crashed) is a
# failure of its own.
t_tap() {
	local rc=0 failed
	"$@" >"$WORK/tap.out" 2>&1 || rc=$?
	cat "$WORK/tap.out"
	failed=$(grep -c '^not ok - ' "$WORK/tap.out")
	T_PASS=$((T_PASS + $(grep -c '^ok - ' "$WORK/tap.out")))
	T_FAIL=$((T_FAIL + failed))
	if [ $rc -ne 0 ] && [ "$failed" -eq 0 ]; then
		echo "not ok - ${1##*/}: exited $rc without saying what failed"
		T_FAIL=$((T_FAIL + 1))
	fi
	return 0
}

# Run a command with a time limit (SIGKILL after $TMO seconds).
tmo() {
	timeout -s KILL "$TMO" "$@"
}

# First line of a file, with newlines flattened, for failure reasons.
oneline() {
	head -c 400 "$1" 2>/dev/null | tr '\n' ' '
}

have_cli() {
	[ -x "$CKPT" ] || fail "ckpt CLI is missing from the initramfs (tools/ckpt did not build)"
}

have_module() {
	[ -c /dev/ckpt ] || fail "/dev/ckpt does not exist (module not loaded)"
}

have_main() {
	[ -n "$PID_main" ] || fail "no main target (main/start failed)"
}

# ---------------------------------------------------------------- targets

# start_target NAME BIN ARGS...: run BIN MANIFEST ARGS in the background,
# wait for its manifest; sets PID_<NAME> to the pid in the manifest.
start_target() {
	local st_name=$1 st_bin=$2 i=0
	shift 2
	rm -f "$WORK/$st_name.manifest"
	"/ckpt/bin/$st_bin" "$WORK/$st_name.manifest" "$@" </dev/null >"$WORK/$st_name.out" 2>&1 &
	T_JOBS="$T_JOBS $!"
	while [ ! -f "$WORK/$st_name.manifest" ]; do
		i=$((i + 1))
		if [ $i -gt 600 ] || ! kill -0 $! 2>/dev/null; then
			fail "target $st_bin did not start: $(oneline "$WORK/$st_name.out")"
			return 1
		fi
		usleep 100000
	done
	eval "PID_$st_name=$(manifest_fact "$WORK/$st_name.manifest" pid)"
}

manifest_fact() {
	sed -n "s/^@$2 //p" "$1" | head -n 1
}

stop_targets() {
	for job in $T_JOBS; do
		kill -KILL "$job" 2>/dev/null
	done
	T_JOBS=
}

# ------------------------------------------------------------- processes

# State letter of every thread of PID, sorted and unique (e.g. "S", "T", or
# "t" while a tracer holds it in a ptrace stop).
thread_states() {
	local s
	for s in "/proc/$1/task/"*/status; do
		sed -n 's/^State:[[:space:]]*\([A-Za-z]\).*/\1/p' "$s"
	done 2>/dev/null | sort -u | tr -d '\n'
}

# wait_states PID WANT: wait (2 min at most: CI machines are loaded) until
# every thread is in state WANT.
wait_states() {
	local i=0
	while [ "$(thread_states "$1")" != "$2" ]; do
		i=$((i + 1))
		[ $i -gt 1200 ] && return 1
		usleep 100000
	done
	return 0
}

# pin_threads PID MASK: every thread of PID may run only on the CPUs in the
# taskset MASK from now on (a sleeping thread moves when it next wakes).
pin_threads() {
	local pt_task
	for pt_task in "/proc/$1/task/"*; do
		taskset -p "$2" "${pt_task##*/}" >/dev/null || return 1
	done
}

# bounce PID: stop and resume a sleeping PID; each thread wakes, returns to
# user space (where the kernel updates its rseq area) and sleeps again.
bounce() {
	kill -STOP "$1"
	wait_states "$1" T || return 1
	kill -CONT "$1"
	wait_states "$1" S
}

# A sleeping target must be sleeping again (S) after a dump, not stopped.
expect_resumed() {
	wait_states "$1" S || fail "target $1 not resumed: thread states '$(thread_states "$1")'"
}

status_kb() {
	sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status"
}

# A pid that no process has (a child that has exited and been reaped).
free_pid() {
	local fp
	true &
	fp=$!
	wait $fp
	echo $fp
}

# ----------------------------------------------------------------- ckpt

# cli_dump OUTFILE ARGS...: ckpt dump ARGS -o OUTFILE; stderr in $WORK/cli.err
cli_dump() {
	local cd_out=$1
	shift
	tmo "$CKPT" dump "$@" -o "$cd_out" 2>"$WORK/cli.err"
}

# dump_then_kill IMAGE PID: cli_dump IMAGE --pid PID, then the target
# killed and reaped and fd 6 (the FIFO it waits on, if any) closed.
# Returns the dump's status.
dump_then_kill() {
	local rc=0
	cli_dump "$1" --pid "$2" || rc=$?
	kill -KILL "$2"
	exec 6>&-
	wait "$2" 2>/dev/null
	return $rc
}

# expect_exit WANT RC WHAT: fail unless RC is WANT.
expect_exit() {
	[ "$2" -eq "$1" ] ||
		fail "$3 exited $2, expected $1: $(oneline "$WORK/cli.err")"
}

# raw_ioctl WANT ARGS...: run ckpt-ioctl ARGS, expect "OK" or "ERR WANT[|WANT2]".
raw_ioctl() {
	local ri_want=$1 ri_out ri_word
	shift
	ri_out=$(tmo /ckpt/bin/ckpt-ioctl "$@" 2>&1)
	ri_word=$(echo "$ri_out" | awk 'NR == 1 { print ($1 == "OK") ? "OK" : $2 }')
	case "|$ri_want|" in
	*"|$ri_word|"*) return 0 ;;
	esac
	fail "ckpt-ioctl $*: got '$ri_out', expected $ri_want"
}

# check_image ARGS...: ckpt-imgcheck --summary ARGS; its failures become the
# reason.
check_image() {
	/ckpt/bin/ckpt-imgcheck --summary x "$@" >"$WORK/check.out" 2>&1 ||
		fail "$(sed 's/^not ok - x: //' "$WORK/check.out")"
}

# Lines in dmesg since the last "ckpt-e2e: MARK" we wrote.
dmesg_mark() {
	echo "ckpt-e2e: $1" >/dev/kmsg
}

dmesg_since() {
	dmesg | awk -v m="ckpt-e2e: $1" 'index($0, m) { buf = ""; next } { buf = buf $0 "\n" } END { printf "%s", buf }'
}

# wait_blocked_on_pipe PID: until PID sleeps in pipe_write (2 min at most).
wait_blocked_on_pipe() {
	local i=0
	until grep -q pipe_write "/proc/$1/wchan" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 1200 ] && return 1
		kill -0 "$1" 2>/dev/null || return 1
		usleep 100000
	done
}

# start_slow_dump PID NAME ARGS...: ckpt-ioctl ARGS PID into a FIFO nobody
# reads yet, until it blocks on the full pipe; sets DUMPER, fd 5 reads.
start_slow_dump() {
	local pid=$1 name=$2
	shift 2
	rm -f "$WORK/$name.fifo"
	mkfifo "$WORK/$name.fifo" || fail "mkfifo" || return
	/ckpt/bin/ckpt-ioctl --out "$WORK/$name.fifo" "$@" "$pid" >"$WORK/$name.out" 2>&1 &
	DUMPER=$!
	exec 5<"$WORK/$name.fifo"
	wait_blocked_on_pipe "$DUMPER" ||
		fail "the dump did not block on its pipe: $(oneline "$WORK/$name.out")"
}

# with_stopped PID CMD ARGS...: run CMD while PID is stopped by SIGSTOP.
with_stopped() {
	local ws_pid=$1 ws_rc=0
	shift
	kill -STOP "$ws_pid"
	wait_states "$ws_pid" T || fail "SIGSTOP did not stop $ws_pid" || ws_rc=1
	[ $ws_rc -eq 0 ] && { "$@" || ws_rc=$?; }
	kill -CONT "$ws_pid"
	return $ws_rc
}

# load_extra NAME: insmod NAME, after what it needs, from the stock
# kernel's modules the initramfs carries (/ckpt/kmod/extra.order).
load_extra() {
	local m dir=/ckpt/kmod/extra
	[ -f "$dir.order" ] && grep -qx "$1.ko" "$dir.order" || return 1
	while read -r m; do
		grep -q "^${m%.ko} " /proc/modules || insmod "$dir/$m" || return 1
		[ "$m" = "$1.ko" ] && return 0
	done <"$dir.order"
	return 1
}

# Swap on a 64 MiB zram device (set up once; swapoff and on again).
swap_on() {
	[ -e /sys/class/zram-control ] || load_extra zram || return 1
	[ -b /dev/zram0 ] || return 1
	if [ "$(cat /sys/block/zram0/disksize)" = 0 ]; then
		echo lzo >/sys/block/zram0/comp_algorithm 2>/dev/null
		echo 64M >/sys/block/zram0/disksize || return 1
	fi
	mkswap /dev/zram0 >/dev/null && swapon /dev/zram0
}

# The device node of the virtio port named $1 (default ckpt.out), once
# its driver is there (6.1 has it as modules).
ckpt_out_port() {
	local d i=0 name=${1:-ckpt.out}
	load_extra virtio_pci
	load_extra virtio_console
	while [ $i -lt 600 ]; do	# 60 s: a limit, not a pace
		for d in /sys/class/virtio-ports/*; do
			[ "$(cat "$d/name" 2>/dev/null)" = "$name" ] && [ -c "/dev/${d##*/}" ] &&
				echo "/dev/${d##*/}" && return 0
		done
		i=$((i + 1))
		usleep 100000
	done
	return 1
}

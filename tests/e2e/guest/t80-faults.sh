# Fault injection (the debug kernel only): many dumps while allocations
# made inside ckpt.ko by the dumping task fail at random (failslab and
# fail_page_alloc, filtered to that task and, by call stack, to the
# module's code: the CLI's own allocations are left alone).  Every dump must either succeed with an image that verifies
# against the target, or fail with a clean error; the target must be
# resumed either way.  t90 then checks that the module still unloads and
# that the kernel log (KASAN, lockdep, kmemleak) stays clean.

FAULT_DUMPS=${FAULT_DUMPS:-60}

# fault_attr DIR START END: inject into the tasks that ask for it
# (make-it-fail), for allocations whose call stack passes through
# [START, END), at random, silently, into sleeping allocations too.
fault_attr() {
	echo "$2" >"$1/require-start" &&
		echo "$3" >"$1/require-end" &&
		echo 1 >"$1/task-filter" &&
		echo 10 >"$1/probability" &&
		echo 1 >"$1/interval" &&
		echo 1000000 >"$1/times" &&
		echo 0 >"$1/space" &&
		echo 0 >"$1/verbose" &&
		echo N >"$1/ignore-gfp-wait"
}

faults_injected() {
	echo $((2000000 - $(cat /sys/kernel/debug/failslab/times) - $(cat /sys/kernel/debug/fail_page_alloc/times)))
}

# The module's core, from /proc/modules ("ckpt SIZE ... 0xADDRESS"), as
# two hex addresses (sh arithmetic is 64-bit; awk's is not exact).
module_range() {
	local base size
	set -- $(awk '$1 == "ckpt" { print $6, $2 }' /proc/modules)
	base=$1 size=$2
	[ -n "$base" ] && [ "$base" != 0x0000000000000000 ] || return 1
	printf '%s 0x%x\n' "$base" $((base + size))
}

test_fault_campaign() {
	local i rc ok=0 clean=0 injected range
	have_cli && have_module && have_main || return
	range=$(module_range) || fail "no address for ckpt in /proc/modules" || return
	fault_attr /sys/kernel/debug/failslab $range || fail "cannot set up failslab" || return
	fault_attr /sys/kernel/debug/fail_page_alloc $range || fail "cannot set up fail_page_alloc" || return
	i=0
	while [ $i -lt "$FAULT_DUMPS" ]; do
		i=$((i + 1))
		rm -f "$WORK/fault.img"
		rc=0
		tmo sh -c 'echo 1 >/proc/self/make-it-fail && exec "$0" dump --quiet --pid "$1" -o "$2"' \
			"$CKPT" "$PID_main" "$WORK/fault.img" 2>"$WORK/fault.err" || rc=$?
		expect_resumed "$PID_main" || return
		if [ $rc -eq 0 ]; then
			tmo "$CKPT" verify --quiet "$WORK/fault.img" --pid "$PID_main" >"$WORK/fault.verify" 2>&1 ||
				fail "dump $i succeeded but its image does not verify: $(oneline "$WORK/fault.verify")" || return
			ok=$((ok + 1))
		elif [ $rc -eq 3 ] && grep -q '^ckpt: ' "$WORK/fault.err"; then
			clean=$((clean + 1))
		else
			fail "dump $i: exit $rc, not a clean failure: $(oneline "$WORK/fault.err")" || return
		fi
	done
	injected=$(faults_injected)
	echo 0 >/sys/kernel/debug/failslab/probability
	echo 0 >/sys/kernel/debug/fail_page_alloc/probability
	echo "# faults: $FAULT_DUMPS dumps, $ok verified, $clean failed cleanly, $injected faults injected and survived"
	[ "$injected" -gt 0 ] || fail "no fault was injected: the campaign tested nothing" || return
	[ $ok -gt 0 ] || fail "no dump succeeded under fault injection"
}

mount -t debugfs none /sys/kernel/debug 2>/dev/null
if [ -d /sys/kernel/debug/failslab ] && [ -d /sys/kernel/debug/fail_page_alloc ]; then
	t faults/campaign test_fault_campaign
else
	echo "ok - faults/campaign # SKIP no failslab/fail_page_alloc: not the debug kernel"
fi

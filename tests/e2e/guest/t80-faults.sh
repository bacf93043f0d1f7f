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

# Restores (t45's image of ckpt-restore-target) under one injected
# allocation failure each: the K-th allocation made through the module (a
# restore allocates for every mapping and page it builds, so random faults
# at the dump campaign's rate would fail every one).  Each restore either
# carries on to the uninterrupted run's result or fails cleanly before the
# process is back, leaving no process behind.
FAULT_RESTORE_STEPS="1 2 3 4 5 6 7 8 9 10 20 40 80 160 320 640 1280 2560 5120 10240"

# fault_once DIR K: fail once, at the next K-th allocation that matches.
fault_once() {
	echo 100 >"$1/probability" && echo "$2" >"$1/interval" && echo 1 >"$1/times"
}

test_fault_restores() {
	local k rc ok=0 clean=0 injected range first="" n=0
	have_cli && have_module || return
	[ -s "$WORK/r1.img" ] && [ -s "$WORK/restore-ref.out" ] || fail "no image from restore/carries-on (t45)" || return
	range=$(module_range) || fail "no address for ckpt in /proc/modules" || return
	fault_attr /sys/kernel/debug/failslab $range || fail "cannot set up failslab" || return
	fault_attr /sys/kernel/debug/fail_page_alloc $range || fail "cannot set up fail_page_alloc" || return
	injected=0
	for k in $FAULT_RESTORE_STEPS; do
		n=$((n + 1))
		fault_once /sys/kernel/debug/failslab "$k" && fault_once /sys/kernel/debug/fail_page_alloc "$k" ||
			fail "cannot arm the faults" || return
		rc=0
		echo x | tmo sh -c 'echo 1 >/proc/self/make-it-fail && exec "$0" restore --quiet "$1"' \
			"$CKPT" "$WORK/r1.img" >"$WORK/fault.out" 2>"$WORK/fault.err" || rc=$?
		injected=$((injected + 2 - $(cat /sys/kernel/debug/failslab/times) - $(cat /sys/kernel/debug/fail_page_alloc/times)))
		if [ $rc -eq 42 ]; then
			cmp -s "$WORK/fault.out" "$WORK/restore-ref.out" ||
				fail "restore $n carried on to another result: $(oneline "$WORK/fault.out")" || return
			ok=$((ok + 1))
		elif [ $rc -eq 2 ] && grep -q '^ckpt: ' "$WORK/fault.err" && [ ! -s "$WORK/fault.out" ]; then
			clean=$((clean + 1))
			[ -n "$first" ] || first=$(oneline "$WORK/fault.err")
		else
			fail "restore $n: exit $rc, not a clean failure: $(oneline "$WORK/fault.err") $(oneline "$WORK/fault.out")" ||
				return
		fi
	done
	for f in failslab fail_page_alloc; do
		echo 0 >/sys/kernel/debug/$f/probability
		echo 1 >/sys/kernel/debug/$f/interval
	done
	echo "# faults: $n restores, $ok carried on, $clean failed cleanly, $injected faults injected${first:+ (first failure: $first)}"
	[ "$injected" -gt 0 ] || fail "no fault was injected: the restores tested nothing" || return
	[ $clean -gt 0 ] || fail "no restore failed under fault injection" || return
	[ $ok -gt 0 ] || fail "no restore succeeded"
}

mount -t debugfs none /sys/kernel/debug 2>/dev/null
if [ -d /sys/kernel/debug/failslab ] && [ -d /sys/kernel/debug/fail_page_alloc ]; then
	t faults/campaign test_fault_campaign
	t faults/restores test_fault_restores
else
	echo "ok - faults/campaign # SKIP no failslab/fail_page_alloc: not the debug kernel"
	echo "ok - faults/restores # SKIP no failslab/fail_page_alloc: not the debug kernel"
fi

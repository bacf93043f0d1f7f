# The end: no reference left behind, nothing bad in the kernel log.

test_rmmod() {
	lsmod | grep -q '^ckpt ' || fail "ckpt is not loaded" || return
	rmmod ckpt 2>"$WORK/rmmod.err" ||
		fail "rmmod ckpt: $(oneline "$WORK/rmmod.err") ($(lsmod | grep '^ckpt '))" || return
	[ ! -e /dev/ckpt ] || fail "/dev/ckpt still exists after rmmod"
}

test_reload() {
	[ -f "$KMOD/ckpt.ko" ] || fail "no ckpt.ko" || return
	insmod "$KMOD/ckpt.ko" 2>"$WORK/insmod.err" || fail "insmod: $(oneline "$WORK/insmod.err")" || return
	[ -c /dev/ckpt ] || fail "no /dev/ckpt after reloading" || return
	rmmod ckpt 2>"$WORK/rmmod.err" || fail "rmmod: $(oneline "$WORK/rmmod.err")"
}

# On the debug kernel, make kmemleak look for leaks now (it reports them in
# the kernel log); on stock kernels there is no kmemleak.
kmemleak_scan() {
	local f=/sys/kernel/debug/kmemleak
	mount -t debugfs none /sys/kernel/debug 2>/dev/null
	[ -w $f ] || return 0
	echo scan >$f && sleep 1 && echo scan >$f
	cat $f >"$WORK/kmemleak"
	[ ! -s "$WORK/kmemleak" ] || fail "kmemleak: $(oneline "$WORK/kmemleak")"
}

test_dmesg_clean() {
	local bad
	kmemleak_scan || return
	# Under fault injection kmemleak's own bookkeeping for a vmalloc
	# fallback can fail; it then scans the whole object: not a report.
	bad=$(dmesg_since suite-start |
		grep -v 'kmemleak: Cannot allocate a scan area, scanning the full object' |
		grep -E 'WARNING|BUG|Oops|leak|refcount|KASAN|UBSAN|circular locking|lockdep|DEBUG_LOCKS' |
		head -n 5)
	[ -z "$bad" ] || fail "kernel log: $bad"
}

stop_targets
sleep 1
t module/rmmod test_rmmod
t module/reload test_reload
t dmesg/clean test_dmesg_clean

# How a dump holds its target (review 2026-12-01 #1, #2, #3, #8, #10, #12):
# the caller must trace every thread; nothing but the caller can resume a
# thread it holds in a ptrace stop; each lock hold walks only the mapping it
# has checked; a group whose leader exited, and the huge zero page, dump.

test_untraced_eperm() {
	have_module && have_main || return
	with_stopped "$PID_main" raw_ioctl EPERM --hold none "$PID_main" || return
	raw_ioctl EPERM --hold all-but-one "$PID_main" || return
	raw_ioctl EPERM --flags 1 --hold none "$PID_main" || return
	expect_resumed "$PID_main"
}

# The reviewer's torn image: while the dump waits on a slow pipe, SIGCONT
# reaches the target.  A ptrace stop ignores it: the target stays held, the
# dump completes, and the image is one moment's, every checksum right.
test_sigcont_cannot_resume() {
	local states rc=0
	have_module && have_main || return
	start_slow_dump "$PID_main" slow || { exec 5<&-; return 1; }
	kill -CONT "$PID_main"
	states=$(thread_states "$PID_main")
	cat <&5 >"$WORK/slow.img"
	exec 5<&-
	wait "$DUMPER" || rc=$?
	[ "$states" = t ] || fail "threads in states '$states' after SIGCONT during the dump" || return
	[ $rc -eq 0 ] || fail "ckpt-ioctl: $(oneline "$WORK/slow.out")" || return
	check_image --state stopped "$WORK/slow.img" "$WORK/main.manifest" || return
	if have_cli; then
		tmo "$CKPT" verify "$WORK/slow.img" >"$WORK/cli.out" 2>"$WORK/cli.err" || rc=$?
		expect_exit 0 $rc "ckpt verify" || return
	fi
	rm -f "$WORK/slow.img"
	expect_resumed "$PID_main"
}

# SIGKILL does end a ptrace stop: the target dies mid-dump, and the dump
# fails cleanly (its address space is gone, or its threads are).
test_killed_during_dump() {
	local rc=0
	have_module || return
	mkdir -p "$WORK/victim"
	start_target victim ckpt-target "$WORK/victim" || return
	start_slow_dump "$PID_victim" victim || { exec 5<&-; return 1; }
	kill -KILL "$PID_victim"
	cat <&5 >/dev/null
	exec 5<&-
	wait "$DUMPER" || rc=$?
	[ $rc -eq 1 ] || fail "ckpt-ioctl exited $rc: $(oneline "$WORK/victim.out")" || return
	grep -qE '^ERR (ESRCH|EBUSY) ' "$WORK/victim.out" ||
		fail "expected ESRCH or EBUSY: $(oneline "$WORK/victim.out")"
}

# A live process whose main thread has exited (pthread_exit) is dumped
# from its other threads' mm (review #8: it was ESRCH).
test_leader_exited() {
	local rc=0 i=0
	have_module || return
	start_target leaderless ckpt-hold leaderless || return
	until grep -q '^State:.*Z' "/proc/$PID_leaderless/status"; do
		i=$((i + 1))
		[ $i -gt 1200 ] && { fail "the main thread did not exit"; return 1; }
		usleep 100000
	done
	raw_ioctl OK --out "$WORK/leaderless.img" "$PID_leaderless" || return
	check_image --state stopped "$WORK/leaderless.img" "$WORK/leaderless.manifest" || return
	if have_cli; then
		cli_dump "$WORK/leaderless-cli.img" --pid "$PID_leaderless" || rc=$?
		expect_exit 0 $rc "ckpt dump of a process whose main thread exited" || return
		check_image "$WORK/leaderless-cli.img" "$WORK/leaderless.manifest" || return
	fi
	rm -f "$WORK/leaderless.img" "$WORK/leaderless-cli.img"
	kill -KILL "$PID_leaderless"
}

# 256 MiB read through the huge zero page: one refusal per PMD, not per
# page (review #10: 261,714 pages offered to GUP for 1 GiB).
test_huge_zero_page() {
	local out scanned
	have_module || return
	start_target hugezero ckpt-hold hugezero || return
	out=$(tmo /ckpt/bin/ckpt-ioctl --out "$WORK/hugezero.img" "$PID_hugezero" 2>&1)
	case "$out" in OK*) ;; *) fail "ckpt-ioctl: $out"; return 1 ;; esac
	scanned=$(echo "$out" | sed -n 's/.* scanned=\([0-9]*\).*/\1/p')
	[ -n "$scanned" ] && [ "$scanned" -lt 2000 ] ||
		fail "$scanned pages offered to GUP for 256 MiB of huge zero page (128 PMDs): $out" || return
	check_image --state stopped "$WORK/hugezero.img" "$WORK/hugezero.manifest" || return
	rm -f "$WORK/hugezero.img"
	kill -KILL "$PID_hugezero"
}

# Review #2: live dumps of a target that flips a range between anonymous
# memory and a private file mapping of 0x55 bytes; each lock hold checks
# the mapping before it walks, so no file page lands in an ANON record.
test_live_flip() {
	local i=0
	have_module || return
	start_target flip ckpt-hold flip "$WORK/flip.data" || return
	while [ $i -lt 30 ]; do
		i=$((i + 1))
		raw_ioctl OK --flags 1 --hold seize --out "$WORK/flip.img" "$PID_flip" || break
		/ckpt/bin/ckpt-imgcheck --anon-foreign 0x55 --summary x "$WORK/flip.img" \
			"$WORK/flip.manifest" >"$WORK/check.out" 2>&1 ||
			{ fail "dump $i: $(sed 's/^not ok - x: //' "$WORK/check.out")"; break; }
	done
	kill -KILL "$PID_flip"
	rm -f "$WORK/flip.img" "$WORK/flip.data"
	[ $i -eq 30 ] && [ -z "$T_REASON" ]
}

# Review #7: a stopped THP target whose pages another process migrates
# between NUMA nodes over and over: a page under migration is waited for,
# never an EIO, and every image holds every page.
test_thp_migrating() {
	local i=0 mig
	have_module || return
	start_target thpmig ckpt-hold thp || return
	/ckpt/bin/ckpt-migrate "$PID_thpmig" >"$WORK/migrate.out" 2>&1 &
	mig=$!
	until [ "$(wc -l <"$WORK/migrate.out")" -ge 2 ]; do
		i=$((i + 1))
		if [ $i -gt 1200 ] || ! kill -0 $mig 2>/dev/null; then
			fail "migrate_pages is not running: $(oneline "$WORK/migrate.out")"
			break
		fi
		usleep 100000
	done
	i=0
	while [ -z "$T_REASON" ] && [ $i -lt 10 ]; do
		i=$((i + 1))
		raw_ioctl OK --out "$WORK/thpmig.img" "$PID_thpmig" || break
		check_image --state stopped "$WORK/thpmig.img" "$WORK/thpmig.manifest" || break
	done
	kill $mig
	wait $mig 2>/dev/null
	kill -KILL "$PID_thpmig"
	rm -f "$WORK/thpmig.img"
	[ -z "$T_REASON" ] || return 1
	[ "$(wc -l <"$WORK/migrate.out")" -ge 4 ] ||
		fail "pages migrated only $(wc -l <"$WORK/migrate.out") times during the dumps"
}

# Review #6: shared memory under userfaultfd write-protect holds markers
# where no page is; the dump takes the 4 written pages and faults in
# nothing (a fault there would allocate shmem pages in the target).
test_uffd_wp_markers() {
	local before after
	have_module || return
	start_target uffdwp ckpt-hold uffdwp || return
	if [ "$(manifest_fact "$WORK/uffdwp.manifest" uffdwp)" != 1 ]; then
		kill -KILL "$PID_uffdwp"
		skip "userfaultfd write-protect of shared memory is not available on this kernel"
		return
	fi
	before=$(status_kb "$PID_uffdwp" RssShmem)
	raw_ioctl OK --out "$WORK/uffdwp.img" "$PID_uffdwp" || return
	after=$(status_kb "$PID_uffdwp" RssShmem)
	check_image --state stopped "$WORK/uffdwp.img" "$WORK/uffdwp.manifest" || return
	[ "$before" = "$after" ] || fail "RssShmem $before kB -> $after kB: the dump allocated shmem" || return
	rm -f "$WORK/uffdwp.img"
	kill -KILL "$PID_uffdwp"
}

# Review #14: a mapped file whose path is longer than PATH_MAX made the
# target undumpable (ENAMETOOLONG).  Its VMA is flagged NAME_TOO_LONG, with
# no name but its inode, and its written pages are in the image.
test_long_path() {
	local rc=0 ino start line
	have_module || return
	mkdir -p "$WORK/deep" || return
	start_target longpath ckpt-hold longpath "$WORK/deep" || return
	ino=$(manifest_fact "$WORK/longpath.manifest" ino)
	raw_ioctl OK --out "$WORK/longpath.img" "$PID_longpath" || return
	check_image --state stopped "$WORK/longpath.img" "$WORK/longpath.manifest" || return
	if have_cli; then
		start=$(manifest_fact "$WORK/longpath.manifest" longpath | sed 's/^0x//')
		tmo "$CKPT" show "$WORK/longpath.img" >"$WORK/cli.out" 2>"$WORK/cli.err" || rc=$?
		expect_exit 0 $rc "ckpt show" || return
		line=$(grep "^0*$start-" "$WORK/cli.out")
		case "$line" in
		*" $ino  file  pages=4  (a path longer than 4095 bytes)  flags="*name-too-long*) ;;
		*) fail "ckpt show: '$line' (inode $ino)"; return 1 ;;
		esac
		tmo "$CKPT" verify "$WORK/longpath.img" --pid "$PID_longpath" >"$WORK/cli.out" 2>"$WORK/cli.err" || rc=$?
		expect_exit 0 $rc "ckpt verify --pid" || return
	fi
	rm -f "$WORK/longpath.img"
	kill -KILL "$PID_longpath"
}

t hold/untraced-eperm test_untraced_eperm
t hold/long-mapped-path test_long_path
t hold/sigcont-cannot-resume test_sigcont_cannot_resume
t hold/killed-during-dump test_killed_during_dump
t hold/leader-exited test_leader_exited
t hold/huge-zero-page test_huge_zero_page
t hold/live-flip-anon-file test_live_flip
t hold/uffd-wp-markers test_uffd_wp_markers
if [ -d /sys/devices/system/node/node1 ]; then
	t hold/thp-migrating test_thp_migrating
else
	echo "ok - hold/thp-migrating # SKIP one NUMA node: no migration between nodes"
fi

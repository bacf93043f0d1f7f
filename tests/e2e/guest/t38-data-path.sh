# The data path (review 2026-12-01 #4, #5): every page is copied out once,
# checksummed from the copy and written from it.  Another process writes
# into a stopped target (process_vm_writev) between every 64 KiB the dump
# gets to write: every record's checksum must still describe its bytes.
# Before the copy, pages checksummed ahead of a blocked write were written
# from the target's memory after the writer had changed them.

test_written_during_dump() {
	local rc=0
	have_module && have_cli || return
	mkdir -p "$WORK/poked"
	start_target poked ckpt-target "$WORK/poked" || return
	start_slow_dump "$PID_poked" poked || { exec 5<&-; return 1; }
	/ckpt/bin/ckpt-poke "$PID_poked" <&5 >"$WORK/poked.img" 2>"$WORK/poke.err" || rc=$?
	exec 5<&-
	[ $rc -eq 0 ] || fail "ckpt-poke: $(oneline "$WORK/poke.err")" || return
	wait "$DUMPER" || rc=$?
	[ $rc -eq 0 ] || fail "ckpt-ioctl: $(oneline "$WORK/poked.out")" || return
	grep -qE '^passes [1-9]' "$WORK/poke.err" ||
		fail "the target was never written during the dump: $(oneline "$WORK/poke.err")" || return
	# Structure and every record's checksum.
	tmo "$CKPT" verify "$WORK/poked.img" >"$WORK/cli.out" 2>"$WORK/cli.err" || rc=$?
	expect_exit 0 $rc "ckpt verify" || return
	kill -KILL "$PID_poked" 2>/dev/null
	rm -f "$WORK/poked.img"
}

t data/written-during-dump test_written_during_dump

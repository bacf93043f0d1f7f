# Dump the main target (every kind of mapping) and check the image.

MAIN_IMG=$WORK/main.img

test_start_main() {
	start_target main ckpt-target "$WORK" || return
	wait_states "$PID_main" S ||
		fail "target threads in states '$(thread_states "$PID_main")', expected S"
}

# Harness sanity: the "thp" region really is made of huge pages.
test_thp_backed() {
	local kb
	have_main || return
	kb=$(manifest_fact "$WORK/main.manifest" thp_anon_huge_kb)
	[ "${kb:-0}" -ge 2048 ] ||
		fail "region thp has AnonHugePages ${kb:-?} kB: no huge page to dump"
}

test_dump_main() {
	local rc=0
	have_cli && have_module && have_main || return
	cli_dump "$MAIN_IMG" --pid "$PID_main" || rc=$?
	expect_exit 0 $rc "ckpt dump --pid $PID_main" || return
	[ -s "$MAIN_IMG" ] || fail "image $MAIN_IMG is empty"
}

test_verify_main() {
	local rc=0
	[ -s "$MAIN_IMG" ] || fail "no image" || return
	tmo "$CKPT" verify "$MAIN_IMG" "$@" >"$WORK/cli.out" 2>"$WORK/cli.err" || rc=$?
	expect_exit 0 $rc "ckpt verify $*"
}

# verify --pid after the dump resumed the target and its threads woke on
# another CPU: the kernel rewrote their rseq areas (cpu_id, ...). verify
# must leave out exactly those bytes, of every thread, and match.
verify_after_moving_threads() {
	local rc=0 img=$WORK/moved.img excluded threads differed want
	pin_threads "$PID_main" 1 && bounce "$PID_main" ||
		fail "cannot move the target's threads to CPU 0" || return
	cli_dump "$img" --pid "$PID_main" || rc=$?
	expect_exit 0 $rc "ckpt dump --pid $PID_main" || return
	expect_resumed "$PID_main" || return
	pin_threads "$PID_main" 2 && bounce "$PID_main" ||
		fail "cannot move the target's threads to CPU 1" || return
	tmo "$CKPT" verify "$img" --pid "$PID_main" >"$WORK/cli.out" 2>"$WORK/cli.err" || rc=$?
	rm -f "$img"
	expect_exit 0 $rc "ckpt verify --pid after the threads moved" || return
	expect_resumed "$PID_main" || return
	set -- $(sed -n 's/^ *rseq bytes excluded: *\([0-9]*\) in \([0-9]*\) thread[s]* (\([0-9]*\) differed).*/\1 \2 \3/p' \
		"$WORK/cli.out")
	excluded=${1:-0} threads=${2:-0} differed=${3:-0}
	want=$(manifest_fact "$WORK/main.manifest" threads)
	[ "$threads" -eq "$want" ] && [ "$excluded" -ge $((20 * want)) ] ||
		fail "expected the rseq areas of $want threads excluded, report says: $(grep rseq "$WORK/cli.out")" ||
		return
	[ "$differed" -gt 0 ] ||
		fail "no rseq byte differed: the threads did not move ($(grep rseq "$WORK/cli.out"))" || return
	# Every thread's registers and FPU state, against ptrace (format 1.1).
	grep -q "^ *threads compared: *$want\$" "$WORK/cli.out" ||
		fail "expected $want threads' registers compared: $(grep threads "$WORK/cli.out")" || return
	echo "# verify --pid after the threads moved: $excluded rseq bytes excluded in $threads threads, $differed differed"
}

test_verify_pid_moved_threads() {
	local rc=0 mask
	have_cli && have_module && have_main || return
	[ "$(nproc)" -ge 2 ] || fail "needs 2 CPUs, the guest has $(nproc)" || return
	mask=$(taskset -p "$PID_main" | sed 's/.*: //')
	verify_after_moving_threads || rc=1
	pin_threads "$PID_main" "$mask"
	return $rc
}

# The per-region page counts as `ckpt show --json --pages` lists them.
test_show_json() {
	local rc=0
	[ -s "$MAIN_IMG" ] || fail "no image" || return
	tmo "$CKPT" show --json --pages "$MAIN_IMG" >"$WORK/show.json" 2>"$WORK/cli.err" || rc=$?
	expect_exit 0 $rc "ckpt show --json --pages" || return
	check_image --json-pages "$WORK/show.json" "$WORK/main.manifest"
}

# ckpt core of the image: an ELF core with the target's threads and memory
# (checked by ckpt-corecheck from <elf.h> alone: no gdb in the guest).
test_core() {
	local rc=0
	[ -s "$MAIN_IMG" ] || fail "no image" || return
	tmo "$CKPT" core "$MAIN_IMG" -o "$WORK/main.core" >"$WORK/cli.out" 2>"$WORK/cli.err" || rc=$?
	expect_exit 0 $rc "ckpt core" || return
	grep -q "$(manifest_fact "$WORK/main.manifest" threads) threads" "$WORK/cli.out" ||
		fail "ckpt core: $(oneline "$WORK/cli.out")"
}

# The checksum a dump asks for (format 1.2): HEAD names it, ckpt verifies
# against the live target, and the independent parser (ckpt-imgcheck)
# checks every record with it.  Without --checksum the module's choice,
# which /sys/module/ckpt/parameters/checksum shows.
test_checksum() {
	local algo=$1 rc=0 img=$WORK/main-$1.img want got
	have_cli && have_module && have_main || return
	if [ "$algo" = auto ]; then
		want=$(cat /sys/module/ckpt/parameters/checksum) ||
			fail "no /sys/module/ckpt/parameters/checksum" || return
		cli_dump "$img" --pid "$PID_main" || rc=$?
	else
		want=$algo
		cli_dump "$img" --pid "$PID_main" --checksum="$algo" || rc=$?
	fi
	expect_exit 0 $rc "ckpt dump --checksum=$algo" || return
	got=$("$CKPT" show "$img" 2>&1 | sed -n 's/.*checksum \([a-z0-9]*\).*/\1/p' | head -n 1)
	[ "$got" = "$want" ] || fail "ckpt show says checksum '$got', expected $want" || return
	tmo "$CKPT" verify "$img" --pid "$PID_main" >"$WORK/cli.out" 2>"$WORK/cli.err" || rc=$?
	expect_exit 0 $rc "ckpt verify --pid of a $algo image" || return
	check_image --state stopped "$img" "$WORK/main.manifest" || return
	rm -f "$img"
}

t main/start test_start_main
t main/thp-backed test_thp_backed
t main/dump test_dump_main
t main/verify test_verify_main
t main/verify-pid test_verify_main --pid "$PID_main"
t main/verify-pid-moved-threads test_verify_pid_moved_threads
t main/checksum-auto test_checksum auto
t main/checksum-crc32c test_checksum crc32c
t main/checksum-xxh64 test_checksum xxh64
if [ -s "$MAIN_IMG" ]; then
	t_tap /ckpt/bin/ckpt-imgcheck --prefix main/ --state stopped --release "$(uname -r)" \
		"$MAIN_IMG" "$WORK/main.manifest"
	t main/show-json-regions test_show_json
	t main/core test_core
	[ -s "$WORK/main.core" ] &&
		t_tap /ckpt/bin/ckpt-corecheck --prefix main/ "$WORK/main.core" "$WORK/main.manifest"
	rm -f "$WORK/main.core"
fi

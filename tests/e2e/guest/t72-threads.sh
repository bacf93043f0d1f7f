# A process with 2000 threads besides main: one THREAD record each (the
# leader first, then by tid, with registers and FPU state), and kernel
# memory bounded whatever the thread count (one thread's XSAVE area at a
# time).  On the debug test kernel (KASAN and lockdep under TCG, which has
# no module directory) 200 threads: the stock kernels run the 2000.

test_threads() {
	local rc=0 kmem n=2000 saved_tmo
	have_cli && have_module || return
	[ -f /ckpt/kmod/extra.order ] || n=200
	start_target threads ckpt-threads $n || return
	wait_states "$PID_threads" S ||
		fail "threads in states '$(thread_states "$PID_threads" | head -c 40)...', expected S" || return
	# Holding 2001 threads takes about a minute under TCG: a limit far
	# above it, not a deadline.
	saved_tmo=$TMO
	TMO=900
	cli_dump "$WORK/threads.img" --pid "$PID_threads" --stats "$WORK/threads.json" || rc=$?
	TMO=$saved_tmo
	expect_exit 0 $rc "ckpt dump of $((n + 1)) threads" || return
	check_image --state stopped "$WORK/threads.img" "$WORK/threads.manifest" || return
	kmem=$(sed -n 's/.*"peak_kmem": *\([0-9]*\).*/\1/p' "$WORK/threads.json")
	[ -n "$kmem" ] && [ "$kmem" -le 262144 ] ||
		fail "peak kernel memory ${kmem:-?} bytes for $((n + 1)) threads, more than 256 KiB" || return
	expect_resumed "$PID_threads"
}

t threads/many-threads test_threads
[ -n "$PID_threads" ] && kill -KILL "$PID_threads" 2>/dev/null
rm -f "$WORK/threads.img"

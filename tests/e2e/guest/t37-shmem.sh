# Shared memory is dumped from its shmem file, by page-cache index (review
# 2026-12-01 #16): a child forked after its parent wrote shared anonymous
# memory, a memfd and a SysV segment maps none of those pages, and every
# one of them is in its image, with nothing for the pages never written or
# only fallocated.  With swap on, pages the parent pushed out are read back.

# test_shmem_of_parent [swap]: dump the child, check the image region by
# region (exact page counts: a page allocated for a hole would be one too
# many), then verify it against the live child with the CLI.
test_shmem_of_parent() {
	local swapped
	have_module || return
	start_target shm ckpt-hold shmem || return
	swapped=$(manifest_fact "$WORK/shm.manifest" shmem_swapped)
	if [ "${1:-}" = swap ] && [ "${swapped:-0}" -eq 0 ]; then
		kill -KILL "$PID_shm"
		fail "MADV_PAGEOUT put no shared page on swap"
		return
	fi
	raw_ioctl OK --out "$WORK/shm.img" "$PID_shm" || return
	check_image --state stopped "$WORK/shm.img" "$WORK/shm.manifest" || return
	if have_cli; then
		tmo "$CKPT" verify "$WORK/shm.img" --pid "$PID_shm" >"$WORK/cli.out" 2>&1 ||
			fail "ckpt verify --pid: $(oneline "$WORK/cli.out")" || return
	fi
	rm -f "$WORK/shm.img"
	kill -KILL "$PID_shm"
}

t shmem/unmapped-in-child test_shmem_of_parent
if swap_on; then
	t shmem/swapped-in-parent test_shmem_of_parent swap
	swapoff /dev/zram0
else
	echo "ok - shmem/swapped-in-parent # SKIP no zram swap on this kernel"
fi

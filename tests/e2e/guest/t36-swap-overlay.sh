# Swapped-out private pages are in the image (review 2026-12-01: claimed,
# untested), and file mappings on overlayfs are named as /proc/PID/maps
# names them (review #15).

# The pages were on swap when the dump began (pagemap said so: the test
# really took the swap path), and every one is in the image, patterned.
test_swapped_pages() {
	local swapped
	have_module || return
	start_target swapped ckpt-hold swapped || return
	swapped=$(manifest_fact "$WORK/swapped.manifest" swapped)
	[ "${swapped:-0}" -gt 0 ] ||
		fail "MADV_PAGEOUT put no page of the target on swap ($swapped)" || return
	raw_ioctl OK --out "$WORK/swapped.img" "$PID_swapped" || return
	check_image --state stopped "$WORK/swapped.img" "$WORK/swapped.manifest" || return
	rm -f "$WORK/swapped.img"
	kill -KILL "$PID_swapped"
}

# The main target's kind of mappings, made on an overlayfs mount: every
# file-backed VMA record names what /proc/PID/maps names, with its inode.
test_overlay_names() {
	local ovl=$WORK/ovl rc=0 pid
	have_module && have_cli || return
	mkdir -p "$ovl/lower" "$ovl/upper" "$ovl/work" "$ovl/merged"
	mount -t overlay overlay -o "lowerdir=$ovl/lower,upperdir=$ovl/upper,workdir=$ovl/work" \
		"$ovl/merged" || fail "cannot mount overlayfs" || return
	start_target ovl ckpt-target "$ovl/merged" || { umount "$ovl/merged"; return 1; }
	pid=$PID_ovl
	raw_ioctl OK --out "$WORK/ovl.img" "$pid" || rc=1
	if [ $rc -eq 0 ]; then
		# "START-END ... INODE PATH" of the overlay's files, from both sides.
		awk -v d="$ovl/merged/" 'index($6, d) == 1 { split($1, a, "-"); print a[1], $5, $6 }' \
			"/proc/$pid/maps" | sort >"$WORK/ovl.maps"
		tmo "$CKPT" show --json "$WORK/ovl.img" >"$WORK/ovl.json" 2>"$WORK/cli.err" || rc=1
	fi
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	umount "$ovl/merged"
	[ $rc -eq 0 ] || fail "dump or show failed: $(oneline "$WORK/cli.err")" || return
	[ -s "$WORK/ovl.maps" ] || fail "the target maps no file of the overlay" || return
	while read -r start ino path; do
		grep -q "\"name\": *\"$path\"" "$WORK/ovl.json" ||
			fail "no VMA record names $path (maps: $start $ino)" || return
	done <"$WORK/ovl.maps"
}

if swap_on; then
	t swap/swapped-pages-dumped test_swapped_pages
	swapoff /dev/zram0
else
	echo "ok - swap/swapped-pages-dumped # SKIP no zram swap on this kernel"
fi
if grep -qw overlay /proc/filesystems || load_extra overlay; then
	t overlay/names-as-maps test_overlay_names
else
	echo "ok - overlay/names-as-maps # SKIP no overlayfs on this kernel"
fi

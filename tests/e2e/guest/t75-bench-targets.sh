# The benchmark's targets and comparison dumper (tests/bench), small: every
# shape dumps and verifies, `ckpt dump --stats` reports the dump, and the
# userspace dumper takes exactly the pages ckpt takes.

bench_shape() {
	local name=$1 rc=0 pages phase ns sum
	shift
	have_cli && have_module || return
	start_target "$name" ckpt-bench-target "$@" || return
	cli_dump "$WORK/$name.img" --pid "$(eval echo \$PID_$name)" --stats "$WORK/$name.json" || rc=$?
	expect_exit 0 $rc "ckpt dump --stats" || return
	check_image --state stopped "$WORK/$name.img" "$WORK/$name.manifest" || return
	tmo "$CKPT" verify "$WORK/$name.img" --pid "$(eval echo \$PID_$name)" >"$WORK/cli.out" 2>"$WORK/cli.err" || rc=$?
	expect_exit 0 $rc "ckpt verify --pid" || return
	pages=$(sed -n 's/.*"pages": *\([0-9]*\).*/\1/p' "$WORK/$name.json")
	[ "$pages" = "$(tmo "$CKPT" show --json "$WORK/$name.img" | sed -n 's/^ *"nr_pages": *\([0-9]*\).*/\1/p' | tail -n 1)" ] ||
		fail "--stats says $pages pages, the image's tail disagrees: $(oneline "$WORK/$name.json")" || return
	grep -q '"downtime_ns": [1-9]' "$WORK/$name.json" ||
		fail "--stats reports no downtime: $(oneline "$WORK/$name.json")" || return
	# The module's phases: each reported, together some of the ioctl's
	# time and no more than it (a coarse clock, as the debug kernel's
	# jiffies, may count a short phase as 0, so none is required alone).
	sum=0
	for phase in vma_ns scan_ns copy_ns write_ns ioctl_ns; do
		ns=$(sed -n "s/.*\"$phase\": *\([0-9][0-9]*\).*/\1/p" "$WORK/$name.json")
		[ -n "$ns" ] || fail "--stats reports no $phase: $(oneline "$WORK/$name.json")" || return
		[ $phase = ioctl_ns ] || sum=$((sum + ns))
	done
	[ "$sum" -gt 0 ] && [ "$sum" -le "$ns" ] ||
		fail "--stats' phases sum to $sum ns of a $ns ns ioctl: $(oneline "$WORK/$name.json")" || return
	tmo /ckpt/bin/ckpt-bench-udump "$(eval echo \$PID_$name)" "$WORK/$name.udump" >"$WORK/udump.out" 2>&1 ||
		fail "ckpt-bench-udump: $(oneline "$WORK/udump.out")" || return
	grep -q "^pages=$pages " "$WORK/udump.out" ||
		fail "ckpt dumped $pages pages, the userspace dumper $(oneline "$WORK/udump.out")" || return
	/ckpt/bin/ckpt-bench-udump --check "$WORK/$name.udump" "$WORK/$name.manifest" >"$WORK/cli.out" 2>&1 ||
		fail "$(oneline "$WORK/cli.out")" || return
	expect_resumed "$(eval echo \$PID_$name)"
}

t bench/dense bench_shape bdense dense 4
t bench/sparse bench_shape bsparse sparse 4 1
t bench/vmas bench_shape bvmas vmas 300
t bench/filecow bench_shape bfile filecow "$WORK/bench-file.dat" 8 10
for n in bdense bsparse bvmas bfile; do
	eval "p=\$PID_$n"
	[ -n "$p" ] && kill -KILL "$p" 2>/dev/null
	rm -f "$WORK/$n.img" "$WORK/$n.udump"
done
rm -f "$WORK/bench-file.dat"

#!/bin/sh
# `make bench`, guest side: dump each benchmark target with ckpt and with the
# methods it is compared with, REPS times, interleaved so that drift in this
# noisy TCG guest hits every method alike.  Prints one line per measurement:
#   CKPT-BENCH workload=W method=M rep=R ns=N [key=value...]
# and one per correctness check of a workload's dumps:
#   CKPT-BENCH-CHECK workload=W what=WHAT ok=0|1 [detail]
# The host (scripts/bench-report.py) turns them into the table, CSV and plot.
GUEST=$(dirname "$0")
. "$GUEST/lib.sh"
BIN=/ckpt/bin
OUT=/tmp/bench
REPS=$(sed -n 's/.*ckpt\.reps=\([0-9]*\).*/\1/p' /proc/cmdline)
REPS=${REPS:-5}
ONLY=$(sed -n 's/.*ckpt\.only=\([a-z0-9,-]*\).*/\1/p' /proc/cmdline)
TMO=1800
# ckpt.checksum=crc32c|xxh64 (CKPT_BENCH_CHECKSUM on the host) fixes the
# module's record checksum, to compare the two on one CPU model.
CSUM=$(sed -n 's/.*ckpt\.checksum=\([a-z0-9]*\).*/\1/p' /proc/cmdline)

echo "# ckpt bench on $(uname -r), $(nproc) CPUs, $(sed -n 's/MemTotal: *//p' /proc/meminfo), $REPS repetitions"
rm -rf "$WORK" "$OUT"
mkdir -p "$WORK" "$OUT"
# Images of 1 GiB next to a 1 GiB target: let tmpfs use most of the RAM.
mount -o remount,size=90% /tmp

insmod "$KMOD/ckpt.ko" ${CSUM:+checksum=$CSUM} || { echo "bench: insmod ckpt.ko failed"; exit 1; }

# CRIU's start-up probe needs loopback, /run and a few network modules
# (Documentation/benchmark.md).
CRIU=
if [ -x "$BIN/criu" ]; then
	ip link set lo up
	mkdir -p /run
	[ -f "$KMOD/criu.order" ] && while read -r m; do
		insmod "$KMOD/criu/$m" 2>/dev/null
	done <"$KMOD/criu.order"
	CRIU="$BIN/criu"
	echo "# $($CRIU --version | head -n 1)"
fi

row() { echo "CKPT-BENCH workload=$W $*"; }
check() {
	local what=$1 ok=$2
	shift 2
	echo "CKPT-BENCH-CHECK workload=$W what=$what ok=$ok $*"
}
# ns of the command ckpt-bench-util timed, from its stderr in $1
ns_of() { sed -n 's/^ns=\([0-9]*\) rc=0$/\1/p' "$1" | tail -n 1; }
json() { sed -n "s/.*\"$2\": *\([0-9]*\).*/\1/p" "$1"; }
size_of() { stat -c %s "$1" 2>/dev/null || echo 0; }

wanted() {
	[ -z "$ONLY" ] && return 0
	case ",$ONLY," in *",$1,"*) return 0 ;; esac
	return 1
}

# start W ARGS...: a target in its own session (CRIU wants a session leader)
start() {
	rm -f "$WORK/$W.manifest"
	setsid "$BIN/ckpt-bench-target" "$WORK/$W.manifest" "$@" </dev/null >"$WORK/$W.out" 2>&1 &
	local i=0
	while [ ! -f "$WORK/$W.manifest" ]; do
		i=$((i + 1))
		if [ $i -gt 6000 ]; then
			echo "bench: target $W did not start: $(oneline "$WORK/$W.out")"
			return 1
		fi
		usleep 100000
	done
	PID=$(manifest_fact "$WORK/$W.manifest" pid)
	DATA=$(awk '$1 !~ /^[@#]/ && NF == 5 { n += $4 } END { print n * 4096 }' "$WORK/$W.manifest")
}

finish() {
	kill -KILL "$PID" 2>/dev/null
	rm -rf "$OUT"/*
	sleep 1
}

m_ckpt() {
	local rep=$1 keep=$2 img="$OUT/ckpt.img" ns
	tmo "$BIN/ckpt-bench-util" time "$CKPT" dump -q --pid "$PID" -o "$img" \
		--stats "$OUT/stats.json" 2>"$OUT/time"
	ns=$(ns_of "$OUT/time")
	if [ -z "$ns" ]; then
		row "method=ckpt rep=$rep failed=1"
		check ckpt-dump 0 "$(oneline "$OUT/time")"
		return 1
	fi
	IMG_BYTES=$(size_of "$img")
	row "method=ckpt rep=$rep ns=$ns image_bytes=$IMG_BYTES data_bytes=$DATA" \
		"downtime_ns=$(json "$OUT/stats.json" downtime_ns)" \
		"ioctl_ns=$(json "$OUT/stats.json" ioctl_ns)" \
		"pages=$(json "$OUT/stats.json" pages)" \
		"pages_scanned=$(json "$OUT/stats.json" pages_scanned)" \
		"peak_kmem=$(json "$OUT/stats.json" peak_kmem)" \
		"vmas=$(json "$OUT/stats.json" vmas)" \
		"vma_ns=$(json "$OUT/stats.json" vma_ns)" \
		"scan_ns=$(json "$OUT/stats.json" scan_ns)" \
		"copy_ns=$(json "$OUT/stats.json" copy_ns)" \
		"write_ns=$(json "$OUT/stats.json" write_ns)"
	[ "$keep" = keep ] && mv "$img" "$OUT/ckpt.keep"
	return 0
}

# The image ckpt just wrote (the last repetition's is kept for the checks).
ckpt_image() {
	if [ -f "$OUT/ckpt.img" ]; then echo "$OUT/ckpt.img"; else echo "$OUT/ckpt.keep"; fi
}

# restored_memory_ok REPORT: `ckpt verify --pid`'s report on a restored
# process says every page matched and every VMA is the image's.  Only the
# memory is the measure here: the new process has another pid, parent and
# executable, and has run since.
restored_memory_ok() {
	awk -F: '
		/pages compared:/     { c = $2 + 0 }
		/pages matched:/      { m = $2 + 0 }
		/content mismatches:/ { bad += $2 }
		/missing pages:/      { bad += $2 }
		/VMA differences:/    { bad += $2 }
		END { exit !(c > 0 && c == m && bad == 0) }' "$1"
}

# ckpt restore of that image as a new process (--any-pid: the target still
# runs), against restore's copy limit: the same file read into fresh
# anonymous memory.  The last repetition's process is compared with the
# image by `ckpt verify --pid` before it is killed.
m_restore() {
	local rep=$1 img ns rpid rc=0 i=0
	img=$(ckpt_image)
	tmo "$BIN/ckpt-bench-util" time "$CKPT" restore -q --detach --any-pid "$img" \
		</dev/null >"$OUT/rpid" 2>"$OUT/time"
	ns=$(ns_of "$OUT/time")
	rpid=$(head -n 1 "$OUT/rpid")
	if [ -z "$ns" ] || [ -z "$rpid" ]; then
		row "method=restore rep=$rep failed=1"
		check ckpt-restore 0 "$(oneline "$OUT/time")"
		return 1
	fi
	row "method=restore rep=$rep ns=$ns image_bytes=$(size_of "$img") data_bytes=$DATA"
	if [ "$rep" -eq "$REPS" ]; then
		tmo "$CKPT" verify "$img" --pid "$rpid" >"$OUT/check" 2>&1
		sed 's/^/#   /' "$OUT/check"
		restored_memory_ok "$OUT/check" || rc=1
		check restored-memory $((1 - rc)) "$(grep -E 'pages (compared|matched)|mismatches|missing pages|VMA' "$OUT/check" | tr -s ' \n' ' ')"
	fi
	kill -KILL "$rpid"
	# Its memory is freed once it is gone or a zombie (its parent, ckpt
	# restore, has exited): before the next measurement.
	while [ -d "/proc/$rpid" ] && ! grep -q '^State:.*Z' "/proc/$rpid/status" 2>/dev/null &&
		[ $i -lt 6000 ]; do
		usleep 10000
		i=$((i + 1))
	done
	ns=$(tmo "$BIN/ckpt-bench-util" readin "$img" | sed -n 's/^ns=\([0-9]*\).*/\1/p')
	row "method=readin rep=$rep ns=$ns image_bytes=$(size_of "$img") data_bytes=$DATA"
}

# The copy limit, two ways: write(2) from a buffer, and vmsplice+splice
# (a kernel page-to-page copy, as ckpt's and CRIU's writes are).
m_copy() {
	local rep=$1 how ns
	for how in copy splice; do
		ns=$(tmo "$BIN/ckpt-bench-util" $how "$IMG_BYTES" "$OUT/copy" | sed -n 's/^ns=//p')
		rm -f "$OUT/copy"
		row "method=$how rep=$rep ns=$ns image_bytes=$IMG_BYTES data_bytes=$DATA"
	done
}

# What a checksum costs here: TCG emulates the crc32 instruction, and
# qemu64 has none; and which one the module chose at load.
calibrate() {
	local r=1
	W=calibrate
	wanted calibrate || return 0
	while [ $r -le "$REPS" ]; do
		row "method=crc rep=$r bytes=268435456 $("$BIN/ckpt-bench-util" crc 268435456)" \
			"module_checksum=$(cat /sys/module/ckpt/parameters/checksum)"
		r=$((r + 1))
	done
}

m_udump() {
	local rep=$1 method=$2 keep=$3 flag= ns res
	[ "$method" = seed ] && flag=--fault-all
	res=$(tmo "$BIN/ckpt-bench-util" time "$BIN/ckpt-bench-udump" $flag "$PID" "$OUT/udump" 2>"$OUT/time")
	ns=$(ns_of "$OUT/time")
	if [ -z "$ns" ]; then
		row "method=$method rep=$rep failed=1"
		check "$method-dump" 0 "$(oneline "$OUT/time")"
		return 1
	fi
	row "method=$method rep=$rep ns=$ns data_bytes=$DATA $(echo "$res" | sed 's/bytes=/image_bytes=/')"
	[ "$keep" = keep ] && mv "$OUT/udump" "$OUT/udump.keep"
	rm -f "$OUT/udump"
}

m_criu() {
	local rep=$1 dir="$OUT/criu" ns st pages_bytes
	[ -n "$CRIU" ] || return 0
	rm -rf "$dir"
	mkdir -p "$dir"
	tmo "$BIN/ckpt-bench-util" time "$CRIU" dump -t "$PID" -D "$dir" --leave-running \
		-o "$dir/log" 2>"$OUT/time" >/dev/null
	ns=$(ns_of "$OUT/time")
	if [ -z "$ns" ]; then
		row "method=criu rep=$rep failed=1"
		check criu-dump 0 "$(grep -i error "$dir/log" | head -n 3 | tr '\n' ' ')"
		return 1
	fi
	st=$("$BIN/ckpt-bench-util" criu-stats "$dir/stats-dump")
	pages_bytes=$(cat "$dir"/pages-*.img | wc -c)
	row "method=criu rep=$rep ns=$ns data_bytes=$DATA image_bytes=$(du -sb "$dir" | cut -f1)" \
		"pages_bytes=$pages_bytes $st"
	rm -rf "$dir"
}

# ckpt's image of the last repetition, checked before any other dumper
# touches the target (CRIU's parasite writes to its stack): by the
# independent reader against the manifest, and by `ckpt verify --pid`
# against the live process.
check_ckpt() {
	local rc=0 ok
	/ckpt/bin/ckpt-imgcheck --summary image --state stopped "$OUT/ckpt.keep" \
		"$WORK/$W.manifest" >"$OUT/check" 2>&1 || rc=1
	check ckpt-image $((1 - rc)) "$(oneline "$OUT/check")"
	rc=0
	tmo "$CKPT" verify "$OUT/ckpt.keep" --pid "$PID" >"$OUT/check" 2>&1 || rc=1
	check ckpt-verify-pid $((1 - rc)) "$(oneline "$OUT/check")"
	expect_resumed "$PID" && ok=1 || ok=0
	check target-resumed $ok "$T_REASON"
	rm -f "$OUT/ckpt.keep"
}

# The userspace dumper's output of the last repetition: the same pages.
check_udump() {
	local rc=0
	[ -f "$OUT/udump.keep" ] || return 0
	"$BIN/ckpt-bench-udump" --check "$OUT/udump.keep" "$WORK/$W.manifest" >"$OUT/check" 2>&1 || rc=1
	check udump-pages $((1 - rc)) "$(oneline "$OUT/check")"
	rm -f "$OUT/udump.keep"
}

# workload NAME METHODS TARGET-ARGS...: METHODS is a comma list of
# ckpt,restore,copy,udump,criu,seed; seed runs last (it changes the target).
workload() {
	local methods=",$2," r=1 keep
	W=$1
	shift 2
	wanted "$W" || return 0
	echo "# workload $W: $*"
	start "$@" || { check start 0 "target did not start"; return; }
	while [ $r -le "$REPS" ]; do
		keep=
		[ $r -eq "$REPS" ] && keep=keep
		m_ckpt $r $keep || break
		case $methods in *,restore,*) m_restore $r ;; esac
		rm -f "$OUT/ckpt.img"
		[ -n "$keep" ] && check_ckpt
		case $methods in *,copy,*) m_copy $r ;; esac
		case $methods in *,udump,*) m_udump $r udump $keep ;; esac
		case $methods in *,criu,*) m_criu $r ;; esac
		r=$((r + 1))
	done
	check_udump
	case $methods in *,seed,*)
		r=1
		while [ $r -le "$REPS" ]; do m_udump $r seed; r=$((r + 1)); done ;;
	esac
	finish
}

calibrate
workload dense ckpt,restore,copy,udump,criu,seed dense 512
workload sparse ckpt,copy,udump,criu sparse 64 16
workload sparse-ref ckpt,copy,udump,criu dense 16
workload vmas ckpt,copy,udump,criu vmas 20000
workload vmas-ref ckpt,copy,udump,criu pages 20000
workload filecow ckpt,copy,udump,criu,seed filecow "$WORK/filecow.dat" 256 1
rm -f "$WORK/filecow.dat"
for mib in 64 128 256 1024; do
	workload "dense-$mib" ckpt,restore,copy dense "$mib"
done

rmmod ckpt
echo "# bench done"
exit 0

#!/bin/sh
# `make demo`, guest side: load the module, dump a small target, show and
# verify the image. Exits non-zero if a step failed.
GUEST=$(dirname "$0")
. "$GUEST/lib.sh"

step() {
	printf '\n\033[1m==> %s\033[0m\n' "$*"
}

run() {
	echo "\$ $*"
	"$@" || { echo "demo: FAILED: $* (exit $?)"; DEMO_FAILED=1; return 1; }
}

DEMO_FAILED=0
echo CKPT-DEMO-BEGIN
rm -rf "$WORK"
mkdir -p "$WORK"

step "Kernel $(uname -r): load ckpt.ko"
run insmod "$KMOD/ckpt.ko" || exit 1
run ls -l /dev/ckpt

step "Start a target that fills 8 MiB with text pages"
start_target demo ckpt-demo || { echo "demo: $T_REASON"; exit 1; }
echo "target pid $PID_demo:"
grep -E '^(Name|State|VmRSS|Threads)' "/proc/$PID_demo/status" | sed 's/^/    /'

step "Checkpoint it"
run ckpt dump --pid "$PID_demo" -o /tmp/demo.img
run ls -l /tmp/demo.img

step "What the image holds"
run ckpt show /tmp/demo.img

step "Verify the image, and compare it with the live process"
run ckpt verify /tmp/demo.img --pid "$PID_demo"

step "The target's pages, read back from the image"
strings /tmp/demo.img | grep 'ckpt demo page' | sed -n '1,3p;$p' | sed 's/\.\.*$/.../'

step "The target kept running"
grep '^State' "/proc/$PID_demo/status"

kill -KILL "$PID_demo"
step "Unload the module"
sleep 1
run rmmod ckpt

echo
if [ "$DEMO_FAILED" -eq 0 ]; then
	echo "demo: all steps succeeded"
else
	echo "demo: some steps FAILED"
fi
exit "$DEMO_FAILED"

#!/usr/bin/env bash
# End-to-end checks of the ckpt binary: usage and exit codes, show/verify on
# files and pipes, verify --pid against a live target process, and that a
# target held with ptrace is let go as it was, even when ckpt is
# interrupted or killed; with FAKE_MODULE (an LD_PRELOAD stand-in for
# ckpt.ko that enforces the module's tracing rule) also `ckpt dump`.
#
# No check depends on timing: every wait is for a condition, with a limit
# (wait_for, 60 s) that only a broken ckpt or a hung target reaches.  Dumps
# to be interrupted are made to take 10 minutes (CKPT_FAKE_DELAY_MS), well
# beyond that limit.
# Usage: cli_test.sh CKPT TEST_IMAGE_TOOL TARGET [FAKE_MODULE]
set -u
CKPT=$1
IMAGE_TOOL=$2
TARGET=$3
FAKE_MODULE=${4:-}

WORK=$(mktemp -d)
# Every process started here, killed at the end.
ALL_PIDS=
cleanup() {
    local pid
    for pid in $ALL_PIDS; do
        kill -9 "$pid"
        wait "$pid"
    done 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

failures=0
checks=0

# Commands started in the background by a script start with SIGINT ignored,
# and ckpt keeps a signal ignored that way (as under nohup): the ones this
# script sends SIGINT get the default back first, where env can do that.
if env --default-signal=INT true 2>/dev/null; then
    BG="env --default-signal=INT"
    SIGNALS="TERM INT KILL"
    INT=INT
else
    BG=env
    SIGNALS="TERM KILL"
    INT=TERM
fi
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# run CMD...: runs a command, keeping its status, stdout and stderr.
run() {
    "$@" >"$WORK/out" 2>"$WORK/err"
    status=$?
    checks=$((checks + 1))
}
expect_status() {
    [ "$status" -eq "$1" ] || fail "$2: exit status $status, expected $1 (stderr: $(head -c 300 "$WORK/err"))"
}
expect_out() {
    grep -qF -- "$1" "$WORK/out" || fail "$2: stdout lacks '$1': $(head -c 300 "$WORK/out")"
}
expect_err() {
    grep -qF -- "$1" "$WORK/err" || fail "$2: stderr lacks '$1': $(head -c 300 "$WORK/err")"
}

thread_states() {
    cat /proc/"$1"/task/*/stat 2>/dev/null | sed 's/.*) \(.\).*/\1/' | tr -d '\n'
}

# wait_for CMD...: runs CMD until it succeeds, for at most 60 s.
wait_for() {
    local deadline=$((SECONDS + 60))
    until "$@"; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.01
    done
}

# tracers PID: TracerPid of every thread, in /proc order.
tracers() {
    cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^TracerPid:/ {printf "%s ", $2}'
}
untraced() {
    local t
    t=$(tracers "$1")
    [ -n "$t" ] && [ -z "$(printf %s "$t" | tr -d '0 ')" ]
}
# idle PID: every thread sleeps (pause() in the test target; after its
# "ready" line it sleeps nowhere else), a zombie leader aside.
idle() {
    case $(thread_states "$1") in *[!SZ]*|"") return 1 ;; esac
}
# running PID: no thread stopped, none traced.
running() {
    case $(thread_states "$1") in *T*|*t*|"") return 1 ;; esac
    untraced "$1"
}
# job_stopped PID: every thread in a job-control stop, none traced.
job_stopped() {
    case $(thread_states "$1") in *[!T]*|"") return 1 ;; esac
    untraced "$1"
}
# held PID TRACER [live]: what the module wants: every live thread traced
# by TRACER and in a ptrace-stop ('t'), or with "live" in no stop at all.
held() {
    local task state tracer any=
    for task in /proc/"$1"/task/*; do
        state=$(sed 's/.*) \(.\).*/\1/' "$task/stat" 2>/dev/null)
        case $state in Z|X|"") continue ;; esac
        tracer=$(awk '/^TracerPid:/ {print $2}' "$task/status" 2>/dev/null)
        [ "$tracer" = "$2" ] || return 1
        if [ "${3:-}" = live ]; then
            case $state in t|T) return 1 ;; esac
        else
            [ "$state" = t ] || return 1
        fi
        any=1
    done
    [ -n "$any" ]
}
describe() {
    echo "states '$(thread_states "$1")', tracers '$(tracers "$1")'"
}

# start_target NAME [OPTION...]: starts the test target with its output in
# $WORK/NAME.out and its pid in $STARTED_PID, and waits until it sleeps
# (or, with --trace, until it traces its victim).
start_target() {
    local out="$WORK/$1.out" pid
    shift
    "$TARGET" "$@" >"$out" &
    pid=$!
    ALL_PIDS="$ALL_PIDS $pid"
    STARTED_PID=$pid
    if [ "${1:-}" = --trace ]; then
        wait_for grep -q tracing "$out" || fail "test tracer $* did not start"
        return
    fi
    wait_for grep -q ready "$out" || fail "test target $* did not start"
    wait_for idle "$pid" || fail "test target $* did not settle: $(describe "$pid")"
}

# ------------------------------------------------------------- usage, help
run "$CKPT" --version
expect_status 0 "--version"
expect_out "ckpt 0.1.0" "--version"
run "$CKPT" --help
expect_status 0 "--help"
expect_out "Exit status" "--help"
run "$CKPT" help dump
expect_status 0 "help dump"
expect_out "--stop-timeout" "help dump"
run "$CKPT" verify --help
expect_status 0 "verify --help"
expect_out "Usage: ckpt verify" "verify --help"
run "$CKPT"
expect_status 1 "no command"
run "$CKPT" frobnicate
expect_status 1 "unknown command"
run "$CKPT" help frobnicate
expect_status 1 "help unknown"
run "$CKPT" dump -o "$WORK/x.img"
expect_status 1 "dump without --pid"
expect_err "missing --pid" "dump without --pid"
run "$CKPT" dump --pid 12ab -o "$WORK/x.img"
expect_status 1 "dump with bad pid"
run "$CKPT" dump --pid 1 -o "$WORK/x.img" --stop-timeout -3
expect_status 1 "dump with bad timeout"
run "$CKPT" dump --pid 1 -o "$WORK/x.img" --checksum=foo
expect_status 1 "dump with a bad --checksum"
expect_err "dump: --checksum: 'foo' is not auto, crc32c or xxh64: see 'ckpt help dump'" "dump with a bad --checksum"
run "$CKPT" dump --pid 1 -o "$WORK/x.img" --checksum
expect_status 1 "dump with --checksum but no value"
expect_err "option --checksum needs a value" "dump with --checksum but no value"
run "$CKPT" help dump
expect_out "--checksum ALGO" "help dump names --checksum"
run "$CKPT" show
expect_status 1 "show without file"
run "$CKPT" verify --live "$WORK/x.img"
expect_status 1 "verify --live without --pid"

# ------------------------------------------------------ show and verify
"$IMAGE_TOOL" sample >"$WORK/sample.img" || fail "writing the sample image"
SIZE=$(stat -c %s "$WORK/sample.img")

# ckpt restore refuses before any process exists (the module is not needed
# for these): usage, an image from another kernel, a damaged prelude.
run "$CKPT" restore
expect_status 1 "restore without an image"
run "$CKPT" restore --help
expect_status 0 "restore --help"
expect_out "Usage: ckpt restore" "restore --help"
run "$CKPT" restore "$WORK/sample.img"
expect_status 2 "restore of an image from another kernel"
expect_err "it was dumped on Linux 6.1.0-test, this is $(uname -r), and it has no VDSO record (format 1.2 or older)" \
    "restore of an image from another kernel"
head -c 300 "$WORK/sample.img" >"$WORK/prelude-cut.img"
run "$CKPT" restore "$WORK/prelude-cut.img"
expect_status 2 "restore of an image cut before MM"
expect_err "truncated" "restore of an image cut before MM"

run "$CKPT" verify "$WORK/sample.img"
expect_status 0 "verify sample"
expect_out "OK: 17 records, 4 VMAs, 7 pages, $SIZE bytes" "verify sample"
run bash -c "cat '$WORK/sample.img' | '$CKPT' verify -"
expect_status 0 "verify sample from a pipe"
expect_out "OK: 17 records" "verify sample from a pipe"

run "$CKPT" show "$WORK/sample.img"
expect_status 0 "show sample"
expect_out "01000000-01008000 rw-p 00000000 00:00 0  anon  pages=5  [heap]" "show sample"
expect_out "7f0000000000-7f0000003000 rw-p 00002000 08:01 123456  file  pages=1  /usr/lib/libsample.so.1" "show sample"
expect_out "7f0000010000-7f0000012000 rw-s 00000000 00:00 99  shared  pages=1  /dev/zero (deleted)" "show sample"
expect_out "7ffc00100000-7ffc00102000 r-xp 00000000 00:00 0  special  pages=0  [vdso]" "show sample"
expect_out "task:     pid 4242, tid 4242, comm \"sample\", 2 threads, stopped" "show sample"
expect_out "ldt:      1 entry" "show sample"
expect_out "thread:   tid 4242 (4242 in its namespace), leader, rip 0x402092, rsp 0x7ffc01092000, fpu 832 bytes (xfeatures 0x7)" "show sample"
expect_out "thread:   tid 4243 (4243 in its namespace), rip 0x402093, rsp 0x7ffc01093000, fpu 832 bytes" "show sample"
expect_out "skipped unknown record type 99" "show sample"
grep -A1 -F "[heap]" "$WORK/out" | grep -qF "skipped unknown record type 99" ||
    fail "show sample: the unknown record note is not in stream order"
cp "$WORK/out" "$WORK/show-file.txt"
run bash -c "cat '$WORK/sample.img' | '$CKPT' show -"
expect_status 0 "show from a pipe"
cmp -s "$WORK/out" "$WORK/show-file.txt" || fail "show from a pipe differs from show of the file"

run "$CKPT" show --pages "$WORK/sample.img"
expect_status 0 "show --pages"
expect_out "    0x1007000" "show --pages"

run "$CKPT" show --json --pages "$WORK/sample.img"
expect_status 0 "show --json"
expect_out '"page_addrs": [' "show --json"
expect_out '"kind": "special"' "show --json"
expect_out '"label": "[heap]"' "show --json"
if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["vmas"]) == 4 and d["vmas"][0]["pages"] == 5 and d["ldt"]["entries"] == ["0x00cf9a000000ffff"], d' \
        "$WORK/out" || fail "show --json is not the expected JSON"
    python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["threads"]; assert [x["tid"] for x in t] == [4242, 4243] and t[0]["leader"] and not t[1]["leader"] and t[1]["regs"]["rip"] == "0x402093" and t[0]["xstate_size"] == 832, t' \
        "$WORK/out" || fail "show --json: the threads are not the expected JSON"
fi

# Record checksums: XXH64 where HEAD says so (HEAD itself and TAIL's chain
# are CRC-32C in every image).
run "$CKPT" show "$WORK/sample.img"
expect_out "image:    format 1.4, x86_64, page size 4096, flags 0x0, checksum crc32c" "show sample names its checksum"
"$IMAGE_TOOL" sample-xxh64 >"$WORK/xxh64.img" || fail "writing the XXH64 sample image"
run "$CKPT" verify "$WORK/xxh64.img"
expect_status 0 "verify the XXH64 sample"
expect_out "OK: 17 records, 4 VMAs, 7 pages, $SIZE bytes" "verify the XXH64 sample"
run bash -c "cat '$WORK/xxh64.img' | '$CKPT' verify -"
expect_status 0 "verify the XXH64 sample from a pipe"
run "$CKPT" show "$WORK/xxh64.img"
expect_status 0 "show the XXH64 sample"
expect_out "image:    format 1.4, x86_64, page size 4096, flags 0x0, checksum xxh64" "show the XXH64 sample"
run "$CKPT" show --json "$WORK/xxh64.img"
expect_status 0 "show --json of the XXH64 sample"
expect_out '"checksum": "xxh64"' "show --json of the XXH64 sample"
"$IMAGE_TOOL" sample-xxh64-bad-page >"$WORK/xxh64-bad.img"
run "$CKPT" verify "$WORK/xxh64-bad.img"
expect_status 2 "verify a damaged page of the XXH64 sample"
expect_err "bad crc in PAGES record at offset " "verify a damaged page of the XXH64 sample"
expect_err " as xxh64)" "verify a damaged page of the XXH64 sample"
# An algorithm this ckpt does not know (HEAD's byte 97, its crc redone).
if command -v python3 >/dev/null 2>&1; then
    python3 - "$WORK/sample.img" "$WORK/unknown-csum.img" <<'PY' || fail "writing an image with checksum 2"
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
b[24 + 97] = 2
crc = 0xFFFFFFFF
for x in bytes(b[0:16]) + bytes(b[24:24 + 104]):
    crc ^= x
    for _ in range(8):
        crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
b[16:20] = struct.pack("<I", crc ^ 0xFFFFFFFF)
open(sys.argv[2], "wb").write(b)
PY
    run "$CKPT" verify "$WORK/unknown-csum.img"
    expect_status 2 "verify an image with an unknown checksum"
    expect_err "unknown checksum algorithm 2 in HEAD record at offset 0" "verify an image with an unknown checksum"
fi

# ------------------------------------------------------- damaged images
"$IMAGE_TOOL" sample-bad-page >"$WORK/bad.img"
run "$CKPT" verify "$WORK/bad.img"
expect_status 2 "verify damaged page"
expect_err "bad crc in PAGES record at offset " "verify damaged page"
run "$CKPT" show "$WORK/bad.img"
expect_status 2 "show damaged page"
expect_out "[heap]" "show prints what comes before the damage"

head -c 5000 "$WORK/sample.img" >"$WORK/short.img"
run bash -c "cat '$WORK/short.img' | '$CKPT' verify -"
expect_status 2 "verify truncated from a pipe"
expect_err "truncated stream" "verify truncated from a pipe"
run "$CKPT" show --json "$WORK/short.img"
expect_status 2 "show --json truncated"
[ -s "$WORK/out" ] && fail "show --json printed something for a damaged image"

run "$CKPT" verify "$WORK/does-not-exist.img"
expect_status 3 "verify missing file"
expect_err "No such file or directory" "verify missing file"

# ----------------------------------------------------------- dump errors
if [ ! -e /dev/ckpt ]; then
    run "$CKPT" dump --pid $$ -o "$WORK/dump.img"
    expect_status 3 "dump without the module"
    expect_err '/dev/ckpt: no such device: load the module with `modprobe ckpt` (or `insmod ckpt.ko`)' "dump without the module"
    [ -e "$WORK/dump.img" ] && fail "dump without the module left a file"
fi

# ------------------------------------------------ verify --pid, live target
start_target target
TARGET_PID=$STARTED_PID
ANON=$(awk '/ready/ {print $2}' "$WORK/target.out")
[ -n "$ANON" ] || fail "test target did not start"
# glibc's __rseq_size in the target: 0 if it registered no rseq areas.
RSEQ_SIZE=$(awk '/ready/ {print $5}' "$WORK/target.out")

# expect_rseq_excluded WHAT: the report left the threads' rseq areas out
# (2 threads) when the target has them.
expect_rseq_excluded() {
    if [ "${RSEQ_SIZE:-0}" -gt 0 ]; then
        grep -qE '^  rseq bytes excluded: +[1-9][0-9]* in 2 threads' "$WORK/out" ||
            fail "$1: no rseq bytes excluded: $(grep rseq "$WORK/out")"
    else
        grep -qE '^  rseq bytes excluded: +0 in 0 threads' "$WORK/out" || fail "$1: $(grep rseq "$WORK/out")"
    fi
}

# A running (sleeping) target is held for the comparison, matches its
# image although the kernel may have rewritten its rseq areas, and runs
# again afterwards, traced no more.
"$IMAGE_TOOL" fake-dump "$TARGET_PID" >"$WORK/live.img" || fail "fake dump of the target"
run "$CKPT" verify --pid "$TARGET_PID" "$WORK/live.img"
expect_status 0 "verify --pid of a running target"
expect_out "matches pid $TARGET_PID" "verify --pid of a running target"
expect_rseq_excluded "verify --pid of a running target"
wait_for running "$TARGET_PID" || fail "verify --pid left the target stopped or traced: $(describe "$TARGET_PID")"

run "$CKPT" verify --pid "$TARGET_PID" --live "$WORK/live.img"
grep -qE '^  rseq bytes excluded: +none: not looked up with --live' "$WORK/out" ||
    fail "verify --pid --live: $(grep rseq "$WORK/out")"

# Exact checks on a target kept stopped, which ckpt must leave stopped.
kill -STOP "$TARGET_PID"
wait_for job_stopped "$TARGET_PID" || fail "SIGSTOP did not stop the target: $(describe "$TARGET_PID")"
"$IMAGE_TOOL" fake-dump "$TARGET_PID" >"$WORK/live.img" || fail "fake dump of the stopped target"
run "$CKPT" verify --pid "$TARGET_PID" "$WORK/live.img"
expect_status 0 "verify --pid"
expect_out "matches pid $TARGET_PID" "verify --pid"
expect_out "zero pages accepted:" "verify --pid"
expect_rseq_excluded "verify --pid"
wait_for job_stopped "$TARGET_PID" ||
    fail "verify --pid did not leave a stopped target stopped: $(describe "$TARGET_PID")"

run bash -c "cat '$WORK/live.img' | '$CKPT' verify --pid $TARGET_PID -"
expect_status 0 "verify --pid from a pipe"

run "$CKPT" show "$WORK/live.img"
expect_status 0 "show of a live image"

PAGE=$(getconf PAGESIZE)
DROP=$(printf '0x%x' $((ANON + 3 * PAGE)))
"$IMAGE_TOOL" fake-dump "$TARGET_PID" --drop-page "$DROP" >"$WORK/missing.img"
run "$CKPT" verify --pid "$TARGET_PID" "$WORK/missing.img"
expect_status 2 "verify --pid with a missing page"
expect_err "page $DROP of anon VMA" "verify --pid with a missing page"

"$IMAGE_TOOL" fake-dump "$TARGET_PID" --clean-file-pages >"$WORK/extra.img"
run "$CKPT" verify --pid "$TARGET_PID" "$WORK/extra.img"
expect_status 2 "verify --pid with clean file pages"
expect_err "is a clean file page but is in the image" "verify --pid with clean file pages"

# Process-wide state is compared too: a limit changed since the image.
if command -v prlimit >/dev/null; then
    SOFT=$(awk '/^Max open files/ {print $4}' /proc/"$TARGET_PID"/limits)
    prlimit --pid "$TARGET_PID" --nofile=100: || fail "prlimit on the target"
    run "$CKPT" verify --pid "$TARGET_PID" "$WORK/live.img"
    expect_status 2 "verify --pid after a limit changed"
    expect_err "limit nofile (soft) is 100, the image has $SOFT" "verify --pid after a limit changed"
    expect_out "process/fd differences:      1" "verify --pid after a limit changed"
    prlimit --pid "$TARGET_PID" --nofile="$SOFT": || fail "prlimit on the target"
fi
wait_for job_stopped "$TARGET_PID" || fail "verify --pid resumed a stopped target: $(describe "$TARGET_PID")"
kill -CONT "$TARGET_PID"
wait_for running "$TARGET_PID" || fail "SIGCONT did not resume the target: $(describe "$TARGET_PID")"

# verify --pid waiting for its image on a FIFO holds the target; a signal
# ends ckpt with the usual status, and the kernel's detach lets the target
# run again.
mkfifo "$WORK/fifo"
for sig in $SIGNALS; do
    exec 7<>"$WORK/fifo"
    $BG "$CKPT" verify --pid "$TARGET_PID" - <"$WORK/fifo" 2>/dev/null &
    CKPT_PID=$!
    wait_for held "$TARGET_PID" "$CKPT_PID" ||
        fail "verify --pid did not hold the target in ptrace-stops: $(describe "$TARGET_PID")"
    kill -"$sig" "$CKPT_PID"
    { wait "$CKPT_PID"; } 2>/dev/null
    status=$?
    exec 7>&-
    checks=$((checks + 1))
    expected=$((128 + $(kill -l "$sig")))
    [ "$status" -eq "$expected" ] || fail "verify --pid killed by SIG$sig exited with $status, expected $expected"
    wait_for running "$TARGET_PID" ||
        fail "SIG$sig to verify --pid left the target stopped or traced: $(describe "$TARGET_PID")"
done

# Another tracer (a debugger) holds the target: a clear error, and the
# target stays as it was.
start_target tracer --trace "$TARGET_PID"
TRACER_PID=$STARTED_PID
run "$CKPT" verify --pid "$TARGET_PID" "$WORK/live.img"
expect_status 3 "verify --pid of a target traced by another process"
expect_err "cannot trace pid $TARGET_PID: Operation not permitted: it is already traced by pid $TRACER_PID" \
    "verify --pid of a target traced by another process"
[ "$(tracers "$TARGET_PID")" = "$TRACER_PID $TRACER_PID " ] ||
    fail "a failed verify --pid changed the target's tracers: $(describe "$TARGET_PID")"
kill "$TRACER_PID"
wait "$TRACER_PID" 2>/dev/null
wait_for running "$TARGET_PID" || fail "the target did not run again after its tracer left: $(describe "$TARGET_PID")"

# ------------------------------------------ dump through the fake module
if [ -n "$FAKE_MODULE" ]; then
    FAKE="env LD_PRELOAD=$FAKE_MODULE"

    no_temp_files() {
        ! ls -A "$WORK" | grep -q '\.ckpt-' || fail "$1 left a temporary file: $(ls -A "$WORK" | grep '\.ckpt-')"
    }
    # expect_ioctl WHAT HOLD...: the fake module's answer to a bare ioctl.
    expect_ioctl() {
        local expected=$1
        shift
        run env LD_PRELOAD="$FAKE_MODULE" "$IMAGE_TOOL" ioctl "$TARGET_PID" "$@"
        expect_status 0 "ioctl $*"
        expect_out "$expected" "ioctl $* (the fake module keeps the module's contract)"
    }

    # The fake keeps the module's contract, which a SIGSTOP cannot meet.
    expect_ioctl "Operation not permitted"
    expect_ioctl "Operation not permitted" --live
    expect_ioctl "Device or resource busy" --trace
    expect_ioctl "ok" --trace --live
    expect_ioctl "ok" --stop
    expect_ioctl "ok" --stop --xxh64
    expect_ioctl "ok" --stop --crc32c
    expect_ioctl "Invalid argument" --stop --crc32c --xxh64
    kill -STOP "$TARGET_PID"
    wait_for job_stopped "$TARGET_PID" || fail "SIGSTOP did not stop the target: $(describe "$TARGET_PID")"
    expect_ioctl "Operation not permitted"
    expect_ioctl "ok" --stop
    kill -CONT "$TARGET_PID"
    wait_for running "$TARGET_PID" || fail "the ioctl checks left the target stopped: $(describe "$TARGET_PID")"

    echo "an older image" >"$WORK/dump.img"
    chmod 644 "$WORK/dump.img"
    run $FAKE "$CKPT" dump --pid "$TARGET_PID" -o "$WORK/dump.img"
    expect_status 0 "dump"
    expect_err "ckpt: dumped pid $TARGET_PID to $WORK/dump.img: " "dump summary"
    expect_err "ckpt: downtime " "dump summary"
    [ "$(stat -c %a "$WORK/dump.img")" = 600 ] || fail "dump: image mode is not 0600"
    no_temp_files "dump"
    wait_for running "$TARGET_PID" || fail "dump left the target stopped or traced: $(describe "$TARGET_PID")"
    run "$CKPT" verify "$WORK/dump.img"
    expect_status 0 "verify the dumped image"
    # The dump resumed the target; it still matches, rseq areas aside.
    run "$CKPT" verify --pid "$TARGET_PID" "$WORK/dump.img"
    expect_status 0 "verify --pid after dump"
    expect_rseq_excluded "verify --pid after dump"
    cp "$WORK/dump.img" "$WORK/good.img"

    # ckpt core: an ELF core that gdb opens, with the image's threads,
    # registers and memory.
    run "$CKPT" core "$WORK/good.img" -o "$WORK/core"
    expect_status 0 "core"
    expect_out "wrote $WORK/core: 2 threads, " "core"
    [ "$(stat -c %a "$WORK/core")" = 600 ] || fail "core: mode is not 0600"
    # To stdout and through a pipe: the same bytes as the file.
    run bash -c "'$CKPT' core '$WORK/good.img' -o - -q | cat >'$WORK/core.piped'"
    expect_status 0 "core to a pipe"
    cmp -s "$WORK/core" "$WORK/core.piped" || fail "core to a pipe differs from core to a file"
    run bash -c "cat '$WORK/good.img' | '$CKPT' core - -o - -q >'$WORK/core.stdout'"
    expect_status 0 "core from a pipe to stdout"
    cmp -s "$WORK/core" "$WORK/core.stdout" || fail "core from a pipe to stdout differs from core to a file"
    ls /tmp/ckpt-core-* >/dev/null 2>&1 && fail "core to stdout left a temporary file: $(ls /tmp/ckpt-core-*)"
    head -c 5000 "$WORK/good.img" >"$WORK/short.img"
    run "$CKPT" core "$WORK/short.img" -o "$WORK/short.core"
    expect_status 2 "core of a truncated image"
    [ -e "$WORK/short.core" ] && fail "core of a truncated image left a file"
    if ! command -v gdb >/dev/null; then
        fail "gdb is needed to check ckpt core's output (apt-get install gdb)"
    else
        LEADER_RIP=$("$CKPT" show "$WORK/good.img" | sed -n 's/^thread: .*, leader, .*rip \(0x[0-9a-f]*\),.*/\1/p')
        run gdb -batch -nx -ex 'info threads' -ex 'bt' -ex 'p/x $rip' -ex "x/4xb $ANON" \
            -ex "x/1xb $ANON + 4097" "$TARGET" "$WORK/core"
        expect_status 0 "gdb on the core"
        [ "$(grep -cE '^[* ] +[0-9]+ +Thread 0x[0-9a-f]+ \(LWP ' "$WORK/out")" = 2 ] ||
            fail "gdb on the core: not 2 threads: $(cat "$WORK/out" "$WORK/err" | head -c 1500)"
        expect_out "in main (" "gdb's backtrace of the core"
        expect_out "\$1 = $LEADER_RIP" "gdb's rip from the core (the image has ${LEADER_RIP:-none})"
        # The target's anon pattern: byte i is i*7 + i/page.
        grep -qE ":[[:space:]]+0x00[[:space:]]+0x07[[:space:]]+0x0e[[:space:]]+0x15" "$WORK/out" ||
            fail "gdb read other bytes at the anon region: $(grep -A1 '^\$1' "$WORK/out")"
        grep -qE ":[[:space:]]+0x08$" "$WORK/out" || fail "gdb read another byte at anon + 4097: $(tail -n 2 "$WORK/out")"

        # The same session on a gcore of the same process (still asleep in
        # pause(), as when it was dumped): the same threads, frames,
        # registers, SSE registers and memory.  What may differ, each for a
        # known reason: gdb 13 rejects the XSAVE area of CPUs that lay
        # AVX-512 out otherwise than Intel (AMD Zen 4), for the kernel's
        # cores too, and then has no k0-k7 (gcore adds a gdb-only target
        # description note that hides this); and an image has no [vdso]
        # pages.  Without the ELF header page of the executable in the
        # core, gdb also said the core "may not match" the executable.
        gdb_session() {
            gdb -batch -nx -ex 'info threads' -ex 'thread apply all bt' -ex 'thread apply all info registers' \
                -ex 'thread apply all p $xmm0' -ex 'thread apply all p $xmm1' -ex "x/16xb $ANON" \
                -ex "x/8xg $ANON + 4096" -ex 'p g_mutate' "$TARGET" "$1" 2>&1 |
                sed -E '/\) warning: Section .*reg-xstate.* too small\.$/{N;s/ warning: Section [^\n]*\n/ /}' |
                grep -vE "reg-xstate/[0-9]+' in core file too small|^Failed to read a valid object file image from memory|^k[0-7] |^$"
        }
        if command -v gcore >/dev/null; then
            run gcore -o "$WORK/gcore" "$TARGET_PID"
            if [ ! -s "$WORK/gcore.$TARGET_PID" ]; then
                fail "gcore of the target failed: $(head -c 500 "$WORK/err")"
            else
                gdb_session "$WORK/core" >"$WORK/gdb-ckpt.txt"
                gdb_session "$WORK/gcore.$TARGET_PID" >"$WORK/gdb-gcore.txt"
                diff -u "$WORK/gdb-gcore.txt" "$WORK/gdb-ckpt.txt" >"$WORK/gdb.diff" ||
                    fail "gdb shows the ckpt core otherwise than a gcore of the same process: $(head -c 3000 "$WORK/gdb.diff")"
                grep -q "core file may not match" "$WORK/gdb-ckpt.txt" &&
                    fail "gdb: the ckpt core may not match the executable"
                [ "$(grep -c '^rip ' "$WORK/gdb-ckpt.txt")" = 2 ] ||
                    fail "gdb showed no registers of two threads: $(head -c 1500 "$WORK/gdb-ckpt.txt")"
                wait_for running "$TARGET_PID" || fail "gcore left the target stopped: $(describe "$TARGET_PID")"
            fi
        fi
    fi

    # head_checksum FILE: HEAD's checksum byte (payload offset 97).
    head_checksum() { od -An -tu1 -j $((24 + 97)) -N1 "$1" | tr -d ' '; }
    [ "$(head_checksum "$WORK/good.img")" = 0 ] || fail "dump: the fake module's default is not CRC-32C"
    for algo in xxh64 crc32c; do
        run $FAKE "$CKPT" dump --pid "$TARGET_PID" -o "$WORK/$algo.img" --quiet --checksum="$algo"
        expect_status 0 "dump --checksum=$algo"
        want=0
        [ "$algo" = xxh64 ] && want=1
        [ "$(head_checksum "$WORK/$algo.img")" = "$want" ] ||
            fail "dump --checksum=$algo: HEAD's checksum is $(head_checksum "$WORK/$algo.img"), expected $want"
        run "$CKPT" show "$WORK/$algo.img"
        expect_out "checksum $algo" "show of an image dumped with --checksum=$algo"
        run "$CKPT" verify --pid "$TARGET_PID" "$WORK/$algo.img"
        expect_status 0 "verify --pid of an image dumped with --checksum=$algo"
        expect_out "matches pid $TARGET_PID" "verify --pid of an image dumped with --checksum=$algo"
    done
    run bash -c "$FAKE '$CKPT' dump --pid $TARGET_PID -o - --quiet --checksum xxh64 | '$CKPT' show -"
    expect_status 0 "dump --checksum xxh64 to stdout, piped into show"
    expect_out "checksum xxh64" "dump --checksum xxh64 to stdout, piped into show"
    run $FAKE "$CKPT" dump --pid "$TARGET_PID" -o "$WORK/auto.img" --quiet --checksum=auto
    expect_status 0 "dump --checksum=auto"
    [ "$(head_checksum "$WORK/auto.img")" = 0 ] || fail "dump --checksum=auto asked the fake module for XXH64"

    run $FAKE "$CKPT" dump --pid "$TARGET_PID" -o "$WORK/stats.img" --quiet --stats "$WORK/stats.json"
    expect_status 0 "dump --stats"
    grep -qE '"downtime_ns": [1-9]' "$WORK/stats.json" || fail "dump --stats: no downtime: $(cat "$WORK/stats.json")"

    # Through a symlink: the file it names is replaced, the link stays.
    ln -s good.img "$WORK/link.img"
    run $FAKE "$CKPT" dump --pid "$TARGET_PID" -o "$WORK/link.img" --quiet
    expect_status 0 "dump through a symlink"
    [ -L "$WORK/link.img" ] || fail "dump replaced a symlink instead of the file it names"
    run "$CKPT" verify "$WORK/good.img"
    expect_status 0 "verify the image dumped through a symlink"
    # Not a regular file: written directly, never replaced.
    ln -s /dev/null "$WORK/null"
    run $FAKE "$CKPT" dump --pid "$TARGET_PID" -o "$WORK/null" --quiet
    expect_status 0 "dump to a symlink to /dev/null"
    [ -c /dev/null ] || fail "dump replaced /dev/null"
    no_temp_files "dump through symlinks"

    run $FAKE "$CKPT" dump --pid "$TARGET_PID" -o "$WORK/dump.img" --quiet
    expect_status 0 "dump --quiet"
    [ -s "$WORK/err" ] && fail "dump --quiet printed: $(cat "$WORK/err")"

    # --leave-stopped: a job-control stop, then an exact comparison with the
    # still stopped target.
    run $FAKE "$CKPT" dump --pid "$TARGET_PID" -o "$WORK/dump.img" --leave-stopped
    expect_status 0 "dump --leave-stopped"
    expect_err "target left stopped" "dump --leave-stopped"
    wait_for job_stopped "$TARGET_PID" ||
        fail "dump --leave-stopped did not leave a job-control stop: $(describe "$TARGET_PID")"
    run "$CKPT" verify --pid "$TARGET_PID" "$WORK/dump.img"
    expect_status 0 "verify --pid after dump --leave-stopped"
    # A target stopped before the dump stays stopped.
    run $FAKE "$CKPT" dump --pid "$TARGET_PID" -o "$WORK/dump2.img"
    expect_status 0 "dump of a stopped target"
    expect_err "already stopped" "dump of a stopped target"
    wait_for job_stopped "$TARGET_PID" ||
        fail "dump did not leave a stopped target stopped: $(describe "$TARGET_PID")"
    kill -CONT "$TARGET_PID"
    wait_for running "$TARGET_PID" || fail "SIGCONT did not resume the target: $(describe "$TARGET_PID")"

    run bash -c "$FAKE '$CKPT' dump --pid $TARGET_PID -o - --quiet | '$CKPT' verify -"
    expect_status 0 "dump to stdout piped into verify"
    expect_out "OK: " "dump to stdout piped into verify"

    run bash -c "$FAKE '$CKPT' dump --pid $TARGET_PID -o - | head -c 100 >/dev/null; exit \${PIPESTATUS[0]}"
    expect_status 3 "dump into a pipe closed early"
    expect_err "Broken pipe: the reader of the output pipe went away" "dump into a pipe closed early"
    wait_for running "$TARGET_PID" || fail "a failed dump left the target stopped: $(describe "$TARGET_PID")"

    # --live: every thread traced during the dump (the fake checks that) and
    # none stopped.
    $BG CKPT_FAKE_DELAY_MS=600000 LD_PRELOAD="$FAKE_MODULE" "$CKPT" dump --pid "$TARGET_PID" -o "$WORK/live-dump.img" \
        --live 2>"$WORK/live.err" &
    CKPT_PID=$!
    wait_for held "$TARGET_PID" "$CKPT_PID" live ||
        fail "dump --live did not trace every thread, or stopped one: $(describe "$TARGET_PID")"
    kill -TERM "$CKPT_PID"
    { wait "$CKPT_PID"; } 2>/dev/null
    status=$?
    checks=$((checks + 1))
    [ "$status" -eq 143 ] || fail "dump --live killed by SIGTERM exited with $status, expected 143"
    wait_for running "$TARGET_PID" || fail "dump --live left the target traced: $(describe "$TARGET_PID")"
    run $FAKE "$CKPT" dump --pid "$TARGET_PID" -o "$WORK/live-dump.img" --live
    expect_status 0 "dump --live"
    expect_err "live dump" "dump --live"
    wait_for running "$TARGET_PID" || fail "dump --live left the target traced: $(describe "$TARGET_PID")"

    run env CKPT_FAKE_FAIL=95:0x7f00deadb000 LD_PRELOAD="$FAKE_MODULE" "$CKPT" dump --pid "$TARGET_PID" -o "$WORK/fail.img"
    expect_status 3 "dump failing with EOPNOTSUPP"
    expect_err "unsupported mapping at 0x7f00deadb000" "dump failing with EOPNOTSUPP"
    expect_err "(4096 bytes written before the failure)" "dump failing with EOPNOTSUPP"
    [ -e "$WORK/fail.img" ] && fail "a failed dump left its partial image"
    wait_for running "$TARGET_PID" || fail "a failed dump left the target stopped: $(describe "$TARGET_PID")"

    # What the module's EPERM and EBUSY mean now.
    run env CKPT_FAKE_FAIL=1 LD_PRELOAD="$FAKE_MODULE" "$CKPT" dump --pid "$TARGET_PID" -o "$WORK/fail.img"
    expect_status 3 "dump failing with EPERM"
    expect_err "Operation not permitted: need root or CAP_CHECKPOINT_RESTORE, and ckpt must trace every thread of the target" \
        "dump failing with EPERM"
    run env CKPT_FAKE_FAIL=16 LD_PRELOAD="$FAKE_MODULE" "$CKPT" dump --pid "$TARGET_PID" -o "$WORK/fail.img"
    expect_status 3 "dump failing with EBUSY"
    expect_err "a thread of the target ran, exited or appeared during the dump, or another process shares its memory" \
        "dump failing with EBUSY"
    wait_for running "$TARGET_PID" || fail "a failed dump left the target stopped: $(describe "$TARGET_PID")"

    cp "$WORK/good.img" "$WORK/keep.img"
    run env CKPT_FAKE_FAIL=28 LD_PRELOAD="$FAKE_MODULE" "$CKPT" dump --pid "$TARGET_PID" -o "$WORK/keep.img"
    expect_status 3 "dump over an existing image failing with ENOSPC"
    cmp -s "$WORK/keep.img" "$WORK/good.img" || fail "a failed dump changed the existing image"
    no_temp_files "a failed dump"

    run env CKPT_FAKE_FAIL=12:0x7f00deadb000 LD_PRELOAD="$FAKE_MODULE" "$CKPT" dump --pid "$TARGET_PID" -o "$WORK/fail.img" --leave-stopped
    expect_status 3 "dump failing with ENOMEM"
    expect_err "failed at VMA 0x7f00deadb000" "dump failing with ENOMEM"
    wait_for running "$TARGET_PID" ||
        fail "a failed dump with --leave-stopped left the target stopped: $(describe "$TARGET_PID")"

    run $FAKE "$CKPT" dump --pid 2 -o "$WORK/kthread.img"
    if [ "$(cat /proc/2/comm 2>/dev/null)" = kthreadd ]; then
        expect_status 3 "dump of a kernel thread"
        expect_err "is a kernel thread" "dump of a kernel thread"
    fi

    run $FAKE "$CKPT" dump --pid 99999999999 -o "$WORK/none.img"
    expect_status 1 "dump of an impossible pid"
    run $FAKE "$CKPT" dump --pid 4194304 -o "$WORK/none.img"
    expect_status 3 "dump of a missing process"
    expect_err "no such process" "dump of a missing process"

    # A signal in the middle of a dump: the usual exit status, the existing
    # image untouched, no partial image left (but after SIGKILL, which no
    # handler sees), and the target let go as it was.
    for sig in $SIGNALS; do
        cp "$WORK/good.img" "$WORK/term.img"
        $BG CKPT_FAKE_DELAY_MS=600000 LD_PRELOAD="$FAKE_MODULE" "$CKPT" dump --pid "$TARGET_PID" -o "$WORK/term.img" 2>/dev/null &
        CKPT_PID=$!
        wait_for held "$TARGET_PID" "$CKPT_PID" ||
            fail "dump did not hold the target in ptrace-stops: $(describe "$TARGET_PID")"
        kill -"$sig" "$CKPT_PID"
        { wait "$CKPT_PID"; } 2>/dev/null
        status=$?
        checks=$((checks + 1))
        expected=$((128 + $(kill -l "$sig")))
        [ "$status" -eq "$expected" ] || fail "dump killed by SIG$sig exited with $status, expected $expected"
        cmp -s "$WORK/term.img" "$WORK/good.img" || fail "a dump interrupted by SIG$sig changed the existing image"
        [ "$sig" = KILL ] && rm -f "$WORK"/.term.img.ckpt-*
        no_temp_files "a dump interrupted by SIG$sig"
        wait_for running "$TARGET_PID" ||
            fail "a dump interrupted by SIG$sig left the target stopped or traced: $(describe "$TARGET_PID")"
    done

    # The same for a target that was job-stopped before: it stays stopped.
    kill -STOP "$TARGET_PID"
    wait_for job_stopped "$TARGET_PID" || fail "SIGSTOP did not stop the target: $(describe "$TARGET_PID")"
    $BG CKPT_FAKE_DELAY_MS=600000 LD_PRELOAD="$FAKE_MODULE" "$CKPT" dump --pid "$TARGET_PID" -o "$WORK/term.img" 2>/dev/null &
    CKPT_PID=$!
    wait_for held "$TARGET_PID" "$CKPT_PID" || fail "dump did not hold the stopped target: $(describe "$TARGET_PID")"
    kill -TERM "$CKPT_PID"
    { wait "$CKPT_PID"; } 2>/dev/null
    wait_for job_stopped "$TARGET_PID" ||
        fail "an interrupted dump resumed a target that was stopped before: $(describe "$TARGET_PID")"
    kill -CONT "$TARGET_PID"
    wait_for running "$TARGET_PID" || fail "SIGCONT did not resume the target: $(describe "$TARGET_PID")"

    # A signal sent to the target while ckpt holds it is delivered after the
    # dump: the target's SIGUSR2 handler prints "usr2".
    $BG CKPT_FAKE_DELAY_MS=600000 LD_PRELOAD="$FAKE_MODULE" "$CKPT" dump --pid "$TARGET_PID" -o "$WORK/sig.img" 2>/dev/null &
    CKPT_PID=$!
    wait_for held "$TARGET_PID" "$CKPT_PID" || fail "dump did not hold the target: $(describe "$TARGET_PID")"
    kill -USR2 "$TARGET_PID"
    grep -q usr2 "$WORK/target.out" && fail "the target handled SIGUSR2 while ckpt held it"
    kill -"$INT" "$CKPT_PID"
    { wait "$CKPT_PID"; } 2>/dev/null
    checks=$((checks + 1))
    wait_for grep -q usr2 "$WORK/target.out" || fail "a signal sent during the dump was lost"
    wait_for running "$TARGET_PID" || fail "the target did not run again: $(describe "$TARGET_PID")"
    # And through a dump that succeeds: it writes into a FIFO that is read
    # only after the signal was sent (the image is larger than a pipe holds).
    usr2_before=$(grep -c usr2 "$WORK/target.out")
    mkfifo "$WORK/image.fifo"
    # Opened read-write, the FIFO opens at once on both sides; the image is
    # read only after the signal, from a read-only fd, so that cat sees the
    # end when ckpt closes its side.
    exec 8<>"$WORK/image.fifo"
    $FAKE "$CKPT" dump --pid "$TARGET_PID" -o "$WORK/image.fifo" 2>"$WORK/err" 8<&- &
    CKPT_PID=$!
    wait_for held "$TARGET_PID" "$CKPT_PID" || fail "dump did not hold the target: $(describe "$TARGET_PID")"
    kill -USR2 "$TARGET_PID"
    exec 9<"$WORK/image.fifo" 8<&-
    cat <&9 >"$WORK/sig.img"
    exec 9<&-
    { wait "$CKPT_PID"; } 2>/dev/null
    status=$?
    checks=$((checks + 1))
    expect_status 0 "dump into a FIFO"
    usr2_delivered() { [ "$(grep -c usr2 "$WORK/target.out")" -gt "$usr2_before" ]; }
    wait_for usr2_delivered || fail "a signal sent during a dump was lost"
    wait_for running "$TARGET_PID" || fail "the target did not run again: $(describe "$TARGET_PID")"
    run "$CKPT" verify "$WORK/sig.img"
    expect_status 0 "verify the image dumped into a FIFO"

    # Another tracer: a clear error (exit 3, as for other system errors), and
    # the target as it was.
    start_target tracer2 --trace "$TARGET_PID"
    TRACER_PID=$STARTED_PID
    run $FAKE "$CKPT" dump --pid "$TARGET_PID" -o "$WORK/traced.img"
    expect_status 3 "dump of a target traced by another process"
    expect_err "ckpt: cannot trace pid $TARGET_PID: Operation not permitted: it is already traced by pid $TRACER_PID" \
        "dump of a target traced by another process"
    expect_err "ckpt must trace every thread itself; detach the other tracer" "dump of a target traced by another process"
    [ -e "$WORK/traced.img" ] && fail "a failed dump left an image"
    [ "$(tracers "$TARGET_PID")" = "$TRACER_PID $TRACER_PID " ] ||
        fail "a failed dump changed the target's tracers: $(describe "$TARGET_PID")"
    kill "$TRACER_PID"
    wait "$TRACER_PID" 2>/dev/null
    wait_for running "$TARGET_PID" || fail "the target did not run again after its tracer left: $(describe "$TARGET_PID")"

    # main() left with pthread_exit(): a zombie leader, the other thread runs.
    start_target zombie --exit-main
    ZOMBIE_PID=$STARTED_PID
    run $FAKE "$CKPT" dump --pid "$ZOMBIE_PID" -o "$WORK/zombie.img"
    expect_status 0 "dump of a process whose main thread exited"
    run "$CKPT" show "$WORK/zombie.img"
    expect_status 0 "show the image of a process whose main thread exited"
    expect_out "anon" "the image of a process whose main thread exited has its memory"
    zombie_leader_sleeps() {
        [ "$(thread_states "$1")" = ZS ] && untraced "$1"
    }
    wait_for zombie_leader_sleeps "$ZOMBIE_PID" ||
        fail "dump of a process whose main thread exited did not let it go: $(describe "$ZOMBIE_PID")"
fi

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]

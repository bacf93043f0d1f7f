#!/usr/bin/env bash
# End-to-end checks of the ckpt binary: usage and exit codes, show/verify on
# files and pipes, verify --pid against a live target process, and the
# resume-on-SIGTERM guarantee; with FAKE_MODULE (an LD_PRELOAD stand-in for
# ckpt.ko) also `ckpt dump`.
# Usage: cli_test.sh CKPT TEST_IMAGE_TOOL TARGET [FAKE_MODULE]
set -u
CKPT=$1
IMAGE_TOOL=$2
TARGET=$3
FAKE_MODULE=${4:-}

WORK=$(mktemp -d)
TARGET_PID=
cleanup() {
    if [ -n "$TARGET_PID" ]; then kill -9 "$TARGET_PID" 2>/dev/null; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

failures=0
checks=0
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
run "$CKPT" show
expect_status 1 "show without file"
run "$CKPT" verify --live "$WORK/x.img"
expect_status 1 "verify --live without --pid"

# ------------------------------------------------------ show and verify
"$IMAGE_TOOL" sample >"$WORK/sample.img" || fail "writing the sample image"
SIZE=$(stat -c %s "$WORK/sample.img")

run "$CKPT" verify "$WORK/sample.img"
expect_status 0 "verify sample"
expect_out "OK: 14 records, 4 VMAs, 7 pages, $SIZE bytes" "verify sample"
run bash -c "cat '$WORK/sample.img' | '$CKPT' verify -"
expect_status 0 "verify sample from a pipe"
expect_out "OK: 14 records" "verify sample from a pipe"

run "$CKPT" show "$WORK/sample.img"
expect_status 0 "show sample"
expect_out "01000000-01008000 rw-p 00000000 00:00 0  anon  pages=5  [heap]" "show sample"
expect_out "7f0000000000-7f0000003000 rw-p 00002000 08:01 123456  file  pages=1  /usr/lib/libsample.so.1" "show sample"
expect_out "7f0000010000-7f0000012000 rw-s 00000000 00:00 99  shared  pages=1  /dev/zero (deleted)" "show sample"
expect_out "7ffc00100000-7ffc00102000 r-xp 00000000 00:00 0  special  pages=0  [vdso]" "show sample"
expect_out "task:     pid 4242, tid 4242, comm \"sample\", 2 threads, stopped" "show sample"
expect_out "ldt:      1 entry" "show sample"
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
    expect_err '/dev/ckpt: no such device: load the module with `insmod ckpt.ko`' "dump without the module"
    [ -e "$WORK/dump.img" ] && fail "dump without the module left a file"
fi

# ------------------------------------------------ verify --pid, live target
"$TARGET" >"$WORK/target.out" &
TARGET_PID=$!
for _ in $(seq 200); do grep -q ready "$WORK/target.out" 2>/dev/null && break; sleep 0.02; done
ANON=$(awk '/ready/ {print $2}' "$WORK/target.out")
[ -n "$ANON" ] || fail "test target did not start"
# glibc's __rseq_size in the target: 0 if it registered no rseq areas.
RSEQ_SIZE=$(awk '/ready/ {print $5}' "$WORK/target.out")
# Wait until every thread sleeps in pause(): its memory is then stable.
for _ in $(seq 200); do case $(thread_states "$TARGET_PID") in SS*) break ;; *) sleep 0.01 ;; esac; done
sleep 0.02

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

# A running (sleeping) target is stopped for the comparison, matches its
# image although the kernel may have rewritten its rseq areas, and is
# resumed afterwards.
"$IMAGE_TOOL" fake-dump "$TARGET_PID" >"$WORK/live.img" || fail "fake dump of the target"
run "$CKPT" verify --pid "$TARGET_PID" "$WORK/live.img"
expect_status 0 "verify --pid of a running target"
expect_out "matches pid $TARGET_PID" "verify --pid of a running target"
expect_rseq_excluded "verify --pid of a running target"
sleep 0.05
case $(thread_states "$TARGET_PID") in *T*|*t*) fail "verify --pid left the target stopped" ;; esac

run "$CKPT" verify --pid "$TARGET_PID" --live "$WORK/live.img"
grep -qE '^  rseq bytes excluded: +none: not looked up with --live' "$WORK/out" ||
    fail "verify --pid --live: $(grep rseq "$WORK/out")"

# Exact checks on a target kept stopped, which ckpt must leave stopped.
kill -STOP "$TARGET_PID"
for _ in $(seq 200); do case $(thread_states "$TARGET_PID") in *[!Tt]*|"") sleep 0.01 ;; *) break ;; esac; done
"$IMAGE_TOOL" fake-dump "$TARGET_PID" >"$WORK/live.img" || fail "fake dump of the stopped target"
run "$CKPT" verify --pid "$TARGET_PID" "$WORK/live.img"
expect_status 0 "verify --pid"
expect_out "matches pid $TARGET_PID" "verify --pid"
expect_out "zero pages accepted:" "verify --pid"
expect_rseq_excluded "verify --pid"
sleep 0.05
case $(thread_states "$TARGET_PID") in *[!Tt]*|"") fail "verify --pid resumed a target that was stopped before" ;; esac

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
kill -CONT "$TARGET_PID"

# SIGTERM while ckpt holds the target stopped: the target must be resumed.
mkfifo "$WORK/fifo"
exec 7<>"$WORK/fifo"
"$CKPT" verify --pid "$TARGET_PID" - <"$WORK/fifo" 2>/dev/null &
CKPT_PID=$!
for _ in $(seq 200); do case $(thread_states "$TARGET_PID") in *[!Tt]*|"") sleep 0.01 ;; *) break ;; esac; done
case $(thread_states "$TARGET_PID") in *[!Tt]*|"") fail "verify --pid did not stop the target" ;; esac
kill -TERM "$CKPT_PID"
wait "$CKPT_PID"
status=$?
exec 7>&-
checks=$((checks + 1))
[ "$status" -eq 143 ] || fail "ckpt killed by SIGTERM exited with $status, expected 143"
sleep 0.05
case $(thread_states "$TARGET_PID") in *T*|*t*) fail "SIGTERM left the target stopped" ;; esac

# ------------------------------------------ dump through the fake module
target_running() {
    sleep 0.05
    case $(thread_states "$TARGET_PID") in *T*|*t*|"") return 1 ;; esac
}
wait_target_stopped() {
    for _ in $(seq 300); do case $(thread_states "$TARGET_PID") in *[!Tt]*|"") sleep 0.01 ;; *) return 0 ;; esac; done
    return 1
}

if [ -n "$FAKE_MODULE" ]; then
    FAKE="env LD_PRELOAD=$FAKE_MODULE"

    no_temp_files() {
        ! ls -A "$WORK" | grep -q '\.ckpt-' || fail "$1 left a temporary file: $(ls -A "$WORK" | grep '\.ckpt-')"
    }

    echo "an older image" >"$WORK/dump.img"
    chmod 644 "$WORK/dump.img"
    run $FAKE "$CKPT" dump --pid "$TARGET_PID" -o "$WORK/dump.img"
    expect_status 0 "dump"
    expect_err "ckpt: dumped pid $TARGET_PID to $WORK/dump.img: " "dump summary"
    expect_err "ckpt: downtime " "dump summary"
    [ "$(stat -c %a "$WORK/dump.img")" = 600 ] || fail "dump: image mode is not 0600"
    no_temp_files "dump"
    target_running || fail "dump left the target stopped"
    run "$CKPT" verify "$WORK/dump.img"
    expect_status 0 "verify the dumped image"
    # The dump resumed the target; it still matches, rseq areas aside.
    run "$CKPT" verify --pid "$TARGET_PID" "$WORK/dump.img"
    expect_status 0 "verify --pid after dump"
    expect_rseq_excluded "verify --pid after dump"
    cp "$WORK/dump.img" "$WORK/good.img"

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

    # --leave-stopped, then an exact comparison with the still stopped target.
    run $FAKE "$CKPT" dump --pid "$TARGET_PID" -o "$WORK/dump.img" --leave-stopped
    expect_status 0 "dump --leave-stopped"
    expect_err "target left stopped" "dump --leave-stopped"
    wait_target_stopped || fail "dump --leave-stopped resumed the target"
    run "$CKPT" verify --pid "$TARGET_PID" "$WORK/dump.img"
    expect_status 0 "verify --pid after dump --leave-stopped"
    # A target stopped before the dump is dumped without signals and stays stopped.
    run $FAKE "$CKPT" dump --pid "$TARGET_PID" -o "$WORK/dump2.img"
    expect_status 0 "dump of a stopped target"
    expect_err "already stopped" "dump of a stopped target"
    wait_target_stopped || fail "dump resumed a target that was stopped before"
    kill -CONT "$TARGET_PID"

    run bash -c "$FAKE '$CKPT' dump --pid $TARGET_PID -o - --quiet | '$CKPT' verify -"
    expect_status 0 "dump to stdout piped into verify"
    expect_out "OK: " "dump to stdout piped into verify"

    run bash -c "$FAKE '$CKPT' dump --pid $TARGET_PID -o - | head -c 100 >/dev/null; exit \${PIPESTATUS[0]}"
    expect_status 3 "dump into a pipe closed early"
    expect_err "Broken pipe: the reader of the output pipe went away" "dump into a pipe closed early"
    target_running || fail "a failed dump left the target stopped"

    run $FAKE "$CKPT" dump --pid "$TARGET_PID" -o "$WORK/live-dump.img" --live
    expect_status 0 "dump --live"
    expect_err "live dump" "dump --live"

    run env CKPT_FAKE_FAIL=95:0x7f00deadb000 LD_PRELOAD="$FAKE_MODULE" "$CKPT" dump --pid "$TARGET_PID" -o "$WORK/fail.img"
    expect_status 3 "dump failing with EOPNOTSUPP"
    expect_err "unsupported mapping at 0x7f00deadb000" "dump failing with EOPNOTSUPP"
    expect_err "(4096 bytes written before the failure)" "dump failing with EOPNOTSUPP"
    [ -e "$WORK/fail.img" ] && fail "a failed dump left its partial image"
    target_running || fail "a failed dump left the target stopped"

    cp "$WORK/good.img" "$WORK/keep.img"
    run env CKPT_FAKE_FAIL=28 LD_PRELOAD="$FAKE_MODULE" "$CKPT" dump --pid "$TARGET_PID" -o "$WORK/keep.img"
    expect_status 3 "dump over an existing image failing with ENOSPC"
    cmp -s "$WORK/keep.img" "$WORK/good.img" || fail "a failed dump changed the existing image"
    no_temp_files "a failed dump"

    run env CKPT_FAKE_FAIL=12:0x7f00deadb000 LD_PRELOAD="$FAKE_MODULE" "$CKPT" dump --pid "$TARGET_PID" -o "$WORK/fail.img" --leave-stopped
    expect_status 3 "dump failing with ENOMEM"
    expect_err "failed at VMA 0x7f00deadb000" "dump failing with ENOMEM"
    target_running || fail "a failed dump with --leave-stopped left the target stopped"

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

    # SIGTERM in the middle of a dump: target resumed, partial image removed,
    # the existing image untouched.
    cp "$WORK/good.img" "$WORK/term.img"
    CKPT_FAKE_DELAY_MS=5000 LD_PRELOAD="$FAKE_MODULE" "$CKPT" dump --pid "$TARGET_PID" -o "$WORK/term.img" 2>/dev/null &
    CKPT_PID=$!
    wait_target_stopped || fail "dump did not stop the target"
    sleep 0.1
    kill -TERM "$CKPT_PID"
    wait "$CKPT_PID"
    status=$?
    checks=$((checks + 1))
    [ "$status" -eq 143 ] || fail "dump killed by SIGTERM exited with $status, expected 143"
    cmp -s "$WORK/term.img" "$WORK/good.img" || fail "an interrupted dump changed the existing image"
    no_temp_files "an interrupted dump"
    target_running || fail "an interrupted dump left the target stopped"
fi

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]

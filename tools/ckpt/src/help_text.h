// The tool's help texts: the one source of `ckpt --help`, `ckpt help
// COMMAND`, the manual page ckpt(1) and the bash completion, which
// ckpt-gendoc (gendoc.cpp) renders from them at build time.
//
// Shape, which gendoc relies on: the first line is "Usage: ..."; a section
// starts with an unindented line "Name:" after a blank line; in a section,
// "  ITEM   description" lines (two spaces in, two or more after the item)
// with deeper-indented continuation lines are a list, unindented lines are
// prose; "Examples:" holds one command per line.
#pragma once

#ifndef CKPT_VERSION
#define CKPT_VERSION "unknown"
#endif

namespace ckpt {

inline constexpr const char* kVersion = CKPT_VERSION;

inline constexpr const char* kMainHelp = R"(Usage: ckpt [--version] [--help] COMMAND [ARGS]

Checkpoint the memory of a running process through /dev/ckpt (ckpt.ko).
Run 'ckpt help COMMAND' for the options of a command.

Commands:
  dump     write a process's memory image to a file or stdout
  show     print what an image contains
  verify   check an image's structure and checksums, optionally against the
           live process
  core     write an ELF core file from an image, for gdb and readelf
  restore  bring the process of an image back, with its threads
  help     show the help of a command

Options:
  -h, --help      show this help
  -V, --version   print the version

Permissions:
A dump reads all of a process's memory, so the module asks for two things.
The caller has CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN (root has both),
unless the module was loaded with allow_tracers=1.  And the caller is the
ptrace tracer of every thread of the process: 'ckpt dump' attaches itself,
and the kernel checked then that it may (the same user or CAP_SYS_PTRACE,
a dumpable process, Yama's ptrace_scope, the LSMs).  A process that a
debugger or strace traces cannot be dumped until that tracer detaches.
A restore needs CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN for the module,
and root for the pid and limits it sets.  /dev/ckpt is root's, mode 0600; the udev rule 60-ckpt.rules sets its owner
and mode (copy it to /etc/udev/rules.d/ to give a group access).  show and
verify without --pid need only read access to the image.

Files:
  /dev/ckpt       the module's device.  With the module installed (ckpt-dkms)
                  the node exists from boot and its first open loads the
                  module; 'modprobe ckpt' loads it explicitly
  /usr/include/linux/ckpt.h
                  the ioctl CKPT_IOC_CHECKPOINT and the image format, for
                  programs that drive the module directly

Exit status:
  0  success
  1  usage error
  2  a problem was found: the image is invalid or does not match the process,
     or the dumped file does not have the size the module reported
  3  system error: open, ioctl or I/O failure, missing permissions, missing
     module, a target that cannot be traced or does not stop

Examples:
  sudo ckpt dump --pid 1234 -o app.ckpt
  ckpt show app.ckpt
  ckpt verify app.ckpt
  sudo ckpt verify app.ckpt --pid 1234
  sudo ckpt dump --pid 1234 -o - | zstd > app.ckpt.zst
  zstd -dc app.ckpt.zst | ckpt show --json -
)";

inline constexpr const char* kDumpHelp = R"(Usage: ckpt dump --pid PID -o FILE|- [options]

Holds the process the way CRIU does: attaches to every thread with ptrace
(PTRACE_SEIZE), interrupts each (PTRACE_INTERRUPT) and waits until every
thread is in a ptrace-stop, has /dev/ckpt write the process's memory image,
then detaches and the process runs on.  A process that was stopped before
(SIGSTOP, state T) stays stopped, one frozen by the cgroup v2 freezer stays
frozen, and a signal sent to it meanwhile is delivered after the dump.  The
image is written to a temporary file next to FILE (.FILE.ckpt-XXXXXX, mode
0600) that replaces FILE only when the dump succeeded: a failed,
interrupted or killed dump leaves the process as it was (the kernel
detaches ptrace when ckpt exits), removes the temporary file and leaves an
existing FILE unchanged.

Options:
  -p, --pid PID           process to checkpoint
  -o, --output FILE|-     image file, or - for stdout (not a terminal); a
                          FILE that is not a regular file (/dev/null, a
                          FIFO) is written directly
      --live              do not stop the process; the image may be torn.
                          Its threads are still traced during the dump (the
                          module requires it), and each is interrupted for
                          an instant at the end: ptrace cannot detach a
                          running thread
      --leave-stopped     after a successful dump, leave the process in a
                          job-control stop (state T, as after SIGSTOP);
                          SIGCONT resumes it
      --stop-timeout SEC  how long to wait for every thread to stop
                          (default 10); ckpt lets go of it on timeout
  -q, --quiet             no progress line and no summary
      --stats FILE        after a successful dump, write its figures to
                          FILE as one JSON object: bytes, vmas, pages,
                          pages_scanned, peak_kmem (bytes), ioctl_ns,
                          downtime_ns (0 when the process was not stopped
                          by this dump), and the module's time per phase:
                          vma_ns, scan_ns, copy_ns, write_ns (0 from a
                          module older than them)
      --checksum ALGO     the checksum of the image's records: crc32c,
                          xxh64, or auto (the default): the module's
                          choice, the faster on this CPU (see its
                          "checksum" parameter).  CRC-32C runs at memory
                          speed with SSE4.2's crc32 instruction, XXH64
                          near it without.  HEAD's own checksum and
                          TAIL's chain are CRC-32C in every image; 'ckpt
                          show' names the algorithm
  -h, --help              show this help

Needs root, or CAP_CHECKPOINT_RESTORE (or CAP_SYS_ADMIN) and the right to
ptrace the process: its user, or CAP_SYS_PTRACE, and a Yama ptrace_scope
that allows it.  The module checks that ckpt itself traces every thread, so
a process that a debugger or strace is tracing cannot be dumped until that
tracer detaches.  Exit status: see 'ckpt --help'.
)";

inline constexpr const char* kShowHelp = R"(Usage: ckpt show [--json] [--pages] FILE|-

Prints an image: header (format, checksum algorithm), task, memory
layout, one /proc/PID/maps-style line per VMA with its kind and dumped
page count, the LDT and the tail totals.  The image is streamed (a pipe
works, nothing is held in memory) and fully validated; an invalid image
exits with status 2 after printing what came before the damage.

Options:
      --json    print one JSON object instead (addresses and flag words are
                hex strings, counts are numbers); nothing is printed for an
                invalid image
      --pages   also list the address of every dumped page per VMA
  -h, --help    show this help

Exit status: see 'ckpt --help'.
)";

inline constexpr const char* kVerifyHelp = R"(Usage: ckpt verify [options] FILE|-

Checks the whole image: record order, alignment, zero padding, page
placement, every record's checksum (CRC-32C, or XXH64 where the image's
HEAD says so), and the TAIL totals and CRC chain.  Prints
"OK: ..." and exits 0 only if the image is fully valid.

With --pid, also holds the process in ptrace-stops like 'ckpt dump' does
(and lets it go the same way) and compares:
every dumped page with /proc/PID/mem; every resident or swapped page (from
/proc/PID/pagemap) with the image, allowing for clean file pages and zero
pages, which the module skips; the image's VMAs with the process's; and
(format 1.1, not with --live) every thread's registers and FPU/SSE/AVX
state with what PTRACE_GETREGSET reads, and the threads themselves; and
(format 1.1) the PROCESS and FILE records with what /proc shows: ids,
credentials, capabilities, umask, personality, ignored and caught signals,
pending signals, limits, auxv, groups, exe/cwd/root, and each descriptor's
kind, flags, close-on-exec, offset, inode, device, mode and path (a file
whose size changed since the dump is a warning: the size is the file's).
The process may have run since the dump if it changed no memory itself
(e.g. it slept): the comparison is exact except for each thread's rseq
area (struct rseq in its TLS, registered by glibc 2.35+), which the kernel
rewrites whenever the thread resumes on another CPU.  verify asks the
kernel where those areas are (PTRACE_GET_RSEQ_CONFIGURATION on the threads
it holds, Linux 5.13+), leaves exactly their bytes out and counts them in
the report ("rseq bytes excluded").  Where that is not possible (older
kernel, --live) nothing is left out and the report says why.

Options:
  -p, --pid PID           also compare with this running process
      --live              neither stop nor trace the process for the
                          comparison (nor look up its rseq areas)
      --stop-timeout SEC  how long to wait for it to stop (default 10)
  -q, --quiet             print nothing on success
  -h, --help              show this help

--pid needs the right to ptrace the process (see 'ckpt help dump'), and
no other tracer attached to it unless --live.  Exit status: see
'ckpt --help'.
)";

inline constexpr const char* kRestoreHelp = R"(Usage: ckpt restore [options] IMAGE|-

Brings the process of a checkpoint image back and waits for it: ckpt exits
with its exit status (128 + N if signal N killed it).  Needs root (or
CAP_CHECKPOINT_RESTORE and CAP_SYS_ADMIN) and the ckpt module.

The process gets its pid and its threads their tids again (restore fails
if one is taken; with --any-pid they get free ones), its memory (every
mapping at its address, with its protection; private file mappings
reopened and checked to be the same file), each thread's registers,
FPU/SSE/AVX state, thread pointer, signal mask, alternate signal stack,
rseq area, robust futex list, clear_child_tid and gs base, and the process's
signal actions, resource limits, umask, working directory, personality,
name, executable link (/proc/PID/exe; needs CAP_SYS_RESOURCE) and pending
signals (sent again), its
credentials when root restores (uids, gids, groups, capabilities, securebits,
no_new_privs), and
its descriptors: 0, 1 and 2 are ckpt restore's own; regular files and
directories are reopened at their offsets with their flags (refused if the
file is not the same inode any more).  A thread stopped inside a system
call that the kernel restarts is restarted; one in a timed wait (nanosleep,
clock_nanosleep, poll, futex) waits for the time it had left at the dump.

Also restored: the LDT, GDT TLS entries and ds/es selectors; memfds and
SysV segments mapped by the process (rebuilt, one object per inode); the
siginfo of every queued signal (format 1.4); a process whose main thread
had exited (it exits again before the others run).

Not yet: pipes, sockets, memfd and other descriptors (restore refuses,
naming them, unless --skip-fds); shared mappings of deleted files that are
not shared memory (shared mappings of files with a path are reopened; the
file holds their data); 32-bit code, fs/gs selectors; credentials unless root restores (the
process then runs as the user who restores it).  An image from another kernel (format 1.3,
with its vDSO) runs with a proxy of its old vDSO whose entry points jump to
this kernel's.

Options:
  -d, --detach      print the restored pid and return once it runs
      --any-pid     free pid and tids instead of the image's
      --skip-fds    leave descriptors that cannot be restored closed
  -q, --quiet       print nothing but errors
  -h, --help        this text
)";

inline constexpr const char* kCoreHelp = R"(Usage: ckpt core [options] IMAGE|- -o CORE|-

Writes an ELF core file of the checkpointed process, as the kernel's core
dumper would have written it at the moment of the dump, so that gdb
(gdb PROGRAM CORE) and readelf can open it.  Runs anywhere: it reads only
the image (and, for the pages an image leaves to them, the mapped files).
The image is checked as 'ckpt verify' checks it; a damaged image writes no
core.

The core holds a PT_NOTE with, per thread, NT_PRSTATUS (registers, signal
masks), NT_PRFPREG and NT_X86_XSTATE (FPU/SSE/AVX state), and for the
process NT_PRPSINFO (name, ids, the command line), NT_AUXV and NT_FILE
(the mapped files).  There is no NT_SIGINFO: a checkpoint has no signal.
Then one PT_LOAD per VMA:
  anonymous and shared memory: the whole VMA; pages the image lacks read
                        as zeros (holes in the core file)
  private file mappings: left to the file (p_filesz 0) unless the process
                        wrote some pages; then the whole VMA, its clean
                        pages read from the mapped file when it still has
                        the same inode (zeros, with a warning, when not);
                        an unwritten mapping of an ELF file keeps its
                        first page, as the kernel does, for its build-id
  [vdso], [vvar], device mappings: headers only (p_filesz 0)
A format 1.0 image has no threads: its core has no registers (a warning
says so).  CORE is written to a temporary file and renamed into place only
when complete, mode 0600: it holds the process's memory.  A core's headers
are written last, so with -o - (or a FIFO) it is first written to an
unlinked, sparse file in $TMPDIR (default /tmp), then copied out in order,
its holes as zeros; that file needs room for the pages the image holds.

Options:
  -o, --output CORE   the core file to write; - for stdout
  -q, --quiet         print nothing on success
  -h, --help          show this help

Exit status: see 'ckpt --help'.
)";

struct CommandHelp {
    const char* command;
    const char* text;
};

// In the order of kMainHelp's command list.
inline constexpr CommandHelp kCommandHelp[] = {
    {"dump", kDumpHelp},
    {"show", kShowHelp},
    {"verify", kVerifyHelp},
    {"core", kCoreHelp},
    {"restore", kRestoreHelp},
};

}  // namespace ckpt

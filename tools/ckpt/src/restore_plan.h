// What `ckpt restore` knows of an image before the module reads its memory:
// the records before MM, checked, and what of them this restorer can bring
// back.  The parent reads it from the image stream; the restorer it starts
// reads the same bytes again from a memfd.
#pragma once

#include <linux/ckpt.h>

#include <optional>
#include <string>
#include <vector>

#include "byte_source.h"
#include "expected.h"
#include "image_reader.h"

namespace ckpt {

struct RestorePlan {
    ckpt_head head{};
    ckpt_task task{};
    std::optional<ProcessRecord> process;
    std::vector<ThreadRecord> threads;
    std::vector<ckpt_restart> restarts;  // format 1.3: threads stopped in timed waits
    std::vector<SigQueueRecord> sigqueues;  // format 1.4: queues of pending signals
    std::vector<FileRecord> files;
    std::optional<VdsoRecord> vdso;  // format 1.3: the process's vDSO
    ImagePrelude prelude;
    std::vector<uint8_t> bytes;  // the stream up to and with MM's header

    // The RESTART record of thread `tid`, or nullptr.
    const ckpt_restart* restart_of(int32_t tid) const;
    // The SIGQUEUE record of thread `tid` (0: the process's), or nullptr.
    const SigQueueRecord* sigqueue_of(int32_t tid) const;
};

// Reads and checks the records before MM from `source` (never past MM's
// header).  `name` is for messages.
Expected<RestorePlan> read_restore_plan(ByteSource& source);

// Why the plan cannot be restored by this version, one line each: a 1.0
// image, a live one, another architecture or page size, descriptors it
// cannot reopen (unless skip_fds: then those are left out), a main thread
// that had exited.
std::vector<std::string> restore_refusals(const RestorePlan& plan, bool skip_fds);

// What will differ from the dumped process, one line each: credentials
// when the caller is not root (it runs as the caller), a pending SIGKILL
// or SIGSTOP, and queued signals past what the image holds.
std::vector<std::string> restore_warnings(const RestorePlan& plan);

// A timespec a restarted wait's registers point at: it is written below
// the thread's stack pointer (under the red zone, where a signal frame
// would go) once the image's memory is in place.
struct WaitTimeout {
    uint64_t addr = 0;  // 0: none
    int64_t tv_sec = 0;
    int64_t tv_nsec = 0;
};

// The registers a thread continues with: one stopped in a system call the
// kernel restarts gets it restarted, as the kernel does on its way out of
// a signal stop (-ERESTARTSYS, -ERESTARTNOINTR, -ERESTARTNOHAND: rax back
// to the call's number, rip back over the 2-byte syscall instruction).
// -ERESTART_RESTARTBLOCK keeps the call's deadline in the kernel: with the
// image's RESTART record (`restart`, or nullptr), a relative sleep, poll or
// futex wait is issued again for the time that was left (a timespec in
// `*timeout`); an absolute futex wait (its deadline is in the process's
// memory) again as it was; anything else returns -EINTR, as CRIU does.
void restart_registers(const ckpt_thread& thread, const ckpt_restart* restart, __u64 regs[CKPT_THREAD_NR_REGS],
                       WaitTimeout* timeout);

// Where restart_registers() falls back to when the timeout cannot be
// written: the call returns -EINTR.
void interrupted_registers(const ckpt_thread& thread, __u64 regs[CKPT_THREAD_NR_REGS]);

// Descriptors the restorer reopens: regular files and directories above 2
// (0, 1 and 2 are ckpt restore's own).
bool restorable_file(const FileRecord& file);

}  // namespace ckpt

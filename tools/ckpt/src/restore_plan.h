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
    std::vector<FileRecord> files;
    ImagePrelude prelude;
    std::vector<uint8_t> bytes;  // the stream up to and with MM's header
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
// (it runs as the caller) and pending signals.
std::vector<std::string> restore_warnings(const RestorePlan& plan);

// The registers a thread continues with: one stopped in a system call the
// kernel restarts gets it restarted, as the kernel does on its way out of
// a signal stop (-ERESTARTSYS, -ERESTARTNOINTR, -ERESTARTNOHAND: rax back
// to the call's number, rip back over the 2-byte syscall instruction);
// -ERESTART_RESTARTBLOCK's restart state is the kernel's and is not in the
// image: the call returns -EINTR, as CRIU does.
void restart_registers(const ckpt_thread& thread, __u64 regs[CKPT_THREAD_NR_REGS]);

// Descriptors the restorer reopens: regular files and directories above 2
// (0, 1 and 2 are ckpt restore's own).
bool restorable_file(const FileRecord& file);

}  // namespace ckpt

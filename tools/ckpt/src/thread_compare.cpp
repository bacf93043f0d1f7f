#include "thread_compare.h"

#include <elf.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "format_util.h"
#include "image_format.h"

namespace ckpt {
namespace {

// PTRACE_GETREGSET into `buf`; the bytes the kernel gave, or -errno.
long get_regset(pid_t tid, int note, void* buf, size_t len) {
    iovec iov{buf, len};
    if (ptrace(PTRACE_GETREGSET, tid, reinterpret_cast<void*>(long(note)), &iov) != 0) return -errno;
    return long(iov.iov_len);
}

void problem(LiveCompareResult* result, const std::string& message) {
    if (result->problems.size() < 40) result->problems.push_back(message);
}

void compare_one(const ThreadRecord& record, LiveCompareResult* result) {
    const ckpt_thread& t = record.thread;
    const std::string who = "thread " + std::to_string(t.tid);
    uint64_t regs[CKPT_THREAD_NR_REGS];
    const long got = get_regset(t.tid, NT_PRSTATUS, regs, sizeof regs);
    if (got != long(sizeof regs)) {
        result->thread_mismatches++;
        problem(result, who + ": PTRACE_GETREGSET NT_PRSTATUS: " +
                            (got < 0 ? std::string(std::strerror(int(-got))) : "short read"));
        return;
    }
    bool same = true;
    for (int i = 0; i < CKPT_THREAD_NR_REGS; i++) {
        if (regs[i] == t.regs[i]) continue;
        same = false;
        problem(result, who + ": " + thread_register_name(i) + " is " + hex(regs[i]) + ", the image has " + hex(t.regs[i]));
    }
    // The FPU area: same size on the same machine; compared when it is.
    std::vector<uint8_t> fpu(t.xstate_size);
    const int note = t.xstate_size > 512 ? NT_X86_XSTATE : NT_PRFPREG;
    const long fpu_got = fpu.empty() ? 0 : get_regset(t.tid, note, fpu.data(), fpu.size());
    if (fpu_got == long(fpu.size()) && fpu != record.xstate) {
        same = false;
        problem(result, who + ": the FPU/SSE/AVX state differs from the image's");
    }
    if (!same) result->thread_mismatches++;
    result->threads_compared++;
}

}  // namespace

void compare_threads(const std::vector<ThreadRecord>& threads, bool live_image, const TargetStop& stop,
                     LiveCompareResult* result) {
    std::vector<pid_t> held;
    for (const SeizedThread& t : stop.threads())
        if (t.attached()) held.push_back(t.tid());
    std::sort(held.begin(), held.end());
    std::vector<pid_t> recorded;
    for (const ThreadRecord& r : threads) {
        recorded.push_back(r.thread.tid);
        if (!std::binary_search(held.begin(), held.end(), pid_t(r.thread.tid))) {
            result->thread_mismatches++;
            problem(result, "thread " + std::to_string(r.thread.tid) + " of the image is not a thread of the process");
            continue;
        }
        if (!live_image && !(r.thread.flags & CKPT_THREAD_RUNNING)) compare_one(r, result);
    }
    if (threads.empty()) return;  // a 1.0 image names no threads
    std::sort(recorded.begin(), recorded.end());
    for (pid_t tid : held)
        if (!std::binary_search(recorded.begin(), recorded.end(), tid)) {
            result->thread_mismatches++;
            problem(result, "thread " + std::to_string(tid) + " of the process is not in the image");
        }
}

}  // namespace ckpt

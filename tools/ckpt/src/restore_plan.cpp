#include "restore_plan.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <climits>
#include <cstdint>
#include <cstring>

#include "format_util.h"
#include "restore_input.h"
#include "segments.h"

namespace ckpt {
namespace {

class PlanVisitor final : public ImageVisitor {
public:
    explicit PlanVisitor(RestorePlan& plan) : plan_(plan) {}
    void on_head(const ckpt_head& h) override { plan_.head = h; }
    void on_task(const ckpt_task& t) override { plan_.task = t; }
    void on_process(const ProcessRecord& p) override { plan_.process = p; }
    void on_thread(const ThreadRecord& t) override { plan_.threads.push_back(t); }
    void on_restart(const ckpt_restart& r) override { plan_.restarts.push_back(r); }
    void on_sigqueue(const SigQueueRecord& q) override { plan_.sigqueues.push_back(q); }
    void on_file(const FileRecord& f) override { plan_.files.push_back(f); }
    void on_vdso(const VdsoRecord& v) override { plan_.vdso = v; }

private:
    RestorePlan& plan_;
};

const char* file_kind_name(uint32_t kind) {
    switch (kind) {
    case CKPT_FILE_REGULAR: return "regular file";
    case CKPT_FILE_DIRECTORY: return "directory";
    case CKPT_FILE_FIFO: return "pipe or FIFO";
    case CKPT_FILE_SOCKET: return "socket";
    case CKPT_FILE_CHAR: return "character device";
    case CKPT_FILE_BLOCK: return "block device";
    case CKPT_FILE_SYMLINK: return "O_PATH symbolic link";
    case CKPT_FILE_ANON: return "anonymous inode";
    default: return "descriptor of unknown kind";
    }
}

}  // namespace

Expected<RestorePlan> read_restore_plan(ByteSource& source) {
    RestorePlan plan;
    RecordSource records(source);
    ImageReader reader(records);
    PlanVisitor visitor(plan);
    auto prelude = reader.read_until_mm(visitor);
    if (!prelude) return prelude.error();
    plan.prelude = *prelude;
    plan.bytes = records.bytes();
    return plan;
}

const ckpt_restart* RestorePlan::restart_of(int32_t tid) const {
    for (const ckpt_restart& r : restarts)
        if (r.tid == tid) return &r;
    return nullptr;
}

const SigQueueRecord* RestorePlan::sigqueue_of(int32_t tid) const {
    for (const SigQueueRecord& q : sigqueues)
        if (q.queue.tid == tid) return &q;
    return nullptr;
}

namespace {

// struct user_regs_struct's order.
enum { kR10 = 7, kRax = 10, kRdx = 12, kRsi = 13, kRdi = 14, kOrigRax = 15, kRip = 16, kRsp = 19 };
constexpr long kERestartSys = -512, kERestartNoIntr = -513, kERestartNoHand = -514, kERestartBlock = -516;
constexpr long kNrPoll = 7, kNrFutex = 202, kNrClockNanosleep = 230;
constexpr uint32_t kFutexCmdMask = ~(128u | 256u);  // FUTEX_PRIVATE_FLAG, FUTEX_CLOCK_REALTIME
constexpr uint32_t kFutexWait = 0;                  // the one futex wait with a relative timeout

// The call again: rax its number, rip on its syscall instruction.
void again(__u64 regs[], long nr) {
    regs[kRax] = uint64_t(nr);
    regs[kRip] -= 2;
}

// Room for a timespec below the red zone, 16-byte aligned.
WaitTimeout timeout_below_stack(const __u64 regs[], uint64_t ns) {
    WaitTimeout t;
    t.addr = (regs[kRsp] - 128 - 16) & ~uint64_t(15);
    t.tv_sec = int64_t(ns / 1000000000);
    t.tv_nsec = int64_t(ns % 1000000000);
    return t;
}

// -ERESTART_RESTARTBLOCK: true if the wait goes on.  Its argument
// registers are still the call's (a wait resumed once and stopped again
// is in restart_syscall(2), whose number replaced the call's: `restart`
// says which call it was).
bool restart_wait(const ckpt_restart* restart, __u64 regs[], WaitTimeout* timeout) {
    const long nr = long(regs[kOrigRax]);
    const uint32_t futex_cmd = uint32_t(regs[kRsi]) & kFutexCmdMask;
    if (!restart) {
        // An absolute futex wait's deadline is in the process's memory.
        if (nr != kNrFutex || futex_cmd == kFutexWait) return false;
        again(regs, kNrFutex);
        return true;
    }
    switch (restart->kind) {
    case CKPT_RESTART_SLEEP:
        // nanosleep(req, rem) is clock_nanosleep(clock, 0, req, rem).
        *timeout = timeout_below_stack(regs, restart->remaining_ns);
        regs[kRdi] = uint64_t(int64_t(restart->clockid));
        regs[kRsi] = 0;
        regs[kRdx] = timeout->addr;
        regs[kR10] = restart->rmtp;
        again(regs, kNrClockNanosleep);
        return true;
    case CKPT_RESTART_POLL: {
        // Milliseconds, rounded up as poll(2) rounds its timeout.
        const uint64_t ms = std::min<uint64_t>((restart->remaining_ns + 999999) / 1000000, INT32_MAX);
        regs[kRdx] = ms;
        again(regs, kNrPoll);
        return true;
    }
    case CKPT_RESTART_FUTEX:
        if (futex_cmd == kFutexWait) {
            *timeout = timeout_below_stack(regs, restart->remaining_ns);
            regs[kR10] = timeout->addr;
        }
        again(regs, kNrFutex);
        return true;
    default:
        return false;
    }
}

}  // namespace

void interrupted_registers(const ckpt_thread& thread, __u64 regs[CKPT_THREAD_NR_REGS]) {
    std::memcpy(regs, thread.regs, sizeof thread.regs);
    if ((thread.flags & CKPT_THREAD_IN_SYSCALL) && long(regs[kRax]) == kERestartBlock)
        regs[kRax] = uint64_t(-long(EINTR));
}

void restart_registers(const ckpt_thread& thread, const ckpt_restart* restart, __u64 regs[CKPT_THREAD_NR_REGS],
                       WaitTimeout* timeout) {
    *timeout = WaitTimeout{};
    std::memcpy(regs, thread.regs, sizeof thread.regs);
    if (!(thread.flags & CKPT_THREAD_IN_SYSCALL)) return;
    const long ax = long(regs[kRax]);
    if (ax == kERestartSys || ax == kERestartNoIntr || ax == kERestartNoHand) {
        again(regs, long(regs[kOrigRax]));
    } else if (ax == kERestartBlock && !restart_wait(restart, regs, timeout)) {
        interrupted_registers(thread, regs);
    }
}

bool restorable_file(const FileRecord& file) {
    if (file.file.fd <= 2) return true;  // ckpt restore's own
    if (file.file.fd_flags & CKPT_FILE_PATH_TOO_LONG) return false;
    // A memfd or a deleted file: no path to reopen, and its data is not in
    // the image (only what a mapping of it held).
    static const std::string kDeleted = " (deleted)";
    if (file.path.size() >= kDeleted.size() &&
        file.path.compare(file.path.size() - kDeleted.size(), kDeleted.size(), kDeleted) == 0)
        return false;
    return file.file.kind == CKPT_FILE_REGULAR || file.file.kind == CKPT_FILE_DIRECTORY;
}

std::vector<std::string> restore_refusals(const RestorePlan& plan, bool skip_fds) {
    std::vector<std::string> why;
    if (plan.head.minor < 1) why.push_back("a format 1.0 image has no threads or process state to restore");
    if (plan.head.arch != CKPT_ARCH_X86_64) why.push_back("the image is not of an x86-64 process");
    if (plan.head.page_size != uint32_t(::sysconf(_SC_PAGESIZE)))
        why.push_back("the image's page size is " + std::to_string(plan.head.page_size));
    if (plan.head.flags & CKPT_IMAGE_LIVE)
        why.push_back("a live image (dump --live) is not one moment's state: it cannot be restored");
    if (plan.head.minor >= 1 && plan.threads.empty()) why.push_back("the image has no thread to restore");
    for (const ThreadRecord& t : plan.threads)
        for (std::string& line : segment_refusals(t.thread)) why.push_back(std::move(line));
    if (!skip_fds) {
        for (const FileRecord& f : plan.files) {
            if (restorable_file(f)) continue;
            why.push_back("descriptor " + std::to_string(f.file.fd) + " (" + file_kind_name(f.file.kind) +
                          (f.path.empty() ? "" : " " + f.path) + ") cannot be restored (--skip-fds leaves it closed)");
        }
    }
    return why;
}

std::vector<std::string> restore_warnings(const RestorePlan& plan) {
    // Every other pending signal is sent again (blocked until the end).
    constexpr uint64_t kUnqueueable = (uint64_t(1) << (SIGKILL - 1)) | (uint64_t(1) << (SIGSTOP - 1));
    std::vector<std::string> out;
    for (const SigQueueRecord& q : plan.sigqueues)
        if (q.queue.queued > q.queue.nr)
            out.push_back(std::to_string(q.queue.queued - q.queue.nr) + " queued signals of " +
                          (q.queue.tid ? "thread " + std::to_string(q.queue.tid) : std::string("the process")) +
                          " past the first " + std::to_string(q.queue.nr) + " are not in the image");
    if (plan.process) {
        const ckpt_process& p = plan.process->process;
        const uid_t me = ::geteuid();
        if (me != 0 && (p.uid[0] != me || p.uid[1] != me))
            out.push_back("the process ran as uid " + std::to_string(p.uid[1]) + "; it is restored as uid " +
                          std::to_string(me) + " (only root restores credentials)");
        if (p.sig_pending & kUnqueueable)
            out.push_back("SIGKILL or SIGSTOP pending for the process is not restored: mask " + hex(p.sig_pending));
        if (plan.process->exe.empty())
            out.push_back(std::string("the image records no executable path") +
                          (p.flags & CKPT_PROCESS_EXE_TOO_LONG ? " (longer than 4095 bytes)" : "") +
                          ": /proc/PID/exe names ckpt");
    }
    for (const ThreadRecord& t : plan.threads)
        if (t.thread.sig_pending & kUnqueueable)
            out.push_back("SIGKILL or SIGSTOP pending for thread " + std::to_string(t.thread.tid) +
                          " is not restored: mask " + hex(t.thread.sig_pending));
    return out;
}

}  // namespace ckpt

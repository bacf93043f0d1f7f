#include "restore_plan.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "format_util.h"
#include "restore_input.h"

namespace ckpt {
namespace {

class PlanVisitor final : public ImageVisitor {
public:
    explicit PlanVisitor(RestorePlan& plan) : plan_(plan) {}
    void on_head(const ckpt_head& h) override { plan_.head = h; }
    void on_task(const ckpt_task& t) override { plan_.task = t; }
    void on_process(const ProcessRecord& p) override { plan_.process = p; }
    void on_thread(const ThreadRecord& t) override { plan_.threads.push_back(t); }
    void on_file(const FileRecord& f) override { plan_.files.push_back(f); }

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

void restart_registers(const ckpt_thread& thread, __u64 regs[CKPT_THREAD_NR_REGS]) {
    enum { kRax = 10, kOrigRax = 15, kRip = 16 };
    constexpr long kERestartSys = -512, kERestartNoIntr = -513, kERestartNoHand = -514, kERestartBlock = -516;
    std::memcpy(regs, thread.regs, sizeof thread.regs);
    if (!(thread.flags & CKPT_THREAD_IN_SYSCALL)) return;
    const long ax = long(regs[kRax]);
    if (ax == kERestartSys || ax == kERestartNoIntr || ax == kERestartNoHand) {
        regs[kRax] = regs[kOrigRax];
        regs[kRip] -= 2;  // the syscall instruction again
    } else if (ax == kERestartBlock) {
        regs[kRax] = uint64_t(-long(EINTR));
    }
}

bool restorable_file(const FileRecord& file) {
    if (file.file.fd <= 2) return true;  // ckpt restore's own
    if (file.file.fd_flags & CKPT_FILE_PATH_TOO_LONG) return false;
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
    if (!plan.threads.empty() && !(plan.threads[0].thread.flags & CKPT_THREAD_LEADER))
        why.push_back("the process's main thread had exited (pthread_exit): such a process is not restored yet");
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
    std::vector<std::string> out;
    if (plan.process) {
        const ckpt_process& p = plan.process->process;
        const uid_t me = ::geteuid();
        if (p.uid[0] != me || p.uid[1] != me)
            out.push_back("the process ran as uid " + std::to_string(p.uid[1]) + "; it is restored as uid " +
                          std::to_string(me) + " (credentials are not restored yet)");
        if (p.sig_pending) out.push_back("signals pending for the process are not restored: mask " + hex(p.sig_pending));
    }
    for (const ThreadRecord& t : plan.threads)
        if (t.thread.sig_pending)
            out.push_back("signals pending for thread " + std::to_string(t.thread.tid) + " are not restored: mask " +
                          hex(t.thread.sig_pending));
    return out;
}

}  // namespace ckpt

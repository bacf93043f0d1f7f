// `ckpt restore`: bring a dumped process back.
//
// The parent reads and checks the records before MM (restore_plan.h), then
// starts a restorer with the process's pid (clone3 with set_tid) that
// re-executes ckpt as `ckpt restore --restorer`, so that its own mappings
// are placed afresh (restorer.cpp): if they happen to overlap the image's,
// a seekable image is simply tried again with a new restorer.  The parent
// then waits for the restored process and exits with its status.
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "commands.h"
#include "format_util.h"
#include "image_input.h"
#include "restore_plan.h"

namespace ckpt {
namespace {

constexpr int kRestorerOverlap = 75;  // the restorer's memory was in the way
constexpr int kRestorerFailed = 70;   // it said why on stderr
constexpr int kMaxAttempts = 8;

int fail(const std::string& message, int code = kExitProblem) {
    print_error(message);
    return code;
}

// A memfd holding the prelude's bytes, for the restorer to read again.
int prelude_memfd(const std::vector<uint8_t>& bytes) {
    const int fd = int(::syscall(SYS_memfd_create, "ckpt-prelude", MFD_CLOEXEC));
    if (fd < 0) return -1;
    for (size_t done = 0; done < bytes.size();) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            ::close(fd);
            return -1;
        }
        done += size_t(n);
    }
    return fd;
}

// The restorer: a new process (with `pid` unless 0) running
// `ckpt restore --restorer IMAGE_FD PRELUDE_FD STATUS_FD [--skip-fds] [--any-pid]`.
pid_t start_restorer(pid_t pid, int image_fd, int prelude_fd, int status_fd, bool skip_fds, bool any_pid) {
    clone_args args{};
    args.exit_signal = SIGCHLD;
    pid_t tid = pid;
    if (pid) {
        args.set_tid = reinterpret_cast<uint64_t>(&tid);
        args.set_tid_size = 1;
    }
    const std::string fds[] = {std::to_string(image_fd), std::to_string(prelude_fd), std::to_string(status_fd)};
    std::vector<const char*> argv = {"ckpt", "restore", "--restorer", fds[0].c_str(), fds[1].c_str(),
                                     fds[2].c_str()};
    if (skip_fds) argv.push_back("--skip-fds");
    if (any_pid) argv.push_back("--any-pid");
    argv.push_back(nullptr);
    const long child = ::syscall(SYS_clone3, &args, sizeof args);
    if (child != 0) return pid_t(child);  // the parent, or -1
    // The child: only async-signal-safe calls until exec.
    for (int fd : {image_fd, prelude_fd, status_fd}) ::fcntl(fd, F_SETFD, 0);
    ::execv("/proc/self/exe", const_cast<char* const*>(argv.data()));
    ::_exit(kRestorerFailed);
}

std::string describe_status(pid_t pid, int status) {
    if (WIFSIGNALED(status))
        return "restored process " + std::to_string(pid) + " was killed by signal " +
               std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
    return "restored process " + std::to_string(pid) + " exited with status " + std::to_string(WEXITSTATUS(status));
}

}  // namespace

int run_restorer(const RestoreOptions& options);

int run_restore(const RestoreOptions& options) {
    if (options.restorer) return run_restorer(options);
    auto input = ImageInput::open(options.input);
    if (!input) return fail(input.error().message, exit_code_for(input.error()));
    FdSource source(input->fd(), input->name());
    auto plan = read_restore_plan(source);
    if (!plan) return fail(input->name() + ": " + plan.error().message, exit_code_for(plan.error()));
    const std::vector<std::string> refusals = restore_refusals(*plan, options.skip_fds);
    if (!refusals.empty()) {
        for (const std::string& why : refusals) print_error("cannot restore " + input->name() + ": " + why);
        return kExitProblem;
    }
    if (!options.quiet)
        for (const std::string& w : restore_warnings(*plan)) std::fprintf(stderr, "ckpt: warning: %s\n", w.c_str());
    // The process's C library holds pointers into the vDSO it started with,
    // whose layout is its kernel's: on another kernel the restorer needs its
    // bytes (format 1.3's VDSO record) to send those calls to this one's.
    utsname un{};
    if (!plan->vdso && ::uname(&un) == 0 &&
        std::strncmp(un.release, plan->head.release, sizeof plan->head.release) != 0)
        return fail("cannot restore " + input->name() + ": it was dumped on Linux " +
                    std::string(plan->head.release, strnlen(plan->head.release, sizeof plan->head.release)) +
                    ", this is " + un.release +
                    ", and it has no VDSO record (format 1.2 or older) to restore it on another kernel with",
                    kExitProblem);

    const uint64_t after_mm_hdr = plan->prelude.mm_offset + sizeof(ckpt_rec_hdr);
    const bool seekable = ::lseek(input->fd(), 0, SEEK_CUR) == off_t(after_mm_hdr);
    const int prelude = prelude_memfd(plan->bytes);
    if (prelude < 0) return fail(std::string("memfd: ") + std::strerror(errno), kExitSystem);
    const pid_t want = options.any_pid ? 0 : plan->task.pid;

    for (int attempt = 1;; attempt++) {
        int status_pipe[2];
        if (::pipe2(status_pipe, O_CLOEXEC) != 0) return fail(std::string("pipe: ") + std::strerror(errno), kExitSystem);
        const pid_t child = start_restorer(want, input->fd(), prelude, status_pipe[1], options.skip_fds, options.any_pid);
        const int clone_errno = errno;
        ::close(status_pipe[1]);
        if (child < 0) {
            ::close(status_pipe[0]);
            if (clone_errno == EEXIST)
                return fail("pid " + std::to_string(want) + " is taken: --any-pid restores the process with another");
            return fail(std::string("cannot start the restorer: ") + std::strerror(clone_errno), kExitSystem);
        }
        // One byte comes when the restorer is about to become the process.
        char ok = 0;
        ssize_t got;
        do got = ::read(status_pipe[0], &ok, 1);
        while (got < 0 && errno == EINTR);
        ::close(status_pipe[0]);
        if (got == 1) {
            if (!options.quiet) std::fprintf(stderr, "ckpt: restored pid %d from %s\n", int(child), input->name().c_str());
            if (options.detach) {
                std::printf("%d\n", int(child));
                return kExitOk;
            }
        }
        int status = 0;
        while (::waitpid(child, &status, 0) < 0) {
            if (errno != EINTR) return fail(std::string("waitpid: ") + std::strerror(errno), kExitSystem);
        }
        if (got == 1) {
            if (WIFSIGNALED(status)) {
                if (!options.quiet) print_error(describe_status(child, status));
                return 128 + WTERMSIG(status);
            }
            return WEXITSTATUS(status);
        }
        // The restorer failed before the process was back.
        if (WIFEXITED(status) && WEXITSTATUS(status) == kRestorerOverlap && seekable && attempt < kMaxAttempts) {
            if (::lseek(input->fd(), off_t(after_mm_hdr), SEEK_SET) < 0)
                return fail(std::string("seek: ") + std::strerror(errno), kExitSystem);
            continue;  // a new restorer, with its mappings elsewhere
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == kRestorerOverlap)
            return fail(seekable ? "the restorer's memory overlapped the image's " + std::to_string(attempt) + " times"
                                 : "the restorer's memory overlapped the image's, and a stream cannot be read again: "
                                   "restore from a file");
        if (WIFSIGNALED(status))
            return fail("the restorer was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
                        strsignal(WTERMSIG(status)) + ")");
        return kExitProblem;  // it printed why
    }
}

}  // namespace ckpt

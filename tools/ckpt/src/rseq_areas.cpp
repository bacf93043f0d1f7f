#include "rseq_areas.h"

#include <sys/ptrace.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "procfs.h"

namespace ckpt {
namespace {

// A stopped or frozen thread reaches its ptrace-stop at once; this only
// bounds a thread stuck in an uninterruptible sleep.
constexpr auto kStopTimeout = std::chrono::seconds(2);
constexpr auto kPollInterval = std::chrono::milliseconds(1);

std::string thread_str(pid_t tid) { return "thread " + std::to_string(tid); }

// One thread held in a ptrace-stop for as long as this object lives.
// Detaching undoes the attach: the kernel (__ptrace_unlink) sends a thread
// of a group-stopped process back into the group stop, and a frozen one
// back into the freezer; a signal caught in a signal-delivery-stop is
// handed back with the detach.
class SeizedThread {
public:
    explicit SeizedThread(pid_t tid) : tid_(tid) {}
    SeizedThread(const SeizedThread&) = delete;
    SeizedThread& operator=(const SeizedThread&) = delete;
    ~SeizedThread() {
        if (attached_) ::ptrace(PTRACE_DETACH, tid_, nullptr, reinterpret_cast<void*>(uintptr_t(pending_signal_)));
    }

    // 0 once the thread sits in a ptrace-stop; otherwise the errno that
    // prevented it: ESRCH if it exited, ETIMEDOUT if it did not stop.
    int seize_and_stop() {
        if (::ptrace(PTRACE_SEIZE, tid_, nullptr, nullptr) != 0) return errno;
        attached_ = true;
        if (::ptrace(PTRACE_INTERRUPT, tid_, nullptr, nullptr) != 0) return errno;
        const auto deadline = std::chrono::steady_clock::now() + kStopTimeout;
        for (;;) {
            int status = 0;
            const pid_t got = ::waitpid(tid_, &status, __WALL | WNOHANG);
            if (got == tid_) {
                if (!WIFSTOPPED(status)) {
                    attached_ = false;  // it exited: nothing left to detach from
                    return ESRCH;
                }
                // A group-stop or PTRACE_INTERRUPT stop is PTRACE_EVENT_STOP;
                // anything else is a signal about to be delivered.
                if ((status >> 16) != PTRACE_EVENT_STOP) pending_signal_ = WSTOPSIG(status);
                return 0;
            }
            if (got < 0 && errno == ECHILD) return ESRCH;
            if (got < 0 && errno != EINTR) return errno;
            // Left attached on timeout: the pending stop is dropped when ckpt
            // exits and the kernel detaches it.
            if (std::chrono::steady_clock::now() >= deadline) return ETIMEDOUT;
            std::this_thread::sleep_for(kPollInterval);
        }
    }

private:
    pid_t tid_;
    bool attached_ = false;
    int pending_signal_ = 0;
};

// "TracerPid:" of a thread, 0 if not traced or unknown.
pid_t tracer_of(pid_t tid) {
    auto status = read_text_file("/proc/" + std::to_string(tid) + "/status");
    if (!status) return 0;
    const size_t at = status->find("\nTracerPid:");
    if (at == std::string::npos) return 0;
    return pid_t(std::atoi(status->c_str() + at + 11));
}

bool thread_is_gone(pid_t tid) {
    auto stat = read_text_file("/proc/" + std::to_string(tid) + "/stat");
    if (!stat) return true;
    const size_t close = stat->rfind(')');
    if (close == std::string::npos || close + 2 >= stat->size()) return true;
    const char state = (*stat)[close + 2];
    return state == 'Z' || state == 'X';
}

enum class Answer { Registered, NotRegistered, Gone, Unknown };

struct ThreadRseq {
    Answer answer = Answer::Unknown;
    RseqArea area;
    std::string why_unknown;
};

ThreadRseq unknown(std::string why) { return {Answer::Unknown, {}, std::move(why)}; }

ThreadRseq why_not_seized(pid_t tid, int err) {
    if (err == ESRCH || thread_is_gone(tid)) return {Answer::Gone, {}, {}};
    if (err == ETIMEDOUT)
        return unknown(thread_str(tid) + " did not stop for ptrace within " +
                       std::to_string(kStopTimeout.count()) + " s");
    if (const pid_t tracer = tracer_of(tid); tracer != 0)
        return unknown(thread_str(tid) + " is traced by pid " + std::to_string(tracer));
    return unknown("cannot ptrace " + thread_str(tid) + ": " + std::strerror(err) +
                   (err == EPERM ? " (needs CAP_SYS_PTRACE, or Yama or seccomp forbids it)" : ""));
}

ThreadRseq ask_thread(pid_t tid) {
    SeizedThread thread(tid);
    if (int err = thread.seize_and_stop(); err != 0) return why_not_seized(tid, err);
    __ptrace_rseq_configuration config{};
    if (::ptrace(PTRACE_GET_RSEQ_CONFIGURATION, tid, reinterpret_cast<void*>(sizeof config), &config) < 0) {
        const int err = errno;
        if (err == ESRCH) return {Answer::Gone, {}, {}};
        if (err == EIO || err == EINVAL)
            return unknown("this kernel has no PTRACE_GET_RSEQ_CONFIGURATION (Linux 5.13+)");
        return unknown("PTRACE_GET_RSEQ_CONFIGURATION of " + thread_str(tid) + ": " + std::strerror(err));
    }
    if (config.rseq_abi_pointer == 0 || config.rseq_abi_size == 0) return {Answer::NotRegistered, {}, {}};
    return {Answer::Registered, {tid, config.rseq_abi_pointer, config.rseq_abi_size}, {}};
}

}  // namespace

RseqAreas find_rseq_areas(pid_t pid) {
    RseqAreas found;
    auto threads = read_thread_states(pid);
    if (!threads) {
        found.unknown_reason = threads.error().message;
        return found;
    }
    for (const ThreadState& t : *threads) {
        if (t.state == 'Z' || t.state == 'X') continue;  // exited: runs no more
        ThreadRseq r = ask_thread(t.tid);
        if (r.answer == Answer::Registered) found.areas.push_back(r.area);
        if (r.answer == Answer::Unknown) {
            found.areas.clear();
            found.unknown_reason = std::move(r.why_unknown);
            return found;
        }
    }
    return found;
}

}  // namespace ckpt

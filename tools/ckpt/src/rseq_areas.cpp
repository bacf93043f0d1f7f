#include "rseq_areas.h"

#include <sys/ptrace.h>

#include <cerrno>
#include <cstring>

namespace ckpt {
namespace {

std::string thread_str(pid_t tid) { return "thread " + std::to_string(tid); }

enum class Answer { Registered, NotRegistered, Gone, Unknown };

struct ThreadRseq {
    Answer answer = Answer::Unknown;
    RseqArea area;
    std::string why_unknown;
};

ThreadRseq unknown(std::string why) { return {Answer::Unknown, {}, std::move(why)}; }

// tid must be in a ptrace-stop, traced by the calling thread.
ThreadRseq ask_thread(pid_t tid) {
    __ptrace_rseq_configuration config{};
    if (::ptrace(PTRACE_GET_RSEQ_CONFIGURATION, tid, reinterpret_cast<void*>(sizeof config), &config) < 0) {
        const int err = errno;
        if (err == ESRCH) return {Answer::Gone, {}, {}};  // SIGKILL took it out of its stop
        if (err == EIO || err == EINVAL)
            return unknown("this kernel has no PTRACE_GET_RSEQ_CONFIGURATION (Linux 5.13+)");
        return unknown("PTRACE_GET_RSEQ_CONFIGURATION of " + thread_str(tid) + ": " + std::strerror(err));
    }
    if (config.rseq_abi_pointer == 0 || config.rseq_abi_size == 0) return {Answer::NotRegistered, {}, {}};
    return {Answer::Registered, {tid, config.rseq_abi_pointer, config.rseq_abi_size}, {}};
}

}  // namespace

RseqAreas find_rseq_areas(const TargetStop& stop) {
    RseqAreas found;
    if (stop.mode() == StopMode::Live) {
        found.unknown_reason = "the process is not held stopped";
        return found;
    }
    for (const SeizedThread& t : stop.threads()) {
        if (!t.attached() || !t.stopped()) continue;  // exited
        ThreadRseq r = ask_thread(t.tid());
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

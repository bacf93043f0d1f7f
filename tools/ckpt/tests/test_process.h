// Starts tests/test_target.cpp as a child and cleans it up; watches the
// state of its threads.
//
// Nothing here depends on timing: every wait is for a condition, with a
// limit (kWaitLimit) that only a broken test or a hung target reaches.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "procfs.h"

namespace ckpt::test {

// Loaded CI machines are slow, not this slow.
constexpr auto kWaitLimit = std::chrono::seconds(60);

// Polls condition until it holds or kWaitLimit passes; returns its last
// value.
inline bool eventually(const std::function<bool()>& condition) {
    const auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
    for (;;) {
        if (condition()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return condition();
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

inline pid_t gettid_now() { return pid_t(::syscall(SYS_gettid)); }

class TargetProcess {
public:
    // Forks and execs the target, waiting for its "ready" line and for its
    // threads to sleep.  A non-null glibc_tunables is put in its
    // environment as GLIBC_TUNABLES; option and option_value are its
    // command line (see test_target.cpp).
    explicit TargetProcess(const char* glibc_tunables = nullptr, const char* option = nullptr,
                           const char* option_value = nullptr)
        : exit_main_(option && std::string(option) == "--exit-main"),
          vfork_(option && std::string(option) == "--vfork") {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0) std::abort();
        pid_ = fork();
        if (pid_ == 0) {
            // Die with the test, and never hold the test runner's output
            // pipes open after it is gone.
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            dup2(fds[1], STDOUT_FILENO);
            int null_fd = open("/dev/null", O_WRONLY);
            if (null_fd >= 0) dup2(null_fd, STDERR_FILENO);
            close(fds[0]);
            close(fds[1]);
            if (glibc_tunables) setenv("GLIBC_TUNABLES", glibc_tunables, 1);
            execl(CKPT_TEST_TARGET_PATH, CKPT_TEST_TARGET_PATH, option, option_value, static_cast<char*>(nullptr));
            _exit(127);
        }
        close(fds[1]);
        out_fd_ = fds[0];
        line_ = read_line();
        // A tracer (--trace) is ready when it says so.
        idle_ = option && std::string(option).rfind("--trace", 0) == 0 ? line_ == "tracing" : wait_idle();
    }
    ~TargetProcess() {
        auto threads = read_thread_states(pid_);
        kill(pid_, SIGKILL);
        // A thread this process still traces (one that never reached its
        // ptrace-stop) waits for its tracer to reap it, and the leader for
        // it: reap those first.  For the others this fails at once.
        if (threads)
            for (const auto& t : *threads)
                if (t.tid != pid_) waitpid(t.tid, nullptr, __WALL);
        waitpid(pid_, nullptr, __WALL);
        if (out_fd_ >= 0) close(out_fd_);
    }
    TargetProcess(const TargetProcess&) = delete;
    TargetProcess& operator=(const TargetProcess&) = delete;

    pid_t pid() const { return pid_; }
    bool ready() const { return (line_.rfind("ready ", 0) == 0 || line_ == "tracing") && idle_; }
    uint64_t anon_addr() const { return std::strtoull(line_.c_str() + 6, nullptr, 16); }
    // glibc's __rseq_size in the target (0: no rseq), and where its main
    // thread's and its second thread's rseq areas are.
    unsigned rseq_size() const { return unsigned(rseq_fields()[0]); }
    std::vector<uint64_t> rseq_areas() const {
        auto f = rseq_fields();
        return {f[1], f[2]};
    }

    // Waits until every thread sleeps (in pause()), so that the target's
    // memory no longer changes: dumps and compares then see the same bytes.
    // With --exit-main the main thread is a zombie instead, with --vfork
    // the second thread waits for its child in state D.  After "ready" a
    // thread sleeps nowhere else.
    bool wait_idle() const {
        return eventually([this] {
            auto states = read_thread_states(pid_);
            if (!states || states->size() < 2) return false;
            for (const auto& t : *states) {
                char expected = 'S';
                if (exit_main_ && t.tid == pid_) expected = 'Z';
                if (vfork_ && t.tid != pid_ && !t.io_worker) expected = 'D';
                if (t.state != expected) return false;
            }
            return true;
        });
    }

    // The next line the target prints, without the newline; "" if none
    // comes within kWaitLimit or the target is gone.
    std::string read_line() {
        const auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
        for (;;) {
            if (size_t nl = buffer_.find('\n'); nl != std::string::npos) {
                std::string line = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 1);
                return line;
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return "";
            pollfd p{out_fd_, POLLIN, 0};
            if (::poll(&p, 1, int(left.count())) <= 0) continue;
            char buf[256];
            const ssize_t n = ::read(out_fd_, buf, sizeof buf);
            if (n <= 0) return "";
            buffer_.append(buf, size_t(n));
        }
    }

private:
    std::vector<uint64_t> rseq_fields() const {
        unsigned long long size = 0, main_area = 0, thread_area = 0;
        size_t at = line_.find(" rseq ");
        if (at != std::string::npos)
            std::sscanf(line_.c_str() + at, " rseq %llu %llx %llx", &size, &main_area, &thread_area);
        return {size, main_area, thread_area};
    }

    pid_t pid_ = -1;
    bool exit_main_ = false;
    bool vfork_ = false;
    int out_fd_ = -1;
    std::string buffer_;
    std::string line_;
    bool idle_ = false;
};

// State letters of pid's threads, one per thread ("SS", "TT").
inline std::string thread_states(pid_t pid) {
    std::string s;
    auto states = read_thread_states(pid);
    if (states)
        for (const auto& t : *states) s += t.state;
    return s;
}

// "TracerPid:" of every thread of pid, in /proc order, space separated.
inline std::string tracers(pid_t pid) {
    std::string s;
    auto states = read_thread_states(pid);
    if (!states) return s;
    for (const auto& t : *states) {
        auto status = read_text_file("/proc/" + std::to_string(pid) + "/task/" + std::to_string(t.tid) + "/status");
        if (!status) continue;
        const size_t at = status->find("\nTracerPid:\t");
        if (at == std::string::npos) continue;
        if (!s.empty()) s += ' ';
        s += std::to_string(std::atoi(status->c_str() + at + 12));
    }
    return s;
}

// What the module wants for a dump: every live thread of pid traced by
// tracer, each in a ptrace-stop ('t') if stopped, else not stopped at all.
enum class Held { Stopped, Running };
inline bool held_by(pid_t pid, pid_t tracer, Held how) {
    auto states = read_thread_states(pid);
    if (!states) return false;
    size_t live = 0;
    for (const auto& t : *states) {
        if (t.state == 'Z' || t.state == 'X' || t.io_worker) continue;
        live++;
        if (how == Held::Stopped ? t.state != 't' : (t.state == 't' || t.state == 'T')) return false;
        auto status = read_text_file("/proc/" + std::to_string(pid) + "/task/" + std::to_string(t.tid) + "/status");
        if (!status) return false;
        if (status->find("\nTracerPid:\t" + std::to_string(tracer) + "\n") == std::string::npos) return false;
    }
    return live > 0;
}

inline bool untraced(pid_t pid) {
    const std::string t = tracers(pid);
    return !t.empty() && t.find_first_not_of("0 ") == std::string::npos;
}

inline bool all_stopped(pid_t pid) {
    std::string s = thread_states(pid);
    return !s.empty() && s.find_first_not_of("Tt") == std::string::npos;
}

// Every thread back in the job-control stop it was in before ckpt, and no
// longer traced.
inline bool eventually_job_stopped(pid_t pid) {
    return eventually([pid] {
        const std::string s = thread_states(pid);
        return !s.empty() && s.find_first_not_of('T') == std::string::npos && untraced(pid);
    });
}

// Running (no thread stopped; an exited leader may be a zombie) and no
// longer traced.
inline bool eventually_running(pid_t pid) {
    return eventually([pid] {
        const std::string s = thread_states(pid);
        return !s.empty() && s.find_first_of("Tt") == std::string::npos && untraced(pid);
    });
}

inline bool eventually_stopped(pid_t pid) {
    return eventually([pid] { return all_stopped(pid); });
}

}  // namespace ckpt::test

// Starts tests/test_target.cpp as a child and cleans it up; watches the
// state of its threads.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "procfs.h"

namespace ckpt::test {

class TargetProcess {
public:
    // Forks and execs the target, waiting for its "ready" line.  A non-null
    // glibc_tunables is put in its environment as GLIBC_TUNABLES.
    explicit TargetProcess(const char* glibc_tunables = nullptr) {
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
            execl(CKPT_TEST_TARGET_PATH, CKPT_TEST_TARGET_PATH, static_cast<char*>(nullptr));
            _exit(127);
        }
        close(fds[1]);
        out_ = fdopen(fds[0], "r");
        line_ = read_line();
        wait_idle();
    }
    ~TargetProcess() {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        if (out_) fclose(out_);
    }
    TargetProcess(const TargetProcess&) = delete;
    TargetProcess& operator=(const TargetProcess&) = delete;

    pid_t pid() const { return pid_; }
    bool ready() const { return line_.rfind("ready ", 0) == 0; }
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
    void wait_idle() const {
        for (int i = 0; i < 500; i++) {
            auto states = read_thread_states(pid_);
            bool idle = states && states->size() >= 2;
            if (states)
                for (const auto& t : *states) idle = idle && t.state == 'S';
            if (idle) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }

    std::string read_line() {
        char buf[256];
        if (!out_ || !fgets(buf, sizeof buf, out_)) return "";
        return buf;
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
    FILE* out_ = nullptr;
    std::string line_;
};

// State letters of pid's threads, one per thread ("SS", "TT").
inline std::string thread_states(pid_t pid) {
    std::string s;
    auto states = read_thread_states(pid);
    if (states)
        for (const auto& t : *states) s += t.state;
    return s;
}

inline bool all_stopped(pid_t pid) {
    std::string s = thread_states(pid);
    return !s.empty() && s.find_first_not_of("Tt") == std::string::npos;
}

// Threads take a moment to leave the stopped state after SIGCONT.
inline bool eventually_running(pid_t pid) {
    for (int i = 0; i < 200; i++) {
        std::string s = thread_states(pid);
        if (!s.empty() && s.find_first_of("Tt") == std::string::npos) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
}

inline bool eventually_stopped(pid_t pid) {
    for (int i = 0; i < 200 && !all_stopped(pid); i++) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return all_stopped(pid);
}

}  // namespace ckpt::test

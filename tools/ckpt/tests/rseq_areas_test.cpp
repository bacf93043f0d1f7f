#include "rseq_areas.h"

#include <gtest/gtest.h>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <string>
#include <thread>

#include "frozen_cgroup.h"
#include "procfs.h"
#include "target_stop.h"
#include "test_process.h"

namespace ckpt {
namespace {

using test::eventually_job_stopped;
using test::eventually_running;
using test::eventually_stopped;
using test::gettid_now;
using test::Held;
using test::held_by;
using test::TargetProcess;
using test::thread_states;
using test::tracers;

// The areas found are where glibc says it put them (from inside the target),
// and as large as glibc says.
void expect_target_areas(const TargetProcess& target, const RseqAreas& found) {
    ASSERT_TRUE(found.known()) << found.unknown_reason;
    std::vector<uint64_t> starts;
    for (const RseqArea& a : found.areas) {
        starts.push_back(a.start);
        EXPECT_GE(a.size, target.rseq_size());
        EXPECT_GE(a.size, 20u);  // struct rseq up to node_id
    }
    std::vector<uint64_t> expected = target.rseq_areas();
    std::sort(starts.begin(), starts.end());
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(starts, expected);
}

// Every thread still held by this thread in its ptrace-stop: the lookup
// used the hold and attached to nothing itself.
void expect_still_held(pid_t pid) {
    EXPECT_TRUE(held_by(pid, gettid_now(), Held::Stopped)) << thread_states(pid) << ", tracers " << tracers(pid);
}

TEST(RseqAreas, FindsEveryThreadsAreaOnTheThreadsTheStopHolds) {
    TargetProcess target;
    ASSERT_TRUE(target.ready());
    if (target.rseq_size() == 0) GTEST_SKIP() << "glibc registered no rseq area in the target";
    {
        auto stop = TargetStop::acquire(target.pid(), {});
        ASSERT_TRUE(stop) << stop.error().message;
        ASSERT_EQ(stop->mode(), StopMode::StoppedByUs);
        expect_target_areas(target, find_rseq_areas(*stop));
        expect_still_held(target.pid());
    }
    EXPECT_TRUE(eventually_running(target.pid())) << thread_states(target.pid());
}

TEST(RseqAreas, LeavesAStoppedTargetStopped) {
    TargetProcess target;
    ASSERT_TRUE(target.ready());
    kill(target.pid(), SIGSTOP);
    ASSERT_TRUE(eventually_stopped(target.pid()));
    {
        auto stop = TargetStop::acquire(target.pid(), {});
        ASSERT_TRUE(stop) << stop.error().message;
        ASSERT_EQ(stop->mode(), StopMode::AlreadyStopped);
        RseqAreas found = find_rseq_areas(*stop);
        EXPECT_TRUE(found.known()) << found.unknown_reason;
        expect_still_held(target.pid());
    }
    EXPECT_TRUE(eventually_job_stopped(target.pid())) << thread_states(target.pid());
    // Stopped by its group stop alone: SIGCONT is all it takes.
    kill(target.pid(), SIGCONT);
    EXPECT_TRUE(eventually_running(target.pid())) << thread_states(target.pid());
}

TEST(RseqAreas, LeavesAFrozenTargetFrozen) {
    TargetProcess target;
    ASSERT_TRUE(target.ready());
    if (target.rseq_size() == 0) GTEST_SKIP() << "glibc registered no rseq area in the target";
    test::FrozenCgroup frozen(target.pid());
    if (!frozen.ok()) GTEST_SKIP() << frozen.why_not();
    {
        auto stop = TargetStop::acquire(target.pid(), {});
        ASSERT_TRUE(stop) << stop.error().message;
        ASSERT_EQ(stop->mode(), StopMode::Frozen);
        expect_target_areas(target, find_rseq_areas(*stop));
    }
    EXPECT_TRUE(frozen.freeze_requested());
    EXPECT_TRUE(test::eventually([&] {
        return frozen.frozen() && test::untraced(target.pid()) &&
               thread_states(target.pid()).find_first_of("Tt") == std::string::npos;
    })) << thread_states(target.pid());
}

TEST(RseqAreas, NoAreaWhenGlibcRegisteredNone) {
    TargetProcess target("glibc.pthread.rseq=0");
    ASSERT_TRUE(target.ready());
    ASSERT_EQ(target.rseq_size(), 0u);
    auto stop = TargetStop::acquire(target.pid(), {});
    ASSERT_TRUE(stop) << stop.error().message;
    RseqAreas found = find_rseq_areas(*stop);
    EXPECT_TRUE(found.known()) << found.unknown_reason;
    EXPECT_TRUE(found.areas.empty());
}

// Running threads cannot be asked: nothing is excluded, and the reason says
// why.
TEST(RseqAreas, UnknownWhenTheTargetIsNotHeldStopped) {
    TargetProcess target;
    ASSERT_TRUE(target.ready());
    for (Hold hold : {Hold::Trace, Hold::Nothing}) {
        auto stop = TargetStop::acquire(target.pid(), {hold, std::chrono::milliseconds(10000)});
        ASSERT_TRUE(stop) << stop.error().message;
        RseqAreas found = find_rseq_areas(*stop);
        EXPECT_FALSE(found.known());
        EXPECT_TRUE(found.areas.empty());
        EXPECT_EQ(found.unknown_reason, "the process is not held stopped");
    }
}

// Holds pid and runs find_rseq_areas() in a child process in which
// ptrace(PTRACE_GET_RSEQ_CONFIGURATION) fails with EIO, as on kernels
// before 5.13.  Returns "REASON|AREAS|TRACED": the unknown reason, the
// number of areas, and how many of pid's threads the child still traced
// after letting go (the detach must have happened).
std::string find_without_the_request(pid_t pid) {
    int fds[2];
    if (pipe(fds) != 0) return "pipe failed";
    const pid_t child = fork();
    if (child == 0) {
        struct sock_filter filter[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ptrace, 0, 3),
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PTRACE_GET_RSEQ_CONFIGURATION, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EIO),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog program = {sizeof filter / sizeof filter[0], filter};
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0)
            _exit(1);
        RseqAreas found;
        {
            auto stop = TargetStop::acquire(pid, {});
            if (!stop) _exit(1);
            found = find_rseq_areas(*stop);
        }
        int traced = 0;
        if (auto threads = read_thread_states(pid))
            for (const auto& t : *threads) {
                auto status = read_text_file("/proc/" + std::to_string(t.tid) + "/status");
                traced += status && status->find("\nTracerPid:\t" + std::to_string(getpid()) + "\n") != std::string::npos;
            }
        const std::string out =
            found.unknown_reason + "|" + std::to_string(found.areas.size()) + "|" + std::to_string(traced);
        _exit(write(fds[1], out.data(), out.size()) == ssize_t(out.size()) ? 0 : 1);
    }
    close(fds[1]);
    char buf[512];
    const ssize_t n = read(fds[0], buf, sizeof buf);
    close(fds[0]);
    waitpid(child, nullptr, 0);
    return n > 0 ? std::string(buf, size_t(n)) : "the child failed";
}

TEST(RseqAreas, KernelWithoutTheRequestFallsBack) {
    TargetProcess target;
    ASSERT_TRUE(target.ready());
    EXPECT_EQ(find_without_the_request(target.pid()),
              "this kernel has no PTRACE_GET_RSEQ_CONFIGURATION (Linux 5.13+)|0|0");
    EXPECT_TRUE(eventually_running(target.pid())) << thread_states(target.pid());
}

}  // namespace
}  // namespace ckpt

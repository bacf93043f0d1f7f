#include "target_stop.h"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "frozen_cgroup.h"
#include "procfs.h"
#include "test_process.h"

namespace ckpt {
namespace {

using test::eventually;
using test::eventually_job_stopped;
using test::eventually_running;
using test::eventually_stopped;
using test::gettid_now;
using test::Held;
using test::held_by;
using test::TargetProcess;
using test::tracers;

std::string states(pid_t pid) { return test::thread_states(pid); }

std::string describe(pid_t pid) { return "states " + states(pid) + ", tracers " + tracers(pid); }

pid_t second_thread(pid_t pid) {
    auto threads = read_thread_states(pid);
    if (threads)
        for (const auto& t : *threads)
            if (t.tid != pid && !t.io_worker) return t.tid;
    return 0;
}

// The module's rule: every thread traced by the very thread that will call
// the ioctl, and in a ptrace-stop ('t'); SIGSTOP ('T') is not enough.
TEST(TargetStop, HoldsEveryThreadInAPtraceStopAndLetsGo) {
    TargetProcess target;
    ASSERT_TRUE(target.ready());
    ASSERT_GE(states(target.pid()).size(), 2u);
    {
        auto stop = TargetStop::acquire(target.pid(), {});
        ASSERT_TRUE(stop) << stop.error().message;
        EXPECT_EQ(stop->mode(), StopMode::StoppedByUs);
        EXPECT_EQ(stop->tracer(), gettid_now());
        EXPECT_EQ(stop->threads().size(), 2u);
        EXPECT_TRUE(held_by(target.pid(), gettid_now(), Held::Stopped)) << describe(target.pid());
        EXPECT_GT(stop->downtime().count(), 0);
    }
    EXPECT_TRUE(eventually_running(target.pid())) << describe(target.pid());
}

TEST(TargetStop, DowntimeEndsAtTheDetach) {
    TargetProcess target;
    ASSERT_TRUE(target.ready());
    auto stop = TargetStop::acquire(target.pid(), {});
    ASSERT_TRUE(stop) << stop.error().message;
    ASSERT_TRUE(stop->resume());
    const auto downtime = stop->downtime();
    EXPECT_GT(downtime.count(), 0);
    EXPECT_TRUE(eventually_running(target.pid())) << describe(target.pid());
    EXPECT_EQ(stop->downtime(), downtime);
    EXPECT_TRUE(stop->resume());  // once is enough; twice does no harm
}

// Seizing a job-stopped process keeps it stopped (the kernel re-traps it
// into its group stop), and the detach sends it back there.
TEST(TargetStop, LeavesAJobStoppedTargetStopped) {
    TargetProcess target;
    ASSERT_TRUE(target.ready());
    kill(target.pid(), SIGSTOP);
    ASSERT_TRUE(eventually_stopped(target.pid()));
    {
        auto stop = TargetStop::acquire(target.pid(), {});
        ASSERT_TRUE(stop) << stop.error().message;
        EXPECT_EQ(stop->mode(), StopMode::AlreadyStopped);
        EXPECT_EQ(stop->downtime().count(), 0);
        EXPECT_TRUE(held_by(target.pid(), gettid_now(), Held::Stopped)) << describe(target.pid());
    }
    EXPECT_TRUE(eventually_job_stopped(target.pid())) << describe(target.pid());
    // Stopped by its group stop alone: SIGCONT is all it takes.
    kill(target.pid(), SIGCONT);
    EXPECT_TRUE(eventually_running(target.pid())) << describe(target.pid());
}

// --leave-stopped: a job-control stop that SIGCONT ends, not a ptrace-stop.
TEST(TargetStop, KeepStoppedLeavesAJobControlStop) {
    TargetProcess target;
    ASSERT_TRUE(target.ready());
    {
        auto stop = TargetStop::acquire(target.pid(), {});
        ASSERT_TRUE(stop) << stop.error().message;
        EXPECT_TRUE(stop->keep_stopped());
    }
    EXPECT_TRUE(eventually_job_stopped(target.pid())) << describe(target.pid());
    kill(target.pid(), SIGCONT);
    EXPECT_TRUE(eventually_running(target.pid())) << describe(target.pid());
}

// A signal sent while ckpt holds the target waits, and is delivered when
// the target runs again.
TEST(TargetStop, ASignalSentDuringTheHoldIsDeliveredAfter) {
    TargetProcess target;
    ASSERT_TRUE(target.ready());
    {
        auto stop = TargetStop::acquire(target.pid(), {});
        ASSERT_TRUE(stop) << stop.error().message;
        kill(target.pid(), SIGUSR2);
    }
    EXPECT_EQ(target.read_line(), "usr2");
    EXPECT_TRUE(eventually_running(target.pid())) << describe(target.pid());
}

// A thread that stopped to receive a signal (a signal-delivery-stop, not
// the interrupt) gets that signal back with the detach.
TEST(SeizedThread, HandsBackTheSignalOfASignalDeliveryStop) {
    TargetProcess target;
    ASSERT_TRUE(target.ready());
    const pid_t tid = second_thread(target.pid());
    ASSERT_NE(tid, 0);
    {
        SeizedThread thread(tid);
        ASSERT_EQ(thread.seize(), 0);
        ASSERT_EQ(syscall(SYS_tgkill, target.pid(), tid, SIGUSR2), 0);
        ASSERT_TRUE(eventually([&] { return thread.poll_stop() != EAGAIN; }));
        ASSERT_TRUE(thread.stopped());
        EXPECT_EQ(thread.pending_signal(), SIGUSR2);
    }
    EXPECT_EQ(target.read_line(), "usr2");
    EXPECT_TRUE(eventually_running(target.pid())) << describe(target.pid());
}

TEST(SeizedThread, AnInterruptStopHasNoSignal) {
    TargetProcess target;
    ASSERT_TRUE(target.ready());
    SeizedThread thread(target.pid());
    ASSERT_EQ(thread.seize(), 0);
    ASSERT_EQ(thread.interrupt(), 0);
    ASSERT_TRUE(eventually([&] { return thread.poll_stop() != EAGAIN; }));
    EXPECT_TRUE(thread.stopped());
    EXPECT_EQ(thread.pending_signal(), 0);
    EXPECT_EQ(thread.detach(), 0);
    EXPECT_FALSE(thread.attached());
    EXPECT_TRUE(eventually_running(target.pid())) << describe(target.pid());
}

// dump --live: every thread traced (the module's rule) but never stopped.
TEST(TargetStop, TraceHoldsWithoutStopping) {
    TargetProcess target;
    ASSERT_TRUE(target.ready());
    {
        auto stop = TargetStop::acquire(target.pid(), {Hold::Trace, std::chrono::milliseconds(10000)});
        ASSERT_TRUE(stop) << stop.error().message;
        EXPECT_EQ(stop->mode(), StopMode::Live);
        EXPECT_EQ(stop->threads().size(), 2u);
        EXPECT_TRUE(held_by(target.pid(), gettid_now(), Held::Running)) << describe(target.pid());
        EXPECT_EQ(stop->downtime().count(), 0);
    }
    EXPECT_TRUE(eventually_running(target.pid())) << describe(target.pid());
}

// A traced running thread that gets a signal stops to deliver it, and stays
// so until the release, which must hand the signal back.
TEST(TargetStop, TraceHoldHandsBackSignalsOnRelease) {
    TargetProcess target;
    ASSERT_TRUE(target.ready());
    {
        auto stop = TargetStop::acquire(target.pid(), {Hold::Trace, std::chrono::milliseconds(10000)});
        ASSERT_TRUE(stop) << stop.error().message;
        kill(target.pid(), SIGUSR2);
        ASSERT_TRUE(eventually([&] { return states(target.pid()).find('t') != std::string::npos; }))
            << describe(target.pid());
    }
    EXPECT_EQ(target.read_line(), "usr2");
    EXPECT_TRUE(eventually_running(target.pid())) << describe(target.pid());
}

// verify --live: nothing done to the target at all.
TEST(TargetStop, HoldNothingLeavesTheTargetAlone) {
    TargetProcess target;
    ASSERT_TRUE(target.ready());
    auto stop = TargetStop::acquire(target.pid(), {Hold::Nothing, std::chrono::milliseconds(100)});
    ASSERT_TRUE(stop);
    EXPECT_EQ(stop->mode(), StopMode::Live);
    EXPECT_TRUE(stop->threads().empty());
    EXPECT_EQ(states(target.pid()).find_first_of("Tt"), std::string::npos);
    EXPECT_TRUE(test::untraced(target.pid())) << describe(target.pid());
}

TEST(TargetStop, NoSuchProcess) {
    pid_t child = fork();
    if (child == 0) _exit(0);
    waitpid(child, nullptr, 0);
    auto stop = TargetStop::acquire(child, {});
    ASSERT_FALSE(stop);
    EXPECT_EQ(stop.error().message, "pid " + std::to_string(child) + ": no such process");
}

TEST(TargetStop, Zombie) {
    pid_t child = fork();
    if (child == 0) _exit(0);
    ASSERT_TRUE(eventually([&] { return states(child) == "Z"; }));
    auto stop = TargetStop::acquire(child, {});
    ASSERT_FALSE(stop);
    EXPECT_EQ(stop.error().message, "pid " + std::to_string(child) + ": the process is a zombie");
    waitpid(child, nullptr, 0);
}

// main() called pthread_exit(): the leader is a zombie, the other thread
// runs.  The zombie is skipped, the live thread held.
TEST(TargetStop, ZombieLeader) {
    TargetProcess target(nullptr, "--exit-main");
    ASSERT_TRUE(target.ready()) << describe(target.pid());
    {
        auto stop = TargetStop::acquire(target.pid(), {});
        ASSERT_TRUE(stop) << stop.error().message;
        EXPECT_EQ(stop->mode(), StopMode::StoppedByUs);
        ASSERT_EQ(stop->threads().size(), 1u);
        EXPECT_EQ(stop->threads()[0].tid(), second_thread(target.pid()));
        EXPECT_TRUE(held_by(target.pid(), gettid_now(), Held::Stopped)) << describe(target.pid());
    }
    EXPECT_TRUE(eventually([&] { return states(target.pid()) == "ZS" && test::untraced(target.pid()); }))
        << describe(target.pid());
}

// Threads cloned while ckpt attaches are caught by listing again.
TEST(TargetStop, CatchesThreadsCreatedMeanwhile) {
    TargetProcess target(nullptr, "--spawn", "100");
    ASSERT_TRUE(target.ready());
    ASSERT_EQ(states(target.pid()).size(), 3u);
    kill(target.pid(), SIGUSR1);  // start spawning
    {
        auto stop = TargetStop::acquire(target.pid(), {});
        ASSERT_TRUE(stop) << stop.error().message;
        EXPECT_TRUE(held_by(target.pid(), gettid_now(), Held::Stopped)) << describe(target.pid());
        EXPECT_EQ(stop->threads().size(), states(target.pid()).size());
    }
    EXPECT_EQ(target.read_line(), "spawned");
    EXPECT_EQ(states(target.pid()).size(), 103u);
    EXPECT_TRUE(eventually_running(target.pid())) << describe(target.pid());
}

// io_uring workers show up as threads but cannot be traced; the module
// skips them, and so must ckpt.
TEST(TargetStop, SkipsIoWorkers) {
    TargetProcess target(nullptr, "--io-uring");
    ASSERT_TRUE(target.ready());
    auto threads = read_thread_states(target.pid());
    ASSERT_TRUE(threads);
    size_t workers = 0;
    for (const auto& t : *threads) workers += t.io_worker;
    if (workers == 0) GTEST_SKIP() << "no io_uring SQPOLL thread (io_uring disabled?)";
    {
        auto stop = TargetStop::acquire(target.pid(), {});
        ASSERT_TRUE(stop) << stop.error().message;
        EXPECT_EQ(stop->threads().size(), threads->size() - workers);
        EXPECT_TRUE(held_by(target.pid(), gettid_now(), Held::Stopped)) << describe(target.pid());
    }
    EXPECT_TRUE(eventually_running(target.pid())) << describe(target.pid());
}

// A thread that cannot stop (it waits in vfork() for its child, state D):
// the error names it, and ckpt lets go of the others.
TEST(TargetStop, TimesOutNamingTheThreadThatDoesNotStop) {
    TargetProcess target(nullptr, "--vfork");
    ASSERT_TRUE(target.ready()) << describe(target.pid());
    const pid_t blocker = second_thread(target.pid());
    auto stop = TargetStop::acquire(target.pid(), {Hold::Stop, std::chrono::milliseconds(200)});
    ASSERT_FALSE(stop);
    EXPECT_EQ(stop.error().message,
              "timed out after 0.2 s waiting for pid " + std::to_string(target.pid()) + " to stop: thread " +
                  std::to_string(blocker) +
                  " is in state 'D' (uninterruptible sleep: blocked in the kernel, e.g. on I/O or in vfork()): "
                  "released it; try --stop-timeout or --live");
    // The main thread, which did stop, runs again, untraced.
    EXPECT_TRUE(eventually([&] {
        return states(target.pid())[0] == 'S' && tracers(target.pid()).rfind("0 ", 0) == 0;
    })) << describe(target.pid());
}

// Another tracer (a debugger): a clear error, and ckpt changes nothing.
TEST(TargetStop, AlreadyTracedByAnotherProcess) {
    TargetProcess target;
    ASSERT_TRUE(target.ready());
    TargetProcess tracer(nullptr, "--trace", std::to_string(target.pid()).c_str());
    ASSERT_TRUE(tracer.ready());
    const std::string traced = tracers(target.pid());
    auto stop = TargetStop::acquire(target.pid(), {});
    ASSERT_FALSE(stop);
    EXPECT_EQ(stop.error().message, "cannot trace pid " + std::to_string(target.pid()) +
                                        ": Operation not permitted: it is already traced by pid " +
                                        std::to_string(tracer.pid()) +
                                        " (ckpt-test-targe): ckpt must trace every thread itself; detach the other "
                                        "tracer (a debugger, strace) first");
    EXPECT_EQ(tracers(target.pid()), traced);
    EXPECT_EQ(states(target.pid()).find_first_of("Tt"), std::string::npos) << describe(target.pid());
}

// Only the second thread traced by another process: the first, seized
// already, is let go again.
TEST(TargetStop, OneThreadTracedByAnotherProcess) {
    TargetProcess target;
    ASSERT_TRUE(target.ready());
    const pid_t tid = second_thread(target.pid());
    ASSERT_NE(tid, 0);
    TargetProcess tracer(nullptr, "--trace-thread", std::to_string(tid).c_str());
    ASSERT_TRUE(tracer.ready());
    auto stop = TargetStop::acquire(target.pid(), {});
    ASSERT_FALSE(stop);
    EXPECT_NE(stop.error().message.find("cannot trace thread " + std::to_string(tid) + " of pid " +
                                        std::to_string(target.pid()) + ": Operation not permitted: it is already "
                                        "traced by pid " + std::to_string(tracer.pid())),
              std::string::npos)
        << stop.error().message;
    EXPECT_TRUE(eventually([&] {
        return tracers(target.pid()) == "0 " + std::to_string(tracer.pid()) &&
               states(target.pid()).find_first_of("Tt") == std::string::npos;
    })) << describe(target.pid());
}

// Needs a writable cgroup v2 hierarchy with the freezer (root, not nested).
// A frozen target is held in ptrace-stops too (the module wants them), and
// stays frozen: ckpt never thaws it.
TEST(TargetStop, FrozenCgroupStaysFrozen) {
    TargetProcess target;
    ASSERT_TRUE(target.ready());
    test::FrozenCgroup frozen(target.pid());
    if (!frozen.ok()) GTEST_SKIP() << frozen.why_not();
    {
        auto stop = TargetStop::acquire(target.pid(), {});
        ASSERT_TRUE(stop) << stop.error().message;
        EXPECT_EQ(stop->mode(), StopMode::Frozen);
        EXPECT_EQ(stop->downtime().count(), 0);
        EXPECT_TRUE(held_by(target.pid(), gettid_now(), Held::Stopped)) << describe(target.pid());
    }
    EXPECT_TRUE(frozen.freeze_requested());
    EXPECT_TRUE(eventually([&] {
        return frozen.frozen() && test::untraced(target.pid()) &&
               states(target.pid()).find_first_of("Tt") == std::string::npos;
    })) << describe(target.pid());
}

}  // namespace
}  // namespace ckpt

#include "target_stop.h"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

#include "frozen_cgroup.h"
#include "procfs.h"
#include "test_process.h"

namespace ckpt {
namespace {

using test::all_stopped;
using test::eventually_running;
using test::eventually_stopped;
using test::TargetProcess;

std::string states(pid_t pid) { return test::thread_states(pid); }

TEST(TargetStop, StopsEveryThreadAndResumes) {
    TargetProcess target;
    ASSERT_TRUE(target.ready());
    ASSERT_GE(states(target.pid()).size(), 2u);
    {
        auto stop = TargetStop::acquire(target.pid(), {});
        ASSERT_TRUE(stop) << stop.error().message;
        EXPECT_EQ(stop->mode(), StopMode::StoppedByUs);
        EXPECT_TRUE(all_stopped(target.pid())) << states(target.pid());
        EXPECT_GT(stop->downtime().count(), 0);
    }
    EXPECT_TRUE(eventually_running(target.pid())) << states(target.pid());
}

TEST(TargetStop, LeavesAnAlreadyStoppedTargetStopped) {
    TargetProcess target;
    ASSERT_TRUE(target.ready());
    kill(target.pid(), SIGSTOP);
    ASSERT_TRUE(eventually_stopped(target.pid()));
    {
        auto stop = TargetStop::acquire(target.pid(), {});
        ASSERT_TRUE(stop) << stop.error().message;
        EXPECT_EQ(stop->mode(), StopMode::AlreadyStopped);
        EXPECT_EQ(stop->downtime().count(), 0);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_TRUE(all_stopped(target.pid())) << states(target.pid());
}

TEST(TargetStop, KeepStopped) {
    TargetProcess target;
    ASSERT_TRUE(target.ready());
    {
        auto stop = TargetStop::acquire(target.pid(), {});
        ASSERT_TRUE(stop) << stop.error().message;
        stop->keep_stopped();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_TRUE(all_stopped(target.pid()));
    kill(target.pid(), SIGCONT);
}

TEST(TargetStop, LiveDoesNothing) {
    TargetProcess target;
    ASSERT_TRUE(target.ready());
    auto stop = TargetStop::acquire(target.pid(), {true, std::chrono::milliseconds(100)});
    ASSERT_TRUE(stop);
    EXPECT_EQ(stop->mode(), StopMode::Live);
    EXPECT_EQ(states(target.pid()).find_first_of("Tt"), std::string::npos);
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
    for (int i = 0; i < 200 && states(child) != "Z"; i++) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    auto stop = TargetStop::acquire(child, {});
    ASSERT_FALSE(stop);
    EXPECT_EQ(stop.error().message, "pid " + std::to_string(child) + ": the process is a zombie");
    waitpid(child, nullptr, 0);
}

// Needs a writable cgroup v2 hierarchy with the freezer (root, not nested).
TEST(TargetStop, FrozenCgroupIsLeftAlone) {
    TargetProcess target;
    ASSERT_TRUE(target.ready());
    test::FrozenCgroup frozen(target.pid());
    if (!frozen.ok()) GTEST_SKIP() << frozen.why_not();
    {
        auto stop = TargetStop::acquire(target.pid(), {});
        ASSERT_TRUE(stop) << stop.error().message;
        EXPECT_EQ(stop->mode(), StopMode::Frozen);
    }
    EXPECT_EQ(states(target.pid()).find_first_of("Tt"), std::string::npos) << "ckpt must not SIGSTOP a frozen target";
}

}  // namespace
}  // namespace ckpt

#include "target_stop.h"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "procfs.h"
#include "test_process.h"

namespace ckpt {
namespace {

using test::TargetProcess;

std::string states(pid_t pid) {
    std::string s;
    auto t = read_thread_states(pid);
    if (t)
        for (const auto& th : *t) s += th.state;
    return s;
}

bool all_stopped(pid_t pid) {
    std::string s = states(pid);
    return !s.empty() && s.find_first_not_of("Tt") == std::string::npos;
}

// Threads take a moment to leave the stopped state after SIGCONT.
bool eventually_running(pid_t pid) {
    for (int i = 0; i < 200; i++) {
        std::string s = states(pid);
        if (!s.empty() && s.find_first_of("Tt") == std::string::npos) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
}

bool eventually_stopped(pid_t pid) {
    for (int i = 0; i < 200 && !all_stopped(pid); i++) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return all_stopped(pid);
}

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
    std::string root;
    {
        std::ifstream mounts("/proc/self/mountinfo");
        std::string line;
        while (std::getline(mounts, line))
            if (line.find(" - cgroup2 ") != std::string::npos) {
                std::istringstream in(line);
                std::string a, b, c, d;
                in >> a >> b >> c >> d >> root;
                break;
            }
    }
    if (root.empty()) GTEST_SKIP() << "no cgroup v2 mount";
    const std::string dir = root + "/ckpt-test-" + std::to_string(getpid());
    if (mkdir(dir.c_str(), 0755) != 0) GTEST_SKIP() << "cannot create " << dir;
    TargetProcess target;
    ASSERT_TRUE(target.ready());
    bool ok = std::ofstream(dir + "/cgroup.procs") << target.pid() << std::flush ? true : false;
    ok = ok && (std::ofstream(dir + "/cgroup.freeze") << "1" << std::flush);
    if (!ok) {
        kill(target.pid(), SIGKILL);
        rmdir(dir.c_str());
        GTEST_SKIP() << "cannot freeze " << dir;
    }
    {
        auto stop = TargetStop::acquire(target.pid(), {});
        ASSERT_TRUE(stop) << stop.error().message;
        EXPECT_EQ(stop->mode(), StopMode::Frozen);
    }
    EXPECT_EQ(states(target.pid()).find_first_of("Tt"), std::string::npos) << "ckpt must not SIGSTOP a frozen target";
    std::ofstream(dir + "/cgroup.freeze") << "0" << std::flush;
    kill(target.pid(), SIGKILL);
    waitpid(target.pid(), nullptr, 0);
    for (int i = 0; i < 100 && rmdir(dir.c_str()) != 0; i++) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

}  // namespace
}  // namespace ckpt

// The restorer's hand-over of /proc/PID/exe (own_executable.h), against
// this machine's kernel: with ckpt's file still mapped the kernel refuses
// the change; once every mapping of it is an anonymous copy, the program
// runs on with its data and the link names the new file.
#include "own_executable.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace ckpt {
namespace {

TEST(OwnExecutable, FindsTheMappingsOfOneFile) {
    const std::string maps =
        "7ff1bf800000-7ff1bf81b000 r--p 00000000 fe:00 5308931                    /usr/bin/ckpt\n"
        "7ff1bf81b000-7ff1bfa0f000 r-xp 0001b000 fe:00 5308931                    /usr/bin/ckpt\n"
        "7ff1bfa0f000-7ff1bfa20000 ---p 00000000 fe:00 5308931                    /usr/bin/ckpt\n"
        "7ff1bfa95000-7ff1bfa98000 rw-p 00294000 fe:00 5308931                    /usr/bin/ckpt (deleted)\n"
        "7ff1bfa98000-7ff1bfaa3000 rw-p 00000000 00:00 0 \n"
        "7ff1bfb00000-7ff1bfb10000 r--p 00000000 fe:01 5308931                    /other/disk\n"
        "7ff1bfb10000-7ff1bfb20000 r--p 00000000 fe:00 5308932                    /other/inode\n"
        "7ff1bfb68000-7ff1bfb6a000 r-xp 00000000 00:00 0                          [vdso]";
    const auto found = mappings_of_file(maps, makedev(0xfe, 0), 5308931);
    ASSERT_EQ(found.size(), 4u);
    EXPECT_EQ(found[0].start, 0x7ff1bf800000u);
    EXPECT_EQ(found[0].end, 0x7ff1bf81b000u);
    EXPECT_EQ(found[0].prot, PROT_READ);
    EXPECT_EQ(found[1].prot, PROT_READ | PROT_EXEC);
    EXPECT_EQ(found[2].prot, PROT_NONE);
    EXPECT_EQ(found[3].prot, PROT_READ | PROT_WRITE);
    EXPECT_EQ(found[3].start, 0x7ff1bfa95000u);
    // A device with a minor above 255 prints in more hex digits.
    EXPECT_EQ(mappings_of_file("1000-2000 r--p 00000000 103:1a2 7 /x\n", makedev(0x103, 0x1a2), 7).size(), 1u);
}

std::string maps_now() {
    std::ifstream in("/proc/self/maps");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// The exit status of `child` run in a forked process.
template <typename F>
int in_child(F child) {
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(child());
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int g_data = 41;  // in this program's file-backed data

// What may_set_own_executable() says, from /proc instead of capget(2).
bool has_sys_resource() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("CapEff:", 0) == 0) return (std::stoull(line.substr(7), nullptr, 16) >> 24) & 1;
    return false;
}

TEST(OwnExecutable, KnowsItsCapability) { EXPECT_EQ(may_set_own_executable(), has_sys_resource()); }

// Needs nothing but mmap and mremap: runs everywhere.
TEST(OwnExecutable, RunsOnFromAnonymousCopies) {
    struct stat me {};
    ASSERT_EQ(::stat("/proc/self/exe", &me), 0);
    ASSERT_FALSE(mappings_of_file(maps_now(), me.st_dev, me.st_ino).empty());
    EXPECT_EQ(in_child([&] {
                  g_data++;
                  if (!detach_own_executable()) return 1;
                  if (!mappings_of_file(maps_now(), me.st_dev, me.st_ino).empty()) return 2;
                  if (g_data != 42) return 3;  // written before the copy, read after
                  g_data++;
                  return g_data == 43 && maps_now().find("[vdso]") != std::string::npos ? 0 : 4;
              }),
              0);
}

TEST(OwnExecutable, HandsTheLinkOverOnlyOnceDetached) {
    if (!has_sys_resource()) GTEST_SKIP() << "PR_SET_MM_EXE_FILE needs CAP_SYS_RESOURCE";
    char target[PATH_MAX];
    ASSERT_NE(::realpath("/bin/true", target), nullptr);
    // The kernel's rule this exists for: the old file is still mapped.
    EXPECT_EQ(in_child([&] {
                  const Status set = set_own_executable(target);
                  return !set && set.error().message.find("Device or resource busy") != std::string::npos ? 0 : 1;
              }),
              0);
    EXPECT_EQ(in_child([&] {
                  if (!detach_own_executable()) return 1;
                  if (!set_own_executable(target)) return 2;
                  char link[PATH_MAX] = {};
                  if (::readlink("/proc/self/exe", link, sizeof link - 1) < 0) return 3;
                  return std::string(link) == target ? 0 : 4;
              }),
              0);
    EXPECT_EQ(in_child([&] {
                  if (!detach_own_executable()) return 1;
                  const Status set = set_own_executable("/nonexistent/ckpt-test");
                  return !set && set.error().message.find("/nonexistent/ckpt-test: No such file") != std::string::npos
                             ? 0
                             : 2;
              }),
              0);
}

TEST(OwnExecutable, SaysWhatItLacks) {
    if (has_sys_resource()) GTEST_SKIP() << "has CAP_SYS_RESOURCE";
    EXPECT_EQ(in_child([&] {
                  if (!detach_own_executable()) return 1;
                  const Status set = set_own_executable("/bin/true");
                  return !set && set.error().message.find("needs CAP_SYS_RESOURCE") != std::string::npos ? 0 : 2;
              }),
              0);
}

}  // namespace
}  // namespace ckpt

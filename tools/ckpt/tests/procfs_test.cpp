#include "procfs.h"

#include <gtest/gtest.h>

#include <unistd.h>

namespace ckpt {
namespace {

TEST(Smaps, Parses) {
    const char* text =
        "55d0c8a00000-55d0c8a21000 rw-p 00000000 00:00 0                          [heap]\n"
        "Size:                132 kB\n"
        "Rss:                   8 kB\n"
        "Swap:                  4 kB\n"
        "VmFlags: rd wr mr mw me ac \n"
        "7f1c2a000000-7f1c2a021000 r--p 00002000 08:01 1234567                    /usr/lib/my lib.so (deleted)\n"
        "Rss:                   0 kB\n"
        "VmFlags: rd mr mw me io\n"
        "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";
    auto vmas = parse_smaps(text);
    ASSERT_TRUE(vmas);
    ASSERT_EQ(vmas->size(), 3u);
    const ProcVma& heap = (*vmas)[0];
    EXPECT_EQ(heap.start, 0x55d0c8a00000u);
    EXPECT_EQ(heap.end, 0x55d0c8a21000u);
    EXPECT_EQ(heap.perms, "rw-p");
    EXPECT_EQ(heap.name, "[heap]");
    EXPECT_EQ(heap.rss_kb, 8u);
    EXPECT_EQ(heap.swap_kb, 4u);
    EXPECT_TRUE(heap.has_vm_flag("wr"));
    EXPECT_FALSE(heap.has_vm_flag("io"));
    const ProcVma& lib = (*vmas)[1];
    EXPECT_EQ(lib.offset, 0x2000u);
    EXPECT_EQ(lib.dev_major, 8u);
    EXPECT_EQ(lib.dev_minor, 1u);
    EXPECT_EQ(lib.inode, 1234567u);
    EXPECT_EQ(lib.name, "/usr/lib/my lib.so (deleted)");
    EXPECT_TRUE(lib.has_vm_flag("io"));
    EXPECT_EQ((*vmas)[2].start, 0xffffffffff600000u);
    EXPECT_EQ((*vmas)[2].name, "[vsyscall]");
}

TEST(Smaps, OwnProcess) {
    auto vmas = read_smaps(getpid());
    ASSERT_TRUE(vmas) << vmas.error().message;
    EXPECT_GT(vmas->size(), 5u);
    for (size_t i = 1; i < vmas->size(); i++) EXPECT_LE((*vmas)[i - 1].end, (*vmas)[i].start);
}

TEST(ThreadStates, OwnProcessIsRunning) {
    auto states = read_thread_states(getpid());
    ASSERT_TRUE(states);
    ASSERT_FALSE(states->empty());
    EXPECT_EQ((*states)[0].state, 'R');
    EXPECT_FALSE((*states)[0].io_worker);  // TargetStop.SkipsIoWorkers has one that is
}

TEST(KernelThread, Detects) {
    auto self = is_kernel_thread(getpid());
    ASSERT_TRUE(self);
    EXPECT_FALSE(*self);
    auto kthreadd = is_kernel_thread(2);  // kthreadd, unless in a pid namespace
    if (kthreadd && *kthreadd) SUCCEED();
}

}  // namespace
}  // namespace ckpt

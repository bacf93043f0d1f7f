// `ckpt verify --pid`'s thread check (src/thread_compare.cpp) against a
// real held process: the registers ptrace reads match records made from
// them, and a changed register, a missing or a foreign thread are found.
#include <elf.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

#include <gtest/gtest.h>

#include "image_builder.h"
#include "test_process.h"
#include "thread_compare.h"

namespace ckpt {
namespace {

using test::TargetProcess;

// The records a dump would have written for the held threads.
std::vector<ThreadRecord> records_of(const TargetStop& stop, pid_t pid) {
    std::vector<ThreadRecord> records;
    for (const SeizedThread& s : stop.threads()) {
        ThreadRecord r;
        r.thread = test::sample_thread(s.tid(), s.tid() == pid);
        iovec regs{r.thread.regs, sizeof r.thread.regs};
        r.xstate.resize(16384);
        iovec fpu{r.xstate.data(), r.xstate.size()};
        EXPECT_EQ(ptrace(PTRACE_GETREGSET, s.tid(), reinterpret_cast<void*>(long(NT_PRSTATUS)), &regs), 0);
        EXPECT_EQ(ptrace(PTRACE_GETREGSET, s.tid(), reinterpret_cast<void*>(long(NT_X86_XSTATE)), &fpu), 0);
        r.xstate.resize(fpu.iov_len);
        r.thread.xstate_size = uint32_t(fpu.iov_len);
        records.push_back(r);
    }
    return records;
}

TEST(ThreadCompare, HeldThreadsMatchTheirRecords) {
    TargetProcess target;
    ASSERT_TRUE(target.ready());
    auto stop = TargetStop::acquire(target.pid(), {});
    ASSERT_TRUE(stop) << stop.error().message;
    const auto records = records_of(*stop, target.pid());
    ASSERT_GE(records.size(), 2u);
    LiveCompareResult result;
    compare_threads(records, false, *stop, &result);
    EXPECT_EQ(result.threads_compared, records.size());
    EXPECT_EQ(result.thread_mismatches, 0u) << (result.problems.empty() ? "" : result.problems[0]);
}

TEST(ThreadCompare, ChangedRegisterAndFpuStateAreFound) {
    TargetProcess target;
    ASSERT_TRUE(target.ready());
    auto stop = TargetStop::acquire(target.pid(), {});
    ASSERT_TRUE(stop) << stop.error().message;
    auto records = records_of(*stop, target.pid());
    records[0].thread.regs[16] ^= 0x10;  // rip
    records[1].xstate[200] ^= 1;         // an XMM register's byte
    LiveCompareResult result;
    compare_threads(records, false, *stop, &result);
    EXPECT_EQ(result.thread_mismatches, 2u);
    ASSERT_EQ(result.problems.size(), 2u);
    EXPECT_NE(result.problems[0].find(": rip is "), std::string::npos) << result.problems[0];
    EXPECT_NE(result.problems[1].find("FPU/SSE/AVX state differs"), std::string::npos) << result.problems[1];
}

TEST(ThreadCompare, MissingAndForeignThreadsAreFound) {
    TargetProcess target;
    ASSERT_TRUE(target.ready());
    auto stop = TargetStop::acquire(target.pid(), {});
    ASSERT_TRUE(stop) << stop.error().message;
    auto records = records_of(*stop, target.pid());
    const pid_t dropped = records.back().thread.tid;
    records.pop_back();
    records.push_back(records[0]);
    records.back().thread.tid = 0x3ffffff0;
    LiveCompareResult result;
    compare_threads(records, false, *stop, &result);
    EXPECT_EQ(result.thread_mismatches, 2u);
    bool named_missing = false, named_foreign = false;
    for (const std::string& p : result.problems) {
        named_missing |= p == "thread " + std::to_string(dropped) + " of the process is not in the image";
        named_foreign |= p.find("thread 1073741808 of the image is not a thread of the process") != std::string::npos;
    }
    EXPECT_TRUE(named_missing && named_foreign) << result.problems.size();
}

// A live image's registers were never stable: compared by tid only.
TEST(ThreadCompare, LiveImagesCompareThreadsByTidOnly) {
    TargetProcess target;
    ASSERT_TRUE(target.ready());
    auto stop = TargetStop::acquire(target.pid(), {});
    ASSERT_TRUE(stop) << stop.error().message;
    auto records = records_of(*stop, target.pid());
    records[0].thread.regs[16] ^= 0x10;
    LiveCompareResult result;
    compare_threads(records, true, *stop, &result);
    EXPECT_EQ(result.threads_compared, 0u);
    EXPECT_EQ(result.thread_mismatches, 0u);
}

}  // namespace
}  // namespace ckpt

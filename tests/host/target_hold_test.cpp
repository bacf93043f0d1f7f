// SPDX-License-Identifier: GPL-2.0
//
// Who may dump whom (review 2026-12-01 #1) and whether the target held
// still (#3): the caller must trace every live thread; a stopped dump needs
// every one in a ptrace stop for its whole length, and refuses an mm that
// another process shares.
#include "dump_check.h"
#include "fixture.h"
#include "image_decode.h"
#include "targets.h"

namespace {

using host_test::decode_image;
using host_test::run_dump;

class TargetHold : public FakeKernelTest {
 protected:
  fake::File& out_ = kernel().open_output(3);
};

// CAP_CHECKPOINT_RESTORE alone once read any process: now a thread the
// caller does not trace refuses the dump, live or not, before a byte.
TEST_F(TargetHold, UntracedThreadIsRefused) {
  const auto target = targets::every_kind(kernel());
  target.task->nr_threads = 3;
  target.task->untraced = 1;
  for (uint32_t flags : {0u, uint32_t(CKPT_CHECKPOINT_LIVE)}) {
    SCOPED_TRACE("flags " + std::to_string(flags));
    const auto dump = run_dump(100, 3, flags);
    EXPECT_EQ(dump.ret, -EPERM);
    EXPECT_TRUE(out_.data.empty());
  }
}

// Traced but running (seized, never interrupted): only a live dump.
TEST_F(TargetHold, TracedRunningTargetNeedsLive) {
  const auto target = targets::every_kind(kernel());
  target.task->quiescence = CKPT_QUIESCENT_NONE;
  EXPECT_EQ(run_dump(100, 3).ret, -EBUSY);
  EXPECT_TRUE(out_.data.empty());
  ASSERT_EQ(run_dump(100, 3, CKPT_CHECKPOINT_LIVE).ret, 0);
  host_test::expect_image_matches(decode_image(out_.data), *target.task, *target.mm, /*live=*/true);
}

// A tracee that has just reported its stop may still be leaving the CPU:
// waited for, a tick at a time, rather than taken for a running thread.
TEST_F(TargetHold, ThreadLeavingTheCpuIsWaitedFor) {
  const auto target = targets::every_kind(kernel());
  target.task->nr_threads = 4;
  target.task->leaving_cpu = 2;
  target.task->on_describe = [](fake::Task& task) {
    if (task.leaving_cpu && fake::kernel().sleep_ticks) task.leaving_cpu--;
  };
  ASSERT_EQ(run_dump(100, 3).ret, 0);
  EXPECT_GE(kernel().sleep_ticks, 1);
  host_test::expect_image_matches(decode_image(out_.data), *target.task, *target.mm);
}

TEST_F(TargetHold, ThreadThatNeverLeavesTheCpuIsBusy) {
  const auto target = targets::every_kind(kernel());
  target.task->leaving_cpu = 1;
  EXPECT_EQ(run_dump(100, 3).ret, -EBUSY);
  EXPECT_TRUE(out_.data.empty());
  EXPECT_GT(kernel().sleep_ticks, 100) << "a generous wait first";
}

// The reviewer's torn image: the target ran mid-dump (here: a thread was
// resumed and stopped again, so it is back in its ptrace stop but its
// context switches grew).  No TAIL, EBUSY.
TEST_F(TargetHold, ThreadThatRanDuringTheDumpIsBusy) {
  const auto target = targets::every_kind(kernel());
  out_.on_write = [&](fake::File& file) {
    if (file.data.size() > 20000 && target.task->switches == 1000) target.task->switches += 2;
  };
  const auto dump = run_dump(100, 3);
  EXPECT_EQ(dump.ret, -EBUSY);
  const auto image = decode_image(out_.data);
  EXPECT_FALSE(image.ok);
  EXPECT_NE(image.error.find("no TAIL"), std::string::npos) << image.error;
}

// A thread that exited took its own count along: the thread count says it.
TEST_F(TargetHold, ThreadThatExitedDuringTheDumpIsBusy) {
  const auto target = targets::every_kind(kernel());
  target.task->nr_threads = 3;
  out_.on_write = [&](fake::File& file) {
    if (file.data.size() > 20000) target.task->nr_threads = 2;
  };
  EXPECT_EQ(run_dump(100, 3).ret, -EBUSY);
}

// A CLONE_VM process outside the group writes the same memory, and the
// caller does not hold it.
TEST_F(TargetHold, MemorySharedWithAnotherProcessIsBusyUnlessLive) {
  const auto target = targets::every_kind(kernel());
  target.mm->shared_with_process = true;
  EXPECT_EQ(run_dump(100, 3).ret, -EBUSY);
  EXPECT_TRUE(out_.data.empty());
  EXPECT_EQ(run_dump(100, 3, CKPT_CHECKPOINT_LIVE).ret, 0);
}

// The target was killed while the output stalled: its address space goes
// at once (the dump holds only the mm_struct between lock holds), and the
// next hold finds it gone.
TEST_F(TargetHold, AddressSpaceTornDownMidDumpIsEsrch) {
  const auto target = targets::every_kind(kernel());
  out_.on_write = [&](fake::File& file) {
    if (file.data.size() > 20000) target.mm->exited = true;
  };
  EXPECT_EQ(run_dump(100, 3).ret, -ESRCH);
}

}  // namespace

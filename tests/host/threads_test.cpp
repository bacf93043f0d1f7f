// SPDX-License-Identifier: GPL-2.0
//
// THREAD records (format 1.1): one per live thread, the leader first, then
// by tid, each as the kernel describes it (arch/x86/thread_records.cpp).
#include <cstring>

#include "dump_check.h"
#include "fixture.h"
#include "image_decode.h"
#include "targets.h"

namespace {

using host_test::decode_image;
using host_test::run_dump;

class Threads : public FakeKernelTest {
 protected:
  fake::File& out_ = kernel().open_output(3);
};

TEST_F(Threads, LeaderFirstThenByTid) {
  const auto target = targets::every_kind(kernel());
  ASSERT_EQ(run_dump(100, 3).ret, 0);
  const auto image = decode_image(out_.data);
  host_test::expect_image_matches(image, *target.task, *target.mm);
  ASSERT_EQ(image.threads.size(), 4u) << "the io_uring worker has no record";
  const int32_t tids[] = {100, 101, 102, 103};
  for (size_t i = 0; i < 4; i++) EXPECT_EQ(image.threads[i].thread.tid, tids[i]);
  EXPECT_TRUE(image.threads[0].thread.flags & CKPT_THREAD_LEADER);
  EXPECT_EQ(image.threads[3].thread.syscall_nr, 202);
  EXPECT_TRUE(image.threads[3].thread.flags & CKPT_THREAD_IN_SYSCALL);
}

// A thread stopped in a timed wait: its RESTART record right after its
// THREAD record.  A running thread's (a live dump) would be stale: none.
TEST_F(Threads, TimedWaitGetsItsRestartRecord) {
  const auto target = targets::every_kind(kernel());
  ckpt_restart r{};
  r.tid = 102;
  r.kind = CKPT_RESTART_FUTEX;
  r.remaining_ns = 5000000000ull;
  target.task->threads[3]->restart = r;  // tid 102
  ASSERT_EQ(run_dump(100, 3).ret, 0);
  const auto image = decode_image(out_.data);
  ASSERT_TRUE(image.ok) << image.error;
  ASSERT_EQ(image.threads.size(), 4u);
  EXPECT_FALSE(image.threads[1].restart);
  ASSERT_TRUE(image.threads[2].restart);
  EXPECT_EQ(image.threads[2].restart->tid, 102);
  EXPECT_EQ(image.threads[2].restart->remaining_ns, 5000000000ull);
  EXPECT_FALSE(image.threads[3].restart);
}

TEST_F(Threads, RunningThreadGetsNoRestartRecord) {
  const auto target = targets::every_kind(kernel());
  ckpt_restart r{};
  r.tid = 102;
  r.kind = CKPT_RESTART_SLEEP;
  target.task->threads[3]->restart = r;  // tid 102
  target.task->threads[3]->running = true;
  ASSERT_EQ(run_dump(100, 3).ret, 0);
  const auto image = decode_image(out_.data);
  ASSERT_TRUE(image.ok) << image.error;
  ASSERT_EQ(image.threads.size(), 4u);
  EXPECT_TRUE(image.threads[2].thread.flags & CKPT_THREAD_RUNNING);
  EXPECT_FALSE(image.threads[2].restart);
}

namespace {

std::array<uint8_t, CKPT_SIGINFO_SIZE> siginfo(int32_t signo, int32_t code, uint32_t value) {
  std::array<uint8_t, CKPT_SIGINFO_SIZE> info{};
  std::memcpy(info.data(), &signo, 4);
  std::memcpy(info.data() + 8, &code, 4);
  std::memcpy(info.data() + 24, &value, 4);
  return info;
}

}  // namespace

// Format 1.4: the process's queue of pending signals after PROCESS, a
// thread's after its THREAD (and RESTART) record, each siginfo as the
// kernel holds it, in order; none for an empty queue; a queue longer than
// CKPT_SIGQUEUE_MAX keeps its head and says how long it was.
TEST_F(Threads, QueuedSignalsFollowTheirOwnersRecords) {
  const auto target = targets::every_kind(kernel());
  target.task->sigqueue = {siginfo(10, 0, 0), siginfo(34, -1, 1234), siginfo(34, -1, 5678)};
  ckpt_restart r{};
  r.kind = CKPT_RESTART_SLEEP;
  fake::Thread& t101 = *target.task->threads[2];
  ASSERT_EQ(t101.tid, 101);
  t101.restart = r;  // THREAD, RESTART, SIGQUEUE
  for (uint32_t i = 0; i < CKPT_SIGQUEUE_MAX + 44; i++) t101.sigqueue.push_back(siginfo(40, -1, i));
  target.task->threads[3]->sigqueue = {siginfo(12, -6, 7)};  // tid 102, SI_TKILL
  ASSERT_EQ(run_dump(100, 3).ret, 0);
  const auto image = decode_image(out_.data);
  ASSERT_TRUE(image.ok) << image.error;
  ASSERT_TRUE(image.sigqueue);
  EXPECT_EQ(image.sigqueue->queue.queued, 3u);
  ASSERT_EQ(image.sigqueue->infos.size(), 3u);
  for (size_t i = 0; i < 3; i++) EXPECT_EQ(image.sigqueue->infos[i], target.task->sigqueue[i]) << i;
  ASSERT_EQ(image.threads.size(), 4u);
  EXPECT_FALSE(image.threads[0].sigqueue);
  ASSERT_TRUE(image.threads[1].restart);
  ASSERT_TRUE(image.threads[1].sigqueue);
  EXPECT_EQ(image.threads[1].sigqueue->queue.tid, 101);
  EXPECT_EQ(image.threads[1].sigqueue->queue.queued, CKPT_SIGQUEUE_MAX + 44u);
  ASSERT_EQ(image.threads[1].sigqueue->infos.size(), size_t(CKPT_SIGQUEUE_MAX));
  for (uint32_t i = 0; i < CKPT_SIGQUEUE_MAX; i++)
    ASSERT_EQ(image.threads[1].sigqueue->infos[i], t101.sigqueue[i]) << i;
  ASSERT_TRUE(image.threads[2].sigqueue);
  EXPECT_EQ(image.threads[2].sigqueue->queue.tid, 102);
  EXPECT_EQ(image.threads[2].sigqueue->infos.at(0), target.task->threads[3]->sigqueue[0]);
  EXPECT_FALSE(image.threads[3].sigqueue);

  target.task->sigqueue_error = -EIO;
  fake::File& out = kernel().open_output(4);
  EXPECT_EQ(run_dump(100, 4).ret, -EIO);
  (void)out;
}

// pthread_exit() in main: the zombie leader has no state to record.
TEST_F(Threads, ExitedLeaderIsLeftOut) {
  const auto target = targets::dense_anon(kernel(), 4);
  target.task->threads[0]->exited = true;
  target.task->add_thread(107);
  ASSERT_EQ(run_dump(100, 3).ret, 0);
  const auto image = decode_image(out_.data);
  host_test::expect_image_matches(image, *target.task, *target.mm);
  ASSERT_EQ(image.threads.size(), 1u);
  EXPECT_EQ(image.threads[0].thread.tid, 107);
  EXPECT_FALSE(image.threads[0].thread.flags & CKPT_THREAD_LEADER);
}

TEST_F(Threads, UnreadableThreadFailsTheDump) {
  const auto target = targets::every_kind(kernel());
  target.task->threads[2]->describe_error = -EIO;
  EXPECT_EQ(run_dump(100, 3).ret, -EIO);
}

// 2,000 threads, each with the largest XSAVE area x86 has today (AMX,
// 11 KiB): one FPU buffer serves them all.
TEST_F(Threads, ThousandsOfThreadsKeepMemoryBounded) {
  const auto one = targets::dense_anon(kernel(), 4);
  one.task->threads[0]->fpu.resize(11008);
  const auto single = run_dump(100, 3);
  ASSERT_EQ(single.ret, 0);

  const auto many = targets::dense_anon(kernel(), 4, 200);
  many.task->threads[0]->fpu.resize(11008);
  for (int32_t tid = 201; tid < 2200; tid++) many.task->add_thread(tid).fpu.resize(11008);
  fake::File& out = kernel().open_output(4);
  const auto dump = run_dump(200, 4);
  ASSERT_EQ(dump.ret, 0);
  const auto image = decode_image(out.data);
  host_test::expect_image_matches(image, *many.task, *many.mm);
  EXPECT_EQ(image.threads.size(), 2000u);
  EXPECT_EQ(dump.args.peak_kmem, single.args.peak_kmem);
  EXPECT_LE(dump.args.peak_kmem, 256u * 1024);
}

}  // namespace

// SPDX-License-Identifier: GPL-2.0
//
// Every way a dump can fail (README.md's errno table): the errno comes back
// as is, err_addr names the VMA where one is to blame, and nothing is left
// behind: no reference, no lock, no allocation.  The fixture checks the
// last; loops over injected failures check after every run.
#include <algorithm>
#include <set>

#include "dump_check.h"
#include "fixture.h"
#include "image_decode.h"
#include "record_frames.h"
#include "targets.h"

namespace {

using fake::Pte;
using host_test::decode_image;
using host_test::run_dump;
using targets::kBase;
using targets::kPage;

class CheckpointErrors : public FakeKernelTest {
 protected:
  // After a failed run inside a loop: the same checks as the fixture's.
  void expect_nothing_held(const std::string& context) {
    EXPECT_EQ(joined(kernel().leftovers()), "") << context;
    EXPECT_EQ(joined(kernel().violations()), "") << context;
    EXPECT_EQ(fake::heap::live_allocations(), 0u) << context;
  }

  // The image a dump of `pid` writes when nothing fails.
  std::vector<uint8_t> reference_image(int32_t pid) {
    fake::File& reference = kernel().open_output(99);
    EXPECT_EQ(run_dump(pid, 99).ret, 0);
    return reference.data;
  }

  fake::File& out_ = kernel().open_output(3);
};

TEST_F(CheckpointErrors, RunningTargetIsBusyUnlessLive) {
  const auto target = targets::every_kind(kernel());
  target.task->quiescence = CKPT_QUIESCENT_NONE;
  const auto dump = run_dump(100, 3);
  EXPECT_EQ(dump.ret, -EBUSY);
  EXPECT_TRUE(out_.data.empty()) << "refused before writing anything";
  EXPECT_EQ(dump.args.bytes, 0u);
  EXPECT_EQ(run_dump(100, 3, CKPT_CHECKPOINT_LIVE).ret, 0);
}

TEST_F(CheckpointErrors, TargetResumedDuringTheDumpIsBusy) {
  const auto target = targets::every_kind(kernel());
  out_.on_write = [&](fake::File& file) {
    if (file.data.size() > 20000) target.task->quiescence = CKPT_QUIESCENT_NONE;
  };
  const auto dump = run_dump(100, 3);
  EXPECT_EQ(dump.ret, -EBUSY);
  EXPECT_EQ(dump.args.bytes, out_.data.size());
  const auto image = decode_image(out_.data);
  EXPECT_FALSE(image.ok);
  EXPECT_NE(image.error.find("no TAIL"), std::string::npos) << image.error;
}

TEST_F(CheckpointErrors, NoSuchProcess) {
  targets::worked_example(kernel());
  for (int32_t pid : {999, 0, -1, -100}) EXPECT_EQ(run_dump(pid, 3).ret, -ESRCH) << "pid " << pid;
  EXPECT_TRUE(out_.data.empty());
}

TEST_F(CheckpointErrors, KernelThreadIsInvalid) {
  kernel().add_task(2, nullptr).kernel_thread = true;
  EXPECT_EQ(run_dump(2, 3).ret, -EINVAL);
}

TEST_F(CheckpointErrors, ZombieHasNoMemory) {
  kernel().add_task(100, nullptr);
  EXPECT_EQ(run_dump(100, 3).ret, -ESRCH);
}

TEST_F(CheckpointErrors, OutputFdMustBeOpenForWriting) {
  targets::worked_example(kernel());
  kernel().open_output(4, /*writable=*/false);
  EXPECT_EQ(run_dump(100, 5).ret, -EBADF) << "not open";
  EXPECT_EQ(run_dump(100, 4).ret, -EBADF) << "read-only";
  EXPECT_EQ(run_dump(100, -1).ret, -EBADF) << "negative";
}

// A signal pending for the caller stops the dump between batches.
TEST_F(CheckpointErrors, SignalStopsTheDumpCleanly) {
  const auto target = targets::every_kind(kernel());
  const auto full = reference_image(100);
  for (uint64_t after : std::vector<uint64_t>{0, 1, 500, 5000, 100000, full.size() - 200}) {
    SCOPED_TRACE("signal after " + std::to_string(after) + " bytes");
    out_.data.clear();
    kernel().signal_pending = after == 0;
    out_.on_write = [after](fake::File& file) {
      if (file.data.size() >= after) fake::kernel().signal_pending = true;
    };
    const auto dump = run_dump(100, 3);
    EXPECT_EQ(dump.ret, -EINTR);
    EXPECT_EQ(dump.args.bytes, out_.data.size());
    EXPECT_LT(out_.data.size(), full.size());
    EXPECT_TRUE(std::equal(out_.data.begin(), out_.data.end(), full.begin())) << "a prefix of the image";
    expect_nothing_held("signal after " + std::to_string(after));
  }
  kernel().signal_pending = false;
  (void)target;
}

TEST_F(CheckpointErrors, HugetlbIsRefusedNamingTheVma) {
  const auto target = targets::worked_example(kernel());
  fake::File& huge = kernel().new_file("/dev/hugepages/buffer");
  const uint64_t start = kBase + (1ull << 30);
  target.mm->add_vma(targets::hugetlb_vma(start, 512, &huge));
  const auto dump = run_dump(100, 3);
  EXPECT_EQ(dump.ret, -EOPNOTSUPP);
  EXPECT_EQ(dump.args.err_addr, start);
  ASSERT_EQ(kernel().warnings.size(), 1u);
  EXPECT_EQ(kernel().warnings[0].start, start);
  EXPECT_EQ(kernel().warnings[0].err, -EOPNOTSUPP);
  EXPECT_EQ(dump.args.nr_vmas, 1u) << "the VMA before it was written";
}

TEST_F(CheckpointErrors, UnreadablePageIsEioNamingTheVma) {
  const auto target = targets::every_kind(kernel());
  const uint64_t heap = 0x555555600000;
  target.mm->set(heap + 20 * kPage, Pte::kUnreadable);
  const auto dump = run_dump(100, 3);
  EXPECT_EQ(dump.ret, -EIO);
  EXPECT_EQ(dump.args.err_addr, heap);
}

// A latent memory error in a target page (copy_mc_to_kernel() falls
// short): the dump fails with EHWPOISON naming that page, and drops every
// reference, on the worker or not.
TEST_F(CheckpointErrors, MemoryErrorFailsTheDumpNamingThePage) {
  const auto target = targets::every_kind(kernel());
  const uint64_t heap = 0x555555600000;
  for (uint64_t page : {heap + 20 * kPage, heap + 35 * kPage}) {
    target.mm->slot(page)->page->memory_error = true;
    const auto dump = run_dump(100, 3);
    EXPECT_EQ(dump.ret, -EHWPOISON);
    EXPECT_EQ(dump.args.err_addr, page);
    target.mm->slot(page)->page->memory_error = false;
    expect_nothing_held("memory error at " + std::to_string(page));
  }
}

TEST_F(CheckpointErrors, BackingFilePathErrorNamesTheVma) {
  const auto target = targets::every_kind(kernel());
  const fake::Vma* text = target.mm->vma_at(0x555555554000);
  ASSERT_NE(text, nullptr);
  text->file->path_error = -ENOMEM;
  const auto dump = run_dump(100, 3);
  EXPECT_EQ(dump.ret, -ENOMEM);
  EXPECT_EQ(dump.args.err_addr, text->start);
}

TEST_F(CheckpointErrors, GupErrorIsReturnedAsIsNamingTheVma) {
  const auto target = targets::every_kind(kernel());
  const uint64_t heap = 0x555555600000;
  target.mm->gup_hook = [heap](uint64_t addr, uint32_t, uint32_t) -> std::optional<long> {
    if (addr > heap && addr < heap + 40 * kPage) return -ENOMEM;
    return std::nullopt;
  };
  const auto dump = run_dump(100, 3);
  EXPECT_EQ(dump.ret, -ENOMEM);
  EXPECT_EQ(dump.args.err_addr, heap);
}

// The write fails at every record boundary, one byte either side, and at a
// stride through the page data: the errno is returned as is, what was
// written is a prefix of the image, and args.bytes never claims more.
TEST_F(CheckpointErrors, WriteFailureAnywhereReturnsTheErrno) {
  targets::every_kind(kernel());
  const auto full = reference_image(100);
  std::string error;
  std::set<uint64_t> fail_points;
  for (const auto& frame : host_test::split_frames(full, &error)) {
    for (uint64_t delta : {0, 1, 23, 24, 25}) fail_points.insert(frame.offset + delta);
    if (frame.offset) fail_points.insert(frame.offset - 1);
  }
  ASSERT_EQ(error, "");
  for (uint64_t at = 0; at < full.size(); at += 4096 * 5 + 123) fail_points.insert(at);
  fail_points.insert(full.size() - 1);

  const int errnos[] = {ENOSPC, EPIPE, EAGAIN, EINTR, EIO, EFBIG, EINVAL, 512 /* ERESTARTSYS */};
  size_t run = 0;
  for (uint64_t at : fail_points) {
    const int err = errnos[run++ % (sizeof(errnos) / sizeof(errnos[0]))];
    const std::string context = "errno " + std::to_string(err) + " at byte " + std::to_string(at);
    SCOPED_TRACE(context);
    out_.data.clear();
    out_.fail_at = at;
    out_.fail_errno = err;
    const auto dump = run_dump(100, 3);
    EXPECT_EQ(dump.ret, -err);
    ASSERT_EQ(out_.data.size(), at);
    EXPECT_TRUE(std::equal(out_.data.begin(), out_.data.end(), full.begin())) << "a prefix of the image";
    EXPECT_LE(dump.args.bytes, at);
    expect_nothing_held(context);
  }
  out_.fail_at = UINT64_MAX;
}

// Every allocation of a dump fails in turn, in a stopped and a live dump
// (live dumps copy every batch): -ENOMEM each time, nothing leaked, until a
// run in which no failure was injected succeeds.
TEST_F(CheckpointErrors, AllocationFailureAtEverySite) {
  const auto target = targets::every_kind(kernel());
  for (uint32_t flags : {0u, uint32_t(CKPT_CHECKPOINT_LIVE)}) {
    long sites = 0;
    for (long nth = 0;; nth++) {
      const std::string context = "flags " + std::to_string(flags) + ", allocation " + std::to_string(nth) + " fails";
      SCOPED_TRACE(context);
      out_.data.clear();
      fake::heap::fail_nth(nth);
      const auto dump = run_dump(100, 3, flags);
      const long injected = fake::heap::fail_nth(-1);
      expect_nothing_held(context);
      if (!injected) {
        EXPECT_EQ(dump.ret, 0);
        host_test::expect_image_matches(decode_image(out_.data), *target.task, *target.mm, flags != 0);
        break;
      }
      EXPECT_EQ(dump.ret, -ENOMEM);
      sites++;
      ASSERT_LT(nth, 1000) << "allocations without end";
    }
    // The dump object, the PROCESS record's fixed part, path and group
    // buffers, the FPU buffer for the THREAD records, the FILE records' path
    // buffer, the VMA name buffer, the copy worker, the two batches' copies
    // and page arrays (three allocations each), the writer's staging buffer
    // and the LDT buffer: once per dump, live or not.
    EXPECT_EQ(sites, 18);
  }
}

// The mmap lock is killable: each attempt to take it fails in turn.
TEST_F(CheckpointErrors, LockInterruptedAtEverySite) {
  const auto target = targets::every_kind(kernel());
  for (long nth = 0;; nth++) {
    const std::string context = "lock attempt " + std::to_string(nth) + " fails";
    SCOPED_TRACE(context);
    out_.data.clear();
    target.mm->lock_calls = 0;
    target.mm->fail_lock_at = nth;
    const auto dump = run_dump(100, 3);
    expect_nothing_held(context);
    if (target.mm->lock_calls <= nth) {
      EXPECT_EQ(dump.ret, 0);
      break;
    }
    EXPECT_EQ(dump.ret, -EINTR);
  }
}

TEST_F(CheckpointErrors, LdtCopyErrorIsReturnedAsIs) {
  const auto target = targets::every_kind(kernel());
  target.mm->ldt_error = -EINTR;
  EXPECT_EQ(run_dump(100, 3).ret, -EINTR);
}

// An LDT that grows on every look (only a running target could) is given
// up on after a few tries.
TEST_F(CheckpointErrors, LdtThatNeverSettles) {
  const auto target = targets::every_kind(kernel());
  target.task->quiescence = CKPT_QUIESCENT_NONE;
  target.mm->before_ldt_copy = [](fake::Mm& mm) { mm.ldt.push_back(0x00cff2000000ffffull); };
  EXPECT_EQ(run_dump(100, 3, CKPT_CHECKPOINT_LIVE).ret, -EOVERFLOW);
}

}  // namespace

// SPDX-License-Identifier: GPL-2.0
//
// The fake bridge itself: the kernel semantics the other suites rely on.
#include <cstring>

#include "fixture.h"
#include "targets.h"

namespace {

using fake::Pte;
using targets::kBase;
using targets::kPage;

class FakeBridge : public FakeKernelTest {
 protected:
  void SetUp() override {
    FakeKernelTest::SetUp();
    mm_.check_vmas = false;  // these tests call the walks directly
  }

  fake::Mm& mm_ = kernel().new_mm();
  ckpt_mm_ref* ref_ = fake::handle(&mm_);

  long gup(uint64_t addr, uint32_t nr, uint32_t mode) {
    pages_.assign(nr, nullptr);
    EXPECT_EQ(ckpt_mm_read_lock(ref_), 0);
    const long got = ckpt_gup(ref_, addr, nr, mode, pages_.data());
    ckpt_mm_read_unlock(ref_);
    for (long i = 0; i < got; i++) ckpt_page_put(pages_[i]);
    return got;
  }

  std::vector<ckpt_page_ref*> pages_;
};

TEST_F(FakeBridge, GupStopsAtFirstRefusal) {
  mm_.add_vma(targets::anon_vma(kBase, 8));
  mm_.fill(kBase, 3, Pte::kAnon);
  mm_.set(kBase + 4 * kPage, Pte::kAnon);
  EXPECT_EQ(gup(kBase, 8, CKPT_GUP_FAULT), 3);
}

TEST_F(FakeBridge, HoleAndZeroPageRefuseTheFirstPage) {
  mm_.add_vma(targets::anon_vma(kBase, 8));
  mm_.set(kBase + kPage, Pte::kZero);
  EXPECT_EQ(gup(kBase, 2, CKPT_GUP_FAULT), -EFAULT);
  EXPECT_EQ(gup(kBase + kPage, 1, CKPT_GUP_FAULT), -EFAULT);
  EXPECT_EQ(gup(kBase + kPage, 1, CKPT_GUP_NOFAULT), -EFAULT);
}

TEST_F(FakeBridge, SwapEntryNeedsAFault) {
  mm_.add_vma(targets::anon_vma(kBase, 2));
  mm_.set(kBase, Pte::kSwapped);
  EXPECT_EQ(gup(kBase, 1, CKPT_GUP_NOFAULT), -EFAULT);
  EXPECT_EQ(mm_.state(kBase), Pte::kSwapped);
  EXPECT_EQ(gup(kBase, 1, CKPT_GUP_FAULT), 1);
  EXPECT_EQ(mm_.state(kBase), Pte::kAnon);
  EXPECT_EQ(mm_.swapins, 1u);
}

TEST_F(FakeBridge, GupTakesAndPutReleasesReferences) {
  mm_.add_vma(targets::anon_vma(kBase, 2));
  mm_.fill(kBase, 2, Pte::kAnon);
  pages_.assign(2, nullptr);
  ASSERT_EQ(ckpt_mm_read_lock(ref_), 0);
  ASSERT_EQ(ckpt_gup(ref_, kBase, 2, CKPT_GUP_FAULT, pages_.data()), 2);
  ckpt_mm_read_unlock(ref_);
  EXPECT_EQ(mm_.page(kBase)->refs, 1);
  EXPECT_EQ(kernel().leftovers().size(), 2u);
  ckpt_page_put(pages_[0]);
  ckpt_page_put(pages_[1]);
  EXPECT_TRUE(kernel().leftovers().empty());
}

TEST_F(FakeBridge, NextPopulatedSkipsWholePmds) {
  mm_.add_vma(targets::anon_vma(kBase, 4 * 512));
  mm_.set(kBase + 2 * fake::kPmdSize + 5 * kPage, Pte::kAnon);
  const uint64_t end = kBase + 4 * fake::kPmdSize;
  ASSERT_EQ(ckpt_mm_read_lock(ref_), 0);
  EXPECT_EQ(ckpt_mm_next_populated(ref_, kBase, end), kBase + 2 * fake::kPmdSize);
  EXPECT_EQ(ckpt_mm_next_populated(ref_, kBase + 2 * fake::kPmdSize + kPage, end),
            kBase + 2 * fake::kPmdSize + kPage);
  EXPECT_EQ(ckpt_mm_next_populated(ref_, kBase + 3 * fake::kPmdSize, end), end);
  EXPECT_EQ(ckpt_mm_pte_state(ref_, kBase), CKPT_PTE_NONE);
  ckpt_mm_read_unlock(ref_);
}

TEST_F(FakeBridge, UnlockedAccessIsAViolation) {
  mm_.add_vma(targets::anon_vma(kBase, 1));
  ckpt_vma_info info;
  ckpt_file_ref* file;
  EXPECT_EQ(ckpt_mm_find_vma(ref_, 0, &info, &file), 0);
  ASSERT_EQ(kernel().violations().size(), 1u);
  EXPECT_NE(kernel().violations()[0].find("without the mmap lock"), std::string::npos);
  fake::reset_kernel();
}

TEST_F(FakeBridge, WriteFailsAfterNBytesKeepingWhatFit) {
  fake::File& out = kernel().open_output(3);
  out.fail_at = 10;
  out.fail_errno = EPIPE;
  ckpt_file_ref* file;
  ASSERT_EQ(ckpt_file_get_output(3, &file), 0);
  EXPECT_EQ(ckpt_file_write(file, "0123456", 7), 0);
  EXPECT_EQ(ckpt_file_write(file, "789abc", 6), -EPIPE);
  EXPECT_EQ(out.data.size(), 10u);
  ckpt_file_put(file);
}

TEST_F(FakeBridge, ShortWritesAreRetriedAndStallsAreEio) {
  fake::File& out = kernel().open_output(3);
  out.max_chunk = 3;
  int writes = 0;
  out.on_write = [&](fake::File&) { writes++; };
  ckpt_file_ref* file;
  ASSERT_EQ(ckpt_file_get_output(3, &file), 0);
  EXPECT_EQ(ckpt_file_write(file, "0123456789", 10), 0);
  EXPECT_EQ(writes, 4);
  EXPECT_EQ(std::string(out.data.begin(), out.data.end()), "0123456789");
  out.no_progress = true;
  EXPECT_EQ(ckpt_file_write(file, "x", 1), -EIO);
  ckpt_file_put(file);
}

TEST_F(FakeBridge, OutputFdRules) {
  kernel().open_output(4, /*writable=*/false);
  ckpt_file_ref* file = nullptr;
  EXPECT_EQ(ckpt_file_get_output(-1, &file), -EBADF);
  EXPECT_EQ(ckpt_file_get_output(3, &file), -EBADF);
  EXPECT_EQ(ckpt_file_get_output(4, &file), -EBADF);
}

TEST_F(FakeBridge, NthAllocationFailsOnce) {
  fake::heap::fail_nth(1);
  void* first = ckpt_kmalloc(8);
  void* second = ckpt_kmalloc(8);
  void* third = ckpt_kmalloc(8);
  EXPECT_NE(first, nullptr);
  EXPECT_EQ(second, nullptr);
  EXPECT_NE(third, nullptr);
  EXPECT_EQ(fake::heap::live_allocations(), 2u);
  ckpt_kfree(first);
  ckpt_kfree(third);
  EXPECT_EQ(fake::heap::fail_nth(-1), 1);
}

}  // namespace

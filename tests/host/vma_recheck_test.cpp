// SPDX-License-Identifier: GPL-2.0
//
// The walk trusts only the VMA it holds (review 2026-12-01 #2): every lock
// hold checks the mapping again before its page tables are read, and walks
// no further than that mapping reaches now.  The fake kernel reports any
// walk or GUP outside the range checked in the same hold as a violation,
// which the fixture fails on.
#include "dump_check.h"
#include "fixture.h"
#include "image_decode.h"
#include "targets.h"

namespace {

using fake::Pte;
using host_test::decode_image;
using host_test::run_dump;
using targets::kBase;
using targets::kPage;

class VmaRecheck : public FakeKernelTest {
 protected:
  // One anonymous VMA of 64 pages holding data (salt 0xa), stopped.
  void SetUp() override {
    FakeKernelTest::SetUp();
    mm_.add_vma(targets::anon_vma(kBase, 64));
    mm_.fill(kBase, 64, Pte::kAnon, 0xa);
  }

  // After the first batch is written, the anonymous range becomes a
  // private file mapping whose pages are the file's (salt 0x5): the
  // reviewer's flip between anonymous memory and page cache.
  void replace_after_first_batch() {
    out_.on_write = [this](fake::File&) {
      if (replaced_ || mm_.gup_calls.empty()) return;
      replaced_ = true;
      mm_.remove_vma(kBase);
      mm_.add_vma(targets::file_vma(kBase, 64, &file_));
      mm_.fill(kBase, 64, Pte::kFile, 0x5);
    };
  }

  fake::Mm& mm_ = kernel().new_mm();
  fake::Task& task_ = kernel().add_task(100, &mm_);
  fake::File& file_ = kernel().new_file("/srv/data.bin");
  fake::File& out_ = kernel().open_output(3);
  bool replaced_ = false;
};

// Nothing can remap a stopped target's memory but the target: a changed
// mapping means the hold was broken, EBUSY naming the VMA.  Batches are
// written one behind the scan, so a change at the first write into `big`
// is seen by its third batch's check.
TEST_F(VmaRecheck, MappingReplacedDuringAStoppedDumpIsBusy) {
  const uint64_t big = kBase + (1ull << 30);
  mm_.add_vma(targets::anon_vma(big, 5000));
  mm_.fill(big, 5000, Pte::kAnon, 0xa);
  out_.on_write = [&](fake::File&) {
    if (replaced_ || mm_.gup_calls.empty() || mm_.gup_calls.back().addr < big) return;
    replaced_ = true;
    mm_.remove_vma(big);
    mm_.add_vma(targets::file_vma(big, 5000, &file_));
    mm_.fill(big, 5000, Pte::kFile, 0x5);
  };
  const auto dump = run_dump(100, 3);
  ASSERT_TRUE(replaced_);
  EXPECT_EQ(dump.ret, -EBUSY);
  EXPECT_EQ(dump.args.err_addr, big);
}

// Live: the VMA's record ends where its mapping changed; no page of what
// replaced it is filed under it, and the image is well-formed.
TEST_F(VmaRecheck, MappingReplacedDuringALiveDumpEndsItsPages) {
  task_.quiescence = CKPT_QUIESCENT_NONE;
  replace_after_first_batch();
  ASSERT_EQ(run_dump(100, 3, CKPT_CHECKPOINT_LIVE).ret, 0);
  ASSERT_TRUE(replaced_);
  const auto image = decode_image(out_.data);
  ASSERT_TRUE(image.ok) << image.error;
  ASSERT_EQ(image.vmas.size(), 1u);
  EXPECT_EQ(image.vmas[0].vma.kind, uint32_t(CKPT_VMA_ANON));
  const auto& pages = image.vmas[0].pages;
  ASSERT_FALSE(pages.empty());
  EXPECT_LT(pages.size(), 64u) << "pages of the new mapping are not the old one's";
  for (const auto& page : pages)
    for (size_t i = 0; i < page.data.size(); i++)
      ASSERT_EQ(page.data[i], fake::pattern_byte(page.addr, 0xa, i)) << "page 0x" << std::hex << page.addr;
}

// mprotect() of half a mapping splits it; the halves are the same mapping
// (same file offset at every address), so a live dump takes both.
TEST_F(VmaRecheck, MappingSplitDuringALiveDumpIsStillTheSame) {
  task_.quiescence = CKPT_QUIESCENT_NONE;
  bool split = false;
  out_.on_write = [&](fake::File&) {
    if (split || mm_.gup_calls.empty()) return;
    split = true;
    fake::Vma upper = *mm_.vma_at(kBase);
    mm_.shrink_vma(kBase, kBase + 32 * kPage);
    mm_.fill(kBase, 32, Pte::kAnon, 0xa);  // shrink_vma dropped nothing below
    upper.start = kBase + 32 * kPage;
    upper.pgoff += 32;
    upper.vm_flags &= ~uint64_t(2);  // PROT_READ only
    mm_.add_vma(upper);
    mm_.fill(kBase + 32 * kPage, 32, Pte::kAnon, 0xa);
  };
  ASSERT_EQ(run_dump(100, 3, CKPT_CHECKPOINT_LIVE).ret, 0);
  ASSERT_TRUE(split);
  const auto image = decode_image(out_.data);
  ASSERT_TRUE(image.ok) << image.error;
  ASSERT_EQ(image.vmas.size(), 1u) << "the record was written before the split";
  EXPECT_EQ(image.vmas[0].pages.size(), 64u);
}

// A stopped target's mapping that nothing changed is checked in every hold
// and dumped whole; the fake fails any walk outside what was checked.
TEST_F(VmaRecheck, EveryHoldChecksBeforeItWalks) {
  ASSERT_EQ(run_dump(100, 3).ret, 0);
  host_test::expect_image_matches(decode_image(out_.data), task_, mm_);
  EXPECT_EQ(joined(kernel().violations()), "");
}

}  // namespace

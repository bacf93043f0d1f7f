// SPDX-License-Identifier: GPL-2.0
//
// Shared memory is dumped from its shmem file by page-cache index (review
// 2026-12-01: "a child forked after its parent filled a 4 MiB
// MAP_SHARED|MAP_ANONYMOUS region is dumped with 0 of 1,024 of those
// pages, and the image verifies").
#include <cstring>

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

class SharedMemory : public FakeKernelTest {
 protected:
  SharedMemory() {
    task_.comm = "forked-child";
    mm_.add_vma(targets::anon_vma(kBase - 16 * kPage, 4));
    mm_.fill(kBase - 16 * kPage, 4, Pte::kAnon, 1);
  }

  // A shared mapping of `pages` pages of `file` from page `pgoff` at kBase.
  const fake::Vma& map(uint64_t pages, uint64_t pgoff = 0) {
    return mm_.add_vma(targets::shmem_vma(kBase, pages, &file_, pgoff));
  }

  // Writes pages [first, first + count) of the file, as the parent did.
  void write_file(uint64_t first, uint64_t count, Pte state = Pte::kFile, uint64_t pgoff = 0) {
    for (uint64_t i = first; i < first + count; i++) file_.set_cache(i, state, kBase + (i - pgoff) * kPage, 7);
  }

  // The dump succeeds and holds exactly what expected_pages() says, with
  // the file's contents.
  host_test::DecodedImage dump_and_check() {
    const auto dump = run_dump(100, 3);
    EXPECT_EQ(dump.ret, 0);
    const auto image = decode_image(out_.data);
    host_test::expect_image_matches(image, task_, mm_);
    return image;
  }

  fake::Mm& mm_ = kernel().new_mm();
  fake::Task& task_ = kernel().add_task(100, &mm_);
  fake::File& file_ = kernel().new_file("/dev/zero (deleted)");
  fake::File& out_ = kernel().open_output(3);
};

uint64_t pages_of(const host_test::DecodedImage& image, uint64_t start) {
  for (const auto& vma : image.vmas)
    if (vma.vma.start == start) return vma.pages.size();
  return ~0ull;
}

// The review's case: the parent wrote 1,024 pages, the child maps none.
TEST_F(SharedMemory, PagesTheTargetNeverTouchedAreDumped) {
  map(1024);
  write_file(0, 1024);
  const auto image = dump_and_check();
  EXPECT_EQ(pages_of(image, kBase), 1024u);
  EXPECT_TRUE(mm_.gup_calls.size() <= 1) << "the shared mapping is read from its file, not by GUP";
}

// Only the target's own touches would have been seen through its page
// tables; the file's other pages are data all the same.
TEST_F(SharedMemory, PagesMappedOrNotAreDumpedOnce) {
  map(64);
  write_file(0, 64);
  mm_.fill(kBase, 10, Pte::kFile, 7);  // mapped by the target too
  const auto image = dump_and_check();
  EXPECT_EQ(pages_of(image, kBase), 64u);
}

TEST_F(SharedMemory, SwappedOutPagesAreReadIn) {
  map(40);
  write_file(0, 40, Pte::kSwapped);
  const auto image = dump_and_check();
  EXPECT_EQ(pages_of(image, kBase), 40u);
  EXPECT_EQ(file_.swapins, 40u);
}

// A hole, a page fallocate() reserved and nobody wrote, and the part of
// the mapping past the end of the file hold no data, and asking for them
// allocates nothing (the fake would make them data if it did).
TEST_F(SharedMemory, HolesReservedPagesAndPastTheEndHoldNoData) {
  map(64);
  write_file(0, 8);
  write_file(8, 4, Pte::kNone);  // fallocated
  write_file(20, 4);             // after a hole of 8
  file_.size = 30 * kPage;       // pages 30..63 of the mapping: SIGBUS
  const auto image = dump_and_check();
  EXPECT_EQ(pages_of(image, kBase), 12u);
}

// A mapping of the file from an offset holds the file's pages from there.
TEST_F(SharedMemory, MappingAtAnOffsetReadsItsOwnPages) {
  map(16, 100);
  write_file(0, 300, Pte::kFile, 100);
  const auto image = dump_and_check();
  EXPECT_EQ(pages_of(image, kBase), 16u);
}

TEST_F(SharedMemory, LostPageFailsTheDumpNamingIt) {
  map(32);
  write_file(0, 32);
  write_file(19, 1, Pte::kPoison);
  const auto dump = run_dump(100, 3);
  EXPECT_EQ(dump.ret, -EHWPOISON);
  EXPECT_EQ(dump.args.err_addr, kBase + 19 * kPage);
}

// A sparse 64 GiB shared mapping with 16 pages costs its entries, not its
// size.
TEST_F(SharedMemory, SparseMappingCostsItsEntries) {
  const uint64_t pages = (64ull << 30) / kPage;
  map(pages);
  for (uint64_t i = 0; i < 16; i++) file_.set_cache(i * (pages / 16), Pte::kFile, kBase + i * (pages / 16) * kPage, 7);
  const auto dump = run_dump(100, 3);
  ASSERT_EQ(dump.ret, 0);
  host_test::expect_image_matches(decode_image(out_.data), task_, mm_);
  EXPECT_LE(dump.args.pages_scanned, 4 + 16u);
}

// Shared mappings of other filesystems keep what the target maps: their
// data is in the file, which the image names.
TEST_F(SharedMemory, OtherSharedFilesAreReadThroughThePageTables) {
  fake::File& db = kernel().new_file("/var/lib/app/data.db");
  mm_.add_vma(targets::shared_vma(kBase, 8, &db));
  mm_.fill(kBase, 3, Pte::kFile, 7);
  const auto image = dump_and_check();
  EXPECT_EQ(pages_of(image, kBase), 3u);
}

}  // namespace

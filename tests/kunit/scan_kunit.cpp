// SPDX-License-Identifier: GPL-2.0
//
// Page selection against a real address space: the test thread's own mm,
// laid out with kunit_vm_mmap(), scanned the way a dump scans a target.
#include "kernel_refs.h"
#include "kt_image.h"
#include "page_array.h"
#include "page_scan.h"
#include "record_writer.h"

namespace {

using namespace ckpt;

constexpr int kProtRead = 1, kProtWrite = 2, kProtNone = 0;

// The addresses a full scan of [start, end) selects, in order.
class ScanResult {
 public:
  static constexpr uint32_t kMax = 4096;
  ~ScanResult() { delete[] addrs_; }
  bool init() {
    AllocChecker ac;
    addrs_ = new (&ac) uint64_t[kMax];
    return ac.check();
  }
  void add(uint64_t addr) {
    if (count_ < kMax) addrs_[count_] = addr;
    count_++;
  }
  uint32_t count() const { return count_; }
  uint64_t operator[](uint32_t i) const { return addrs_[i]; }
  bool contains(uint64_t addr) const {
    for (uint32_t i = 0; i < count_ && i < kMax; i++)
      if (addrs_[i] == addr) return true;
    return false;
  }
  uint64_t scanned = 0;

 private:
  uint64_t* addrs_ = nullptr;
  uint32_t count_ = 0;
};

Status scan(uint64_t start, uint64_t end, VmaKind kind, ScanResult* result, uint32_t limit = 2048,
            ckpt_file_ref* shmem = nullptr, uint64_t pgoff = 0) {
  MmRef mm(ckpt_kt_mm());
  if (!mm) return error(kESRCH);
  MemMeter meter;
  PageArrayChain chain(meter, 4);
  PageScanner scanner(mm.get(), chain, &result->scanned);
  const VmaRange range{start, end, kind, shmem, pgoff};
  for (uint64_t cursor = start; cursor < end;) {
    {
      MmapReadGuard lock(mm.get());
      CKPT_TRY(lock.lock());
      auto next = scanner.fill(range, cursor, limit);
      if (!next.ok()) {
        chain.release();
        return next.status();
      }
      cursor = next.value();
    }
    CKPT_TRY(chain.for_each_array([&](const uint64_t* addrs, ckpt_page_ref* const*, uint32_t n) {
      for (uint32_t i = 0; i < n; i++) result->add(addrs[i]);
      return kOk;
    }));
    chain.release();
  }
  return kOk;
}

uint64_t map_anon(kunit* test, uint64_t pages, int prot = kProtRead | kProtWrite) {
  return ckpt_kt_mmap(test, nullptr, pages * kPageSize, prot, CKPT_KT_PRIVATE, 0);
}

bool write_page(uint64_t addr, uint32_t seed) {
  uint8_t byte = kt::pattern(addr, seed);
  return ckpt_kt_write_user(addr, &byte, 1) == 0;
}

bool populated(uint64_t start, uint64_t end) {
  MmRef mm(ckpt_kt_mm());
  MmapReadGuard lock(mm.get());
  if (!lock.lock().ok()) return true;
  return ckpt_mm_next_populated(mm.get(), start, end) < end;
}

// A tmpfs file of `pages` pages with known contents.
ckpt_file_ref* make_file(uint64_t pages) {
  ckpt_file_ref* file = ckpt_kt_tmpfile(pages * kPageSize);
  if (!file) return nullptr;
  uint8_t buf[256];
  for (uint64_t off = 0; off < pages * kPageSize; off += sizeof(buf)) {
    kt::fill_pattern(buf, sizeof(buf), off, 9);
    if (ckpt_kt_pwrite(file, buf, sizeof(buf), off)) {
      ckpt_file_put(file);
      return nullptr;
    }
  }
  return file;
}

}  // namespace

KT_CASE(scan, anon_dense) {
  const uint64_t start = map_anon(test, 16);
  KT_ASSERT_NE(start, 0u);
  for (uint64_t i = 0; i < 16; i++) KT_ASSERT_TRUE(write_page(start + i * kPageSize, 1));
  ScanResult result;
  KT_ASSERT_TRUE(result.init());
  KT_ASSERT_OK(scan(start, start + 16 * kPageSize, VmaKind::kAnon, &result));
  KT_ASSERT_EQ(result.count(), 16u);
  for (uint32_t i = 0; i < 16; i++) KT_EXPECT_EQ(result[i], start + i * kPageSize);
}

KT_CASE(scan, anon_holes) {
  const uint64_t start = map_anon(test, 8);
  KT_ASSERT_NE(start, 0u);
  const uint32_t written[] = {0, 3, 7};
  for (uint32_t i : written) KT_ASSERT_TRUE(write_page(start + i * kPageSize, 2));
  ScanResult result;
  KT_ASSERT_TRUE(result.init());
  KT_ASSERT_OK(scan(start, start + 8 * kPageSize, VmaKind::kAnon, &result));
  KT_ASSERT_EQ(result.count(), 3u);
  for (uint32_t i = 0; i < 3; i++) KT_EXPECT_EQ(result[i], start + written[i] * kPageSize);
  KT_EXPECT_EQ(result.scanned, 3u);  // the holes were skipped in the page table
}

KT_CASE(scan, untouched_not_faulted) {
  const uint64_t start = map_anon(test, 64);
  KT_ASSERT_NE(start, 0u);
  const uint64_t rss = ckpt_kt_anon_rss();
  ScanResult result;
  KT_ASSERT_TRUE(result.init());
  KT_ASSERT_OK(scan(start, start + 64 * kPageSize, VmaKind::kAnon, &result));
  KT_EXPECT_EQ(result.count(), 0u);
  KT_EXPECT_EQ(ckpt_kt_anon_rss(), rss);
  KT_EXPECT_TRUE(!populated(start, start + 64 * kPageSize));
}

KT_CASE(scan, zero_page_skipped) {
  const uint64_t start = map_anon(test, 4);
  KT_ASSERT_NE(start, 0u);
  const uint64_t rss = ckpt_kt_anon_rss();
  uint8_t byte;
  for (uint64_t i = 0; i < 4; i++) KT_ASSERT_EQ(ckpt_kt_read_user(start + i * kPageSize, &byte, 1), 0);
  KT_EXPECT_TRUE(populated(start, start + 4 * kPageSize));  // the zero page is mapped
  ScanResult result;
  KT_ASSERT_TRUE(result.init());
  KT_ASSERT_OK(scan(start, start + 4 * kPageSize, VmaKind::kAnon, &result));
  KT_EXPECT_EQ(result.count(), 0u);
  KT_EXPECT_EQ(result.scanned, 0u);  // zero-page entries never reach GUP
  KT_EXPECT_EQ(ckpt_kt_anon_rss(), rss);
}

KT_CASE(scan, sparse_reservation) {
  const uint64_t pages = (1ull << 30) / kPageSize;
  const uint64_t start = map_anon(test, pages);
  KT_ASSERT_NE(start, 0u);
  const uint64_t offsets[] = {0, 300ull << 20, (1ull << 30) - kPageSize};
  for (uint64_t off : offsets) KT_ASSERT_TRUE(write_page(start + off, 3));
  ScanResult result;
  KT_ASSERT_TRUE(result.init());
  KT_ASSERT_OK(scan(start, start + pages * kPageSize, VmaKind::kAnon, &result));
  // With THP a touch may populate a whole 2 MiB page: every selected page
  // must be in a touched PMD, and every touched page selected.
  for (uint64_t off : offsets) KT_EXPECT_TRUE(result.contains(start + off));
  for (uint32_t i = 0; i < result.count() && i < ScanResult::kMax; i++) {
    bool near = false;
    for (uint64_t off : offsets) near |= (result[i] & ~(kPmdSize - 1)) == ((start + off) & ~(kPmdSize - 1));
    KT_EXPECT_TRUE(near);
  }
  // Cost follows the data: GUP sees the selected pages and nothing else.
  KT_EXPECT_EQ(result.scanned, uint64_t(result.count()));
}

KT_CASE(scan, read_only) {
  const uint64_t start = map_anon(test, 2, kProtRead);
  KT_ASSERT_NE(start, 0u);
  const uint8_t data[4] = {1, 2, 3, 4};
  KT_ASSERT_EQ(ckpt_kt_poke(start + kPageSize + 100, data, 4), 0);
  ScanResult result;
  KT_ASSERT_TRUE(result.init());
  KT_ASSERT_OK(scan(start, start + 2 * kPageSize, VmaKind::kAnon, &result));
  KT_ASSERT_EQ(result.count(), 1u);
  KT_EXPECT_EQ(result[0], start + kPageSize);
}

KT_CASE(scan, prot_none) {
  const uint64_t start = map_anon(test, 3, kProtNone);
  KT_ASSERT_NE(start, 0u);
  const uint8_t data[4] = {5, 6, 7, 8};
  KT_ASSERT_EQ(ckpt_kt_poke(start, data, 4), 0);
  KT_ASSERT_EQ(ckpt_kt_poke(start + 2 * kPageSize, data, 4), 0);
  ScanResult result;
  KT_ASSERT_TRUE(result.init());
  KT_ASSERT_OK(scan(start, start + 3 * kPageSize, VmaKind::kAnon, &result));
  KT_ASSERT_EQ(result.count(), 2u);
  KT_EXPECT_EQ(result[0], start);
  KT_EXPECT_EQ(result[1], start + 2 * kPageSize);
}

KT_CASE(scan, file_clean_skipped) {
  FileRef file(make_file(8));
  KT_ASSERT_TRUE(file);
  const uint64_t start = ckpt_kt_mmap(test, file.get(), 8 * kPageSize, kProtRead | kProtWrite, CKPT_KT_PRIVATE, 0);
  KT_ASSERT_NE(start, 0u);
  uint8_t byte;
  for (uint64_t i = 0; i < 8; i++) {
    KT_ASSERT_EQ(ckpt_kt_read_user(start + i * kPageSize, &byte, 1), 0);
    KT_EXPECT_EQ(byte, kt::pattern(i * kPageSize, 9));
  }
  KT_EXPECT_EQ(ckpt_kt_file_rss(), 8u);
  ScanResult result;
  KT_ASSERT_TRUE(result.init());
  KT_ASSERT_OK(scan(start, start + 8 * kPageSize, VmaKind::kFile, &result));
  KT_EXPECT_EQ(result.count(), 0u);
}

KT_CASE(scan, file_cow_selected) {
  FileRef file(make_file(8));
  KT_ASSERT_TRUE(file);
  const uint64_t start = ckpt_kt_mmap(test, file.get(), 8 * kPageSize, kProtRead | kProtWrite, CKPT_KT_PRIVATE, 0);
  KT_ASSERT_NE(start, 0u);
  uint8_t byte;
  for (uint64_t i = 0; i < 8; i++) KT_ASSERT_EQ(ckpt_kt_read_user(start + i * kPageSize, &byte, 1), 0);
  KT_ASSERT_TRUE(write_page(start + 2 * kPageSize, 4));
  KT_ASSERT_TRUE(write_page(start + 5 * kPageSize, 4));
  ScanResult result;
  KT_ASSERT_TRUE(result.init());
  KT_ASSERT_OK(scan(start, start + 8 * kPageSize, VmaKind::kFile, &result));
  KT_ASSERT_EQ(result.count(), 2u);
  KT_EXPECT_EQ(result[0], start + 2 * kPageSize);
  KT_EXPECT_EQ(result[1], start + 5 * kPageSize);
}

KT_CASE(scan, file_untouched_not_faulted) {
  FileRef file(make_file(8));
  KT_ASSERT_TRUE(file);
  const uint64_t start = ckpt_kt_mmap(test, file.get(), 8 * kPageSize, kProtRead | kProtWrite, CKPT_KT_PRIVATE, 0);
  KT_ASSERT_NE(start, 0u);
  ScanResult result;
  KT_ASSERT_TRUE(result.init());
  KT_ASSERT_OK(scan(start, start + 8 * kPageSize, VmaKind::kFile, &result));
  KT_EXPECT_EQ(result.count(), 0u);
  KT_EXPECT_EQ(ckpt_kt_file_rss(), 0u);
  KT_EXPECT_TRUE(!populated(start, start + 8 * kPageSize));
}

KT_CASE(scan, shared_selected) {
  FileRef file(make_file(6));
  KT_ASSERT_TRUE(file);
  const uint64_t start = ckpt_kt_mmap(test, file.get(), 6 * kPageSize, kProtRead | kProtWrite, CKPT_KT_SHARED, 0);
  KT_ASSERT_NE(start, 0u);
  const uint32_t touched[] = {1, 2, 4};
  for (uint32_t i : touched) KT_ASSERT_TRUE(write_page(start + i * kPageSize, 5));
  ScanResult result;
  KT_ASSERT_TRUE(result.init());
  KT_ASSERT_OK(scan(start, start + 6 * kPageSize, VmaKind::kShared, &result));
  KT_ASSERT_EQ(result.count(), 3u);
  for (uint32_t i = 0; i < 3; i++) KT_EXPECT_EQ(result[i], start + touched[i] * kPageSize);
}

// Shared memory by page-cache index: pages written into the file and never
// touched through the mapping are selected, and the lookups fault nothing
// into the test's page tables.
KT_CASE(scan, shmem_unmapped_selected) {
  FileRef file(ckpt_kt_tmpfile(8 * kPageSize));
  KT_ASSERT_TRUE(file);
  const uint64_t start = ckpt_kt_mmap(test, file.get(), 8 * kPageSize, kProtRead | kProtWrite, CKPT_KT_SHARED, 0);
  KT_ASSERT_NE(start, 0u);
  const uint32_t written[] = {0, 2, 3, 6};
  uint8_t byte = 0x5a;
  for (uint32_t i : written) KT_ASSERT_EQ(ckpt_kt_pwrite(file.get(), &byte, 1, i * kPageSize), 0);
  const uint64_t cached = ckpt_kt_file_pages(file.get());
  ScanResult result;
  KT_ASSERT_TRUE(result.init());
  KT_ASSERT_OK(scan(start, start + 8 * kPageSize, VmaKind::kShared, &result, 2048, file.get(), 0));
  KT_ASSERT_EQ(result.count(), 4u);
  for (uint32_t i = 0; i < 4; i++) KT_EXPECT_EQ(result[i], start + written[i] * kPageSize);
  KT_EXPECT_EQ(ckpt_kt_file_pages(file.get()), cached);
  KT_EXPECT_TRUE(!populated(start, start + 8 * kPageSize));
}

// fallocate() reserves pages nobody wrote: they, the holes and the part of
// the mapping past the end of the file hold no data and stay unallocated.
KT_CASE(scan, shmem_reserved_not_data) {
  FileRef file(ckpt_kt_tmpfile(6 * kPageSize));
  KT_ASSERT_TRUE(file);
  const uint64_t start = ckpt_kt_mmap(test, file.get(), 10 * kPageSize, kProtRead | kProtWrite, CKPT_KT_SHARED, 0);
  KT_ASSERT_NE(start, 0u);
  uint8_t byte = 0xa5;
  KT_ASSERT_EQ(ckpt_kt_pwrite(file.get(), &byte, 1, 1 * kPageSize), 0);
  KT_ASSERT_EQ(ckpt_kt_fallocate(file.get(), 3 * kPageSize, 2 * kPageSize), 0);
  const uint64_t cached = ckpt_kt_file_pages(file.get());
  KT_EXPECT_EQ(cached, 3u);
  ScanResult result;
  KT_ASSERT_TRUE(result.init());
  KT_ASSERT_OK(scan(start, start + 10 * kPageSize, VmaKind::kShared, &result, 2048, file.get(), 0));
  KT_ASSERT_EQ(result.count(), 1u);
  KT_EXPECT_EQ(result[0], start + kPageSize);
  KT_EXPECT_EQ(ckpt_kt_file_pages(file.get()), cached);
}

// A mapping from page 3 of the file: its page i is the file's page 3 + i.
KT_CASE(scan, shmem_at_an_offset) {
  FileRef file(ckpt_kt_tmpfile(12 * kPageSize));
  KT_ASSERT_TRUE(file);
  const uint64_t start = ckpt_kt_mmap(test, file.get(), 4 * kPageSize, kProtRead | kProtWrite, CKPT_KT_SHARED, 0);
  KT_ASSERT_NE(start, 0u);
  const uint32_t written[] = {1, 3, 5, 6, 9};
  uint8_t byte = 0x3c;
  for (uint32_t i : written) KT_ASSERT_EQ(ckpt_kt_pwrite(file.get(), &byte, 1, i * kPageSize), 0);
  ScanResult result;
  KT_ASSERT_TRUE(result.init());
  KT_ASSERT_OK(scan(start, start + 4 * kPageSize, VmaKind::kShared, &result, 2, file.get(), 3));
  KT_ASSERT_EQ(result.count(), 3u);
  KT_EXPECT_EQ(result[0], start);
  KT_EXPECT_EQ(result[1], start + 2 * kPageSize);
  KT_EXPECT_EQ(result[2], start + 3 * kPageSize);
}

KT_CASE(scan, thp_as_small_pages) {
  // 6 MiB of address space holds a 2 MiB-aligned 2 MiB range.
  const uint64_t area = map_anon(test, 3 * kPmdSize / kPageSize);
  KT_ASSERT_NE(area, 0u);
  const uint64_t start = round_up(area, kPmdSize);
  const uint64_t rss = ckpt_kt_anon_rss();
  KT_ASSERT_TRUE(write_page(start + 5 * kPageSize, 6));
  const uint64_t faulted = ckpt_kt_anon_rss() - rss;
  if (faulted != kPmdSize / kPageSize) {
    ckpt_kt_skip(test, "no transparent huge page was allocated");
    return;
  }
  ScanResult result;
  KT_ASSERT_TRUE(result.init());
  KT_ASSERT_OK(scan(area, area + 3 * kPmdSize, VmaKind::kAnon, &result));
  KT_ASSERT_EQ(uint64_t(result.count()), faulted);
  for (uint32_t i = 0; i < result.count(); i++) KT_EXPECT_EQ(result[i], start + i * kPageSize);
}

KT_CASE(scan, batch_boundary) {
  const uint64_t pages = 2049;
  const uint64_t start = map_anon(test, pages);
  KT_ASSERT_NE(start, 0u);
  for (uint64_t i = 0; i < pages; i++) KT_ASSERT_TRUE(write_page(start + i * kPageSize, 7));
  MmRef mm(ckpt_kt_mm());
  KT_ASSERT_TRUE(mm);
  MemMeter meter;
  PageArrayChain chain(meter, 4);
  uint64_t scanned = 0;
  PageScanner scanner(mm.get(), chain, &scanned);
  const VmaRange range{start, start + pages * kPageSize, VmaKind::kAnon};
  MmapReadGuard lock(mm.get());
  KT_ASSERT_OK(lock.lock());
  auto first = scanner.fill(range, start, 2048);
  KT_ASSERT_OK(first.status());
  KT_EXPECT_EQ(chain.size(), 2048u);
  KT_EXPECT_EQ(first.value(), start + 2048 * kPageSize);
  chain.release();
  auto second = scanner.fill(range, first.value(), 2048);
  KT_ASSERT_OK(second.status());
  KT_EXPECT_EQ(chain.size(), 1u);
  KT_EXPECT_EQ(second.value(), range.end);
  chain.release();
}

KT_CASE(scan, references_released) {
  const uint64_t start = map_anon(test, 4);
  KT_ASSERT_NE(start, 0u);
  for (uint64_t i = 0; i < 4; i++) KT_ASSERT_TRUE(write_page(start + i * kPageSize, 8));
  MmRef mm(ckpt_kt_mm());
  KT_ASSERT_TRUE(mm);
  auto refcount_at = [&](uint64_t addr) {
    MmapReadGuard lock(mm.get());
    ckpt_page_ref* page = nullptr;
    if (!lock.lock().ok() || ckpt_gup(mm.get(), addr, 1, CKPT_GUP_FAULT, &page) != 1) return -1;
    const int count = ckpt_kt_page_refcount(page) - 1;
    ckpt_page_put(page);
    return count;
  };
  const int before = refcount_at(start);
  KT_ASSERT_TRUE(before > 0);
  ScanResult result;
  KT_ASSERT_TRUE(result.init());
  KT_ASSERT_OK(scan(start, start + 4 * kPageSize, VmaKind::kAnon, &result));
  KT_EXPECT_EQ(result.count(), 4u);
  KT_EXPECT_EQ(refcount_at(start), before);
  KT_EXPECT_EQ(refcount_at(start + 3 * kPageSize), before);
}

KT_CASE(scan, stream_decodes_to_memory) {
  const uint64_t start = map_anon(test, 5);
  KT_ASSERT_NE(start, 0u);
  uint8_t page[64];
  for (uint64_t i = 0; i < 5; i += 2)  // pages 0, 2, 4
    for (uint64_t off = 0; off < kPageSize; off += sizeof(page)) {
      kt::fill_pattern(page, sizeof(page), start + i * kPageSize + off, 10);
      KT_ASSERT_EQ(ckpt_kt_write_user(start + i * kPageSize + off, page, sizeof(page)), 0);
    }
  kt::TempFile out;
  KT_ASSERT_TRUE(out.get());
  MmRef mm(ckpt_kt_mm());
  MemMeter meter;
  PageArrayChain chain(meter, 4);
  RecordWriter writer(out.get(), meter);
  uint64_t scanned = 0;
  PageScanner scanner(mm.get(), chain, &scanned);
  {
    MmapReadGuard lock(mm.get());
    KT_ASSERT_OK(lock.lock());
    KT_ASSERT_OK(scanner.fill({start, start + 5 * kPageSize, VmaKind::kAnon}, start, 2048).status());
  }
  KT_ASSERT_OK(writer.write_pages(chain));
  KT_ASSERT_OK(writer.flush());
  chain.release();

  ckpt_pages meta{};
  KT_ASSERT_TRUE(out.pread(&meta, sizeof(meta), 24));
  KT_ASSERT_EQ(meta.nr, 3u);
  uint8_t from_image[64];
  for (uint32_t n = 0; n < 3; n++) {
    uint64_t addr;
    KT_ASSERT_TRUE(out.pread(&addr, 8, 24 + 16 + 8 * n));
    KT_EXPECT_EQ(addr, start + 2 * n * kPageSize);
    for (uint64_t off = 0; off < kPageSize; off += sizeof(page)) {
      KT_ASSERT_TRUE(out.pread(from_image, sizeof(from_image), 24 + meta.data_off + n * kPageSize + off));
      KT_ASSERT_EQ(ckpt_kt_read_user(addr + off, page, sizeof(page)), 0);
      KT_EXPECT_EQ(__builtin_memcmp(from_image, page, sizeof(page)), 0);
    }
  }
}

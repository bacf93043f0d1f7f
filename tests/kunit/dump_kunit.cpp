// SPDX-License-Identifier: GPL-2.0
//
// The dump as a whole: its refusals, the mm context record, and allocation
// failure at every site, with nothing leaked.
#include "arch.h"
#include "checkpoint.h"
#include "kernel_refs.h"
#include "kt_image.h"
#include "kt_pages.h"
#include "page_scan.h"

namespace {

using namespace ckpt;

ckpt_checkpoint_args args_for(int32_t pid) {
  ckpt_checkpoint_args args{};
  args.size = sizeof(args);
  args.pid = pid;
  args.fd = -1;
  return args;
}

// Scan `pages` pages at `start` and write them, the LDT record and a tail:
// every allocation a dump makes for its pages, chain and records.
Status mini_dump(ckpt_mm_ref* mm, ckpt_file_ref* out, uint64_t start, uint64_t pages, MemMeter& meter) {
  RecordWriter writer(out, meter);
  CKPT_TRY(kt::write_scanned_pages(writer, mm, start, start + pages * kPageSize, meter));
  CKPT_TRY(write_mm_context(writer, mm, meter));
  return writer.write_tail();
}

}  // namespace

KT_CASE(dump, bad_fd) {
  ckpt_checkpoint_args args = args_for(1);
  KT_EXPECT_EQ(ckpt_checkpoint(&args), -kEBADF);
  KT_EXPECT_EQ(args.bytes, 0u);
}

KT_CASE(dump, kernel_thread) {
  kt::TempFile out;
  KT_ASSERT_TRUE(out.get());
  ckpt_checkpoint_args args = args_for(ckpt_kt_pid_of_current());
  KT_EXPECT_EQ(checkpoint_into(args, out.get()).error(), -kEINVAL);
  uint8_t byte;
  KT_EXPECT_EQ(ckpt_kt_pread(out.get(), &byte, 1, 0), 0);  // nothing written
}

KT_CASE(dump, no_such_pid) {
  kt::TempFile out;
  KT_ASSERT_TRUE(out.get());
  ckpt_checkpoint_args args = args_for(0x3ffffff0);
  KT_EXPECT_EQ(checkpoint_into(args, out.get()).error(), -kESRCH);
  args.pid = -5;
  KT_EXPECT_EQ(checkpoint_into(args, out.get()).error(), -kESRCH);
}

KT_CASE(dump, ldt_empty) {
  KT_ASSERT_NE(ckpt_kt_mmap(test, nullptr, kPageSize, 3, CKPT_KT_PRIVATE, 0), 0u);
  MmRef mm(ckpt_kt_mm());
  kt::TempFile out;
  KT_ASSERT_TRUE(mm && out.get());
  MemMeter meter;
  RecordWriter writer(out.get(), meter);
  KT_ASSERT_OK(write_mm_context(writer, mm.get(), meter));
  KT_ASSERT_OK(writer.flush());
  kt::RecordView view;
  KT_ASSERT_TRUE(kt::read_record(out, 0, &view));
  KT_EXPECT_EQ(view.hdr.type, uint32_t(CKPT_REC_LDT));
  KT_EXPECT_EQ(view.hdr.len, sizeof(ckpt_ldt));
  KT_EXPECT_EQ(view.hdr.crc, view.computed_crc);
  ckpt_ldt ldt{};
  KT_ASSERT_TRUE(out.pread(&ldt, sizeof(ldt), 24));
  KT_EXPECT_EQ(ldt.nr, 0u);
  KT_EXPECT_EQ(ldt.entry_size, ckpt_ldt_entry_size());
  KT_EXPECT_EQ(meter.current(), RecordWriter::kStagingSize);  // the LDT buffer is freed
}

namespace {

// An LDT of `nr` entries in the test's mm must come out whole, in order.
void check_ldt_record(kunit* test, uint32_t nr) {
  KT_ASSERT_NE(ckpt_kt_mmap(test, nullptr, kPageSize, 3, CKPT_KT_PRIVATE, 0), 0u);
  MmRef mm(ckpt_kt_mm());
  kt::TempFile out;
  KT_ASSERT_TRUE(mm && out.get());
  KT_ASSERT_EQ(ckpt_kt_set_ldt(nr), 0);
  MemMeter meter;
  RecordWriter writer(out.get(), meter);
  Status status = write_mm_context(writer, mm.get(), meter);
  ckpt_kt_clear_ldt();
  KT_ASSERT_OK(status);
  KT_ASSERT_OK(writer.flush());
  kt::RecordView view;
  KT_ASSERT_TRUE(kt::read_record(out, 0, &view));
  KT_EXPECT_EQ(view.hdr.type, uint32_t(CKPT_REC_LDT));
  KT_EXPECT_EQ(view.hdr.len, sizeof(ckpt_ldt) + uint64_t(nr) * 8);
  KT_EXPECT_EQ(view.hdr.crc, view.computed_crc);
  ckpt_ldt ldt{};
  KT_ASSERT_TRUE(out.pread(&ldt, sizeof(ldt), 24));
  KT_EXPECT_EQ(ldt.nr, nr);
  for (uint32_t i = 0; i < nr; i += (nr > 64 ? 97 : 1)) {
    uint64_t desc = 0;
    KT_ASSERT_TRUE(out.pread(&desc, 8, 24 + sizeof(ldt) + uint64_t(i) * 8));
    KT_EXPECT_EQ(desc, ckpt_kt_ldt_entry(i));
  }
  uint64_t last = 0;
  KT_ASSERT_TRUE(out.pread(&last, 8, 24 + sizeof(ldt) + uint64_t(nr - 1) * 8));
  KT_EXPECT_EQ(last, ckpt_kt_ldt_entry(nr - 1));
  KT_EXPECT_EQ(meter.current(), RecordWriter::kStagingSize);  // the LDT buffer is freed
}

}  // namespace

KT_CASE(dump, ldt_one_entry) { check_ldt_record(test, 1); }

KT_CASE(dump, ldt_many_entries) { check_ldt_record(test, 8192); }

// The dump pins the mm_struct, not the address space (review 2026-12-01
// #12): once every user has let go, the address space is torn down at once
// and the next lock hold fails with ESRCH, leaving nothing behind (KASAN
// would see a use after free of the mm_struct).
KT_CASE(dump, mm_goes_away) {
  const uint64_t pages = 8;
  const uint64_t start = ckpt_kt_mmap(test, nullptr, pages * kPageSize, 3, CKPT_KT_PRIVATE, 0);
  KT_ASSERT_NE(start, 0u);
  for (uint64_t i = 0; i < pages; i++) {
    const uint8_t byte = uint8_t(0xa0 + i);
    KT_ASSERT_EQ(ckpt_kt_write_user(start + i * kPageSize, &byte, 1), 0);
  }
  kt::TempFile out;
  KT_ASSERT_TRUE(out.get());
  MemMeter meter;
  {
    MmRef mm(ckpt_kt_mm());
    KT_ASSERT_TRUE(mm);
    {
      MmapReadGuard lock(mm.get());
      KT_ASSERT_OK(lock.lock());
    }
    ckpt_kt_drop_own_mm();
    MmapReadGuard lock(mm.get());
    KT_EXPECT_EQ(lock.lock().error(), -kESRCH);
    KT_EXPECT_EQ(mini_dump(mm.get(), out.get(), start, pages, meter).error(), -kESRCH);
  }
  KT_EXPECT_EQ(meter.current(), 0u);
}

// The mapping a dump found is checked again in every lock hold: the same
// one answers with where it ends now; a hole or another mapping is EBUSY.
KT_CASE(dump, vma_check_sees_changes) {
  const uint64_t start = ckpt_kt_mmap(test, nullptr, 8 * kPageSize, 3, CKPT_KT_PRIVATE, 0);
  KT_ASSERT_NE(start, 0u);
  MmRef mm(ckpt_kt_mm());
  KT_ASSERT_TRUE(mm);
  ckpt_vma_info info;
  ckpt_file_ref* file = nullptr;
  __u64 end = 0;
  {
    MmapReadGuard lock(mm.get());
    KT_ASSERT_OK(lock.lock());
    KT_ASSERT_EQ(ckpt_mm_find_vma(mm.get(), start, &info, &file), 0);
    KT_EXPECT_EQ(ckpt_mm_vma_check(mm.get(), &info, file, start + kPageSize, &end), 0);
    KT_EXPECT_EQ(end, info.end);
  }
  KT_EXPECT_TRUE(file == nullptr);
  info.end = start + 8 * kPageSize;  // this mapping's part, whatever merged with it
  KT_ASSERT_EQ(ckpt_kt_munmap(start + 4 * kPageSize, 4 * kPageSize), 0);
  {
    MmapReadGuard lock(mm.get());
    KT_ASSERT_OK(lock.lock());
    KT_EXPECT_EQ(ckpt_mm_vma_check(mm.get(), &info, nullptr, start, &end), 0);
    KT_EXPECT_EQ(end, start + 4 * kPageSize);
    KT_EXPECT_EQ(ckpt_mm_vma_check(mm.get(), &info, nullptr, start + 5 * kPageSize, &end), -kEBUSY);
    ckpt_vma_info moved = info;
    moved.pgoff += 1;  // another file offset: another mapping
    KT_EXPECT_EQ(ckpt_mm_vma_check(mm.get(), &moved, nullptr, start, &end), -kEBUSY);
    ckpt_vma_info shared = info;
    shared.traits |= CKPT_VMA_T_SHARED;
    KT_EXPECT_EQ(ckpt_mm_vma_check(mm.get(), &shared, nullptr, start, &end), -kEBUSY);
  }
}

KT_CASE(dump, alloc_failure_at_each_site) {
  const uint64_t pages = PageArrayChain::kEntriesPerArray + 88;  // two arrays
  const uint64_t start = ckpt_kt_mmap(test, nullptr, pages * kPageSize, 3, CKPT_KT_PRIVATE, 0);
  KT_ASSERT_NE(start, 0u);
  for (uint64_t i = 0; i < pages; i++) {
    const uint8_t byte = uint8_t(i + 1);
    KT_ASSERT_EQ(ckpt_kt_write_user(start + i * kPageSize, &byte, 1), 0);
  }
  MmRef mm(ckpt_kt_mm());
  KT_ASSERT_TRUE(mm);

  // Fail the 0th, 1st, 2nd, ... allocation until a run makes fewer
  // allocations than that and succeeds.
  long sites = 0;
  for (long nth = 0; nth < 100; nth++) {
    kt::TempFile out;
    KT_ASSERT_TRUE(out.get());
    MemMeter meter;
    ckpt_kunit_fail_alloc(nth);
    const Status status = mini_dump(mm.get(), out.get(), start, pages, meter);
    const long injected = ckpt_kunit_fail_alloc(-1);
    KT_EXPECT_EQ(meter.current(), 0u);  // every buffer and array freed
    if (!injected) {
      KT_EXPECT_EQ(status.error(), 0);
      break;
    }
    sites++;
    KT_EXPECT_EQ(status.error(), -kENOMEM);
  }
  // Chain arrays (header and two tables, twice) and the copy buffer.
  KT_EXPECT_LE(7, sites);
  // No page reference is left behind: the test's pages are still only
  // mapped once (checked through GUP, which adds its own reference).
  MmapReadGuard lock(mm.get());
  KT_ASSERT_OK(lock.lock());
  ckpt_page_ref* page = nullptr;
  KT_ASSERT_EQ(ckpt_gup(mm.get(), start, 1, CKPT_GUP_FAULT, &page), 1);
  KT_EXPECT_EQ(ckpt_kt_page_refcount(page), 2);
  ckpt_page_put(page);
}

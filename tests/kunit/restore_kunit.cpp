// SPDX-License-Identifier: GPL-2.0
//
// The restore on the real kernel.  The check of an image's LDT
// (src/core/ldt_descriptor.h) held against the kernel's own fill_ldt():
// every descriptor modify_ldt(2) makes is accepted, and each change that
// makes one it cannot is not.  Then CKPT_IOC_RESTORE's reading of an
// image: images the core's own writer makes (so every checksum is right
// and only what the test chose is wrong), read back into the test's
// address space.
#include "arch.h"
#include "crc32c.h"
#include "kernel_refs.h"
#include "kt.h"
#include "kt_image.h"
#include "kt_pages.h"
#include "kt_test.h"
#include "ldt_descriptor.h"
#include "record_writer.h"
#include "restore.h"

namespace {

constexpr uint32_t kBases[] = {0, 0x10000, 0x12345678, 0xffffffff};
constexpr uint32_t kLimits[] = {0, 0xfff, 0xfffff};

}  // namespace

KT_CASE(restore, ldt_check_accepts_what_modify_ldt_makes) {
  uint32_t made = 0;
  for (uint32_t base : kBases) {
    for (uint32_t limit : kLimits) {
      for (uint32_t bits = 0; bits < 128; bits++) {
        uint64_t d = 0;
        if (ckpt_kt_modify_ldt_descriptor(base, limit, bits, &d)) continue;
        made++;
        KT_EXPECT_TRUE(ckpt::ldt_descriptor_installable(d));
      }
    }
  }
  KT_EXPECT_EQ(made, uint32_t(sizeof(kBases) / 4 * sizeof(kLimits) / 4 * (128 - 16)));
}

KT_CASE(restore, ldt_check_refuses_what_it_cannot) {
  constexpr uint64_t kAccessed = uint64_t(1) << 40, kS = uint64_t(1) << 44, kDpl = uint64_t(3) << 45,
                     kL = uint64_t(1) << 53;
  for (uint32_t bits = 0; bits < 128; bits++) {
    uint64_t d = 0;
    if (ckpt_kt_modify_ldt_descriptor(0x10000, 0xfff, bits, &d) || d == 0) continue;
    KT_EXPECT_TRUE(!ckpt::ldt_descriptor_installable(d & ~kAccessed));
    KT_EXPECT_TRUE(!ckpt::ldt_descriptor_installable(d & ~kS));
    KT_EXPECT_TRUE(!ckpt::ldt_descriptor_installable(d & ~kDpl));
    KT_EXPECT_TRUE(!ckpt::ldt_descriptor_installable(d | kL));
  }
  uint64_t conforming = 0;  // present conforming code: modify_ldt refuses it
  KT_ASSERT_EQ(ckpt_kt_modify_ldt_descriptor(0x10000, 0xfff, 3 << 1 | 1 << 5, &conforming), 0);
  KT_EXPECT_TRUE(!ckpt::ldt_descriptor_installable(conforming | uint64_t(1) << 47));
  uint64_t empty = 1;  // LDT_empty() clears the entry: its fill_ldt() form never exists
  KT_ASSERT_EQ(ckpt_kt_modify_ldt_descriptor(0, 0, 1 << 3 | 1 << 5, &empty), 0);
  KT_EXPECT_EQ(empty, 0u);
  KT_EXPECT_TRUE(!ckpt::ldt_descriptor_installable(kAccessed | kS | kDpl));
}


namespace {

using namespace ckpt;

constexpr int kEBADMSG = 74;
constexpr int kEEXIST = 17;
constexpr uint64_t kAnonRw = CKPT_VMA_F_READ | CKPT_VMA_F_WRITE | CKPT_VMA_F_MAYREAD | CKPT_VMA_F_MAYWRITE;

Status write_vma(RecordWriter& writer, uint64_t start, uint64_t end) {
  ckpt_vma v{};
  v.start = start;
  v.end = end;
  v.vm_flags = kAnonRw;
  v.kind = CKPT_VMA_ANON;
  CKPT_TRY(writer.write(CKPT_REC_VMA, &v, sizeof(v)));
  writer.count_vma();
  return kOk;
}

// One VMA [vma_start, vma_end) holding the pages that hold data in
// [from, from + len) of the test's mm: MM, VMA, PAGES, LDT, TAIL.
Status write_image(ckpt_file_ref* out, uint64_t vma_start, uint64_t vma_end, uint64_t from, uint64_t len) {
  MmRef mm(ckpt_kt_mm());
  if (!mm) return error(kENOMEM);
  MemMeter meter;
  RecordWriter writer(out, meter);
  const ckpt_mm record{};
  CKPT_TRY(writer.write(CKPT_REC_MM, &record, sizeof(record)));
  CKPT_TRY(write_vma(writer, vma_start, vma_end));
  if (len) CKPT_TRY(kt::write_scanned_pages(writer, mm.get(), from, from + len, meter));
  CKPT_TRY(write_mm_context(writer, mm.get(), meter));
  CKPT_TRY(writer.write_tail());
  return writer.flush();
}

// What ckpt restore hands the module for an image whose first record is
// MM: nothing before it, the stream positioned after MM's header.
Status restore_image(const kt::TempFile& image, ckpt_restore_args* args) {
  *args = ckpt_restore_args{};
  args->size = sizeof(*args);
  args->checksum = CKPT_CSUM_CRC32C;
  args->chain_crc = Crc32c().state();
  if (!image.pread(&args->mm_hdr, sizeof(args->mm_hdr), 0)) return error(kEINVAL);
  ckpt_kt_seek(image.get(), sizeof(args->mm_hdr));
  return restore_from(args, FileRef(ckpt_kt_file_get(image.get())));
}

}  // namespace

// Pages of a mapping, dumped, the mapping gone, then restored: the VMA is
// back at its address and every page holds what it held; the pages that
// held nothing read as zeros.
KT_CASE(restore, maps_and_writes_every_page) {
  constexpr uint64_t kPages = 8;
  const uint64_t at = ckpt_kt_mmap(test, nullptr, kPages * kPageSize, 3, CKPT_KT_PRIVATE, 0);
  KT_ASSERT_NE(at, 0u);
  uint8_t page[kPageSize];
  const uint64_t held[] = {0, 2, 5};
  for (uint64_t i : held) {
    kt::fill_pattern(page, kPageSize, at + i * kPageSize, 7);
    KT_ASSERT_EQ(ckpt_kt_write_user(at + i * kPageSize, page, kPageSize), 0);
  }
  kt::TempFile image;
  KT_ASSERT_TRUE(image.get());
  KT_ASSERT_OK(write_image(image.get(), at, at + kPages * kPageSize, at, kPages * kPageSize));
  KT_ASSERT_EQ(ckpt_kt_munmap(at, kPages * kPageSize), 0);

  ckpt_restore_args args;
  KT_ASSERT_OK(restore_image(image, &args));
  KT_EXPECT_EQ(args.nr_vmas, 1u);
  KT_EXPECT_EQ(args.nr_pages, 3u);
  uint8_t want[kPageSize];
  for (uint64_t i = 0; i < kPages; i++) {
    KT_ASSERT_EQ(ckpt_kt_read_user(at + i * kPageSize, page, kPageSize), 0);
    if (i == 0 || i == 2 || i == 5)
      kt::fill_pattern(want, kPageSize, at + i * kPageSize, 7);
    else
      __builtin_memset(want, 0, kPageSize);
    KT_EXPECT_EQ(__builtin_memcmp(page, want, kPageSize), 0);
  }
}

// Every field is checked before it is used: a VMA over the kernel half, a
// VMA over a mapping the caller has (EEXIST), a page outside its VMA, a
// truncated image and a flipped byte each fail cleanly, naming the VMA or
// page where there is one.
KT_CASE(restore, refuses_hostile_images) {
  const uint64_t at = ckpt_kt_mmap(test, nullptr, 8 * kPageSize, 3, CKPT_KT_PRIVATE, 0);
  KT_ASSERT_NE(at, 0u);
  uint8_t page[kPageSize];
  kt::fill_pattern(page, kPageSize, at, 9);
  KT_ASSERT_EQ(ckpt_kt_write_user(at, page, kPageSize), 0);
  KT_ASSERT_EQ(ckpt_kt_munmap(at + 4 * kPageSize, 4 * kPageSize), 0);
  ckpt_restore_args args;
  {
    constexpr uint64_t kKernelHalf = 0xffff888000000000ull;
    kt::TempFile image;
    KT_ASSERT_TRUE(image.get());
    KT_ASSERT_OK(write_image(image.get(), kKernelHalf, kKernelHalf + kPageSize, 0, 0));
    KT_EXPECT_EQ(restore_image(image, &args).error(), -kEBADMSG);
    KT_EXPECT_EQ(args.err_addr, kKernelHalf);
  }
  {
    kt::TempFile image;  // over [at, at + 4 pages), which the test has mapped
    KT_ASSERT_TRUE(image.get());
    KT_ASSERT_OK(write_image(image.get(), at, at + 4 * kPageSize, 0, 0));
    KT_EXPECT_EQ(restore_image(image, &args).error(), -kEEXIST);
    KT_EXPECT_EQ(args.err_addr, at);
  }
  {
    kt::TempFile image;  // a VMA above the page its PAGES record holds
    KT_ASSERT_TRUE(image.get());
    KT_ASSERT_OK(write_image(image.get(), at + 4 * kPageSize, at + 8 * kPageSize, at, 4 * kPageSize));
    KT_EXPECT_EQ(restore_image(image, &args).error(), -kEBADMSG);
    KT_EXPECT_EQ(args.err_addr, at);
    KT_EXPECT_EQ(args.nr_pages, 0u);
  }
  KT_ASSERT_EQ(ckpt_kt_munmap(at + 4 * kPageSize, 4 * kPageSize), 0);  // what the last one mapped
  kt::TempFile good;
  KT_ASSERT_TRUE(good.get());
  KT_ASSERT_OK(write_image(good.get(), at + 4 * kPageSize, at + 5 * kPageSize, 0, 0));
  uint8_t bytes[512];
  const long size = ckpt_kt_pread(good.get(), bytes, sizeof(bytes), 0);
  KT_ASSERT_TRUE(size > 0 && size < long(sizeof(bytes)));
  for (long cut = sizeof(ckpt_rec_hdr) + 8; cut < size; cut += 40) {
    kt::TempFile image;  // truncated
    KT_ASSERT_TRUE(image.get());
    KT_ASSERT_EQ(ckpt_kt_pwrite(image.get(), bytes, size_t(cut), 0), 0);
    KT_EXPECT_EQ(restore_image(image, &args).error(), -kEBADMSG);
    ckpt_kt_munmap(at + 4 * kPageSize, kPageSize);
  }
  for (long flip = sizeof(ckpt_rec_hdr); flip < size; flip += 29) {
    kt::TempFile image;  // one byte changed
    KT_ASSERT_TRUE(image.get());
    bytes[flip] ^= 0x10;
    KT_ASSERT_EQ(ckpt_kt_pwrite(image.get(), bytes, size_t(size), 0), 0);
    bytes[flip] ^= 0x10;
    KT_EXPECT_EQ(restore_image(image, &args).error(), -kEBADMSG);
    ckpt_kt_munmap(at + 4 * kPageSize, kPageSize);
  }
}

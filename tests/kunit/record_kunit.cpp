// SPDX-License-Identifier: GPL-2.0
//
// Record framing: headers, checksums, padding, page alignment, the tail's
// checksum chain, and a write that fails half way.
#include "kt_image.h"
#include "page_array.h"
#include "page_copy.h"
#include "record_writer.h"

namespace {

using namespace ckpt;
using kt::RecordView;
using kt::TempFile;

constexpr uint64_t kBase = 0x7f1000000000ull;

// Pages with known contents, held by the test, appended to a chain.
class PatternPages {
 public:
  PatternPages(MemMeter& meter, uint32_t count) : chain_(meter, 4), count_(count) {
    for (uint32_t i = 0; i < count && i < kMax; i++) {
      pages_[i] = ckpt_kt_page_alloc();
      if (!pages_[i]) return;
      kt::fill_pattern(static_cast<uint8_t*>(ckpt_kt_page_address(pages_[i])), kPageSize, addr(i), 7);
      made_++;
    }
    for (uint32_t i = 0; i < made_;) {
      auto slots = chain_.reserve();
      if (!slots.ok()) return;
      const uint32_t n = min(slots.value().room, made_ - i);
      for (uint32_t k = 0; k < n; k++, i++) {
        ckpt_kt_page_get(pages_[i]);
        slots.value().pages[k] = pages_[i];
        slots.value().addrs[k] = addr(i);
      }
      chain_.commit(n);
    }
  }
  ~PatternPages() {
    chain_.release();
    for (uint32_t i = 0; i < made_; i++) ckpt_kt_page_free(pages_[i]);
  }
  bool ok() const { return made_ == count_ && chain_.size() == count_; }
  const PageArrayChain& chain() const { return chain_; }
  // Appends the pages, with references of its own, to `chain`.
  bool add_to(PageArrayChain& chain) const {
    for (uint32_t i = 0; i < made_;) {
      auto slots = chain.reserve();
      if (!slots.ok()) return false;
      const uint32_t n = min(slots.value().room, made_ - i);
      for (uint32_t k = 0; k < n; k++, i++) {
        ckpt_kt_page_get(pages_[i]);
        slots.value().pages[k] = pages_[i];
        slots.value().addrs[k] = addr(i);
      }
      chain.commit(n);
    }
    return true;
  }
  int refcount(uint32_t i) const { return ckpt_kt_page_refcount(pages_[i]); }
  static uint64_t addr(uint32_t i) { return kBase + uint64_t(i) * kPageSize; }

 private:
  static constexpr uint32_t kMax = 64;
  PageArrayChain chain_;
  ckpt_page_ref* pages_[kMax] = {};
  uint32_t count_;
  uint32_t made_ = 0;
};

bool same_bytes(const TempFile& a, const TempFile& b, uint64_t len) {
  uint8_t x[256], y[256];
  for (uint64_t off = 0; off < len; off += sizeof(x)) {
    const size_t n = size_t(min<uint64_t>(sizeof(x), len - off));
    if (!a.pread(x, n, off) || !b.pread(y, n, off)) return false;
    if (__builtin_memcmp(x, y, n)) return false;
  }
  return true;
}

}  // namespace

KT_CASE(record, header_and_crc) {
  TempFile file;
  KT_ASSERT_TRUE(file.get());
  MemMeter meter;
  RecordWriter writer(file.get(), meter);
  ckpt_head head{};
  __builtin_memcpy(head.magic, CKPT_IMAGE_MAGIC, 8);
  head.major = CKPT_FORMAT_MAJOR;
  KT_ASSERT_OK(writer.write(CKPT_REC_HEAD, &head, sizeof(head)));
  KT_ASSERT_OK(writer.flush());

  RecordView view;
  KT_ASSERT_TRUE(kt::read_record(file, 0, &view));
  KT_EXPECT_EQ(view.hdr.type, uint32_t(CKPT_REC_HEAD));
  KT_EXPECT_EQ(view.hdr.flags, 0u);
  KT_EXPECT_EQ(view.hdr.reserved, 0u);
  KT_EXPECT_EQ(view.hdr.len, sizeof(head));
  KT_EXPECT_EQ(view.hdr.crc, view.computed_crc);
  KT_EXPECT_EQ(writer.offset(), 24 + sizeof(head));
}

KT_CASE(record, padding_to_eight) {
  TempFile file;
  KT_ASSERT_TRUE(file.get());
  MemMeter meter;
  RecordWriter writer(file.get(), meter);
  for (uint32_t len = 0; len <= 9; len++) {
    const uint64_t before = writer.offset();
    KT_ASSERT_OK(writer.write(100 + len, "abcdefghi", len));
    KT_ASSERT_OK(writer.flush());
    RecordView view;
    KT_ASSERT_TRUE(kt::read_record(file, before, &view));
    KT_EXPECT_EQ(view.hdr.len, uint64_t(len));
    KT_EXPECT_TRUE(view.padding_zero);
    KT_EXPECT_EQ(view.next, writer.offset());
    KT_EXPECT_EQ(writer.offset() % 8, 0u);
  }
}

KT_CASE(record, chunks_equal_one_payload) {
  TempFile one, two;
  KT_ASSERT_TRUE(one.get() && two.get());
  MemMeter meter;
  RecordWriter a(one.get(), meter), b(two.get(), meter);
  KT_ASSERT_OK(a.write(CKPT_REC_VMA, "0123456789", 10));
  const Chunk chunks[] = {{"012", 3}, {"", 0}, {"3456789", 7}};
  KT_ASSERT_OK(b.write(CKPT_REC_VMA, chunks, 3));
  KT_ASSERT_OK(a.flush());
  KT_ASSERT_OK(b.flush());
  KT_EXPECT_EQ(a.offset(), b.offset());
  KT_EXPECT_TRUE(same_bytes(one, two, a.offset()));
}

KT_CASE(record, every_type_round_trips) {
  TempFile file;
  KT_ASSERT_TRUE(file.get());
  MemMeter meter;
  RecordWriter writer(file.get(), meter);
  // Static: KASAN's redzones would make this frame too large for the stack.
  static ckpt_head head{};
  static ckpt_task task{};
  task.pid = 42;
  static ckpt_mm mm{};
  mm.brk = 0x1234000;
  static ckpt_vma vma{};
  vma.start = kBase;
  vma.end = kBase + 4 * kPageSize;
  vma.name_len = 6;
  ckpt_ldt ldt{};
  ldt.entry_size = 8;
  const Chunk vma_chunks[] = {{&vma, sizeof(vma)}, {"/a/b\0", 6}};
  KT_ASSERT_OK(writer.write(CKPT_REC_HEAD, &head, sizeof(head)));
  KT_ASSERT_OK(writer.write(CKPT_REC_TASK, &task, sizeof(task)));
  KT_ASSERT_OK(writer.write(CKPT_REC_MM, &mm, sizeof(mm)));
  KT_ASSERT_OK(writer.write(CKPT_REC_VMA, vma_chunks, 2));
  KT_ASSERT_OK(writer.write(CKPT_REC_LDT, &ldt, sizeof(ldt)));
  KT_ASSERT_OK(writer.write_tail());

  const uint32_t types[] = {CKPT_REC_HEAD, CKPT_REC_TASK, CKPT_REC_MM, CKPT_REC_VMA, CKPT_REC_LDT, CKPT_REC_TAIL};
  const uint64_t lens[] = {sizeof(head), sizeof(task), sizeof(mm), sizeof(vma) + 6, sizeof(ldt), sizeof(ckpt_tail)};
  uint64_t off = 0;
  for (size_t i = 0; i < 6; i++) {
    RecordView view;
    KT_ASSERT_TRUE(kt::read_record(file, off, &view));
    KT_EXPECT_EQ(view.hdr.type, types[i]);
    KT_EXPECT_EQ(view.hdr.len, lens[i]);
    KT_EXPECT_EQ(view.hdr.crc, view.computed_crc);
    KT_EXPECT_TRUE(view.padding_zero);
    off = view.next;
  }
  KT_EXPECT_EQ(off, writer.offset());
  ckpt_task back{};
  KT_ASSERT_TRUE(file.pread(&back, sizeof(back), 128 + 24));
  KT_EXPECT_EQ(back.pid, 42);
  char name[6];
  KT_ASSERT_TRUE(file.pread(name, 6, 128 + 56 + 128 + 24 + sizeof(vma)));
  KT_EXPECT_EQ(__builtin_memcmp(name, "/a/b\0", 6), 0);
}

KT_CASE(record, corruption_is_detected) {
  TempFile file;
  KT_ASSERT_TRUE(file.get());
  MemMeter meter;
  RecordWriter writer(file.get(), meter);
  ckpt_mm mm{};
  mm.start_code = 0x400000;
  KT_ASSERT_OK(writer.write(CKPT_REC_MM, &mm, sizeof(mm)));
  KT_ASSERT_OK(writer.flush());
  // Any single flipped bit in the covered bytes changes the checksum.
  for (uint64_t off = 0; off < 24 + sizeof(mm); off++) {
    if (off >= 16 && off < 24) continue;  // crc and reserved: not covered
    uint8_t byte;
    KT_ASSERT_TRUE(file.pread(&byte, 1, off));
    const uint8_t flipped = byte ^ uint8_t(1u << (off % 8));
    KT_ASSERT_OK(Status::from_return(ckpt_kt_pwrite(file.get(), &flipped, 1, off)));
    RecordView view;
    if (kt::read_record(file, 0, &view)) KT_EXPECT_NE(view.hdr.crc, view.computed_crc);
    KT_ASSERT_OK(Status::from_return(ckpt_kt_pwrite(file.get(), &byte, 1, off)));
  }
  RecordView view;
  KT_ASSERT_TRUE(kt::read_record(file, 0, &view));
  KT_EXPECT_EQ(view.hdr.crc, view.computed_crc);
}

KT_CASE(record, truncation_is_detected) {
  TempFile file;
  KT_ASSERT_TRUE(file.get());
  MemMeter meter;
  RecordWriter writer(file.get(), meter);
  ckpt_head head{};
  KT_ASSERT_OK(writer.write(CKPT_REC_HEAD, &head, sizeof(head)));
  const uint64_t tail_at = writer.offset();
  KT_ASSERT_OK(writer.write_tail());
  // The tail says where it starts and how many records precede it: a
  // stream cut anywhere before its end cannot agree with it.
  RecordView view;
  KT_ASSERT_TRUE(kt::read_record(file, tail_at, &view));
  ckpt_tail tail{};
  KT_ASSERT_TRUE(file.pread(&tail, sizeof(tail), tail_at + 24));
  KT_EXPECT_EQ(tail.bytes, tail_at);
  KT_EXPECT_EQ(tail.nr_records, 1u);
  KT_EXPECT_EQ(view.next, writer.offset());
  uint8_t past_end;
  KT_EXPECT_EQ(ckpt_kt_pread(file.get(), &past_end, 1, writer.offset()), 0);
}

KT_CASE(record, pages_are_page_aligned) {
  MemMeter meter;
  // A filler record of every interesting size moves the PAGES record
  // around a page boundary.
  const uint32_t fillers[] = {0, 8, 3960, 3968, 4000, 4040, 4064, 4072, 4096};
  for (uint32_t filler : fillers) {
    for (uint32_t nr = 1; nr <= 3; nr++) {
      TempFile file;
      KT_ASSERT_TRUE(file.get());
      PatternPages pages(meter, nr);
      KT_ASSERT_TRUE(pages.ok());
      RecordWriter writer(file.get(), meter);
      static const uint8_t zeros[4096] = {};
      if (filler) KT_ASSERT_OK(writer.write(98, zeros, filler));
      const uint64_t at = writer.offset();
      KT_ASSERT_OK(writer.write_pages(pages.chain()));
      KT_ASSERT_OK(writer.flush());  // a small record may still be staged
      ckpt_pages meta{};
      KT_ASSERT_TRUE(file.pread(&meta, sizeof(meta), at + 24));
      KT_EXPECT_EQ(meta.nr, nr);
      KT_EXPECT_EQ((at + 24 + meta.data_off) % kPageSize, 0u);
      KT_EXPECT_TRUE(meta.data_off >= 16 + 8 * nr);
      KT_EXPECT_TRUE(meta.data_off < 16 + 8 * nr + kPageSize);
      uint64_t addr0;
      KT_ASSERT_TRUE(file.pread(&addr0, 8, at + 24 + 16));
      KT_EXPECT_EQ(addr0, PatternPages::addr(0));
    }
  }
}

KT_CASE(record, pages_crc_covers_contents) {
  MemMeter meter;
  TempFile file;
  KT_ASSERT_TRUE(file.get());
  PatternPages pages(meter, 3);
  KT_ASSERT_TRUE(pages.ok());
  RecordWriter writer(file.get(), meter);
  KT_ASSERT_OK(writer.write_pages(pages.chain()));
  KT_ASSERT_OK(writer.flush());
  RecordView view;
  KT_ASSERT_TRUE(kt::read_record(file, 0, &view));
  KT_EXPECT_EQ(view.hdr.crc, view.computed_crc);
  ckpt_pages meta{};
  KT_ASSERT_TRUE(file.pread(&meta, sizeof(meta), 24));
  // The last byte of the last page, then the contents against the pattern.
  const uint64_t last = 24 + meta.data_off + 3 * kPageSize - 1;
  uint8_t byte;
  KT_ASSERT_TRUE(file.pread(&byte, 1, last));
  KT_EXPECT_EQ(byte, kt::pattern(PatternPages::addr(2) + kPageSize - 1, 7));
  const uint8_t flipped = byte ^ 0x80;
  KT_ASSERT_OK(Status::from_return(ckpt_kt_pwrite(file.get(), &flipped, 1, last)));
  KT_ASSERT_TRUE(kt::read_record(file, 0, &view));
  KT_EXPECT_NE(view.hdr.crc, view.computed_crc);
}

KT_CASE(record, tail_chains_crcs) {
  MemMeter meter;
  TempFile file;
  KT_ASSERT_TRUE(file.get());
  PatternPages pages(meter, 2);
  KT_ASSERT_TRUE(pages.ok());
  RecordWriter writer(file.get(), meter);
  ckpt_head head{};
  KT_ASSERT_OK(writer.write(CKPT_REC_HEAD, &head, sizeof(head)));
  writer.count_vma();
  KT_ASSERT_OK(writer.write(CKPT_REC_VMA, "x", 1));
  KT_ASSERT_OK(writer.write_pages(pages.chain()));
  KT_ASSERT_OK(writer.write_tail());

  Crc32c chain;
  uint64_t off = 0;
  uint64_t records = 0;
  RecordView view;
  for (;;) {
    KT_ASSERT_TRUE(kt::read_record(file, off, &view));
    if (view.hdr.type == CKPT_REC_TAIL) break;
    const uint8_t le[4] = {uint8_t(view.hdr.crc), uint8_t(view.hdr.crc >> 8), uint8_t(view.hdr.crc >> 16),
                           uint8_t(view.hdr.crc >> 24)};
    chain.update(le, 4);
    records++;
    off = view.next;
  }
  ckpt_tail tail{};
  KT_ASSERT_TRUE(file.pread(&tail, sizeof(tail), off + 24));
  KT_EXPECT_EQ(tail.crc, chain.value());
  KT_EXPECT_EQ(tail.nr_records, records);
  KT_EXPECT_EQ(tail.bytes, off);
  KT_EXPECT_EQ(tail.nr_vmas, 1u);
  KT_EXPECT_EQ(tail.nr_pages, 2u);
}

KT_CASE(record, failed_write_reports_errno) {
  MemMeter meter;
  TempFile file(2 * kPageSize);
  KT_ASSERT_TRUE(file.get());
  ckpt_kt_seal_grow(file.get());  // room for the addresses and one page
  PatternPages pages(meter, 4);
  KT_ASSERT_TRUE(pages.ok());
  RecordWriter writer(file.get(), meter);
  const Status status = writer.write_pages(pages.chain());
  KT_EXPECT_EQ(status.error(), -kEPERM);
  KT_EXPECT_TRUE(writer.offset() <= 2 * kPageSize);
  KT_EXPECT_EQ(writer.nr_pages(), 0u);
}

// A batch copied on a worker (copy_mc_to_kernel() from another CPU), while
// this task copies other pages, gets the copy and checksum this task makes
// itself; written with its plan it is the record write_pages() makes; and
// the worker has dropped the batch's page references.
KT_CASE(record, worker_copy_equals_own) {
  MemMeter meter;
  PatternPages pages(meter, PageBatch::kMaxPages);
  PatternPages other(meter, 5);
  KT_ASSERT_TRUE(pages.ok() && other.ok());
  static_assert(PageBatch::kMaxPages >= PageCopier::kWorkerMinPages, "the batch goes to the worker");
  PatternPages warm(meter, 1);
  KT_ASSERT_TRUE(warm.ok());
  PageCopier copier;
  KT_ASSERT_OK(copier.init(meter));
  // A small batch is copied here, which times copying here: the copier
  // hands batches to the worker only after that.
  PageBatch first(meter);
  KT_ASSERT_OK(first.init(meter));
  KT_ASSERT_TRUE(warm.add_to(first.chain));
  copier.start(first);
  KT_EXPECT_TRUE(!copier.busy());
  first.chain.release();

  PageBatch batch(meter);
  KT_ASSERT_OK(batch.init(meter));
  KT_ASSERT_TRUE(pages.add_to(batch.chain));
  const int held = pages.refcount(0);

  TempFile planned, direct;
  KT_ASSERT_TRUE(planned.get() && direct.get());
  RecordWriter a(planned.get(), meter), b(direct.get(), meter);
  batch.plan = RecordWriter::plan_pages(batch.chain, a.offset(), &batch.crc);
  copier.start(batch);
  KT_EXPECT_TRUE(copier.busy());
  auto busy = KBuffer::allocate(meter, 5 * kPageSize);
  KT_ASSERT_OK(busy.status());
  RecordChecksum own;
  uint64_t lost = 0;
  KT_ASSERT_OK(copy_pages(other.chain(), busy.value().data(), own, &lost));
  copier.wait();
  KT_ASSERT_OK(batch.copied);
  KT_EXPECT_EQ(pages.refcount(0), held - 1);
  KT_EXPECT_EQ(pages.refcount(PageBatch::kMaxPages - 1), held - 1);
  KT_ASSERT_OK(a.write_copied_pages(batch.chain, batch.plan, batch.crc.value(), batch.contents.data()));
  batch.chain.release();
  KT_ASSERT_OK(b.write_pages(pages.chain()));
  KT_ASSERT_OK(a.flush());
  KT_ASSERT_OK(b.flush());
  KT_EXPECT_EQ(a.offset(), b.offset());
  KT_EXPECT_TRUE(same_bytes(planned, direct, a.offset()));
}
